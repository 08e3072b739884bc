package sm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

// d4Step2 returns a session positioned before D.4 step 2 (READ BINARY of 4
// bytes), the plain command, the protected command it must send and the
// chip's genuine protected response.
func d4Step2(t *testing.T, sc *apdutest.Script) (s *Session, plain, protected, resp []byte) {
	t.Helper()
	var v smSession
	testvectors.Load(t, "sm_3des.json", &v)
	st := v.Steps[1]
	k := Keys{Suite: TDES, Enc: v.KSEnc, MAC: v.KSMAC, SSC: v.Steps[0].SSCResponse}
	s, err := NewSession(sc, k)
	require.NoError(t, err, "NewSession")
	return s, st.UnprotectedCommand, st.ProtectedCommand, st.ProtectedResponse
}

// checkDead checks that err is a sticky SM error: errors.Is icao.ErrSM and
// target, no data, the same error again without sending anything.
func checkDead(t *testing.T, s *Session, sc *apdutest.Script, data []byte, err, target error) {
	t.Helper()
	assert.Nil(t, data, "data returned with error %v", err)
	assert.ErrorIs(t, err, icao.ErrSM, "SM error")
	assert.ErrorIs(t, err, target, "which SM error")
	sent := sc.Used()
	again, err2 := s.Transmit(context.Background(), []byte{0, 0xB0, 0, 0, 4})
	assert.Nil(t, again, "second Transmit")
	assert.True(t, err2 == err, "second Transmit: %v; want the same sticky error %v", err2, err)
	assert.Equal(t, sent, sc.Used(), "a dead session sent a command")
	assert.True(t, s.ch.wiped(), "keys not cleared after an SM error")
}

// TestHostileBitFlips flips every bit of the genuine D.4 response: each
// must be caught and kill the session.
func TestHostileBitFlips(t *testing.T) {
	sc0 := apdutest.NewScript(t)
	_, _, _, resp := d4Step2(t, sc0)
	for i := range len(resp) * 8 {
		t.Run(fmt.Sprintf("bit%d", i), func(t *testing.T) {
			bad := append([]byte(nil), resp...)
			bad[i/8] ^= 1 << (i % 8)
			sc := apdutest.NewScript(t)
			s, plain, protected, _ := d4Step2(t, sc)
			sc.Add(apdutest.Exchange{Cmd: protected, Resp: bad})
			data, err := s.Transmit(context.Background(), plain)
			require.Error(t, err, "flipped response accepted: %x", data)
			checkDead(t, s, sc, data, err, icao.ErrSM)
		})
	}
}

func TestHostileResponses(t *testing.T) {
	tests := []struct {
		name   string
		resp   string
		target error
	}{
		{name: "missing DO'8E'", resp: "8709019ff0ec34f992265199029000" + "9000", target: ErrMissing},
		{name: "missing DO'99'", resp: "8709019ff0ec34f99226518e08ad55cc17140b2ded" + "9000", target: ErrMissing},
		{name: "only DO'99'", resp: "99029000" + "9000", target: ErrMissing},
		{name: "DO'8E' first", resp: "8e08ad55cc17140b2ded8709019ff0ec34f9922651990290009000", target: ErrMalformed},
		{name: "DO'99' before DO'87'", resp: "990290008709019ff0ec34f99226518e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "two DO'87'", resp: "8709019ff0ec34f99226518709019ff0ec34f9922651990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "unknown tag", resp: "8709019ff0ec34f9922651990290008e08ad55cc17140b2ded" + "0100" + "9000", target: ErrMalformed},
		{name: "DO'97' in a response", resp: "970100990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "four-byte length", resp: "8784ffffffff019ff0ec34f9922651990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "indefinite length", resp: "8780019ff0ec34f9922651990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "length beyond the data", resp: "8782ffff019ff0ec34f9922651990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "81 length beyond the data", resp: "8781ff019ff0ec34f9922651990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "short DO'8E'", resp: "8709019ff0ec34f992265199029000" + "8e04ad55cc17" + "9000", target: ErrMalformed},
		{name: "long DO'8E'", resp: "8709019ff0ec34f992265199029000" + "8e09ad55cc17140b2ded00" + "9000", target: ErrMalformed},
		{name: "DO'99' of 3 bytes", resp: "8709019ff0ec34f99226519903900000" + "8e08ad55cc17140b2ded" + "9000", target: ErrMalformed},
		{name: "padding indicator 02", resp: "8709029ff0ec34f9922651990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "DO'87' with indicator only", resp: "870101990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "empty DO'87'", resp: "8700990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "cryptogram not block aligned", resp: "8708019ff0ec34f99226990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "DO'85' not block aligned", resp: "85079ff0ec34f99226990290008e08ad55cc17140b2ded9000", target: ErrMalformed},
		{name: "trailing byte", resp: "8709019ff0ec34f9922651990290008e08ad55cc17140b2ded00" + "9000", target: ErrMalformed},
		{name: "one data byte", resp: "879000", target: ErrMalformed},
		{name: "one byte", resp: "90", target: ErrMalformed},
		{name: "empty", resp: "", target: ErrMalformed},
		{name: "DO'87' re-tagged DO'85'", resp: "85089ff0ec34f9922651990290008e08ad55cc17140b2ded9000", target: ErrMAC},
		{name: "outer SW differs", resp: "8709019ff0ec34f9922651990290008e08ad55cc17140b2ded6282", target: ErrStatus},
		{name: "unprotected 9000", resp: "9000", target: ErrMissing},
		{name: "unprotected 6987", resp: "6987", target: ErrDropped},
		{name: "unprotected 6988", resp: "6988", target: ErrDropped},
		{name: "invalid bare status", resp: "8709", target: ErrMalformed},
		{name: "bare status 6000", resp: "6000", target: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := apdutest.NewScript(t)
			s, plain, protected, _ := d4Step2(t, sc)
			sc.Add(apdutest.Exchange{Cmd: protected, Resp: testvectors.Hex(t, tc.resp)})
			data, err := s.Transmit(context.Background(), plain)
			checkDead(t, s, sc, data, err, tc.target)
		})
	}
}

// TestHostileOuterStatus uses the chip's own wrapping of a 6282 answer and
// rewrites only the outer status word: the MAC verifies, DO'99' differs.
func TestHostileOuterStatus(t *testing.T) {
	for _, su := range suites {
		t.Run(su.name, func(t *testing.T) {
			handler := func(icao.Command) icao.Response {
				return icao.Response{Data: pattern(3, 1), SW: icao.StatusEndOfFile}
			}
			s, c := pair(t, testKeys(su.suite, su.keyLen), handler)
			sc := apdutest.NewScript(t)
			tam := &tamper{inner: c, fn: func(_ int, r []byte) []byte {
				r[len(r)-2], r[len(r)-1] = 0x90, 0x00
				return r
			}}
			s.t = tam
			data, err := s.Transmit(context.Background(), []byte{0, 0xB0, 0, 0, 8})
			checkDead(t, s, sc, data, err, ErrStatus)
		})
	}
}

// TestHostilePadding answers with a correctly MACed cryptogram whose
// plaintext has no method 2 padding.
func TestHostilePadding(t *testing.T) {
	for _, su := range suites {
		for _, plainHex := range []string{
			"41424344454647484142434445464748",                   // no padding at all
			"41424344454647484142434445464700",                   // zeros without 80
			"4142434445464748" + "80" + strings.Repeat("00", 23), // padding longer than a block
			"00000000000000000000000000000000",                   // all zeros
		} {
			t.Run(su.name+"/"+plainHex, func(t *testing.T) {
				s, c := pair(t, testKeys(su.suite, su.keyLen), echo)
				s.t = &forge{card: c.card, body: func(ch *channel) []byte {
					iv, _ := ch.iv()
					ct, err := EncryptCBC(ch.suite, ch.encKey(), iv, testvectors.Hex(t, plainHex))
					require.NoError(t, err, "encrypt")
					body := appendCryptogram(nil, ct, false)
					return append(body, 0x99, 2, 0x90, 0)
				}}
				data, err := s.Transmit(context.Background(), []byte{0, 0xB0, 0, 0, 16})
				checkDead(t, s, apdutest.NewScript(t), data, err, ErrMalformed)
			})
		}
	}
}

// tamper passes commands to inner and rewrites the n-th response.
type tamper struct {
	inner icao.Transport
	n     int
	fn    func(n int, resp []byte) []byte
}

func (tm *tamper) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	r, err := tm.inner.Transmit(ctx, capdu)
	tm.n++
	if err != nil {
		return nil, err
	}
	return tm.fn(tm.n, r), nil
}

// forge unwraps the command with a genuine Card and answers with a body
// built from the card's channel, MACed correctly.
type forge struct {
	card *Card
	body func(ch *channel) []byte
}

func (f *forge) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	if _, err := f.card.Unwrap(capdu); err != nil {
		return nil, err
	}
	ch := &f.card.ch
	ch.incSSC()
	body := f.body(ch)
	cc, err := ch.checksum(body)
	if err != nil {
		return nil, err
	}
	body = append(body, 0x8E, 8)
	body = append(body, cc...)
	return append(body, 0x90, 0), nil
}

// TestUnprotectedStatus checks that a bare status word other than
// 9000/6987/6988 is returned as a StatusWord, keeps the session and
// restores the SSC, so the next command works with a chip that did not
// count the rejected one.
func TestUnprotectedStatus(t *testing.T) {
	tests := []struct {
		name   string
		sw     icao.StatusWord
		target error
	}{
		{name: "6700 wrong length", sw: icao.StatusWrongLength, target: icao.ErrLength},
		{name: "6282 end of file", sw: icao.StatusEndOfFile, target: icao.ErrEndOfFile},
		{name: "6B00 wrong P1P2", sw: icao.StatusWrongP1P2, target: icao.ErrWrongParameters},
		{name: "6A82 not found", sw: icao.StatusFileNotFound, target: icao.ErrNotFound},
		{name: "6982 security status", sw: icao.StatusSecurityNotSatisfied, target: icao.ErrSecurityStatus},
		{name: "6Cxx exact length", sw: 0x6CDF, target: icao.ErrLength},
	}
	for _, su := range suites {
		for _, tc := range tests {
			t.Run(su.name+"/"+tc.name, func(t *testing.T) {
				s, c := pair(t, testKeys(su.suite, su.keyLen), echo)
				before := sscOf(s)
				sent := 0
				s.t = apdutest.Func(func(ctx context.Context, capdu []byte) ([]byte, error) {
					sent++
					if sent == 1 { // rejected before SM processing
						return []byte{byte(tc.sw >> 8), byte(tc.sw)}, nil
					}
					return c.Transmit(ctx, capdu)
				})
				ctx := context.Background()
				_, err := icao.Exchange(ctx, s, icao.Command{INS: icao.InsReadBinary, Ne: 256})
				assert.ErrorIs(t, err, tc.target, "first exchange")
				var sw icao.StatusWord
				assert.ErrorAs(t, err, &sw, "first exchange")
				assert.Equal(t, tc.sw, sw, "error %v is not StatusWord %04x", err, uint16(tc.sw))
				assert.NotErrorIs(t, err, icao.ErrSM, "a bare status must not be an SM error")
				assert.Equal(t, before, sscOf(s), "SSC restored")
				r, err := icao.Exchange(ctx, s, icao.Command{INS: icao.InsReadBinary, Ne: 223})
				require.NoError(t, err, "next exchange")
				assert.Equal(t, pattern(223, icao.InsReadBinary), r.Data, "next data")
			})
		}
	}
}

// TestDroppedIsStatusWord checks that the sticky error for a bare 6987
// still carries the status word.
func TestDroppedIsStatusWord(t *testing.T) {
	sc := apdutest.NewScript(t)
	s, plain, protected, _ := d4Step2(t, sc)
	sc.Add(apdutest.Exchange{Cmd: protected, Resp: []byte{0x69, 0x88}})
	_, err := s.Transmit(context.Background(), plain)
	var sw icao.StatusWord
	require.ErrorAs(t, err, &sw, "error does not carry 6988")
	require.Equal(t, icao.StatusSMObjectsIncorrect, sw, "error does not carry 6988")
	assert.ErrorIs(t, err, ErrDropped, "ErrDropped")
}

// TestTransportErrorIsSticky: once a command was handed to the transport,
// a failure leaves the SSC unknown, so the session ends.
func TestTransportErrorIsSticky(t *testing.T) {
	errGone := errors.New("card removed")
	sc := apdutest.NewScript(t)
	s, plain, _, _ := d4Step2(t, sc)
	s.t = apdutest.Fail(errGone)
	_, err := s.Transmit(context.Background(), plain)
	assert.ErrorIs(t, err, errGone, "transport error")
	_, err2 := s.Transmit(context.Background(), plain)
	assert.True(t, err2 == err, "second Transmit: %v; want the same sticky error %v", err2, err)
}

// TestGetResponse: a chip that splits the protected response with 61xx is
// completed with plain GET RESPONSE commands.
func TestGetResponse(t *testing.T) {
	for _, su := range suites {
		t.Run(su.name, func(t *testing.T) {
			s, c := pair(t, testKeys(su.suite, su.keyLen), echo)
			var pending []byte
			var gets [][]byte
			s.t = apdutest.Func(func(ctx context.Context, capdu []byte) ([]byte, error) {
				if capdu[1] == icao.InsGetResponse {
					gets = append(gets, capdu)
					n := min(len(pending), 100)
					out := append([]byte(nil), pending[:n]...)
					pending = pending[n:]
					if len(pending) == 0 {
						return append(out, 0x90, 0), nil
					}
					return append(out, 0x61, byte(min(len(pending), 100))), nil
				}
				r, err := c.Transmit(ctx, capdu)
				if err != nil {
					return nil, err
				}
				pending = r[:len(r)-2]
				return []byte{0x61, 0x00}, nil
			})
			got, err := s.Transmit(context.Background(), []byte{0, 0xB0, 0, 0, 200})
			require.NoError(t, err, "Transmit")
			assert.Equal(t, append(pattern(200, 0xB0), 0x90, 0), got, "response")
			require.GreaterOrEqual(t, len(gets), 2, "GET RESPONSE commands")
			assert.Equal(t, []byte{0, 0xC0, 0, 0, 0}, gets[0], "first GET RESPONSE")
		})
	}
}

func TestGetResponseForever(t *testing.T) {
	s, _ := pair(t, testKeys(AES, 16), echo)
	s.t = apdutest.Func(func(context.Context, []byte) ([]byte, error) { return []byte{1, 0x61, 0x10}, nil })
	_, err := s.Transmit(context.Background(), []byte{0, 0xB0, 0, 0, 4})
	assert.ErrorIs(t, err, ErrMalformed, "endless 61xx")
}

// TestCardHostile feeds the card side damaged versions of the D.4 SELECT
// command: every one fails with a sticky SM error and the status word the
// chip should answer.
func TestCardHostile(t *testing.T) {
	var v smSession
	testvectors.Load(t, "sm_3des.json", &v)
	good := []byte(v.Steps[0].ProtectedCommand)
	tests := []struct {
		name   string
		capdu  []byte
		target error
		sw     icao.StatusWord
	}{
		{name: "plain command", capdu: v.Steps[0].UnprotectedCommand, target: ErrMissing, sw: 0x6987},
		{name: "no DO'8E'", capdu: testvectors.Hex(t, "0ca4020c0b8709016375432908c044f600"), target: ErrMissing, sw: 0x6987},
		{name: "bad MAC", capdu: flip(good, len(good)-2), target: ErrMAC, sw: 0x6988},
		{name: "header changed", capdu: flip(good, 2), target: ErrMAC, sw: 0x6988},
		{name: "cryptogram changed", capdu: flip(good, 8), target: ErrMAC, sw: 0x6988},
		{name: "DO'97' after DO'8E'", capdu: testvectors.Hex(t, "0ca4020c188709016375432908c044f68e08bf8b92d635ff24f897010000"), target: ErrMalformed, sw: 0x6988},
		{name: "DO'97' of 3 bytes", capdu: testvectors.Hex(t, "0ca4020c0f97030000008e08bf8b92d635ff24f800"), target: ErrMalformed, sw: 0x6988},
		{name: "DO'99' in a command", capdu: testvectors.Hex(t, "0ca4020c0e990290008e08bf8b92d635ff24f800"), target: ErrMalformed, sw: 0x6988},
		{name: "malformed APDU", capdu: []byte{0x0c, 0xa4}, target: ErrMalformed, sw: 0x6988},
		{name: "Lc mismatch", capdu: testvectors.Hex(t, "0ca4020c208709016375432908c044f600"), target: ErrMalformed, sw: 0x6988},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCard(Keys{Suite: TDES, Enc: v.KSEnc, MAC: v.KSMAC, SSC: v.SSCInitial})
			require.NoError(t, err, "NewCard")
			plain, err := c.Unwrap(tc.capdu)
			assert.Nil(t, plain, "plain with error")
			assert.ErrorIs(t, err, tc.target, "Unwrap")
			assert.ErrorIs(t, err, icao.ErrSM, "Unwrap")
			assert.Equal(t, tc.sw, CardStatus(err), "CardStatus")
			_, err2 := c.Unwrap(good)
			assert.True(t, err2 == err, "card accepted a command after an SM error: %v", err2)
			_, err2 = c.Wrap([]byte{0x90, 0})
			assert.True(t, err2 == err, "card wrapped after an SM error: %v", err2)
		})
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x01
	return out
}

func TestCardOrder(t *testing.T) {
	c, err := NewCard(testKeys(AES, 16))
	require.NoError(t, err, "NewCard")
	_, err = c.Wrap([]byte{0x90, 0})
	assert.Error(t, err, "Wrap without Unwrap")
	assert.NotErrorIs(t, err, icao.ErrSM, "Wrap without Unwrap")
	require.NoError(t, c.Close(), "Close")
	_, err = c.Unwrap([]byte{0x0c, 0xb0, 0, 0, 0})
	assert.ErrorIs(t, err, ErrClosed, "Unwrap after Close")
}

// wiped reports whether the channel's keys were cleared.
func (c *channel) wiped() bool { return c.keyLen == 0 }
