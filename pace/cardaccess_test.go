package pace

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

// opensslP256 is `openssl ecparam -name prime256v1 -param_enc explicit
// -outform DER`: explicit ECParameters with a seed, as chips write them.
const opensslP256 = "3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff" +
	"305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b" +
	"031500c49d360886e704936a6678e1139d26b7819f7e9004410" +
	"46b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5" +
	"022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101"

// explicitEC encodes c as explicit ECParameters without a seed.
func explicitEC(c *curve) []byte {
	field := appendOID(nil, oidPrimeField)
	field = appendInt(field, c.p)
	coeff := tlv.Append(nil, tagOctetString, c.FieldBytes(c.a))
	coeff = tlv.Append(coeff, tagOctetString, c.FieldBytes(c.b))
	body := appendSmallInt(nil, 1)
	body = tlv.Append(body, tagSequence, field)
	body = tlv.Append(body, tagSequence, coeff)
	body = tlv.Append(body, tagOctetString, c.Marshal(c.g))
	body = appendInt(body, c.n)
	body = appendSmallInt(body, 1)
	return tlv.Encode(tagSequence, body)
}

// algorithmID encodes an AlgorithmIdentifier.
func algorithmID(oid asn1.ObjectIdentifier, params []byte) []byte {
	return tlv.Encode(tagSequence, append(appendOID(nil, oid), params...))
}

// securityInfo encodes SEQUENCE { oid, rest… }.
func securityInfo(oid asn1.ObjectIdentifier, rest ...[]byte) []byte {
	return tlv.Encode(tagSequence, append(appendOID(nil, oid), bytes.Join(rest, nil)...))
}

func smallInt(v int) []byte { return appendSmallInt(nil, v) }

func TestParseCardAccess(t *testing.T) {
	bp, _ := standardCurve(13)
	odd, _ := standardCurve(13)
	odd.b = new(big.Int).Add(odd.b, big.NewInt(1))
	dh, _ := standardDH(0)
	dhParams := tlv.Encode(tagSequence, appendInt(appendInt(appendInt(nil, dh.p), dh.g), dh.q))
	gm := paceInfo(arcECDHGM, 2, 32)
	im := paceInfo(arcECDHIM, 4, 33)
	dhgm := paceInfo(arcDHGM, 1, 34)
	odds := paceInfo(arcECDHGM, 3, 35)
	caOID := append(oidCA[:len(oidCA):len(oidCA)], 2, 2)
	b := EncodeSecurityInfos(
		[]Info{paceInfo(arcECDHGM, 2, 13), paceInfo(arcECDHCAM, 2, 13), gm, im, dhgm, odds},
		securityInfo(gm.Protocol[:10], algorithmID(oidECPublicKey, explicitEC(bp)), smallInt(32)),
		securityInfo(im.Protocol[:10], algorithmID(oidECPublicKey, testvectors.Hex(t, opensslP256)), smallInt(33)),
		securityInfo(dhgm.Protocol[:10], algorithmID(oidDHPublicNumber, dhParams), smallInt(34)),
		securityInfo(odds.Protocol[:10], algorithmID(oidECPublicKey, explicitEC(odd)), smallInt(35)),
		securityInfo(caOID, smallInt(1), smallInt(13)),
		securityInfo(asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 2}, smallInt(1)),            // TerminalAuthenticationInfo
		securityInfo(paceInfo(arcECDHGM, 2, 13).Protocol, tlv.Encode(tagOctetString, []byte{2})), // malformed PACEInfo
	)
	s, err := ParseCardAccess(b)
	require.NoError(t, err)
	got := map[string]string{}
	for _, i := range s.PACE {
		got[i.String()] = i.DomainName()
	}
	want := map[string]string{
		"PACE-ECDH-GM-AES-128":  "brainpoolP256r1", // the standardized and the explicit one
		"PACE-ECDH-CAM-AES-128": "brainpoolP256r1",
		"PACE-ECDH-IM-AES-256":  "P-256",
		"PACE-DH-GM-3DES":       "MODP-1024-160",
		"PACE-ECDH-GM-AES-192":  "", // explicit parameters that are no standard curve
	}
	require.Len(t, s.PACE, 6, "PACE infos %v", got)
	require.Equal(t, want, got, "PACE infos")
	require.Len(t, s.PACEDomains, 4, "domains")
	require.Len(t, s.ChipAuth, 1, "CA")
	require.Equal(t, 13, s.ChipAuth[0].KeyID, "CA")
	require.Len(t, s.Other, 2, "other")
	chosen, ok := Choose(s.PACE)
	require.True(t, ok, "Choose")
	require.Equal(t, "PACE-ECDH-CAM-AES-128", chosen.String(), "Choose")
}

func TestParseSecurityInfosErrors(t *testing.T) {
	valid := EncodeCardAccess([]Info{paceInfo(arcECDHGM, 2, 13)})
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{name: "valid", b: valid, ok: true},
		{name: "zero padding", b: append(bytes.Clone(valid), 0, 0, 0), ok: true},
		{name: "FF padding", b: append(bytes.Clone(valid), 0xFF, 0xFF), ok: true},
		{name: "empty SET", b: []byte{0x31, 0x00}, ok: true},
		{name: "empty", b: nil},
		{name: "garbage after", b: append(bytes.Clone(valid), 1, 2)},
		{name: "not a SET", b: append([]byte{0x30}, valid[1:]...)},
		{name: "truncated", b: valid[:len(valid)-1]},
		{name: "element not a SEQUENCE", b: tlv.Encode(tagSet, tlv.Encode(tagOctetString, []byte{1}))},
		{name: "SEQUENCE without OID", b: tlv.Encode(tagSet, tlv.Encode(tagSequence, smallInt(2)))},
		{name: "empty SEQUENCE", b: tlv.Encode(tagSet, tlv.Encode(tagSequence, nil))},
		{name: "bad OID", b: tlv.Encode(tagSet, tlv.Encode(tagSequence, []byte{0x06, 0x01, 0x80}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseCardAccess(tc.b)
			if tc.ok {
				require.NoError(t, err)
				require.NotNil(t, s)
			} else {
				require.ErrorIs(t, err, ErrMalformed)
				require.Nil(t, s)
			}
		})
	}
}

func TestParseDG14(t *testing.T) {
	key, _ := NewChipKey(13, []byte{7})
	inner := EncodeSecurityInfos([]Info{paceInfo(arcECDHGM, 2, 13)}, key.PublicKeyInfo())
	s, err := ParseDG14(tlv.Encode(0x6E, inner))
	require.NoError(t, err)
	require.Len(t, s.PACE, 1)
	require.Len(t, s.ChipKeys, 1)
	_, err = ParseDG14(inner)
	require.ErrorIs(t, err, ErrMalformed, "SET without 6E")
}

func TestInfo(t *testing.T) {
	tests := []struct {
		info      Info
		str, dom  string
		supported bool
	}{
		{info: paceInfo(arcECDHGM, 2, 13), str: "PACE-ECDH-GM-AES-128", dom: "brainpoolP256r1", supported: true},
		{info: paceInfo(arcECDHGM, 1, 8), str: "PACE-ECDH-GM-3DES", dom: "P-192", supported: true},
		{info: paceInfo(arcDHIM, 3, 1), str: "PACE-DH-IM-AES-192", dom: "MODP-2048-224", supported: true},
		{info: paceInfo(arcECDHCAM, 4, 18), str: "PACE-ECDH-CAM-AES-256", dom: "P-521", supported: true},
		{info: paceInfo(arcECDHIM, 2, 10), str: "PACE-ECDH-IM-AES-128", dom: ""},
		{info: paceInfo(arcECDHCAM, 1, 13), str: "PACE(0.4.0.127.0.7.2.2.4.6.1)", dom: ""},
		{info: paceInfo(5, 2, 13), str: "PACE(0.4.0.127.0.7.2.2.4.5.2)", dom: ""},
		{info: paceInfo(arcECDHGM, 5, 13), str: "PACE(0.4.0.127.0.7.2.2.4.2.5)", dom: ""},
	}
	for _, tc := range tests {
		t.Run(tc.str, func(t *testing.T) {
			assert.Equal(t, tc.str, tc.info.String(), "String()")
			assert.Equal(t, tc.dom, tc.info.DomainName(), "DomainName()")
			assert.Equal(t, tc.supported, tc.info.Supported(), "Supported()")
		})
	}
}

func TestChoose(t *testing.T) {
	tests := []struct {
		name  string
		infos []Info
		want  string // String() + "/" + DomainName(), "" for none
	}{
		{name: "none", infos: nil},
		{name: "only unsupported", infos: []Info{paceInfo(arcECDHIM, 2, 10), paceInfo(9, 2, 13)}},
		{name: "ECDH over DH", infos: []Info{paceInfo(arcDHGM, 4, 2), paceInfo(arcECDHIM, 2, 13)}, want: "PACE-ECDH-IM-AES-128/brainpoolP256r1"},
		{name: "CAM over GM over IM", infos: []Info{paceInfo(arcECDHIM, 2, 13), paceInfo(arcECDHCAM, 2, 13), paceInfo(arcECDHGM, 2, 13)}, want: "PACE-ECDH-CAM-AES-128/brainpoolP256r1"},
		{name: "GM over IM", infos: []Info{paceInfo(arcECDHIM, 4, 18), paceInfo(arcECDHGM, 2, 13)}, want: "PACE-ECDH-GM-AES-128/brainpoolP256r1"},
		{name: "AES-256 over 192 over 128 over 3DES", infos: []Info{paceInfo(arcECDHGM, 1, 13), paceInfo(arcECDHGM, 3, 13), paceInfo(arcECDHGM, 4, 13), paceInfo(arcECDHGM, 2, 13)}, want: "PACE-ECDH-GM-AES-256/brainpoolP256r1"},
		{name: "larger curve", infos: []Info{paceInfo(arcECDHGM, 2, 13), paceInfo(arcECDHGM, 2, 16), paceInfo(arcECDHGM, 2, 12)}, want: "PACE-ECDH-GM-AES-128/brainpoolP384r1"},
		{name: "first of equals", infos: []Info{paceInfo(arcECDHGM, 2, 12), paceInfo(arcECDHGM, 2, 13)}, want: "PACE-ECDH-GM-AES-128/P-256"},
		{name: "IM-only chip (AndyQ#150)", infos: []Info{paceInfo(arcECDHIM, 4, 18)}, want: "PACE-ECDH-IM-AES-256/P-521"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i, ok := Choose(tc.infos)
			got := ""
			if ok {
				got = i.String() + "/" + i.DomainName()
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestPassword(t *testing.T) {
	for _, bad := range []string{"", "12345", "1234567", "12345a", "12 345", "１２３４５６"} {
		_, err := CAN(bad)
		assert.ErrorIs(t, err, ErrPassword, "CAN(%q)", bad)
		if bad != "" && err != nil {
			assert.NotContains(t, err.Error(), bad, "error repeats the input")
		}
	}
	pw := mustCAN(t, "123456")
	require.Equal(t, "redacted", pw.LogValue().String(), "password not redacted")
	require.Equal(t, "redacted", MRZ(nil).LogValue().String(), "password not redacted")
}

// TestEncodeCardAccessRoundTrip checks that encoded infos parse back.
func TestEncodeCardAccessRoundTrip(t *testing.T) {
	var infos []Info
	for _, c := range combos(t) {
		infos = append(infos, c.info)
	}
	infos = append(infos, Info{Protocol: paceInfo(arcECDHGM, 2, 0).Protocol, Version: 2, ParameterID: NoParameterID})
	s, err := ParseCardAccess(EncodeCardAccess(infos))
	require.NoError(t, err)
	require.Len(t, s.PACE, len(infos), "infos back")
	for _, i := range infos {
		require.True(t, slices.ContainsFunc(s.PACE, func(j Info) bool {
			return i.Protocol.Equal(j.Protocol) && i.ParameterID == j.ParameterID && j.Version == 2
		}), "%v/%d missing", i, i.ParameterID)
	}
}

// appendOID appends the DER encoding of oid.
func appendOID(dst []byte, oid asn1.ObjectIdentifier) []byte { return append(dst, derOID(oid)...) }

// appendInt appends the DER encoding of a non-negative INTEGER.
func appendInt(dst []byte, v *big.Int) []byte {
	b := v.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return tlv.Append(dst, tagInteger, b)
}

// appendSmallInt appends the DER encoding of a non-negative int.
func appendSmallInt(dst []byte, v int) []byte { return appendInt(dst, big.NewInt(int64(v))) }
