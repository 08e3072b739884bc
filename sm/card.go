package sm

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/nfcbridge/nfcbridge/icao"
)

// Card is the chip side of secure messaging, for emulators and tests: it
// unwraps protected commands and wraps plain responses (9303-11 §9.8). Each
// successful [Card.Unwrap] must be followed by one [Card.Wrap] of the answer.
//
// An SM error from Unwrap is permanent, as on a real chip: the card clears
// its keys and every later call returns that error. The emulator answers
// the failed command with [CardStatus] of the error (6987 or 6988) without
// secure messaging and drops the Card. It is safe for concurrent use.
//
// Card has no String method; it logs and formats as "redacted".
type Card struct {
	mu      sync.Mutex
	ch      channel
	pending bool // a command was unwrapped and awaits its response
	odd     bool // that command had an odd INS: answer in DO'85'
	err     error
}

var _ slog.LogValuer = (*Card)(nil)

// errNoCommand is returned by Wrap without a preceding Unwrap.
var errNoCommand = errors.New("sm: Wrap without an unwrapped command")

// NewCard returns the chip side of a session with the keys k, which it
// copies.
func NewCard(k Keys) (*Card, error) {
	ch, err := newChannel(k)
	if err != nil {
		return nil, err
	}
	return &Card{ch: ch}, nil
}

// LogValue keeps the card state out of structured logs.
func (c *Card) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print the keys.
func (c *Card) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// Unwrap increments the SSC, verifies the MAC of the protected command
// capdu, decrypts its data and returns the plain command APDU, with the SM
// bits cleared from CLA and Le taken from DO'97'. A protected command may
// carry its data in DO'87' or DO'85' whatever its INS.
func (c *Card) Unwrap(capdu []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	cmd, err := c.ch.unprotectCommand(capdu)
	if err != nil {
		return nil, c.fail(err)
	}
	plain, err := cmd.Marshal()
	if err != nil {
		return nil, c.fail(fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	c.pending, c.odd = true, cmd.INS&1 == 1
	return plain, nil
}

// Wrap increments the SSC and returns the protected form of the plain
// response rapdu (data ‖ SW1 SW2) to the last unwrapped command: its data
// in DO'87' (DO'85' after an odd INS), DO'99', DO'8E' and the status word.
// Error statuses (6A82 and the like) are wrapped the same way, usually
// without data. A response whose protected form would exceed 65536 data
// bytes is refused.
func (c *Card) Wrap(rapdu []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if !c.pending {
		return nil, errNoCommand
	}
	r, err := icao.ParseResponse(rapdu)
	if err != nil {
		return nil, fmt.Errorf("sm: wrap: %w", err)
	}
	if n := ResponseLen(c.ch.suite, len(r.Data), c.odd); n > icao.MaxExtendedNe {
		return nil, fmt.Errorf("sm: wrap: %d data bytes do not fit a protected response", len(r.Data))
	}
	c.pending = false
	return c.ch.protectResponse(r, c.odd)
}

// Close clears the keys; later calls return [ErrClosed].
func (c *Card) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ch.wipe()
	c.err = ErrClosed
	return nil
}

func (c *Card) fail(err error) error {
	c.err = err
	c.ch.wipe()
	return err
}
