package pki

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// certSeeds returns the DS certificates of the real EF.SOD files and a
// hand-built CSCA with explicit parameters.
func certSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "pki", "sod", "*.hex"))
	for _, name := range files {
		state := filepath.Base(name[:len(name)-len(".hex")])
		seeds = append(seeds, readSOD(f, state).cert)
	}
	if len(seeds) == 0 {
		f.Fatal("no seed certificates")
	}
	return seeds
}

// FuzzParseCertificate checks the parser's invariants: no panic, a nil
// certificate with every error and only the package's error kinds, and on
// success a certificate whose raw parts are the input's and that parses
// again to the same serial, names and key.
func FuzzParseCertificate(f *testing.F) {
	for _, s := range certSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := ParseCertificate(der)
		if err != nil {
			if c != nil {
				t.Fatal("certificate returned with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		if !bytes.Equal(c.Raw, der) || !bytes.Contains(der, c.RawTBSCertificate) || !bytes.Contains(c.RawTBSCertificate, c.PublicKey.Raw) {
			t.Fatal("raw parts are not the input's")
		}
		again, err := ParseCertificate(c.Raw)
		if err != nil || again.SerialNumber.Cmp(c.SerialNumber) != 0 || again.Subject.Key() != c.Subject.Key() ||
			again.Issuer.Key() != c.Issuer.Key() || !again.PublicKey.Equal(c.PublicKey) {
			t.Fatalf("second parse differs: %v", err)
		}
		_ = c.CheckSignatureFrom(c) // must not panic
		_ = c.Subject.String()
	})
}

// FuzzParsePublicKey checks that an accepted SubjectPublicKeyInfo has a
// usable key of its type and refuses with the package's errors otherwise.
func FuzzParsePublicKey(f *testing.F) {
	for _, s := range certSeeds(f) {
		if c, err := ParseCertificate(s); err == nil {
			f.Add(c.PublicKey.Raw)
		}
	}
	for _, c := range allCurves() {
		k := &ecSigner{c: c, d: c.Params().N, explicit: true}
		k.d.Rsh(k.d, 1)
		f.Add(k.spki())
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := ParsePublicKey(der)
		if err != nil {
			if k != nil || (!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported)) {
				t.Fatalf("bad error result: %v, %v", k, err)
			}
			return
		}
		switch k.Type {
		case RSA:
			if k.RSA == nil || k.EC != nil {
				t.Fatal("RSA key not set")
			}
		case EC:
			if k.EC == nil || k.RSA != nil || !k.EC.Curve().IsOnCurve(k.EC.Point()) {
				t.Fatal("EC key not set or off the curve")
			}
		default:
			t.Fatalf("type %v", k.Type)
		}
		if !bytes.Equal(k.Raw, der) {
			t.Fatal("Raw is not the input")
		}
	})
}
