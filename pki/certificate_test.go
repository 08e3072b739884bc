package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/group"
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}

// TestAgainstX509 parses chains that crypto/x509 makes and checks every
// field against crypto/x509's own parse.
func TestAgainstX509(t *testing.T) {
	ecCA, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ecDS, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	rsaCA := rsaKey(t)
	for _, tc := range []struct {
		name        string
		caKey, dsKy crypto.Signer
		alg         x509.SignatureAlgorithm
	}{
		{"ECDSA P-384 signs P-521 with SHA-512", ecCA, ecDS, x509.ECDSAWithSHA512},
		{"RSA-PSS SHA-256 signs P-521", rsaCA, ecDS, x509.SHA256WithRSAPSS},
		{"RSA-PSS SHA-512 signs RSA", rsaCA, rsaCA, x509.SHA512WithRSAPSS},
		{"RSA PKCS#1 SHA-384 signs P-384", rsaCA, ecCA, x509.SHA384WithRSA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caTmpl := &x509.Certificate{
				SerialNumber: big.NewInt(7), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "CSCA Utopia", SerialNumber: "01"},
				NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
				IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
				SubjectKeyId: []byte{9, 9, 9}, SignatureAlgorithm: tc.alg,
			}
			caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, tc.caKey.Public(), tc.caKey)
			require.NoError(t, err)
			caX, _ := x509.ParseCertificate(caDER)
			dsTmpl := &x509.Certificate{
				SerialNumber: new(big.Int).Lsh(big.NewInt(1), 100), Subject: pkix.Name{Country: []string{"ut"}, CommonName: "DS"},
				NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
				KeyUsage: x509.KeyUsageDigitalSignature, SignatureAlgorithm: tc.alg,
			}
			dsDER, err := x509.CreateCertificate(rand.Reader, dsTmpl, caX, tc.dsKy.Public(), tc.caKey)
			require.NoError(t, err)
			for _, der := range [][]byte{caDER, dsDER} {
				want, _ := x509.ParseCertificate(der)
				compareX509(t, mustParse(t, der), want)
			}
			ca, ds := mustParse(t, caDER), mustParse(t, dsDER)
			require.NoError(t, ds.CheckSignatureFrom(ca), "DS from CSCA")
			require.NoError(t, ca.CheckSignatureFrom(ca), "self-signed CSCA")
			require.True(t, ca.SelfSigned(), "SelfSigned")
			require.False(t, ds.SelfSigned(), "SelfSigned")
			require.ErrorIs(t, ds.CheckSignatureFrom(ds), ErrNotCA, "DS as issuer")
			bad := bytes.Clone(dsDER)
			bad[len(bad)-3] ^= 1
			require.ErrorIs(t, mustParse(t, bad).CheckSignatureFrom(ca), ErrSignature, "changed signature")
			require.Equal(t, "UT", ds.Subject.Country(), "subject country")
			require.Equal(t, "UT", ds.Issuer.Country(), "issuer country")
		})
	}
}

func compareX509(t *testing.T, got *Certificate, want *x509.Certificate) {
	t.Helper()
	assert.Equal(t, want.Raw, got.Raw, "raw bytes")
	assert.Equal(t, want.RawTBSCertificate, got.RawTBSCertificate, "raw TBS bytes")
	assert.Equal(t, want.Version, got.Version, "version")
	assert.Zero(t, got.SerialNumber.Cmp(want.SerialNumber), "serial %v, want %v", got.SerialNumber, want.SerialNumber)
	assert.Equal(t, want.RawSubject, got.Subject.Raw, "subject")
	assert.Equal(t, want.RawIssuer, got.Issuer.Raw, "issuer")
	assert.Equal(t, want.Subject.CommonName, got.Subject.CommonName(), "common name")
	assert.True(t, got.NotBefore.Equal(want.NotBefore), "notBefore %v, want %v", got.NotBefore, want.NotBefore)
	assert.True(t, got.NotAfter.Equal(want.NotAfter), "notAfter %v, want %v", got.NotAfter, want.NotAfter)
	assert.Equal(t, want.SubjectKeyId, got.SubjectKeyID, "subjectKeyIdentifier")
	assert.Equal(t, want.AuthorityKeyId, got.AuthorityKeyID, "authorityKeyIdentifier")
	assert.Equal(t, want.IsCA, got.IsCA, "basicConstraints cA")
	assert.Equal(t, want.BasicConstraintsValid, got.BasicConstraintsValid, "basicConstraints present")
	assert.Equal(t, int(want.KeyUsage), int(got.KeyUsage), "keyUsage %b, want %b", got.KeyUsage, want.KeyUsage)
	assert.Equal(t, want.Signature, got.Signature, "signature")
	assert.Equal(t, want.RawSubjectPublicKeyInfo, got.PublicKey.Raw, "subjectPublicKeyInfo")
	assert.Len(t, got.Extensions, len(want.Extensions), "extension count")
	if want.IsCA {
		assert.Equal(t, want.MaxPathLen, got.MaxPathLen, "MaxPathLen")
	}
	switch k := want.PublicKey.(type) {
	case *rsa.PublicKey:
		if assert.Equal(t, RSA, got.PublicKey.Type, "RSA key type") {
			assert.True(t, got.PublicKey.RSA.Equal(k), "RSA key differs")
		}
	case *ecdsa.PublicKey:
		b, _ := k.Bytes()
		if assert.Equal(t, EC, got.PublicKey.Type, "EC key type") {
			assert.Equal(t, b, got.PublicKey.EC.Bytes(), "EC key")
		}
		assert.False(t, got.PublicKey.ExplicitParameters, "EC key with explicit parameters")
	}
}

// TestExplicitParameters issues, on every standardized curve, a CSCA whose
// key has explicit domain parameters and a DS under it, and checks that a
// changed parameter makes the key unsupported.
func TestExplicitParameters(t *testing.T) {
	for _, c := range allCurves() {
		t.Run(c.Name(), func(t *testing.T) {
			cscaKey := newECSigner(t, c, true)
			dsKey := newECSigner(t, c, false)
			for _, alg := range []string{"ecdsa-with-SHA256", "ecdsa-with-SHA1", "ecdsa-plain-SHA384"} {
				ca := mustParse(t, cscaSpec(t, cscaKey, alg).build(t))
				ds := mustParse(t, dsSpec(t, cscaKey, dsKey, alg).build(t))
				require.True(t, ca.PublicKey.ExplicitParameters, "%s: CSCA key %v", alg, ca.PublicKey)
				require.Equal(t, c.ID(), ca.PublicKey.EC.Curve().ID(), "%s: CSCA key %v", alg, ca.PublicKey)
				require.False(t, ds.PublicKey.ExplicitParameters, "%s: DS key %v", alg, ds.PublicKey)
				require.NoError(t, ca.CheckSignatureFrom(ca), "%s: CSCA", alg)
				require.NoError(t, ds.CheckSignatureFrom(ca), "%s: DS", alg)
				require.ErrorIs(t, ca.CheckSignatureFrom(ds), ErrNotCA, "%s: DS as issuer", alg)
			}
			named := &ecSigner{c: c, d: cscaKey.d}
			k, err := ParsePublicKey(named.spki())
			require.NoError(t, err)
			require.True(t, k.Equal(mustParse(t, cscaSpec(t, cscaKey, "ecdsa-with-SHA256").build(t)).PublicKey), "named and explicit encodings of one key differ")
			// A curve that differs in b alone: never used.
			pr := c.Params()
			pr.B.Add(pr.B, big.NewInt(1))
			pub := c.Marshal(c.ScalarBaseMult(cscaKey.d))
			_, err = ParsePublicKey(spkiDER(oidECPublicKey, explicitParams(pr, c), pub))
			require.ErrorIs(t, err, ErrUnsupported, "changed b")
		})
	}
}

// TestOddCertificates covers what crypto/x509 refuses.
func TestOddCertificates(t *testing.T) {
	key := &rsaSigner{key: rsaKey(t), noNULL: true}
	for _, tc := range []struct {
		name   string
		serial []byte
		want   int64
	}{
		{"zero serial", []byte{0}, 0},
		{"negative serial", []byte{0xff, 0x38}, -200},
		{"non-minimal serial", []byte{0x00, 0x00, 0x05}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := cscaSpec(t, key, "sha256WithRSAEncryption")
			spec.serial = tc.serial
			der := spec.build(t)
			if _, err := x509.ParseCertificate(der); err == nil && tc.want <= 0 {
				t.Log("crypto/x509 accepts it too")
			}
			c := mustParse(t, der)
			require.Zero(t, c.SerialNumber.Cmp(big.NewInt(tc.want)), "serial %v, want %d", c.SerialNumber, tc.want)
			require.NoError(t, c.CheckSignatureFrom(c))
		})
	}
	t.Run("RSA key without NULL", func(t *testing.T) {
		c := mustParse(t, cscaSpec(t, key, "sha1WithRSAEncryption").build(t))
		require.Equal(t, RSA, c.PublicKey.Type, "key %v", c.PublicKey)
		require.Nil(t, c.PublicKey.Algorithm.Parameters, "key %v", c.PublicKey)
	})
	t.Run("version 1 without extensions", func(t *testing.T) {
		spec := cscaSpec(t, key, "sha256WithRSAEncryption")
		spec.noExtensions = true
		c := mustParse(t, spec.build(t))
		require.Equal(t, 3, c.Version)
		require.False(t, c.BasicConstraintsValid, "basicConstraints")
		require.Zero(t, c.KeyUsage, "keyUsage")
	})
	t.Run("different inner and outer algorithm", func(t *testing.T) {
		spec := cscaSpec(t, key, "sha256WithRSAEncryption")
		outer := algorithm(t, "sha1WithRSAEncryption")
		spec.outerAlg = &outer
		_, err := ParseCertificate(spec.build(t))
		require.ErrorIs(t, err, ErrMalformed)
	})
	t.Run("NULL against absent parameters", func(t *testing.T) {
		spec := cscaSpec(t, key, "sha256WithRSAEncryption")
		outer := mustAlg(t, spec.alg.Algorithm, []byte{5, 0})
		spec.outerAlg = &outer
		c := mustParse(t, spec.build(t))
		require.NoError(t, c.CheckSignatureFrom(c), "does not verify")
	})
}

func TestVerifySignature(t *testing.T) {
	rk := &rsaSigner{key: rsaKey(t)}
	rsaPub, err := ParsePublicKey(rk.spki())
	require.NoError(t, err)
	bp, _ := group.CurveByID(13)
	ek := newECSigner(t, bp, true)
	ecPub, err := ParsePublicKey(ek.spki())
	require.NoError(t, err)
	msg := []byte("signed attributes")
	good := func(name string, pub *PublicKey, key signer, alg AlgorithmIdentifier) {
		t.Run(name, func(t *testing.T) {
			sig := key.sign(t, alg, msg)
			require.NoError(t, VerifySignature(pub, alg, msg, sig))
			require.ErrorIs(t, VerifySignature(pub, alg, append(msg, '!'), sig), ErrSignature, "other message")
		})
	}
	for _, name := range []string{"sha1WithRSAEncryption", "sha224WithRSAEncryption", "sha256WithRSAEncryption", "sha384WithRSAEncryption", "sha512WithRSAEncryption"} {
		good(name, rsaPub, rk, algorithm(t, name))
	}
	for _, h := range []string{"SHA1", "SHA224", "SHA256", "SHA384", "SHA512"} {
		good("ecdsa-with-"+h, ecPub, ek, algorithm(t, "ecdsa-with-"+h))
		good("ecdsa-plain-"+h, ecPub, ek, algorithm(t, "ecdsa-plain-"+h))
	}
	for _, salt := range []int{20, 32, 64} {
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA512} {
			good("PSS/"+h.String()+"/salt", rsaPub, rk, pssAlgorithm(t, h, h, salt))
		}
	}
	good("PSS defaults", rsaPub, rk, mustAlg(t, oidRSASSAPSS, nil))

	bad := []struct {
		name string
		pub  *PublicKey
		alg  AlgorithmIdentifier
		want error
	}{
		{"EC key, RSA algorithm", ecPub, algorithm(t, "sha256WithRSAEncryption"), ErrKeyMismatch},
		{"RSA key, ECDSA algorithm", rsaPub, algorithm(t, "ecdsa-with-SHA256"), ErrKeyMismatch},
		{"rsaEncryption without hash", rsaPub, mustAlg(t, oidRSAEncryption, []byte{5, 0}), ErrUnsupported},
		{"PSS MGF1 hash differs", rsaPub, pssAlgorithm(t, crypto.SHA256, crypto.SHA1, 32), ErrUnsupported},
		{"unknown algorithm", rsaPub, mustAlg(t, oidMGF1, nil), ErrUnsupported},
		{"parameters on ECDSA", ecPub, mustAlg(t, algorithm(t, "ecdsa-with-SHA256").Algorithm, []byte{2, 1, 0}), ErrMalformed},
		{"no key", nil, algorithm(t, "ecdsa-with-SHA256"), ErrKeyMismatch},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, VerifySignature(tc.pub, tc.alg, msg, make([]byte, 64)), tc.want)
		})
	}
	t.Run("PSS salt length differs", func(t *testing.T) {
		sig := rk.sign(t, pssAlgorithm(t, crypto.SHA256, crypto.SHA256, 32), msg)
		require.ErrorIs(t, VerifySignature(rsaPub, pssAlgorithm(t, crypto.SHA256, crypto.SHA256, 20), msg, sig), ErrSignature)
	})
}

func TestParsePublicKeyErrors(t *testing.T) {
	bp, _ := group.CurveByID(13)
	pt := bp.Marshal(bp.ScalarBaseMult(big.NewInt(12345)))
	secp256k1 := []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a}
	named := []byte{0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07}
	for _, tc := range []struct {
		name string
		der  []byte
		want error
	}{
		{"unknown named curve", spkiDER(oidECPublicKey, secp256k1, pt), ErrUnsupported},
		{"implicitCA", spkiDER(oidECPublicKey, []byte{5, 0}, pt), ErrUnsupported},
		{"point off the curve", spkiDER(oidECPublicKey, named, append(pt[:len(pt)-1:len(pt)-1], pt[len(pt)-1]^1)), ErrMalformed},
		{"DSA", spkiDER([]int{1, 2, 840, 10040, 4, 1}, nil, []byte{2, 1, 1}), ErrUnsupported},
		{"RSA with parameters", spkiDER(oidRSAEncryption, []byte{2, 1, 0}, []byte{0x30, 0x06, 2, 1, 3, 2, 1, 3}), ErrMalformed},
		{"RSA even modulus", spkiDER(oidRSAEncryption, nil, []byte{0x30, 0x06, 2, 1, 4, 2, 1, 3}), ErrMalformed},
		{"trailing data", append(spkiDER(oidECPublicKey, named, pt), 0), ErrMalformed},
		{"empty", nil, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePublicKey(tc.der)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, k)
		})
	}
}

func TestName(t *testing.T) {
	// The same name as PrintableString and as UTF8String with other case
	// and spacing, as DS issuers and CSCA subjects sometimes differ.
	printable := []byte{0x30, 0x22, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 'd', 'e',
		0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x0a, 'c', 's', 'c', 'a', ' ', ' ', 'G', 'e', 'r', 'm'}
	utf8 := []byte{0x30, 0x21, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x0c, 0x02, 'D', 'E',
		0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x09, 'C', 'S', 'C', 'A', ' ', 'g', 'e', 'r', 'm'}
	read := func(b []byte) Name {
		s := cryptobyteString(b)
		n, err := readName(&s)
		require.NoError(t, err)
		return n
	}
	a, b := read(printable), read(utf8)
	require.True(t, a.Equal(b), "%q and %q do not match (%s, %s)", a, b, a.Key(), b.Key())
	require.Equal(t, "DE", a.Country())
	require.Equal(t, "CSCA germ", b.CommonName())
	require.Equal(t, "C=de,CN=csca  Germ", a.String())
}
