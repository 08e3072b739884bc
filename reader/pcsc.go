package reader

import (
	"context"
	"errors"
	"sync"

	"github.com/ebfe/scard"
)

// PCSC is a connection to the PC/SC service that re-establishes itself after
// pcscd restarts. Its methods are safe for concurrent use.
type PCSC struct {
	mu     sync.Mutex
	sc     *scard.Context // nil after a stale context was dropped; guarded by mu
	closed chan struct{}
	once   sync.Once
}

// Info describes one reader.
type Info struct {
	// Name is the PC/SC reader name, the argument to Connect.
	Name string
	// CardPresent reports a card in the reader (or in its field).
	CardPresent bool
	// ATR is the card's answer to reset, nil without a card.
	ATR []byte
	// Exclusive reports that a connection (of this process or another)
	// holds the card exclusively: Connect would fail with [ErrReaderBusy].
	Exclusive bool
}

// Open establishes a context with the PC/SC service (SCardEstablishContext).
// It fails with [ErrNoService] when pcscd is not running and with
// [ErrAccessDenied] when polkit refuses this process.
func Open() (*PCSC, error) {
	sc, err := establish("open")
	if err != nil {
		return nil, err
	}
	return &PCSC{sc: sc, closed: make(chan struct{})}, nil
}

func establish(op string) (*scard.Context, error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, fail(op, phaseService, err)
	}
	return sc, nil
}

// Close releases the PC/SC context and ends waits in progress, which return
// [ErrClosed]. Cards connected through p stay usable until closed
// themselves. Close is idempotent and returns nil: a context a dead pcscd
// took with it needs no release.
func (p *PCSC) Close() error {
	p.once.Do(func() { close(p.closed) })
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sc != nil {
		p.sc.Release()
		p.sc = nil
	}
	return nil
}

func (p *PCSC) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// Readers lists the readers with their card state. No reader plugged in is
// an empty list and a nil error, not [ErrNoReaders]: listing found nothing
// wrong. When p's context went stale because pcscd restarted, Readers
// establishes a new one and tries again once.
func (p *PCSC) Readers(ctx context.Context) ([]Info, error) {
	const op = "list readers"
	if err := ctx.Err(); err != nil {
		return nil, canceled(op, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isClosed() {
		return nil, failKind(op, ErrClosed, nil)
	}
	var err error
	for range 2 {
		if p.sc == nil {
			if p.sc, err = establish(op); err != nil {
				return nil, err
			}
		}
		var infos []Info
		if infos, err = readerInfos(p.sc); err == nil {
			return infos, nil
		}
		if !stale(err) {
			break
		}
		p.sc.Release()
		p.sc = nil
	}
	return nil, fail(op, phaseService, err)
}

// readerInfos lists the readers and queries their state without blocking.
// A reader unplugged between the two steps makes it list again.
func readerInfos(sc *scard.Context) ([]Info, error) {
	for attempt := 0; ; attempt++ {
		names, err := listReaders(sc)
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return []Info{}, nil
		}
		states := make([]scard.ReaderState, len(names))
		for i, n := range names {
			states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
		}
		err = sc.GetStatusChange(states, 0)
		if errors.Is(err, scard.ErrUnknownReader) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		infos := make([]Info, len(states))
		for i, s := range states {
			infos[i] = Info{
				Name:        s.Reader,
				CardPresent: s.EventState&scard.StatePresent != 0,
				Exclusive:   s.EventState&scard.StateExclusive != 0,
			}
			if infos[i].CardPresent && len(s.Atr) > 0 {
				infos[i].ATR = s.Atr
			}
		}
		return infos, nil
	}
}

// maxWatched is how many readers one SCardGetStatusChange may watch beside
// the PnP notification: pcsc-lite takes at most PCSCLITE_MAX_READERS_CONTEXTS
// (16) reader states per call.
const maxWatched = 15

// listReaders is SCardListReaders with "no readers" as an empty list.
func listReaders(sc *scard.Context) ([]string, error) {
	names, err := sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	return names, err
}
