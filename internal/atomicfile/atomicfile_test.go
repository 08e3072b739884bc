package atomicfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, data := range []string{"first, longer", "second"} {
		if err := atomicfile.Write(path, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("after Write(%q): %q, %v", data, got, err)
		}
	}
	assertMode(t, path, 0o640)
	assertOnly(t, dir, "f")
}

func TestWriteNoDirectory(t *testing.T) {
	if err := atomicfile.Write(filepath.Join(t.TempDir(), "no", "f"), []byte("x"), 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Write into a missing directory = %v, want ErrNotExist", err)
	}
}

func TestCreateNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := atomicfile.Create(path, []byte("winner"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Create(path, []byte("loser"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create = %v, want ErrExist", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "winner" {
		t.Errorf("file = %q, %v; want the first content", got, err)
	}
	assertMode(t, path, 0o600)
	assertOnly(t, dir, "key")
}

func TestCreateThroughSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "target")
	if err := os.Symlink(target, filepath.Join(dir, "token")); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Create(filepath.Join(dir, "token"), []byte("x"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a dangling link = %v, want ErrExist", err)
	}
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create wrote through the link: %v", err)
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != want {
		t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
	}
}

// assertOnly checks that no temporary file is left in dir.
func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != name {
		t.Errorf("%s holds %v, %v; want only %s", dir, entries, err, name)
	}
}
