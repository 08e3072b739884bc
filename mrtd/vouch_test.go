package mrtd_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pki"
)

// realFiles reads the published files of a German document (EF.SOD,
// DG14, EF.CardSecurity; testdata/realdata/README.md gives the source).
func realFiles(t *testing.T) map[icao.EF][]byte {
	t.Helper()
	files := map[icao.EF][]byte{}
	for f, name := range map[icao.EF]string{icao.EFSOD: "EF.SOD.bin", icao.EFDG14: "DG14.bin", icao.EFCardSecurity: "EF.CardSecurity.bin"} {
		b, err := os.ReadFile("../testdata/realdata/DE/" + name)
		require.NoError(t, err)
		files[f] = b
	}
	return files
}

// TestVouch: chip authentication counts only when passive authentication
// covers the file that holds the chip's key.
func TestVouch(t *testing.T) {
	store := &pki.Store{}
	_, err := store.LoadPath("../testdata/realdata/DE")
	require.NoError(t, err)
	opts := mrtd.PassiveOptions{Trust: store, Now: func() time.Time { return time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) }}
	passed := func(src icao.EF) mrtd.ChipCheck {
		return mrtd.ChipCheck{Outcome: mrtd.Passed, Method: mrtd.MethodCA, Source: src}
	}
	files := realFiles(t)
	p := mrtd.CheckPassive(files, "D", opts)
	require.Equal(t, pki.StatusValid, p.Status, "the DE files do not verify: %+v", p)
	require.Equal(t, mrtd.Passed, p.Hashes, "the DE files do not verify: %+v", p)
	for _, src := range []icao.EF{icao.EFDG14, icao.EFCardSecurity} {
		got := mrtd.Vouch(passed(src), files, p, opts)
		assert.Equal(t, mrtd.Passed, got.Outcome, "%v vouched for by a valid signature: %+v", src, got)
	}

	// Another data group that does not match leaves DG14's coverage alone.
	other := map[icao.EF][]byte{icao.EFDG2: []byte("not the DG2 of this EF.SOD")}
	for f, b := range files {
		other[f] = b
	}
	po := mrtd.CheckPassive(other, "D", opts)
	require.Equal(t, mrtd.Failed, po.Hashes, "a foreign DG2 matches: %+v", po)
	got := mrtd.Vouch(passed(icao.EFDG14), other, po, opts)
	assert.Equal(t, mrtd.Passed, got.Outcome, "DG14 still vouched for when DG2 does not match: %+v", got)

	// A DG14 of the clone's own: its hash does not match EF.SOD.
	forged := map[icao.EF][]byte{}
	for f, b := range files {
		forged[f] = append([]byte(nil), b...)
	}
	forged[icao.EFDG14][len(forged[icao.EFDG14])-1] ^= 1
	got = mrtd.Vouch(passed(icao.EFDG14), forged, mrtd.CheckPassive(forged, "D", opts), opts)
	assert.Equal(t, mrtd.Failed, got.Outcome, "a DG14 that does not match EF.SOD: %+v", got)
	// An EF.CardSecurity of the clone's own: its signature does not verify.
	forged[icao.EFCardSecurity][len(forged[icao.EFCardSecurity])-5] ^= 1
	got = mrtd.Vouch(passed(icao.EFCardSecurity), forged, p, opts)
	assert.Equal(t, mrtd.Failed, got.Outcome, "an EF.CardSecurity whose signature fails: %+v", got)
	forged[icao.EFCardSecurity] = []byte{0x30, 0x03, 0x02, 0x01, 0x00}
	got = mrtd.Vouch(passed(icao.EFCardSecurity), forged, p, opts)
	assert.Equal(t, mrtd.Failed, got.Outcome, "an EF.CardSecurity that does not parse: %+v", got)
	// EF.SOD whose signature could not be checked: the check did not run.
	unchecked := mrtd.PassiveCheck{Status: pki.StatusUnsupported, Hashes: mrtd.Passed}
	got = mrtd.Vouch(passed(icao.EFDG14), files, unchecked, opts)
	assert.Equal(t, mrtd.NotRun, got.Outcome, "DG14 under an unchecked EF.SOD: %+v", got)
	// Outcomes other than passed are left alone.
	failed := mrtd.ChipCheck{Outcome: mrtd.Failed, Source: icao.EFDG14, Reason: "x"}
	assert.Equal(t, failed, mrtd.Vouch(failed, files, p, opts), "a failed check changed")
}
