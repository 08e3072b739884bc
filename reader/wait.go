package reader

import (
	"context"
	"errors"
	"time"

	"github.com/ebfe/scard"
)

// pnpNotification is the pseudo reader whose state changes when a reader is
// plugged in or unplugged (pcsc-lite, SCardGetStatusChange).
const pnpNotification = `\\?PnP?\Notification`

// rescan bounds one SCardGetStatusChange so that the reader list is read
// again now and then: pcsc-lite 1.9 reports a new reader through the PnP
// notification only if it appears while the call is blocked.
const rescan = 2 * time.Second

// cancelRetry spaces repeated SCardCancel calls: pcsc-lite ignores a cancel
// that arrives while no SCardGetStatusChange is blocked, so the canceler
// repeats it until the waiter has returned.
const cancelRetry = 20 * time.Millisecond

// WaitForCard blocks until a responsive card is present in the reader called
// name and returns the reader's name; with name "" it returns the first
// reader that has one. A card another connection holds counts as present
// (waiting for it to be released could hang: a Card of this process keeps
// the reader held even after its card was taken away), so Connect reports
// [ErrReaderBusy] rather than WaitForCard blocking. Readers
// plugged in while it waits are watched too (PnP notification), and a named
// reader that is not plugged in yet is waited for. If ctx ends first, the
// error matches [ErrCanceled] and ctx.Err(), and [ErrNoReaders] or
// [ErrReaderGone] too if there was no reader, or no reader called name.
func (p *PCSC) WaitForCard(ctx context.Context, name string) (string, error) {
	const op = "wait for card"
	var found string
	err := p.watch(ctx, op, name, func(s scard.ReaderState) bool {
		ev := s.EventState
		if ev&scard.StatePresent == 0 || ev&scard.StateMute != 0 {
			return false
		}
		found = s.Reader
		return true
	})
	return found, err
}

// WaitForRemoval blocks until the card in the reader called name is gone:
// the reader reports no card, a card was removed since the call began (even
// if another was put back), or the reader itself is gone. It returns nil at
// once when the reader holds no card.
func (p *PCSC) WaitForRemoval(ctx context.Context, name string) error {
	const op = "wait for removal"
	if name == "" {
		return failKind(op, ErrReaderGone, errors.New("no reader name"))
	}
	counter, first := uint32(0), true
	gone := func(s scard.ReaderState) bool {
		ev := s.EventState
		c := uint32(ev) >> 16 // pcscd counts insertions and removals here
		if first {
			counter, first = c, false
		}
		return ev&scard.StatePresent == 0 || c != counter
	}
	return p.watch(ctx, op, name, gone)
}

// watch waits on a PC/SC context of its own until done holds for one of the
// readers called name (any reader if name is ""). A named reader that is
// not listed counts as absent: done sees it with an empty state.
func (p *PCSC) watch(ctx context.Context, op, name string, done func(scard.ReaderState) bool) error {
	if err := ctx.Err(); err != nil {
		return canceled(op, err)
	}
	if p.isClosed() {
		return failKind(op, ErrClosed, nil)
	}
	sc, err := establish(op)
	if err != nil {
		return err
	}
	stop := bridgeCancel(ctx, p.closed, sc)
	defer sc.Release()
	defer stop()
	w := watcher{sc: sc, name: name, prev: map[string]scard.StateFlag{}}
	for {
		ok, err := w.step(done)
		switch {
		case ok:
			return nil
		case ctx.Err() != nil:
			return canceled(op, ctx.Err(), w.missing())
		case p.isClosed():
			return failKind(op, ErrClosed, nil)
		case err != nil:
			return fail(op, phaseService, err)
		}
	}
}

// watcher is the state of one wait: the reader states last seen.
type watcher struct {
	sc      *scard.Context
	name    string
	prev    map[string]scard.StateFlag // last event state per reader; PnP too
	readers int                        // readers listed in the last step
	named   bool                       // whether name was among them
}

// step lists the readers, reports whether done holds for one of them and,
// if not, blocks until a state changes, the rescan period ends or the wait
// is canceled. Errors that only mean "look again" are absorbed.
func (w *watcher) step(done func(scard.ReaderState) bool) (bool, error) {
	names, err := listReaders(w.sc)
	if err != nil {
		return false, err
	}
	w.readers, w.named = len(names), false
	states := make([]scard.ReaderState, 0, maxWatched+1)
	for _, n := range names {
		if len(states) == maxWatched {
			break
		}
		if w.name == "" || n == w.name {
			w.named = w.named || n == w.name
			states = append(states, scard.ReaderState{Reader: n, CurrentState: w.prev[n]})
		}
	}
	if w.name != "" && !w.named && done(scard.ReaderState{Reader: w.name}) {
		return true, nil
	}
	states = append(states, scard.ReaderState{Reader: pnpNotification, CurrentState: w.prev[pnpNotification]})
	timeout := rescan
	if hasUnaware(states) {
		timeout = 0 // learn the current state first
	}
	err = w.sc.GetStatusChange(states, timeout)
	if errors.Is(err, scard.ErrTimeout) || errors.Is(err, scard.ErrUnknownReader) {
		return false, nil // a reader vanished between listing and waiting, or time to list again
	}
	if err != nil {
		return false, err
	}
	for _, s := range states {
		w.prev[s.Reader] = s.EventState &^ scard.StateChanged
		if s.Reader != pnpNotification && s.EventState&(scard.StateUnknown|scard.StateUnavailable) == 0 && done(s) {
			return true, nil
		}
	}
	return false, nil
}

func hasUnaware(states []scard.ReaderState) bool {
	for _, s := range states[:len(states)-1] { // not PnP: its state may stay 0
		if s.CurrentState == scard.StateUnaware {
			return true
		}
	}
	return false
}

// missing names what the wait lacked when it was canceled: any reader, or
// the reader called name.
func (w *watcher) missing() error {
	switch {
	case w.readers == 0:
		return ErrNoReaders
	case w.name != "" && !w.named:
		return ErrReaderGone
	}
	return nil
}

// bridgeCancel calls sc.Cancel once ctx ends or closed is closed, repeating
// it until the returned stop is called, which waits for the canceler to
// finish (so that sc can then be released safely).
func bridgeCancel(ctx context.Context, closed <-chan struct{}, sc *scard.Context) (stop func()) {
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-quit:
			return
		case <-ctx.Done():
		case <-closed:
		}
		t := time.NewTicker(cancelRetry)
		defer t.Stop()
		for {
			_ = sc.Cancel() // an error only means nothing was blocked
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(quit); <-exited }
}
