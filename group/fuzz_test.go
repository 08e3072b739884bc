package group

import (
	"math/big"
	"testing"
)

// FuzzField cross-checks the Montgomery limb arithmetic (mul, add, sub and
// the conversions) against math/big on every curve's field.
func FuzzField(f *testing.F) {
	f.Add(byte(0), []byte{1}, []byte{2})
	f.Add(byte(5), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{0})
	for _, c := range Curves() {
		pm1 := new(big.Int).Sub(c.p, big.NewInt(1)).Bytes()
		f.Add(byte(c.ID()), pm1, pm1)
	}
	curves := Curves()
	f.Fuzz(func(t *testing.T, which byte, xb, yb []byte) {
		c := curves[int(which)%len(curves)]
		p := c.p
		x := new(big.Int).SetBytes(xb)
		y := new(big.Int).SetBytes(yb)
		x.Mod(x, p)
		y.Mod(y, p)
		fl := c.field
		mx, my := fl.set(x), fl.set(y)
		if got := fl.int(&mx); got.Cmp(x) != 0 {
			t.Fatalf("%s: round trip of %x gave %x", c.Name(), x, got)
		}
		var z fe
		fl.mul(&z, &mx, &my)
		if want := new(big.Int).Mul(x, y); fl.int(&z).Cmp(want.Mod(want, p)) != 0 {
			t.Fatalf("%s: mul(%x, %x) = %x, want %x", c.Name(), x, y, fl.int(&z), want)
		}
		fl.add(&z, &mx, &my)
		if want := new(big.Int).Add(x, y); fl.int(&z).Cmp(want.Mod(want, p)) != 0 {
			t.Fatalf("%s: add(%x, %x) = %x, want %x", c.Name(), x, y, fl.int(&z), want)
		}
		fl.sub(&z, &mx, &my)
		if want := new(big.Int).Sub(x, y); fl.int(&z).Cmp(want.Mod(want, p)) != 0 {
			t.Fatalf("%s: sub(%x, %x) = %x, want %x", c.Name(), x, y, fl.int(&z), want)
		}
		if fl.isZero(&mx) != (x.Sign() == 0) {
			t.Fatalf("%s: isZero(%x)", c.Name(), x)
		}
	})
}

// FuzzUnmarshal checks that any point Unmarshal accepts is on the curve and
// encodes back to the same bytes (uncompressed) or the same point.
func FuzzUnmarshal(f *testing.F) {
	for _, c := range Curves() {
		f.Add(byte(c.ID()), c.Marshal(c.g))
		f.Add(byte(c.ID()), append([]byte{3}, c.FieldBytes(c.g.X)...))
	}
	curves := Curves()
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		c := curves[int(which)%len(curves)]
		pt, err := c.Unmarshal(b)
		if err != nil {
			if !pt.Infinity() {
				t.Fatal("point returned with an error")
			}
			return
		}
		if !c.IsOnCurve(pt) {
			t.Fatal("accepted a point off the curve")
		}
		if b[0] == 4 && string(c.Marshal(pt)) != string(b) {
			t.Fatal("uncompressed encoding does not round-trip")
		}
	})
}
