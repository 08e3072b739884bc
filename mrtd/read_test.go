package mrtd_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/vchip"
)

func specimenKey(t testing.TB) mrtd.Key {
	t.Helper()
	m, err := icao.ParseMRZ(vchip.SpecimenMRZ)
	if err != nil {
		t.Fatal(err)
	}
	return mrtd.Key{MRZ: m.AccessKey()}
}

func loadDataset(t testing.TB, name string) *vchip.Dataset {
	t.Helper()
	ds, err := vchip.LoadDir("../testdata/passports/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func newChip(t testing.TB, ds *vchip.Dataset, cfg vchip.Config) *vchip.Passport {
	t.Helper()
	chip, err := vchip.New(ds, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return chip
}

func checkFiles(t *testing.T, doc *mrtd.Document, ds *vchip.Dataset) {
	t.Helper()
	for _, f := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2} {
		if !bytes.Equal(doc.Files[f], ds.Files[f.String()]) {
			t.Errorf("%v: %d bytes read, dataset has %d", f, len(doc.Files[f]), len(ds.Files[f.String()]))
		}
	}
	if !doc.HashesValid() {
		t.Errorf("hash check: %+v", doc.Authenticity.Passive)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, doc, ds)
	if doc.AccessControl != "BAC" || doc.DG2 == nil || len(doc.DG2.Faces) != 1 || doc.DG1 == nil {
		t.Errorf("parsed views missing: %+v", doc.DG2)
	}
	if len(steps) != 2 || steps[0] != mrtd.Authenticating || steps[1] != mrtd.Reading {
		t.Errorf("steps = %v", steps)
	}
	if progress == 0 || doc.Stats.APDUs == 0 || doc.Stats.BytesReceived < len(ds.Files["DG2"]) || len(doc.Stats.Files) != 4 {
		t.Errorf("stats = %+v, progress calls %d", doc.Stats, progress)
	}
}

func TestReadFailures(t *testing.T) {
	ds := loadDataset(t, "specimen-20k")
	wrong, err := icao.NewAccessKey("L898902C3", "740812", "120416")
	if err != nil {
		t.Fatal(err)
	}
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
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, doc, ds)

	// Without re-authentication the same fault is reported as SM failure.
	chip = newChip(t, ds, vchip.Config{NoExtendedLength: true})
	_, err = mrtd.Read(context.Background(), &corrupter{t: chip, at: 60}, specimenKey(t), &mrtd.Config{MaxReauth: -1})
	if !errors.Is(err, mrtd.ErrSecureMessaging) || !errors.Is(err, icao.ErrSM) {
		t.Fatalf("err = %v, want secure messaging failure", err)
	}
}

// TestResumeAfterRemoval pulls the card mid-DG2 and puts it back.
func TestResumeAfterRemoval(t *testing.T) {
	ds := loadDataset(t, "specimen-150k")
	chip := newChip(t, ds, vchip.Config{NoExtendedLength: true, RemoveAfter: 100})
	ctx := context.Background()
	doc, err := mrtd.Read(ctx, chip, specimenKey(t), nil)
	if !errors.Is(err, vchip.ErrRemoved) {
		t.Fatalf("err = %v, want removal", err)
	}
	if doc.BytesRead() < 10000 || doc.Files[icao.EFDG2] != nil {
		t.Fatalf("expected a partial DG2, have %d bytes", doc.BytesRead())
	}
	chip.Reinsert()
	doc, err = mrtd.Resume(ctx, chip, specimenKey(t), doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, doc, ds)
}

// TestReadPACE runs the chip access procedure against PACE chips in
// process: PACE chosen from EF.CardAccess, re-authentication with PACE
// when the session breaks, and resumption after removal.
func TestReadPACE(t *testing.T) {
	ds := loadDataset(t, "specimen-pace-gm-bp256")
	ctx := context.Background()
	doc, err := mrtd.Read(ctx, &corrupter{t: newChip(t, ds, vchip.Config{NoExtendedLength: true}), at: 30}, specimenKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, doc, ds)
	if doc.AccessControl != "PACE" || doc.PACE.Protocol != "PACE-ECDH-GM-AES-128" || doc.PACE.Domain != "brainpoolP256r1" {
		t.Errorf("access %s, %+v", doc.AccessControl, doc.PACE)
	}

	cam := loadDataset(t, "specimen-pace-only-cam")
	chip := newChip(t, cam, vchip.Config{NoBAC: true, NoExtendedLength: true, RemoveAfter: 25})
	doc, err = mrtd.Read(ctx, chip, mrtd.Key{CAN: "123456"}, nil)
	if !errors.Is(err, vchip.ErrRemoved) {
		t.Fatalf("err = %v, want removal", err)
	}
	chip.Reinsert()
	doc, err = mrtd.Resume(ctx, chip, mrtd.Key{CAN: "123456"}, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, doc, cam)
	if doc.PACE == nil || doc.PACE.ChipAuthentication != "verified" || doc.PACE.Password != "CAN" {
		t.Errorf("PACE = %+v", doc.PACE)
	}
}

func TestReadPACEFailures(t *testing.T) {
	wrong, err := icao.NewAccessKey("L898902C3", "740812", "120416")
	if err != nil {
		t.Fatal(err)
	}
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
				if err != nil || doc.AccessControl != "BAC" || doc.FallbackReason == "" {
					t.Fatalf("err %v, access %q, fallback %q", err, doc.AccessControl, doc.FallbackReason)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, doc, ds)

	// PACE with a 2048-bit DH group needs an extended GENERAL AUTHENTICATE.
	infos, err := vchip.ParsePACEInfos("DH-GM-AES-128/2")
	if err != nil {
		t.Fatal(err)
	}
	dh, err := vchip.Specimen(vchip.SpecimenConfig{PACE: infos, DG2Size: 5000})
	if err != nil {
		t.Fatal(err)
	}
	doc, err = mrtd.Read(context.Background(), shortOnly{newChip(t, dh, vchip.Config{})}, specimenKey(t), nil)
	if err != nil || doc.AccessControl != "BAC" {
		t.Fatalf("PACE+BAC chip: err %v, access %q: want BAC after the reader failed PACE", err, doc.AccessControl)
	}
	_, err = mrtd.Read(context.Background(), shortOnly{newChip(t, dh, vchip.Config{NoBAC: true})}, specimenKey(t), nil)
	if !errors.Is(err, mrtd.ErrReaderUnable) {
		t.Fatalf("PACE-only chip: err = %v, want ErrReaderUnable", err)
	}
}
