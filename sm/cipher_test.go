package sm

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

// TestCMAC checks the RFC 4493 §4 test vectors (AES-128, the same as NIST
// SP 800-38B D.1) and the SP 800-38B D.3 AES-256 examples: empty, one
// block, 40 bytes and four blocks.
func TestCMAC(t *testing.T) {
	const (
		msg = "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
			"30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710"
		k128 = "2b7e151628aed2a6abf7158809cf4f3c"
		k256 = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
	)
	tests := []struct {
		name   string
		key    string
		msgLen int
		want   string
	}{
		{name: "rfc4493 example 1 empty", key: k128, msgLen: 0, want: "bb1d6929e95937287fa37d129b756746"},
		{name: "rfc4493 example 2 16 bytes", key: k128, msgLen: 16, want: "070a16b46b4d4144f79bdd9dd04a287c"},
		{name: "rfc4493 example 3 40 bytes", key: k128, msgLen: 40, want: "dfa66747de9ae63030ca32611497c827"},
		{name: "rfc4493 example 4 64 bytes", key: k128, msgLen: 64, want: "51f0bebf7e3b9d92fc49741779363cfe"},
		{name: "aes-256 empty", key: k256, msgLen: 0, want: "028962f61b7bf89efc6b551f4667d983"},
		{name: "aes-256 16 bytes", key: k256, msgLen: 16, want: "28a7023f452e8f82bd4bf28d8c37c35c"},
		{name: "aes-256 40 bytes", key: k256, msgLen: 40, want: "aaf3d8f1de5640c232f5b169b9c911e6"},
		{name: "aes-256 64 bytes", key: k256, msgLen: 64, want: "e1992190549f6ed5696a2c056c315410"},
	}
	m := testvectors.Hex(t, msg)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CMAC(testvectors.Hex(t, tc.key), m[:tc.msgLen])
			require.NoError(t, err, "CMAC")
			assert.Equal(t, testvectors.Hex(t, tc.want), got, "CMAC")
		})
	}
	_, err := CMAC(make([]byte, 15), nil)
	assert.Error(t, err, "CMAC accepted a 15-byte key")
}

func TestDbl(t *testing.T) {
	// RFC 4493 §4 subkeys for K = 2b7e1516...: L, K1, K2.
	var l [16]byte
	copy(l[:], testvectors.Hex(t, "7df76b0c1ab899b33e42f047b91b546f"))
	k1 := dbl(l)
	assert.Equal(t, testvectors.Hex(t, "fbeed618357133667c85e08f7236a8de"), k1[:], "K1")
	k2 := dbl(k1)
	assert.Equal(t, testvectors.Hex(t, "f7ddac306ae266ccf90bc11ee46d513b"), k2[:], "K2")
}

func TestPadding(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		bs      int
		want    string
		wantErr bool
	}{
		{name: "empty 8", in: "8000000000000000", bs: 8, want: ""},
		{name: "one byte", in: "4180000000000000", bs: 8, want: "41"},
		{name: "full block of padding", in: "41424344454647488000000000000000", bs: 8, want: "4142434445464748"},
		{name: "7 bytes", in: "4142434445464780", bs: 8, want: "41424344454647"},
		{name: "aes 15 bytes", in: "000102030405060708090a0b0c0d0e80", bs: 16, want: "000102030405060708090a0b0c0d0e"},
		{name: "no marker", in: "4100000000000000", bs: 8, wantErr: true},
		{name: "all zero", in: "0000000000000000", bs: 8, wantErr: true},
		{name: "wrong marker", in: "4181000000000000", bs: 8, wantErr: true},
		{name: "padding longer than a block", in: "41424344454647488000000000000000" + "0000000000000000", bs: 8, wantErr: true},
		{name: "empty input", in: "", bs: 8, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			got, err := Unpad(testvectors.Hex(t, in), tc.bs)
			if tc.wantErr {
				assert.ErrorIs(t, err, ErrMalformed, "unpad")
				assert.Nil(t, got, "unpad returned a value with an error")
				return
			}
			require.NoError(t, err, "unpad")
			assert.Equal(t, testvectors.Hex(t, tc.want), got, "unpad")
			assert.Equal(t, testvectors.Hex(t, in), Pad(got, tc.bs), "pad")
		})
	}
}

func TestAdjustParity(t *testing.T) {
	for b := range 256 {
		k := []byte{byte(b)}
		AdjustParity(k)
		ones := 0
		for v := k[0]; v != 0; v >>= 1 {
			ones += int(v & 1)
		}
		require.Equal(t, 1, ones%2, "AdjustParity(%02x) = %02x: parity", b, k[0])
		require.Equal(t, byte(b)&^1, k[0]&^1, "AdjustParity(%02x) = %02x: key bits", b, k[0])
	}
}

func TestIncSSC(t *testing.T) {
	tests := []struct {
		name     string
		suite    Suite
		from, to string
	}{
		{name: "3des simple", suite: TDES, from: "887022120c06c226", to: "887022120c06c227"},
		{name: "3des carry", suite: TDES, from: "00000000000000ff", to: "0000000000000100"},
		{name: "3des long carry", suite: TDES, from: "00ffffffffffffff", to: "0100000000000000"},
		{name: "3des wraps", suite: TDES, from: "ffffffffffffffff", to: "0000000000000000"},
		{name: "aes carry", suite: AES, from: "000000000000000000000000000000ff", to: "00000000000000000000000000000100"},
		{name: "aes wraps", suite: AES, from: "ffffffffffffffffffffffffffffffff", to: "00000000000000000000000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := testKeys(tc.suite, 16)
			k.SSC = testvectors.Hex(t, tc.from)
			ch, err := newChannel(k)
			require.NoError(t, err, "newChannel")
			ch.incSSC()
			assert.Equal(t, testvectors.Hex(t, tc.to), ch.counter(), "SSC")
		})
	}
}

// TestMaxShortLe checks the arithmetic of the package documentation.
func TestMaxShortLe(t *testing.T) {
	tests := []struct {
		name  string
		suite Suite
		want  int
	}{
		{name: "3des", suite: TDES, want: 231},
		{name: "aes", suite: AES, want: 223},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bs := tc.suite.BlockSize()
			require.Equal(t, tc.want, maxShortLe(tc.suite), "maxShortLe")
			assert.LessOrEqual(t, cryptogramLen(tc.want, bs, false)+4+10, 256, "response data bytes for Le %d", tc.want)
			assert.Greater(t, cryptogramLen(tc.want+1, bs, false)+4+10, 256, "response data bytes for Le %d", tc.want+1)
			s, err := NewSession(apdutest.NewScript(t), testKeys(tc.suite, 16))
			require.NoError(t, err, "NewSession")
			assert.Equal(t, tc.want, s.MaxShortLe(), "MaxShortLe()")
		})
	}
}

func TestKeysCheck(t *testing.T) {
	tests := []struct {
		name string
		keys Keys
		ok   bool
	}{
		{name: "3des", keys: Keys{Suite: TDES, Enc: make([]byte, 16), MAC: make([]byte, 16), SSC: make([]byte, 8)}, ok: true},
		{name: "3des nil ssc", keys: Keys{Suite: TDES, Enc: make([]byte, 16), MAC: make([]byte, 16)}, ok: true},
		{name: "aes-128", keys: Keys{Suite: AES, Enc: make([]byte, 16), MAC: make([]byte, 16)}, ok: true},
		{name: "aes-192", keys: Keys{Suite: AES, Enc: make([]byte, 24), MAC: make([]byte, 24)}, ok: true},
		{name: "aes-256", keys: Keys{Suite: AES, Enc: make([]byte, 32), MAC: make([]byte, 32), SSC: make([]byte, 16)}, ok: true},
		{name: "3-key 3des", keys: Keys{Suite: TDES, Enc: make([]byte, 24), MAC: make([]byte, 24)}},
		{name: "aes short", keys: Keys{Suite: AES, Enc: make([]byte, 8), MAC: make([]byte, 8)}},
		{name: "mixed lengths", keys: Keys{Suite: AES, Enc: make([]byte, 16), MAC: make([]byte, 32)}},
		{name: "3des ssc of 16", keys: Keys{Suite: TDES, Enc: make([]byte, 16), MAC: make([]byte, 16), SSC: make([]byte, 16)}},
		{name: "aes ssc of 8", keys: Keys{Suite: AES, Enc: make([]byte, 16), MAC: make([]byte, 16), SSC: make([]byte, 8)}},
		{name: "zero suite", keys: Keys{Enc: make([]byte, 16), MAC: make([]byte, 16)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.keys.Enc[0] = 0xA5 // a secret byte that must not show up
			_, err := NewSession(apdutest.NewScript(t), tc.keys)
			_, cerr := NewCard(tc.keys)
			if tc.ok {
				require.NoError(t, err, "NewSession")
				require.NoError(t, cerr, "NewCard")
			} else {
				require.Error(t, err, "NewSession")
				require.Error(t, cerr, "NewCard")
				assert.NotContains(t, strings.ToLower(err.Error()), "a5", "error echoes key bytes")
			}
		})
	}
}

func TestDeriveKeyRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		suite Suite
		n     int
	}{{"3des 24", TDES, 24}, {"aes 20", AES, 20}, {"unknown suite", Suite(9), 16}} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := DeriveKey(tc.suite, tc.n, []byte("secret"), KeyEnc)
			require.Error(t, err, "DeriveKey")
			require.Nil(t, k, "DeriveKey")
		})
	}
}

// TestDeriveKeyLengths checks which hash each key length uses (9303-11
// §9.7.1): SHA-1 up to 128 bits, SHA-256 above.
func TestDeriveKeyLengths(t *testing.T) {
	secret := []byte("K")
	k16, err := DeriveKey(AES, 16, secret, KeyMAC)
	require.NoError(t, err, "aes-128")
	k24, err := DeriveKey(AES, 24, secret, KeyMAC)
	require.NoError(t, err, "aes-192")
	k32, err := DeriveKey(AES, 32, secret, KeyMAC)
	require.NoError(t, err, "aes-256")
	assert.Equal(t, k32[:24], k24, "AES-192 is a prefix of the SHA-256 output")
	assert.NotEqual(t, k32[:16], k16, "AES-128 must use SHA-1, not SHA-256")
}

func TestCBCRejects(t *testing.T) {
	key := make([]byte, 16)
	_, err := EncryptCBC(TDES, key, nil, make([]byte, 7))
	assert.Error(t, err, "unaligned input accepted")
	_, err = DecryptCBC(AES, key, make([]byte, 8), make([]byte, 16))
	assert.Error(t, err, "short IV accepted")
	_, err = Checksum(TDES, make([]byte, 8), nil)
	assert.Error(t, err, "short MAC key accepted")
	assert.NotErrorIs(t, ErrClosed, ErrMAC, "sentinels are not distinct")
}

// TestResponseLen checks the size of protected responses against what
// Card.Wrap produces.
func TestResponseLen(t *testing.T) {
	for _, su := range []struct {
		suite  Suite
		keyLen int
	}{{TDES, 16}, {AES, 16}} {
		for _, n := range []int{0, 1, 7, 8, 15, 16, 127, 223, 231, 300} {
			for _, odd := range []bool{false, true} {
				c, err := NewCard(testKeys(su.suite, su.keyLen))
				require.NoError(t, err)
				ins := byte(0xB0)
				if odd {
					ins = 0xB1
				}
				// A card must unwrap a command before it wraps a response.
				term, err := NewSession(apdutest.Func(func(_ context.Context, capdu []byte) ([]byte, error) {
					if _, err := c.Unwrap(capdu); err != nil {
						return nil, err
					}
					out, err := c.Wrap(append(make([]byte, n), 0x90, 0x00))
					if err != nil {
						return nil, err
					}
					assert.Equal(t, len(out)-2, ResponseLen(su.suite, n, odd), "%v n=%d odd=%v: ResponseLen against Wrap", su.suite, n, odd)
					return out, nil
				}), testKeys(su.suite, su.keyLen))
				require.NoError(t, err)
				_, err = term.Transmit(context.Background(), []byte{0, ins, 0, 0, 0})
				require.NoError(t, err, "%v n=%d odd=%v", su.suite, n, odd)
			}
		}
	}
}
