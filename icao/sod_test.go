package icao

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// seq returns a SEQUENCE of the encoded fields.
func seq(fields ...[]byte) []byte { return tlv.Encode(0x30, bytes.Join(fields, nil)) }

// oidBytes encodes an OBJECT IDENTIFIER.
func oidBytes(oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
)

// readReal reads a file of testdata/realdata (see its README).
func readReal(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/realdata/" + name)
	require.NoError(t, err)
	return b
}

// TestSODRealDG14 checks the DG14 files published with four States'
// EF.SOD against the hashes it holds, SHA-256 to SHA-512.
func TestSODRealDG14(t *testing.T) {
	for st, hash := range map[string]crypto.Hash{"AT": crypto.SHA256, "DE": crypto.SHA384, "FI": crypto.SHA512, "FR": crypto.SHA256} {
		sod, err := ParseSOD(readReal(t, st+"/EF.SOD.bin"))
		require.NoError(t, err, st)
		assert.Equal(t, hash, sod.HashAlgorithm, st)
		dg14 := readReal(t, st+"/DG14.bin")
		assert.NoError(t, sod.Check(14, dg14), st)
		assert.ErrorIs(t, sod.Check(14, dg14[1:]), ErrHashMismatch, st)
	}
}

func TestSODIndefinite(t *testing.T) {
	// New Zealand's EF.SOD has a definite outer length around an
	// indefinite ContentInfo.
	b := readReal(t, "NZ/EF.SOD.bin")
	require.Equal(t, []byte{0x30, 0x80}, b[4:6])
	sod, err := ParseSOD(b)
	require.NoError(t, err)
	assert.Equal(t, b, sod.Raw, "Raw is the file as read")
	assert.Len(t, sod.Hashes, 6)
	for _, name := range []string{"sod_p256.bin", "sod_p256_ber.bin"} {
		b, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		if strings.Contains(name, "ber") {
			require.Equal(t, []byte{0x77, 0x80, 0x30, 0x80}, b[:4], "indefinite from the outermost tag")
		}
		sod, err := ParseSOD(b)
		require.NoError(t, err, name)
		dg1, err := os.ReadFile("testdata/dg1_td3.bin")
		require.NoError(t, err)
		assert.NoError(t, sod.Check(1, dg1), name)
	}
}

func TestSODCheck(t *testing.T) {
	sod, err := ParseSOD(readReal(t, "FR/EF.SOD.bin"))
	require.NoError(t, err)
	dg14 := readReal(t, "FR/DG14.bin")
	bad := bytes.Clone(dg14)
	bad[len(bad)-1] ^= 1
	err = sod.Check(14, bad)
	require.ErrorIs(t, err, ErrHashMismatch)
	assert.EqualError(t, err, "icao: DG14 hash does not match EF.SOD")
	var he *HashError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 14, he.DataGroup)
	require.NotContains(t, sod.Hashes, 15)
	err = sod.Check(15, dg14)
	require.ErrorIs(t, err, ErrNoHash)
	assert.EqualError(t, err, "icao: EF.SOD has no hash for DG15")
	assert.ErrorIs(t, sod.Check(1, dg14), ErrHashMismatch)
	assert.ErrorIs(t, sod.Check(1, nil), ErrHashMismatch)
}

// sodParts assembles EF.SOD from parts so that each can be broken.
type sodParts struct {
	contentType, eContentType, eContent, securityObject, certs, signedDataTail []byte
}

func (p sodParts) encode() []byte {
	content := p.eContent
	if content == nil {
		content = tlv.Encode(0x04, p.securityObject)
	}
	encap := seq(p.eContentType, tlv.Encode(0xA0, content))
	sd := seq(append([]byte{0x02, 0x01, 0x03}, tlv.Encode(0x31, nil)...), encap, p.certs, p.signedDataTail)
	return tlv.Encode(0x77, seq(p.contentType, tlv.Encode(0xA0, sd)))
}

func goodParts(t testing.TB) sodParts {
	sha256 := seq(oidBytes(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}))
	hashes := seq(unhex(t, "020101"), tlv.Encode(0x04, make([]byte, 32)))
	signer := seq(unhex(t, "020101"), tlv.Encode(0x80, []byte{1}), sha256, sha256, unhex(t, "0401 00"))
	return sodParts{
		contentType:    oidBytes(oidSignedData),
		eContentType:   oidBytes(oidLDSSecurityObject),
		securityObject: seq(unhex(t, "020100"), sha256, seq(hashes)),
		signedDataTail: tlv.Encode(0x31, signer),
	}
}

func TestParseSODStructure(t *testing.T) {
	sod, err := ParseSOD(goodParts(t).encode())
	require.NoError(t, err)
	assert.Equal(t, map[int][]byte{1: make([]byte, 32)}, sod.Hashes)
	p := goodParts(t)
	p.eContentType = oidBytes(oidData)
	p.securityObject = seq(unhex(t, "020101"), seq(oidBytes(asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}), []byte{5, 0}),
		seq(seq(unhex(t, "020110"), tlv.Encode(0x04, make([]byte, 20)))), seq(tlv.Encode(0x13, []byte("0108")), tlv.Encode(0x13, []byte("040000"))))
	sod, err = ParseSOD(p.encode())
	require.NoError(t, err, "id-data; version 1 with LDSVersionInfo, SHA-1 with NULL parameters")
	assert.Equal(t, crypto.SHA1, sod.HashAlgorithm)
	assert.Contains(t, sod.Hashes, 16)
}

func TestParseSODErrors(t *testing.T) {
	sha256 := seq(oidBytes(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}))
	so := func(version string, alg []byte, entries ...[]byte) []byte {
		return seq(unhex(t, version), alg, seq(entries...))
	}
	entry := func(dg string, size int) []byte { return seq(unhex(t, dg), tlv.Encode(0x04, make([]byte, size))) }
	tests := []struct {
		name   string
		mod    func(*sodParts)
		target error
		msg    string
	}{
		{"content type", func(p *sodParts) { p.contentType = oidBytes(oidLDSSecurityObject) }, ErrMalformedLDS, "not signedData"},
		{"eContentType", func(p *sodParts) { p.eContentType = oidBytes(oidSignedData) }, ErrMalformedLDS, "not an LDS security object"},
		{"eContent not an OCTET STRING", func(p *sodParts) { p.eContent = seq() }, ErrMalformedLDS, "EF.SOD"},
		{"security object not a SEQUENCE", func(p *sodParts) { p.securityObject = unhex(t, "0400") }, ErrMalformedLDS, "LDSSecurityObject"},
		{"MD5", func(p *sodParts) {
			p.securityObject = so("020100", seq(oidBytes(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5})), entry("020101", 16))
		}, ErrUnsupportedAlgorithm, "hash 1.2.840.113549.2.5"},
		{"DG 0", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("020100", 32)) }, ErrMalformedLDS, "out of range"},
		{"DG 17", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("020111", 32)) }, ErrMalformedLDS, "out of range"},
		{"DG 0xFF", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("0201FF", 32)) }, ErrMalformedLDS, "out of range"},
		{"DG twice", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("020101", 32), entry("020101", 32)) }, ErrMalformedLDS, "hashed twice"},
		{"short hash", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("020101", 20)) }, ErrMalformedLDS, "has 20 octets"},
		{"no signer infos", func(p *sodParts) { p.signedDataTail = nil }, ErrMalformedLDS, "EF.SOD"},
		{"OID garbage", func(p *sodParts) { p.contentType = unhex(t, "0601 80") }, ErrMalformedLDS, "EF.SOD"},
		{"absurd length", func(p *sodParts) { p.contentType = unhex(t, "0684 7FFFFFFF") }, ErrMalformedLDS, "EF.SOD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := goodParts(t)
			tc.mod(&p)
			sod, err := ParseSOD(p.encode())
			assert.Nil(t, sod)
			require.ErrorIs(t, err, tc.target)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestParseSODHostile(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":       nil,
		"wrong tag":   tlv.Encode(0x76, nil),
		"truncated":   goodParts(t).encode()[:40],
		"missing EOC": unhex(t, "7780 3080 0609 2A864886F70D010702"),
		"primitive":   unhex(t, "7700"),
	} {
		sod, err := ParseSOD(in)
		assert.Nil(t, sod, name)
		assert.ErrorIs(t, err, ErrMalformedLDS, name)
	}
}

func TestUnsupportedAlgorithmError(t *testing.T) {
	err := error(&UnsupportedAlgorithmError{Algorithm: "brainpoolP256r1"})
	assert.EqualError(t, err, "icao: unsupported algorithm brainpoolP256r1")
	assert.ErrorIs(t, err, ErrUnsupportedAlgorithm)
	assert.False(t, strings.Contains(err.Error(), "\n"))
}
