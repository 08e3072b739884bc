package group

import (
	"math/big"
	"math/bits"
)

// maxLimbs is the number of 64-bit words of the largest field, P-521.
const maxLimbs = 9

// fe is a field element in Montgomery form (x·R mod p, R = 2^(64·n)),
// little-endian 64-bit limbs; only the field's n limbs are used.
type fe [maxLimbs]uint64

// field is GF(p) for an odd prime p with Montgomery multiplication
// (Koç, Acar, Kaliski: "Analyzing and Comparing Montgomery Multiplication
// Algorithms", 1996, method CIOS). Like the rest of this package's
// arithmetic it is not constant time.
type field struct {
	n     int
	prime *big.Int
	p     fe
	pinv  uint64 // −p⁻¹ mod 2^64
	r2    fe     // R² mod p, plain
}

// newField returns GF(p) for an odd p of at most 64·maxLimbs bits.
func newField(p *big.Int) *field {
	f := &field{n: (p.BitLen() + 63) / 64, prime: p}
	f.p = limbs(p)
	// Newton iteration for p⁻¹ mod 2^64: each step doubles the correct bits.
	inv := uint64(1)
	for range 6 {
		inv *= 2 - f.p[0]*inv
	}
	f.pinv = -inv
	r2 := new(big.Int).Lsh(big.NewInt(1), uint(128*f.n))
	f.r2 = limbs(r2.Mod(r2, p))
	return f
}

// limbs returns the little-endian words of 0 ≤ v < 2^(64·maxLimbs).
func limbs(v *big.Int) fe {
	var x fe
	for i, w := range v.Bits() {
		x[i] = uint64(w)
	}
	return x
}

// set returns v (0 ≤ v < p) in Montgomery form.
func (f *field) set(v *big.Int) fe {
	x := limbs(v)
	f.mul(&x, &x, &f.r2)
	return x
}

// int returns the plain value of x.
func (f *field) int(x *fe) *big.Int {
	one := fe{1}
	var y fe
	f.mul(&y, x, &one)
	words := make([]big.Word, f.n)
	for i := range words {
		words[i] = big.Word(y[i])
	}
	return new(big.Int).SetBits(words)
}

// mul sets z = x·y·R⁻¹ mod p; z may alias x or y.
func (f *field) mul(z, x, y *fe) {
	var t [maxLimbs + 2]uint64
	n := f.n
	xs, ps, ts := x[:n], f.p[:n], t[:n+2]
	for i := range n {
		var c, cc uint64
		yi := y[i]
		for j, xj := range xs {
			hi, lo := bits.Mul64(xj, yi)
			lo, cc = bits.Add64(lo, ts[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			ts[j], c = lo, hi+cc
		}
		ts[n], cc = bits.Add64(ts[n], c, 0)
		ts[n+1] = cc
		m := ts[0] * f.pinv
		hi, lo := bits.Mul64(m, ps[0])
		_, cc = bits.Add64(lo, ts[0], 0)
		c = hi + cc
		for j := 1; j < n; j++ {
			hi, lo = bits.Mul64(m, ps[j])
			lo, cc = bits.Add64(lo, ts[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			ts[j-1], c = lo, hi+cc
		}
		ts[n-1], cc = bits.Add64(ts[n], c, 0)
		ts[n] = ts[n+1] + cc
	}
	f.reduce(z, ts[:n+1])
}

// reduce sets z = t mod p for t < 2p given as n+1 limbs.
func (f *field) reduce(z *fe, t []uint64) {
	n := f.n
	var d fe
	var borrow uint64
	for j := range n {
		d[j], borrow = bits.Sub64(t[j], f.p[j], borrow)
	}
	_, borrow = bits.Sub64(t[n], 0, borrow)
	if borrow == 0 { // t ≥ p
		*z = d
		return
	}
	copy(z[:n], t[:n])
}

// add sets z = x + y mod p.
func (f *field) add(z, x, y *fe) {
	var t [maxLimbs + 1]uint64
	var carry uint64
	for j := range f.n {
		t[j], carry = bits.Add64(x[j], y[j], carry)
	}
	t[f.n] = carry
	f.reduce(z, t[:f.n+1])
}

// sub sets z = x − y mod p.
func (f *field) sub(z, x, y *fe) {
	var borrow uint64
	for j := range f.n {
		z[j], borrow = bits.Sub64(x[j], y[j], borrow)
	}
	if borrow != 0 {
		var carry uint64
		for j := range f.n {
			z[j], carry = bits.Add64(z[j], f.p[j], carry)
		}
	}
}

// isZero reports whether x is zero (the Montgomery form of 0 is 0).
func (f *field) isZero(x *fe) bool {
	for j := range f.n {
		if x[j] != 0 {
			return false
		}
	}
	return true
}

// equal reports whether x = y.
func (f *field) equal(x, y *fe) bool { return *x == *y }
