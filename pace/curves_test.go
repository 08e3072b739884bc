package pace

import (
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEncodeToCurve checks that both branches of the Appendix B.2 encoding
// give points on every curve with p ≡ 3 mod 4, and that P-224 is refused.
func TestEncodeToCurve(t *testing.T) {
	for id := 8; id <= 18; id++ {
		c, _ := standardCurve(id)
		t.Run(c.name, func(t *testing.T) {
			if id == 10 {
				_, err := c.encodeToCurve(big.NewInt(5))
				require.Error(t, err, "P-224 accepted")
				return
			}
			branches := map[bool]bool{}
			for i := 0; i < 40 && len(branches) < 2; i++ {
				tt, _ := rand.Int(rand.Reader, c.p)
				if tt.Sign() == 0 {
					continue
				}
				pt, err := c.encodeToCurve(tt)
				require.NoError(t, err)
				require.True(t, c.IsOnCurve(pt), "encoded point not on the curve")
				alpha := c.sub(new(big.Int), c.mul(tt, tt))
				x2 := c.sub(new(big.Int), c.mul(c.mul(c.b, new(big.Int).ModInverse(c.a, c.p)),
					c.add(big.NewInt(1), new(big.Int).ModInverse(c.add(alpha, c.mul(alpha, alpha)), c.p))))
				branches[pt.X.Cmp(x2) == 0] = true
			}
			require.Len(t, branches, 2, "only one branch exercised")
		})
	}
}

func TestRandScalar(t *testing.T) {
	n := big.NewInt(0x1_0000) // 17 bits: 3 bytes, 7 masked bits
	got, err := randScalar(newScript([]byte{0xFF, 0xFF, 0xFF}, []byte{0xFE, 0x12, 0x34}), n)
	require.NoError(t, err)
	require.Equal(t, int64(0x1234), got.Int64(), "first try ≥ n is rejected, high bits masked")
	_, err = randScalar(newScript([]byte{0, 0, 0}), n)
	require.Error(t, err, "exhausted source accepted")
}
