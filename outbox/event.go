package outbox

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nfcbridge/nfcbridge/upload"
)

// Deliver sends an item, such as [Uploader]. On success it returns the
// result to report in the [Delivered] event (the vendor's media JSON); on
// failure, [Config.Permanent] decides whether to retry. It must honour ctx.
type Deliver func(ctx context.Context, it Item) (result []byte, err error)

// Permanent is the default of [Config.Permanent]. It reports whether
// retrying err cannot help, so the entry is dropped:
//   - an [*upload.APIError] that is not Retryable (a 4xx other than 429),
//     except 401 ([upload.ErrUnauthorized]): that is our credentials, not
//     the item, and an operator can fix them within the retention limit;
//   - [upload.ErrResponseSignature] or [upload.ErrMalformedResponse] on a
//     2xx: the answer cannot be trusted or read, the upload was probably
//     stored, and sending it again would duplicate it;
//   - what the item itself makes impossible: [*upload.SizeError],
//     [upload.ErrNFCFormat], [upload.ErrInvalidSessionID].
//
// Anything else is retried: network errors, timeouts, 5xx, 429, and
// configuration errors (credentials, URL), which a restart with a fixed
// configuration cures.
func Permanent(err error) bool {
	var apiErr *upload.APIError
	var sizeErr *upload.SizeError
	switch {
	case errors.As(err, &apiErr):
		// Also when its signature failed: a non-2xx stored nothing.
		return !apiErr.Retryable && !errors.Is(apiErr, upload.ErrUnauthorized)
	case errors.Is(err, upload.ErrResponseSignature), errors.Is(err, upload.ErrMalformedResponse),
		errors.Is(err, upload.ErrNFCFormat), errors.Is(err, upload.ErrInvalidSessionID),
		errors.As(err, &sizeErr):
		return true
	}
	return false
}

// Final wraps err so that the outbox drops the entry (a [Failed] event)
// whatever [Config.Permanent] says: the caller of [Outbox.Send] knows that
// this answer ends the read, such as a refusal of the credentials on the
// first attempt, which Permanent retries for later attempts.
func Final(err error) error { return finalError{err} }

type finalError struct{ err error }

func (e finalError) Error() string { return e.err.Error() }
func (e finalError) Unwrap() error { return e.err }

// ErrUnconfirmed is the error of a [Failed] event for an entry whose
// delivery attempt was under way, connected to the vendor, when the process
// ended, or whose whole request was sent without an answer coming back
// ([upload.ErrUnanswered], or the caller gave up waiting). The vendor may
// have stored it; it is not sent again, as the endpoint has no idempotency
// key to make a second upload harmless.
var ErrUnconfirmed = errors.New("outbox: the upload was sent but its outcome is unknown (no answer, or the process stopped while sending); the vendor may or may not have stored it")

// EventKind tells what happened to an entry.
type EventKind int

// Event kinds.
const (
	// Delivered: the item was delivered; Result holds the result. Reported
	// at least once (again after a crash; deduplicate by ReadID).
	Delivered EventKind = iota + 1
	// Failed: the error is permanent (Err); the entry was deleted.
	Failed
	// Expired: the entry outlived the retention limit and was deleted.
	Expired
	// Retrying: an attempt failed (Err); the next is at NextAttempt.
	Retrying
	// Quarantined: the entry file could not be opened (Err wraps
	// [ErrCorrupt]) and was renamed to *.bad.
	Quarantined
)

// String returns the kind's name, such as "delivered".
func (k EventKind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Failed:
		return "failed"
	case Expired:
		return "expired"
	case Retrying:
		return "retrying"
	case Quarantined:
		return "quarantined"
	}
	return "unknown"
}

// Event reports an outcome of [Outbox.Run] for one entry.
type Event struct {
	Kind        EventKind
	ID          string    // the entry's opaque ID
	ReadID      string    // [Item.ReadID]; "" if the entry could not be read
	Attempts    int       // failed attempts so far (Retrying)
	NextAttempt time.Time // when the next attempt is due (Retrying)
	Err         error     // why (Failed, Retrying, Quarantined; Expired of a quarantined entry)
	Result      []byte    // what Deliver returned (Delivered)
}

// LogValue implements [slog.LogValuer]: everything but the result.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", e.Kind.String()), slog.String("id", e.ID),
		slog.String("readId", e.ReadID)}
	if e.Kind == Retrying {
		attrs = append(attrs, slog.Int("attempts", e.Attempts), slog.Time("nextAttempt", e.NextAttempt))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}
