package vchip

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/pki"
)

// TestSpecimenRevoked checks that a CRL of the specimen CSCA listing the
// document signer makes EF.SOD revoked, and that the empty specimen CRL
// does not.
func TestSpecimenRevoked(t *testing.T) {
	now := time.Now()
	cfg := SpecimenConfig{Now: func() time.Time { return now }}
	s, err := newSigner(cfg)
	require.NoError(t, err)
	sod, err := specimenSOD(cfg, s, map[int][]byte{1: []byte("DG1")})
	require.NoError(t, err)
	ml, crl, err := specimenTrust(cfg, s)
	require.NoError(t, err)
	revoking, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(2),
		ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(crlPeriod),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: s.cert.SerialNumber, RevocationTime: now.Add(-time.Minute)},
		},
	}, s.csca, s.cscaKey)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		crl  []byte
		want pki.Status
	}{{"empty CRL", crl, pki.StatusValid}, {"CRL listing the DS", revoking, pki.StatusRevoked}} {
		dir := t.TempDir()
		for name, b := range map[string][]byte{CSCAFile: s.csca.Raw, MasterListFile: ml, CRLFile: tc.crl} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		}
		var store pki.Store
		_, err := store.LoadPath(dir)
		require.NoError(t, err)
		v := pki.VerifySOD(sod, &store, pki.VerifyOptions{})
		assert.Equal(t, tc.want, v.Status, "%s: %s", tc.name, v.Reason)
	}
}
