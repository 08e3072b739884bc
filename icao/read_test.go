package icao_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// openChip starts a virtual chip on ds with cfg, selects the application
// and runs BAC, returning the secure messaging session.
func openChip(t *testing.T, ds *vchip.Dataset, cfg vchip.Config) (*vchip.Passport, icao.Transport) {
	t.Helper()
	chip, err := vchip.New(ds, &cfg)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, icao.SelectApplication(ctx, chip))
	key, err := icao.NewAccessKey("L898902C3", "740812", "120415")
	require.NoError(t, err)
	s, err := bac.Open(ctx, chip, key.Information(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return chip, s
}

func loadDataset(t *testing.T, name string) *vchip.Dataset {
	t.Helper()
	ds, err := vchip.LoadDir("../testdata/passports/" + name)
	require.NoError(t, err)
	return ds
}

// TestFileReaderQuirks reads every file of both specimens byte-exactly
// through each chip behaviour the field notes describe.
func TestFileReaderQuirks(t *testing.T) {
	datasets := map[string]*vchip.Dataset{
		"20k":  loadDataset(t, "specimen-20k"),
		"150k": loadDataset(t, "specimen-150k"),
	}
	tests := []struct {
		name string
		chip vchip.Config
		read icao.ReadConfig
	}{
		{name: "modern chip"},
		{name: "no extended length", chip: vchip.Config{NoExtendedLength: true}},
		{name: "no extended, max Le 0x80", chip: vchip.Config{NoExtendedLength: true, MaxLe: 0x80}},
		{name: "max Le 192 answered 6Cxx", chip: vchip.Config{NoExtendedLength: true, MaxLe: 192, OverLe: vchip.LeExact}},
		{name: "max Le 160 answered 6B00", chip: vchip.Config{NoExtendedLength: true, MaxLe: 160, OverLe: vchip.LeWrongOffset}},
		{name: "max Le 128 truncated with 6282", chip: vchip.Config{NoExtendedLength: true, MaxLe: 128, OverLe: vchip.LeTruncate}},
		{name: "max Le 1000 with extended length", chip: vchip.Config{MaxLe: 1000}},
		{name: "no short EF identifiers (6A86)", chip: vchip.Config{NoShortEF: true}},
		{name: "no short EF identifiers (6B00)", chip: vchip.Config{NoShortEF: true, NoShortEFStatus: icao.StatusWrongP1P2}},
		{name: "6282 at end of file", chip: vchip.Config{EOFStatus: icao.StatusEndOfFile, NoExtendedLength: true}},
		{name: "strict outer Le", chip: vchip.Config{StrictOuterLe: true, NoExtendedLength: true}},
		{name: "extended never", read: icao.ReadConfig{Extended: icao.ExtendedNever}},
		{name: "reader told to use Le 100", read: icao.ReadConfig{MaxLe: 100, Extended: icao.ExtendedNever}},
	}
	files := []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2}
	for _, tc := range tests {
		for dsName, ds := range datasets {
			t.Run(tc.name+"/"+dsName, func(t *testing.T) {
				_, s := openChip(t, ds, tc.chip)
				r := icao.NewFileReader(s, &tc.read)
				for _, f := range files {
					got, err := r.Read(context.Background(), f, nil)
					require.NoError(t, err, "%v", f)
					// Not require.Equal: a diff of a 150 kB DG2 would bury the lengths.
					want := ds.Files[f.String()]
					require.True(t, bytes.Equal(got, want), "%v: got %d bytes, want %d, equal prefix %v", f, len(got), len(want), bytes.HasPrefix(want, got))
				}
			})
		}
	}
}

// TestFileReaderAPDUs pins the APDU counts of the strategy, so that a
// change that costs round trips shows up. Files: EF.COM 22 bytes, EF.SOD
// 962, DG1 93, DG2 19959. A short file comes whole in its first READ
// BINARY.
func TestFileReaderAPDUs(t *testing.T) {
	ds := loadDataset(t, "specimen-20k")
	stated := func(n int) icao.Capabilities {
		return icao.Capabilities{Source: icao.LengthATRInfo, Buffers: icao.BufferSizes{Command: n, Response: n}}
	}
	tests := []struct {
		name   string
		chip   vchip.Config
		read   icao.ReadConfig
		source icao.LengthSource
		apdus  int // for all four files, after BAC
	}{
		// No stated sizes: short APDUs only, even on a chip that takes
		// extended length. EF.SOD climbs from Le 128 a rung at a time
		// (128, 160, 192, 223, 231, then the last 28 bytes): 6 reads
		// where Le 231 throughout would take 5. DG2: 87 at 231.
		{name: "nothing stated", apdus: 1 + 6 + 1 + 87},
		{name: "short only chip", chip: vchip.Config{NoExtendedLength: true}, apdus: 1 + 6 + 1 + 87},
		// Buffers of 65535 bytes: every file in one READ BINARY.
		{name: "65535 stated", chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 65535, Response: 65535}},
			read: icao.ReadConfig{Chip: stated(65535)}, source: icao.LengthATRInfo, apdus: 4},
		// Buffers of 1024 bytes: 999 plain bytes per protected response.
		{name: "1024 stated", chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 1024, Response: 1024}},
			read: icao.ReadConfig{Chip: stated(1024)}, source: icao.LengthATRInfo, apdus: 1 + 1 + 1 + 20},
		// The chip states sizes but refuses extended READ BINARY: one
		// refusal, then short APDUs.
		{name: "stated but refused", chip: vchip.Config{NoExtendedReadBinary: true},
			read: icao.ReadConfig{Chip: stated(65535)}, source: icao.LengthATRInfo, apdus: 1 + 1 + 6 + 1 + 87},
		// The override without stated sizes: Le 4096.
		{name: "override", read: icao.ReadConfig{Extended: icao.ExtendedAlways}, source: icao.LengthOverride, apdus: 1 + 1 + 1 + 5},
		// A reader at the short APDU level.
		{name: "short reader", read: icao.ReadConfig{Chip: stated(65535), ReaderMaxAPDU: 271}, source: icao.LengthReader, apdus: 1 + 6 + 1 + 87},
		// A chip limited to Le 128: one refused probe (160) in EF.SOD,
		// 128 bytes a read from then on: EF.SOD 8 + 1, DG2 156.
		{name: "Le 128 chip", chip: vchip.Config{NoExtendedLength: true, MaxLe: 128}, apdus: 1 + 9 + 1 + 156},
		// The same answering 6C80: no read is refused for nothing.
		{name: "Le 128 chip, 6Cxx", chip: vchip.Config{NoExtendedLength: true, MaxLe: 128, OverLe: vchip.LeExact}, apdus: 1 + 9 + 1 + 156},
		// The ES card cuts reads above 160 short with 6282: its limit is
		// learned without a refusal (128, 160, then 192 served as 160).
		{name: "Le 160 chip cutting short", chip: vchip.Config{NoExtendedLength: true, MaxLe: 160, OverLe: vchip.LeTruncate}, apdus: 1 + 7 + 1 + 125},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chip, s := openChip(t, ds, tc.chip)
			before := chip.Stats().APDUs
			r := icao.NewFileReader(s, &tc.read)
			assert.Equal(t, tc.source, r.Plan().Source, "plan source")
			for _, f := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2} {
				got, err := r.Read(context.Background(), f, nil)
				require.NoError(t, err)
				// Not require.Equal: a diff of DG2 would bury the lengths.
				require.True(t, bytes.Equal(got, ds.Files[f.String()]), "%v differs: %d bytes, want %d", f, len(got), len(ds.Files[f.String()]))
			}
			assert.Equal(t, tc.apdus, int(chip.Stats().APDUs-before), "APDUs")
		})
	}
}

// TestFileReaderIndefiniteSOD reads an EF.SOD whose outer length is
// indefinite, as on US passports.
func TestFileReaderIndefiniteSOD(t *testing.T) {
	ds, err := vchip.Specimen(vchip.SpecimenConfig{IndefiniteSOD: true, DG2Size: 5000})
	require.NoError(t, err)
	for _, cfg := range []vchip.Config{{}, {NoExtendedLength: true, EOFStatus: icao.StatusEndOfFile}} {
		_, s := openChip(t, ds, cfg)
		got, err := icao.NewFileReader(s, nil).Read(context.Background(), icao.EFSOD, nil)
		require.NoError(t, err, "%+v", cfg)
		require.True(t, bytes.Equal(got, ds.Files["EF.SOD"]), "EF.SOD differs: %d vs %d bytes", len(got), len(ds.Files["EF.SOD"]))
	}
}

// TestFileReaderResume continues a read from a partial prefix on a new
// session, as after re-authentication.
func TestFileReaderResume(t *testing.T) {
	ds := loadDataset(t, "specimen-150k")
	want := ds.Files["DG2"]
	for _, cut := range []int{3, 8, 231, 32767, 32768, 40000, len(want) - 1} {
		_, s := openChip(t, ds, vchip.Config{NoExtendedLength: true})
		got, err := icao.NewFileReader(s, nil).Read(context.Background(), icao.EFDG2, append([]byte(nil), want[:cut]...))
		require.NoError(t, err, "cut %d", cut)
		require.True(t, bytes.Equal(got, want), "cut %d: differs: %d bytes, want %d", cut, len(got), len(want))
	}
}

// script is a Transport that answers from a list, for hostile chips.
type script struct {
	answers [][]byte
	n       int
}

func (s *script) Transmit(_ context.Context, _ []byte) ([]byte, error) {
	if s.n >= len(s.answers) {
		return nil, errors.New("script: no more answers")
	}
	s.n++
	return s.answers[s.n-1], nil
}

func TestFileReaderHostile(t *testing.T) {
	ok := []byte{0x90, 0x00}
	tests := []struct {
		name    string
		answers [][]byte
		want    error
	}{
		{name: "more data than asked", answers: [][]byte{append(bytes.Repeat([]byte{0x75}, 257), ok...)}, want: icao.ErrBadResponse},
		{name: "absurd length", answers: [][]byte{append([]byte{0x75, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0}, ok...)}, want: icao.ErrFileTooLarge},
		{name: "five length bytes", answers: [][]byte{append([]byte{0x75, 0x85, 1, 0, 0, 0, 0, 0}, ok...)}, want: icao.ErrBadResponse},
		{name: "no data then 9000", answers: [][]byte{append([]byte{0x75, 0x82, 0x10, 0x00, 1, 2, 3, 4}, ok...), ok}, want: icao.ErrBadResponse},
		{name: "file not found", answers: [][]byte{{0x6A, 0x82}, {0x6A, 0x82}}, want: icao.ErrNotFound},
		{name: "security status", answers: [][]byte{{0x69, 0x82}}, want: icao.ErrSecurityStatus},
		{name: "Le never accepted", answers: [][]byte{append([]byte{0x75, 0x82, 0x10, 0x00, 1, 2, 3, 4}, ok...),
			{0x67, 0}, {0x67, 0}, {0x67, 0}, {0x67, 0}, {0x67, 0}, {0x67, 0}, {0x67, 0}, {0x67, 0}, {0x67, 0}, {0x67, 0}, {0x67, 0}}, want: icao.ErrLength},
		{name: "empty response", answers: [][]byte{{}}, want: icao.ErrMalformedAPDU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := icao.NewFileReader(&script{answers: tc.answers}, &icao.ReadConfig{Extended: icao.ExtendedNever})
			_, err := r.Read(context.Background(), icao.EFDG2, nil)
			require.ErrorIs(t, err, tc.want)
		})
	}
}
