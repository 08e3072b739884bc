package tlv_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// FuzzDecode checks that decoding never panics, returns nothing on error,
// keeps its results inside the input, and that a definite-length object
// with a minimal header re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"60145f0104303130365f36063034303030305c026175", // EF.COM of 9303-11 D.4
		"3080020105a080040101000000000000",
		"7f61820100",
		"5f1f0141",
		"0481ff",
		"9f81810100",
		"3080308030800000000000",
	} {
		f.Add(unhex(f, seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, rest, err := tlv.Next(b)
		if err != nil {
			require.Zero(t, o.Tag, "error %v with results", err)
			require.Nil(t, o.Value, "error %v with results", err)
			require.Nil(t, o.Raw, "error %v with results", err)
			require.Nil(t, rest, "error %v with results", err)
			return
		}
		require.Equal(t, len(b), len(o.Raw)+len(rest), "Raw and rest do not split the input")
		require.Equal(t, b[:len(o.Raw)], o.Raw, "Raw and rest do not split the input")
		h, err := tlv.ParseHeader(b)
		require.NoError(t, err, "Next accepted what ParseHeader rejects")
		if h.Indefinite {
			require.True(t, bytes.HasSuffix(o.Raw, []byte{0, 0}), "indefinite object without end-of-contents")
			require.Len(t, o.Value, len(o.Raw)-h.Size-2, "indefinite object without end-of-contents")
			_, err := tlv.Children(o.Value, len(o.Value))
			require.NoError(t, err, "children of an indefinite object do not decode")
			return
		}
		header := tlv.AppendLength(tlv.AppendTag(nil, o.Tag), len(o.Value))
		if bytes.Equal(header, b[:h.Size]) {
			require.Equal(t, o.Raw, tlv.Encode(o.Tag, o.Value), "DER-shaped object does not round-trip")
		}
	})
}
