package mrtd

import "errors"

// Advice says, in one sentence for a kiosk operator, what a read failure
// means and what to do; ok is false when err is of no failure class of
// this package. The daemon's API messages and the command line both use
// it, so that the advice is written once.
func Advice(err error) (advice string, ok bool) {
	var auth *AuthenticityError
	switch {
	case errors.As(err, &auth):
		return "the document failed " + auth.Check + " authentication (" + auth.Reason + "): check it by hand and treat it as suspect", true
	case errors.Is(err, ErrAccessDenied):
		return "the chip refused the key: check the document number, date of birth and date of expiry (or the CAN)", true
	case errors.Is(err, ErrNeedsPACE):
		return "this document does not accept BAC and offers no PACE protocol this reader runs", true
	case errors.Is(err, ErrReaderUnable):
		return "this reader cannot carry the extended-length APDUs this document needs: use a reader with extended APDU support", true
	case errors.Is(err, ErrNeedsMRZ):
		return "this document has no PACE, so the CAN cannot open it: give the MRZ", true
	case errors.Is(err, ErrUnsupported):
		return "the document refused the PACE protocol and BAC needs the MRZ: give the MRZ", true
	case errors.Is(err, ErrNoApplication):
		return "the card on the reader is not an electronic passport or ID document", true
	case errors.Is(err, ErrSecureMessaging):
		return "communication with the chip failed: hold the document still on the reader and try again", true
	case errors.Is(err, ErrChip):
		return "the chip gave an unexpected answer: try again, and if it repeats check the document by hand", true
	}
	return "", false
}
