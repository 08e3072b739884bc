package mrtd_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// wire watches the APDUs of a read: extended READ BINARY commands, and
// every command, and it can answer the READ BINARY of EF.ATR/INFO itself.
// It presents atr as the card's ATR.
type wire struct {
	t          icao.Transport
	atr        []byte
	atrInfo    []byte // answer to READ BINARY of EF.ATR/INFO by SFI, nil to pass it on
	apdus      int
	extendedRB int
	selectCA   int // SELECT of EF.CardAccess by FID
}

func (w *wire) ATR() []byte { return w.atr }

// Reconnect resets the chip behind the wire, as a reader does.
func (w *wire) Reconnect(ctx context.Context) error {
	return w.t.(mrtd.Reconnector).Reconnect(ctx)
}

func (w *wire) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	w.apdus++
	if bytes.HasPrefix(capdu, []byte{0x00, icao.InsSelect, 0x02, 0x0C, 0x02, 0x01, 0x1C}) {
		w.selectCA++
	}
	if len(capdu) > 5 && capdu[4] == 0 && (capdu[1] == icao.InsReadBinary || capdu[1] == icao.InsReadBinaryOdd) {
		w.extendedRB++
	}
	if w.atrInfo != nil && len(capdu) >= 4 && capdu[0] == 0 && capdu[1] == icao.InsReadBinary && capdu[2] == 0x81 {
		return w.atrInfo, nil
	}
	return w.t.Transmit(ctx, capdu)
}

// TestReadLength checks where the decision on extended READ BINARY comes
// from and that it holds on the wire (9303-11 §9.3.1.2).
func TestReadLength(t *testing.T) {
	ds := loadDataset(t, "specimen-20k")
	stated := icao.BufferSizes{Command: 65535, Response: 65535}
	// Short reads climb to the largest short Le under 3DES, 231, and the
	// next read on the reader starts there.
	const top = 231
	tests := []struct {
		name     string
		chip     vchip.Config
		read     icao.ReadConfig
		atrInfo  []byte
		source   icao.LengthSource
		extended bool // extended READ BINARY seen on the wire
		learned  mrtd.Learned
	}{
		{name: "nothing stated: short only on a chip that takes extended", source: icao.LengthNone, learned: mrtd.Learned{NoATRInfo: true, MaxLe: top}},
		{name: "EF.ATR/INFO states sizes", chip: vchip.Config{ATRInfo: stated}, source: icao.LengthATRInfo, extended: true},
		{name: "stated, but extended READ BINARY refused", chip: vchip.Config{ATRInfo: stated, NoExtendedReadBinary: true},
			source: icao.LengthATRInfo, extended: true, learned: mrtd.Learned{NoExtended: true, MaxLe: top}},
		{name: "override", chip: vchip.Config{NoExtendedReadBinary: true}, read: icao.ReadConfig{Extended: icao.ExtendedAlways},
			source: icao.LengthOverride, extended: true, learned: mrtd.Learned{NoATRInfo: true, MaxLe: top}},
		{name: "never despite stated sizes", chip: vchip.Config{ATRInfo: stated}, read: icao.ReadConfig{Extended: icao.ExtendedNever}, source: icao.LengthNone, learned: mrtd.Learned{MaxLe: top}},
		{name: "EF.ATR/INFO refused (6982)", atrInfo: []byte{0x69, 0x82}, source: icao.LengthNone, learned: mrtd.Learned{MaxLe: top}},
		// 6D00 to the SFI: SELECT by FID, which finds no file.
		{name: "EF.ATR/INFO refused (6D00)", atrInfo: []byte{0x6D, 0x00}, source: icao.LengthNone, learned: mrtd.Learned{NoATRInfo: true, MaxLe: top}},
		{name: "EF.ATR/INFO malformed", atrInfo: []byte{0x7F, 0x66, 0x08, 0x02, 0x02, 0x90, 0x00}, source: icao.LengthNone, learned: mrtd.Learned{MaxLe: top}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &wire{t: newChip(t, ds, tc.chip), atrInfo: tc.atrInfo}
			doc, err := mrtd.Read(context.Background(), w, specimenKey(t), &mrtd.Config{Read: tc.read})
			require.NoError(t, err)
			checkFiles(t, doc, ds)
			assert.Equal(t, tc.source, doc.Length.Source, "length %+v", doc.Length)
			assert.Equal(t, tc.extended, w.extendedRB > 0, "%d extended READ BINARY", w.extendedRB)
			l := doc.Learned
			assert.Equal(t, tc.learned.NoATRInfo, l.NoATRInfo, "learned %+v, want %+v", l, tc.learned)
			assert.Equal(t, tc.learned.NoExtended, l.NoExtended, "learned %+v, want %+v", l, tc.learned)
			assert.False(t, l.NoSFI, "learned %+v", l)
			assert.Equal(t, tc.learned.MaxLe, l.MaxLe, "learned %+v", l)
		})
	}
}

// TestReadLearned reads twice on one reader, the second time with what
// the first learned: no probing is left, and what does not fit the card
// in the reader is ignored.
func TestReadLearned(t *testing.T) {
	ds := loadDataset(t, "specimen-20k")
	atr := []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
	tests := []struct {
		name  string
		chip  vchip.Config
		saved int // APDUs the second read saves
		want  mrtd.Learned
		plan  icao.LengthSource
	}{
		// The refused probe (Le 160) and the look for EF.ATR/INFO.
		{name: "Le 128 (6700)", chip: vchip.Config{NoExtendedLength: true, MaxLe: 128}, saved: 1 + 1, want: mrtd.Learned{MaxLe: 128, NoATRInfo: true}},
		// EF.ATR/INFO by SFI and by FID, EF.CardAccess and EF.COM by
		// SFI, and the climb to Le 231 in EF.SOD.
		{name: "no SFI", chip: vchip.Config{NoShortEF: true}, saved: 2 + 1 + 1 + 1, want: mrtd.Learned{NoSFI: true, NoATRInfo: true, MaxLe: 231}},
		// The refused extended READ BINARY and the climb.
		{name: "extended refused", chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 65535, Response: 65535}, NoExtendedReadBinary: true},
			saved: 1 + 1, want: mrtd.Learned{NoExtended: true, MaxLe: 231}, plan: icao.LengthLearned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chip := newChip(t, ds, tc.chip)
			first := &wire{t: chip, atr: atr}
			doc, err := mrtd.Read(context.Background(), first, specimenKey(t), nil)
			require.NoError(t, err)
			learned := doc.Learned
			tc.want.ATR = atr
			require.Equal(t, tc.want, learned)
			chip.Reset()
			second := &wire{t: chip, atr: atr}
			doc, err = mrtd.Read(context.Background(), second, specimenKey(t), &mrtd.Config{Learned: learned})
			require.NoError(t, err)
			checkFiles(t, doc, ds)
			assert.Equal(t, tc.saved, first.apdus-second.apdus, "APDUs saved: first read %d, second %d", first.apdus, second.apdus)
			if tc.plan == icao.LengthLearned {
				assert.Zero(t, second.extendedRB, "extended READ BINARY on the second read")
			}
			assert.Equal(t, tc.plan, doc.Length.Source, "second plan")

			// Another card model in the same reader: nothing applies.
			chip.Reset()
			other := &wire{t: chip, atr: []byte{0x3B, 0x80, 0x80, 0x01, 0x02}}
			_, err = mrtd.Read(context.Background(), other, specimenKey(t), &mrtd.Config{Learned: learned})
			require.NoError(t, err)
			assert.Equal(t, first.apdus, other.apdus, "other ATR: APDUs as on a first read")
		})
	}
}

// TestReadCardAccessDoubt covers the 6A82 answer to READ BINARY of
// EF.CardAccess by short EF identifier. It is taken as absent, with no
// SELECT by FID, so a BAC-only chip pays nothing for it. A chip that says
// 6A82 to every short EF identifier still gets PACE: EF.CardAccess is
// looked for by FID when it refuses BAC, or when EF.COM shows that it
// takes no SFIs.
func TestReadCardAccessDoubt(t *testing.T) {
	wrong, err := icao.NewAccessKey("L898902C3", "740812", "120416")
	require.NoError(t, err)
	bacOnly := loadDataset(t, "specimen-20k")
	paceDS := loadDataset(t, "specimen-pace-gm-bp256")
	no6A82 := vchip.Config{NoShortEF: true, NoShortEFStatus: icao.StatusFileNotFound}
	tests := []struct {
		name     string
		ds       *vchip.Dataset
		chip     vchip.Config
		key      mrtd.Key
		policy   mrtd.Access
		access   string // access control of the read, "" when it fails
		wantErr  error
		selectCA int // SELECT of EF.CardAccess by FID
	}{
		{name: "BAC-only chip: no SELECT", ds: bacOnly, key: specimenKey(t), access: "BAC"},
		{name: "BAC-only chip, wrong MRZ: one look by FID, still a wrong MRZ", ds: bacOnly, key: mrtd.Key{MRZ: wrong},
			wantErr: mrtd.ErrAccessDenied, selectCA: 1},
		{name: "PACE-only chip with 6A82 to every SFI: PACE after BAC is refused", ds: paceDS, chip: vchip.Config{NoShortEF: true, NoShortEFStatus: icao.StatusFileNotFound, NoBAC: true},
			key: specimenKey(t), access: "PACE", selectCA: 1},
		{name: "PACE chip with 6A82 to every SFI that takes BAC: PACE once EF.COM shows it takes no SFIs", ds: paceDS, chip: no6A82,
			key: specimenKey(t), access: "PACE", selectCA: 1},
		{name: "BAC-only chip with 6A82 to every SFI: BAC again after the look", ds: bacOnly, chip: no6A82, key: specimenKey(t),
			access: "BAC", selectCA: 1},
		{name: "PACE chip with 6A82 to every SFI, --access pace: looked for by FID", ds: paceDS, chip: no6A82, key: specimenKey(t), policy: mrtd.AccessPACE,
			access: "PACE", selectCA: 1},
		{name: "BAC-only chip with --access pace: one look by FID, needs PACE", ds: bacOnly, key: specimenKey(t), policy: mrtd.AccessPACE,
			wantErr: mrtd.ErrNeedsPACE, selectCA: 1},
		{name: "PACE chip with SFIs: PACE, no SELECT", ds: paceDS, key: specimenKey(t), access: "PACE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chip := newChip(t, tc.ds, tc.chip)
			w := &wire{t: chip}
			doc, err := mrtd.Read(context.Background(), w, tc.key, &mrtd.Config{Access: tc.policy})
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.access, doc.AccessControl)
				checkFiles(t, doc, tc.ds)
			}
			assert.Equal(t, tc.selectCA, w.selectCA, "SELECT of EF.CardAccess by FID")
		})
	}

	// The next read on the reader knows the chip has no SFIs: EF.CardAccess
	// by FID at once, PACE, no BAC.
	chip := newChip(t, paceDS, no6A82)
	atr := []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
	doc, err := mrtd.Read(context.Background(), &wire{t: chip, atr: atr}, specimenKey(t), nil)
	require.NoError(t, err)
	require.True(t, doc.Learned.NoSFI, "learned %+v", doc.Learned)
	chip.Reset()
	second := &wire{t: chip, atr: atr}
	doc, err = mrtd.Read(context.Background(), second, specimenKey(t), &mrtd.Config{Learned: doc.Learned})
	require.NoError(t, err)
	assert.Equal(t, "PACE", doc.AccessControl, "second read")
	assert.Equal(t, 1, second.selectCA, "second read: SELECT of EF.CardAccess by FID")
	assert.Empty(t, doc.FallbackReason, "second read")
}

// TestReadPACEExtendedOnly runs PACE with a 2048-bit DH group, whose
// GENERAL AUTHENTICATE needs extended length, on a chip that refuses
// extended READ BINARY: extended length stays where 9303 requires it.
func TestReadPACEExtendedOnly(t *testing.T) {
	infos, err := vchip.ParsePACEInfos("DH-GM-AES-128/2")
	require.NoError(t, err)
	ds, err := vchip.Specimen(vchip.SpecimenConfig{PACE: infos, DG2Size: 5000})
	require.NoError(t, err)
	w := &wire{t: newChip(t, ds, vchip.Config{NoExtendedReadBinary: true, NoBAC: true})}
	doc, err := mrtd.Read(context.Background(), w, specimenKey(t), nil)
	require.NoError(t, err)
	checkFiles(t, doc, ds)
	assert.Equal(t, "PACE", doc.AccessControl)
	assert.Zero(t, w.extendedRB, "extended READ BINARY")
}

// TestReadLeAcrossCA reads a chip whose Chip Authentication moves secure
// messaging from 3DES to AES, on a first read and with a learned Le of
// 231, the most a short 3DES response carries: under AES the reader must
// ask for at most 223, or the protected READ BINARY would need extended
// length, which 9303-11 §9.3.1.2 forbids on a chip that states no buffer
// sizes.
func TestReadLeAcrossCA(t *testing.T) {
	ca := &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}}
	ds := authSpecimen(t, ca, nil, "")
	atr := []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
	for _, learned := range []mrtd.Learned{{}, {ATR: atr, MaxLe: 231}} {
		w := &wire{t: newChip(t, ds, vchip.Config{}), atr: atr}
		doc, err := mrtd.Read(context.Background(), w, specimenKey(t), &mrtd.Config{Learned: learned})
		require.NoError(t, err)
		require.Equal(t, mrtd.Passed, doc.Authenticity.Chip.Outcome, "chip authentication %+v", doc.Authenticity.Chip)
		checkFiles(t, doc, ds)
		assert.Zero(t, w.extendedRB, "extended READ BINARY, learned %+v", learned)
		assert.Equal(t, 223, doc.Learned.MaxLe, "learned after a read that started from %+v", learned)
	}
}
