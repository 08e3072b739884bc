// Package apdutest is the one test harness for code that talks to a chip
// through an icao.Transport: a scripted transport that replays exchanges
// and fails the test on a different command, a command out of order or an
// exchange left over (crypto/tls's replayingConn), an adapter from a plain
// function, a recorder, and the transcript files of testdata/transcripts.
//
// It is imported by tests only.
package apdutest

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
)

// ErrUnexpected is returned by [Script.Transmit] for a command the script
// does not hold at that point; the test has already been failed.
var ErrUnexpected = errors.New("apdutest: unexpected command")

// Exchange is one command a script expects and what it answers.
type Exchange struct {
	// Name labels the exchange in failure messages (optional).
	Name string
	// Cmd is the expected command APDU; nil accepts any command.
	Cmd []byte
	// Resp is the response APDU returned, copied.
	Resp []byte
	// Err, if set, is returned instead of Resp.
	Err error
}

// Script is a Transport that replays a list of exchanges in order. A
// command that differs from the expected one, or a command after the last
// exchange, fails the test; exchanges left over when the test ends fail it
// too. Steps may be appended with [Script.Add] while the test runs. A
// Script is safe for concurrent use, though the order of concurrent
// commands is then whatever it is.
type Script struct {
	t     testing.TB
	mu    sync.Mutex
	steps []Exchange
	n     int
}

// NewScript returns a Script holding steps that checks at the end of the
// test that every step was used.
func NewScript(t testing.TB, steps ...Exchange) *Script {
	t.Helper()
	s := &Script{t: t, steps: steps}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if left := len(s.steps) - s.n; left > 0 {
			t.Errorf("apdutest: %d of %d exchanges left over (next: %s)", left, len(s.steps), s.steps[s.n].label(s.n))
		}
	})
	return s
}

// Answers returns a Script that answers resps in order to any commands.
func Answers(t testing.TB, resps ...[]byte) *Script {
	t.Helper()
	steps := make([]Exchange, len(resps))
	for i, r := range resps {
		steps[i] = Exchange{Resp: r}
	}
	return NewScript(t, steps...)
}

// Add appends exchanges to the script.
func (s *Script) Add(steps ...Exchange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, steps...)
}

// Used returns how many exchanges have been replayed.
func (s *Script) Used() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Transmit checks capdu against the next exchange and returns its answer.
func (s *Script) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n >= len(s.steps) {
		s.t.Errorf("apdutest: command %d after the last exchange: %x", s.n+1, capdu)
		return nil, ErrUnexpected
	}
	want := s.steps[s.n]
	s.n++
	if want.Cmd != nil && !bytes.Equal(capdu, want.Cmd) {
		s.t.Errorf("apdutest: %s:\n got %x\nwant %x", want.label(s.n-1), capdu, want.Cmd)
		return nil, ErrUnexpected
	}
	if want.Err != nil {
		return nil, want.Err
	}
	return bytes.Clone(want.Resp), nil
}

func (e Exchange) label(i int) string {
	if e.Name != "" {
		return e.Name
	}
	return "exchange " + strconv.Itoa(i+1)
}

// Func adapts a plain function to a Transport.
type Func func(ctx context.Context, capdu []byte) ([]byte, error)

// Transmit calls f.
func (f Func) Transmit(ctx context.Context, capdu []byte) ([]byte, error) { return f(ctx, capdu) }

// Fail is a Transport whose every exchange fails with the error.
func Fail(err error) Func {
	return func(context.Context, []byte) ([]byte, error) { return nil, err }
}
