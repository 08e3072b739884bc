package outbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/nfcbridge/nfcbridge/upload"
)

// Run delivers the entries until ctx ends, then returns ctx's error. It
// first reports what [Open] found (re-reported deliveries, quarantined
// files), then delivers due entries one at a time, oldest first:
//
//   - success: the done marker is made durable, then the entry is deleted
//     and [Delivered] reported;
//   - a permanent error ([Config.Permanent]): deleted, [Failed];
//   - another error: [Retrying], and the attempt count and the next attempt
//     time are saved, so the backoff survives a restart;
//   - older than the retention limit: deleted, [Expired].
//
// [Outbox.Put] and [Outbox.Kick] wake it at once. An attempt cut short by
// the end of ctx is not counted. notify (nil: none) is called from Run's
// goroutine and should return quickly; it may call the Outbox's methods.
// Only one Run may run at a time ([ErrRunning]).
func (o *Outbox) Run(ctx context.Context, deliver Deliver, notify func(Event)) error {
	if deliver == nil {
		return errors.New("outbox: Run needs a Deliver function")
	}
	if notify == nil {
		notify = func(Event) {}
	}
	startup, err := o.start()
	if err != nil {
		return err
	}
	defer o.stop()
	for _, ev := range startup {
		notify(ev)
		if ev.Kind == Delivered || ev.Kind == Failed {
			o.purge(ev.ID) // after notify: the caller's record comes first
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		id, wait := o.due()
		if id == "" {
			if err := o.sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		if err := o.step(ctx, id, deliver, notify); err != nil {
			return err
		}
	}
}

func (o *Outbox) start() ([]Event, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.closed:
		return nil, ErrClosed
	case o.running:
		return nil, ErrRunning
	}
	o.running = true
	startup := o.startup
	o.startup = nil
	return startup, nil
}

func (o *Outbox) stop() {
	o.mu.Lock()
	o.running = false
	o.mu.Unlock()
}

// due returns the oldest entry due now, or else how long until one is due
// (negative: none queued).
func (o *Outbox) due() (id string, wait time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	var best *entry
	var next time.Time
	for _, e := range o.entries {
		if e.held {
			continue
		}
		at := e.next
		if !e.finished {
			at = minTime(at, e.created.Add(o.retention))
		}
		if at.After(now) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		if best == nil || e.created.Before(best.created) || (e.created.Equal(best.created) && e.id < best.id) {
			best = e
		}
	}
	switch {
	case best != nil:
		return best.id, 0
	case next.IsZero():
		return "", -1
	}
	return "", next.Sub(now)
}

// sleep waits for wait (forever if negative), a wakeup or the end of ctx.
func (o *Outbox) sleep(ctx context.Context, wait time.Duration) error {
	var timeout <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-o.wake:
	case <-timeout:
	}
	return nil
}

// step handles the due entry id.
func (o *Outbox) step(ctx context.Context, id string, deliver Deliver, notify func(Event)) error {
	o.mu.Lock()
	e, ok := o.entries[id]
	var snap entry
	if ok {
		snap = *e
	}
	o.mu.Unlock()
	switch {
	case !ok:
		return nil
	case snap.finished:
		o.purge(id)
		return nil
	case !o.now().Before(snap.created.Add(o.retention)):
		notify(Event{Kind: Expired, ID: id, ReadID: snap.readID})
		o.finish(id)
		return nil
	}
	return o.attempt(ctx, id, snap.readID, deliver, notify)
}

// Send makes the first delivery attempt of the entry id stored with
// [Outbox.Store], with the outcomes and events of [Outbox.Run] (reported to
// notify, which may be nil), then leaves the entry to Run, which retries
// it unless it is finished. When ctx ends during the attempt, the attempt
// is not counted, the entry stays queued and ctx's error is returned.
func (o *Outbox) Send(ctx context.Context, id string, deliver Deliver, notify func(Event)) error {
	if notify == nil {
		notify = func(Event) {}
	}
	o.mu.Lock()
	e, ok := o.entries[id]
	var readID string
	if ok {
		readID = e.readID
	}
	o.mu.Unlock()
	if !ok {
		return fmt.Errorf("outbox: no entry %s", id)
	}
	defer o.release(id)
	return o.attempt(ctx, id, readID, deliver, notify)
}

// release hands a held entry to Run.
func (o *Outbox) release(id string) {
	o.mu.Lock()
	if e, ok := o.entries[id]; ok {
		e.held = false
	}
	o.mu.Unlock()
	o.wakeup()
}

// attempt delivers the entry id once. Before the first byte can reach the
// vendor (when an HTTP delivery has its connection, httptrace GotConn),
// the entry is durably marked as sending: if the process dies before the
// outcome is recorded, the next Open reports the entry failed with
// [ErrUnconfirmed] instead of sending it a second time. A connection that
// was refused marks nothing, so an entry for a vendor that is down is
// sent again after a crash.
func (o *Outbox) attempt(ctx context.Context, id, readID string, deliver Deliver, notify func(Event)) error {
	o.mu.Lock()
	kicks := o.kicks
	o.mu.Unlock()
	it, err := o.readItem(id)
	if err != nil {
		o.unreadable(id, readID, err, kicks, notify)
		return nil
	}
	var once sync.Once
	marked := false
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		once.Do(func() { marked = o.setSending(id, true) == nil })
	}}
	result, err := deliver(httptrace.WithClientTrace(ctx, trace), it)
	clearNFC(&it.NFC)
	once.Do(func() {}) // no marking after the attempt
	switch {
	case err == nil:
		return o.succeed(id, readID, result, notify)
	case errors.Is(err, upload.ErrUnanswered):
		// The whole request reached the vendor and no answer came back
		// (the upload client tells, also when ctx ended the wait): it may
		// be stored. Sending it again could store it twice.
		notify(Event{Kind: Failed, ID: id, ReadID: readID, Err: fmt.Errorf("%w: %w", ErrUnconfirmed, err)})
		o.finish(id)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	case ctx.Err() != nil:
		// Cut short by the caller, such as the daemon stopping: the
		// answer was not awaited, as after a network error, and the
		// entry is sent again.
		if marked {
			o.setSending(id, false)
		}
		return ctx.Err()
	case errors.As(err, new(finalError)) || o.permanent(err):
		notify(Event{Kind: Failed, ID: id, ReadID: readID, Err: err})
		o.finish(id)
	default:
		o.retry(id, readID, err, kicks, notify)
	}
	return nil
}

// setSending saves whether an attempt at entry id is sending, durably.
func (o *Outbox) setSending(id string, sending bool) error {
	o.mu.Lock()
	e, ok := o.entries[id]
	if !ok {
		o.mu.Unlock()
		return fmt.Errorf("outbox: no entry %s", id)
	}
	e.sending = sending
	st := e.state
	o.mu.Unlock()
	sealed, err := seal(o.aead, o.rand, kindState, id, encodeState(st))
	if err != nil {
		return err
	}
	return writeFile(o.dir, id+extState, sealed)
}

// succeed records a delivery: the done marker first, durably; then the
// entry is deleted, the event reported and the marker removed. If the
// marker cannot be written, deleting the entry is the record.
func (o *Outbox) succeed(id, readID string, result []byte, notify func(Event)) error {
	if f := o.runSeams.beforeMarker; f != nil {
		if err := f(id); err != nil {
			return err
		}
	}
	sealed, err := seal(o.aead, o.rand, kindDone, id, encodeDone(done{readID: readID, result: result}))
	if err == nil {
		err = writeFile(o.dir, id+extDone, sealed)
	}
	if err == nil {
		if f := o.runSeams.afterMarker; f != nil {
			if err := f(id); err != nil {
				return err
			}
		}
	}
	o.mu.Lock()
	if e, ok := o.entries[id]; ok {
		e.finished = true
	}
	o.mu.Unlock()
	rmErr := removeFiles(o.dir, id+extEntry, id+extState)
	notify(Event{Kind: Delivered, ID: id, ReadID: readID, Result: result})
	if rmErr != nil {
		o.later(id)
		return nil
	}
	o.purge(id)
	return nil
}

// finish marks the entry finished and removes its files.
func (o *Outbox) finish(id string) {
	o.mu.Lock()
	if e, ok := o.entries[id]; ok {
		e.finished = true
	}
	o.mu.Unlock()
	o.purge(id)
}

// purge removes the files of a finished entry (the done marker last) and
// forgets it; on failure it tries again later.
func (o *Outbox) purge(id string) {
	err := removeFiles(o.dir, id+extEntry, id+extState)
	if err == nil {
		err = removeFiles(o.dir, id+extDone)
	}
	if err != nil {
		o.later(id)
		return
	}
	o.mu.Lock()
	delete(o.entries, id)
	o.mu.Unlock()
}

// later schedules another attempt to remove a finished entry's files.
func (o *Outbox) later(id string) {
	o.mu.Lock()
	if e, ok := o.entries[id]; ok {
		e.next = o.now().Add(o.backoff.Initial)
	}
	o.mu.Unlock()
}

// unreadable handles an entry file that could not be read for delivery:
// quarantined if corrupt, dropped if gone, else retried.
func (o *Outbox) unreadable(id, readID string, err error, kicks int, notify func(Event)) {
	switch {
	case errors.Is(err, ErrCorrupt):
		if qerr := o.quarantineFile(id); qerr != nil {
			o.retry(id, readID, qerr, kicks, notify)
			return
		}
		o.mu.Lock()
		delete(o.entries, id)
		o.mu.Unlock()
		notify(Event{Kind: Quarantined, ID: id, ReadID: readID, Err: err})
	case errors.Is(err, fs.ErrNotExist):
		notify(Event{Kind: Failed, ID: id, ReadID: readID, Err: err})
		o.finish(id)
	default:
		o.retry(id, readID, err, kicks, notify)
	}
}

// retry counts a failed attempt, schedules the next and saves both. A Kick
// during the attempt makes the next one due at once. Saving is best effort:
// without the state file, a restart only retries sooner.
func (o *Outbox) retry(id, readID string, cause error, kicks int, notify func(Event)) {
	o.mu.Lock()
	e, ok := o.entries[id]
	if !ok {
		o.mu.Unlock()
		return
	}
	now := o.now()
	e.sending = false
	e.attempts++
	e.next = now.Add(o.delay(e.attempts))
	if o.kicks != kicks {
		e.next = now
	}
	st := e.state
	o.mu.Unlock()
	// Durable: the state also clears the sending mark of the attempt.
	if sealed, err := seal(o.aead, o.rand, kindState, id, encodeState(st)); err == nil {
		_ = writeFile(o.dir, id+extState, sealed)
	}
	notify(Event{Kind: Retrying, ID: id, ReadID: readID, Attempts: st.attempts, NextAttempt: st.next, Err: cause})
}

// delay is the wait after the nth failed attempt, with equal jitter.
func (o *Outbox) delay(n int) time.Duration {
	return upload.RetryDelay(n, o.backoff.Initial, o.backoff.Max, o.rand)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
