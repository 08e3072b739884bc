package atomicfile_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, data := range []string{"first, longer", "second"} {
		require.NoError(t, atomicfile.Write(path, []byte(data), 0o640))
		got, err := os.ReadFile(path)
		require.NoError(t, err, "after Write(%q)", data)
		require.Equal(t, data, string(got), "after Write(%q)", data)
	}
	assertMode(t, path, 0o640)
	assertOnly(t, dir, "f")
}

func TestWriteNoDirectory(t *testing.T) {
	err := atomicfile.Write(filepath.Join(t.TempDir(), "no", "f"), []byte("x"), 0o600)
	assert.ErrorIs(t, err, fs.ErrNotExist, "Write into a missing directory")
}

func TestCreateNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	require.NoError(t, atomicfile.Create(path, []byte("winner"), 0o600))
	assert.ErrorIs(t, atomicfile.Create(path, []byte("loser"), 0o644), fs.ErrExist, "second Create")
	got, err := os.ReadFile(path)
	if assert.NoError(t, err) {
		assert.Equal(t, "winner", string(got), "want the first content")
	}
	assertMode(t, path, 0o600)
	assertOnly(t, dir, "key")
}

func TestCreateThroughSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "target")
	require.NoError(t, os.Symlink(target, filepath.Join(dir, "token")))
	assert.ErrorIs(t, atomicfile.Create(filepath.Join(dir, "token"), []byte("x"), 0o600), fs.ErrExist, "Create over a dangling link")
	_, err := os.Stat(target)
	assert.ErrorIs(t, err, fs.ErrNotExist, "Create wrote through the link")
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if assert.NoError(t, err) {
		assert.Equal(t, want.String(), fi.Mode().Perm().String(), "%s: mode", path)
	}
}

// assertOnly checks that no temporary file is left in dir.
func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if !assert.NoError(t, err) || !assert.Len(t, entries, 1, "%s holds %v", dir, entries) {
		return
	}
	assert.Equal(t, name, entries[0].Name(), "%s holds only", dir)
}
