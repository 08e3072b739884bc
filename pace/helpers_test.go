package pace

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/sm"
)

// script is an io.Reader that returns the given byte strings in order and
// then fails, so a test notices when the code reads more randomness than
// the worked example supplies.
type script struct{ r io.Reader }

func newScript(parts ...[]byte) *script { return &script{r: bytes.NewReader(bytes.Join(parts, nil))} }

func (s *script) Read(p []byte) (int, error) { return s.r.Read(p) }

// fixedKeys is a keygen that returns the given private keys in order, for
// worked examples whose keys are longer than the group order (9303-11 H.2).
func fixedKeys(keys ...[]byte) keygen {
	return func(paceGroup, io.Reader) (*big.Int, error) {
		if len(keys) == 0 {
			return nil, errors.New("fixedKeys: no key left")
		}
		k := new(big.Int).SetBytes(keys[0])
		keys = keys[1:]
		return k, nil
	}
}

// exchange is one command the replay expects and the answer it gives.
type exchange struct {
	name       string
	cmd, resp  []byte
	anyCommand bool
}

// replay is a Transport that checks each command against a transcript and
// answers the recorded response, like crypto/tls's replayingConn.
type replay struct {
	t     testing.TB
	steps []exchange
	n     int
}

func (r *replay) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	r.t.Helper()
	if !assert.Less(r.t, r.n, len(r.steps), "replay: extra command %x", capdu) {
		return nil, errors.New("replay: extra command")
	}
	want := r.steps[r.n]
	r.n++
	if !want.anyCommand {
		assert.Equal(r.t, want.cmd, capdu, "replay: %s", want.name)
	}
	return bytes.Clone(want.resp), nil
}

func (r *replay) done() {
	r.t.Helper()
	assert.Equal(r.t, len(r.steps), r.n, "replay: exchanges used")
}

// loopback connects the terminal to a Card in-process. Once PACE is done it
// unwraps commands with an sm.Card and answers every plain command with its
// own data and 9000, so a test can check that both sides hold the same
// session keys. tamper, if set, may rewrite the card's answer to the n-th
// command (counting from 0: MSE:Set AT, then the four GENERAL AUTHENTICATE).
type loopback struct {
	card     *Card
	sm       *sm.Card
	n        int
	tamper   func(n int, cmd, resp []byte) []byte
	cardTime time.Duration
}

func (l *loopback) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	start := time.Now()
	defer func() { l.cardTime += time.Since(start) }()
	if l.sm != nil {
		return l.secure(capdu)
	}
	cmd, err := icao.ParseCommand(capdu)
	if err != nil {
		return nil, err
	}
	resp, keys, err := l.card.Handle(cmd)
	if err != nil {
		return nil, err
	}
	out := resp.Marshal()
	if l.tamper != nil {
		out = l.tamper(l.n, capdu, out)
	}
	l.n++
	if keys != nil {
		if l.sm, err = sm.NewCard(*keys); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (l *loopback) secure(capdu []byte) ([]byte, error) {
	plain, err := l.sm.Unwrap(capdu)
	if err != nil {
		return icao.Response{SW: sm.CardStatus(err)}.Marshal(), nil
	}
	cmd, err := icao.ParseCommand(plain)
	if err != nil {
		return nil, err
	}
	return l.sm.Wrap(icao.Response{Data: cmd.Data, SW: icao.StatusOK}.Marshal())
}

// checkSession sends one command through the PACE session and checks the
// card's echo, which works only if both sides derived the same keys.
func checkSession(t testing.TB, res *Result) {
	t.Helper()
	cmd := icao.Command{CLA: 0x00, INS: icao.InsSelect, P1: 0x02, P2: 0x0C, Data: []byte{0x01, 0x1E}}
	resp, err := icao.Exchange(context.Background(), res.Session, cmd)
	require.NoError(t, err, "command under secure messaging")
	require.Equal(t, cmd.Data, resp.Data, "secure messaging echo")
}

// paceOID returns id-PACE.m.c.
func paceInfo(mapArc, cipherArc, id int) Info {
	oid := append(oidPACE[:len(oidPACE):len(oidPACE)], mapArc, cipherArc)
	return Info{Protocol: oid, Version: 2, ParameterID: id}
}

// testMRZ is the MRZ_information of 9303-11 Appendix G.
const testMRZ = "T22000129364081251010318"

func mustCAN(t testing.TB, s string) Password {
	t.Helper()
	pw, err := CAN(s)
	require.NoError(t, err)
	return pw
}
