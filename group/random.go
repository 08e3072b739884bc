package group

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// ErrRandom wraps a failing or exhausted random source.
var ErrRandom = errors.New("group: random source")

// RandomScalar returns a uniformly random integer in [1, n−1] by rejection
// sampling (FIPS 186-5 §A.2.2): it reads ⌈bitlen(n)/8⌉ bytes at a time and
// masks the excess high bits, so that a scripted source that supplies a
// key below n as its next bytes yields exactly that key (test vectors).
// A nil r is crypto/rand.
func RandomScalar(r io.Reader, n *big.Int) (*big.Int, error) {
	if r == nil {
		r = rand.Reader
	}
	size := (n.BitLen() + 7) / 8
	buf := make([]byte, size)
	defer clear(buf)
	excess := uint(size*8 - n.BitLen())
	for range 64 {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRandom, err)
		}
		buf[0] &= 0xFF >> excess
		k := new(big.Int).SetBytes(buf)
		if k.Sign() > 0 && k.Cmp(n) < 0 {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: no scalar in range after 64 tries", ErrRandom)
}
