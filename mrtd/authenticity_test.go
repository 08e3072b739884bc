package mrtd_test

import (
	"context"
	"crypto"
	"errors"
	"testing"

	"github.com/nfcbridge/nfcbridge/activeauth"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// authSpecimen builds a specimen with Chip and Active Authentication.
func authSpecimen(t testing.TB, ca *vchip.ChipAuthSpec, aa *vchip.ActiveAuthSpec, paceOffers string) *vchip.Dataset {
	t.Helper()
	cfg := vchip.SpecimenConfig{DG2Size: 5000, ChipAuth: ca, ActiveAuth: aa}
	if paceOffers != "" {
		infos, err := vchip.ParsePACEInfos(paceOffers)
		if err != nil {
			t.Fatal(err)
		}
		cfg.PACE = infos
	}
	ds, err := vchip.Specimen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestAuthenticity(t *testing.T) {
	ecdh := &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}}
	rsa := &vchip.ActiveAuthSpec{RSABits: 1024}
	tests := []struct {
		name     string
		ca       *vchip.ChipAuthSpec
		aa       *vchip.ActiveAuthSpec
		pace     string
		chip     vchip.Config
		wantChip mrtd.Outcome
		wantAA   mrtd.Outcome
		protocol string
		inferred bool
		method   mrtd.ChipMethod
		alg      string
	}{
		{name: "genuine ECDH AES + RSA SHA-1", ca: ecdh, aa: rsa, wantChip: mrtd.Passed, wantAA: mrtd.Passed,
			protocol: "CA-ECDH-AES-CBC-CMAC-128", method: mrtd.MethodCA, alg: "ISO/IEC 9796-2 SHA-1 RSA-1024"},
		{name: "cloned", ca: ecdh, aa: rsa, chip: vchip.Config{Cloned: true}, wantChip: mrtd.Failed, wantAA: mrtd.Failed,
			protocol: "CA-ECDH-AES-CBC-CMAC-128", method: mrtd.MethodCA},
		{name: "no ChipAuthenticationInfo: 3DES inferred", ca: &vchip.ChipAuthSpec{ParameterID: 12}, wantChip: mrtd.Passed, wantAA: mrtd.NotOffered,
			protocol: "CA-ECDH-3DES-CBC-CBC", inferred: true, method: mrtd.MethodCA},
		{name: "DH 3DES keyId, RSA SHA-256", ca: &vchip.ChipAuthSpec{ParameterID: 2, KeyID: 5, Ciphers: []chipauth.Cipher{chipauth.TDES}},
			aa: &vchip.ActiveAuthSpec{RSABits: 1024, Hash: crypto.SHA256}, wantChip: mrtd.Passed, wantAA: mrtd.Passed,
			protocol: "CA-DH-3DES-CBC-CBC", method: mrtd.MethodCA, alg: "ISO/IEC 9796-2 SHA-256 RSA-1024"},
		{name: "DH 2048 AES-128", ca: &vchip.ChipAuthSpec{ParameterID: 2, Ciphers: []chipauth.Cipher{chipauth.AES128, chipauth.TDES}},
			wantChip: mrtd.Passed, wantAA: mrtd.NotOffered, protocol: "CA-DH-AES-CBC-CMAC-128", method: mrtd.MethodCA},
		{name: "DH AES-256 cloned", ca: &vchip.ChipAuthSpec{ParameterID: 0, Ciphers: []chipauth.Cipher{chipauth.AES256}},
			chip: vchip.Config{Cloned: true}, wantChip: mrtd.Failed, wantAA: mrtd.NotOffered, protocol: "CA-DH-AES-CBC-CMAC-256", method: mrtd.MethodCA},
		{name: "ECDSA brainpool AA only", aa: &vchip.ActiveAuthSpec{ParameterID: 13}, wantChip: mrtd.NotOffered, wantAA: mrtd.Passed,
			alg: "ECDSA SHA-256 EC brainpoolP256r1"},
		{name: "ECDSA P-256 SHA-384 cloned", aa: &vchip.ActiveAuthSpec{ParameterID: 12, Hash: crypto.SHA384}, chip: vchip.Config{Cloned: true},
			wantChip: mrtd.NotOffered, wantAA: mrtd.Failed},
		{name: "PACE GM + CA AES-192", ca: &vchip.ChipAuthSpec{ParameterID: 12, KeyID: 1, Ciphers: []chipauth.Cipher{chipauth.AES192}},
			pace: "ECDH-GM-AES-128/brainpoolP256r1", wantChip: mrtd.Passed, wantAA: mrtd.NotOffered, protocol: "CA-ECDH-AES-CBC-CMAC-192", method: mrtd.MethodCA},
		{name: "PACE-CAM: no CA", ca: ecdh, pace: "ECDH-CAM-AES-128/brainpoolP256r1", wantChip: mrtd.Passed, wantAA: mrtd.NotOffered, method: mrtd.MethodPACECAM},
		{name: "PACE-CAM cloned", pace: "ECDH-CAM-AES-128/brainpoolP256r1", chip: vchip.Config{Cloned: true}, wantChip: mrtd.Failed, wantAA: mrtd.NotOffered, method: mrtd.MethodPACECAM},
		{name: "neither", wantChip: mrtd.NotOffered, wantAA: mrtd.NotOffered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := authSpecimen(t, tc.ca, tc.aa, tc.pace)
			chip := newChip(t, ds, tc.chip)
			doc, err := mrtd.Read(context.Background(), chip, specimenKey(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, doc, ds)
			a := doc.Authenticity
			if a.Chip.Outcome != tc.wantChip || a.Active.Outcome != tc.wantAA {
				t.Fatalf("chip %v (%s), active %v (%s); want %v, %v", a.Chip.Outcome, a.Chip.Reason, a.Active.Outcome, a.Active.Reason, tc.wantChip, tc.wantAA)
			}
			if a.Chip.Method != tc.method || tc.protocol != "" && a.Chip.Protocol.String() != tc.protocol || a.Chip.Inferred != tc.inferred {
				t.Errorf("chip check %+v, want %s %s inferred=%v", a.Chip, tc.method, tc.protocol, tc.inferred)
			}
			if tc.alg != "" && a.Active.Algorithm.String() != tc.alg {
				t.Errorf("algorithm %v, want %s", a.Active.Algorithm, tc.alg)
			}
			if a.Clone() != (tc.wantChip == mrtd.Failed || tc.wantAA == mrtd.Failed) {
				t.Errorf("Clone() = %v", a.Clone())
			}
			for _, f := range []icao.EF{icao.EFDG14, icao.EFDG15} {
				if want, ok := ds.Files[f.String()]; ok && string(doc.Files[f]) != string(want) {
					t.Errorf("%v not read", f)
				}
			}
			checkEvidence(t, doc, ds)
		})
	}
}

// checkEvidence verifies the AA challenge and response offline, as
// `nfcbridge verify` will.
func checkEvidence(t *testing.T, doc *mrtd.Document, ds *vchip.Dataset) {
	t.Helper()
	a := doc.Authenticity.Active
	if a.Outcome != mrtd.Passed && a.Outcome != mrtd.Failed {
		return
	}
	if len(a.Challenge) != activeauth.ChallengeLen || len(a.Response) == 0 {
		t.Fatalf("no evidence: challenge %d bytes, response %d", len(a.Challenge), len(a.Response))
	}
	pub, err := activeauth.ParseDG15(ds.Files["DG15"])
	if err != nil {
		t.Fatal(err)
	}
	_, err = activeauth.Verify(pub, a.Challenge, a.Response, 0)
	if (err == nil) != (a.Outcome == mrtd.Passed) {
		t.Errorf("offline verify: %v, outcome %v", err, a.Outcome)
	}
}

// TestAuthenticityAPDUs checks that CA and AA go through the meter: a read
// of the same files costs exactly their commands more with them.
func TestAuthenticityAPDUs(t *testing.T) {
	ds := authSpecimen(t, &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}}, &vchip.ActiveAuthSpec{RSABits: 1024}, "")
	outside := func(ds *vchip.Dataset) int {
		doc, err := mrtd.Read(context.Background(), newChip(t, ds, vchip.Config{}), specimenKey(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := doc.Stats.APDUs
		for _, f := range doc.Stats.Files {
			n -= f.APDUs
		}
		return n
	}
	// CA: MSE:Set AT, GENERAL AUTHENTICATE and the SELECT under the new
	// keys; AA: INTERNAL AUTHENTICATE.
	if got, base := outside(ds), outside(authSpecimen(t, nil, nil, "")); got != base+3+1 {
		t.Errorf("%d APDUs outside the files, want %d+4", got, base)
	}
}

// TestAuthenticityResume pulls the card at each APDU around Chip
// Authentication (APDUs 8–10: MSE:Set AT, GENERAL AUTHENTICATE, the
// SELECT under the new keys) and mid-DG2: the read resumes with access
// control and CA again.
func TestAuthenticityResume(t *testing.T) {
	ds := authSpecimen(t, &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}}, &vchip.ActiveAuthSpec{ParameterID: 12}, "")
	ctx := context.Background()
	for _, after := range []int{7, 8, 9, 10, 11, 20} {
		chip := newChip(t, ds, vchip.Config{NoExtendedLength: true, RemoveAfter: after})
		doc, err := mrtd.Read(ctx, chip, specimenKey(t), nil)
		if !errors.Is(err, vchip.ErrRemoved) {
			t.Fatalf("after %d: err = %v, want removal", after, err)
		}
		chip.Reinsert()
		doc, err = mrtd.Resume(ctx, chip, specimenKey(t), doc, nil)
		if err != nil {
			t.Fatalf("after %d: %v", after, err)
		}
		checkFiles(t, doc, ds)
		if a := doc.Authenticity; a.Chip.Outcome != mrtd.Passed || a.Active.Outcome != mrtd.Passed {
			t.Errorf("after %d: chip %v (%s), active %v (%s)", after, a.Chip.Outcome, a.Chip.Reason, a.Active.Outcome, a.Active.Reason)
		}
	}
}
