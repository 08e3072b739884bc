package vchip_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/vchip"
)

func TestParsePACEInfo(t *testing.T) {
	tests := []struct {
		in   string
		want string // FormatPACEInfo of the result; "" = error
	}{
		{"ECDH-GM-AES-128/brainpoolP256r1", "ECDH-GM-AES-128/brainpoolP256r1"},
		{"ECDH-GM-AES-128/13", "ECDH-GM-AES-128/brainpoolP256r1"},
		{"pace-ecdh-gm-aes-128/BRAINPOOLP256R1", "ECDH-GM-AES-128/brainpoolP256r1"},
		{" PACE-ECDH-CAM-AES-256/P-384 ", "ECDH-CAM-AES-256/P-384"},
		{"ECDH-IM-3DES/P-256", "ECDH-IM-3DES/P-256"},
		{"ECDH-GM-AES-192/brainpoolP512r1", "ECDH-GM-AES-192/brainpoolP512r1"},
		{"DH-GM-AES-128/2", "DH-GM-AES-128/MODP-2048-256"},
		{"DH-GM-AES-128/modp-2048-224", "DH-GM-AES-128/MODP-2048-224"},
		{"DH-IM-3DES/0", "DH-IM-3DES/MODP-1024-160"},
		{"DH-GM-AES-256/MODP-2048-256", "DH-GM-AES-256/MODP-2048-256"},
		{"ECDH-GM-AES-128", ""},                  // no domain
		{"ECDH-XX-AES-128/13", ""},               // no such mapping
		{"ECDH-GM-AES-512/13", ""},               // no such cipher
		{"ECDH-CAM-3DES/13", ""},                 // CAM has no 3DES (9303-11 §9.2.3)
		{"DH-CAM-AES-128/2", ""},                 // CAM is ECDH only
		{"DH-GM-AES-128/brainpoolP256r1", ""},    // DH on a curve
		{"ECDH-GM-AES-128/2", ""},                // ECDH on a MODP group
		{"ECDH-IM-AES-128/P-224", ""},            // 9303 excludes IM on P-224
		{"ECDH-GM-AES-128/19", ""},               // not standardized
		{"ECDH-GM-AES-128/-1", ""},               //
		{"ECDH-GM-AES-128/secp256k1", ""},        //
		{"", ""},                                 //
		{"ECDH-GM-AES-128/13/14", ""},            //
		{"ECDH-GM-AES-128//brainpoolP256r1", ""}, //
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			info, err := vchip.ParsePACEInfo(tc.in)
			if tc.want == "" {
				require.ErrorIs(t, err, vchip.ErrPACEInfo, "ParsePACEInfo = %v", vchip.FormatPACEInfo(info))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, vchip.FormatPACEInfo(info), "FormatPACEInfo")
			assert.True(t, info.Supported(), "%v is not supported", info)
			assert.Equal(t, 2, info.Version, "PACEInfo version")
			back, err := vchip.ParsePACEInfo(tc.want)
			if assert.NoError(t, err, "round trip of %q", tc.want) {
				assert.True(t, back.Protocol.Equal(info.Protocol), "round trip of %q: %v", tc.want, back)
				assert.Equal(t, info.ParameterID, back.ParameterID, "round trip of %q", tc.want)
			}
		})
	}
	list, err := vchip.ParsePACEInfos("ECDH-GM-AES-128/13, DH-GM-AES-128/2")
	if assert.NoError(t, err, "ParsePACEInfos") && assert.Len(t, list, 2, "ParsePACEInfos") {
		assert.Equal(t, 2, list[1].ParameterID, "ParsePACEInfos")
	}
	_, err = vchip.ParsePACEInfos("ECDH-GM-AES-128/13,")
	assert.ErrorIs(t, err, vchip.ErrPACEInfo, "ParsePACEInfos with an empty item")
}

func TestGenerateChipKey(t *testing.T) {
	for id := 8; id <= 18; id++ {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			k, err := vchip.GenerateChipKey(id, nil)
			require.NoError(t, err)
			pk, err := pace.NewChipKey(k.ParameterID, k.Private)
			require.NoError(t, err, "generated key does not load")
			require.Equal(t, id, pk.ParameterID(), "generated key does not load")
			assert.Len(t, k.Private, (len(pk.PublicKey())-1)/2, "private key")
			// Deterministic in the random source; the key does not print.
			a, _ := vchip.GenerateChipKey(id, rand.NewChaCha8([32]byte{1}))
			b, _ := vchip.GenerateChipKey(id, rand.NewChaCha8([32]byte{1}))
			assert.Equal(t, a.Private, b.Private, "same random source, different keys")
			s := fmt.Sprintf("%v %+v %x", k, *k, k)
			assert.NotContains(t, s, fmt.Sprintf("%x", k.Private), "key formats with its bytes")
			assert.Contains(t, s, "redacted", "key formats without redaction")
		})
	}
	for _, id := range []int{0, 2, 7, 19} {
		_, err := vchip.GenerateChipKey(id, nil)
		assert.ErrorIs(t, err, vchip.ErrChipKey, "GenerateChipKey(%d)", id)
	}
}

// TestChipJSONPACE loads and writes back the PACE settings of chip.json.
func TestChipJSONPACE(t *testing.T) {
	const key = "65dceffb6b12d6a693ce6a7107b5b9e4b7c98cbc72260633748a2d9349be9f39"
	tests := []struct {
		name    string
		json    string
		wantErr bool
	}{
		{name: "can and key", json: `{"can": "123456", "chip_key": {"parameter_id": 13, "private_key": "` + key + `"}, "quirks": {"pace_fail_step": 4, "pace_fail_status": "6300"}}`},
		{name: "can too short", json: `{"can": "12345"}`, wantErr: true},
		{name: "can not digits", json: `{"can": "12345a"}`, wantErr: true},
		{name: "key not hex", json: `{"chip_key": {"parameter_id": 13, "private_key": "zz"}}`, wantErr: true},
		{name: "key empty", json: `{"chip_key": {"parameter_id": 13, "private_key": ""}}`, wantErr: true},
		{name: "key zero", json: `{"chip_key": {"parameter_id": 13, "private_key": "00"}}`, wantErr: true},
		{name: "key above n", json: `{"chip_key": {"parameter_id": 13, "private_key": "` + strings.Repeat("ff", 32) + `"}}`, wantErr: true},
		{name: "key on a DH group", json: `{"chip_key": {"parameter_id": 2, "private_key": "01"}}`, wantErr: true},
		{name: "key unknown field", json: `{"chip_key": {"parameter_id": 13, "d": "01"}}`, wantErr: true},
		{name: "fail step 5", json: `{"quirks": {"pace_fail_step": 5}}`, wantErr: true},
		{name: "fail status 9000", json: `{"quirks": {"pace_fail_status": "9000"}}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := vchip.LoadDataset(specimenFS(t, fstest.MapFS{"chip.json": file(tc.json)}))
			if tc.wantErr {
				require.ErrorIs(t, err, vchip.ErrChipJSON, "LoadDataset")
				require.Nil(t, ds, "LoadDataset")
				assert.NotContains(t, err.Error(), "12345", "error quotes a secret")
				assert.NotContains(t, err.Error(), "ff", "error quotes a secret")
				return
			}
			require.NoError(t, err)
			require.Equal(t, "123456", ds.CAN)
			require.NotNil(t, ds.ChipKey)
			require.Equal(t, 13, ds.ChipKey.ParameterID, "chip key")
			require.Equal(t, 4, ds.Config.PACEFailStep)
			require.Equal(t, icao.StatusWord(0x6300), ds.Config.PACEFailStatus)
			dir := filepath.Join(t.TempDir(), "chip")
			require.NoError(t, ds.WriteDir(dir))
			back, err := vchip.LoadDir(dir)
			if assert.NoError(t, err, "written back") {
				assert.Equal(t, ds, back, "written back")
			}
		})
	}
}

func TestNewPACEErrors(t *testing.T) {
	ds := withPACE(t, "ECDH-GM-AES-128/P-256", "12345")
	_, err := vchip.New(ds, nil)
	assert.ErrorIs(t, err, pace.ErrPassword, "New with a bad CAN")
	ds = withPACE(t, "ECDH-GM-AES-128/P-256", "")
	ds.ChipKey = &vchip.ChipKey{ParameterID: 13}
	_, err = vchip.New(ds, nil)
	assert.ErrorIs(t, err, vchip.ErrChipKey, "New with a bad chip key")
}

func TestSpecimenPACE(t *testing.T) {
	gm := mustInfo(t, "ECDH-GM-AES-128/brainpoolP256r1")
	cam := mustInfo(t, "ECDH-CAM-AES-128/brainpoolP256r1")
	key, err := vchip.GenerateChipKey(13, nil)
	require.NoError(t, err)
	ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, PACE: []pace.Info{gm, cam}, CAN: "000001", ChipKey: key})
	require.NoError(t, err)
	checkSpecimen(t, ds, 5000)
	checkPACESpecimen(t, ds, []pace.Info{gm, cam})
	assert.Equal(t, "000001", ds.CAN, "the specimen does not keep the CAN")
	assert.Equal(t, key.Private, ds.ChipKey.Private, "the specimen does not keep the given key")
	assert.NotSame(t, key, ds.ChipKey, "the specimen does not keep a copy of the given key")

	tests := []struct {
		name string
		cfg  vchip.SpecimenConfig
	}{
		{"unsupported offer", vchip.SpecimenConfig{PACE: []pace.Info{{Protocol: gm.Protocol, Version: 1, ParameterID: 13}}}},
		{"CAN without PACE", vchip.SpecimenConfig{CAN: "123456"}},
		{"key without PACE", vchip.SpecimenConfig{ChipKey: key}},
		{"key without CAM", vchip.SpecimenConfig{PACE: []pace.Info{gm}, ChipKey: key}},
		{"key on another curve", vchip.SpecimenConfig{PACE: []pace.Info{mustInfo(t, "ECDH-CAM-AES-128/P-256")}, ChipKey: key}},
		{"CAM on two curves", vchip.SpecimenConfig{PACE: []pace.Info{cam, mustInfo(t, "ECDH-CAM-AES-128/P-256")}}},
		{"bad CAN", vchip.SpecimenConfig{PACE: []pace.Info{gm}, CAN: "1234567"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.DG2Size = 5000
			ds, err := vchip.Specimen(tc.cfg)
			require.ErrorIs(t, err, vchip.ErrSpecimen)
			require.Nil(t, ds)
		})
	}
}
