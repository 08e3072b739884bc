package vchip_test

import (
	"bytes"
	"context"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// TestReadFiles reads every file with the project's reader under several
// reader and chip configurations; the bytes must come back exactly.
func TestReadFiles(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		chip    vchip.Config
		reader  icao.ReadConfig
	}{
		{name: "default", dataset: "specimen-20k"},
		{name: "short APDUs only", dataset: "specimen-20k", reader: icao.ReadConfig{Extended: icao.ExtendedNever}},
		{name: "select by FID", dataset: "specimen-20k", reader: icao.ReadConfig{NoShortEF: true}},
		{name: "Le 64", dataset: "specimen-20k", reader: icao.ReadConfig{MaxLe: 64, Extended: icao.ExtendedNever}},
		{name: "UA-like chip", dataset: "specimen-20k", chip: vchip.Config{NoExtendedLength: true, MaxLe: 192}},
		{name: "RU-like chip", dataset: "specimen-20k", chip: vchip.Config{NoExtendedLength: true, MaxLe: 160, OverLe: vchip.LeWrongOffset}},
		{name: "ES-like chip", dataset: "specimen-20k", chip: vchip.Config{NoExtendedLength: true, MaxLe: 160, OverLe: vchip.LeTruncate, EOFStatus: icao.StatusEndOfFile}},
		{name: "6Cxx chip", dataset: "specimen-20k", chip: vchip.Config{MaxLe: 128, OverLe: vchip.LeExact}},
		{name: "no short EF chip", dataset: "specimen-20k", chip: vchip.Config{NoShortEF: true}},
		{name: "150k default", dataset: "specimen-150k"},
		{name: "150k short APDUs", dataset: "specimen-150k", reader: icao.ReadConfig{Extended: icao.ExtendedNever}},
		{name: "150k no extended chip", dataset: "specimen-150k", chip: vchip.Config{NoExtendedLength: true}},
		{name: "150k extended Le 65536", dataset: "specimen-150k", reader: icao.ReadConfig{Extended: icao.ExtendedAlways, ExtendedLe: 65536}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := loadSpecimen(t, tc.dataset)
			_, _, s := session(t, ds, &tc.chip)
			r := icao.NewFileReader(s, &tc.reader)
			for _, ef := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2} {
				got, err := r.Read(context.Background(), ef, nil)
				require.NoError(t, err, "read %v", ef)
				// Up to 150 KB: a hex diff would bury the message.
				require.True(t, bytes.Equal(got, ds.Files[ef.String()]), "%v: read %d bytes that differ from the dataset's %d", ef, len(got), len(ds.Files[ef.String()]))
			}
		})
	}
}

// TestSelectAndRead exercises the ways to name a file under SM: SELECT by
// FID (P1 02 and 00), READ BINARY by SFI (which selects), odd READ BINARY
// by FID, SFI and current EF.
func TestSelectAndRead(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	com, sod, dg1, dg2 := ds.Files[vchip.NameCOM], ds.Files[vchip.NameSOD], ds.Files["DG1"], ds.Files["DG2"]
	_, _, s := session(t, ds, nil)
	steps := []struct {
		name string
		cmd  icao.Command
		want []byte // data, or the DO'53' value for B1
	}{
		{"select EF.COM", selectEF(0x011E), nil},
		{"read current", readAt(0, 4), com[:4]},
		{"read current at 4", readAt(4, 256), com[4:]},
		{"select DG1 with P1 00", icao.Command{INS: icao.InsSelect, P2: 0x0C, Data: []byte{0x01, 0x01}}, nil},
		{"read DG1", readAt(5, 10), dg1[5:15]},
		{"read DG2 by SFI", readSFI(0x02, 0x10, 32), dg2[0x10:0x30]},
		{"DG2 is now current", readAt(1000, 100), dg2[1000:1100]},
		{"read EF.SOD by SFI at 255", readSFI(0x1D, 255, 100), sod[255:355]},
		{"odd read EF.COM by FID", readOdd(0x011E, 2, 12), com[2:12]},
		{"odd read current (EF.COM)", readOdd(0, 0, 256), com},
		{"odd read DG2 by SFI", readOdd(0x0002, 19000, 300), dg2[19000:19296]},
		{"odd read current (DG2)", readOdd(0, 19900, 1000), dg2[19900:]},
		{"select DG2 FCP", icao.Command{INS: icao.InsSelect, P1: 0x02, P2: 0x04, Data: []byte{0x01, 0x02}, Ne: 256},
			tlv.Encode(0x62, []byte{0x80, 0x02, byte(len(dg2) >> 8), byte(len(dg2)), 0x82, 0x01, 0x01, 0x83, 0x02, 0x01, 0x02, 0x88, 0x01, 0x10})},
	}
	for _, st := range steps {
		resp := wantSW(t, s, st.cmd, icao.StatusOK)
		got := resp.Data
		if st.cmd.INS == icao.InsReadBinaryOdd {
			o, err := tlv.DecodeExpect(got, 0x53)
			require.NoError(t, err, st.name)
			got = o.Value
		}
		if st.want == nil {
			require.Empty(t, got, st.name) // testify tells nil from empty; bytes.Equal did not
		} else {
			require.Equal(t, st.want, got, st.name)
		}
	}
	for _, st := range []struct {
		name string
		cmd  icao.Command
		want icao.StatusWord
	}{
		{"select absent DG", selectEF(0x0105), icao.StatusFileNotFound},
		{"read absent DG by SFI", readSFI(0x05, 0, 8), icao.StatusFileNotFound},
		{"read SFI 0", readSFI(0, 0, 8), icao.StatusWrongP1P2},
		{"read SFI 31", readSFI(0x1F, 0, 8), icao.StatusWrongP1P2},
		{"odd read SFI 31", readOdd(0x001F, 0, 8), icao.StatusWrongP1P2},
		{"odd read absent FID", readOdd(0x0105, 0, 8), icao.StatusFileNotFound},
		{"odd read without DO'54'", icao.Command{INS: icao.InsReadBinaryOdd, Data: []byte{0x53, 0x01, 0x00}, Ne: 8}, icao.StatusWrongData},
		{"odd read 4-byte offset", icao.Command{INS: icao.InsReadBinaryOdd, Data: []byte{0x54, 0x04, 0, 0, 0, 0}, Ne: 8}, icao.StatusWrongData},
		{"read beyond the end", readSFI(0x1E, 22, 8), icao.StatusWrongP1P2},
		{"read without Le", readSFI(0x1E, 0, 0), icao.StatusWrongLength},
		{"odd read Le 2", readOdd(0, 0, 2), icao.StatusWrongLength},
	} {
		wantSW(t, s, st.cmd, st.want)
	}
}

// TestOddReadAbove32K reads the 150 KB DG2 beyond offset 32767, which only
// the odd INS can address (9303-10 §3.5.2).
func TestOddReadAbove32K(t *testing.T) {
	ds := loadSpecimen(t, "specimen-150k")
	dg2 := ds.Files["DG2"]
	require.GreaterOrEqual(t, len(dg2), 0x10000+1000, "DG2 is too small for this test")
	_, rec, s := session(t, ds, nil)
	wantSW(t, s, selectEF(0x0102), icao.StatusOK)
	for _, off := range []int{32767, 32768, 32769, 0xFFFF, 0x10000, 100_000, len(dg2) - 300, len(dg2) - 1} {
		for _, ne := range []int{231, 4096} {
			resp := wantSW(t, s, readOdd(0, off, ne), icao.StatusOK)
			o, err := tlv.DecodeExpect(resp.Data, 0x53)
			require.NoError(t, err, "offset %d Ne %d", off, ne)
			require.LessOrEqual(t, len(resp.Data), ne, "offset %d: response length for Ne %d", off, ne)
			end := min(len(dg2), off+len(o.Value))
			require.Equal(t, dg2[off:end], o.Value, "offset %d Ne %d: not the file's bytes", off, ne)
			require.False(t, end < len(dg2) && len(resp.Data) < ne-3, "offset %d Ne %d: %d bytes before the end of the file", off, ne, len(o.Value))
		}
	}
	got := wantSW(t, s, readAt(32767, 2), icao.StatusOK).Data
	assert.Equal(t, dg2[32767:32769], got, "B0 at 32767 reading across 32768")
	// B0 cannot express 32768: P1 80 names SFI 0 and A0–FF are invalid.
	wantSW(t, s, icao.Command{INS: icao.InsReadBinary, P1: 0x80, P2: 0x00, Ne: 16}, icao.StatusWrongP1P2)
	wantSW(t, s, icao.Command{INS: icao.InsReadBinary, P1: 0xA0, P2: 0x00, Ne: 16}, icao.StatusWrongP1P2)
	wantSW(t, s, icao.Command{INS: icao.InsReadBinary, P1: 0xFF, P2: 0xFF, Ne: 16}, icao.StatusWrongP1P2)
	assert.True(t, rec.protected(), "6B00 answered without SM")
	wantSW(t, s, readOdd(0, len(dg2), 16), icao.StatusWrongP1P2)
}

// TestResponseLength checks that responses hold exactly min(Ne, remaining)
// bytes, and the end-of-file status.
func TestResponseLength(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	com := ds.Files[vchip.NameCOM] // 22 bytes
	tests := []struct {
		name     string
		cfg      vchip.Config
		off, ne  int
		wantLen  int
		wantSW   icao.StatusWord
		extended bool
	}{
		{name: "Ne 1", off: 0, ne: 1, wantLen: 1, wantSW: icao.StatusOK},
		{name: "Ne remaining-1", off: 2, ne: 19, wantLen: 19, wantSW: icao.StatusOK},
		{name: "Ne remaining", off: 2, ne: 20, wantLen: 20, wantSW: icao.StatusOK},
		{name: "Ne remaining+1", off: 2, ne: 21, wantLen: 20, wantSW: icao.StatusOK},
		{name: "Ne 256", off: 0, ne: 256, wantLen: 22, wantSW: icao.StatusOK},
		{name: "Ne 65536", off: 0, ne: 65536, wantLen: 22, wantSW: icao.StatusOK},
		{name: "EOF 6282 remaining", cfg: vchip.Config{EOFStatus: icao.StatusEndOfFile}, off: 2, ne: 20, wantLen: 20, wantSW: icao.StatusOK},
		{name: "EOF 6282 remaining+1", cfg: vchip.Config{EOFStatus: icao.StatusEndOfFile}, off: 2, ne: 21, wantLen: 20, wantSW: icao.StatusEndOfFile},
		{name: "last byte", off: 21, ne: 8, wantLen: 1, wantSW: icao.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, s := session(t, ds, &tc.cfg)
			wantSW(t, s, selectEF(0x011E), icao.StatusOK)
			resp := wantSW(t, s, readAt(tc.off, tc.ne), tc.wantSW)
			assert.Equal(t, com[tc.off:tc.off+tc.wantLen], resp.Data)
		})
	}
}

// TestEACFiles checks DG3 and DG4 (fingerprints, iris): selectable under
// BAC but not readable, since they need terminal authentication, which
// this chip does not do (9303-11 §7.1; BSI TR-03110).
func TestEACFiles(t *testing.T) {
	base := loadSpecimen(t, "specimen-20k")
	ds := &vchip.Dataset{Files: maps.Clone(base.Files)}
	ds.Files["DG3"] = []byte{0x63, 0x02, 0x02, 0x01}
	_, rec, s := session(t, ds, nil)
	wantSW(t, s, selectEF(0x0103), icao.StatusOK)
	wantSW(t, s, readAt(0, 4), icao.StatusSecurityNotSatisfied)
	assert.True(t, rec.protected(), "6982 for DG3 answered without SM")
	wantSW(t, s, readSFI(0x03, 0, 4), icao.StatusSecurityNotSatisfied)
	wantSW(t, s, readOdd(0x0103, 0, 8), icao.StatusSecurityNotSatisfied)
	wantSW(t, s, readSFI(0x01, 0, 4), icao.StatusOK)
}

// BenchmarkReadDG2 reads the 150 KB DG2 with the project's reader over an
// in-process BAC session and reports what crossed the (virtual) RF link.
func BenchmarkReadDG2(b *testing.B) {
	ds := loadSpecimen(b, "specimen-150k")
	for _, rc := range []struct {
		name string
		cfg  icao.ReadConfig
	}{{"short", icao.ReadConfig{Extended: icao.ExtendedNever}}, {"extended", icao.ReadConfig{Extended: icao.ExtendedAlways}}} {
		b.Run(rc.name, func(b *testing.B) {
			var st vchip.Stats
			for b.Loop() {
				p, _, s := session(b, ds, nil)
				_, err := icao.NewFileReader(s, &rc.cfg).Read(context.Background(), icao.EFDG2, nil)
				require.NoError(b, err)
				st = p.Stats()
			}
			b.ReportMetric(float64(st.APDUs), "APDUs/read")
			b.ReportMetric(float64(st.BytesOut), "bytes-out/read")
		})
	}
}
