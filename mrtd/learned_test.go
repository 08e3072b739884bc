package mrtd_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
}

func (w *wire) ATR() []byte { return w.atr }

func (w *wire) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	w.apdus++
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
	tests := []struct {
		name     string
		chip     vchip.Config
		read     icao.ReadConfig
		atrInfo  []byte
		source   icao.LengthSource
		extended bool // extended READ BINARY seen on the wire
		learned  mrtd.Learned
	}{
		{name: "nothing stated: short only on a chip that takes extended", source: icao.LengthNone, learned: mrtd.Learned{NoATRInfo: true}},
		{name: "EF.ATR/INFO states sizes", chip: vchip.Config{ATRInfo: stated}, source: icao.LengthATRInfo, extended: true},
		{name: "stated, but extended READ BINARY refused", chip: vchip.Config{ATRInfo: stated, NoExtendedReadBinary: true},
			source: icao.LengthATRInfo, extended: true, learned: mrtd.Learned{NoExtended: true}},
		{name: "override", chip: vchip.Config{NoExtendedReadBinary: true}, read: icao.ReadConfig{Extended: icao.ExtendedAlways},
			source: icao.LengthOverride, extended: true, learned: mrtd.Learned{NoATRInfo: true}},
		{name: "never despite stated sizes", chip: vchip.Config{ATRInfo: stated}, read: icao.ReadConfig{Extended: icao.ExtendedNever}, source: icao.LengthNone},
		{name: "EF.ATR/INFO refused (6982)", atrInfo: []byte{0x69, 0x82}, source: icao.LengthNone},
		// 6D00 to the SFI: SELECT by FID, which finds no file.
		{name: "EF.ATR/INFO refused (6D00)", atrInfo: []byte{0x6D, 0x00}, source: icao.LengthNone, learned: mrtd.Learned{NoATRInfo: true}},
		{name: "EF.ATR/INFO malformed", atrInfo: []byte{0x7F, 0x66, 0x08, 0x02, 0x02, 0x90, 0x00}, source: icao.LengthNone},
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
			assert.Zero(t, l.MaxLe, "learned %+v", l)
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
		{name: "Le 128 (6700)", chip: vchip.Config{NoExtendedLength: true, MaxLe: 128}, saved: 4 + 1, want: mrtd.Learned{MaxLe: 128, NoATRInfo: true}},
		{name: "no SFI", chip: vchip.Config{NoShortEF: true}, saved: 2 + 1 + 1, want: mrtd.Learned{NoSFI: true, NoATRInfo: true}},
		{name: "extended refused", chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 65535, Response: 65535}, NoExtendedReadBinary: true},
			saved: 1, want: mrtd.Learned{NoExtended: true}, plan: icao.LengthLearned},
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

// TestReadStatedShortEF reads a BAC-only chip whose ATR announces short EF
// identifiers (ISO/IEC 7816-4 §8.1.1.2.7, first software function table
// b3): its 6A82 to EF.CardAccess by SFI is taken as absent, without the
// SELECT by FID a chip that states nothing gets.
func TestReadStatedShortEF(t *testing.T) {
	ds := loadDataset(t, "specimen-20k")
	chip := newChip(t, ds, vchip.Config{})
	count := func(atr []byte) int {
		chip.Reset()
		w := &wire{t: chip, atr: atr}
		doc, err := mrtd.Read(context.Background(), w, specimenKey(t), nil)
		require.NoError(t, err)
		checkFiles(t, doc, ds)
		return w.apdus
	}
	plain := count([]byte{0x3B, 0x80, 0x80, 0x01, 0x01})
	stated := count([]byte{0x3B, 0x84, 0x80, 0x01, 0x80, 0x71, 0xF4, 0x00})
	assert.Equal(t, 1, plain-stated, "ATR stating short EF identifiers: %d APDUs, without: %d; want one fewer", stated, plain)
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
