package pace

import (
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/nfcbridge/nfcbridge/sm"
)

// Constants c0 and c1 of the pseudo-random function (9303-11 §4.4.3.3.2):
// 128 bits for 3DES and AES-128, 256 bits for AES-192 and AES-256.
const (
	prfC0Short = "a668892a7c41e3ca739f40b057d85904"
	prfC1Short = "a4e136ac725f738b01c1f60217c188ad"
	prfC0Long  = "d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676"
	prfC1Long  = "54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517"
)

// prf is the pseudo-random function R(s,t) of the Integrated Mapping
// (9303-11 §4.4.3.3.2, figure 2): k0 = E(t, s); for i = 1..n,
// x_i = E(k_{i−1}, c1) and k_i = E(k_{i−1}, c0), every k truncated to the
// key size; the result is int(x_1 ‖ … ‖ x_n), which the caller reduces mod
// p. E is the PACE cipher in CBC mode with a zero IV, t is the terminal's
// nonce of the key size (16 bytes for 3DES), s the chip's nonce of at least
// that many bytes, and n the smallest count with n·l ≥ log2(p) + 64, where
// l is the length of c1 in bits.
func prf(suite sm.Suite, s, t []byte, p *big.Int) (*big.Int, error) {
	keyLen := len(t)
	c0, c1 := prfC0Short, prfC1Short
	if keyLen > 16 {
		c0, c1 = prfC0Long, prfC1Long
	}
	c0b, _ := hex.DecodeString(c0)
	c1b, _ := hex.DecodeString(c1)
	l := len(c1b) * 8
	k, err := sm.EncryptCBC(suite, t, nil, s)
	if err != nil {
		return nil, fmt.Errorf("pace: integrated mapping: %w", err)
	}
	if len(k) < keyLen {
		return nil, fmt.Errorf("%w: chip nonce of %d bytes is shorter than the %d-byte key", ErrMalformed, len(s), keyLen)
	}
	n := (p.BitLen() + 64 + l - 1) / l
	out := make([]byte, 0, n*len(c1b))
	for range n {
		key := k[:keyLen]
		x, err := sm.EncryptCBC(suite, key, nil, c1b)
		if err != nil {
			return nil, fmt.Errorf("pace: integrated mapping: %w", err)
		}
		out = append(out, x...)
		next, err := sm.EncryptCBC(suite, key, nil, c0b)
		if err != nil {
			return nil, fmt.Errorf("pace: integrated mapping: %w", err)
		}
		clear(k)
		k = next
	}
	clear(k)
	r := new(big.Int).SetBytes(out)
	clear(out)
	return r, nil
}

// encodeToCurve is the point encoding f_G of 9303-11 Appendix B.2 (affine
// coordinates; Brier et al., "Efficient Indifferentiable Hashing into
// Ordinary Elliptic Curves", CRYPTO 2010) for 0 < t < p. It needs
// p ≡ 3 (mod 4) and a ≠ 0, which rules out P-224 (9303-11 §9.5.1, table
// 12); with cofactor 1 the final multiplication by the cofactor is a no-op.
func (c *curve) encodeToCurve(t *big.Int) (point, error) {
	if c.p.Bit(0) != 1 || c.p.Bit(1) != 1 || c.a.Sign() == 0 {
		return point{}, fmt.Errorf("%w: integrated mapping on %s (needs p ≡ 3 mod 4)", ErrNotSupported, c.name)
	}
	if t.Sign() <= 0 || t.Cmp(c.p) >= 0 {
		return point{}, fmt.Errorf("%w: integrated mapping input out of range", ErrInvalidKey)
	}
	alpha := c.sub(new(big.Int), c.mul(t, t)) // α = −t²
	d := c.add(alpha, c.mul(alpha, alpha))    // α + α²
	if d.Sign() == 0 {
		return point{}, fmt.Errorf("%w: integrated mapping input is degenerate", ErrInvalidKey)
	}
	dinv := new(big.Int).ModInverse(d, c.p)
	ainv := new(big.Int).ModInverse(c.a, c.p)
	// X2 = −b · a⁻¹ · (1 + (α + α²)⁻¹)
	x2 := c.sub(new(big.Int), c.mul(c.mul(c.b, ainv), c.add(big.NewInt(1), dinv)))
	x3 := c.mul(alpha, x2)
	h2 := c.rhs(x2)
	u := c.mul(c.mul(c.mul(t, t), t), h2)
	// A = h2^(p − 1 − (p+1)/4)
	e := new(big.Int).Sub(c.p, big.NewInt(1))
	e.Sub(e, new(big.Int).Rsh(new(big.Int).Add(c.p, big.NewInt(1)), 2))
	a := new(big.Int).Exp(h2, e, c.p)
	if c.mul(c.mul(a, a), h2).Cmp(big.NewInt(1)) == 0 {
		return point{X: x2, Y: c.mul(a, h2)}, nil
	}
	return point{X: x3, Y: c.mul(a, u)}, nil
}
