package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// paceSpecimen builds a small specimen that offers the given PACE
// protocols (vchip.ParsePACEInfos syntax) and the CAN 123456.
func paceSpecimen(t *testing.T, offers string) *vchip.Dataset {
	t.Helper()
	infos, err := vchip.ParsePACEInfos(offers)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := vchip.Specimen(vchip.SpecimenConfig{PACE: infos, CAN: "123456", DG2Size: 6000})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

var mrzArgs = []string{"--mrz", specimenMRZ}

// TestE2EPACE reads PACE chips through pcscd + vpcd with every mapping,
// with the MRZ and the CAN, on PACE-only chips and on chips with BAC too.
func TestE2EPACE(t *testing.T) {
	pcsctest.Require(t)
	tests := []struct {
		name     string
		ds       func(t *testing.T) *vchip.Dataset
		chip     vchip.Config
		args     []string
		protocol string // PACE protocol expected, "" for BAC
		domain   string
		password string
		cam      string
		fallback bool
	}{
		{name: "GM brainpoolP256r1 AES-128 + BAC, MRZ", ds: func(t *testing.T) *vchip.Dataset { return loadDataset(t, "specimen-pace-gm-bp256") },
			args: mrzArgs, protocol: "PACE-ECDH-GM-AES-128", domain: "brainpoolP256r1", password: "MRZ"},
		{name: "GM P-256 AES-128, CAN", ds: func(t *testing.T) *vchip.Dataset { return paceSpecimen(t, "ECDH-GM-AES-128/P-256") },
			args: []string{"--can", "123456"}, protocol: "PACE-ECDH-GM-AES-128", domain: "P-256", password: "CAN"},
		{name: "GM brainpoolP384r1 AES-256, MRZ", ds: func(t *testing.T) *vchip.Dataset { return paceSpecimen(t, "ECDH-GM-AES-256/brainpoolP384r1") },
			args: mrzArgs, protocol: "PACE-ECDH-GM-AES-256", domain: "brainpoolP384r1", password: "MRZ"},
		{name: "DH-GM 1024 AES-128, MRZ", ds: func(t *testing.T) *vchip.Dataset { return paceSpecimen(t, "DH-GM-AES-128/0") },
			args: mrzArgs, protocol: "PACE-DH-GM-AES-128", password: "MRZ"},
		{name: "IM brainpoolP256r1 AES-128, CAN", ds: func(t *testing.T) *vchip.Dataset { return paceSpecimen(t, "ECDH-IM-AES-128/brainpoolP256r1") },
			args: []string{"--can", "123456"}, protocol: "PACE-ECDH-IM-AES-128", domain: "brainpoolP256r1", password: "CAN"},
		{name: "IM only P-521 AES-256 (AndyQ#150), MRZ", ds: func(t *testing.T) *vchip.Dataset { return paceSpecimen(t, "ECDH-IM-AES-256/P-521") },
			chip: vchip.Config{NoBAC: true}, args: mrzArgs, protocol: "PACE-ECDH-IM-AES-256", domain: "P-521", password: "MRZ"},
		{name: "CAM PACE-only, CAN", ds: func(t *testing.T) *vchip.Dataset { return loadDataset(t, "specimen-pace-only-cam") },
			args: []string{"--can", "123456"}, protocol: "PACE-ECDH-CAM-AES-128", domain: "brainpoolP256r1", password: "CAN", cam: "verified"},
		{name: "CAM PACE-only, MRZ", ds: func(t *testing.T) *vchip.Dataset { return loadDataset(t, "specimen-pace-only-cam") },
			args: mrzArgs, protocol: "PACE-ECDH-CAM-AES-128", domain: "brainpoolP256r1", password: "MRZ", cam: "verified"},
		{name: "several offers: the strongest wins", ds: func(t *testing.T) *vchip.Dataset {
			return paceSpecimen(t, "ECDH-GM-AES-128/brainpoolP256r1,ECDH-GM-AES-256/brainpoolP384r1,DH-GM-AES-128/0")
		}, args: mrzArgs, protocol: "PACE-ECDH-GM-AES-256", domain: "brainpoolP384r1", password: "MRZ"},
		{name: "chip rejects PACE mid-way: BAC", ds: func(t *testing.T) *vchip.Dataset { return loadDataset(t, "specimen-pace-gm-bp256") },
			chip: vchip.Config{PACEFailStep: 2}, args: mrzArgs, fallback: true},
		{name: "chip refuses the last PACE step with 6A80: BAC", ds: func(t *testing.T) *vchip.Dataset { return loadDataset(t, "specimen-pace-gm-bp256") },
			chip: vchip.Config{PACEFailStep: 4}, args: mrzArgs, fallback: true},
		{name: "--access bac on a PACE chip", ds: func(t *testing.T) *vchip.Dataset { return loadDataset(t, "specimen-pace-gm-bp256") },
			args: append([]string{"--access", "bac"}, mrzArgs...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := tc.ds(t)
			insert(t, ds, tc.chip)
			out := t.TempDir()
			r := runCLI(t, append([]string{"read", "--reader", pcsctest.ReaderName(0), "--out", out, "--json", "--timeout", "30s"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var s summary
			if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
				t.Fatalf("summary: %v\n%s", err, r.stdout)
			}
			if tc.protocol == "" {
				if s.AccessControl != "BAC" || s.PACE != nil || (s.Fallback != "") != tc.fallback {
					t.Errorf("want BAC (fallback %v), summary %+v", tc.fallback, s)
				}
			} else if s.AccessControl != "PACE" || s.PACE == nil || s.PACE.Protocol != tc.protocol ||
				(tc.domain != "" && s.PACE.Domain != tc.domain) || s.PACE.Password != tc.password || s.PACE.ChipAuthentication != tc.cam {
				t.Errorf("want %s on %s with %s, summary %+v pace %+v", tc.protocol, tc.domain, tc.password, s, s.PACE)
			}
			if !s.SOD.Valid {
				t.Errorf("SOD check: %+v", s.SOD)
			}
			for _, name := range []string{"EF.COM", "EF.SOD", "DG1", "DG2"} {
				got, err := os.ReadFile(filepath.Join(out, name))
				if err != nil || !bytes.Equal(got, ds.Files[name]) {
					t.Errorf("%s: %d bytes (err %v), dataset has %d", name, len(got), err, len(ds.Files[name]))
				}
			}
			assertPrivate(t, r.stdout+r.stderr)
		})
	}
}

func TestE2EPACEFailures(t *testing.T) {
	pcsctest.Require(t)
	wrongMRZ := []string{"--document-number", "L898902C3", "--date-of-birth", "740812", "--date-of-expiry", "120416"}
	tests := []struct {
		name string
		ds   string
		chip vchip.Config
		args []string
		want string
	}{
		{name: "wrong CAN", ds: "specimen-pace-only-cam", args: []string{"--can", "654321"}, want: "the chip refused the key: check the document number"},
		{name: "wrong MRZ on a PACE+BAC chip", ds: "specimen-pace-gm-bp256", args: wrongMRZ, want: "the chip refused the key: check the document number"},
		{name: "wrong MRZ on a PACE-only chip", ds: "specimen-pace-only-cam", args: wrongMRZ, want: "the chip refused the key: check the document number"},
		{name: "CAN on a BAC-only chip", ds: "specimen-20k", args: []string{"--can", "123456"}, want: "give the MRZ"},
		{name: "BAC forced on a PACE-only chip", ds: "specimen-pace-only-cam", args: append([]string{"--access", "bac"}, mrzArgs...), want: "needs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			insert(t, loadDataset(t, tc.ds), tc.chip)
			r := runCLI(t, append([]string{"read", "--reader", pcsctest.ReaderName(0), "--out", t.TempDir(), "--timeout", "30s"}, tc.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %q", r.code, r.stderr, tc.want)
			}
			assertPrivate(t, r.stderr)
		})
	}
}
