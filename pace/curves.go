package pace

import (
	"fmt"
	"math/big"

	"github.com/nfcbridge/nfcbridge/group"
)

// curve is a standardized curve of package group with its parameters at
// hand for the integrated mapping (im.go), which computes on coordinates
// with math/big.
type curve struct {
	*group.Curve
	id      int
	name    string
	p, a, b *big.Int
	n       *big.Int
	g       point
	size    int // bytes of a field element, as in FE2OS
}

// point is an affine point; a nil X is the point at infinity.
type point = group.Point

// standardCurve returns the curve with the given standardized domain
// parameter ID (9303-11 §9.5.1, table 12).
func standardCurve(id int) (*curve, bool) {
	gc, ok := group.CurveByID(id)
	if !ok {
		return nil, false
	}
	return newCurve(gc), true
}

func newCurve(gc *group.Curve) *curve {
	pr := gc.Params()
	return &curve{Curve: gc, id: gc.ID(), name: gc.Name(), p: pr.P, a: pr.A, b: pr.B, n: pr.N, g: pr.G, size: gc.Size()}
}

// mod returns v mod p in [0, p).
func (c *curve) mod(v *big.Int) *big.Int { return v.Mod(v, c.p) }

func (c *curve) mul(x, y *big.Int) *big.Int { return c.mod(new(big.Int).Mul(x, y)) }
func (c *curve) sub(x, y *big.Int) *big.Int { return c.mod(new(big.Int).Sub(x, y)) }
func (c *curve) add(x, y *big.Int) *big.Int { return c.mod(new(big.Int).Add(x, y)) }

// rhs returns x³ + ax + b mod p.
func (c *curve) rhs(x *big.Int) *big.Int {
	x3 := c.mul(c.mul(x, x), x)
	return c.add(c.add(x3, c.mul(c.a, x)), c.b)
}

// decodePoint parses an uncompressed point, the only encoding 9303-11
// §9.4.1 allows in PACE, and validates it as TR-03111 §3.2.2.1 asks of a
// peer's public key (see group.Curve.Unmarshal).
func (c *curve) decodePoint(b []byte) (point, error) {
	if len(b) > 1 && b[0] != 4 {
		return point{}, fmt.Errorf("%w: not an uncompressed point", ErrInvalidKey)
	}
	pt, err := c.Unmarshal(b)
	if err != nil {
		return point{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return pt, nil
}
