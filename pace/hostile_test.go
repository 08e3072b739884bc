package pace

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// Command indexes of a PACE run, as loopback counts them.
const (
	stepMSE = iota
	stepNonce
	stepMap
	stepAgree
	stepAuth
)

// at rewrites the answer to one command.
func at(step int, f func(cmd, resp []byte) []byte) func(int, []byte, []byte) []byte {
	return func(n int, cmd, resp []byte) []byte {
		if n != step {
			return resp
		}
		return f(cmd, resp)
	}
}

// answer replaces the answer with a 7C holding one data object and 9000.
func answer(tag tlv.Tag, v []byte) func(cmd, resp []byte) []byte {
	return func([]byte, []byte) []byte { return append(authObject(tag, v), 0x90, 0x00) }
}

// editDO rewrites the value of tag in the answer's 7C.
func editDO(tag tlv.Tag, f func(v []byte) []byte) func(cmd, resp []byte) []byte {
	return func(_, resp []byte) []byte {
		a, err := parseAuthData(resp[:len(resp)-2])
		if err != nil {
			panic(err)
		}
		v, _ := a.get(tag)
		a.set(tag, f(bytes.Clone(v)))
		return append(a.encode(), 0x90, 0x00)
	}
}

// sw replaces the answer with a bare status word.
func sw(s icao.StatusWord) func(cmd, resp []byte) []byte {
	return func([]byte, []byte) []byte { return icao.Response{SW: s}.Marshal() }
}

func flipLast(v []byte) []byte { v[len(v)-1] ^= 1; return v }

// hostileCase is one tampered answer and the error Open must return.
type hostileCase struct {
	name   string
	info   Info
	tamper func(int, []byte, []byte) []byte
	want   error
	sw     icao.StatusWord // also wrapped, when not 0
}

func hostileCases() []hostileCase {
	ec := paceInfo(arcECDHGM, 2, 13)
	bp := func() *big.Int { c, _ := standardCurve(13); return c.p }()
	dh := paceInfo(arcDHGM, 2, 0)
	dhp := func() *big.Int { d, _ := standardDH(0); return d.p }()
	cam := paceInfo(arcECDHCAM, 2, 13)
	return []hostileCase{
		{name: "MSE 6A80", info: ec, tamper: at(stepMSE, sw(0x6A80)), want: ErrNotSupported, sw: 0x6A80},
		{name: "MSE 6A88", info: ec, tamper: at(stepMSE, sw(0x6A88)), want: ErrNotSupported, sw: 0x6A88},
		{name: "MSE 6D00", info: ec, tamper: at(stepMSE, sw(0x6D00)), want: ErrNotSupported, sw: 0x6D00},
		{name: "MSE 63C0 blocked", info: ec, tamper: at(stepMSE, sw(0x63C0)), want: ErrAccessDenied, sw: 0x63C0},
		{name: "nonce 6A88", info: ec, tamper: at(stepNonce, sw(0x6A88)), want: ErrNotSupported, sw: 0x6A88},
		{name: "nonce truncated 7C", info: ec, tamper: at(stepNonce, func(_, r []byte) []byte { return append(r[:len(r)-3], 0x90, 0x00) }), want: ErrMalformed},
		{name: "nonce empty 7C", info: ec, tamper: at(stepNonce, answer(0, nil)), want: ErrMalformed},
		{name: "nonce wrong outer tag", info: ec, tamper: at(stepNonce, func(_, r []byte) []byte { r[0] = 0x7D; return r }), want: ErrMalformed},
		{name: "nonce not block aligned", info: ec, tamper: at(stepNonce, answer(tagNonce, make([]byte, 15))), want: ErrMalformed},
		{name: "nonce too long", info: ec, tamper: at(stepNonce, answer(tagNonce, make([]byte, 80))), want: ErrMalformed},
		{name: "nonce duplicate tag", info: ec, tamper: at(stepNonce, func(_, r []byte) []byte {
			return append(tlv.Encode(tagDynamicAuth, []byte{0x80, 0x00, 0x80, 0x00}), 0x90, 0x00)
		}), want: ErrMalformed},
		{name: "map key missing", info: ec, tamper: at(stepMap, answer(0, nil)), want: ErrMalformed},
		{name: "map key not on curve", info: ec, tamper: at(stepMap, editDO(tagMapIC, flipLast)), want: ErrInvalidKey},
		{name: "map key x = p", info: ec, tamper: at(stepMap, editDO(tagMapIC, func(v []byte) []byte { bp.FillBytes(v[1:33]); return v })), want: ErrInvalidKey},
		{name: "map key compressed", info: ec, tamper: at(stepMap, editDO(tagMapIC, func(v []byte) []byte { return append([]byte{2}, v[1:33]...) })), want: ErrInvalidKey},
		{name: "map key 6A80", info: ec, tamper: at(stepMap, sw(0x6A80)), sw: 0x6A80},
		{name: "ephemeral key infinity", info: ec, tamper: at(stepAgree, answer(tagKeyIC, []byte{0})), want: ErrInvalidKey},
		{name: "ephemeral key empty", info: ec, tamper: at(stepAgree, answer(tagKeyIC, nil)), want: ErrInvalidKey},
		{name: "ephemeral key not on curve", info: ec, tamper: at(stepAgree, editDO(tagKeyIC, flipLast)), want: ErrInvalidKey},
		{name: "ephemeral key y = p", info: ec, tamper: at(stepAgree, editDO(tagKeyIC, func(v []byte) []byte { bp.FillBytes(v[33:]); return v })), want: ErrInvalidKey},
		{name: "ephemeral key echoed", info: ec, tamper: at(stepAgree, func(cmd, _ []byte) []byte {
			c, _ := icao.ParseCommand(cmd)
			a, _ := parseAuthData(c.Data)
			v, _ := a.get(tagKeyIFD)
			return append(authObject(tagKeyIC, v), 0x90, 0x00)
		}), want: ErrInvalidKey},
		{name: "token wrong", info: ec, tamper: at(stepAuth, editDO(tagTokenIC, flipLast)), want: ErrToken},
		{name: "token short", info: ec, tamper: at(stepAuth, editDO(tagTokenIC, func(v []byte) []byte { return v[:4] })), want: ErrToken},
		{name: "token missing", info: ec, tamper: at(stepAuth, answer(0, nil)), want: ErrMalformed},
		{name: "auth 6300", info: ec, tamper: at(stepAuth, sw(0x6300)), want: ErrAccessDenied, sw: 0x6300},
		{name: "auth 63C2", info: ec, tamper: at(stepAuth, sw(0x63C2)), want: ErrAccessDenied, sw: 0x63C2},
		{name: "auth 6982", info: ec, tamper: at(stepAuth, sw(0x6982)), want: ErrAccessDenied, sw: 0x6982},
		{name: "auth 6A80", info: ec, tamper: at(stepAuth, sw(0x6A80)), want: ErrAccessDenied, sw: 0x6A80},
		{name: "auth 6F00", info: ec, tamper: at(stepAuth, sw(0x6F00)), sw: 0x6F00},
		{name: "DH y = 1", info: dh, tamper: at(stepMap, answer(tagMapIC, []byte{1})), want: ErrInvalidKey},
		{name: "DH y = p−1", info: dh, tamper: at(stepMap, answer(tagMapIC, new(big.Int).Sub(dhp, big.NewInt(1)).Bytes())), want: ErrInvalidKey},
		{name: "DH y = p", info: dh, tamper: at(stepAgree, answer(tagKeyIC, dhp.Bytes())), want: ErrInvalidKey},
		{name: "DH y outside subgroup", info: dh, tamper: at(stepAgree, answer(tagKeyIC, []byte{2})), want: ErrInvalidKey},
		{name: "DH y too long", info: dh, tamper: at(stepAgree, answer(tagKeyIC, make([]byte, 129))), want: ErrInvalidKey},
		{name: "CAM data missing", info: cam, tamper: at(stepAuth, editDO(tagCAData, func([]byte) []byte { return nil })), want: ErrCAM},
		{name: "CAM data corrupted", info: cam, tamper: at(stepAuth, editDO(tagCAData, flipLast)), want: ErrCAM},
		{name: "CAM data not aligned", info: cam, tamper: at(stepAuth, editDO(tagCAData, func(v []byte) []byte { return v[:20] })), want: ErrCAM},
	}
}

// TestHostileChip feeds the terminal bad answers and checks which error
// comes back. None may panic, and none may return a Result.
func TestHostileChip(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			card := newTestCard(t, combo{info: tc.info})
			l := &loopback{card: card, tamper: tc.tamper}
			res, err := Open(context.Background(), l, MRZ([]byte(testMRZ)), tc.info, nil)
			require.Error(t, err, "Open succeeded: %v", res)
			require.Nil(t, res, "Open returned a result with an error")
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			if tc.sw != 0 {
				var got icao.StatusWord
				require.ErrorAs(t, err, &got, "want status %v wrapped", tc.sw)
				require.Equal(t, tc.sw, got, "wrapped status")
			}
		})
	}
}

// TestTransportError checks that a transport failure is returned as is.
func TestTransportError(t *testing.T) {
	boom := errors.New("reader gone")
	tr := transportFunc(func([]byte) ([]byte, error) { return nil, boom })
	_, err := Open(context.Background(), tr, MRZ([]byte(testMRZ)), paceInfo(arcECDHGM, 2, 13), nil)
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, ErrNotSupported)
}

type transportFunc func([]byte) ([]byte, error)

func (f transportFunc) Transmit(_ context.Context, b []byte) ([]byte, error) { return f(b) }

// TestOpenArguments checks the errors for bad arguments, before anything
// is sent.
func TestOpenArguments(t *testing.T) {
	// The subtests call the transport on their own goroutines: assert, not
	// require, on the parent test.
	never := transportFunc(func([]byte) ([]byte, error) {
		assert.Fail(t, "sent a command")
		return nil, errors.New("sent a command")
	})
	tests := []struct {
		name string
		pw   Password
		info Info
		want error
	}{
		{name: "zero password", pw: Password{}, info: paceInfo(arcECDHGM, 2, 13), want: ErrPassword},
		{name: "unknown protocol", pw: MRZ(nil), info: paceInfo(9, 2, 13), want: ErrNotSupported},
		{name: "version 1", pw: MRZ(nil), info: Info{Protocol: paceInfo(arcECDHGM, 2, 13).Protocol, Version: 1, ParameterID: 13}, want: ErrNotSupported},
		{name: "unknown parameters", pw: MRZ(nil), info: paceInfo(arcECDHGM, 2, 31), want: ErrNotSupported},
		{name: "DH group for ECDH", pw: MRZ(nil), info: paceInfo(arcECDHGM, 2, 0), want: ErrNotSupported},
		{name: "curve for DH", pw: MRZ(nil), info: paceInfo(arcDHGM, 2, 13), want: ErrNotSupported},
		{name: "IM on P-224", pw: MRZ(nil), info: paceInfo(arcECDHIM, 2, 10), want: ErrNotSupported},
		{name: "CAM with 3DES", pw: MRZ(nil), info: paceInfo(arcECDHCAM, 1, 13), want: ErrNotSupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), never, tc.pw, tc.info, nil)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// TestCAMVerify checks CAM.Verify with the right key, another chip's key
// and no key.
func TestCAMVerify(t *testing.T) {
	info := paceInfo(arcECDHCAM, 3, 12)
	card := newTestCard(t, combo{info: info})
	res, err := Open(context.Background(), &loopback{card: card}, MRZ([]byte(testMRZ)), info, nil)
	require.NoError(t, err)
	other, err := GenerateChipKey(12, nil)
	require.NoError(t, err)
	onOtherCurve, err := GenerateChipKey(13, nil)
	require.NoError(t, err)
	tests := []struct {
		name  string
		infos []byte
		want  error
	}{
		{name: "genuine", infos: EncodeSecurityInfos(nil, card.key.PublicKeyInfo())},
		{name: "genuine among others", infos: EncodeSecurityInfos([]Info{info}, onOtherCurve.PublicKeyInfo(), card.key.PublicKeyInfo())},
		{name: "other chip", infos: EncodeSecurityInfos(nil, other.PublicKeyInfo()), want: ErrCAM},
		{name: "no key", infos: EncodeSecurityInfos([]Info{info}), want: ErrNoChipKey},
		{name: "key on another curve", infos: EncodeSecurityInfos(nil, onOtherCurve.PublicKeyInfo()), want: ErrNoChipKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSecurityInfos(tc.infos)
			require.NoError(t, err)
			err = res.CAM.Verify(s)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}
