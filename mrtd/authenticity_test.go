package mrtd_test

import (
	"bytes"
	"context"
	"crypto"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, err)
		cfg.PACE = infos
	}
	ds, err := vchip.Specimen(cfg)
	require.NoError(t, err)
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
			require.NoError(t, err)
			checkFiles(t, doc, ds)
			a := doc.Authenticity
			require.Equal(t, tc.wantChip, a.Chip.Outcome, "chip check (%s)", a.Chip.Reason)
			require.Equal(t, tc.wantAA, a.Active.Outcome, "active check (%s)", a.Active.Reason)
			assert.Equal(t, tc.method, a.Chip.Method, "chip check %+v", a.Chip)
			if tc.protocol != "" {
				assert.Equal(t, tc.protocol, a.Chip.Protocol.String(), "chip check %+v", a.Chip)
			}
			assert.Equal(t, tc.inferred, a.Chip.Inferred, "chip check %+v", a.Chip)
			if tc.alg != "" {
				assert.Equal(t, tc.alg, a.Active.Algorithm.String())
			}
			assert.Equal(t, tc.wantChip == mrtd.Failed || tc.wantAA == mrtd.Failed, a.Clone(), "Clone()")
			for _, f := range []icao.EF{icao.EFDG14, icao.EFDG15} {
				// bytes.Equal: a file absent from the read and an empty one
				// are the same failure here.
				if want, ok := ds.Files[f.String()]; ok {
					assert.True(t, bytes.Equal(want, doc.Files[f]), "%v not read: %d bytes, want %d", f, len(doc.Files[f]), len(want))
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
	require.Len(t, a.Challenge, activeauth.ChallengeLen, "evidence: challenge")
	require.NotEmpty(t, a.Response, "evidence: response")
	pub, err := activeauth.ParseDG15(ds.Files["DG15"])
	require.NoError(t, err)
	_, err = activeauth.Verify(pub, a.Challenge, a.Response, 0)
	if a.Outcome == mrtd.Passed {
		assert.NoError(t, err, "offline verify of a passed check")
	} else {
		assert.Error(t, err, "offline verify of a failed check")
	}
}

// TestAuthenticityAPDUs checks that CA and AA go through the meter: a read
// of the same files costs exactly their commands more with them.
func TestAuthenticityAPDUs(t *testing.T) {
	ds := authSpecimen(t, &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}}, &vchip.ActiveAuthSpec{RSABits: 1024}, "")
	outside := func(ds *vchip.Dataset) int {
		doc, err := mrtd.Read(context.Background(), newChip(t, ds, vchip.Config{}), specimenKey(t), nil)
		require.NoError(t, err)
		n := doc.Stats.APDUs
		for _, f := range doc.Stats.Files {
			n -= f.APDUs
		}
		return n
	}
	// CA: MSE:Set AT, GENERAL AUTHENTICATE and the SELECT under the new
	// keys; AA: INTERNAL AUTHENTICATE.
	got, base := outside(ds), outside(authSpecimen(t, nil, nil, ""))
	assert.Equal(t, base+3+1, got, "APDUs outside the files, want %d+4", base)
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
		require.ErrorIs(t, err, vchip.ErrRemoved, "after %d", after)
		chip.Reinsert()
		doc, err = mrtd.Resume(ctx, chip, specimenKey(t), doc, nil)
		require.NoError(t, err, "after %d", after)
		checkFiles(t, doc, ds)
		a := doc.Authenticity
		assert.Equal(t, mrtd.Passed, a.Chip.Outcome, "after %d: chip (%s)", after, a.Chip.Reason)
		assert.Equal(t, mrtd.Passed, a.Active.Outcome, "after %d: active (%s)", after, a.Active.Reason)
	}
}
