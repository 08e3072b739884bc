package sm

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
)

// fuzzSetup is a vector session positioned before one of its steps.
type fuzzSetup struct {
	keys      Keys // SSC before the step's command
	plain     []byte
	protected []byte
	response  []byte
}

// fuzzSetups returns, for each vector session, its step 2 (a READ BINARY
// with response data) and its step 1 (a SELECT answered without data).
func fuzzSetups(t testing.TB) []fuzzSetup {
	var out []fuzzSetup
	for _, v := range loadSessions(t) {
		k := v.keys(t)
		for i := range min(len(v.Steps), 2) {
			if i > 0 {
				k.SSC = v.Steps[i-1].SSCResponse
			}
			st := v.Steps[i]
			out = append(out, fuzzSetup{keys: k, plain: st.UnprotectedCommand, protected: st.ProtectedCommand, response: st.ProtectedResponse})
		}
	}
	return out
}

// FuzzUnwrapResponse feeds arbitrary response bytes to a Session: it must
// never panic, must return either an error and no data or a response of at
// least a status word, and what it accepts must be what the Card produces
// for the same plain response.
func FuzzUnwrapResponse(f *testing.F) {
	setups := fuzzSetups(f)
	for i, s := range setups {
		f.Add(uint8(i), s.response)
		f.Add(uint8(i), []byte{0x67, 0x00})
		f.Add(uint8(i), []byte{0x69, 0x88})
		f.Add(uint8(i), s.response[:len(s.response)/2])
	}
	f.Fuzz(func(t *testing.T, which uint8, resp []byte) {
		su := setups[int(which)%len(setups)]
		s, err := NewSession(apdutest.Func(func(context.Context, []byte) ([]byte, error) {
			return append([]byte(nil), resp...), nil
		}), su.keys)
		require.NoError(t, err)
		data, err := s.Transmit(context.Background(), su.plain)
		if err != nil {
			require.Nil(t, data, "data with error %v", err)
			return
		}
		require.GreaterOrEqual(t, len(data), 2, "response %x without status word", data)
		if len(resp) == 2 {
			require.Equal(t, resp, data, "bare status returned changed")
			return
		}
		c, err := NewCard(su.keys)
		require.NoError(t, err)
		_, err = c.Unwrap(su.protected)
		require.NoError(t, err)
		again, err := c.Wrap(data)
		require.NoError(t, err, "card cannot wrap the accepted %x", data)
		require.Equal(t, resp, again, "accepted %x, but the card wraps %x otherwise", resp, data)
	})
}

// FuzzCardUnwrap feeds arbitrary command bytes to a Card: no panic, no
// plain command with an error, a plain command that parses, and what it
// accepts matches what a Session sends for that plain command (up to the
// outer Le and length encoding, which the MAC does not cover).
func FuzzCardUnwrap(f *testing.F) {
	setups := fuzzSetups(f)
	for i, s := range setups {
		f.Add(uint8(i), s.protected)
		f.Add(uint8(i), s.plain)
		f.Add(uint8(i), s.protected[:len(s.protected)-3])
	}
	f.Fuzz(func(t *testing.T, which uint8, capdu []byte) {
		su := setups[int(which)%len(setups)]
		c, err := NewCard(su.keys)
		require.NoError(t, err)
		plain, err := c.Unwrap(capdu)
		if err != nil {
			require.Nil(t, plain, "plain with error %v", err)
			return
		}
		cmd, err := icao.ParseCommand(plain)
		require.NoError(t, err, "Unwrap returned a malformed APDU %x", plain)
		var sent []byte
		s, err := NewSession(apdutest.Func(func(_ context.Context, b []byte) ([]byte, error) {
			sent = append([]byte(nil), b...)
			return []byte{0x6F, 0x00}, nil
		}), su.keys)
		require.NoError(t, err)
		_, err = s.Transmit(context.Background(), plain)
		require.NoError(t, err, "session cannot send the plain command %x", plain)
		got, err := icao.ParseCommand(capdu)
		require.NoError(t, err, "card accepted %x for %x", capdu, cmd)
		want, err := icao.ParseCommand(sent)
		require.NoError(t, err, "the session sends %x for %x", sent, cmd)
		msg := fmt.Sprintf("card accepted %x for %x; the session sends %x", capdu, cmd, sent)
		require.Equal(t, [4]byte{want.CLA, want.INS, want.P1, want.P2}, [4]byte{got.CLA, got.INS, got.P1, got.P2}, msg)
		require.True(t, bytes.Equal(want.Data, got.Data), msg)
	})
}
