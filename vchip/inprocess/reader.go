// Package inprocess is a card reader living in this process that holds a
// virtual passport ([vchip.Passport]): the daemon's stand-in for pcscd and
// a USB reader in the demo when they are not available, and a fast seam
// for tests. It is apart from vchip so that packages whose tests use the
// virtual chip need not import the daemon.
package inprocess

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// Reader is the daemon's [kiosk.Readers] with one reader, called Name,
// that holds Chip. It reports errors as package reader does
// (ErrCardRemoved, ErrNoCard, ErrReaderGone, ErrReaderBusy).
type Reader struct {
	Name string
	Chip *vchip.Passport

	mu        sync.Mutex
	connected bool
}

var _ kiosk.Readers = (*Reader)(nil)

// Readers lists the one reader.
func (p *Reader) Readers(context.Context) ([]reader.Info, error) {
	return []reader.Info{{Name: p.Name, CardPresent: p.present()}}, nil
}

func (p *Reader) present() bool {
	select {
	case <-p.Chip.Removed():
		return false
	default:
		return true
	}
}

// WaitForCard waits until the chip is in the reader.
func (p *Reader) WaitForCard(ctx context.Context, name string) (string, error) {
	if name != "" && name != p.Name {
		return "", fmt.Errorf("inprocess: wait for card in %q: %w", name, reader.ErrReaderGone)
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !p.present() {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("inprocess: wait for card: %w: %w", reader.ErrCanceled, ctx.Err())
		case <-t.C:
		}
	}
	return p.Name, nil
}

// Connect powers the chip up afresh and connects exclusively.
func (p *Reader) Connect(ctx context.Context, name string) (kiosk.Card, error) {
	if name != p.Name {
		return nil, fmt.Errorf("inprocess: connect to %q: %w", name, reader.ErrReaderGone)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.connected:
		return nil, fmt.Errorf("inprocess: connect to %q: %w", name, reader.ErrReaderBusy)
	case !p.present():
		return nil, fmt.Errorf("inprocess: connect to %q: %w", name, reader.ErrNoCard)
	}
	p.Chip.Reset()
	p.connected = true
	return &inProcessCard{p: p}, nil
}

// inProcessCard is a connection to a Reader's chip.
type inProcessCard struct {
	p      *Reader
	mu     sync.Mutex
	closed bool
}

// Transmit sends an APDU; once the chip is gone it fails with
// reader.ErrCardRemoved.
func (c *inProcessCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inprocess: transmit: %w: %w", reader.ErrCanceled, err)
	}
	resp, err := c.p.Chip.Transmit(ctx, capdu)
	if err != nil && !c.p.present() {
		return nil, fmt.Errorf("inprocess: transmit: %w: %w", reader.ErrCardRemoved, err)
	}
	if err != nil {
		return nil, fmt.Errorf("inprocess: transmit: %w: %w", reader.ErrCommunication, err)
	}
	return resp, nil
}

// Reconnect resets the chip, as reader.Card.Reconnect does.
func (c *inProcessCard) Reconnect(context.Context) error {
	if !c.p.present() {
		return fmt.Errorf("inprocess: reconnect: %w", reader.ErrNoCard)
	}
	c.p.Chip.Reset()
	return nil
}

// Close resets the chip and releases the reader.
func (c *inProcessCard) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.p.Chip.Reset()
	c.p.mu.Lock()
	c.p.connected = false
	c.p.mu.Unlock()
	return nil
}
