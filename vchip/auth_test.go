package vchip_test

import (
	"crypto"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			require.NoError(t, err)
			com, err := icao.ParseCOM(ds.Files[vchip.NameCOM])
			require.NoError(t, err)
			sod, err := icao.ParseSOD(ds.Files[vchip.NameSOD])
			require.NoError(t, err)
			for _, n := range []int{14, 15} {
				f, _ := icao.DataGroup(n)
				assert.NoError(t, sod.Check(n, ds.Files[f.String()]), "DG%d not hashed in EF.SOD", n)
			}
			assert.Len(t, com.DataGroups(), 4, "EF.COM")
			infos, err := pace.ParseDG14(ds.Files["DG14"])
			require.NoError(t, err)
			key, err := chipauth.Choose(infos)
			if assert.NoError(t, err, "CA key") {
				assert.Equal(t, tc.wantCA, key.String(), "CA key")
			}
			pub, err := activeauth.ParseDG15(ds.Files["DG15"])
			if assert.NoError(t, err, "DG15 key") {
				assert.Equal(t, tc.wantKey, pub.String(), "DG15 key")
			}
			assert.Equal(t, tc.aa.RSABits == 0, len(infos.ActiveAuth) == 1, "%d ActiveAuthenticationInfos", len(infos.ActiveAuth))

			dir := t.TempDir()
			require.NoError(t, ds.WriteDir(dir))
			back, err := vchip.LoadDir(dir)
			require.NoError(t, err)
			if assert.NotNil(t, back.CAKey, "CA key lost in chip.json") {
				assert.Equal(t, ds.CAKey.Private, back.CAKey.Private, "CA key in chip.json")
				assert.Equal(t, ds.CAKey.KeyID, back.CAKey.KeyID, "CA key ID in chip.json")
			}
			if assert.NotNil(t, back.AAKey, "AA key lost in chip.json") {
				assert.Equal(t, ds.AAKey.Hash, back.AAKey.Hash, "AA hash in chip.json")
			}
			_, err = vchip.New(back, &vchip.Config{Cloned: true})
			require.NoError(t, err)
		})
	}
}
