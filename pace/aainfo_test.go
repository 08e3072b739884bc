package pace

import (
	"encoding/asn1"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestActiveAuthInfo parses ActiveAuthenticationInfo (9303-11 §9.2) from a
// DG14; a malformed one stays in Other.
func TestActiveAuthInfo(t *testing.T) {
	ecdsaSHA256 := asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	good := securityInfo(oidAA, smallInt(1), appendOID(nil, ecdsaSHA256))
	bad := securityInfo(oidAA, smallInt(1))
	dg14 := append([]byte{0x6E}, encodeLen(EncodeSecurityInfos(nil, good, bad))...)
	s, err := ParseDG14(dg14)
	require.NoError(t, err)
	require.Len(t, s.ActiveAuth, 1)
	require.EqualValues(t, 1, s.ActiveAuth[0].Version)
	require.True(t, s.ActiveAuth[0].SignatureAlgorithm.Equal(ecdsaSHA256), "SignatureAlgorithm %v", s.ActiveAuth[0].SignatureAlgorithm)
	require.Len(t, s.Other, 1)
	_, err = ParseDG14([]byte{0x6F, 0})
	require.ErrorIs(t, err, ErrMalformed)
}

// encodeLen prefixes b with its DER length.
func encodeLen(b []byte) []byte {
	switch {
	case len(b) < 0x80:
		return append([]byte{byte(len(b))}, b...)
	case len(b) < 0x100:
		return append([]byte{0x81, byte(len(b))}, b...)
	}
	return append([]byte{0x82, byte(len(b) >> 8), byte(len(b))}, b...)
}
