package vchip_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

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
				if !errors.Is(err, vchip.ErrPACEInfo) {
					t.Fatalf("ParsePACEInfo = %v, %v; want ErrPACEInfo", vchip.FormatPACEInfo(info), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := vchip.FormatPACEInfo(info); got != tc.want {
				t.Errorf("FormatPACEInfo = %q, want %q", got, tc.want)
			}
			if !info.Supported() || info.Version != 2 {
				t.Errorf("%v is not a supported version 2 PACEInfo", info)
			}
			back, err := vchip.ParsePACEInfo(tc.want)
			if err != nil || !back.Protocol.Equal(info.Protocol) || back.ParameterID != info.ParameterID {
				t.Errorf("round trip of %q: %v, %v", tc.want, back, err)
			}
		})
	}
	list, err := vchip.ParsePACEInfos("ECDH-GM-AES-128/13, DH-GM-AES-128/2")
	if err != nil || len(list) != 2 || list[1].ParameterID != 2 {
		t.Errorf("ParsePACEInfos = %v, %v", list, err)
	}
	if _, err := vchip.ParsePACEInfos("ECDH-GM-AES-128/13,"); !errors.Is(err, vchip.ErrPACEInfo) {
		t.Errorf("ParsePACEInfos with an empty item = %v", err)
	}
}

func TestGenerateChipKey(t *testing.T) {
	for id := 8; id <= 18; id++ {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			k, err := vchip.GenerateChipKey(id, nil)
			if err != nil {
				t.Fatal(err)
			}
			pk, err := pace.NewChipKey(k.ParameterID, k.Private)
			if err != nil || pk.ParameterID() != id {
				t.Fatalf("generated key does not load: %v", err)
			}
			if want := (len(pk.PublicKey()) - 1) / 2; len(k.Private) != want {
				t.Errorf("private key of %d bytes, want %d", len(k.Private), want)
			}
			// Deterministic in the random source; the key does not print.
			a, _ := vchip.GenerateChipKey(id, rand.NewChaCha8([32]byte{1}))
			b, _ := vchip.GenerateChipKey(id, rand.NewChaCha8([32]byte{1}))
			if !bytes.Equal(a.Private, b.Private) {
				t.Error("same random source, different keys")
			}
			if s := fmt.Sprintf("%v %+v %x", k, *k, k); strings.Contains(s, fmt.Sprintf("%x", k.Private)) || !strings.Contains(s, "redacted") {
				t.Errorf("key formats as %q", s)
			}
		})
	}
	for _, id := range []int{0, 2, 7, 19} {
		if _, err := vchip.GenerateChipKey(id, nil); !errors.Is(err, vchip.ErrChipKey) {
			t.Errorf("GenerateChipKey(%d) = %v, want ErrChipKey", id, err)
		}
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
				if !errors.Is(err, vchip.ErrChipJSON) || ds != nil {
					t.Fatalf("LoadDataset = %v, %v; want ErrChipJSON", ds, err)
				}
				if strings.Contains(err.Error(), "12345") || strings.Contains(err.Error(), "ff") {
					t.Errorf("error quotes a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ds.CAN != "123456" || ds.ChipKey == nil || ds.ChipKey.ParameterID != 13 || ds.Config.PACEFailStep != 4 || ds.Config.PACEFailStatus != 0x6300 {
				t.Fatalf("CAN %v, key %v, config %+v", ds.CAN != "", ds.ChipKey != nil, ds.Config)
			}
			dir := filepath.Join(t.TempDir(), "chip")
			if err := ds.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			back, err := vchip.LoadDir(dir)
			if err != nil || !reflect.DeepEqual(back, ds) {
				t.Errorf("written back: %v", err)
			}
		})
	}
}

func TestNewPACEErrors(t *testing.T) {
	ds := withPACE(t, "ECDH-GM-AES-128/P-256", "12345")
	if _, err := vchip.New(ds, nil); !errors.Is(err, pace.ErrPassword) {
		t.Errorf("New with a bad CAN = %v, want pace.ErrPassword", err)
	}
	ds = withPACE(t, "ECDH-GM-AES-128/P-256", "")
	ds.ChipKey = &vchip.ChipKey{ParameterID: 13}
	if _, err := vchip.New(ds, nil); !errors.Is(err, vchip.ErrChipKey) {
		t.Errorf("New with a bad chip key = %v, want ErrChipKey", err)
	}
}

func TestSpecimenPACE(t *testing.T) {
	gm := mustInfo(t, "ECDH-GM-AES-128/brainpoolP256r1")
	cam := mustInfo(t, "ECDH-CAM-AES-128/brainpoolP256r1")
	key, err := vchip.GenerateChipKey(13, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, PACE: []pace.Info{gm, cam}, CAN: "000001", ChipKey: key})
	if err != nil {
		t.Fatal(err)
	}
	checkSpecimen(t, ds, 5000)
	checkPACESpecimen(t, ds, []pace.Info{gm, cam})
	if ds.CAN != "000001" || !bytes.Equal(ds.ChipKey.Private, key.Private) || ds.ChipKey == key {
		t.Error("the specimen does not keep a copy of the CAN and the given key")
	}

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
			if ds, err := vchip.Specimen(tc.cfg); !errors.Is(err, vchip.ErrSpecimen) || ds != nil {
				t.Fatalf("Specimen = %v, %v; want ErrSpecimen", ds != nil, err)
			}
		})
	}
}
