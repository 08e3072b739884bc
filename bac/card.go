package bac

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/nfcbridge/nfcbridge/sm"
)

// Errors returned by [Card.ExternalAuthenticate].
var (
	// ErrAuthentication means the terminal's cryptogram or MAC did not
	// verify, or did not hold the card's challenge. The chip answers 6300
	// (9303-11 §4.3.3.1, Appendix D.3).
	ErrAuthentication = errors.New("bac: terminal authentication failed")
	// ErrNoChallenge means EXTERNAL AUTHENTICATE came without a fresh GET
	// CHALLENGE. The chip answers 6985 (conditions of use not satisfied).
	ErrNoChallenge = errors.New("bac: no challenge issued")
)

// Card is the chip side of BAC, for the virtual chip and tests. Each
// challenge serves one EXTERNAL AUTHENTICATE, successful or not. Card is
// safe for concurrent use; it has no String method and logs and formats as
// "redacted".
type Card struct {
	mu       sync.Mutex
	enc, mac []byte
	rand     io.Reader
	rndIC    []byte // the outstanding challenge, nil when none
}

var _ slog.LogValuer = (*Card)(nil)

// NewCard returns the chip side of BAC for a document whose MRZ gives
// mrzInformation. rand is the source of RND.IC (8 bytes, read by each
// GetChallenge) and K.IC (16 bytes, read by each successful
// ExternalAuthenticate); nil means crypto/rand.
func NewCard(mrzInformation []byte, rand io.Reader) *Card {
	enc, mac := DeriveKeys(mrzInformation)
	return &Card{enc: enc, mac: mac, rand: rand}
}

// LogValue keeps the card's keys out of structured logs.
func (c *Card) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print the keys.
func (c *Card) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

func (c *Card) random(n int) ([]byte, error) {
	r := c.rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// GetChallenge returns a new 8-byte RND.IC and remembers it for the next
// ExternalAuthenticate (9303-11 §4.3.3.1). It returns nil, and forgets any
// earlier challenge, if the random source fails; the chip then answers
// 6F00.
func (c *Card) GetChallenge() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	rnd, err := c.random(rndLen)
	if err != nil {
		c.rndIC = nil
		return nil
	}
	c.rndIC = rnd
	return append([]byte(nil), rnd...)
}

// ExternalAuthenticate checks the terminal's E_IFD ‖ M_IFD (40 bytes) and
// that it holds the outstanding RND.IC, and returns the chip's answer
// E_IC ‖ M_IC together with the session keys and SSC both sides now share
// (9303-11 §4.3.3). It fails with [ErrAuthentication] (answer 6300) or
// [ErrNoChallenge] (answer 6985); another error means the random source
// failed (answer 6F00). The challenge is used up either way.
func (c *Card) ExternalAuthenticate(data []byte) (resp []byte, keys sm.Keys, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rndIC := c.rndIC
	c.rndIC = nil
	if rndIC == nil {
		return nil, sm.Keys{}, ErrNoChallenge
	}
	s, ok, err := unseal(c.enc, c.mac, data) // S = RND.IFD ‖ RND.IC ‖ K.IFD
	if err != nil {
		return nil, sm.Keys{}, err
	}
	defer clear(s)
	if !ok || subtle.ConstantTimeCompare(s[rndLen:2*rndLen], rndIC) != 1 {
		return nil, sm.Keys{}, ErrAuthentication
	}
	rndIFD, kIFD := s[:rndLen], s[2*rndLen:]
	kIC, err := c.random(keyLen)
	if err != nil {
		return nil, sm.Keys{}, fmt.Errorf("bac: reading random bytes: %w", err)
	}
	defer clear(kIC)
	r := make([]byte, 0, cryptLen) // R = RND.IC ‖ RND.IFD ‖ K.IC
	r = append(append(append(r, rndIC...), rndIFD...), kIC...)
	defer clear(r)
	resp, err = seal(c.enc, c.mac, r)
	if err != nil {
		return nil, sm.Keys{}, err
	}
	return resp, sessionKeys(kIFD, kIC, rndIC, rndIFD), nil
}
