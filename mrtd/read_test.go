package mrtd_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/vchip"
)

func specimenKey(t testing.TB) mrtd.Key {
	t.Helper()
	m, err := icao.ParseMRZ(vchip.SpecimenMRZ)
	require.NoError(t, err)
	return mrtd.Key{MRZ: m.AccessKey()}
}

func loadDataset(t testing.TB, name string) *vchip.Dataset {
	t.Helper()
	ds, err := vchip.LoadDir("../testdata/passports/" + name)
	require.NoError(t, err)
	return ds
}

func newChip(t testing.TB, ds *vchip.Dataset, cfg vchip.Config) *vchip.Passport {
	t.Helper()
	chip, err := vchip.New(ds, &cfg)
	require.NoError(t, err)
	return chip
}

func checkFiles(t *testing.T, doc *mrtd.Document, ds *vchip.Dataset) {
	t.Helper()
	// bytes.Equal, not assert.Equal: DG2 is up to 150 KB, too big for a
	// hex diff, and the lengths say enough.
	for _, f := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2} {
		assert.True(t, bytes.Equal(doc.Files[f], ds.Files[f.String()]),
			"%v: %d bytes read, dataset has %d", f, len(doc.Files[f]), len(ds.Files[f.String()]))
	}
	assert.True(t, doc.HashesValid(), "hash check: %+v", doc.Authenticity.Passive)
}

func TestRead(t *testing.T) {
	ds := loadDataset(t, "specimen-150k")
	var steps []mrtd.Step
	progress := 0
	cfg := &mrtd.Config{
		OnStep: func(s mrtd.Step) { steps = append(steps, s) },
		Read:   icao.ReadConfig{Progress: func(icao.EF, int, int) { progress++ }},
	}
	doc, err := mrtd.Read(context.Background(), newChip(t, ds, vchip.Config{}), specimenKey(t), cfg)
	require.NoError(t, err)
	checkFiles(t, doc, ds)
	assert.Equal(t, "BAC", doc.AccessControl)
	assert.NotNil(t, doc.DG1, "parsed DG1 missing")
	if assert.NotNil(t, doc.DG2, "parsed DG2 missing") {
		assert.Len(t, doc.DG2.Faces, 1)
	}
	assert.Equal(t, []mrtd.Step{mrtd.Authenticating, mrtd.Reading}, steps)
	assert.NotZero(t, progress, "progress calls")
	assert.NotZero(t, doc.Stats.APDUs, "stats = %+v", doc.Stats)
	assert.GreaterOrEqual(t, doc.Stats.BytesReceived, len(ds.Files["DG2"]), "stats = %+v", doc.Stats)
	assert.Len(t, doc.Stats.Files, 4, "stats = %+v", doc.Stats)
}

func TestReadFailures(t *testing.T) {
	ds := loadDataset(t, "specimen-20k")
	wrong, err := icao.NewAccessKey("L898902C3", "740812", "120416")
	require.NoError(t, err)
	tests := []struct {
		name string
		chip vchip.Config
		key  mrtd.Key
		want error
	}{
		{name: "wrong MRZ 6300", key: mrtd.Key{MRZ: wrong}, want: mrtd.ErrAccessDenied},
		{name: "wrong MRZ 6985", chip: vchip.Config{AuthFailStatus: icao.StatusConditionsNotMet}, key: mrtd.Key{MRZ: wrong}, want: mrtd.ErrAccessDenied},
		{name: "PACE-only chip 6A88", chip: vchip.Config{NoBAC: true}, key: specimenKey(t), want: mrtd.ErrNeedsPACE},
		{name: "PACE-only chip 6985", chip: vchip.Config{NoBAC: true, NoBACStatus: icao.StatusConditionsNotMet}, key: specimenKey(t), want: mrtd.ErrNeedsPACE},
		{name: "card removed", chip: vchip.Config{RemoveAfter: 20, NoExtendedLength: true}, key: specimenKey(t), want: vchip.ErrRemoved},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mrtd.Read(context.Background(), newChip(t, ds, tc.chip), tc.key, nil)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// corrupter flips a bit in the response to APDU number at, which breaks
// the secure messaging MAC.
type corrupter struct {
	t     icao.Transport
	n, at int
}

func (c *corrupter) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	r, err := c.t.Transmit(ctx, capdu)
	c.n++
	if c.n == c.at && len(r) > 4 {
		r = append([]byte(nil), r...)
		r[2] ^= 0x01
	}
	return r, err
}

// TestReadReauthenticates breaks the session mid-DG2: the read must
// re-authenticate, resume at the same offset and still be byte-exact.
func TestReadReauthenticates(t *testing.T) {
	ds := loadDataset(t, "specimen-150k")
	chip := newChip(t, ds, vchip.Config{NoExtendedLength: true})
	doc, err := mrtd.Read(context.Background(), &corrupter{t: chip, at: 60}, specimenKey(t), nil)
	require.NoError(t, err)
	checkFiles(t, doc, ds)

	// Without re-authentication the same fault is reported as SM failure.
	chip = newChip(t, ds, vchip.Config{NoExtendedLength: true})
	_, err = mrtd.Read(context.Background(), &corrupter{t: chip, at: 60}, specimenKey(t), &mrtd.Config{MaxReauth: -1})
	require.ErrorIs(t, err, mrtd.ErrSecureMessaging)
	require.ErrorIs(t, err, icao.ErrSM)
}

// TestResumeAfterRemoval pulls the card mid-DG2 and puts it back.
func TestResumeAfterRemoval(t *testing.T) {
	ds := loadDataset(t, "specimen-150k")
	chip := newChip(t, ds, vchip.Config{NoExtendedLength: true, RemoveAfter: 100})
	ctx := context.Background()
	doc, err := mrtd.Read(ctx, chip, specimenKey(t), nil)
	require.ErrorIs(t, err, vchip.ErrRemoved)
	require.GreaterOrEqual(t, doc.BytesRead(), 10000, "expected a partial DG2")
	require.Nil(t, doc.Files[icao.EFDG2], "expected a partial DG2, have %d bytes", doc.BytesRead())
	chip.Reinsert()
	doc, err = mrtd.Resume(ctx, chip, specimenKey(t), doc, nil)
	require.NoError(t, err)
	checkFiles(t, doc, ds)
}

// TestReadPACE runs the chip access procedure against PACE chips in
// process: PACE chosen from EF.CardAccess, re-authentication with PACE
// when the session breaks, and resumption after removal.
func TestReadPACE(t *testing.T) {
	ds := loadDataset(t, "specimen-pace-gm-bp256")
	ctx := context.Background()
	doc, err := mrtd.Read(ctx, &corrupter{t: newChip(t, ds, vchip.Config{NoExtendedLength: true}), at: 30}, specimenKey(t), nil)
	require.NoError(t, err)
	checkFiles(t, doc, ds)
	assert.Equal(t, "PACE", doc.AccessControl)
	assert.Equal(t, "PACE-ECDH-GM-AES-128", doc.PACE.Protocol)
	assert.Equal(t, "brainpoolP256r1", doc.PACE.Domain)

	cam := loadDataset(t, "specimen-pace-only-cam")
	chip := newChip(t, cam, vchip.Config{NoBAC: true, NoExtendedLength: true, RemoveAfter: 25})
	doc, err = mrtd.Read(ctx, chip, mrtd.Key{CAN: "123456"}, nil)
	require.ErrorIs(t, err, vchip.ErrRemoved)
	chip.Reinsert()
	doc, err = mrtd.Resume(ctx, chip, mrtd.Key{CAN: "123456"}, doc, nil)
	require.NoError(t, err)
	checkFiles(t, doc, cam)
	require.NotNil(t, doc.PACE)
	assert.Equal(t, "verified", doc.PACE.ChipAuthentication)
	assert.Equal(t, "CAN", doc.PACE.Password)
}

func TestReadPACEFailures(t *testing.T) {
	wrong, err := icao.NewAccessKey("L898902C3", "740812", "120416")
	require.NoError(t, err)
	tests := []struct {
		name    string
		dataset string
		chip    vchip.Config
		key     mrtd.Key
		cfg     mrtd.Config
		want    error
		bac     bool // read succeeds with BAC
	}{
		{name: "wrong MRZ: no BAC retry", dataset: "specimen-pace-gm-bp256", key: mrtd.Key{MRZ: wrong}, want: mrtd.ErrAccessDenied},
		{name: "wrong CAN", dataset: "specimen-pace-only-cam", chip: vchip.Config{NoBAC: true}, key: mrtd.Key{CAN: "000000"}, want: mrtd.ErrAccessDenied},
		{name: "CAN on BAC chip", dataset: "specimen-20k", key: mrtd.Key{CAN: "123456"}, want: mrtd.ErrNeedsMRZ},
		{name: "PACE forced on BAC chip", dataset: "specimen-20k", key: specimenKey(t), cfg: mrtd.Config{Access: mrtd.AccessPACE}, want: mrtd.ErrNeedsPACE},
		{name: "step 3 refused: BAC", dataset: "specimen-pace-gm-bp256", chip: vchip.Config{PACEFailStep: 3}, key: specimenKey(t), bac: true},
		{name: "step 4 6300: wrong password", dataset: "specimen-pace-gm-bp256", chip: vchip.Config{PACEFailStep: 4, PACEFailStatus: icao.StatusAuthFailed}, key: specimenKey(t), want: mrtd.ErrAccessDenied},
		{name: "step 4 6A80: BAC settles it", dataset: "specimen-pace-gm-bp256", chip: vchip.Config{PACEFailStep: 4}, key: specimenKey(t), bac: true},
		{name: "step 4 6A80 and a wrong MRZ", dataset: "specimen-pace-gm-bp256", chip: vchip.Config{PACEFailStep: 4}, key: mrtd.Key{MRZ: wrong}, want: mrtd.ErrAccessDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := mrtd.Read(context.Background(), newChip(t, loadDataset(t, tc.dataset), tc.chip), tc.key, &tc.cfg)
			if tc.bac {
				require.NoError(t, err)
				require.Equal(t, "BAC", doc.AccessControl)
				require.NotEmpty(t, doc.FallbackReason)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// shortOnly is a reader at the CCID "Short APDU" level (ACR122U): it fails
// every extended-length exchange in the reader, without a status word.
type shortOnly struct{ t icao.Transport }

func (s shortOnly) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if len(capdu) > 5 && capdu[4] == 0 {
		return nil, errors.New("reader: transmit: communication with the card failed")
	}
	return s.t.Transmit(ctx, capdu)
}

// TestReadShortAPDUReader reads through a reader that cannot carry
// extended APDUs although the chip takes them: the probe fails in the
// reader, the session is re-opened and the read goes on with short APDUs.
func TestReadShortAPDUReader(t *testing.T) {
	ds := loadDataset(t, "specimen-150k")
	doc, err := mrtd.Read(context.Background(), shortOnly{newChip(t, ds, vchip.Config{})}, specimenKey(t), nil)
	require.NoError(t, err)
	checkFiles(t, doc, ds)

	// PACE with a 2048-bit DH group needs an extended GENERAL AUTHENTICATE.
	infos, err := vchip.ParsePACEInfos("DH-GM-AES-128/2")
	require.NoError(t, err)
	dh, err := vchip.Specimen(vchip.SpecimenConfig{PACE: infos, DG2Size: 5000})
	require.NoError(t, err)
	doc, err = mrtd.Read(context.Background(), shortOnly{newChip(t, dh, vchip.Config{})}, specimenKey(t), nil)
	require.NoError(t, err, "PACE+BAC chip")
	require.Equal(t, "BAC", doc.AccessControl, "PACE+BAC chip: want BAC after the reader failed PACE")
	_, err = mrtd.Read(context.Background(), shortOnly{newChip(t, dh, vchip.Config{NoBAC: true})}, specimenKey(t), nil)
	require.ErrorIs(t, err, mrtd.ErrReaderUnable, "PACE-only chip")
}
