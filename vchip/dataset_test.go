package vchip_test

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// specimenFS is the 20k specimen as an in-memory file system, plus extra.
func specimenFS(t *testing.T, extra fstest.MapFS) fstest.MapFS {
	t.Helper()
	ds := loadSpecimen(t, "specimen-20k")
	m := fstest.MapFS{}
	for name, data := range ds.Files {
		m[name] = &fstest.MapFile{Data: data}
	}
	for name, f := range extra {
		if f == nil {
			delete(m, name)
		} else {
			m[name] = f
		}
	}
	return m
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestLoadDataset(t *testing.T) {
	const mrzInfo = "L898902C<369080619406236"
	tests := []struct {
		name    string
		extra   fstest.MapFS
		wantErr error
		want    vchip.Config
		wantKey string // MRZInformation; "" = none
	}{
		{name: "specimen"},
		{name: "other files ignored", extra: fstest.MapFS{"README": file("x"), "result.json": file("{}")}},
		{name: "no EF.SOD", extra: fstest.MapFS{"EF.SOD": nil}},
		{name: "no EF.COM", extra: fstest.MapFS{"EF.COM": nil}, wantErr: vchip.ErrMissingFile},
		{name: "no DG1", extra: fstest.MapFS{"DG1": nil}, wantErr: vchip.ErrMissingFile},
		{name: "DG1 without MRZ", extra: fstest.MapFS{"DG1": file("\x61\x03\x5F\x1F\x00")}, wantErr: vchip.ErrNoAccessKey},
		{name: "DG1 without MRZ, key in chip.json", extra: fstest.MapFS{"DG1": file("\x61\x00"), "chip.json": file(`{"mrz_information": "` + mrzInfo + `"}`)},
			wantKey: mrzInfo},
		{name: "DG1 without MRZ, PACE only", extra: fstest.MapFS{"DG1": file("\x61\x00"), "chip.json": file(`{"quirks": {"no_bac": true}}`)},
			want: vchip.Config{NoBAC: true}},
		{name: "key from MRZ lines", extra: fstest.MapFS{"chip.json": file(`{"mrz": "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<"}`)},
			wantKey: "D23145890734934071279507122"}, // 9303-11 D.2, a 12-character document number
		{name: "directory as DG3", extra: fstest.MapFS{"DG3/x": file("x")}, wantErr: fs.ErrInvalid},
		{name: "quirks", extra: fstest.MapFS{"chip.json": file(`{
			"comment": "every quirk",
			"quirks": {
				"no_extended_length": true, "max_le": 192, "over_le": "6CXX", "strict_outer_le": true,
				"no_short_ef": true, "no_short_ef_status": "6b00", "eof_status": "6282",
				"select_mf_status": "6A86", "reject_select_le": true, "card_access_deactivated": true,
				"no_bac_status": "6985", "auth_fail_status": "6985", "plain_after_sm": "6987",
				"latency": "9ms", "remove_after": 40, "atr": "3b80800101",
				"no_extended_read_binary": true, "atr_info_command": 1024, "atr_info_response": 65535
			}}`)},
			want: vchip.Config{
				NoExtendedLength: true, MaxLe: 192, OverLe: vchip.LeExact, StrictOuterLe: true,
				NoShortEF: true, NoShortEFStatus: 0x6B00, EOFStatus: 0x6282, SelectMFStatus: 0x6A86,
				RejectSelectLe: true, CardAccessDeactivated: true, NoBACStatus: 0x6985, AuthFailStatus: 0x6985,
				PlainAfterSM: 0x6987, Latency: 9 * time.Millisecond, RemoveAfter: 40, ATR: []byte{0x3B, 0x80, 0x80, 0x01, 0x01},
				NoExtendedReadBinary: true, ATRInfo: icao.BufferSizes{Command: 1024, Response: 65535},
			}},
		{name: "unknown key", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"max_len": 192}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "not JSON", extra: fstest.MapFS{"chip.json": file(`max_le: 192`)}, wantErr: vchip.ErrChipJSON},
		{name: "trailing data", extra: fstest.MapFS{"chip.json": file(`{} {}`)}, wantErr: vchip.ErrChipJSON},
		{name: "wrong type", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"max_le": "192"}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "bad status word", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"eof_status": "62"}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "status word not 6x/9x", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"auth_fail_status": "1234"}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "EOF status 6A82", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"eof_status": "6a82"}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "bad over_le", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"over_le": "6c00"}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "max_le too large", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"max_le": 65537}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "negative remove_after", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"remove_after": -1}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "bad latency", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"latency": "9"}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "bad ATR", extra: fstest.MapFS{"chip.json": file(`{"quirks": {"atr": "3f"}}`)}, wantErr: vchip.ErrChipJSON},
		{name: "both keys", extra: fstest.MapFS{"chip.json": file(`{"mrz_information": "` + mrzInfo + `", "mrz": "x"}`)}, wantErr: vchip.ErrChipJSON},
		{name: "bad MRZ", extra: fstest.MapFS{"chip.json": file(`{"mrz": "P<UTOERIKSSON"}`)}, wantErr: vchip.ErrChipJSON},
		{name: "short MRZ information", extra: fstest.MapFS{"chip.json": file(`{"mrz_information": "L898902C<36"}`)}, wantErr: vchip.ErrChipJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := vchip.LoadDataset(specimenFS(t, tc.extra))
			if tc.wantErr != nil {
				require.Nil(t, ds, "LoadDataset")
				if tc.wantErr == fs.ErrInvalid {
					require.Error(t, err, "LoadDataset") // any error: the file system picks it
				} else {
					require.ErrorIs(t, err, tc.wantErr, "LoadDataset")
				}
				assert.NotContains(t, err.Error(), "L898902C", "error quotes the MRZ")
				assert.NotContains(t, err.Error(), "ERIKSSON", "error quotes the MRZ")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, ds.Config)
			assert.Equal(t, tc.wantKey, string(ds.MRZInformation), "MRZInformation")
		})
	}
}

func TestLoadDatasetTooLarge(t *testing.T) {
	m := specimenFS(t, fstest.MapFS{"DG5": {Data: make([]byte, vchip.MaxFileSize+1)}})
	_, err := vchip.LoadDataset(m)
	require.ErrorIs(t, err, vchip.ErrFileTooLarge)
}

func TestWriteDir(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	out := &vchip.Dataset{
		Files:          maps.Clone(ds.Files),
		MRZInformation: []byte("L898902C<369080619406236"),
		Config: vchip.Config{
			MaxLe: 223, OverLe: vchip.LeTruncate, EOFStatus: icao.StatusEndOfFile,
			Latency: 12 * time.Millisecond, ATR: []byte{0x3B, 0x80, 0x80, 0x01, 0x01},
		},
	}
	out.Files[vchip.NameCardAccess] = []byte{0x31, 0x00}
	dir := filepath.Join(t.TempDir(), "chip")
	require.NoError(t, out.WriteDir(dir))
	back, err := vchip.LoadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, out, back, "read back")

	plain := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, ds.WriteDir(plain))
	_, err = os.Stat(filepath.Join(plain, vchip.ChipJSON))
	assert.ErrorIs(t, err, fs.ErrNotExist, "chip.json written for a dataset without quirks")
	for name, data := range ds.Files {
		if got, err := os.ReadFile(filepath.Join(plain, name)); assert.NoError(t, err, "%s not written back", name) {
			assert.Equal(t, data, got, "%s not written back", name)
		}
	}

	bad := &vchip.Dataset{Files: map[string][]byte{"DG17": {0x71, 0x00}}}
	assert.ErrorIs(t, bad.WriteDir(t.TempDir()), vchip.ErrUnknownFile, "WriteDir with DG17")
	_, err = vchip.New(bad, nil)
	assert.ErrorIs(t, err, vchip.ErrUnknownFile, "New with DG17")
}

func TestNewErrors(t *testing.T) {
	_, err := vchip.New(nil, nil)
	assert.Error(t, err, "New(nil)")
	noKey := &vchip.Dataset{Files: map[string][]byte{vchip.NameCOM: {0x60, 0x00}}}
	_, err = vchip.New(noKey, nil)
	assert.ErrorIs(t, err, vchip.ErrNoAccessKey, "New without DG1")
	_, err = vchip.New(noKey, &vchip.Config{NoBAC: true})
	assert.NoError(t, err, "New of a PACE-only chip without DG1")
	huge := &vchip.Dataset{Files: map[string][]byte{"DG5": make([]byte, vchip.MaxFileSize+1)}, MRZInformation: []byte("L898902C<369080619406236")}
	_, err = vchip.New(huge, nil)
	assert.ErrorIs(t, err, vchip.ErrFileTooLarge, "New with a huge file")
}

func TestFileNames(t *testing.T) {
	names := vchip.FileNames()
	if assert.Len(t, names, 20) {
		assert.Equal(t, []string{"EF.CardAccess", "EF.CardSecurity", "EF.COM"}, names[:3])
		assert.Equal(t, "DG16", names[19])
	}
}

func TestConfigValidate(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	for _, cfg := range []vchip.Config{
		{MaxLe: -1}, {MaxLe: 65537}, {OverLe: 7}, {EOFStatus: icao.StatusFileNotFound},
		{Latency: -time.Second}, {Latency: time.Hour}, {RemoveAfter: -1}, {ATR: []byte{0x3B}}, {ATR: []byte{0x00, 0x00}},
		{ATRInfo: icao.BufferSizes{Command: 1024}}, {ATRInfo: icao.BufferSizes{Command: -1, Response: -1}}, {ATRInfo: icao.BufferSizes{Command: 1024, Response: 65539}},
	} {
		assert.ErrorIs(t, cfg.Validate(), vchip.ErrConfig, "Validate(%+v)", cfg)
		_, err := vchip.New(ds, &cfg)
		assert.ErrorIs(t, err, vchip.ErrConfig, "New with %+v", cfg)
	}
}
