package sm

import (
	"errors"

	"github.com/nfcbridge/nfcbridge/icao"
)

// smError is the type of the SM failure sentinels: each one is itself and
// also matches icao.ErrSM, so callers can branch on either.
type smError string

func (e smError) Error() string { return string(e) }

// Is reports whether target is icao.ErrSM.
func (e smError) Is(target error) bool { return target == icao.ErrSM }

// SM failures. Each matches icao.ErrSM with errors.Is. A [Session] that
// returns one of them is dead: it returns the same error from every later
// call (see the package documentation).
var (
	// ErrMAC means a cryptographic checksum (DO'8E') did not verify.
	ErrMAC error = smError("sm: cryptographic checksum does not verify")
	// ErrMissing means a mandatory SM data object (DO'8E', DO'99') is absent,
	// or the peer answered a protected message without secure messaging.
	ErrMissing error = smError("sm: secure messaging data object missing")
	// ErrMalformed means the SM data objects cannot be parsed: unknown or
	// misplaced tags, bad lengths, bad padding, a truncated message.
	ErrMalformed error = smError("sm: malformed secure messaging data")
	// ErrStatus means the protected status word in DO'99' differs from the
	// status word of the response APDU.
	ErrStatus error = smError("sm: protected status word differs from the response status word")
	// ErrDropped means the chip answered 6987 or 6988 without secure
	// messaging: it has ended the session. The error returned also wraps the
	// icao.StatusWord.
	ErrDropped error = smError("sm: chip ended secure messaging")
)

// ErrClosed is returned by [Session.Transmit] and by the [Card] methods
// after Close.
var ErrClosed = errors.New("sm: session closed")

// ErrUnsupportedCommand is returned by [Session.Transmit] for a command it
// does not protect: a class byte with secure messaging or chaining bits
// already set, or outside the first interindustry classes 00–03. Nothing is
// sent and the session stays usable.
var ErrUnsupportedCommand = errors.New("sm: command cannot be protected")

// CardStatus returns the status word a chip answers, without secure
// messaging, when [Card.Unwrap] fails with err: 6987 when SM data objects
// are missing, 6988 otherwise (ISO/IEC 7816-4 §5.6, 9303-11 §9.8).
func CardStatus(err error) icao.StatusWord {
	if errors.Is(err, ErrMissing) {
		return icao.StatusSMObjectsMissing
	}
	return icao.StatusSMObjectsIncorrect
}
