package vchip_test

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// checkPACESpecimen checks the PACE parts of a specimen: EF.CardAccess and
// DG14 announce offers, DG14 holds the chip's CAM public key when an offer
// is CAM, and the chip runs exactly these offers.
func checkPACESpecimen(t *testing.T, ds *vchip.Dataset, offers []pace.Info) {
	t.Helper()
	if len(offers) == 0 {
		assert.Nil(t, ds.ChipKey, "BAC-only specimen with a chip key")
		assert.Empty(t, ds.CAN, "BAC-only specimen with a CAN")
		return
	}
	ca, err := pace.ParseCardAccess(ds.Files[vchip.NameCardAccess])
	require.NoError(t, err, "EF.CardAccess")
	dg14, err := pace.ParseDG14(ds.Files["DG14"])
	require.NoError(t, err, "DG14")
	want := names(offers)
	assert.Equal(t, want, names(ca.PACE), "EF.CardAccess offers")
	assert.Equal(t, want, names(dg14.PACE), "DG14 offers")
	cam := slices.ContainsFunc(offers, func(i pace.Info) bool { return i.Mapping() == pace.ChipAuthenticationMapping })
	if cam {
		require.NotNil(t, ds.ChipKey, "CAM specimen without a chip key")
		require.Len(t, dg14.ChipKeys, 1, "CAM specimen: keys in DG14")
		key, err := pace.NewChipKey(ds.ChipKey.ParameterID, ds.ChipKey.Private)
		require.NoError(t, err)
		k := dg14.ChipKeys[0]
		assert.Equal(t, key.PublicKey(), k.PublicKey, "DG14 does not hold the chip key's public key")
		assert.Equal(t, key.ParameterID(), k.KeyID, "DG14 keyId is not the parameter ID")
	} else {
		assert.Nil(t, ds.ChipKey, "chip key without a CAM offer")
		assert.Empty(t, dg14.ChipKeys, "chip key without a CAM offer")
	}
	assert.Equal(t, want, names(newPassport(t, ds, nil).PACEInfos()), "the chip runs")
}

func names(infos []pace.Info) []string {
	var out []string
	for _, i := range infos {
		out = append(out, vchip.FormatPACEInfo(i))
	}
	return out
}

// withPACE is a copy of the 20k specimen whose EF.CardAccess offers the
// given protocols, with CAN can.
func withPACE(t *testing.T, offers, can string) *vchip.Dataset {
	t.Helper()
	infos, err := vchip.ParsePACEInfos(offers)
	require.NoError(t, err)
	base := loadSpecimen(t, "specimen-20k")
	ds := &vchip.Dataset{Files: maps.Clone(base.Files), CAN: can}
	ds.Files[vchip.NameCardAccess] = pace.EncodeCardAccess(infos)
	return ds
}

// password returns the specimen's MRZ password or, for kind "CAN", its CAN.
func password(t testing.TB, kind string) pace.Password {
	t.Helper()
	if kind != "CAN" {
		return pace.MRZ(specimenKey(t))
	}
	pw, err := pace.CAN(specimenCAN)
	require.NoError(t, err)
	return pw
}

// openPACE does what a reader does: select the MF, read EF.CardAccess in
// plain, choose the strongest offer and run PACE with pw.
func openPACE(t testing.TB, tr icao.Transport, pw pace.Password) (*pace.Result, error) {
	t.Helper()
	selectMF := icao.Command{INS: icao.InsSelect, P1: 0x00, P2: 0x0C, Data: []byte{0x3F, 0x00}}
	_, err := icao.Exchange(context.Background(), tr, selectMF)
	require.NoError(t, err, "select MF")
	b, err := icao.NewFileReader(tr, nil).Read(context.Background(), icao.EFCardAccess, nil)
	require.NoError(t, err, "read EF.CardAccess before authentication")
	infos, err := pace.ParseCardAccess(b)
	require.NoError(t, err)
	info, ok := pace.Choose(infos.PACE)
	require.True(t, ok, "no PACE offer")
	return pace.Open(context.Background(), tr, pw, info, nil)
}

// readLDS selects the application and reads files under the session,
// comparing them with the dataset.
func readLDS(t testing.TB, s icao.Transport, ds *vchip.Dataset, files ...icao.EF) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, icao.SelectApplication(ctx, s), "select application")
	r := icao.NewFileReader(s, nil)
	for _, ef := range files {
		got, err := r.Read(ctx, ef, nil)
		require.NoError(t, err, "read %v under PACE", ef)
		// Whole files, DG2 included: a hex diff would bury the message.
		require.True(t, bytes.Equal(got, ds.Files[ef.String()]), "read %v under PACE: %d bytes that differ from the dataset's %d", ef, len(got), len(ds.Files[ef.String()]))
	}
}

// TestPACE runs PACE with each kind of protocol and password, then reads
// the LDS through the session, as after BAC.
func TestPACE(t *testing.T) {
	tests := []struct {
		name   string
		offers string // EF.CardAccess; the strongest is run
		pw     string // "MRZ" or "CAN"
		want   string // protocol run
	}{
		{"ECDH-GM brainpoolP256r1 AES-128 MRZ", "ECDH-GM-AES-128/brainpoolP256r1", "MRZ", "PACE-ECDH-GM-AES-128"},
		{"ECDH-GM brainpoolP256r1 AES-128 CAN", "ECDH-GM-AES-128/brainpoolP256r1", "CAN", "PACE-ECDH-GM-AES-128"},
		{"ECDH-GM P-256 AES-128", "ECDH-GM-AES-128/P-256", "MRZ", "PACE-ECDH-GM-AES-128"},
		{"ECDH-GM P-384 AES-256", "ECDH-GM-AES-256/P-384", "CAN", "PACE-ECDH-GM-AES-256"},
		{"ECDH-GM brainpoolP384r1 AES-256", "ECDH-GM-AES-256/brainpoolP384r1", "MRZ", "PACE-ECDH-GM-AES-256"},
		{"ECDH-GM P-256 AES-192", "ECDH-GM-AES-192/P-256", "MRZ", "PACE-ECDH-GM-AES-192"},
		{"ECDH-GM P-256 3DES", "ECDH-GM-3DES/P-256", "MRZ", "PACE-ECDH-GM-3DES"},
		{"DH-GM 1024 AES-128", "DH-GM-AES-128/0", "MRZ", "PACE-DH-GM-AES-128"},
		{"DH-GM 2048 AES-128", "DH-GM-AES-128/2", "CAN", "PACE-DH-GM-AES-128"}, // extended-length GENERAL AUTHENTICATE
		{"DH-IM 1024 AES-128", "DH-IM-AES-128/0", "MRZ", "PACE-DH-IM-AES-128"},
		{"ECDH-IM brainpoolP256r1 AES-128", "ECDH-IM-AES-128/brainpoolP256r1", "MRZ", "PACE-ECDH-IM-AES-128"},
		{"ECDH-IM P-521 AES-256 only", "ECDH-IM-AES-256/P-521", "CAN", "PACE-ECDH-IM-AES-256"}, // AndyQ#150
		{"GM chosen over IM", "ECDH-IM-AES-128/P-256,ECDH-GM-AES-128/P-256", "MRZ", "PACE-ECDH-GM-AES-128"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ds := withPACE(t, tc.offers, specimenCAN)
			p := newPassport(t, ds, nil)
			res, err := openPACE(t, p, password(t, tc.pw))
			require.NoError(t, err, "PACE")
			defer res.Session.Close()
			assert.Equal(t, tc.want, res.Info.String(), "protocol run")
			readLDS(t, res.Session, ds, icao.EFCOM, icao.EFDG1, icao.EFSOD)
		})
	}
}

// TestPACECAM runs PACE-CAM on the committed PACE-only specimen and
// authenticates the chip against the DG14 it serves.
func TestPACECAM(t *testing.T) {
	ds := loadSpecimen(t, "specimen-pace-only-cam")
	for _, pw := range []string{"MRZ", "CAN"} {
		t.Run(pw, func(t *testing.T) {
			p := newPassport(t, ds, nil)
			res, err := openPACE(t, p, password(t, pw))
			require.NoError(t, err, "PACE")
			defer res.Session.Close()
			require.Equal(t, pace.ChipAuthenticationMapping, res.Info.Mapping(), "ran %v", res.Info)
			require.Equal(t, "brainpoolP256r1", res.Domain)
			require.NotNil(t, res.CAM, "CAM result")
			readLDS(t, res.Session, ds, icao.EFCOM, icao.EFSOD, icao.EFDG14, icao.EFDG1, icao.EFDG2)
			dg14, err := icao.NewFileReader(res.Session, nil).Read(context.Background(), icao.EFDG14, nil)
			require.NoError(t, err)
			infos, err := pace.ParseDG14(dg14)
			require.NoError(t, err)
			assert.NoError(t, res.CAM.Verify(infos), "CAM does not verify against DG14")
			// Another chip's key does not verify: CAM proves which key the
			// chip holds.
			other, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, PACE: []pace.Info{res.Info}})
			require.NoError(t, err)
			otherInfos, err := pace.ParseDG14(other.Files["DG14"])
			require.NoError(t, err)
			assert.ErrorIs(t, res.CAM.Verify(otherInfos), pace.ErrCAM, "CAM against another chip's DG14")
		})
	}
}
