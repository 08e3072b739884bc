package chipauth

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/pace"
)

// FuzzKeys feeds DG14 files through pace.ParseDG14 and Keys: no panic, nil
// with an error, and every key found is complete and valid.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{"AT", "DE", "MY", "FR"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", "realdata", s, "DG14.bin")); err == nil {
			f.Add(b)
		}
	}
	// testdata/fuzz/FuzzKeys holds a DG14 the virtual chip's key generator
	// made: a DH-1024 key with keyId 9 and its AES-192 info.
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := pace.ParseDG14(b)
		if err != nil {
			require.Nil(t, s, "result with an error")
			return
		}
		for _, k := range Keys(s) {
			require.True(t, k.Protocol.valid(), "incomplete key %v", k)
			require.NotEmpty(t, k.Domain(), "incomplete key %v", k)
			require.NotEmpty(t, k.PublicKey(), "incomplete key %v", k)
			if k.curve != nil {
				_, err := k.curve.Unmarshal(k.pub)
				require.NoError(t, err, "invalid point accepted")
			}
			_ = k.String()
		}
	})
}

// PublicKey returns a copy of the encoded public key: an uncompressed point
// for ECDH, the public value for DH.
func (k Key) PublicKey() []byte { return bytes.Clone(k.pub) }
