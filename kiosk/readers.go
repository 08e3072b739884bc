package kiosk

import (
	"context"
	"errors"
	"sync"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/reader"
)

// Readers is the service's view of the card readers: PC/SC through [PCSC]
// in production, a virtual chip in process for demos and tests. Errors match
// the sentinels of package reader (reader.ErrCardRemoved, ErrNoService …),
// whatever the implementation.
type Readers interface {
	// Readers lists the readers with their card state.
	Readers(ctx context.Context) ([]reader.Info, error)
	// WaitForCard blocks until the reader called name holds a card and
	// returns its name; see reader.PCSC.WaitForCard.
	WaitForCard(ctx context.Context, name string) (string, error)
	// Connect connects exclusively to the card in the reader called name.
	Connect(ctx context.Context, name string) (Card, error)
}

// Card is a connected card. If it also implements mrtd.Reconnector, a
// broken secure messaging session is ended by resetting the chip.
type Card interface {
	icao.Transport
	// Close resets and releases the card.
	Close() error
}

// PCSC is [Readers] over PC/SC. It connects to pcscd on first use and
// again after pcscd was not running, so that the daemon can start before
// pcscd and survive its restarts (reader.PCSC re-establishes a context that
// went stale). Its methods are safe for concurrent use.
type PCSC struct {
	// Open connects to pcscd; nil means reader.Open.
	Open func() (*reader.PCSC, error)

	mu sync.Mutex
	p  *reader.PCSC
}

var _ Readers = (*PCSC)(nil)

// NewPCSC returns a PCSC that already holds p (which it closes on Close).
func NewPCSC(p *reader.PCSC) *PCSC { return &PCSC{p: p} }

func (r *PCSC) get() (*reader.PCSC, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		return r.p, nil
	}
	open := r.Open
	if open == nil {
		open = reader.Open
	}
	p, err := open()
	if err != nil {
		return nil, err
	}
	r.p = p
	return p, nil
}

// Readers lists the readers (reader.PCSC.Readers).
func (r *PCSC) Readers(ctx context.Context) ([]reader.Info, error) {
	p, err := r.get()
	if err != nil {
		return nil, err
	}
	return p.Readers(ctx)
}

// WaitForCard waits for a card (reader.PCSC.WaitForCard).
func (r *PCSC) WaitForCard(ctx context.Context, name string) (string, error) {
	p, err := r.get()
	if err != nil {
		return "", err
	}
	return p.WaitForCard(ctx, name)
}

// Connect connects exclusively (reader.PCSC.Connect). The Card returned is
// a *reader.Card, which can reset the chip.
func (r *PCSC) Connect(ctx context.Context, name string) (Card, error) {
	p, err := r.get()
	if err != nil {
		return nil, err
	}
	c, err := p.Connect(ctx, name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Close releases the PC/SC context.
func (r *PCSC) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return nil
	}
	err := r.p.Close()
	r.p = nil
	return err
}

// pcscDown reports an error after which pcscd is to be waited for.
func pcscDown(err error) bool { return errors.Is(err, reader.ErrNoService) }
