package tlv_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want tlv.Header
	}{
		{"short length 0", "04 00", tlv.Header{Tag: 0x04, Len: 0, Size: 2}},
		{"short length 7F", "04 7F", tlv.Header{Tag: 0x04, Len: 0x7F, Size: 2}},
		{"81 80", "04 81 80", tlv.Header{Tag: 0x04, Len: 0x80, Size: 3}},
		{"81 81", "04 81 81", tlv.Header{Tag: 0x04, Len: 0x81, Size: 3}},
		{"81 FF", "04 81 FF", tlv.Header{Tag: 0x04, Len: 0xFF, Size: 3}},
		{"82 0100", "04 82 01 00", tlv.Header{Tag: 0x04, Len: 0x100, Size: 4}},
		{"82 FFFF", "04 82 FF FF", tlv.Header{Tag: 0x04, Len: 0xFFFF, Size: 4}},
		{"83 010000", "04 83 01 00 00", tlv.Header{Tag: 0x04, Len: 0x10000, Size: 5}},
		{"84 7FFFFFFF", "04 84 7F FF FF FF", tlv.Header{Tag: 0x04, Len: 1<<31 - 1, Size: 6}},
		{"non-minimal length", "04 81 05", tlv.Header{Tag: 0x04, Len: 5, Size: 3}},
		{"tag 5F1F", "5F 1F 58", tlv.Header{Tag: 0x5F1F, Len: 0x58, Size: 3}},
		{"tag 7F61", "7F 61 82 12 34", tlv.Header{Tag: 0x7F61, Len: 0x1234, Size: 5}},
		{"tag 5F2E", "5F 2E 81 90", tlv.Header{Tag: 0x5F2E, Len: 0x90, Size: 4}},
		{"three-byte tag", "9F 81 01 02", tlv.Header{Tag: 0x9F8101, Len: 2, Size: 4}},
		{"four-byte tag", "9F 81 81 01 02", tlv.Header{Tag: 0x9F818101, Len: 2, Size: 5}},
		{"indefinite", "30 80", tlv.Header{Tag: 0x30, Len: -1, Size: 2, Indefinite: true}},
		{"indefinite 7F61", "7F 61 80", tlv.Header{Tag: 0x7F61, Len: -1, Size: 3, Indefinite: true}},
		{"header only: length beyond input", "77 82 07 D0", tlv.Header{Tag: 0x77, Len: 2000, Size: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tlv.ParseHeader(unhex(t, tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, h)
		})
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty input"},
		{"no length", "04", "missing length"},
		{"no length after long tag", "5F 1F", "missing length"},
		{"truncated tag", "5F", "truncated tag"},
		{"truncated three-byte tag", "9F 81", "truncated tag"},
		{"five-byte tag", "9F 81 81 81 01 00", "tag longer"},
		{"five length bytes", "04 85 00 00 00 00 01", "5 length bytes"},
		{"length byte FF", "04 FF", "127 length bytes"},
		{"truncated 82", "04 82 01", "truncated length"},
		{"truncated 84", "04 84 00 00 01", "truncated length"},
		{"length above 2^31-1", "04 84 80 00 00 00", "too large"},
		{"indefinite primitive", "04 80", "indefinite length on primitive"},
		{"indefinite 5F1F", "5F 1F 80", "indefinite length on primitive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tlv.ParseHeader(unhex(t, tc.in))
			require.ErrorIs(t, err, tlv.ErrMalformed)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name             string
		in               string
		tag              tlv.Tag
		value, raw, rest string
	}{
		{"primitive", "04 02 AA BB CC", 0x04, "AABB", "0402AABB", "CC"},
		{"empty value", "05 00", 0x05, "", "0500", ""},
		{"constructed definite", "30 03 02 01 05 FF", 0x30, "020105", "3003020105", "FF"},
		{"indefinite", "30 80 02 01 05 00 00 AA", 0x30, "020105", "3080020105 0000", "AA"},
		{"indefinite empty", "30 80 00 00", 0x30, "", "30800000", ""},
		{"nested indefinite", "30 80 A0 80 04 01 01 00 00 04 00 00 00", 0x30, "A080040101000004 00", "3080 A080040101000004 00 0000", ""},
		{"definite holding indefinite", "30 07 A0 80 04 01 01 00 00", 0x30, "A0800401010000", "3007A0800401010000", ""},
		{"multi-byte tag", "5F 1F 02 41 42", 0x5F1F, "4142", "5F1F024142", ""},
		{"tag 00 inside indefinite", "30 80 00 01 AA 00 00", 0x30, "0001AA", "3080 0001AA 0000", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, rest, err := tlv.Next(unhex(t, tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.tag, o.Tag)
			assert.Equal(t, unhex(t, tc.value), nonNil(o.Value))
			assert.Equal(t, unhex(t, tc.raw), o.Raw)
			assert.Equal(t, unhex(t, tc.rest), nonNil(rest))
		})
	}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func TestBoundaryLengths(t *testing.T) {
	for _, n := range []int{0, 1, 0x7F, 0x80, 0x81, 0xFF, 0x100, 0x101, 0xFFFF, 0x10000} {
		value := bytes.Repeat([]byte{0xA5}, n)
		enc := tlv.Encode(0x5F2E, value)
		o, err := tlv.DecodeExpect(enc, 0x5F2E)
		require.NoError(t, err, n)
		assert.Equal(t, value, nonNil(o.Value), n)
		assert.Equal(t, enc, o.Raw, n)
		// One byte short of the declared length.
		_, err = tlv.Decode(enc[:len(enc)-1])
		if n > 0 {
			assert.ErrorIs(t, err, tlv.ErrMalformed, n)
		}
	}
}

func TestAppendLength(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "00"}, {0x7F, "7F"}, {0x80, "8180"}, {0x81, "8181"}, {0xFF, "81FF"},
		{0x100, "820100"}, {0xFFFF, "82FFFF"}, {0x10000, "83010000"}, {0xFFFFFF, "83FFFFFF"},
		{0x1000000, "8401000000"},
	}
	for _, tc := range tests {
		assert.Equal(t, unhex(t, tc.want), tlv.AppendLength(nil, tc.n), "%#x", tc.n)
	}
}

func TestAppendTag(t *testing.T) {
	for _, tc := range []struct {
		tag  tlv.Tag
		want string
	}{{0x04, "04"}, {0x5F1F, "5F1F"}, {0x7F61, "7F61"}, {0x9F8101, "9F8101"}, {0x9F818101, "9F818101"}} {
		assert.Equal(t, unhex(t, tc.want), tlv.AppendTag(nil, tc.tag))
		assert.Equal(t, unhex(t, tc.want+"00"), tlv.Encode(tc.tag, nil))
	}
}

func TestNextErrors(t *testing.T) {
	deep := strings.Repeat("30 80 ", tlv.MaxDepth+1) + strings.Repeat("00 00 ", tlv.MaxDepth+1)
	ok := strings.Repeat("30 80 ", tlv.MaxDepth) + strings.Repeat("00 00 ", tlv.MaxDepth)
	_, _, err := tlv.Next(unhex(t, ok))
	require.NoError(t, err, "MaxDepth levels of indefinite length")
	tests := []struct {
		name, in, msg string
	}{
		{"truncated value", "04 03 01 02", "declares 3 bytes, 2 present"},
		{"truncated long value", "04 82 01 00 00", "declares 256 bytes, 1 present"},
		{"value past end of input", "5F 2E 84 7F FF FF FF 00", "declares 2147483647 bytes"},
		{"missing end-of-contents", "30 80 02 01 05", "no end-of-contents"},
		{"half end-of-contents", "30 80 02 01 05 00", "missing length after tag 00"},
		{"nested missing end-of-contents", "30 80 A0 80 04 00 00 00", "no end-of-contents"},
		{"bad child in indefinite", "30 80 04 05 01 00 00", "declares 5 bytes"},
		{"too deep", deep, "nested deeper"},
		{"empty", "", "empty input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, rest, err := tlv.Next(unhex(t, tc.in))
			require.ErrorIs(t, err, tlv.ErrMalformed)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Equal(t, tlv.Object{}, o)
			assert.Nil(t, rest)
		})
	}
}

func TestDecode(t *testing.T) {
	_, err := tlv.Decode(unhex(t, "04 01 AA BB"))
	assert.ErrorContains(t, err, "1 bytes after tag 04")
	_, err = tlv.DecodeExpect(unhex(t, "04 01 AA"), 0x30)
	assert.ErrorContains(t, err, "tag 04 where 30 was expected")
	assert.ErrorIs(t, err, tlv.ErrMalformed)
	o, err := tlv.DecodeExpect(append(unhex(t, "61 5B 5F 1F 58"), strings.Repeat("<", 88)...), 0x61)
	require.NoError(t, err)
	assert.Len(t, o.Value, 0x5B)
}

func TestChildren(t *testing.T) {
	v := unhex(t, "02 01 01 7F 60 80 A1 00 00 00 7F 60 02 A1 00")
	objs, err := tlv.Children(v, 3)
	require.NoError(t, err)
	require.Len(t, objs, 3)
	assert.Equal(t, []tlv.Tag{0x02, 0x7F60, 0x7F60}, []tlv.Tag{objs[0].Tag, objs[1].Tag, objs[2].Tag})
	_, err = tlv.Children(v, 2)
	assert.ErrorContains(t, err, "more than 2 objects")
	objs, err = tlv.Children(nil, 2)
	assert.NoError(t, err)
	assert.Empty(t, objs)
	objs, err = tlv.Children(unhex(t, "02 01 01 04 05"), 4)
	assert.ErrorIs(t, err, tlv.ErrMalformed)
	assert.Nil(t, objs)
}

func TestFind(t *testing.T) {
	v := unhex(t, "5F 01 04 30 31 30 37 5C 02 61 75")
	o, ok, err := tlv.Find(v, 0x5C)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, unhex(t, "6175"), o.Value)
	_, ok, err = tlv.Find(v, 0x5F36)
	assert.NoError(t, err)
	assert.False(t, ok)
	_, ok, err = tlv.Find(unhex(t, "5F 01 09 30"), 0x5C)
	assert.ErrorIs(t, err, tlv.ErrMalformed)
	assert.False(t, ok)
}

func TestTag(t *testing.T) {
	assert.True(t, tlv.Tag(0x30).Constructed())
	assert.True(t, tlv.Tag(0x7F61).Constructed())
	assert.True(t, tlv.Tag(0xA1).Constructed())
	assert.False(t, tlv.Tag(0x5F1F).Constructed())
	assert.False(t, tlv.Tag(0x04).Constructed())
	assert.Equal(t, "5F1F", tlv.Tag(0x5F1F).String())
	assert.Equal(t, "04", tlv.Tag(0x04).String())
}

func TestLengthSizeAndFitValue(t *testing.T) {
	for _, n := range []int{0, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFFFF, 0x1000000} {
		assert.Equal(t, len(tlv.AppendLength(nil, n)), tlv.LengthSize(n), "tlv.LengthSize(%#x) against the bytes AppendLength writes", n)
	}
	tests := []struct{ n, want int }{
		{n: 0, want: 0}, {n: 1, want: 0}, {n: 2, want: 0}, {n: 3, want: 1},
		{n: 129, want: 127}, {n: 130, want: 127}, {n: 131, want: 128},
		{n: 223, want: 220}, {n: 258, want: 255}, {n: 259, want: 255}, {n: 260, want: 256},
	}
	for _, tc := range tests {
		got := tlv.FitValue(tc.n)
		assert.Equal(t, tc.want, got, "FitValue(%d)", tc.n)
		if got > 0 {
			assert.LessOrEqual(t, len(tlv.Encode(0x53, make([]byte, got))), tc.n, "FitValue(%d) = %d does not fit", tc.n, got)
		}
		assert.Greater(t, len(tlv.Encode(0x53, make([]byte, got+1))), tc.n, "FitValue(%d) = %d, but %d fits", tc.n, got, got+1)
	}
}
