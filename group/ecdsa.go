package group

import (
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// PublicKey is an ECDSA (or ECDH) public key: a validated point on a
// standardized curve.
type PublicKey struct {
	c *Curve
	q Point
}

// NewPublicKey decodes and validates an encoded point on c (see
// [Curve.Unmarshal]): the public key of a SubjectPublicKeyInfo, DG14 or
// DG15. Errors wrap [ErrInvalidPoint].
func NewPublicKey(c *Curve, point []byte) (*PublicKey, error) {
	q, err := c.Unmarshal(point)
	if err != nil {
		return nil, err
	}
	return &PublicKey{c: c, q: q}, nil
}

// Curve returns the key's curve.
func (k *PublicKey) Curve() *Curve { return k.c }

// Point returns a copy of the public point.
func (k *PublicKey) Point() Point { return k.q.clone() }

// Bytes returns the uncompressed encoding of the public point.
func (k *PublicKey) Bytes() []byte { return k.c.Marshal(k.q) }

// Equal reports whether two keys are the same point on the same curve.
func (k *PublicKey) Equal(o *PublicKey) bool {
	return o != nil && k.c.id == o.c.id && k.q.Equal(o.q)
}

// VerifyASN1 checks an ECDSA signature encoded as the X9.62 DER
// Ecdsa-Sig-Value SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3,
// as in X.509 certificates and CMS) over a message digest. The encoding must
// be strict DER: BER length forms, non-minimal integers and trailing data
// are refused, so that a signature has exactly one encoding.
func (k *PublicKey) VerifyASN1(digest, sig []byte) error {
	var r, s big.Int
	in := cryptobyte.String(sig)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return fmt.Errorf("%w: not a DER Ecdsa-Sig-Value", ErrSignature)
	}
	return k.Verify(digest, &r, &s)
}

// VerifyPlain checks an ECDSA signature in the plain format of BSI
// TR-03111 §5.2.1, r ‖ s with each integer as an octet string of the length
// of n, as chips return it to INTERNAL AUTHENTICATE (9303-11 §6.1) and as
// card-verifiable certificates carry it.
func (k *PublicKey) VerifyPlain(digest, sig []byte) error {
	l := (k.c.n.BitLen() + 7) / 8
	if len(sig) != 2*l {
		return fmt.Errorf("%w: plain signature of %d bytes on %s, want %d", ErrSignature, len(sig), k.c.name, 2*l)
	}
	r := new(big.Int).SetBytes(sig[:l])
	s := new(big.Int).SetBytes(sig[l:])
	return k.Verify(digest, r, s)
}

// Verify checks the ECDSA signature (r, s) over a message digest (SEC 1
// §4.1.4, FIPS 186-4 §6.4.2). A digest longer than n is truncated to its
// leftmost bitlen(n) bits, so any hash works with any curve.
func (k *PublicKey) Verify(digest []byte, r, s *big.Int) error {
	n := k.c.n
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return fmt.Errorf("%w: r or s out of range", ErrSignature)
	}
	e := hashToInt(digest, n)
	w := new(big.Int).ModInverse(s, n)
	u1 := e.Mul(e, w)
	u1.Mod(u1, n)
	u2 := w.Mul(r, w)
	u2.Mod(u2, n)
	pt := k.c.Add(k.c.ScalarBaseMult(u1), k.c.ScalarMult(k.q, u2))
	if pt.Infinity() {
		return ErrSignature
	}
	if v := new(big.Int).Mod(pt.X, n); v.Cmp(r) != 0 {
		return ErrSignature
	}
	return nil
}

// hashToInt returns the leftmost bitlen(n) bits of the digest as an integer
// (SEC 1 §4.1.3 step 5, §4.1.4 step 3).
func hashToInt(digest []byte, n *big.Int) *big.Int {
	bits := n.BitLen()
	if size := (bits + 7) / 8; len(digest) > size {
		digest = digest[:size]
	}
	e := new(big.Int).SetBytes(digest)
	if excess := len(digest)*8 - bits; excess > 0 {
		e.Rsh(e, uint(excess))
	}
	return e
}
