package group

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
)

// nistCurves are the curves crypto/ecdsa knows, by parameter ID.
var nistCurves = map[int]elliptic.Curve{10: elliptic.P224(), 12: elliptic.P256(), 15: elliptic.P384(), 18: elliptic.P521()}

func TestCurves(t *testing.T) {
	for _, c := range Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			if !c.p.ProbablyPrime(20) || !c.n.ProbablyPrime(20) {
				t.Fatal("p or n is not prime")
			}
			if !c.IsOnCurve(c.g) {
				t.Fatal("G is not on the curve")
			}
			if !c.ScalarBaseMult(c.n).Infinity() {
				t.Fatal("n·G is not the point at infinity")
			}
			negG := Point{X: c.g.X, Y: new(big.Int).Sub(c.p, c.g.Y)}
			if got := c.ScalarBaseMult(new(big.Int).Sub(c.n, big.NewInt(1))); !got.Equal(negG) {
				t.Fatal("(n−1)·G is not −G")
			}
			if !c.Add(c.g, negG).Infinity() {
				t.Fatal("G + (−G) is not the point at infinity")
			}
			if got := c.Add(c.g, c.g); !got.Equal(c.ScalarBaseMult(big.NewInt(2))) {
				t.Fatal("G + G ≠ 2·G")
			}
			if e, ok := nistCurves[c.ID()]; ok {
				compareNIST(t, c, e)
			}
		})
	}
}

// compareNIST checks constants and scalar multiplication against
// crypto/ecdsa (ParseRawPrivateKey derives the public key k·G).
func compareNIST(t *testing.T, c *Curve, e elliptic.Curve) {
	t.Helper()
	p := e.Params()
	if p.P.Cmp(c.p) != 0 || p.N.Cmp(c.n) != 0 || p.B.Cmp(c.b) != 0 || p.Gx.Cmp(c.g.X) != 0 || p.Gy.Cmp(c.g.Y) != 0 {
		t.Fatal("constants differ from crypto/elliptic")
	}
	if v := new(big.Int).Add(c.a, big.NewInt(3)); v.Cmp(c.p) != 0 {
		t.Fatal("a ≠ −3")
	}
	for range 3 {
		k, err := rand.Int(rand.Reader, c.n)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := ecdsa.ParseRawPrivateKey(e, k.FillBytes(make([]byte, (c.n.BitLen()+7)/8)))
		if err != nil {
			t.Fatal(err)
		}
		want, err := priv.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Marshal(c.ScalarBaseMult(k)); string(got) != string(want) {
			t.Fatalf("k·G differs from crypto/ecdsa for k=%x", k)
		}
	}
}

func TestLookup(t *testing.T) {
	oids := map[string]asn1.ObjectIdentifier{
		"P-192": {1, 2, 840, 10045, 3, 1, 1}, "P-224": {1, 3, 132, 0, 33}, "P-256": {1, 2, 840, 10045, 3, 1, 7},
		"P-384": {1, 3, 132, 0, 34}, "P-521": {1, 3, 132, 0, 35},
		"brainpoolP192r1": {1, 3, 36, 3, 3, 2, 8, 1, 1, 3}, "brainpoolP224r1": {1, 3, 36, 3, 3, 2, 8, 1, 1, 5},
		"brainpoolP256r1": {1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, "brainpoolP320r1": {1, 3, 36, 3, 3, 2, 8, 1, 1, 9},
		"brainpoolP384r1": {1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, "brainpoolP512r1": {1, 3, 36, 3, 3, 2, 8, 1, 1, 13},
	}
	if len(Curves()) != len(oids) {
		t.Fatalf("%d curves, want %d", len(Curves()), len(oids))
	}
	for name, oid := range oids {
		c, ok := CurveByOID(oid)
		if !ok || c.Name() != name {
			t.Fatalf("CurveByOID(%v) = %v, %v; want %s", oid, c, ok, name)
		}
		byID, ok := CurveByID(c.ID())
		if !ok || byID.Name() != name || !byID.OID().Equal(oid) {
			t.Fatalf("CurveByID(%d) = %v", c.ID(), byID)
		}
	}
	if _, ok := CurveByOID(asn1.ObjectIdentifier{1, 3, 132, 0, 10}); ok { // secp256k1
		t.Fatal("secp256k1 found")
	}
	for _, id := range []int{0, 7, 19} {
		if _, ok := CurveByID(id); ok {
			t.Fatalf("curve %d found", id)
		}
	}
}

func TestParamsAreCopies(t *testing.T) {
	c, _ := CurveByID(13)
	pr := c.Params()
	pr.P.SetInt64(7)
	pr.G.X.SetInt64(1)
	c.OID()[0] = 9
	if !c.IsOnCurve(c.Params().G) || c.Params().P.Cmp(big.NewInt(7)) == 0 || c.OID()[0] != 1 {
		t.Fatal("changing returned parameters changed the curve")
	}
}

func TestMatchExplicit(t *testing.T) {
	one := big.NewInt(1)
	for _, c := range Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			pr := c.Params()
			g := c.Marshal(pr.G)
			compressed := append([]byte{2 | byte(pr.G.Y.Bit(0))}, c.FieldBytes(pr.G.X)...)
			for _, tc := range []struct {
				name string
				g    []byte
				h    *big.Int
			}{{"uncompressed G", g, one}, {"compressed G", compressed, one}, {"no cofactor", g, nil}} {
				got, ok := MatchExplicit(pr.P, pr.A, pr.B, tc.g, pr.N, tc.h)
				if !ok || got.ID() != c.ID() {
					t.Fatalf("%s: not matched", tc.name)
				}
			}
			inc := func(v *big.Int) *big.Int { return new(big.Int).Add(v, one) }
			otherG := c.Marshal(c.ScalarBaseMult(big.NewInt(2)))
			for _, tc := range []struct {
				name       string
				p, a, b, n *big.Int
				g          []byte
				h          *big.Int
			}{
				{name: "p", p: inc(pr.P), a: pr.A, b: pr.B, g: g, n: pr.N, h: one},
				{name: "a", p: pr.P, a: inc(pr.A), b: pr.B, g: g, n: pr.N, h: one},
				{name: "b", p: pr.P, a: pr.A, b: inc(pr.B), g: g, n: pr.N, h: one},
				{name: "G", p: pr.P, a: pr.A, b: pr.B, g: otherG, n: pr.N, h: one},
				{name: "G off curve", p: pr.P, a: pr.A, b: pr.B, g: append(g[:len(g)-1:len(g)-1], g[len(g)-1]^1), n: pr.N, h: one},
				{name: "n", p: pr.P, a: pr.A, b: pr.B, g: g, n: inc(pr.N), h: one},
				{name: "h", p: pr.P, a: pr.A, b: pr.B, g: g, n: pr.N, h: big.NewInt(2)},
				{name: "nil a", p: pr.P, b: pr.B, g: g, n: pr.N, h: one},
			} {
				if _, ok := MatchExplicit(tc.p, tc.a, tc.b, tc.g, tc.n, tc.h); ok {
					t.Fatalf("changed %s matched", tc.name)
				}
			}
		})
	}
}

func TestUnmarshal(t *testing.T) {
	for _, c := range Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			k, _ := rand.Int(rand.Reader, c.n)
			pt := c.ScalarBaseMult(k.Add(k, big.NewInt(1)))
			enc := c.Marshal(pt)
			got, err := c.Unmarshal(enc)
			if err != nil || !got.Equal(pt) {
				t.Fatalf("uncompressed round trip: %v", err)
			}
			comp := append([]byte{2 | byte(pt.Y.Bit(0))}, enc[1:1+c.Size()]...)
			if got, err = c.Unmarshal(comp); err != nil || !got.Equal(pt) {
				t.Fatalf("compressed: %v", err)
			}
			comp[0] ^= 1
			if got, err = c.Unmarshal(comp); err != nil || got.Equal(pt) || !c.IsOnCurve(got) {
				t.Fatalf("compressed with the other parity: %v", err)
			}
			pBytes := append(append([]byte{4}, bigBytes(c.p, c.Size())...), enc[1+c.Size():]...)
			for name, b := range map[string][]byte{
				"infinity":         {0},
				"empty":            {},
				"format 05":        append([]byte{5}, enc[1:]...),
				"short":            enc[:len(enc)-1],
				"long":             append(enc[:len(enc):len(enc)], 0),
				"off curve":        append(enc[:len(enc)-1:len(enc)-1], enc[len(enc)-1]^1),
				"x = p":            pBytes,
				"compressed x = p": append([]byte{2}, bigBytes(c.p, c.Size())...),
			} {
				if _, err := c.Unmarshal(b); !errors.Is(err, ErrInvalidPoint) {
					t.Fatalf("%s: got %v, want ErrInvalidPoint", name, err)
				}
			}
		})
	}
}

func bigBytes(v *big.Int, size int) []byte { return v.FillBytes(make([]byte, size)) }

func TestDHGroups(t *testing.T) {
	for id := 0; id <= 2; id++ {
		d, ok := DHByID(id)
		if !ok {
			t.Fatalf("no group %d", id)
		}
		t.Run(d.Name(), func(t *testing.T) {
			p, g, q := d.P(), d.G(), d.Q()
			if !p.ProbablyPrime(10) || !q.ProbablyPrime(20) {
				t.Fatal("p or q is not prime")
			}
			pm1 := new(big.Int).Sub(p, big.NewInt(1))
			if new(big.Int).Mod(pm1, q).Sign() != 0 {
				t.Fatal("q does not divide p−1")
			}
			if g.Cmp(big.NewInt(1)) <= 0 || new(big.Int).Exp(g, q, p).Cmp(big.NewInt(1)) != 0 {
				t.Fatal("g does not have order q")
			}
			if m, ok := MatchDH(p, g, q); !ok || m.ID() != id {
				t.Fatal("MatchDH does not find the group")
			}
			if _, ok := MatchDH(p, new(big.Int).Add(g, big.NewInt(1)), q); ok {
				t.Fatal("MatchDH matched another generator")
			}
			if d.Size()*8 != p.BitLen() {
				t.Fatalf("size %d for a %d-bit p", d.Size(), p.BitLen())
			}
		})
	}
	if _, ok := DHByID(3); ok {
		t.Fatal("group 3 found")
	}
}

// Curves returns every standardized curve, in parameter-ID order.
func Curves() []*Curve {
	cs := make([]*Curve, len(curveSpecs))
	for i := range curveSpecs {
		cs[i] = curveSpecs[i].curve()
	}
	return cs
}
