package vchip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nfcbridge/nfcbridge/vpcd"
)

// removeGrace is how long [Serve] lets the last response of a card that
// removes itself travel to vpcd before it closes the connection, unless a
// further command shows earlier that the response was delivered.
const removeGrace = 20 * time.Millisecond

// closeWait is how long a command that reached the removed card is held
// after the insertion's context ends, while vpcd.Insertion.Remove closes
// the connection (it cancels the context first).
const closeWait = 100 * time.Millisecond

// ServeConfig tunes [Serve]. A nil *ServeConfig is the zero value.
type ServeConfig struct {
	// Inserted, if set, is called each time vpcd has taken the card, that
	// is when pcscd is about to report it present.
	Inserted func()
	// Reinsert, when positive, puts the card back that long after it has
	// removed itself ([Config.RemoveAfter]), powered off and with
	// RemoveAfter disarmed, as a traveller does who lifted the passport
	// and puts it back. Zero leaves the reader empty until ctx ends.
	Reinsert time.Duration
	// VPCD is passed to vpcd.Insert; its ATR, when nil, is the
	// passport's [Passport.ATR].
	VPCD *vpcd.Config
}

// Serve inserts p into the vpcd reader listening at addr (see vpcd.Addr)
// and serves it until ctx ends, which removes the card and returns nil.
// When p removes itself after [Config.RemoveAfter] APDUs, Serve closes the
// vpcd connection, so PC/SC sees a real card removal: the next command
// fails and the reader reports the slot empty. Serve returns an error when
// vpcd cannot be reached or closes the connection.
func Serve(ctx context.Context, addr string, p *Passport, cfg *ServeConfig) error {
	if cfg == nil {
		cfg = &ServeConfig{}
	}
	vcfg := vpcd.Config{}
	if cfg.VPCD != nil {
		vcfg = *cfg.VPCD
	}
	if vcfg.ATR == nil {
		vcfg.ATR = p.ATR()
	}
	for {
		card := &servedCard{p: p, pulled: make(chan struct{})}
		ins, err := vpcd.Insert(ctx, addr, card, &vcfg)
		if err != nil {
			return fmt.Errorf("vchip: serve: %w", err)
		}
		removed, err := waitRemoval(ctx, ins, card, cfg)
		if err != nil || !removed {
			return err
		}
		if cfg.Reinsert <= 0 {
			<-ctx.Done()
			return nil
		}
		if !sleep(ctx, cfg.Reinsert) {
			return nil
		}
		p.Reinsert()
	}
}

// waitRemoval serves one insertion. It reports whether the card removed
// itself; otherwise ctx ended (nil error) or vpcd went away (its error).
func waitRemoval(ctx context.Context, ins *vpcd.Insertion, card *servedCard, cfg *ServeConfig) (bool, error) {
	defer ins.Remove()
	removed := card.p.Removed()
	select {
	case <-ins.Attached():
		if cfg.Inserted != nil {
			cfg.Inserted()
		}
	case <-removed:
	case <-ins.Done():
	case <-ctx.Done():
		return false, nil
	}
	select {
	case <-removed:
		t := time.NewTimer(removeGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-card.pulled:
		case <-ctx.Done():
		}
		return true, nil
	case <-ins.Done():
		if err := ins.Err(); err != nil {
			return false, fmt.Errorf("vchip: serve: %w", err)
		}
		return false, nil
	case <-ctx.Done():
		return false, nil
	}
}

// servedCard adapts a Passport to vpcd: once the passport has removed
// itself, a command reaching it waits for Serve to close the connection,
// so pcscd sees the card gone rather than a 6F00 answer.
type servedCard struct {
	p      *Passport
	once   sync.Once
	pulled chan struct{} // closed when a command reached the removed card
}

func (c *servedCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	resp, err := c.p.Transmit(ctx, capdu)
	if errors.Is(err, ErrRemoved) {
		c.once.Do(func() { close(c.pulled) })
		<-ctx.Done() // Serve removes the insertion, which ends ctx …
		// … and then closes the connection; give it time to, so that vpcd
		// gets no answer (it would send 6F00 for this error).
		time.Sleep(closeWait)
	}
	return resp, err
}

func (c *servedCard) Reset() { c.p.Reset() }

var (
	_ vpcd.Card     = (*servedCard)(nil)
	_ vpcd.Resetter = (*servedCard)(nil)
	_ vpcd.Card     = (*Passport)(nil)
	_ vpcd.Resetter = (*Passport)(nil)
)

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
