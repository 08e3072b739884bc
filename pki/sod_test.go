package pki

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// sodParts are what a test needs from an EF.SOD's SignedData (RFC 5652
// §5): the first certificate (the DS), and the first SignerInfo's
// digestAlgorithm, signedAttrs (re-tagged as the SET OF that is signed,
// §5.4), signatureAlgorithm and signature. Full CMS handling is not this
// package's; this walker serves the tests only.
type sodParts struct {
	cert, signedAttrs, signature []byte
	digestAlg, sigAlg            AlgorithmIdentifier
}

func readSOD(t testing.TB, name string) sodParts {
	t.Helper()
	h, err := os.ReadFile(filepath.Join("..", "testdata", "pki", "sod", name+".hex"))
	require.NoError(t, err)
	der, err := hex.DecodeString(strings.TrimSpace(string(h)))
	require.NoError(t, err)
	p, ok := splitSOD(der)
	require.True(t, ok, "%s: not a SignedData this walker understands", name)
	return p
}

func splitSOD(der []byte) (p sodParts, ok bool) {
	s := cryptobyte.String(der)
	if len(der) > 4 && der[0] == 0x77 { // EF.SOD's application tag 0x77 (9303-10 §4.6.2)
		var body cryptobyte.String
		if !s.ReadASN1(&body, cbasn1.Tag(0x77)) {
			return p, false
		}
		s = body
	}
	var ci, wrapped, sd, certs, infos, info cryptobyte.String
	var ver int64
	var certsPresent bool
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.SkipASN1(cbasn1.OBJECT_IDENTIFIER) ||
		!ci.ReadASN1(&wrapped, cbasn1.Tag(0).Constructed().ContextSpecific()) || !wrapped.ReadASN1(&sd, cbasn1.SEQUENCE) ||
		!sd.ReadASN1Int64WithTag(&ver, cbasn1.INTEGER) || !sd.SkipASN1(cbasn1.SET) || !sd.SkipASN1(cbasn1.SEQUENCE) ||
		!sd.ReadOptionalASN1(&certs, &certsPresent, cbasn1.Tag(0).Constructed().ContextSpecific()) || !certsPresent ||
		!certs.ReadASN1Element((*cryptobyte.String)(&p.cert), cbasn1.SEQUENCE) ||
		!sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!sd.ReadASN1(&infos, cbasn1.SET) || !infos.ReadASN1(&info, cbasn1.SEQUENCE) ||
		!info.SkipASN1(cbasn1.INTEGER) {
		return p, false
	}
	var sid cryptobyte.String
	var sidTag cbasn1.Tag
	if !info.ReadAnyASN1Element(&sid, &sidTag) {
		return p, false
	}
	var err error
	if p.digestAlg, err = readAlgorithm(&info); err != nil {
		return p, false
	}
	var attrsElem cryptobyte.String
	if !info.ReadASN1Element(&attrsElem, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return p, false
	}
	signed := append([]byte(nil), attrsElem...)
	signed[0] = 0x31 // [0] IMPLICIT SET OF → SET OF
	p.signedAttrs = signed
	if p.sigAlg, err = readAlgorithm(&info); err != nil {
		return p, false
	}
	if !info.ReadASN1Bytes(&p.signature, cbasn1.OCTET_STRING) {
		return p, false
	}
	return p, true
}

// withDigest turns CMS's rsaEncryption plus a digestAlgorithm into the
// signature algorithm it means (RFC 5754 §3.2).
func withDigest(t *testing.T, sig, digest AlgorithmIdentifier) AlgorithmIdentifier {
	t.Helper()
	if !sig.Algorithm.Equal(oidRSAEncryption) {
		return sig
	}
	h, err := hashByOID(digest)
	require.NoError(t, err)
	for _, s := range sigAlgorithms {
		if s.scheme == pkcs1v15 && s.hash == h {
			return algorithm(t, s.name)
		}
	}
	t.Fatalf("no RSA algorithm for %v", h)
	return AlgorithmIdentifier{}
}

// TestRealDocumentSigners parses the DS certificates of published EF.SOD
// files of real passports (testdata/pki/SOURCES.md) and verifies each
// SOD's signature with the DS key, the check that crypto/x509 could not
// make for the States with explicit EC parameters.
func TestRealDocumentSigners(t *testing.T) {
	for _, tc := range []struct {
		state, key, certAlg, sodAlg string
		explicit                    bool
	}{
		{"AT", "EC brainpoolP256r1", "ecdsa-with-SHA384", "ecdsa-with-SHA256", true},
		{"DE", "EC brainpoolP384r1", "ecdsa-with-SHA512", "ecdsa-with-SHA384", true},
		{"FI", "EC brainpoolP512r1", "ecdsa-with-SHA512", "ecdsa-with-SHA512", true},
		{"RU", "EC P-256", "ecdsa-with-SHA1", "ecdsa-with-SHA1", true},
		{"NZ", "RSA-2048", "sha256WithRSAEncryption", "rsaEncryption", false},
		{"MY", "RSA-2048", "RSASSA-PSS", "RSASSA-PSS", false},
	} {
		t.Run(tc.state, func(t *testing.T) {
			p := readSOD(t, tc.state)
			ds, err := ParseCertificate(p.cert)
			require.NoError(t, err, "DS certificate")
			assert.Equal(t, tc.state, ds.Subject.Country(), "subject country")
			assert.Equal(t, tc.state, ds.Issuer.Country(), "issuer country")
			assert.Equal(t, tc.key, ds.PublicKey.String(), "key")
			assert.Equal(t, tc.explicit, ds.PublicKey.ExplicitParameters, "key %v with explicit parameters", ds.PublicKey)
			assert.Equal(t, tc.certAlg, ds.SignatureAlgorithm.String(), "certificate signature algorithm")
			assert.Equal(t, tc.sodAlg, p.sigAlg.String(), "EF.SOD signature algorithm")
			assert.False(t, ds.IsCA, "extensions: CA")
			assert.Equal(t, KeyUsageDigitalSignature, ds.KeyUsage, "extensions: keyUsage %b", ds.KeyUsage)
			assert.NotEmpty(t, ds.AuthorityKeyID, "extensions: AKI")
			assert.NotEmpty(t, ds.SubjectKeyID, "extensions: SKI")
			alg := withDigest(t, p.sigAlg, p.digestAlg)
			require.NoError(t, VerifySignature(ds.PublicKey, alg, p.signedAttrs, p.signature), "EF.SOD signature")
			p.signedAttrs[len(p.signedAttrs)-1] ^= 1
			require.ErrorIs(t, VerifySignature(ds.PublicKey, alg, p.signedAttrs, p.signature), ErrSignature, "changed signed attributes")
		})
	}
}
