package mrtd

import (
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/icao"
)

// Failure classes of a read. Every error [Read] returns wraps exactly one
// of them (besides the underlying cause), so that a caller can tell a
// kiosk operator what to do.
var (
	// ErrAccessDenied: the chip rejected the key; the MRZ (or CAN) is wrong.
	ErrAccessDenied = errors.New("access denied")
	// ErrNeedsPACE: the chip does not do BAC and offers no PACE protocol
	// this reader runs.
	ErrNeedsPACE = errors.New("document needs PACE")
	// ErrNeedsMRZ: only a CAN was given, and the chip does not do PACE.
	ErrNeedsMRZ = errors.New("document needs the MRZ")
	// ErrUnsupported: the chip refused the PACE protocol and there is no
	// MRZ to fall back to BAC with.
	ErrUnsupported = errors.New("access control protocol not supported")
	// ErrSecureMessaging: the secure messaging session broke and could not
	// be re-established.
	ErrSecureMessaging = errors.New("secure messaging failed")
	// ErrChip: the chip answered with an unexpected status or with data
	// that does not parse.
	ErrChip = errors.New("chip error")
	// ErrReaderUnable: the reader cannot carry the extended-length APDUs
	// the document needs (for example PACE with a 2048-bit DH group on a
	// "Short APDU" level reader such as the ACR122U).
	ErrReaderUnable = errors.New("reader cannot carry the APDUs this document needs")
	// ErrNoApplication: the card has no eMRTD application (not a passport
	// or ID card with an ICAO chip).
	ErrNoApplication = errors.New("no eMRTD application on this card")
)

// Error is a classified read failure.
type Error struct {
	Class error   // one of the sentinels above, or nil when unclassified
	Step  string  // what was being done: "BAC", "read DG2", …
	File  icao.EF // the file being read, if any
	Err   error   // the cause
}

// Error says what failed, its class and its cause.
func (e *Error) Error() string {
	if e.Class != nil {
		return fmt.Sprintf("mrtd: %s: %v: %v", e.Step, e.Class, e.Err)
	}
	return fmt.Sprintf("mrtd: %s: %v", e.Step, e.Err)
}

// Unwrap returns the class and the cause.
func (e *Error) Unwrap() []error {
	if e.Class == nil {
		return []error{e.Err}
	}
	return []error{e.Class, e.Err}
}

// classifyBAC turns a BAC failure into a class (9303-11 §4.3; ISO 7816-4
// §5.6: 6300/6985 at EXTERNAL AUTHENTICATE is a wrong key, 6A88/6985 at GET
// CHALLENGE a PACE-only chip, as AndyQ/NFCPassportReader#89 and gmrtd/gmrtd#226
// report).
func classifyBAC(err error) error {
	switch {
	case errors.Is(err, icao.ErrReaderLimit):
		return ErrReaderUnable
	case errors.Is(err, bac.ErrAccessDenied):
		return ErrAccessDenied
	case errors.Is(err, bac.ErrNotSupported):
		return ErrNeedsPACE
	case errors.Is(err, icao.ErrSM):
		return ErrSecureMessaging
	case isChipStatus(err):
		return ErrChip
	}
	return nil
}

func isChipStatus(err error) bool {
	_, ok := errors.AsType[icao.StatusWord](err)
	return ok || errors.Is(err, icao.ErrBadResponse) || errors.Is(err, icao.ErrMalformedAPDU) || errors.Is(err, icao.ErrFileTooLarge)
}
