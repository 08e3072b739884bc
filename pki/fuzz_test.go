package pki

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
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
	require.NotEmpty(f, seeds, "no seed certificates")
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
			require.Nil(t, c, "certificate returned with an error")
			require.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported), "error of no kind: %v", err)
			return
		}
		require.Equal(t, der, c.Raw, "raw parts are not the input's")
		require.True(t, bytes.Contains(der, c.RawTBSCertificate), "raw TBS is not the input's")
		require.True(t, bytes.Contains(c.RawTBSCertificate, c.PublicKey.Raw), "raw key is not the input's")
		again, err := ParseCertificate(c.Raw)
		require.NoError(t, err, "second parse")
		require.Zero(t, again.SerialNumber.Cmp(c.SerialNumber), "second parse: serial")
		require.Equal(t, c.Subject.Key(), again.Subject.Key(), "second parse: subject")
		require.Equal(t, c.Issuer.Key(), again.Issuer.Key(), "second parse: issuer")
		require.True(t, again.PublicKey.Equal(c.PublicKey), "second parse: key")
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
			require.Nil(t, k, "key returned with an error")
			require.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported), "error of no kind: %v", err)
			return
		}
		switch k.Type {
		case RSA:
			require.NotNil(t, k.RSA, "RSA key not set")
			require.Nil(t, k.EC, "RSA key with an EC key")
		case EC:
			require.NotNil(t, k.EC, "EC key not set")
			require.Nil(t, k.RSA, "EC key with an RSA key")
			require.True(t, k.EC.Curve().IsOnCurve(k.EC.Point()), "EC key off the curve")
		default:
			t.Fatalf("type %v", k.Type) // ParsePublicKey returns RSA or EC keys only
		}
		require.Equal(t, der, k.Raw, "Raw is not the input")
	})
}
