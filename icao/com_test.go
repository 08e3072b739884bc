package icao

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

func TestParseCOMAppendixD4(t *testing.T) {
	var v struct {
		EFCOM string `json:"ef_com_hex,omitempty"`
	}
	testvectors.Load(t, "sm_3des.json", &v)
	b, err := hex.DecodeString(v.EFCOM)
	require.NoError(t, err)
	c, err := ParseCOM(b)
	require.NoError(t, err)
	assert.Equal(t, "0106", c.LDSVersion)
	assert.Equal(t, "040000", c.UnicodeVersion)
	assert.Equal(t, []tlv.Tag{0x61, 0x75}, c.Tags)
	assert.Equal(t, []int{1, 2}, c.DataGroups())
	assert.Equal(t, b, c.Raw)
	assert.Equal(t, b, EncodeCOM(c.LDSVersion, c.UnicodeVersion, c.Tags))
	b[len(b)-1] = 0x76
	assert.Equal(t, []tlv.Tag{0x61, 0x75}, c.Tags, "Raw must not alias the input")
}

func TestCOMDataGroups(t *testing.T) {
	all := []tlv.Tag{0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70}
	c, err := ParseCOM(EncodeCOM("0107", "040000", all))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, c.DataGroups())
	c, err = ParseCOM(EncodeCOM("0107", "040000", []tlv.Tag{0x6E, 0x77, 0x5F1F, 0x9F8101, 0x61}))
	require.NoError(t, err)
	assert.Equal(t, []tlv.Tag{0x6E, 0x77, 0x5F1F, 0x9F8101, 0x61}, c.Tags)
	assert.Equal(t, []int{14, 1}, c.DataGroups())
	c, err = ParseCOM(unhex(t, "6004 5C02 6175"))
	require.NoError(t, err, "versions are optional")
	assert.Empty(t, c.LDSVersion)
	c, err = ParseCOM(unhex(t, "600C 5C00 5301AA 5F0104 30313037"))
	require.NoError(t, err, "unknown objects are skipped, the tag list may be empty")
	assert.Empty(t, c.Tags)
	assert.Equal(t, "0107", c.LDSVersion)
}

func TestParseCOMErrors(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty input"},
		{"wrong tag", "6104 5C02 6175", "tag 61 where 60 was expected"},
		{"absurd length", "6084 7FFFFFFF 5C02", "declares 2147483647 bytes"},
		{"truncated", "6014 5F01 04 30313036", "declares 20 bytes"},
		{"trailing bytes", "6004 5C02 6175 00", "1 bytes after"},
		{"no tag list", "6007 5F01 04 30313037", "no tag list"},
		{"repeated tag list", "6008 5C02 6175 5C02 6175", "repeated tag 5C"},
		{"binary version", "600A 5F01 03 300031 5C02 6175", "not printable"},
		{"empty version", "6007 5F01 00 5C02 6175", "not printable"},
		{"truncated multi-byte tag in list", "6005 5C03 61 5F 81", "truncated or overlong tag"},
		{"overlong tag in list", "6007 5C05 5F 81 81 81 01", "truncated or overlong tag"},
		{"bad child", "6004 5C05 6175", "declares 5 bytes"},
		{"indefinite primitive", "6080 5C80 0000", "indefinite length on primitive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCOM(unhex(t, tc.in))
			assert.Nil(t, c)
			require.ErrorIs(t, err, ErrMalformedLDS)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
	c, err := ParseCOM(tlv.Encode(0x60, tlv.Encode(0x5C, bytes.Repeat([]byte{0x61}, maxCOMTags+1))))
	assert.Nil(t, c)
	assert.ErrorIs(t, err, tlv.ErrMalformed)
	assert.ErrorContains(t, err, "longer than 64 tags")
}
