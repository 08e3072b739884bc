package vchip

import (
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

	"github.com/nfcbridge/nfcbridge/pki"
)

// selfSigned returns a self-signed certificate for key.
func selfSigned(t *testing.T, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1234567),
		Subject:      pkix.Name{Country: []string{"UT"}, CommonName: "Utopia test signer"},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

// TestBuildSOD checks EF.SOD built with each hash and key kind against
// package pki's parser and signature check.
func TestBuildSOD(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	files := map[int][]byte{1: []byte("DG1"), 2: []byte("DG2"), 14: {0x6E, 0x00}}
	for _, tc := range []struct {
		hash crypto.Hash
		key  crypto.Signer
	}{{crypto.SHA1, p256}, {crypto.SHA224, p256}, {crypto.SHA256, p256}, {crypto.SHA384, p384}, {crypto.SHA512, p384}, {crypto.SHA256, rsaKey}, {crypto.SHA512, rsaKey}} {
		cert := selfSigned(t, tc.key)
		sod, err := buildSOD(tc.hash, files, cert, tc.key, nil)
		require.NoError(t, err, "%v", tc.hash)
		sd, err := pki.ParseSignedData(sod)
		require.NoError(t, err, "%v", tc.hash)
		if signer, err := sd.Verify(); assert.NoError(t, err, "%v %T: signature", tc.hash, tc.key) {
			assert.Equal(t, cert.SerialNumber.String(), signer.SerialNumber.String(), "%v %T: signer", tc.hash, tc.key)
		}
		hash, hashes, err := pki.DataGroupHashes(sd.Content)
		require.NoError(t, err, "%v", tc.hash)
		require.Equal(t, tc.hash, hash)
		require.Len(t, hashes, len(files), "%v", tc.hash)
		for dg, f := range files {
			assert.Equal(t, digest(tc.hash, f), hashes[dg], "%v: DG%d hash", tc.hash, dg)
		}
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	cert := selfSigned(t, p256)
	for _, tc := range []struct {
		name  string
		hash  crypto.Hash
		files map[int][]byte
		cert  *x509.Certificate
		key   crypto.Signer
		msg   string
	}{
		{"MD5", crypto.MD5, files, cert, p256, "unsupported hash MD5"},
		{"no files", crypto.SHA256, nil, cert, p256, "1 to 16 data groups"},
		{"DG 17", crypto.SHA256, map[int][]byte{17: nil}, cert, p256, "out of range"},
		{"DG 0", crypto.SHA256, map[int][]byte{0: nil}, cert, p256, "out of range"},
		{"key and certificate differ", crypto.SHA256, files, cert, other, "does not match the certificate"},
		{"no certificate", crypto.SHA256, files, nil, p256, "needs a certificate"},
	} {
		b, err := buildSOD(tc.hash, tc.files, tc.cert, tc.key, nil)
		assert.Nil(t, b, tc.name)
		assert.ErrorIs(t, err, ErrSpecimen, tc.name)
		assert.ErrorContains(t, err, tc.msg, tc.name)
	}
}
