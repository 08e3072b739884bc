package sm

import (
	"bytes"
	"context"
	"testing"

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
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.Transmit(context.Background(), su.plain)
		if err != nil {
			if data != nil {
				t.Fatalf("data %x with error %v", data, err)
			}
			return
		}
		if len(data) < 2 {
			t.Fatalf("response %x without status word", data)
		}
		if len(resp) == 2 {
			if !bytes.Equal(data, resp) {
				t.Fatalf("bare status %x returned as %x", resp, data)
			}
			return
		}
		c, err := NewCard(su.keys)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Unwrap(su.protected); err != nil {
			t.Fatal(err)
		}
		again, err := c.Wrap(data)
		if err != nil || !bytes.Equal(again, resp) {
			t.Fatalf("accepted %x, card wraps %x as %x (%v)", resp, data, again, err)
		}
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
		if err != nil {
			t.Fatal(err)
		}
		plain, err := c.Unwrap(capdu)
		if err != nil {
			if plain != nil {
				t.Fatalf("plain %x with error %v", plain, err)
			}
			return
		}
		cmd, err := icao.ParseCommand(plain)
		if err != nil {
			t.Fatalf("Unwrap returned a malformed APDU %x: %v", plain, err)
		}
		var sent []byte
		s, err := NewSession(apdutest.Func(func(_ context.Context, b []byte) ([]byte, error) {
			sent = append([]byte(nil), b...)
			return []byte{0x6F, 0x00}, nil
		}), su.keys)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Transmit(context.Background(), plain); err != nil {
			t.Fatalf("session cannot send the plain command %x: %v", plain, err)
		}
		got, err1 := icao.ParseCommand(capdu)
		want, err2 := icao.ParseCommand(sent)
		if err1 != nil || err2 != nil || !bytes.Equal(got.Data, want.Data) ||
			got.CLA != want.CLA || got.INS != want.INS || got.P1 != want.P1 || got.P2 != want.P2 {
			t.Fatalf("card accepted %x for %x; the session sends %x", capdu, cmd, sent)
		}
	})
}
