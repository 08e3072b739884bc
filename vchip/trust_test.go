package vchip

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nfcbridge/nfcbridge/pki"
)

// TestSpecimenRevoked checks that a CRL of the specimen CSCA listing the
// document signer makes EF.SOD revoked, and that the empty specimen CRL
// does not.
func TestSpecimenRevoked(t *testing.T) {
	now := time.Now()
	cfg := SpecimenConfig{Now: func() time.Time { return now }}
	s, err := newSigner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sod, err := specimenSOD(cfg, s, map[int][]byte{1: []byte("DG1")})
	if err != nil {
		t.Fatal(err)
	}
	ml, crl, err := specimenTrust(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	revoking, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(2),
		ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(crlPeriod),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: s.cert.SerialNumber, RevocationTime: now.Add(-time.Minute)},
		},
	}, s.csca, s.cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		crl  []byte
		want pki.Status
	}{{"empty CRL", crl, pki.StatusValid}, {"CRL listing the DS", revoking, pki.StatusRevoked}} {
		dir := t.TempDir()
		for name, b := range map[string][]byte{CSCAFile: s.csca.Raw, MasterListFile: ml, CRLFile: tc.crl} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var store pki.Store
		if _, err := store.LoadPath(dir); err != nil {
			t.Fatal(err)
		}
		if v := pki.VerifySOD(sod, &store, pki.VerifyOptions{}); v.Status != tc.want {
			t.Errorf("%s: %s (%s), want %s", tc.name, v.Status, v.Reason, tc.want)
		}
	}
}
