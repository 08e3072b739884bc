package vchip_test

import (
	"bytes"
	"crypto"
	"testing"

	"github.com/nfcbridge/nfcbridge/activeauth"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// TestSpecimenAuth builds specimens with Chip and Active Authentication:
// DG14 and DG15 are listed in EF.COM, hashed in EF.SOD, parse, and their
// keys survive chip.json.
func TestSpecimenAuth(t *testing.T) {
	tests := []struct {
		name    string
		ca      *vchip.ChipAuthSpec
		aa      *vchip.ActiveAuthSpec
		wantCA  string
		wantKey string
	}{
		{name: "ECDH AES keyId, RSA SHA-256", ca: &vchip.ChipAuthSpec{ParameterID: 13, KeyID: 7, Ciphers: []chipauth.Cipher{chipauth.AES128}},
			aa: &vchip.ActiveAuthSpec{RSABits: 1024, Hash: crypto.SHA256}, wantCA: "CA-ECDH-AES-CBC-CMAC-128 keyId=7 brainpoolP256r1", wantKey: "RSA-1024"},
		{name: "DH without info, ECDSA P-256", ca: &vchip.ChipAuthSpec{ParameterID: 0},
			aa: &vchip.ActiveAuthSpec{ParameterID: 12}, wantCA: "CA-DH-3DES-CBC-CBC MODP-1024-160 (inferred)", wantKey: "EC P-256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, ChipAuth: tc.ca, ActiveAuth: tc.aa})
			if err != nil {
				t.Fatal(err)
			}
			com, err := icao.ParseCOM(ds.Files[vchip.NameCOM])
			if err != nil {
				t.Fatal(err)
			}
			sod, err := icao.ParseSOD(ds.Files[vchip.NameSOD])
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{14, 15} {
				f, _ := icao.DataGroup(n)
				if sod.Check(n, ds.Files[f.String()]) != nil {
					t.Errorf("DG%d not hashed in EF.SOD", n)
				}
			}
			if got := com.DataGroups(); len(got) != 4 {
				t.Errorf("EF.COM lists %v", got)
			}
			infos, err := pace.ParseDG14(ds.Files["DG14"])
			if err != nil {
				t.Fatal(err)
			}
			key, err := chipauth.Choose(infos)
			if err != nil || key.String() != tc.wantCA {
				t.Errorf("CA key %v (%v), want %s", key, err, tc.wantCA)
			}
			pub, err := activeauth.ParseDG15(ds.Files["DG15"])
			if err != nil || pub.String() != tc.wantKey {
				t.Errorf("DG15 key %v (%v), want %s", pub, err, tc.wantKey)
			}
			if (tc.aa.RSABits == 0) != (len(infos.ActiveAuth) == 1) {
				t.Errorf("%d ActiveAuthenticationInfos", len(infos.ActiveAuth))
			}

			dir := t.TempDir()
			if err := ds.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			back, err := vchip.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if back.CAKey == nil || !bytes.Equal(back.CAKey.Private, ds.CAKey.Private) || back.CAKey.KeyID != ds.CAKey.KeyID ||
				back.AAKey == nil || back.AAKey.Hash != ds.AAKey.Hash {
				t.Error("keys lost in chip.json")
			}
			if _, err := vchip.New(back, &vchip.Config{Cloned: true}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
