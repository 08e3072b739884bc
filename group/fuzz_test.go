package group

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
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
		// Text(16) compares the values, whatever the internal big.Int form.
		require.Equal(t, x.Text(16), fl.int(&mx).Text(16), "%s: round trip", c.Name())
		var z fe
		fl.mul(&z, &mx, &my)
		want := new(big.Int).Mul(x, y)
		require.Equal(t, want.Mod(want, p).Text(16), fl.int(&z).Text(16), "%s: mul(%x, %x)", c.Name(), x, y)
		fl.add(&z, &mx, &my)
		want = new(big.Int).Add(x, y)
		require.Equal(t, want.Mod(want, p).Text(16), fl.int(&z).Text(16), "%s: add(%x, %x)", c.Name(), x, y)
		fl.sub(&z, &mx, &my)
		want = new(big.Int).Sub(x, y)
		require.Equal(t, want.Mod(want, p).Text(16), fl.int(&z).Text(16), "%s: sub(%x, %x)", c.Name(), x, y)
		require.Equal(t, x.Sign() == 0, fl.isZero(&mx), "%s: isZero(%x)", c.Name(), x)
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
			require.True(t, pt.Infinity(), "point returned with an error")
			return
		}
		require.True(t, c.IsOnCurve(pt), "accepted a point off the curve")
		if b[0] == 4 {
			require.Equal(t, b, c.Marshal(pt), "uncompressed encoding does not round-trip")
		}
	})
}
