package vchip

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/reader"
)

// InProcess is the daemon's [kiosk.Readers] with one reader, called Name,
// that holds Chip: the demo's stand-in for pcscd and a USB reader when
// they are not available, and a fast seam for tests. It reports errors as
// package reader does (ErrCardRemoved, ErrNoCard, ErrReaderGone,
// ErrReaderBusy). It lives with the virtual chip so that the service's
// packages do not depend on a test chip.
type InProcess struct {
	Name string
	Chip *Passport

	mu        sync.Mutex
	connected bool
}

var _ kiosk.Readers = (*InProcess)(nil)

// Readers lists the one reader.
func (p *InProcess) Readers(context.Context) ([]reader.Info, error) {
	return []reader.Info{{Name: p.Name, CardPresent: p.present()}}, nil
}

func (p *InProcess) present() bool {
	select {
	case <-p.Chip.Removed():
		return false
	default:
		return true
	}
}

// WaitForCard waits until the chip is in the reader.
func (p *InProcess) WaitForCard(ctx context.Context, name string) (string, error) {
	if name != "" && name != p.Name {
		return "", fmt.Errorf("vchip: wait for card in %q: %w", name, reader.ErrReaderGone)
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !p.present() {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("vchip: wait for card: %w: %w", reader.ErrCanceled, ctx.Err())
		case <-t.C:
		}
	}
	return p.Name, nil
}

// Connect powers the chip up afresh and connects exclusively.
func (p *InProcess) Connect(ctx context.Context, name string) (kiosk.Card, error) {
	if name != p.Name {
		return nil, fmt.Errorf("vchip: connect to %q: %w", name, reader.ErrReaderGone)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.connected:
		return nil, fmt.Errorf("vchip: connect to %q: %w", name, reader.ErrReaderBusy)
	case !p.present():
		return nil, fmt.Errorf("vchip: connect to %q: %w", name, reader.ErrNoCard)
	}
	p.Chip.Reset()
	p.connected = true
	return &inProcessCard{p: p}, nil
}

// inProcessCard is a connection to an InProcess chip.
type inProcessCard struct {
	p      *InProcess
	mu     sync.Mutex
	closed bool
}

// Transmit sends an APDU; once the chip is gone it fails with
// reader.ErrCardRemoved.
func (c *inProcessCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vchip: transmit: %w: %w", reader.ErrCanceled, err)
	}
	resp, err := c.p.Chip.Transmit(ctx, capdu)
	if err != nil && !c.p.present() {
		return nil, fmt.Errorf("vchip: transmit: %w: %w", reader.ErrCardRemoved, err)
	}
	if err != nil {
		return nil, fmt.Errorf("vchip: transmit: %w: %w", reader.ErrCommunication, err)
	}
	return resp, nil
}

// Reconnect resets the chip, as reader.Card.Reconnect does.
func (c *inProcessCard) Reconnect(context.Context) error {
	if !c.p.present() {
		return fmt.Errorf("vchip: reconnect: %w", reader.ErrNoCard)
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
