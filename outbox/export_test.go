package outbox

import (
	"context"

	"github.com/nfcbridge/nfcbridge/upload"
)

// Seams for the external tests of package outbox_test.

// Poke makes Run look at the entries again without changing them, for tests
// that move a fake clock forward.
func (o *Outbox) Poke() { o.wakeup() }

// SetCrashPoints makes Run return the error of before (called after a
// successful delivery, before the done marker is written) or after (called
// once the marker is durable), as if the process died there. Call it before
// Run.
func (o *Outbox) SetCrashPoints(before, after func(id string) error) {
	o.runSeams = seams{beforeMarker: before, afterMarker: after}
}

// Uploader (for the tests) returns a [Deliver] that uploads with c and reports the vendor's
// media object ([upload.Media.Raw]) as the result. c's own RetryPolicy runs
// inside each attempt: keep it short (a few attempts), the outbox retries
// for longer.
func Uploader(c *upload.Client) Deliver {
	return func(ctx context.Context, it Item) ([]byte, error) {
		m, err := c.UploadNFC(ctx, it.SessionID, it.NFC)
		if err != nil {
			return nil, err
		}
		return m.Raw, nil
	}
}
