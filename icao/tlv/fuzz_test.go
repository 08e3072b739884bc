package tlv_test

import (
	"bytes"
	"testing"

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
			if o.Tag != 0 || o.Value != nil || o.Raw != nil || rest != nil {
				t.Fatalf("error %v with results", err)
			}
			return
		}
		if len(o.Raw)+len(rest) != len(b) || !bytes.Equal(o.Raw, b[:len(o.Raw)]) {
			t.Fatal("Raw and rest do not split the input")
		}
		h, err := tlv.ParseHeader(b)
		if err != nil {
			t.Fatalf("Next accepted what ParseHeader rejects: %v", err)
		}
		if h.Indefinite {
			if !bytes.HasSuffix(o.Raw, []byte{0, 0}) || len(o.Value) != len(o.Raw)-h.Size-2 {
				t.Fatal("indefinite object without end-of-contents")
			}
			if _, err := tlv.Children(o.Value, len(o.Value)); err != nil {
				t.Fatalf("children of an indefinite object do not decode: %v", err)
			}
			return
		}
		header := tlv.AppendLength(tlv.AppendTag(nil, o.Tag), len(o.Value))
		if bytes.Equal(header, b[:h.Size]) && !bytes.Equal(tlv.Encode(o.Tag, o.Value), o.Raw) {
			t.Fatal("DER-shaped object does not round-trip")
		}
	})
}
