package vchip_test

import (
	"bytes"
	"flag"
	"fmt"
	"image/jpeg"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			require.NoError(t, err)
			if *update {
				ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: s.dg2Size, Seed: s.seed, PACE: offers, CAN: s.can})
				require.NoError(t, err)
				ds.Config.NoBAC = s.noBAC
				require.NoError(t, os.RemoveAll(dir))
				require.NoError(t, ds.WriteDir(dir))
			}
			ds, err := vchip.LoadDir(dir)
			require.NoError(t, err)
			checkSpecimen(t, ds, s.dg2Size)
			checkPACESpecimen(t, ds, offers)
			checkTrust(t, dir, ds)
			assert.Equal(t, s.can, ds.CAN, "chip.json CAN")
			assert.Equal(t, s.noBAC, ds.Config.NoBAC, "chip.json NoBAC")
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
	require.NotNil(t, ds.MasterList, "dataset without CSCA.ml")
	require.NotNil(t, ds.CRL, "dataset without CSCA.crl")
	require.NotNil(t, ds.CSCA, "dataset without CSCA.cer")
	var store pki.Store
	for _, name := range []string{vchip.MasterListFile, vchip.MasterListFile, vchip.CRLFile} {
		// The second load of the list finds its signer's CSCA, which
		// the first load added.
		_, err := store.LoadPath(filepath.Join(dir, name))
		require.NoError(t, err, name)
	}
	reports := store.Reports()
	require.Len(t, reports, 3, "reports")
	require.Len(t, reports[1].Signers, 1, "master list report %+v", reports[1])
	require.True(t, reports[1].Signers[0].Chained, "master list report %+v", reports[1])
	require.Equal(t, 1, reports[1].CSCAs, "master list report %+v", reports[1])
	assert.Equal(t, 1, reports[2].CRLs, "CRL report %+v", reports[2])
	assert.Equal(t, 1, store.CRLs(), "CRLs in the store")
	v := pki.VerifySOD(ds.Files[vchip.NameSOD], &store, pki.VerifyOptions{IssuingState: "UTO"})
	assert.Equal(t, pki.StatusValid, v.Status, "EF.SOD under the specimen master list: %s", v.Reason)
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
	require.Equal(t, wantFiles, slices.Sorted(maps.Keys(ds.Files)), "files")
	com, err := icao.ParseCOM(ds.Files[vchip.NameCOM])
	require.NoError(t, err)
	assert.Equal(t, wantDGs, com.DataGroups(), "EF.COM data groups")
	dg1, err := icao.ParseDG1(ds.Files["DG1"])
	require.NoError(t, err)
	assert.NoError(t, dg1.Err(), "DG1")
	assert.Equal(t, specimenKey(t), dg1.MRZ.AccessKey().Information(), "DG1 does not hold the ICAO specimen MRZ")
	checkDG2(t, ds.Files["DG2"], dg2Size)
	sod, err := icao.ParseSOD(ds.Files[vchip.NameSOD])
	require.NoError(t, err)
	for _, dg := range wantDGs {
		name := fmt.Sprintf("DG%d", dg)
		assert.NoError(t, sod.Check(dg, ds.Files[name]), "EF.SOD hash of %s", name)
	}
	_, err = verifySignedData(ds.Files[vchip.NameSOD])
	assert.NoError(t, err, "EF.SOD signature")
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
	assert.InDelta(t, size, len(dg2), float64(size/100), "DG2 size, want ± 1%")
	parsed, err := icao.ParseDG2(dg2)
	require.NoError(t, err)
	require.Len(t, parsed.Faces, 1, "DG2 faces")
	face := parsed.Faces[0]
	assert.Equal(t, icao.ImageJPEG, face.Format, "DG2 face format")
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(face.Data))
	require.NoError(t, err, "DG2 face does not decode")
	assert.Equal(t, face.Width, cfg.Width, "JPEG width, as the DG2 header says")
	assert.Equal(t, face.Height, cfg.Height, "JPEG height, as the DG2 header says")
	assert.Equal(t, cfg.Height*3, cfg.Width*4, "JPEG is %dx%d, want 3:4", cfg.Width, cfg.Height)
}

// specimenKey is the BAC key seed input of the ICAO specimen MRZ.
func specimenKey(t testing.TB) []byte {
	t.Helper()
	m, err := icao.ParseMRZ(vchip.SpecimenMRZ)
	require.NoError(t, err)
	return m.AccessKey().Information()
}

func TestSpecimen(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 8000, Seed: 7, Now: func() time.Time { return now }})
	require.NoError(t, err)
	checkSpecimen(t, a, 8000)
	b, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 8000, Seed: 7})
	require.NoError(t, err)
	assert.Equal(t, a.Files["DG2"], b.Files["DG2"], "same seed gave different DG2 bytes")
	c, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 8000, Seed: 8})
	require.NoError(t, err)
	assert.NotEqual(t, a.Files["DG2"], c.Files["DG2"], "different seeds gave the same DG2 bytes")
	cert, err := verifySignedData(a.Files[vchip.NameSOD])
	require.NoError(t, err)
	assert.True(t, cert.NotBefore.Before(now), "DS certificate valid from %v, want before %v", cert.NotBefore, now)
	assert.True(t, cert.NotAfter.After(now.AddDate(9, 0, 0)), "DS certificate valid to %v, want around %v + 10 years", cert.NotAfter, now)
}

func TestSpecimenIndefiniteSOD(t *testing.T) {
	ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, IndefiniteSOD: true})
	require.NoError(t, err)
	sod := ds.Files[vchip.NameSOD]
	require.True(t, bytes.HasPrefix(sod, []byte{0x77, 0x80, 0x30, 0x80}), "EF.SOD does not start 77 80 30 80: % x", sod[:4])
	require.True(t, bytes.HasSuffix(sod, []byte{0, 0, 0, 0}), "EF.SOD does not end 00 00 00 00: % x", sod[len(sod)-4:])
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
			require.ErrorIs(t, err, vchip.ErrSpecimen)
			require.Nil(t, ds)
		})
	}
}

func TestDefaultSpecimen(t *testing.T) {
	ds, err := vchip.DefaultSpecimen()
	require.NoError(t, err)
	checkSpecimen(t, ds, vchip.DefaultDG2Size)
}
