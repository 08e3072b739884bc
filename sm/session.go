package sm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/nfcbridge/nfcbridge/icao"
)

// Session is the terminal side of secure messaging: an icao.Transport that
// protects every command it is given, sends it over the wrapped Transport
// and returns the verified, decrypted response (9303-11 §9.8). It is safe
// for concurrent use; commands are sent one at a time.
//
// Session has no String method; it logs and formats as "redacted".
type Session struct {
	mu         sync.Mutex
	t          icao.Transport
	ch         channel
	maxShortLe int
	suite      Suite
	err        error // first permanent error, returned forever after
	closed     bool
}

var (
	_ icao.Transport = (*Session)(nil)
	_ icao.LeLimiter = (*Session)(nil)
	_ icao.LeFitter  = (*Session)(nil)
	_ slog.LogValuer = (*Session)(nil)
	_ slog.LogValuer = Keys{}
)

// NewSession returns a session that protects the commands sent over t with
// the keys k, which it copies.
func NewSession(t icao.Transport, k Keys) (*Session, error) {
	if t == nil {
		return nil, fmt.Errorf("sm: nil transport")
	}
	ch, err := newChannel(k)
	if err != nil {
		return nil, err
	}
	return &Session{t: t, ch: ch, maxShortLe: maxShortLe(k.Suite), suite: k.Suite}, nil
}

// MaxShortLe returns the largest Ne for which the protected response still
// fits a short response APDU of 256 data bytes: DO'87' (tag, 81 xx, 01 and
// the padded ciphertext) + DO'99' (4) + DO'8E' (10). With 8-byte blocks
// Ne 231 pads to 232 and gives 3+233+14 = 250 bytes, while 232 pads to 240
// and gives 258; with 16-byte blocks 223 pads to 224 (242 bytes) and 224
// pads to 240 (258). So it is 231 for TDES and 223 for AES. A command with
// a larger Ne is sent in the extended form.
func (s *Session) MaxShortLe() int { return s.maxShortLe }

// FitLe returns the largest Ne whose protected response carries at most n
// data bytes ([ResponseLen]), 0 when not even an empty response fits. A
// READ BINARY asking for it fills a buffer of n+2 bytes that the chip
// states in EF.ATR/INFO and no more.
func (s *Session) FitLe(n int, odd bool) int {
	return fitLe(s.suite, n, odd)
}

// LogValue keeps the session state out of structured logs.
func (s *Session) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print the keys.
func (s *Session) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// Close clears the session keys (best effort: the runtime may keep copies
// of transient cipher state). Later calls to Transmit return [ErrClosed].
// It does not close the wrapped transport.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ch.wipe()
	s.closed = true
	return nil
}

// Transmit protects the plain command APDU capdu, sends it and returns the
// plain response APDU (data ‖ SW1 SW2).
//
// An SM failure (see the package documentation), an unprotected 6987 or
// 6988, and any error of the wrapped transport once the command has been
// handed to it end the session: the error is stored and returned by every
// later call, and the keys are cleared. An unprotected answer with any other
// status word comes back as those two bytes with a nil error, the session
// stays usable and its SSC is restored to its value before the command.
// A malformed or unprotectable capdu, or a done ctx, is reported before
// anything is sent and leaves the session as it was.
func (s *Session) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case s.err != nil:
		return nil, s.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd, err := icao.ParseCommand(capdu)
	if err != nil {
		return nil, fmt.Errorf("sm: %w", err)
	}
	saved := s.ch.save()
	protected, err := s.ch.protectCommand(cmd, s.maxShortLe)
	if err != nil {
		s.ch.restore(saved)
		return nil, err
	}
	raw, err := s.exchange(ctx, protected)
	if err != nil {
		return nil, s.fail(fmt.Errorf("sm: transmit: %w", err))
	}
	return s.open(raw, saved)
}

// open turns the raw response to a protected command into the plain
// response, or into the session's permanent error.
func (s *Session) open(raw []byte, saved [16]byte) ([]byte, error) {
	r, err := icao.ParseResponse(raw)
	if err != nil {
		return nil, s.fail(fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	if len(r.Data) == 0 {
		switch {
		case r.SW == icao.StatusSMObjectsMissing || r.SW == icao.StatusSMObjectsIncorrect:
			return nil, s.fail(fmt.Errorf("%w: %w", ErrDropped, r.SW))
		case r.SW == icao.StatusOK:
			return nil, s.fail(fmt.Errorf("%w: 9000 without secure messaging", ErrMissing))
		case !validSW1(byte(r.SW >> 8)):
			return nil, s.fail(fmt.Errorf("%w: invalid status word", ErrMalformed))
		}
		// Rejected before SM processing: the chip did not count it.
		s.ch.restore(saved)
		return []byte{byte(r.SW >> 8), byte(r.SW)}, nil
	}
	plain, err := s.ch.unprotectResponse(r)
	if err != nil {
		return nil, s.fail(err)
	}
	return plain, nil
}

// fail makes err the session's permanent error and clears the keys.
func (s *Session) fail(err error) error {
	s.err = err
	s.ch.wipe()
	return err
}

// exchange sends capdu and collects a response that the chip splits with
// 61xx (icao.Collect): the pieces together are the protected response. A
// chip that never stops answering 61xx, or ends without a status word, is
// an SM error like any other malformed protected response.
func (s *Session) exchange(ctx context.Context, capdu []byte) ([]byte, error) {
	raw, err := icao.Collect(ctx, s.t, capdu)
	if errors.Is(err, icao.ErrTooManyResponses) || errors.Is(err, icao.ErrMalformedAPDU) {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return raw, err
}

// validSW1 reports whether b is a status byte SW1 of ISO/IEC 7816-4 §5.6:
// 61–6F or 90–9F (60 is a T=0 procedure byte).
func validSW1(b byte) bool {
	return b >= 0x61 && b <= 0x6F || b >= 0x90 && b <= 0x9F
}
