package main

import (
	"context"
	"errors"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/reader"
)

// explain turns an error into the one line a kiosk operator reads: what
// happened and what to do, with the technical cause after a colon.
func explain(err error) string {
	for _, h := range hints() {
		if errors.Is(err, h.err) {
			return h.text + " (" + err.Error() + ")"
		}
	}
	return err.Error()
}

type hint struct {
	err  error
	text string
}

// hints maps error classes to operator advice, most specific first.
func hints() []hint {
	return append(uploadHints(), []hint{
		{mrtd.ErrAccessDenied, "access denied: check the MRZ (document number, date of birth, date of expiry) or the CAN"},
		{mrtd.ErrNeedsPACE, "this document does not support BAC and offers no PACE protocol this reader runs"},
		{mrtd.ErrReaderUnable, "this reader cannot carry the extended-length APDUs this document needs: use a reader with extended APDU support"},
		{mrtd.ErrNeedsMRZ, "this document has no PACE, so the CAN cannot open it: give the MRZ"},
		{mrtd.ErrUnsupported, "the document refused the PACE protocol and BAC needs the MRZ: give the MRZ"},
		{reader.ErrCardRemoved, "card lost: the document was moved away from the reader; hold it still and try again"},
		{reader.ErrNoCard, "no document on the reader"},
		{reader.ErrAccessDenied, "PC/SC access denied by polkit: install the nfcbridge polkit rule"},
		{reader.ErrNoService, "the PC/SC service (pcscd) is not running: start it (systemctl start pcscd.socket)"},
		{reader.ErrNoReaders, "no smart card reader found: plug the reader in"},
		{reader.ErrReaderGone, "the reader went away: check its USB cable"},
		{reader.ErrReaderBusy, "the reader is in use by another program"},
		{reader.ErrCommunication, "communication with the chip failed: hold the document still on the reader and try again"},
		{mrtd.ErrSecureMessaging, "secure messaging with the chip failed: hold the document still and try again"},
		{icao.ErrMRZ, "the MRZ is not valid"},
		{context.DeadlineExceeded, "timed out: no document was presented and read in time"},
		{context.Canceled, "canceled"},
		{mrtd.ErrChip, "the chip answered in a way this reader does not understand"},
	}...)
}
