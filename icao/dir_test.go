package icao_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
)

func TestDirRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "doc")
	files := map[icao.EF][]byte{
		icao.EFCOM:          {0x60, 0x01, 0x02},
		icao.EFSOD:          {0x77, 0x00},
		icao.EFDG1:          []byte("dg1"),
		icao.EFDG16:         []byte("dg16"),
		icao.EFCardAccess:   []byte("ca"),
		icao.EFCardSecurity: []byte("cs"),
		icao.EFDG3:          {},
	}
	require.NoError(t, icao.WriteDir(dir, files))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "chip.json"), []byte("{}"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "DG17"), nil, 0o600))
	for f := range files {
		info, err := os.Stat(filepath.Join(dir, f.String()))
		require.NoError(t, err)
		assert.Equal(t, "-rw-------", info.Mode().Perm().String(), "mode of %v", f)
	}
	if info, err := os.Stat(dir); assert.NoError(t, err) {
		assert.Equal(t, "-rwx------", info.Mode().Perm().String(), "mode of the directory")
	}
	got, ignored, err := icao.ReadDir(os.DirFS(dir))
	require.NoError(t, err)
	assert.Len(t, got, len(files))
	for f, want := range files {
		// bytes.Equal: the empty DG3 may come back nil or empty.
		assert.True(t, bytes.Equal(got[f], want), "%v = %x, want %x", f, got[f], want)
	}
	assert.Equal(t, []string{"DG17", "chip.json"}, ignored)
}

func TestWriteDirReplaces(t *testing.T) {
	dir := t.TempDir()
	for _, b := range [][]byte{[]byte("long old content"), []byte("new")} {
		require.NoError(t, icao.WriteDir(dir, map[icao.EF][]byte{icao.EFDG1: b}))
	}
	got, err := os.ReadFile(filepath.Join(dir, "DG1"))
	if assert.NoError(t, err) {
		assert.Equal(t, "new", string(got))
	}
	entries, err := os.ReadDir(dir)
	if assert.NoError(t, err) {
		assert.Len(t, entries, 1, "want DG1 only (no temporary file)")
	}
}

func TestWriteDirRefusesNoName(t *testing.T) {
	for _, f := range []icao.EF{icao.EFATRInfo, 0, 200} {
		dir := filepath.Join(t.TempDir(), "doc")
		assert.Error(t, icao.WriteDir(dir, map[icao.EF][]byte{f: {1}}), "WriteDir(%v)", f)
		_, err := os.Stat(dir)
		assert.ErrorIs(t, err, os.ErrNotExist, "WriteDir(%v) created the directory", f)
	}
}

func TestReadDirRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	require.NoError(t, os.WriteFile(target, []byte("secret"), 0o600))
	require.NoError(t, os.Symlink(target, filepath.Join(dir, "DG1")))
	_, _, err := icao.ReadDir(os.DirFS(dir))
	assert.ErrorContains(t, err, "DG1 is not a regular file", "ReadDir with a link")
	// A link of an unknown name is listed, not followed.
	dir = t.TempDir()
	require.NoError(t, os.Symlink(target, filepath.Join(dir, "notes")))
	_, ignored, err := icao.ReadDir(os.DirFS(dir))
	if assert.NoError(t, err) {
		assert.Equal(t, []string{"notes"}, ignored)
	}
}

func TestReadDirRefusesDirectory(t *testing.T) {
	m := fstest.MapFS{"EF.SOD/x": {Data: []byte{1}}}
	_, _, err := icao.ReadDir(m)
	assert.ErrorContains(t, err, "EF.SOD", "ReadDir with a directory EF.SOD")
}

func TestReadDirSizeCap(t *testing.T) {
	m := fstest.MapFS{
		"DG1": {Data: make([]byte, icao.MaxDirFile)},
		"DG2": {Data: make([]byte, icao.MaxDirFile+1)},
	}
	_, _, err := icao.ReadDir(m)
	assert.ErrorIs(t, err, icao.ErrFileTooLarge, "ReadDir with a too large DG2")
	assert.ErrorContains(t, err, "DG2", "ReadDir with a too large DG2")
	delete(m, "DG2")
	files, _, err := icao.ReadDir(m)
	if assert.NoError(t, err, "ReadDir at the cap") {
		assert.Len(t, files[icao.EFDG1], icao.MaxDirFile, "ReadDir at the cap")
	}
}

func FuzzReadDir(f *testing.F) {
	for _, name := range []string{"EF.COM", "DG1", "DG16", "DG17", "DG01", "EF.ATR", "EF.CardSecurity", "chip.json"} {
		f.Add(name, []byte{1, 2})
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if !fs.ValidPath(name) || name == "." || strings.Contains(name, "/") {
			return // not one file's name in an fs.FS
		}
		files, ignored, err := icao.ReadDir(fstest.MapFS{name: {Data: data}})
		require.NoError(t, err, "ReadDir(%q)", name)
		require.Equal(t, 1, len(files)+len(ignored), "ReadDir(%q) = %d files, ignored %q", name, len(files), ignored)
		for ef, b := range files {
			require.Equal(t, name, ef.String(), "ReadDir(%q) read it as %v", name, ef)
			// bytes.Equal: empty data may come back nil or empty.
			require.True(t, bytes.Equal(b, data), "ReadDir(%q) = %x, want %x", name, b, data)
		}
	})
}
