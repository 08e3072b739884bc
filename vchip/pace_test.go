package vchip_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

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
		if ds.ChipKey != nil || ds.CAN != "" {
			t.Error("BAC-only specimen with a chip key or CAN")
		}
		return
	}
	ca, err := pace.ParseCardAccess(ds.Files[vchip.NameCardAccess])
	if err != nil {
		t.Fatalf("EF.CardAccess: %v", err)
	}
	dg14, err := pace.ParseDG14(ds.Files["DG14"])
	if err != nil {
		t.Fatalf("DG14: %v", err)
	}
	want := names(offers)
	if got := names(ca.PACE); !slices.Equal(got, want) {
		t.Errorf("EF.CardAccess offers %v, want %v", got, want)
	}
	if got := names(dg14.PACE); !slices.Equal(got, want) {
		t.Errorf("DG14 offers %v, want %v", got, want)
	}
	cam := slices.ContainsFunc(offers, func(i pace.Info) bool { return i.Mapping() == pace.ChipAuthenticationMapping })
	switch {
	case cam && (ds.ChipKey == nil || len(dg14.ChipKeys) != 1):
		t.Fatalf("CAM specimen: chip key %v, %d keys in DG14", ds.ChipKey != nil, len(dg14.ChipKeys))
	case cam:
		key, err := pace.NewChipKey(ds.ChipKey.ParameterID, ds.ChipKey.Private)
		if err != nil {
			t.Fatal(err)
		}
		if k := dg14.ChipKeys[0]; !bytes.Equal(k.PublicKey, key.PublicKey()) || k.KeyID != key.ParameterID() {
			t.Error("DG14 does not hold the chip key's public key with keyId = parameter ID")
		}
	case ds.ChipKey != nil || len(dg14.ChipKeys) != 0:
		t.Error("chip key without a CAM offer")
	}
	if got := names(newPassport(t, ds, nil).PACEInfos()); !slices.Equal(got, want) {
		t.Errorf("the chip runs %v, want %v", got, want)
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// openPACE does what a reader does: select the MF, read EF.CardAccess in
// plain, choose the strongest offer and run PACE with pw.
func openPACE(t testing.TB, tr icao.Transport, pw pace.Password) (*pace.Result, error) {
	t.Helper()
	selectMF := icao.Command{INS: icao.InsSelect, P1: 0x00, P2: 0x0C, Data: []byte{0x3F, 0x00}}
	if _, err := icao.Exchange(context.Background(), tr, selectMF); err != nil {
		t.Fatalf("select MF: %v", err)
	}
	b, err := icao.NewFileReader(tr, nil).Read(context.Background(), icao.EFCardAccess, nil)
	if err != nil {
		t.Fatalf("read EF.CardAccess before authentication: %v", err)
	}
	infos, err := pace.ParseCardAccess(b)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := pace.Choose(infos.PACE)
	if !ok {
		t.Fatal("no PACE offer")
	}
	return pace.Open(context.Background(), tr, pw, info, nil)
}

// readLDS selects the application and reads files under the session,
// comparing them with the dataset.
func readLDS(t testing.TB, s icao.Transport, ds *vchip.Dataset, files ...icao.EF) {
	t.Helper()
	ctx := context.Background()
	if err := icao.SelectApplication(ctx, s); err != nil {
		t.Fatalf("select application: %v", err)
	}
	r := icao.NewFileReader(s, nil)
	for _, ef := range files {
		got, err := r.Read(ctx, ef, nil)
		if err != nil || !bytes.Equal(got, ds.Files[ef.String()]) {
			t.Fatalf("read %v under PACE: %d bytes, %v", ef, len(got), err)
		}
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
			if err != nil {
				t.Fatalf("PACE: %v", err)
			}
			defer res.Session.Close()
			if got := res.Info.String(); got != tc.want {
				t.Errorf("ran %s, want %s", got, tc.want)
			}
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
			if err != nil {
				t.Fatalf("PACE: %v", err)
			}
			defer res.Session.Close()
			if res.CAM == nil || res.Info.Mapping() != pace.ChipAuthenticationMapping || res.Domain != "brainpoolP256r1" {
				t.Fatalf("ran %v on %s, CAM %v", res.Info, res.Domain, res.CAM != nil)
			}
			readLDS(t, res.Session, ds, icao.EFCOM, icao.EFSOD, icao.EFDG14, icao.EFDG1, icao.EFDG2)
			dg14, err := icao.NewFileReader(res.Session, nil).Read(context.Background(), icao.EFDG14, nil)
			if err != nil {
				t.Fatal(err)
			}
			infos, err := pace.ParseDG14(dg14)
			if err != nil {
				t.Fatal(err)
			}
			if err := res.CAM.Verify(infos); err != nil {
				t.Errorf("CAM does not verify against DG14: %v", err)
			}
			// Another chip's key does not verify: CAM proves which key the
			// chip holds.
			other, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, PACE: []pace.Info{res.Info}})
			if err != nil {
				t.Fatal(err)
			}
			otherInfos, err := pace.ParseDG14(other.Files["DG14"])
			if err != nil {
				t.Fatal(err)
			}
			if err := res.CAM.Verify(otherInfos); !errors.Is(err, pace.ErrCAM) {
				t.Errorf("CAM against another chip's DG14 = %v, want ErrCAM", err)
			}
		})
	}
}
