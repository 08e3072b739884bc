package activeauth

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// FuzzParseDG15 checks that ParseDG15 never panics, returns nil with an
// error, and that a parsed key re-encodes to the same data group.
func FuzzParseDG15(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "testdata", "realdata", "NZ", "DG15.bin")); err == nil {
		f.Add(b)
	}
	f.Add([]byte{0x6F, 0x02, 0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseDG15(b)
		if err != nil {
			require.Nil(t, k, "key with an error")
			return
		}
		again := tlv.Encode(0x6F, k.Raw)
		require.True(t, bytes.HasPrefix(b, again), "re-encoding differs:\n%x\n%x", again, b)
		_, err = ResponseLen(k)
		require.NoError(t, err)
	})
}

// FuzzRecover checks that Recover never panics and that what it recovers
// rebuilds the representative byte for byte.
func FuzzRecover(f *testing.F) {
	if pub, err := ParseDG15(readNZ(f, "DG15.bin")); err == nil {
		s := new(big.Int).SetBytes(readNZ(f, "AA-response"))
		m := s.Exp(s, big.NewInt(int64(pub.RSA.E)), pub.RSA.N)
		f.Add(m.FillBytes(make([]byte, (pub.RSA.N.BitLen()+6)/8)))
	}
	f.Add(append(append([]byte{0x4B, 0xBB, 0xBA}, make([]byte, 20)...), 0xBC))
	f.Add(append(append([]byte{0x6A}, make([]byte, 40)...), 0x34, 0xCC))
	f.Fuzz(func(t *testing.T, block []byte) {
		r, err := Recover(block)
		if err != nil {
			require.Nil(t, r.M1, "content with an error")
			require.Nil(t, r.Digest, "content with an error")
			return
		}
		require.Len(t, r.Digest, r.Hash.Size(), "digest for %v", r.Hash)
		require.Equal(t, block, rebuild(r, block[0]), "rebuilt representative differs")
	})
}

// rebuild encodes a recovered representative again.
func rebuild(r Recovered, header byte) []byte {
	out := []byte{header}
	if r.Padding > 0 {
		out = append(out, bytes.Repeat([]byte{0xBB}, r.Padding-1)...)
		out = append(out, 0xBA)
	}
	out = append(out, r.M1...)
	out = append(out, r.Digest...)
	if r.Implicit {
		return append(out, 0xBC)
	}
	return append(out, trailerID[r.Hash], 0xCC)
}
