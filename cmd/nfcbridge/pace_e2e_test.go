package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// paceSpecimen builds a small specimen that offers the given PACE
// protocols (vchip.ParsePACEInfos syntax) and the CAN 123456.
func paceSpecimen(t *testing.T, offers string) *vchip.Dataset {
	t.Helper()
	infos, err := vchip.ParsePACEInfos(offers)
	require.NoError(t, err)
	ds, err := vchip.Specimen(vchip.SpecimenConfig{PACE: infos, CAN: "123456", DG2Size: 6000})
	require.NoError(t, err)
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
		{name: "CAM, 6A82 to every SFI: EF.CardAccess by FID, PACE", ds: func(t *testing.T) *vchip.Dataset { return loadDataset(t, "specimen-pace-only-cam") },
			chip: vchip.Config{NoShortEF: true, NoShortEFStatus: icao.StatusFileNotFound},
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
			require.Equal(t, 0, r.code, "exit code; stderr: %s", r.stderr)
			var s summary
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), "summary:\n%s", r.stdout)
			if tc.protocol == "" {
				assert.Equal(t, "BAC", s.AccessControl, "summary %+v", s)
				assert.Nil(t, s.PACE, "summary %+v", s)
				assert.Equal(t, tc.fallback, s.Fallback != "", "fallback %q", s.Fallback)
			} else {
				assert.Equal(t, "PACE", s.AccessControl, "summary %+v", s)
				if assert.NotNil(t, s.PACE, "summary %+v", s) {
					assert.Equal(t, tc.protocol, s.PACE.Protocol, "pace %+v", s.PACE)
					if tc.domain != "" {
						assert.Equal(t, tc.domain, s.PACE.Domain, "pace %+v", s.PACE)
					}
					assert.Equal(t, tc.password, s.PACE.Password, "pace %+v", s.PACE)
					assert.Equal(t, tc.cam, s.PACE.ChipAuthentication, "pace %+v", s.PACE)
				}
			}
			assert.True(t, s.SOD.Valid, "SOD check: %+v", s.SOD)
			for _, name := range []string{"EF.COM", "EF.SOD", "DG1", "DG2"} {
				got, err := os.ReadFile(filepath.Join(out, name))
				if assert.NoError(t, err, name) {
					assert.Equal(t, ds.Files[name], got, name)
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
			require.Equal(t, 1, r.code, "exit code; stderr %q", r.stderr)
			require.Contains(t, r.stderr, tc.want)
			assertPrivate(t, r.stderr)
		})
	}
}
