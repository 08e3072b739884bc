package pace

import (
	"crypto/elliptic"
	"crypto/rand"
	"math/big"
	"testing"
)

func TestCurves(t *testing.T) {
	nist := map[int]elliptic.Curve{10: elliptic.P224(), 12: elliptic.P256(), 15: elliptic.P384(), 18: elliptic.P521()}
	for id := 8; id <= 18; id++ {
		c, ok := standardCurve(id)
		if !ok {
			t.Fatalf("no curve %d", id)
		}
		t.Run(c.name, func(t *testing.T) {
			if !c.p.ProbablyPrime(20) || !c.n.ProbablyPrime(20) {
				t.Fatal("p or n is not prime")
			}
			if !c.onCurve(c.g) {
				t.Fatal("G is not on the curve")
			}
			if !c.scalarMult(c.g, c.n).infinity() {
				t.Fatal("n·G is not the point at infinity")
			}
			if got := c.scalarMult(c.g, new(big.Int).Sub(c.n, big.NewInt(1))); !got.equal(point{x: c.g.x, y: c.sub(c.p, c.g.y)}) {
				t.Fatal("(n−1)·G is not −G")
			}
			if e, ok := nist[id]; ok {
				compareNIST(t, c, e)
			}
		})
	}
}

// compareNIST checks constants and scalar multiplication against
// crypto/elliptic.
func compareNIST(t *testing.T, c *curve, e elliptic.Curve) {
	t.Helper()
	p := e.Params()
	if p.P.Cmp(c.p) != 0 || p.N.Cmp(c.n) != 0 || p.B.Cmp(c.b) != 0 || p.Gx.Cmp(c.g.x) != 0 || p.Gy.Cmp(c.g.y) != 0 {
		t.Fatal("constants differ from crypto/elliptic")
	}
	if c.add(c.a, big.NewInt(3)).Sign() != 0 {
		t.Fatal("a ≠ −3")
	}
	for range 3 {
		k, err := rand.Int(rand.Reader, c.n)
		if err != nil {
			t.Fatal(err)
		}
		x, y := e.ScalarBaseMult(k.Bytes()) //nolint:staticcheck // reference implementation for the test
		if got := c.scalarMult(c.g, k); got.infinity() || got.x.Cmp(x) != 0 || got.y.Cmp(y) != 0 {
			t.Fatalf("k·G differs from crypto/elliptic for k=%x", k)
		}
	}
}

func TestDHGroups(t *testing.T) {
	for id := 0; id <= 2; id++ {
		d, ok := standardDH(id)
		if !ok {
			t.Fatalf("no group %d", id)
		}
		t.Run(d.name, func(t *testing.T) {
			if !d.p.ProbablyPrime(10) || !d.q.ProbablyPrime(20) {
				t.Fatal("p or q is not prime")
			}
			pm1 := new(big.Int).Sub(d.p, big.NewInt(1))
			if new(big.Int).Mod(pm1, d.q).Sign() != 0 {
				t.Fatal("q does not divide p−1")
			}
			if err := d.check(d.g.Bytes()); err != nil {
				t.Fatalf("g fails validation: %v", err)
			}
		})
	}
}

// TestEncodeToCurve checks that both branches of the Appendix B.2 encoding
// give points on every curve with p ≡ 3 mod 4, and that P-224 is refused.
func TestEncodeToCurve(t *testing.T) {
	for id := 8; id <= 18; id++ {
		c, _ := standardCurve(id)
		t.Run(c.name, func(t *testing.T) {
			if id == 10 {
				if _, err := c.encodeToCurve(big.NewInt(5)); err == nil {
					t.Fatal("P-224 accepted")
				}
				return
			}
			branches := map[bool]bool{}
			for i := 0; i < 40 && len(branches) < 2; i++ {
				tt, _ := rand.Int(rand.Reader, c.p)
				if tt.Sign() == 0 {
					continue
				}
				pt, err := c.encodeToCurve(tt)
				if err != nil {
					t.Fatal(err)
				}
				if !c.onCurve(pt) {
					t.Fatal("encoded point not on the curve")
				}
				alpha := c.sub(new(big.Int), c.mul(tt, tt))
				x2 := c.sub(new(big.Int), c.mul(c.mul(c.b, new(big.Int).ModInverse(c.a, c.p)),
					c.add(big.NewInt(1), new(big.Int).ModInverse(c.add(alpha, c.mul(alpha, alpha)), c.p))))
				branches[pt.x.Cmp(x2) == 0] = true
			}
			if len(branches) != 2 {
				t.Fatal("only one branch exercised")
			}
		})
	}
}

func TestRandScalar(t *testing.T) {
	n := big.NewInt(0x1_0000) // 17 bits: 3 bytes, 7 masked bits
	got, err := randScalar(newScript([]byte{0xFF, 0xFF, 0xFF}, []byte{0xFE, 0x12, 0x34}), n)
	if err != nil {
		t.Fatal(err)
	}
	if got.Int64() != 0x1234 {
		t.Fatalf("got %x, want 1234 (first try ≥ n is rejected, high bits masked)", got)
	}
	if _, err := randScalar(newScript([]byte{0, 0, 0}), n); err == nil {
		t.Fatal("exhausted source accepted")
	}
}
