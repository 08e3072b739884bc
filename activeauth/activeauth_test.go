package activeauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
)

func readNZ(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "realdata", "NZ", name))
	require.NoError(t, err)
	return b
}

// TestRealNZ verifies a real passport's Active Authentication transcript
// (testdata/realdata/AA-README.md): RSA-1792, trailer 34CC.
func TestRealNZ(t *testing.T) {
	pub, err := ParseDG15(readNZ(t, "DG15.bin"))
	require.NoError(t, err)
	challenge, response := readNZ(t, "AA-challenge"), readNZ(t, "AA-response")
	alg, err := Verify(pub, challenge, response, 0)
	require.NoError(t, err)
	require.Equal(t, "ISO/IEC 9796-2 SHA-256 RSA-1792", alg.String())
	n, _ := ResponseLen(pub)
	assert.Equal(t, len(response), n, "Le for the response")
	other := bytes.Clone(challenge)
	other[7] ^= 1
	_, err = Verify(pub, other, response, 0)
	require.ErrorIs(t, err, ErrSignature, "other challenge")
	// Through Authenticate, with the challenge as the random source.
	script := apdutest.NewScript(t, apdutest.Exchange{
		Cmd:  append(append([]byte{0, 0x88, 0, 0, 8}, challenge...), 224),
		Resp: append(bytes.Clone(response), 0x90, 0),
	})
	res, err := Authenticate(context.Background(), script, pub, 0, &Config{Rand: bytes.NewReader(challenge)})
	require.NoError(t, err, "Authenticate")
	require.Equal(t, response, res.Response)
	require.Equal(t, challenge, res.Challenge)
}

func TestRSATrailers(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	pub := rsaPublic(t, key)
	m1 := bytes.Repeat([]byte{0x5A}, 200)
	challenge := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	tests := []struct {
		name     string
		hash     crypto.Hash
		implicit bool
		total    bool
		m1       []byte
	}{
		{"BC", crypto.SHA1, true, false, m1},
		{"33CC", crypto.SHA1, false, false, m1},
		{"34CC", crypto.SHA256, false, false, m1},
		{"35CC", crypto.SHA512, false, false, m1},
		{"36CC", crypto.SHA384, false, false, m1},
		{"38CC", crypto.SHA224, false, false, m1},
		{"34CC padded", crypto.SHA256, false, false, m1[:10]},
		{"BC padded one byte", crypto.SHA1, true, false, m1[:105]},
		{"34CC total recovery", crypto.SHA256, false, true, m1[:20]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := sign9796(t, key, tc.hash, tc.implicit, tc.total, tc.m1, challenge)
			alg, err := Verify(pub, challenge, sig, crypto.SHA512) // the hash argument is ignored for RSA
			require.NoError(t, err)
			require.Equal(t, tc.hash, alg.Hash)
			require.Equal(t, ISO9796, alg.Scheme)
			wrong := bytes.Clone(challenge)
			wrong[0] ^= 0x80
			_, err = Verify(pub, wrong, sig, 0)
			require.ErrorIs(t, err, ErrSignature, "wrong challenge")
		})
	}
}

func TestRSABadResponses(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	if other.N.Cmp(key.N) > 0 {
		// The clone's signature must be below the modulus it is checked
		// with, or it is malformed rather than forged.
		key, other = other, key
	}
	pub := rsaPublic(t, key)
	challenge := []byte("RND.IFD!")
	sig := sign9796(t, key, crypto.SHA256, false, false, []byte("m1"), challenge)
	tests := []struct {
		name string
		resp []byte
		want error
	}{
		{"truncated", sig[:len(sig)-1], ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"too long", append(bytes.Clone(sig), 0), ErrMalformed},
		{"modulus", key.N.Bytes(), ErrMalformed},
		{"zero", make([]byte, len(sig)), ErrMalformed},
		{"garbage", bytes.Repeat([]byte{0x42}, len(sig)), ErrSignature},
		{"other key (clone)", sign9796(t, other, crypto.SHA256, false, false, []byte("m1"), challenge), ErrSignature},
		{"10118-3 hash without support", sign9796Raw(t, key, []byte{0x6A, 1, 2, 3, 0x37, 0xCC}), ErrUnsupported},
		{"no such hash id: noise, a clone", sign9796Raw(t, key, []byte{0x6A, 1, 2, 3, 0x9E, 0xCC}), ErrSignature},
		{"no trailer", sign9796Raw(t, key, []byte{0x6A, 1, 2, 3, 0x34, 0xCD}), ErrSignature},
		{"bad header", sign9796Raw(t, key, []byte{0x2A, 1, 2, 3, 0xBC}), ErrSignature},
		{"bad padding", sign9796Raw(t, key, []byte{0x6B, 0xBB, 0xAB, 3, 0xBC}), ErrSignature},
		{"short for hash", sign9796Raw(t, key, []byte{0x6A, 1, 2, 3, 0xBC}), ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(pub, challenge, tc.resp, 0)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// sign9796Raw signs a hand-made representative: tail at its end, tail[0]
// also as its first byte, zeros between.
func sign9796Raw(t testing.TB, key *rsa.PrivateKey, tail []byte) []byte {
	t.Helper()
	size := (key.N.BitLen() + 6) / 8
	block := make([]byte, size)
	copy(block[size-len(tail):], tail)
	block[0] = tail[0]
	return rsaRaw(key, block)
}

func rsaRaw(key *rsa.PrivateKey, block []byte) []byte {
	m := new(big.Int).SetBytes(block)
	return new(big.Int).Exp(m, key.D, key.N).FillBytes(make([]byte, (key.N.BitLen()+7)/8))
}

func TestECDSA(t *testing.T) {
	challenge := []byte{8, 7, 6, 5, 4, 3, 2, 1}
	for _, name := range []string{"P-256", "brainpoolP256r1", "brainpoolP384r1", "P-521"} {
		var c *group.Curve
		for id := 8; id <= 18; id++ {
			if x, ok := group.CurveByID(id); ok && x.Name() == name {
				c = x
			}
		}
		key := newECKey(t, c)
		pub := key.public(t)
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA512} {
			d := h.New()
			d.Write(challenge)
			r, s := key.sign(t, d.Sum(nil))
			for enc, sig := range map[string][]byte{"plain": key.plain(r, s), "DER": der(r, s)} {
				t.Run(name+"/"+h.String()+"/"+enc, func(t *testing.T) {
					alg, err := Verify(pub, challenge, sig, h)
					require.NoError(t, err)
					require.Equal(t, h, alg.Hash)
					require.Equal(t, ECDSA, alg.Scheme)
					alg, err = Verify(pub, challenge, sig, 0)
					require.NoError(t, err, "Verify without hash")
					require.Equal(t, h, alg.Hash, "Verify without hash")
					other := crypto.SHA384
					_, err = Verify(pub, challenge, sig, other)
					require.ErrorIs(t, err, ErrSignature, "other hash")
					_, err = Verify(pub, []byte("another"), sig, h)
					require.ErrorIs(t, err, ErrSignature, "wrong challenge")
					_, err = Verify(pub, challenge, sig[:len(sig)-1], h)
					require.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrSignature), "truncated: %v", err)
					n, _ := ResponseLen(pub)
					require.LessOrEqual(t, len(sig), n, "Le below the signature")
				})
			}
		}
	}
}

func TestECDSAGarbage(t *testing.T) {
	c, _ := group.CurveByID(13)
	pub := newECKey(t, c).public(t)
	for _, resp := range [][]byte{nil, {0x30, 0x00}, bytes.Repeat([]byte{0xFF}, 63), {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00}} {
		_, err := Verify(pub, []byte("12345678"), resp, crypto.SHA256)
		require.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrSignature), "%x: %v", resp, err)
	}
	_, err := Verify(pub, []byte("12345678"), bytes.Repeat([]byte{0xFF}, 63), crypto.SHA256)
	require.ErrorIs(t, err, ErrMalformed, "63 bytes of FF")
	_, err = Verify(pub, nil, make([]byte, 64), crypto.SHA256)
	require.ErrorIs(t, err, ErrSignature, "zero plain signature")
}

func TestAuthenticate(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 3072)
	pub := rsaPublic(t, key)
	challenge := []byte("abcdefgh")
	sig := sign9796(t, key, crypto.SHA256, false, false, bytes.Repeat([]byte{1}, 400), challenge)
	var got icao.Command
	chip := apdutest.Func(func(_ context.Context, capdu []byte) ([]byte, error) {
		var err error
		got, err = icao.ParseCommand(capdu)
		return append(bytes.Clone(sig), 0x90, 0), err
	})
	res, err := Authenticate(context.Background(), chip, pub, 0, &Config{Rand: bytes.NewReader(challenge)})
	require.NoError(t, err)
	require.Equal(t, byte(0x88), got.INS, "command %+v", got)
	require.Zero(t, got.P1, "command %+v", got)
	require.Zero(t, got.P2, "command %+v", got)
	require.Equal(t, 384, got.Ne, "command %+v", got)
	require.True(t, got.Extended(), "command %+v", got)
	require.Equal(t, challenge, got.Data)
	require.Equal(t, "ISO/IEC 9796-2 SHA-256 RSA-3072", res.String())
	// A clone: the result comes back with the evidence and ErrSignature.
	res, err = Authenticate(context.Background(), chip, pub, 0, &Config{Rand: bytes.NewReader([]byte("ABCDEFGH"))})
	require.ErrorIs(t, err, ErrSignature, "clone")
	require.NotNil(t, res, "clone")
	require.Equal(t, sig, res.Response, "clone")
	// A refusal.
	res, err = Authenticate(context.Background(), apdutest.Answers(t, []byte{0x6D, 0}), pub, 0, nil)
	require.ErrorIs(t, err, icao.ErrNotSupported, "6D00")
	require.Nil(t, res, "6D00")
	// Short Le for RSA-2048 (256 = 00), ECDSA on P-256.
	k2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	n, _ := ResponseLen(rsaPublic(t, k2048))
	require.Equal(t, 256, n, "RSA-2048 Le")
	c, _ := group.CurveByID(12)
	n, _ = ResponseLen(newECKey(t, c).public(t))
	require.Equal(t, 72, n, "P-256 Le")
}

func TestParseDG15(t *testing.T) {
	b := readNZ(t, "DG15.bin")
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"padded", append(bytes.Clone(b), 0, 0), nil},
		{"wrong tag", append([]byte{0x6E}, b[1:]...), ErrMalformed},
		{"trailing data", append(bytes.Clone(b), 1), ErrMalformed},
		{"truncated", b[:len(b)-1], ErrMalformed},
		{"unsupported key", tlv.Encode(0x6F, tlv.Encode(0x30, append(tlv.Encode(0x30, derOID(t, []int{1, 3, 101, 112})), 0x03, 0x02, 0x00, 0x01))), ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseDG15(tc.in)
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, err != nil, k == nil, "key %v with error %v", k, err)
		})
	}
}

func TestHashForAlgorithm(t *testing.T) {
	for oid, want := range map[string]crypto.Hash{"1.2.840.10045.4.1": crypto.SHA1, "1.2.840.10045.4.3.2": crypto.SHA256, "0.4.0.127.0.7.1.1.4.1.4": crypto.SHA384} {
		var o asn1.ObjectIdentifier
		for _, p := range bytes.Split([]byte(oid), []byte(".")) {
			n := 0
			for _, c := range p {
				n = n*10 + int(c-'0')
			}
			o = append(o, n)
		}
		h, err := HashForAlgorithm(o)
		if assert.NoError(t, err, oid) {
			assert.Equal(t, want, h, oid)
		}
	}
	_, err := HashForAlgorithm(asn1.ObjectIdentifier{1, 2, 3})
	require.ErrorIs(t, err, ErrUnsupported)
}

func BenchmarkVerify(b *testing.B) {
	pub, _ := ParseDG15(readNZ(b, "DG15.bin"))
	challenge, response := readNZ(b, "AA-challenge"), readNZ(b, "AA-response")
	b.Run("RSA-1792 9796-2 (NZ)", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(pub, challenge, response, 0); err != nil {
				b.Fatal(err) // not require: it would call b.Helper in the timed loop
			}
		}
	})
	c, _ := group.CurveByID(13)
	key := newECKey(b, c)
	ecPub := key.public(b)
	d := crypto.SHA256.New()
	d.Write(challenge)
	r, s := key.sign(b, d.Sum(nil))
	sig := key.plain(r, s)
	b.Run("ECDSA brainpoolP256r1 SHA-256", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(ecPub, challenge, sig, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
}
