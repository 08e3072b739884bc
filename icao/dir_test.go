package icao_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

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
	if err := icao.WriteDir(dir, files); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "chip.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "DG17"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for f := range files {
		info, err := os.Stat(filepath.Join(dir, f.String()))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%v has mode %v, want 0600", f, info.Mode().Perm())
		}
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("dir: %v, %v; want mode 0700", info.Mode(), err)
	}
	got, ignored, err := icao.ReadDir(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(files) {
		t.Errorf("ReadDir read %d files, want %d", len(got), len(files))
	}
	for f, want := range files {
		if !bytes.Equal(got[f], want) {
			t.Errorf("%v = %x, want %x", f, got[f], want)
		}
	}
	if want := []string{"DG17", "chip.json"}; !slices.Equal(ignored, want) {
		t.Errorf("ignored = %q, want %q", ignored, want)
	}
}

func TestWriteDirReplaces(t *testing.T) {
	dir := t.TempDir()
	for _, b := range [][]byte{[]byte("long old content"), []byte("new")} {
		if err := icao.WriteDir(dir, map[icao.EF][]byte{icao.EFDG1: b}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "DG1"))
	if err != nil || string(got) != "new" {
		t.Errorf("DG1 = %q, %v; want \"new\"", got, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("dir holds %v, %v; want DG1 only (no temporary file)", entries, err)
	}
}

func TestWriteDirRefusesNoName(t *testing.T) {
	for _, f := range []icao.EF{icao.EFATRInfo, 0, 200} {
		dir := filepath.Join(t.TempDir(), "doc")
		if err := icao.WriteDir(dir, map[icao.EF][]byte{f: {1}}); err == nil {
			t.Errorf("WriteDir(%v) = nil, want an error", f)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("WriteDir(%v) created the directory: %v", f, err)
		}
	}
}

func TestReadDirRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "DG1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := icao.ReadDir(os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), "DG1 is not a regular file") {
		t.Errorf("ReadDir with a link = %v, want an error naming DG1", err)
	}
	// A link of an unknown name is listed, not followed.
	dir = t.TempDir()
	if err := os.Symlink(target, filepath.Join(dir, "notes")); err != nil {
		t.Fatal(err)
	}
	if _, ignored, err := icao.ReadDir(os.DirFS(dir)); err != nil || !slices.Equal(ignored, []string{"notes"}) {
		t.Errorf("ReadDir = %q, %v; want notes ignored", ignored, err)
	}
}

func TestReadDirRefusesDirectory(t *testing.T) {
	m := fstest.MapFS{"EF.SOD/x": {Data: []byte{1}}}
	if _, _, err := icao.ReadDir(m); err == nil || !strings.Contains(err.Error(), "EF.SOD") {
		t.Errorf("ReadDir with a directory EF.SOD = %v, want an error naming it", err)
	}
}

func TestReadDirSizeCap(t *testing.T) {
	m := fstest.MapFS{
		"DG1": {Data: make([]byte, icao.MaxDirFile)},
		"DG2": {Data: make([]byte, icao.MaxDirFile+1)},
	}
	_, _, err := icao.ReadDir(m)
	if !errors.Is(err, icao.ErrFileTooLarge) || !strings.Contains(err.Error(), "DG2") {
		t.Errorf("ReadDir with a too large DG2 = %v, want ErrFileTooLarge naming DG2", err)
	}
	delete(m, "DG2")
	if files, _, err := icao.ReadDir(m); err != nil || len(files[icao.EFDG1]) != icao.MaxDirFile {
		t.Errorf("ReadDir at the cap = %d bytes, %v", len(files[icao.EFDG1]), err)
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
		if err != nil {
			t.Fatalf("ReadDir(%q) = %v", name, err)
		}
		if len(files)+len(ignored) != 1 {
			t.Fatalf("ReadDir(%q) = %d files, ignored %q", name, len(files), ignored)
		}
		for ef, b := range files {
			if ef.String() != name || !bytes.Equal(b, data) {
				t.Fatalf("ReadDir(%q) read it as %v", name, ef)
			}
		}
	})
}
