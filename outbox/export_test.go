package outbox

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
