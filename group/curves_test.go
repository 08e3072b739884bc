package group

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// nistCurves are the curves crypto/ecdsa knows, by parameter ID.
var nistCurves = map[int]elliptic.Curve{10: elliptic.P224(), 12: elliptic.P256(), 15: elliptic.P384(), 18: elliptic.P521()}

func TestCurves(t *testing.T) {
	for _, c := range Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			require.True(t, c.p.ProbablyPrime(20), "p is not prime")
			require.True(t, c.n.ProbablyPrime(20), "n is not prime")
			require.True(t, c.IsOnCurve(c.g), "G is not on the curve")
			require.True(t, c.ScalarBaseMult(c.n).Infinity(), "n·G is not the point at infinity")
			negG := Point{X: c.g.X, Y: new(big.Int).Sub(c.p, c.g.Y)}
			require.True(t, c.ScalarBaseMult(new(big.Int).Sub(c.n, big.NewInt(1))).Equal(negG), "(n−1)·G is not −G")
			require.True(t, c.Add(c.g, negG).Infinity(), "G + (−G) is not the point at infinity")
			require.True(t, c.Add(c.g, c.g).Equal(c.ScalarBaseMult(big.NewInt(2))), "G + G ≠ 2·G")
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
	// Text(16) compares the values, whatever the internal big.Int form.
	require.Equal(t, p.P.Text(16), c.p.Text(16), "p differs from crypto/elliptic")
	require.Equal(t, p.N.Text(16), c.n.Text(16), "n differs from crypto/elliptic")
	require.Equal(t, p.B.Text(16), c.b.Text(16), "b differs from crypto/elliptic")
	require.Equal(t, p.Gx.Text(16), c.g.X.Text(16), "Gx differs from crypto/elliptic")
	require.Equal(t, p.Gy.Text(16), c.g.Y.Text(16), "Gy differs from crypto/elliptic")
	require.Equal(t, c.p.Text(16), new(big.Int).Add(c.a, big.NewInt(3)).Text(16), "a ≠ −3")
	for range 3 {
		k, err := rand.Int(rand.Reader, c.n)
		require.NoError(t, err)
		priv, err := ecdsa.ParseRawPrivateKey(e, k.FillBytes(make([]byte, (c.n.BitLen()+7)/8)))
		require.NoError(t, err)
		want, err := priv.PublicKey.Bytes()
		require.NoError(t, err)
		require.Equal(t, want, c.Marshal(c.ScalarBaseMult(k)), "k·G differs from crypto/ecdsa for k=%x", k)
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
	require.Len(t, Curves(), len(oids))
	for name, oid := range oids {
		c, ok := CurveByOID(oid)
		require.True(t, ok, "CurveByOID(%v)", oid)
		require.Equal(t, name, c.Name(), "CurveByOID(%v)", oid)
		byID, ok := CurveByID(c.ID())
		require.True(t, ok, "CurveByID(%d)", c.ID())
		require.Equal(t, name, byID.Name(), "CurveByID(%d)", c.ID())
		require.True(t, byID.OID().Equal(oid), "CurveByID(%d).OID() = %v, want %v", c.ID(), byID.OID(), oid)
	}
	_, ok := CurveByOID(asn1.ObjectIdentifier{1, 3, 132, 0, 10}) // secp256k1
	require.False(t, ok, "secp256k1 found")
	for _, id := range []int{0, 7, 19} {
		_, ok := CurveByID(id)
		require.False(t, ok, "curve %d found", id)
	}
}

func TestParamsAreCopies(t *testing.T) {
	c, _ := CurveByID(13)
	pr := c.Params()
	pr.P.SetInt64(7)
	pr.G.X.SetInt64(1)
	c.OID()[0] = 9
	require.True(t, c.IsOnCurve(c.Params().G), "changing returned parameters changed the curve")
	require.NotEqual(t, "7", c.Params().P.String(), "changing returned parameters changed the curve")
	require.Equal(t, 1, c.OID()[0], "changing returned parameters changed the curve")
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
				require.True(t, ok, "%s: not matched", tc.name)
				require.Equal(t, c.ID(), got.ID(), "%s: not matched", tc.name)
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
				_, ok := MatchExplicit(tc.p, tc.a, tc.b, tc.g, tc.n, tc.h)
				require.False(t, ok, "changed %s matched", tc.name)
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
			require.NoError(t, err, "uncompressed round trip")
			require.True(t, got.Equal(pt), "uncompressed round trip")
			comp := append([]byte{2 | byte(pt.Y.Bit(0))}, enc[1:1+c.Size()]...)
			got, err = c.Unmarshal(comp)
			require.NoError(t, err, "compressed")
			require.True(t, got.Equal(pt), "compressed")
			comp[0] ^= 1
			got, err = c.Unmarshal(comp)
			require.NoError(t, err, "compressed with the other parity")
			require.False(t, got.Equal(pt), "compressed with the other parity")
			require.True(t, c.IsOnCurve(got), "compressed with the other parity")
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
				_, err := c.Unmarshal(b)
				require.ErrorIs(t, err, ErrInvalidPoint, name)
			}
		})
	}
}

func bigBytes(v *big.Int, size int) []byte { return v.FillBytes(make([]byte, size)) }

func TestDHGroups(t *testing.T) {
	for id := 0; id <= 2; id++ {
		d, ok := DHByID(id)
		require.True(t, ok, "no group %d", id)
		t.Run(d.Name(), func(t *testing.T) {
			p, g, q := d.P(), d.G(), d.Q()
			require.True(t, p.ProbablyPrime(10), "p is not prime")
			require.True(t, q.ProbablyPrime(20), "q is not prime")
			pm1 := new(big.Int).Sub(p, big.NewInt(1))
			require.Zero(t, new(big.Int).Mod(pm1, q).Sign(), "q does not divide p−1")
			require.Positive(t, g.Cmp(big.NewInt(1)), "g does not have order q")
			require.Equal(t, "1", new(big.Int).Exp(g, q, p).String(), "g does not have order q")
			m, ok := MatchDH(p, g, q)
			require.True(t, ok, "MatchDH does not find the group")
			require.Equal(t, id, m.ID(), "MatchDH does not find the group")
			_, ok = MatchDH(p, new(big.Int).Add(g, big.NewInt(1)), q)
			require.False(t, ok, "MatchDH matched another generator")
			require.Equal(t, p.BitLen(), d.Size()*8, "size for a %d-bit p", p.BitLen())
		})
	}
	_, ok := DHByID(3)
	require.False(t, ok, "group 3 found")
}

// Curves returns every standardized curve, in parameter-ID order.
func Curves() []*Curve {
	cs := make([]*Curve, len(curveSpecs))
	for i := range curveSpecs {
		cs[i] = curveSpecs[i].curve()
	}
	return cs
}
