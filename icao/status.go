package icao

import (
	"errors"
	"fmt"
)

// StatusWord is an ISO/IEC 7816-4 status word (SW1 SW2). Every value other
// than [StatusOK] is an error; its Is method maps the words seen on eMRTDs
// onto a few sentinels so that callers can branch with errors.Is and never
// compare raw numbers.
type StatusWord uint16

// Status words with a meaning of their own on eMRTDs.
const (
	StatusOK                   StatusWord = 0x9000
	StatusEndOfFile            StatusWord = 0x6282 // fewer bytes than Le
	StatusAuthFailed           StatusWord = 0x6300
	StatusWrongLength          StatusWord = 0x6700
	StatusSecurityNotSatisfied StatusWord = 0x6982
	StatusAuthBlocked          StatusWord = 0x6983
	StatusConditionsNotMet     StatusWord = 0x6985
	StatusSMObjectsMissing     StatusWord = 0x6987
	StatusSMObjectsIncorrect   StatusWord = 0x6988
	StatusWrongData            StatusWord = 0x6A80
	StatusFuncNotSupported     StatusWord = 0x6A81
	StatusFileNotFound         StatusWord = 0x6A82
	StatusIncorrectP1P2        StatusWord = 0x6A86
	StatusLcInconsistent       StatusWord = 0x6A87
	StatusRefDataNotFound      StatusWord = 0x6A88
	StatusWrongP1P2            StatusWord = 0x6B00
	StatusInsNotSupported      StatusWord = 0x6D00
	StatusClaNotSupported      StatusWord = 0x6E00
	StatusUnknown              StatusWord = 0x6F00
)

// Sentinels that status words match with errors.Is.
var (
	ErrNotFound         = errors.New("icao: file or application not found")                  // 6A82
	ErrSecurityStatus   = errors.New("icao: security status not satisfied")                  // 6982
	ErrAuthFailed       = errors.New("icao: authentication failed")                          // 6300, 63Cx, 6983
	ErrConditionsNotMet = errors.New("icao: conditions of use not satisfied")                // 6985
	ErrSM               = errors.New("icao: secure messaging data objects missing or wrong") // 6987, 6988
	ErrRefDataNotFound  = errors.New("icao: referenced data not found")                      // 6A88
	ErrLength           = errors.New("icao: wrong length")                                   // 6700, 6Cxx
	ErrEndOfFile        = errors.New("icao: end of file before Le bytes")                    // 6282
	ErrWrongParameters  = errors.New("icao: wrong parameters")                               // 6B00, 6A86, 6A87, 6A80
	ErrNotSupported     = errors.New("icao: instruction or function not supported")          // 6D00, 6E00, 6A81
)

var statusText = map[StatusWord]string{
	StatusEndOfFile:            "end of file reached before Le bytes",
	StatusAuthFailed:           "authentication failed",
	StatusWrongLength:          "wrong length",
	StatusSecurityNotSatisfied: "security status not satisfied",
	StatusAuthBlocked:          "authentication method blocked",
	StatusConditionsNotMet:     "conditions of use not satisfied",
	StatusSMObjectsMissing:     "expected secure messaging data objects missing",
	StatusSMObjectsIncorrect:   "secure messaging data objects incorrect",
	StatusWrongData:            "incorrect parameters in the data field",
	StatusFuncNotSupported:     "function not supported",
	StatusFileNotFound:         "file or application not found",
	StatusIncorrectP1P2:        "incorrect parameters P1-P2",
	StatusLcInconsistent:       "Lc inconsistent with P1-P2",
	StatusRefDataNotFound:      "referenced data not found",
	StatusWrongP1P2:            "wrong parameters P1-P2 (offset outside the file)",
	StatusInsNotSupported:      "instruction not supported",
	StatusClaNotSupported:      "class not supported",
	StatusUnknown:              "no precise diagnosis",
}

// Error describes the status word, for example
// "icao: status 6a82: file or application not found".
func (sw StatusWord) Error() string {
	text, ok := statusText[sw]
	switch {
	case ok:
	case sw>>8 == 0x6C:
		text = fmt.Sprintf("wrong Le, exact length is %d", sw.exactLe())
	case sw&0xFFF0 == 0x63C0:
		text = fmt.Sprintf("authentication failed, %d tries left", sw&0x0F)
	case sw>>8 == 0x61:
		text = fmt.Sprintf("%d more bytes available", sw&0xFF)
	default:
		text = "unexpected status"
	}
	return fmt.Sprintf("icao: status %04x: %s", uint16(sw), text)
}

// Is maps the status word onto the package's sentinels.
func (sw StatusWord) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return sw == StatusFileNotFound
	case ErrSecurityStatus:
		return sw == StatusSecurityNotSatisfied
	case ErrAuthFailed:
		return sw == StatusAuthFailed || sw&0xFFF0 == 0x63C0 || sw == StatusAuthBlocked
	case ErrConditionsNotMet:
		return sw == StatusConditionsNotMet
	case ErrSM:
		return sw == StatusSMObjectsMissing || sw == StatusSMObjectsIncorrect
	case ErrRefDataNotFound:
		return sw == StatusRefDataNotFound
	case ErrLength:
		return sw == StatusWrongLength || sw>>8 == 0x6C
	case ErrEndOfFile:
		return sw == StatusEndOfFile
	case ErrWrongParameters:
		return sw == StatusWrongP1P2 || sw == StatusIncorrectP1P2 || sw == StatusLcInconsistent || sw == StatusWrongData
	case ErrNotSupported:
		return sw == StatusInsNotSupported || sw == StatusClaNotSupported || sw == StatusFuncNotSupported
	}
	return false
}

// ExactLe returns the length a 6Cxx answer asks for.
func (sw StatusWord) ExactLe() (int, bool) {
	if sw>>8 != 0x6C {
		return 0, false
	}
	return sw.exactLe(), true
}

func (sw StatusWord) exactLe() int {
	if n := int(sw & 0xFF); n != 0 {
		return n
	}
	return MaxShortNe
}

// Retries returns the tries left that a 63Cx answer reports.
func (sw StatusWord) Retries() (int, bool) {
	if sw&0xFFF0 != 0x63C0 {
		return 0, false
	}
	return int(sw & 0x0F), true
}
