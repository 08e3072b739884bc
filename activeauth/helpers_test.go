package activeauth

// Signers for tests, and for the virtual chip later: ISO/IEC 9796-2 scheme 1
// with RSA, and ECDSA on any curve of package group (which only verifies).

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/pki"
)

// trailerID is the inverse of trailerHash; 0 means trailer BC.
var trailerID = map[crypto.Hash]byte{crypto.SHA1: 0x33, crypto.SHA256: 0x34, crypto.SHA512: 0x35, crypto.SHA384: 0x36, crypto.SHA224: 0x38}

// sign9796 signs M = m1 ‖ challenge with partial recovery (the chip side of
// 9303-11 §6.1.2), or, when total is set, with M1 = m1 ‖ challenge fully
// recovered. implicit selects the trailer BC (SHA-1 only). m1 is cut to the
// capacity of the key.
func sign9796(t testing.TB, key *rsa.PrivateKey, h crypto.Hash, implicit, total bool, m1, challenge []byte) []byte {
	t.Helper()
	size := (key.N.BitLen() + 6) / 8
	trailer := []byte{trailerID[h], 0xCC}
	if implicit {
		trailer = []byte{0xBC}
	}
	header := byte(0x6A)
	digest := h.New()
	if total {
		header = 0x4A
		m1 = append(bytes.Clone(m1), challenge...)
		digest.Write(m1)
	} else {
		digest.Write(m1)
		digest.Write(challenge)
	}
	capacity := size - 1 - h.Size() - len(trailer)
	if len(m1) > capacity {
		require.False(t, total, "message too long for total recovery")
		m1 = m1[:capacity]
		digest.Reset()
		digest.Write(m1)
		digest.Write(challenge)
	}
	var block []byte
	if pad := capacity - len(m1); pad > 0 { // 4B/6B BB … BA
		block = append(block, header|0x01)
		block = append(block, bytes.Repeat([]byte{0xBB}, pad-1)...)
		block = append(block, 0xBA)
	} else {
		block = append(block, header)
	}
	block = append(block, m1...)
	block = append(block, digest.Sum(nil)...)
	block = append(block, trailer...)
	m := new(big.Int).SetBytes(block)
	return new(big.Int).Exp(m, key.D, key.N).FillBytes(make([]byte, (key.N.BitLen()+7)/8))
}

// ecKey is an ECDSA key pair on a curve of package group.
type ecKey struct {
	c *group.Curve
	d *big.Int
}

func newECKey(t testing.TB, c *group.Curve) *ecKey {
	t.Helper()
	d, err := rand.Int(rand.Reader, new(big.Int).Sub(c.Params().N, big.NewInt(1)))
	require.NoError(t, err)
	return &ecKey{c: c, d: d.Add(d, big.NewInt(1))}
}

// public returns the key as a pki.PublicKey via a named-curve
// SubjectPublicKeyInfo.
func (k *ecKey) public(t testing.TB) *pki.PublicKey {
	t.Helper()
	pt := k.c.Marshal(k.c.ScalarBaseMult(k.d))
	alg := append(derOID(t, []int{1, 2, 840, 10045, 2, 1}), derOID(t, k.c.OID())...)
	spki := tlv.Encode(0x30, append(tlv.Encode(0x30, alg), tlv.Encode(0x03, append([]byte{0}, pt...))...))
	pub, err := pki.ParsePublicKey(spki)
	require.NoError(t, err)
	return pub
}

// sign returns r, s of an ECDSA signature over digest (SEC 1 §4.1.3).
func (k *ecKey) sign(t testing.TB, digest []byte) (r, s *big.Int) {
	t.Helper()
	n := k.c.Params().N
	for {
		kk, err := rand.Int(rand.Reader, n)
		if err != nil || kk.Sign() == 0 {
			continue
		}
		r = new(big.Int).Mod(k.c.ScalarBaseMult(kk).X, n)
		if r.Sign() == 0 {
			continue
		}
		z := new(big.Int).SetBytes(digest)
		if excess := len(digest)*8 - n.BitLen(); excess > 0 {
			z.Rsh(z, uint(excess))
		}
		s = new(big.Int).Mul(r, k.d)
		s.Add(s, z).Mul(s, new(big.Int).ModInverse(kk, n)).Mod(s, n)
		if s.Sign() != 0 {
			return r, s
		}
	}
}

// plain encodes r ‖ s with the length of n (TR-03111 §5.2.1).
func (k *ecKey) plain(r, s *big.Int) []byte {
	l := (k.c.Params().N.BitLen() + 7) / 8
	return append(r.FillBytes(make([]byte, l)), s.FillBytes(make([]byte, l))...)
}

// der encodes SEQUENCE { r, s }.
func der(r, s *big.Int) []byte {
	return tlv.Encode(0x30, append(derInt(r), derInt(s)...))
}

func derInt(v *big.Int) []byte {
	b := v.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return tlv.Encode(0x02, b)
}

func derOID(t testing.TB, oid []int) []byte {
	t.Helper()
	b, err := asn1.Marshal(asn1.ObjectIdentifier(oid))
	require.NoError(t, err)
	return b
}

// rsaPublic returns key's public half as a pki.PublicKey.
func rsaPublic(t testing.TB, key *rsa.PrivateKey) *pki.PublicKey {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pub, err := pki.ParsePublicKey(spki)
	require.NoError(t, err)
	return pub
}
