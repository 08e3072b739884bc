package reader

import (
	"errors"
	"fmt"

	"github.com/ebfe/scard"
)

// kind is a class of failure; the exported sentinels are kinds.
type kind struct{ msg string }

func (k *kind) Error() string { return "reader: " + k.msg }

// Sentinel errors. Use errors.Is: a returned error may match several (a wait
// canceled while no reader was plugged in matches [ErrCanceled] and
// [ErrNoReaders]).
var (
	// ErrNoService means pcscd is not running or went away mid-call
	// (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED, SCARD_F_COMM_ERROR,
	// SCARD_P_SHUTDOWN, and SCARD_E_INVALID_HANDLE for a handle a restarted
	// pcscd no longer knows).
	ErrNoService error = &kind{"PC/SC service (pcscd) not available"}
	// ErrAccessDenied means pcscd refused this process
	// (SCARD_W_SECURITY_VIOLATION, 0x8010006A): polkit must allow the
	// daemon's user the actions org.debian.pcsc-lite.access_pcsc and
	// org.debian.pcsc-lite.access_card. On a connected card, the same code
	// while pcscd shuts down is reported as [ErrNoService].
	ErrAccessDenied error = &kind{"access to PC/SC denied: a polkit rule must allow org.debian.pcsc-lite.access_pcsc and access_card for this user"}
	// ErrNoReaders means no reader is plugged in (SCARD_E_NO_READERS_AVAILABLE
	// while listing or waiting).
	ErrNoReaders error = &kind{"no readers"}
	// ErrReaderGone means the reader named is unknown or was unplugged
	// (SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE, and
	// SCARD_E_NO_READERS_AVAILABLE once connected).
	ErrReaderGone error = &kind{"reader gone"}
	// ErrNoCard means the reader holds no card to connect to
	// (SCARD_E_NO_SMARTCARD from Connect or Reconnect).
	ErrNoCard error = &kind{"no card in the reader"}
	// ErrCardRemoved means the card was taken away or reset during the
	// session (SCARD_W_REMOVED_CARD, SCARD_W_RESET_CARD, SCARD_E_NO_SMARTCARD
	// once connected, or a failed exchange after which pcscd reports the card
	// gone). The chip's session state is lost either way.
	ErrCardRemoved error = &kind{"card removed"}
	// ErrCommunication means an exchange with a card that is still present
	// failed (SCARD_E_NOT_TRANSACTED, SCARD_E_COMM_DATA_LOST,
	// SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD, SCARD_E_PROTO_MISMATCH,
	// an unusable ATR, or a response shorter than a status word). Some
	// readers fail this way on an APDU longer than they support.
	ErrCommunication error = &kind{"communication with the card failed"}
	// ErrTimeout is SCARD_E_TIMEOUT. The package waits with contexts, so it
	// only surfaces if pcscd times out on its own.
	ErrTimeout error = &kind{"timeout"}
	// ErrReaderBusy means another connection holds the card
	// (SCARD_E_SHARING_VIOLATION): Connect asks for exclusive access.
	ErrReaderBusy error = &kind{"reader in use by another connection"}
	// ErrCanceled means the call's context ended (the error also matches
	// ctx.Err()) or PC/SC canceled the call (SCARD_E_CANCELLED).
	ErrCanceled error = &kind{"canceled"}
	// ErrClosed means the PCSC or Card was used after Close.
	ErrClosed error = &kind{"use of closed connection"}
)

// phase says what a call was doing, which decides how some PC/SC codes read.
type phase int

const (
	phaseService phase = iota // establishing, listing, waiting
	phaseConnect              // SCardConnect, SCardReconnect
	phaseCard                 // exchanges on a connected card
)

// classify maps a PC/SC code to a sentinel, or nil for codes that only a
// programming error produces (invalid parameter, insufficient buffer …).
func classify(ph phase, code scard.Error) error {
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrCommError,
		scard.ErrInvalidHandle, scard.ErrShutdown, scard.ErrSystemCancelled:
		return ErrNoService
	case scard.ErrSecurityViolation:
		return ErrAccessDenied
	case scard.ErrTimeout:
		return ErrTimeout
	case scard.ErrCancelled:
		return ErrCanceled
	case scard.ErrSharingViolation:
		return ErrReaderBusy
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable:
		return ErrReaderGone
	case scard.ErrNoReadersAvailable:
		if ph == phaseService {
			return ErrNoReaders
		}
		return ErrReaderGone
	case scard.ErrNoSmartcard:
		if ph == phaseConnect {
			return ErrNoCard
		}
		return ErrCardRemoved
	case scard.ErrRemovedCard, scard.ErrResetCard:
		return ErrCardRemoved
	case scard.ErrNotTransacted, scard.ErrCommDataLost, scard.ErrUnresponsiveCard,
		scard.ErrUnpoweredCard, scard.ErrUnsupportedCard, scard.ErrCardUnsupported,
		scard.ErrProtoMismatch, scard.ErrInvalidAtr:
		return ErrCommunication
	}
	return nil
}

// opError is a failed operation: sentinels first, then the cause (a
// scard.Error, a context error or another error).
type opError struct {
	op   string
	errs []error
}

func (e *opError) Error() string {
	s := "reader: " + e.op
	for _, err := range e.errs {
		s += ": " + describe(err)
	}
	return s
}

// Unwrap returns the sentinels and the cause, for errors.Is and errors.As.
func (e *opError) Unwrap() []error { return e.errs }

func describe(err error) string {
	switch err := err.(type) {
	case *kind:
		return err.msg
	case scard.Error:
		return fmt.Sprintf("%v [0x%08X]", err, uint32(err))
	}
	return err.Error()
}

// fail builds the error for op failing with err in phase ph: a scard.Error
// is classified, anything else is wrapped as it is.
func fail(op string, ph phase, err error) error {
	var code scard.Error
	if !errors.As(err, &code) {
		return &opError{op: op, errs: []error{err}}
	}
	if k := classify(ph, code); k != nil {
		return &opError{op: op, errs: []error{k, code}}
	}
	return &opError{op: op, errs: []error{code}}
}

// failKind builds the error for op failing for reason k, with an optional
// cause.
func failKind(op string, k error, cause error) error {
	errs := []error{k}
	if cause != nil {
		errs = append(errs, cause)
	}
	return &opError{op: op, errs: errs}
}

// canceled is the error for op when ctx ended: it matches ErrCanceled and
// ctx's error, and the non-nil extra sentinels that say what was missing.
func canceled(op string, ctxErr error, extra ...error) error {
	errs := []error{ErrCanceled}
	for _, e := range extra {
		if e != nil {
			errs = append(errs, e)
		}
	}
	return &opError{op: op, errs: append(errs, ctxErr)}
}

// stale reports whether err says that a PC/SC context no longer works and
// must be established again.
func stale(err error) bool {
	var code scard.Error
	if !errors.As(err, &code) {
		return false
	}
	return classify(phaseService, code) == ErrNoService
}
