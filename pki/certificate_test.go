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
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/nfcbridge/nfcbridge/group"
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			caX, _ := x509.ParseCertificate(caDER)
			dsTmpl := &x509.Certificate{
				SerialNumber: new(big.Int).Lsh(big.NewInt(1), 100), Subject: pkix.Name{Country: []string{"ut"}, CommonName: "DS"},
				NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
				KeyUsage: x509.KeyUsageDigitalSignature, SignatureAlgorithm: tc.alg,
			}
			dsDER, err := x509.CreateCertificate(rand.Reader, dsTmpl, caX, tc.dsKy.Public(), tc.caKey)
			if err != nil {
				t.Fatal(err)
			}
			for _, der := range [][]byte{caDER, dsDER} {
				want, _ := x509.ParseCertificate(der)
				compareX509(t, mustParse(t, der), want)
			}
			ca, ds := mustParse(t, caDER), mustParse(t, dsDER)
			if err := ds.CheckSignatureFrom(ca); err != nil {
				t.Fatalf("DS from CSCA: %v", err)
			}
			if err := ca.CheckSignatureFrom(ca); err != nil {
				t.Fatalf("self-signed CSCA: %v", err)
			}
			if !ca.SelfSigned() || ds.SelfSigned() {
				t.Fatal("SelfSigned")
			}
			if err := ds.CheckSignatureFrom(ds); !errors.Is(err, ErrNotCA) {
				t.Fatalf("DS as issuer: %v", err)
			}
			bad := bytes.Clone(dsDER)
			bad[len(bad)-3] ^= 1
			if err := mustParse(t, bad).CheckSignatureFrom(ca); !errors.Is(err, ErrSignature) {
				t.Fatalf("changed signature: %v", err)
			}
			if ds.Subject.Country() != "UT" || ds.Issuer.Country() != "UT" {
				t.Fatalf("country %q/%q", ds.Subject.Country(), ds.Issuer.Country())
			}
		})
	}
}

func compareX509(t *testing.T, got *Certificate, want *x509.Certificate) {
	t.Helper()
	switch {
	case !bytes.Equal(got.Raw, want.Raw) || !bytes.Equal(got.RawTBSCertificate, want.RawTBSCertificate):
		t.Error("raw bytes differ")
	case got.Version != want.Version || got.SerialNumber.Cmp(want.SerialNumber) != 0:
		t.Error("version or serial differ")
	case !bytes.Equal(got.Subject.Raw, want.RawSubject) || !bytes.Equal(got.Issuer.Raw, want.RawIssuer):
		t.Error("names differ")
	case got.Subject.CommonName() != want.Subject.CommonName:
		t.Error("common name differs")
	case !got.NotBefore.Equal(want.NotBefore) || !got.NotAfter.Equal(want.NotAfter):
		t.Error("validity differs")
	case !bytes.Equal(got.SubjectKeyID, want.SubjectKeyId) || !bytes.Equal(got.AuthorityKeyID, want.AuthorityKeyId):
		t.Error("key identifiers differ")
	case got.IsCA != want.IsCA || got.BasicConstraintsValid != want.BasicConstraintsValid:
		t.Error("basicConstraints differ")
	case int(got.KeyUsage) != int(want.KeyUsage):
		t.Errorf("keyUsage %b, want %b", got.KeyUsage, want.KeyUsage)
	case !bytes.Equal(got.Signature, want.Signature) || !bytes.Equal(got.PublicKey.Raw, want.RawSubjectPublicKeyInfo):
		t.Error("signature or key differ")
	case len(got.Extensions) != len(want.Extensions):
		t.Error("extension count differs")
	}
	if want.IsCA && got.MaxPathLen != want.MaxPathLen {
		t.Errorf("MaxPathLen %d, want %d", got.MaxPathLen, want.MaxPathLen)
	}
	switch k := want.PublicKey.(type) {
	case *rsa.PublicKey:
		if got.PublicKey.Type != RSA || !got.PublicKey.RSA.Equal(k) {
			t.Error("RSA key differs")
		}
	case *ecdsa.PublicKey:
		b, _ := k.Bytes()
		if got.PublicKey.Type != EC || !bytes.Equal(got.PublicKey.EC.Bytes(), b) || got.PublicKey.ExplicitParameters {
			t.Error("EC key differs")
		}
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
				if !ca.PublicKey.ExplicitParameters || ca.PublicKey.EC.Curve().ID() != c.ID() || ds.PublicKey.ExplicitParameters {
					t.Fatalf("%s: key %v explicit=%v", alg, ca.PublicKey, ca.PublicKey.ExplicitParameters)
				}
				if err := ca.CheckSignatureFrom(ca); err != nil {
					t.Fatalf("%s: CSCA: %v", alg, err)
				}
				if err := ds.CheckSignatureFrom(ca); err != nil {
					t.Fatalf("%s: DS: %v", alg, err)
				}
				if err := ca.CheckSignatureFrom(ds); !errors.Is(err, ErrNotCA) {
					t.Fatalf("%s: DS as issuer: %v", alg, err)
				}
			}
			named := &ecSigner{c: c, d: cscaKey.d}
			k, err := ParsePublicKey(named.spki())
			if err != nil || !k.Equal(mustParse(t, cscaSpec(t, cscaKey, "ecdsa-with-SHA256").build(t)).PublicKey) {
				t.Fatalf("named and explicit encodings of one key differ: %v", err)
			}
			// A curve that differs in b alone: never used.
			pr := c.Params()
			pr.B.Add(pr.B, big.NewInt(1))
			pub := c.Marshal(c.ScalarBaseMult(cscaKey.d))
			if _, err := ParsePublicKey(spkiDER(oidECPublicKey, explicitParams(pr, c), pub)); !errors.Is(err, ErrUnsupported) {
				t.Fatalf("changed b: %v", err)
			}
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
			if c.SerialNumber.Cmp(big.NewInt(tc.want)) != 0 {
				t.Fatalf("serial %v, want %d", c.SerialNumber, tc.want)
			}
			if err := c.CheckSignatureFrom(c); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("RSA key without NULL", func(t *testing.T) {
		c := mustParse(t, cscaSpec(t, key, "sha1WithRSAEncryption").build(t))
		if c.PublicKey.Type != RSA || c.PublicKey.Algorithm.Parameters != nil {
			t.Fatalf("key %v with parameters %x", c.PublicKey, c.PublicKey.Algorithm.Parameters)
		}
	})
	t.Run("version 1 without extensions", func(t *testing.T) {
		spec := cscaSpec(t, key, "sha256WithRSAEncryption")
		spec.noExtensions = true
		c := mustParse(t, spec.build(t))
		if c.Version != 3 || c.BasicConstraintsValid || c.KeyUsage != 0 {
			t.Fatalf("version %d", c.Version)
		}
	})
	t.Run("different inner and outer algorithm", func(t *testing.T) {
		spec := cscaSpec(t, key, "sha256WithRSAEncryption")
		outer := algorithm(t, "sha1WithRSAEncryption")
		spec.outerAlg = &outer
		if _, err := ParseCertificate(spec.build(t)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("NULL against absent parameters", func(t *testing.T) {
		spec := cscaSpec(t, key, "sha256WithRSAEncryption")
		outer := mustAlg(t, spec.alg.Algorithm, []byte{5, 0})
		spec.outerAlg = &outer
		if c := mustParse(t, spec.build(t)); c.CheckSignatureFrom(c) != nil {
			t.Fatal("does not verify")
		}
	})
}

func TestVerifySignature(t *testing.T) {
	rk := &rsaSigner{key: rsaKey(t)}
	rsaPub, err := ParsePublicKey(rk.spki())
	if err != nil {
		t.Fatal(err)
	}
	bp, _ := group.CurveByID(13)
	ek := newECSigner(t, bp, true)
	ecPub, err := ParsePublicKey(ek.spki())
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("signed attributes")
	good := func(name string, pub *PublicKey, key signer, alg AlgorithmIdentifier) {
		t.Run(name, func(t *testing.T) {
			sig := key.sign(t, alg, msg)
			if err := VerifySignature(pub, alg, msg, sig); err != nil {
				t.Fatal(err)
			}
			if err := VerifySignature(pub, alg, append(msg, '!'), sig); !errors.Is(err, ErrSignature) {
				t.Fatalf("other message: %v", err)
			}
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
			if err := VerifySignature(tc.pub, tc.alg, msg, make([]byte, 64)); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("PSS salt length differs", func(t *testing.T) {
		sig := rk.sign(t, pssAlgorithm(t, crypto.SHA256, crypto.SHA256, 32), msg)
		if err := VerifySignature(rsaPub, pssAlgorithm(t, crypto.SHA256, crypto.SHA256, 20), msg, sig); !errors.Is(err, ErrSignature) {
			t.Fatalf("got %v", err)
		}
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
			if !errors.Is(err, tc.want) || k != nil {
				t.Fatalf("got %v, %v; want %v", k, err, tc.want)
			}
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
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b := read(printable), read(utf8)
	if !a.Equal(b) || a.Country() != "DE" || b.CommonName() != "CSCA germ" {
		t.Fatalf("%q and %q do not match (%s, %s)", a, b, a.Key(), b.Key())
	}
	if a.String() != "C=de,CN=csca  Germ" {
		t.Fatalf("String() = %q", a.String())
	}
}
