package sm

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
)

// suites are the suite and key length combinations under test.
var suites = []struct {
	name   string
	suite  Suite
	keyLen int
}{
	{"3des", TDES, 16},
	{"aes-128", AES, 16},
	{"aes-192", AES, 24},
	{"aes-256", AES, 32},
}

// readOdd answers an odd-INS READ BINARY (B1) with Ne bytes of file data in
// DO'53' (9303-10 §3.5.2, ISO/IEC 7816-4 §11.2.3); everything else echoes.
func readOdd(cmd icao.Command) icao.Response {
	if cmd.INS != icao.InsReadBinaryOdd {
		return echo(cmd)
	}
	n := cmd.Ne - 4 // 53 82 xx xx
	if cmd.Ne <= 129 {
		n = cmd.Ne - 2
	} else if cmd.Ne <= 258 {
		n = cmd.Ne - 3
	}
	var data []byte
	data = append(data, 0x53)
	switch {
	case n < 0x80:
		data = append(data, byte(n))
	case n <= 0xFF:
		data = append(data, 0x81, byte(n))
	default:
		data = append(data, 0x82, byte(n>>8), byte(n))
	}
	return icao.Response{Data: append(data, pattern(n, 0x53)...), SW: icao.StatusOK}
}

// TestRoundTrip sends every APDU case through a Session to a Card and
// checks that the card's handler sees the plain command, the session
// returns the plain response, and the protected APDU has the expected form.
func TestRoundTrip(t *testing.T) {
	big := pattern(300, 9)
	odd54 := []byte{0x54, 0x02, 0x01, 0x00}
	for _, su := range suites {
		k := testKeys(su.suite, su.keyLen)
		max := maxShortLe(su.suite)
		tests := []struct {
			name     string
			cmd      icao.Command
			extended bool
			tag      byte // tag of the cryptogram in the command, 0 = none
		}{
			{name: "case 1", cmd: icao.Command{INS: 0xA4, P1: 0x00, P2: 0x0C}},
			{name: "case 2S", cmd: icao.Command{INS: icao.InsReadBinary, Ne: 4}},
			{name: "case 2S Ne=1", cmd: icao.Command{INS: icao.InsReadBinary, Ne: 1}},
			{name: "case 2S Ne=MaxShortLe", cmd: icao.Command{INS: icao.InsReadBinary, Ne: max}},
			{name: "case 2 Ne=MaxShortLe+1", cmd: icao.Command{INS: icao.InsReadBinary, Ne: max + 1}, extended: true},
			{name: "case 2 Ne=256", cmd: icao.Command{INS: icao.InsReadBinary, Ne: 256}, extended: true},
			{name: "case 3S", cmd: icao.Command{INS: icao.InsSelect, P1: 2, P2: 0x0C, Data: []byte{1, 0x1E}}, tag: 0x87},
			{name: "case 3S block aligned", cmd: icao.Command{INS: 0xDA, Data: pattern(16, 1)}, tag: 0x87},
			{name: "case 4S", cmd: icao.Command{INS: icao.InsInternalAuthenticate, Data: pattern(8, 3), Ne: 8}, tag: 0x87},
			{name: "case 2E", cmd: icao.Command{INS: icao.InsReadBinary, Ne: 1000}, extended: true},
			{name: "case 2E Ne=65536", cmd: icao.Command{INS: icao.InsReadBinary, Ne: 65536}, extended: true},
			{name: "case 3E", cmd: icao.Command{INS: 0xDA, Data: big}, extended: true, tag: 0x87},
			{name: "case 4E", cmd: icao.Command{INS: 0xDA, Data: big, Ne: 500}, extended: true, tag: 0x87},
			{name: "case 4E short Ne", cmd: icao.Command{INS: 0xDA, Data: big, Ne: 16}, extended: true, tag: 0x87},
			{name: "odd INS B1 DO'54'", cmd: icao.Command{INS: icao.InsReadBinaryOdd, Data: odd54, Ne: 200}, tag: 0x85},
			{name: "odd INS B1 extended", cmd: icao.Command{INS: icao.InsReadBinaryOdd, Data: odd54, Ne: 4000}, extended: true, tag: 0x85},
			{name: "logical channel 1", cmd: icao.Command{CLA: 0x01, INS: icao.InsReadBinary, Ne: 8}},
		}
		for _, tc := range tests {
			t.Run(su.name+"/"+tc.name, func(t *testing.T) {
				s, c := pair(t, k, readOdd)
				raw, err := tc.cmd.Marshal()
				require.NoError(t, err, "marshal")
				got, err := s.Transmit(context.Background(), raw)
				require.NoError(t, err, "Transmit")
				assert.Equal(t, readOdd(tc.cmd).Marshal(), got, "plain response")
				require.Len(t, c.plain, 1, "commands the card saw")
				seen, _ := c.plain[0].Marshal()
				assert.Equal(t, raw, seen, "plain command at the card")
				checkProtectedForm(t, c.protected[0], tc.cmd, tc.extended, tc.tag)
				if tc.cmd.Ne > 0 && tc.tag != 0 {
					assert.Equal(t, tc.tag, c.responses[0][0], "response cryptogram tag")
				}
				if tc.cmd.Ne > 0 && tc.cmd.Ne <= max {
					assert.LessOrEqual(t, len(c.responses[0]), 258, "protected response bytes for Ne %d", tc.cmd.Ne)
				}
			})
		}
	}
}

// checkProtectedForm checks CLA, the Le form and the cryptogram tag of a
// protected command.
func checkProtectedForm(t *testing.T, protected []byte, plain icao.Command, extended bool, tag byte) {
	t.Helper()
	p, err := icao.ParseCommand(protected)
	require.NoError(t, err, "protected APDU")
	assert.Equal(t, plain.CLA|0x0C, p.CLA, "CLA")
	wantNe := 256
	if extended {
		wantNe = 65536
	}
	assert.Equal(t, wantNe, p.Ne, "protected Ne")
	assert.Equal(t, extended, p.Extended(), "protected APDU extended")
	if tag == 0 {
		assert.NotEqual(t, byte(0x85), p.Data[0], "unexpected cryptogram")
		assert.NotEqual(t, byte(0x87), p.Data[0], "unexpected cryptogram")
		return
	}
	assert.Equal(t, tag, p.Data[0], "cryptogram tag")
}

// TestRoundTripSequence runs many commands through one session so that the
// SSCs of both sides must stay in step, including across error statuses.
func TestRoundTripSequence(t *testing.T) {
	for _, su := range suites {
		t.Run(su.name, func(t *testing.T) {
			handler := func(cmd icao.Command) icao.Response {
				if cmd.P1 == 0x7F {
					return icao.Response{SW: icao.StatusFileNotFound}
				}
				if cmd.P1 == 0x7E {
					return icao.Response{Data: pattern(3, 0), SW: icao.StatusEndOfFile}
				}
				return echo(cmd)
			}
			s, _ := pair(t, testKeys(su.suite, su.keyLen), handler)
			ctx := context.Background()
			for i := range 300 {
				cmd := icao.Command{INS: icao.InsReadBinary, P1: byte(i % 3), Ne: 1 + i%250}
				if i%17 == 0 {
					cmd.P1 = 0x7F
				}
				if i%19 == 0 {
					cmd.P1 = 0x7E
				}
				r, err := icao.Exchange(ctx, s, cmd)
				switch cmd.P1 {
				case 0x7F:
					assert.ErrorIs(t, err, icao.ErrNotFound, "protected 6A82")
				case 0x7E:
					assert.ErrorIs(t, err, icao.ErrEndOfFile, "protected 6282")
					assert.Equal(t, pattern(3, 0), r.Data, "6282 data")
				default:
					require.NoError(t, err, "command %d", i)
					assert.Equal(t, pattern(cmd.Ne, cmd.INS), r.Data, "data")
				}
			}
		})
	}
}

func TestTransmitRejectsBeforeSending(t *testing.T) {
	for _, su := range suites {
		k := testKeys(su.suite, su.keyLen)
		tests := []struct {
			name   string
			capdu  []byte
			target error
		}{
			{name: "malformed APDU", capdu: []byte{0, 0xB0, 0}, target: icao.ErrMalformedAPDU},
			{name: "SM bits already set", capdu: []byte{0x0C, 0xB0, 0, 0, 4}, target: ErrUnsupportedCommand},
			{name: "chaining", capdu: []byte{0x10, 0xB0, 0, 0, 4}, target: ErrUnsupportedCommand},
			{name: "proprietary class", capdu: []byte{0x80, 0xB0, 0, 0, 4}, target: ErrUnsupportedCommand},
			{name: "data too large", capdu: mustMarshal(t, icao.Command{INS: 0xDA, Data: make([]byte, 65530)}), target: ErrUnsupportedCommand},
		}
		for _, tc := range tests {
			t.Run(su.name+"/"+tc.name, func(t *testing.T) {
				s, c := pair(t, k, echo)
				_, err := s.Transmit(context.Background(), tc.capdu)
				assert.ErrorIs(t, err, tc.target, "Transmit")
				require.Empty(t, c.protected, "something was sent")
				// The session is intact and in step with the card.
				got, err := s.Transmit(context.Background(), []byte{0, 0xB0, 0, 0, 4})
				require.NoError(t, err, "next Transmit")
				assert.Equal(t, append(pattern(4, 0xB0), 0x90, 0), got, "next response")
			})
		}
	}
}

func mustMarshal(t testing.TB, c icao.Command) []byte {
	t.Helper()
	b, err := c.Marshal()
	require.NoError(t, err, "marshal")
	return b
}

func TestTransmitContextDone(t *testing.T) {
	s, c := pair(t, testKeys(AES, 16), echo)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Transmit(ctx, []byte{0, 0xB0, 0, 0, 4})
	assert.ErrorIs(t, err, context.Canceled, "cancelled ctx")
	require.Empty(t, c.protected, "sent with a done context")
	_, err = s.Transmit(context.Background(), []byte{0, 0xB0, 0, 0, 4})
	require.NoError(t, err, "after cancel")
}

func TestClose(t *testing.T) {
	s, _ := pair(t, testKeys(TDES, 16), echo)
	require.NoError(t, s.Close(), "Close")
	require.NoError(t, s.Close(), "second Close")
	_, err := s.Transmit(context.Background(), []byte{0, 0xB0, 0, 0, 4})
	assert.ErrorIs(t, err, ErrClosed, "Transmit after Close")
	assert.Zero(t, s.ch.keyLen, "keys not cleared")
	assert.Zero(t, s.ch.enc, "keys not cleared")
	assert.Zero(t, s.ch.mac, "keys not cleared")
	assert.NotErrorIs(t, err, icao.ErrSM, "ErrClosed is not an SM error")
}

func TestLogValue(t *testing.T) {
	s, c := pair(t, testKeys(TDES, 16), echo)
	k := testKeys(AES, 16)
	for name, v := range map[string]string{
		"Keys":        k.LogValue().String(),
		"Session":     s.LogValue().String(),
		"Card":        c.card.LogValue().String(),
		"Keys %v":     fmt.Sprintf("%v", k),
		"Keys %+v":    fmt.Sprintf("%+v", k),
		"Keys %x":     fmt.Sprintf("%x", k),
		"Session %#v": fmt.Sprintf("%#v", s),
		"Card %v":     fmt.Sprintf("%v", c.card),
	} {
		assert.Equal(t, "redacted", v, "%s prints", name)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "keys", k, "session", s)
	assert.Contains(t, buf.String(), "keys=redacted session=redacted", "slog output")
}

// TestConcurrentTransmit sends from several goroutines; the session must
// serialise them so that both SSCs stay in step (run with -race).
func TestConcurrentTransmit(t *testing.T) {
	s, _ := pair(t, testKeys(AES, 32), echo)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 20 {
				ne := 1 + (g*20+i)%200
				r, err := icao.Exchange(context.Background(), s, icao.Command{INS: icao.InsReadBinary, Ne: ne})
				if err == nil && !bytes.Equal(r.Data, pattern(ne, icao.InsReadBinary)) {
					err = fmt.Errorf("wrong data for Ne %d", ne)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		require.NoError(t, <-errs, "goroutine")
	}
}
