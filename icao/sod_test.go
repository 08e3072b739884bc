package icao

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// signers caches test keys: RSA key generation is slow under -race.
var signers sync.Map

type signer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func testSigner(t testing.TB, kind string) signer {
	if s, ok := signers.Load(kind); ok {
		return s.(signer)
	}
	cert, key := newSigner(t, kind)
	s, _ := signers.LoadOrStore(kind, signer{cert, key})
	return s.(signer)
}

func testFiles(t testing.TB) map[int][]byte {
	f := specimenFiles(t)
	return map[int][]byte{1: f["dg1_td3.bin"], 2: f["dg2_19794.bin"], 14: []byte("\x6e\x00")}
}

func TestSODRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		hash crypto.Hash
		key  string
		pss  bool
	}{
		{"SHA-1 P-256", crypto.SHA1, "P-256", false},
		{"SHA-224 P-224", crypto.SHA224, "P-224", false},
		{"SHA-256 P-256", crypto.SHA256, "P-256", false},
		{"SHA-384 P-384", crypto.SHA384, "P-384", false},
		{"SHA-512 P-521", crypto.SHA512, "P-521", false},
		{"SHA-256 RSA", crypto.SHA256, "RSA", false},
		{"SHA-512 RSA", crypto.SHA512, "RSA", false},
		{"SHA-256 RSA-PSS", crypto.SHA256, "RSA", true},
		{"SHA-384 RSA-PSS", crypto.SHA384, "RSA", true},
	}
	files := testFiles(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSigner(t, tc.key)
			der, err := buildSOD(tc.hash, files, s.cert, s.key, tc.pss)
			require.NoError(t, err)
			for name, b := range map[string][]byte{"DER": der, "BER": indefinite(t, der)} {
				sod, err := ParseSOD(b)
				require.NoError(t, err, name)
				assert.Equal(t, tc.hash, sod.HashAlgorithm)
				assert.Equal(t, b, sod.Raw)
				assert.Equal(t, [][]byte{s.cert.Raw}, sod.Certificates)
				require.Len(t, sod.Hashes, len(files))
				for dg, f := range files {
					assert.Equal(t, digest(tc.hash, f), sod.Hashes[dg])
					assert.NoError(t, sod.Check(dg, f))
				}
				cert, err := sod.VerifySignature()
				require.NoError(t, err, name)
				assert.True(t, cert.Equal(s.cert))
			}
		})
	}
}

func TestSODIndefiniteIsBER(t *testing.T) {
	s := testSigner(t, "P-256")
	der, err := BuildSOD(crypto.SHA256, testFiles(t), s.cert, s.key)
	require.NoError(t, err)
	ber := indefinite(t, der)
	assert.Equal(t, []byte{0x77, 0x80, 0x30, 0x80}, ber[:4])
	assert.Contains(t, string(ber), "\x24\x80\x04\x10", "eContent must be a constructed OCTET STRING")
	_, err = asn1.Unmarshal(ber[2:], &asn1.RawValue{})
	assert.Error(t, err, "encoding/asn1 cannot read it, which is why ParseSOD uses tlv")
}

func TestSODCheck(t *testing.T) {
	s := testSigner(t, "P-256")
	files := testFiles(t)
	der, err := BuildSOD(crypto.SHA256, files, s.cert, s.key)
	require.NoError(t, err)
	sod, err := ParseSOD(der)
	require.NoError(t, err)
	bad := bytes.Clone(files[2])
	bad[len(bad)-1] ^= 1
	err = sod.Check(2, bad)
	require.ErrorIs(t, err, ErrHashMismatch)
	assert.EqualError(t, err, "icao: DG2 hash does not match EF.SOD")
	var he *HashError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 2, he.DataGroup)
	err = sod.Check(3, files[1])
	require.ErrorIs(t, err, ErrNoHash)
	assert.EqualError(t, err, "icao: EF.SOD has no hash for DG3")
	assert.ErrorIs(t, sod.Check(1, files[2]), ErrHashMismatch)
	assert.ErrorIs(t, sod.Check(1, nil), ErrHashMismatch)
}

func TestVerifySignatureErrors(t *testing.T) {
	p256 := testSigner(t, "P-256")
	other := testSigner(t, "P-384")
	files := testFiles(t)
	der, err := BuildSOD(crypto.SHA256, files, p256.cert, p256.key)
	require.NoError(t, err)
	tests := []struct {
		name   string
		mod    func(*SOD)
		target error
		msg    string
	}{
		{"signature", func(s *SOD) { s.signer.signature[10] ^= 1 }, ErrSignature, "does not verify"},
		{"content", func(s *SOD) { s.content = append(bytes.Clone(s.content), 0) }, ErrSignature, "message digest does not match"},
		{"no message digest", func(s *SOD) { s.signer.messageDigest = nil }, ErrSignature, "no message digest"},
		{"content type", func(s *SOD) { s.signer.contentType = oidSignedData }, ErrSignature, "content type attribute"},
		{"signed attributes", func(s *SOD) { s.signer.signedAttrs[len(s.signer.signedAttrs)-1] ^= 1 }, ErrSignature, "does not verify"},
		{"other certificate", func(s *SOD) { s.Certificates = [][]byte{other.cert.Raw} }, ErrSignature, "does not verify"},
		{"no certificate", func(s *SOD) { s.Certificates = nil }, ErrNoSignerCertificate, "no usable"},
		{"signer not among two", func(s *SOD) { s.Certificates = [][]byte{other.cert.Raw, other.cert.Raw} }, ErrNoSignerCertificate, "no usable"},
		{"broken certificate", func(s *SOD) { s.Certificates = [][]byte{{0x30, 0x00}} }, nil, "parse document signer certificate"},
		{"brainpool certificate", func(s *SOD) { s.Certificates = [][]byte{fakeCertificate(t, brainpoolSPKI)} }, ErrUnsupportedAlgorithm, "brainpoolP256r1"},
		{"explicit curve", func(s *SOD) { s.Certificates = [][]byte{fakeCertificate(t, explicitSPKI)} }, ErrUnsupportedAlgorithm, "explicit elliptic curve parameters"},
		{"DSA key", func(s *SOD) { s.Certificates = [][]byte{fakeCertificate(t, dsaSPKI)} }, ErrUnsupportedAlgorithm, "public key 1.2.840.10040.4.1"},
		{"signature algorithm", func(s *SOD) { s.signer.sigAlg = asn1.ObjectIdentifier{1, 2, 3} }, ErrUnsupportedAlgorithm, "signature 1.2.3"},
		{"digest algorithm", func(s *SOD) { s.signer.digest = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5} }, ErrUnsupportedAlgorithm, "digest 1.2.840.113549.2.5"},
		{"RSA algorithm with EC key", func(s *SOD) { s.signer.sigAlg = signatureOID(sigRSA, crypto.SHA256) }, ErrSignature, "RSA signature algorithm"},
		{"plain signature of wrong size", func(s *SOD) { s.signer.sigAlg = signatureOID(sigECDSAPlain, crypto.SHA256) }, ErrSignature, "does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sod, err := ParseSOD(der)
			require.NoError(t, err)
			tc.mod(sod)
			cert, err := sod.VerifySignature()
			assert.Nil(t, cert)
			require.Error(t, err)
			if tc.target != nil {
				assert.ErrorIs(t, err, tc.target)
			}
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestVerifySignatureVariants(t *testing.T) {
	s := testSigner(t, "P-256")
	der, err := BuildSOD(crypto.SHA256, testFiles(t), s.cert, s.key)
	require.NoError(t, err)
	t.Run("plain ECDSA", func(t *testing.T) {
		sod, err := ParseSOD(der)
		require.NoError(t, err)
		var sig struct{ R, S *big.Int }
		_, err = asn1.Unmarshal(sod.signer.signature, &sig)
		require.NoError(t, err)
		sod.signer.signature = append(sig.R.FillBytes(make([]byte, 32)), sig.S.FillBytes(make([]byte, 32))...)
		sod.signer.sigAlg = signatureOID(sigECDSAPlain, crypto.SHA256)
		_, err = sod.VerifySignature()
		assert.NoError(t, err)
	})
	t.Run("ecPublicKey as signature algorithm", func(t *testing.T) {
		sod, err := ParseSOD(der)
		require.NoError(t, err)
		sod.signer.sigAlg = oidECPublicKey
		_, err = sod.VerifySignature()
		assert.NoError(t, err)
	})
	t.Run("signer named by key identifier among two certificates", func(t *testing.T) {
		sod, err := ParseSOD(der)
		require.NoError(t, err)
		sod.Certificates = [][]byte{testSigner(t, "P-384").cert.Raw, s.cert.Raw}
		sod.signer.serial, sod.signer.keyID = nil, s.cert.SubjectKeyId
		cert, err := sod.VerifySignature()
		require.NoError(t, err)
		assert.True(t, cert.Equal(s.cert))
	})
	t.Run("no signed attributes", func(t *testing.T) {
		sod, err := ParseSOD(der)
		require.NoError(t, err)
		sig, err := s.key.Sign(nil, digest(crypto.SHA256, sod.content), crypto.SHA256)
		require.NoError(t, err)
		sod.signer.signedAttrs, sod.signer.signature = nil, sig
		_, err = sod.VerifySignature()
		assert.NoError(t, err)
	})
}

// SubjectPublicKeyInfos Go's crypto/x509 cannot use.
var (
	brainpoolSPKI = spki(seq(oidBytes(oidECPublicKey), oidBytes(asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7})))
	explicitSPKI  = spki(seq(oidBytes(oidECPublicKey), seq([]byte{0x02, 0x01, 0x01})))
	dsaSPKI       = spki(seq(oidBytes(asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}), seq()))
)

func spki(alg []byte) []byte {
	return seq(alg, tlv.Encode(0x03, append([]byte{0, 4}, bytes.Repeat([]byte{1}, 64)...)))
}

// fakeCertificate builds a certificate around a public key with a bogus
// signature; only the SubjectPublicKeyInfo matters.
func fakeCertificate(t *testing.T, spki []byte) []byte {
	alg := seq(oidBytes(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}))
	name := seq(tlv.Encode(0x31, seq(oidBytes(asn1.ObjectIdentifier{2, 5, 4, 3}), tlv.Encode(0x0C, []byte("UT DS")))))
	validity := seq(tlv.Encode(0x17, []byte("250101000000Z")), tlv.Encode(0x17, []byte("350101000000Z")))
	tbs := seq(tlv.Encode(0xA0, unhex(t, "020102")), unhex(t, "020101"), alg, name, validity, name, spki)
	return seq(tbs, alg, unhex(t, "0303 003000"))
}

func TestBuildSODErrors(t *testing.T) {
	p256, other := testSigner(t, "P-256"), testSigner(t, "P-384")
	files := testFiles(t)
	tests := []struct {
		name  string
		hash  crypto.Hash
		files map[int][]byte
		s     signer
		msg   string
	}{
		{"MD5", crypto.MD5, files, p256, "unsupported algorithm MD5"},
		{"no files", crypto.SHA256, nil, p256, "1 to 16 data groups"},
		{"DG 17", crypto.SHA256, map[int][]byte{17: nil}, p256, "out of range"},
		{"DG 0", crypto.SHA256, map[int][]byte{0: nil}, p256, "out of range"},
		{"key and certificate differ", crypto.SHA256, files, signer{p256.cert, other.key}, "does not match the certificate"},
		{"no certificate", crypto.SHA256, files, signer{nil, p256.key}, "needs a certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := BuildSOD(tc.hash, tc.files, tc.s.cert, tc.s.key)
			assert.Nil(t, b)
			assert.ErrorIs(t, err, ErrEncode)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
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
	assert.Empty(t, sod.Certificates)
	p := goodParts(t)
	p.securityObject = seq(unhex(t, "020101"), seq(oidBytes(hashOIDs[0].oid), []byte{5, 0}),
		seq(seq(unhex(t, "020110"), tlv.Encode(0x04, make([]byte, 20)))), seq(tlv.Encode(0x13, []byte("0108")), tlv.Encode(0x13, []byte("040000"))))
	sod, err = ParseSOD(p.encode())
	require.NoError(t, err, "version 1 with LDSVersionInfo, SHA-1 with NULL parameters")
	assert.Equal(t, "0108", sod.LDSVersion)
	assert.Equal(t, "040000", sod.UnicodeVersion)
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
		{"content type", func(p *sodParts) { p.contentType = oidBytes(oidLDSSecurityObject) }, ErrMalformedLDS, "not SignedData"},
		{"eContentType", func(p *sodParts) { p.eContentType = oidBytes(oidSignedData) }, ErrMalformedLDS, "not an LDS security object"},
		{"eContent not an OCTET STRING", func(p *sodParts) { p.eContent = seq() }, ErrMalformedLDS, "OCTET STRING was expected"},
		{"security object not a SEQUENCE", func(p *sodParts) { p.securityObject = unhex(t, "0400") }, ErrMalformedLDS, "tag 04 where 30"},
		{"version 2", func(p *sodParts) { p.securityObject = so("020102", sha256, entry("020101", 32)) }, ErrMalformedLDS, "not 0 or 1"},
		{"MD5", func(p *sodParts) {
			p.securityObject = so("020100", seq(oidBytes(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5})), entry("020101", 16))
		}, ErrUnsupportedAlgorithm, "hash 1.2.840.113549.2.5"},
		{"DG 0", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("020100", 32)) }, ErrMalformedLDS, "out of range"},
		{"DG 17", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("020111", 32)) }, ErrMalformedLDS, "out of range"},
		{"negative DG", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("0201FF", 32)) }, ErrMalformedLDS, "out of range"},
		{"DG twice", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("020101", 32), entry("020101", 32)) }, ErrMalformedLDS, "hashed twice"},
		{"short hash", func(p *sodParts) { p.securityObject = so("020100", sha256, entry("020101", 20)) }, ErrMalformedLDS, "does not fit"},
		{"seventeen hashes", func(p *sodParts) {
			var e [][]byte
			for range 17 {
				e = append(e, entry("020101", 32))
			}
			p.securityObject = so("020100", sha256, e...)
		}, ErrMalformedLDS, "more than 16 objects"},
		{"bad version info", func(p *sodParts) {
			p.securityObject = append(so("020101", sha256, entry("020101", 32))[:0:0], seq(unhex(t, "020101"), sha256, seq(entry("020101", 32)), seq(unhex(t, "1300")))...)
		}, ErrMalformedLDS, "bad LDS version info"},
		{"no signer infos", func(p *sodParts) { p.signedDataTail = nil }, ErrMalformedLDS, "missing signer infos"},
		{"empty signer infos", func(p *sodParts) { p.signedDataTail = tlv.Encode(0x31, nil) }, ErrMalformedLDS, "no SignerInfo"},
		{"signer without signature", func(p *sodParts) {
			p.signedDataTail = tlv.Encode(0x31, seq(unhex(t, "020101 800101"), sha256, sha256))
		}, ErrMalformedLDS, "missing signature"},
		{"bad serial", func(p *sodParts) {
			p.signedDataTail = tlv.Encode(0x31, seq(unhex(t, "020101"), seq(seq(), unhex(t, "0200")), sha256, sha256, unhex(t, "0400")))
		}, ErrMalformedLDS, "bad signer serial"},
		{"bad message digest attribute", func(p *sodParts) {
			attr := seq(oidBytes(oidMessageDigestAttr), tlv.Encode(0x31, append(tlv.Encode(0x04, nil), tlv.Encode(0x04, nil)...)))
			p.signedDataTail = tlv.Encode(0x31, seq(unhex(t, "020101 800101"), sha256, tlv.Encode(0xA0, attr), sha256, unhex(t, "0400")))
		}, ErrMalformedLDS, "message digest attribute"},
		{"too many certificates", func(p *sodParts) { p.certs = tlv.Encode(0xA0, bytes.Repeat(seq(), 17)) }, ErrMalformedLDS, "more than 16 objects"},
		{"OID garbage", func(p *sodParts) { p.contentType = unhex(t, "0601 80") }, ErrMalformedLDS, "not SignedData"},
		{"absurd length", func(p *sodParts) { p.contentType = unhex(t, "0684 7FFFFFFF") }, ErrMalformedLDS, "declares"},
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

func TestPSSParameters(t *testing.T) {
	sha256 := seq(oidBytes(hashOIDs[2].oid))
	sha1 := seq(oidBytes(hashOIDs[0].oid), []byte{0x05, 0x00})
	mgf := func(h []byte) []byte { return tlv.Encode(0xA1, seq(oidBytes(oidMGF1), h)) }
	salt := func(n string) []byte { return tlv.Encode(0xA2, unhex(t, n)) }
	tests := []struct {
		name   string
		params []byte
		hash   crypto.Hash
		salt   int
		target error
	}{
		{"absent: defaults", nil, crypto.SHA1, 20, nil},
		{"empty: defaults", seq(), crypto.SHA1, 20, nil},
		{"SHA-256", seq(tlv.Encode(0xA0, sha256), mgf(sha256), salt("020120")), crypto.SHA256, 32, nil},
		{"SHA-1 with NULL", seq(tlv.Encode(0xA0, sha1), mgf(sha1), salt("020114"), tlv.Encode(0xA3, unhex(t, "020101"))), crypto.SHA1, 20, nil},
		{"MGF1 with another hash", seq(tlv.Encode(0xA0, sha256), mgf(sha1)), 0, 0, ErrUnsupportedAlgorithm},
		{"other MGF", seq(tlv.Encode(0xA1, seq(oidBytes(oidPSS), sha256))), 0, 0, ErrUnsupportedAlgorithm},
		{"MD5", seq(tlv.Encode(0xA0, seq(oidBytes(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5})))), 0, 0, ErrUnsupportedAlgorithm},
		{"trailer 2", seq(tlv.Encode(0xA3, unhex(t, "020102"))), 0, 0, ErrMalformedLDS},
		{"negative salt", seq(salt("0201FF")), 0, 0, ErrMalformedLDS},
		{"hash not a SEQUENCE", seq(tlv.Encode(0xA0, unhex(t, "0500"))), 0, 0, ErrMalformedLDS},
		{"NULL: defaults", unhex(t, "0500"), crypto.SHA1, 20, nil},
		{"not a SEQUENCE", unhex(t, "0400"), 0, 0, ErrMalformedLDS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := pssParameters(tc.params)
			if tc.target != nil {
				assert.ErrorIs(t, err, tc.target)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.hash, h)
			assert.Equal(t, tc.salt, n)
		})
	}
}

func TestVerifySignatureKeyMismatch(t *testing.T) {
	s := testSigner(t, "RSA")
	der, err := BuildSOD(crypto.SHA256, testFiles(t), s.cert, s.key)
	require.NoError(t, err)
	sod, err := ParseSOD(der)
	require.NoError(t, err)
	sod.signer.sigAlg = signatureOID(sigECDSA, crypto.SHA256)
	_, err = sod.VerifySignature()
	assert.ErrorIs(t, err, ErrSignature)
	assert.ErrorContains(t, err, "ECDSA signature algorithm")
	sod.signer.sigAlg = oidPSS
	_, err = sod.VerifySignature()
	assert.ErrorIs(t, err, ErrSignature, "PKCS #1 v1.5 signature checked as PSS")
}
