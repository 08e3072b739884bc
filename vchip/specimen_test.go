package vchip_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image/jpeg"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pki"
	"github.com/nfcbridge/nfcbridge/vchip"
)

var update = flag.Bool("update", false, "regenerate the specimen datasets in testdata/passports")

// committedSpecimens are the datasets kept in testdata/passports.
var committedSpecimens = []struct {
	dir     string
	dg2Size int
	seed    uint64
	pace    string // PACE offers (vchip.ParsePACEInfos), "" for none
	can     string
	noBAC   bool
}{
	{dir: "specimen-20k", dg2Size: 20_000, seed: 20},
	{dir: "specimen-150k", dg2Size: 150_000, seed: 150},
	{dir: "specimen-pace-gm-bp256", dg2Size: 8_000, seed: 8, pace: "ECDH-GM-AES-128/brainpoolP256r1"},
	{dir: "specimen-pace-only-cam", dg2Size: 8_000, seed: 9, pace: "ECDH-CAM-AES-128/brainpoolP256r1", can: specimenCAN, noBAC: true},
}

// specimenCAN is the CAN of the committed PACE specimens that have one.
const specimenCAN = "123456"

func specimenDir(name string) string {
	return filepath.Join("..", "testdata", "passports", name)
}

// TestSpecimenTestdata checks the committed specimen datasets, and with
// -update regenerates them first.
func TestSpecimenTestdata(t *testing.T) {
	for _, s := range committedSpecimens {
		t.Run(s.dir, func(t *testing.T) {
			dir := specimenDir(s.dir)
			offers, err := vchip.ParsePACEInfos(s.pace)
			if s.pace == "" {
				offers, err = nil, nil
			}
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: s.dg2Size, Seed: s.seed, PACE: offers, CAN: s.can})
				if err != nil {
					t.Fatal(err)
				}
				ds.Config.NoBAC = s.noBAC
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := ds.WriteDir(dir); err != nil {
					t.Fatal(err)
				}
			}
			ds, err := vchip.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			checkSpecimen(t, ds, s.dg2Size)
			checkPACESpecimen(t, ds, offers)
			checkTrust(t, dir, ds)
			if ds.CAN != s.can || ds.Config.NoBAC != s.noBAC {
				t.Errorf("chip.json: CAN set %v, NoBAC %v; want %v, %v", ds.CAN != "", ds.Config.NoBAC, s.can != "", s.noBAC)
			}
			for _, name := range slices.Sorted(maps.Keys(ds.Files)) {
				t.Logf("%s: %d bytes", name, len(ds.Files[name]))
			}
		})
	}
}

// checkTrust loads a specimen directory's master list and CRL into a
// pki.Store, as `--trust DIR` would with only those files, and checks
// that the master list's signature holds, that its signer chains to the
// CSCA it carries and that EF.SOD verifies as valid under them.
func checkTrust(t *testing.T, dir string, ds *vchip.Dataset) {
	t.Helper()
	if ds.MasterList == nil || ds.CRL == nil || ds.CSCA == nil {
		t.Fatal("dataset without CSCA.cer, CSCA.ml or CSCA.crl")
	}
	var store pki.Store
	for _, name := range []string{vchip.MasterListFile, vchip.MasterListFile, vchip.CRLFile} {
		// The second load of the list finds its signer's CSCA, which
		// the first load added.
		if _, err := store.LoadPath(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	reports := store.Reports()
	if len(reports) != 3 || len(reports[1].Signers) != 1 || !reports[1].Signers[0].Chained || reports[1].CSCAs != 1 {
		t.Fatalf("master list reports %+v", reports)
	}
	if reports[2].CRLs != 1 || store.CRLs() != 1 {
		t.Errorf("CRL report %+v", reports[2])
	}
	v := pki.VerifySOD(ds.Files[vchip.NameSOD], &store, pki.VerifyOptions{IssuingState: "UTO"})
	if v.Status != pki.StatusValid {
		t.Errorf("EF.SOD under the specimen master list: %s (%s)", v.Status, v.Reason)
	}
}

// checkSpecimen checks a specimen dataset: the files parse, EF.COM lists
// DG1 and DG2 (and DG14 with PACE), DG1 holds the ICAO specimen MRZ, DG2
// a JPEG of about the requested size, and EF.SOD's hashes and signature
// verify.
func checkSpecimen(t *testing.T, ds *vchip.Dataset, dg2Size int) {
	t.Helper()
	wantFiles, wantDGs := []string{"DG1", "DG2", "EF.COM", "EF.SOD"}, []int{1, 2}
	if _, ok := ds.Files[vchip.NameCardAccess]; ok {
		wantFiles, wantDGs = []string{"DG1", "DG14", "DG2", "EF.COM", "EF.CardAccess", "EF.SOD"}, []int{1, 2, 14}
	}
	if _, ok := ds.Files[vchip.NameCardSecurity]; ok { // specimens made since EF.CardSecurity
		wantFiles = append(wantFiles[:5:5], vchip.NameCardSecurity, vchip.NameSOD)
	}
	if got := slices.Sorted(maps.Keys(ds.Files)); !slices.Equal(got, wantFiles) {
		t.Fatalf("files %v, want %v", got, wantFiles)
	}
	com, err := icao.ParseCOM(ds.Files[vchip.NameCOM])
	if err != nil {
		t.Fatal(err)
	}
	if got := com.DataGroups(); !slices.Equal(got, wantDGs) {
		t.Errorf("EF.COM lists data groups %v, want %v", got, wantDGs)
	}
	dg1, err := icao.ParseDG1(ds.Files["DG1"])
	if err != nil {
		t.Fatal(err)
	}
	if err := dg1.Err(); err != nil {
		t.Errorf("DG1: %v", err)
	}
	if !bytes.Equal(dg1.MRZ.AccessKey().Information(), specimenKey(t)) {
		t.Error("DG1 does not hold the ICAO specimen MRZ")
	}
	checkDG2(t, ds.Files["DG2"], dg2Size)
	sod, err := icao.ParseSOD(ds.Files[vchip.NameSOD])
	if err != nil {
		t.Fatal(err)
	}
	for _, dg := range wantDGs {
		name := fmt.Sprintf("DG%d", dg)
		if err := sod.Check(dg, ds.Files[name]); err != nil {
			t.Errorf("EF.SOD hash of %s: %v", name, err)
		}
	}
	if _, err := verifySignedData(ds.Files[vchip.NameSOD]); err != nil {
		t.Errorf("EF.SOD signature: %v", err)
	}
}

// verifySignedData checks the signature of a CMS SignedData and returns
// the signer's certificate.
func verifySignedData(b []byte) (*pki.Certificate, error) {
	sd, err := pki.ParseSignedData(b)
	if err != nil {
		return nil, err
	}
	return sd.Verify()
}

func checkDG2(t *testing.T, dg2 []byte, size int) {
	t.Helper()
	if d := len(dg2) - size; d < -size/100 || d > size/100 {
		t.Errorf("DG2 is %d bytes, want %d ± 1%%", len(dg2), size)
	}
	parsed, err := icao.ParseDG2(dg2)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed.Faces) != 1 {
		t.Fatalf("DG2 holds %d faces, want 1", len(parsed.Faces))
	}
	face := parsed.Faces[0]
	if face.Format != icao.ImageJPEG {
		t.Errorf("DG2 face format %v", face.Format)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(face.Data))
	if err != nil {
		t.Fatalf("DG2 face does not decode: %v", err)
	}
	if cfg.Width != face.Width || cfg.Height != face.Height || cfg.Width*4 != cfg.Height*3 {
		t.Errorf("JPEG is %dx%d, DG2 header says %dx%d, want 3:4", cfg.Width, cfg.Height, face.Width, face.Height)
	}
}

// specimenKey is the BAC key seed input of the ICAO specimen MRZ.
func specimenKey(t testing.TB) []byte {
	t.Helper()
	m, err := icao.ParseMRZ(vchip.SpecimenMRZ)
	if err != nil {
		t.Fatal(err)
	}
	return m.AccessKey().Information()
}

func TestSpecimen(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 8000, Seed: 7, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	checkSpecimen(t, a, 8000)
	b, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 8000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Files["DG2"], b.Files["DG2"]) {
		t.Error("same seed gave different DG2 bytes")
	}
	c, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 8000, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Files["DG2"], c.Files["DG2"]) {
		t.Error("different seeds gave the same DG2 bytes")
	}
	cert, err := verifySignedData(a.Files[vchip.NameSOD])
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotBefore.Before(now) || !cert.NotAfter.After(now.AddDate(9, 0, 0)) {
		t.Errorf("DS certificate valid %v to %v, want around %v + 10 years", cert.NotBefore, cert.NotAfter, now)
	}
}

func TestSpecimenIndefiniteSOD(t *testing.T) {
	ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, IndefiniteSOD: true})
	if err != nil {
		t.Fatal(err)
	}
	sod := ds.Files[vchip.NameSOD]
	if !bytes.HasPrefix(sod, []byte{0x77, 0x80, 0x30, 0x80}) || !bytes.HasSuffix(sod, []byte{0, 0, 0, 0}) {
		t.Fatalf("EF.SOD does not start 77 80 30 80 and end 00 00 00 00: % x … % x", sod[:4], sod[len(sod)-4:])
	}
	checkSpecimen(t, ds, 5000)
}

func TestSpecimenErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  vchip.SpecimenConfig
	}{
		{"bad check digit", vchip.SpecimenConfig{MRZ: "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C37UTO7408122F1204159ZE184226B<<<<<10"}},
		{"not an MRZ", vchip.SpecimenConfig{MRZ: "hello"}},
		{"DG2 too small", vchip.SpecimenConfig{DG2Size: 100}},
		{"DG2 too large", vchip.SpecimenConfig{DG2Size: 50_000_000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := vchip.Specimen(tc.cfg)
			if !errors.Is(err, vchip.ErrSpecimen) || ds != nil {
				t.Fatalf("Specimen = %v, %v; want nil, ErrSpecimen", ds, err)
			}
		})
	}
}

func TestDefaultSpecimen(t *testing.T) {
	ds, err := vchip.DefaultSpecimen()
	if err != nil {
		t.Fatal(err)
	}
	checkSpecimen(t, ds, vchip.DefaultDG2Size)
}
