package bac

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
	"github.com/nfcbridge/nfcbridge/sm"
)

// emulator is a minimal chip: BAC with Card, then secure messaging with
// sm.Card over a READ BINARY of one file.
type emulator struct {
	bac  *Card
	sm   *sm.Card
	file []byte
}

func sw(s icao.StatusWord) []byte { return []byte{byte(s >> 8), byte(s)} }

func (e *emulator) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	if e.sm != nil {
		plain, err := e.sm.Unwrap(capdu)
		if err != nil {
			e.sm = nil
			return sw(sm.CardStatus(err)), nil
		}
		cmd, err := icao.ParseCommand(plain)
		if err != nil {
			return nil, err
		}
		return e.sm.Wrap(e.read(cmd).Marshal())
	}
	cmd, err := icao.ParseCommand(capdu)
	if err != nil {
		return sw(icao.StatusWrongLength), nil
	}
	switch cmd.INS {
	case icao.InsGetChallenge:
		return append(e.bac.GetChallenge(), 0x90, 0), nil
	case icao.InsExternalAuthenticate:
		resp, keys, err := e.bac.ExternalAuthenticate(cmd.Data)
		switch {
		case errors.Is(err, ErrNoChallenge):
			return sw(icao.StatusConditionsNotMet), nil
		case err != nil:
			return sw(icao.StatusAuthFailed), nil
		}
		if e.sm, err = sm.NewCard(keys); err != nil {
			return nil, err
		}
		return append(resp, 0x90, 0), nil
	}
	return sw(icao.StatusSecurityNotSatisfied), nil
}

func (e *emulator) read(cmd icao.Command) icao.Response {
	if cmd.INS != icao.InsReadBinary {
		return icao.Response{SW: icao.StatusInsNotSupported}
	}
	off := int(cmd.P1)<<8 | int(cmd.P2)
	if off >= len(e.file) {
		return icao.Response{SW: icao.StatusWrongP1P2}
	}
	end := min(off+cmd.Ne, len(e.file))
	return icao.Response{Data: e.file[off:end], SW: icao.StatusOK}
}

const mrzInfo = "L898902C<369080619406236"

// TestOpenEmulator authenticates against the chip side with crypto/rand on
// both sides and reads a file of 1000 bytes under secure messaging.
func TestOpenEmulator(t *testing.T) {
	file := make([]byte, 1000)
	for i := range file {
		file[i] = byte(i * 13)
	}
	e := &emulator{bac: NewCard([]byte(mrzInfo), nil), file: file}
	ctx := context.Background()
	s, err := Open(ctx, e, []byte(mrzInfo), nil)
	require.NoError(t, err, "Open")
	var got []byte
	for len(got) < len(file) {
		cmd := icao.Command{INS: icao.InsReadBinary, P1: byte(len(got) >> 8), P2: byte(len(got)), Ne: s.MaxShortLe()}
		r, err := icao.Exchange(ctx, s, cmd)
		require.NoError(t, err, "READ BINARY")
		got = append(got, r.Data...)
	}
	assert.Equal(t, file, got, "file")
	_, err = icao.Exchange(ctx, s, icao.Command{INS: icao.InsReadBinary, P1: 0x7F, Ne: 1})
	assert.ErrorIs(t, err, icao.ErrWrongParameters, "offset beyond the file")
	require.NoError(t, s.Close(), "Close")
}

func TestOpenWrongMRZ(t *testing.T) {
	e := &emulator{bac: NewCard([]byte(mrzInfo), nil)}
	_, err := Open(context.Background(), e, []byte("L898902C<369080619406237"), nil)
	assert.ErrorIs(t, err, ErrAccessDenied, "Open")
	var s icao.StatusWord
	require.ErrorAs(t, err, &s, "error does not carry 6300")
	assert.Equal(t, icao.StatusAuthFailed, s, "error does not carry 6300")
}

// TestOpenChipAnswers scripts the chip's answers to GET CHALLENGE and
// EXTERNAL AUTHENTICATE and checks which error Open returns.
func TestOpenChipAnswers(t *testing.T) {
	v := load(t)
	d := v.D3
	challenge := d.GetChallengeResponse
	badMAC := append([]byte(nil), d.ExtAuthResponse...)
	badMAC[39] ^= 1
	badCrypt := append([]byte(nil), d.ExtAuthResponse...)
	badCrypt[0] ^= 1
	tests := []struct {
		name      string
		challenge []byte
		extAuth   []byte // nil: not sent
		target    error
		not       error
	}{
		{name: "GET CHALLENGE 6A88", challenge: sw(0x6A88), target: ErrNotSupported},
		{name: "GET CHALLENGE 6985", challenge: sw(0x6985), target: ErrNotSupported},
		{name: "GET CHALLENGE 6D00", challenge: sw(0x6D00), target: ErrNotSupported},
		{name: "GET CHALLENGE 6A81", challenge: sw(0x6A81), target: ErrNotSupported},
		{name: "GET CHALLENGE 6E00", challenge: sw(0x6E00), target: ErrNotSupported},
		{name: "GET CHALLENGE 6982", challenge: sw(0x6982), target: icao.ErrSecurityStatus, not: ErrNotSupported},
		{name: "short challenge", challenge: testvectors.Hex(t, "4608f9199000"), not: ErrNotSupported},
		{name: "long challenge", challenge: testvectors.Hex(t, "4608f919887022120000009000"), not: ErrNotSupported},
		{name: "EXTERNAL AUTHENTICATE 6300", challenge: challenge, extAuth: sw(0x6300), target: ErrAccessDenied},
		{name: "EXTERNAL AUTHENTICATE 63C2", challenge: challenge, extAuth: sw(0x63C2), target: ErrAccessDenied},
		{name: "EXTERNAL AUTHENTICATE 6985", challenge: challenge, extAuth: sw(0x6985), target: ErrAccessDenied},
		{name: "EXTERNAL AUTHENTICATE 6983 blocked", challenge: challenge, extAuth: sw(0x6983), target: ErrAccessDenied},
		{name: "EXTERNAL AUTHENTICATE 6A80", challenge: challenge, extAuth: sw(0x6A80), target: icao.ErrWrongParameters, not: ErrAccessDenied},
		{name: "bad chip MAC", challenge: challenge, extAuth: badMAC, target: ErrAccessDenied},
		{name: "bad chip cryptogram", challenge: challenge, extAuth: badCrypt, target: ErrAccessDenied},
		{name: "short chip answer", challenge: challenge, extAuth: d.ExtAuthResponse[10:], target: ErrAccessDenied},
		{name: "chip answer without data", challenge: challenge, extAuth: sw(0x9000), target: ErrAccessDenied},
		{name: "chip echoes another RND.IFD", challenge: challenge, extAuth: otherRndIFD(t, v), target: ErrAccessDenied},
		{name: "chip echoes another RND.IC", challenge: challenge, extAuth: otherRndIC(t, v), target: ErrAccessDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := apdutest.NewScript(t, apdutest.Exchange{Cmd: d.GetChallengeCommand, Resp: tc.challenge})
			if tc.extAuth != nil {
				sc.Add(apdutest.Exchange{Cmd: d.ExtAuthCommand, Resp: tc.extAuth})
			}
			rnd := bytes.NewReader(append(append([]byte(nil), d.RndIFD...), d.KIFD...))
			s, err := Open(context.Background(), sc, []byte(v.D2.MRZInformation), &Config{Rand: rnd})
			require.Error(t, err, "Open")
			require.Nil(t, s, "Open")
			if tc.target != nil {
				assert.ErrorIs(t, err, tc.target, "Open")
			}
			if tc.not != nil {
				assert.NotErrorIs(t, err, tc.not, "Open")
			}
		})
	}
}

// otherRndIFD is a chip answer with a valid MAC whose R holds a different
// RND.IFD than the terminal sent.
func otherRndIFD(t *testing.T, v bacVectors) []byte {
	r := append([]byte(nil), v.D3.R...)
	r[8] ^= 0xFF
	return sealed(t, v, r)
}

func otherRndIC(t *testing.T, v bacVectors) []byte {
	r := append([]byte(nil), v.D3.R...)
	r[0] ^= 0xFF
	return sealed(t, v, r)
}

func sealed(t *testing.T, v bacVectors, r []byte) []byte {
	enc, mac := DeriveKeys([]byte(v.D2.MRZInformation))
	b, err := seal(enc, mac, r)
	require.NoError(t, err, "seal")
	return append(b, 0x90, 0)
}

func TestOpenInputs(t *testing.T) {
	v := load(t)
	errTransport := errors.New("reader gone")
	tests := []struct {
		name   string
		t      icao.Transport
		mrz    string
		rand   []byte
		target error
	}{
		{name: "empty MRZ information", t: apdutest.NewScript(t), mrz: ""},
		{name: "random source fails", t: apdutest.NewScript(t, apdutest.Exchange{Resp: v.D3.GetChallengeResponse}), mrz: mrzInfo, rand: []byte{1, 2, 3}},
		{name: "transport error", t: apdutest.Fail(errTransport), mrz: mrzInfo, target: errTransport},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.t, []byte(tc.mrz), &Config{Rand: bytes.NewReader(tc.rand)})
			require.Error(t, err, "Open")
			require.Nil(t, s, "Open")
			if tc.target != nil {
				assert.ErrorIs(t, err, tc.target, "Open")
			}
			assert.NotContains(t, err.Error(), "L898902C", "error holds MRZ text")
		})
	}
}

// FuzzOpen feeds arbitrary chip answers to EXTERNAL AUTHENTICATE: Open
// must not panic and must return a session only for the genuine answer.
func FuzzOpen(f *testing.F) {
	v := load(f)
	d := v.D3
	f.Add([]byte(d.ExtAuthResponse))
	f.Add([]byte{0x63, 0x00})
	f.Add([]byte(d.ExtAuthResponse[:20]))
	f.Fuzz(func(t *testing.T, resp []byte) {
		n := 0
		chip := apdutest.Func(func(context.Context, []byte) ([]byte, error) {
			n++
			switch n {
			case 1:
				return bytes.Clone(d.GetChallengeResponse), nil
			case 2:
				return bytes.Clone(resp), nil
			}
			return sw(icao.StatusUnknown), nil // GET RESPONSE after 61xx
		})
		rnd := bytes.NewReader(append(append([]byte(nil), d.RndIFD...), d.KIFD...))
		s, err := Open(context.Background(), chip, []byte(v.D2.MRZInformation), &Config{Rand: rnd})
		if err != nil {
			require.Nil(t, s, "Open returned a session and an error")
			return
		}
		require.NotNil(t, s, "Open returned neither a session nor an error")
		require.Equal(t, []byte(d.ExtAuthResponse), resp, "accepted a forged answer")
	})
}
