package secretfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfcbridge/nfcbridge/internal/secretfile"
)

func write(t *testing.T, dir, name, content string, mode fs.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestReadAccess(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode   fs.FileMode
		access secretfile.Access
		ok     bool
	}{
		{0o600, secretfile.OwnerOnly, true},
		{0o400, secretfile.OwnerOnly, true},
		{0o640, secretfile.OwnerOnly, false},
		{0o602, secretfile.OwnerOnly, false},
		{0o640, secretfile.NotOthers, true},
		{0o644, secretfile.NotOthers, false},
		{0o644, secretfile.Regular, true},
		{0o644, secretfile.AnyFile, true},
	} {
		path := write(t, dir, "s", "the secret", tc.mode)
		b, err := secretfile.Read(path, tc.access, 100)
		var me *secretfile.ModeError
		switch {
		case tc.ok && (err != nil || string(b) != "the secret"):
			t.Errorf("mode %v, access %d: %q, %v", tc.mode, tc.access, b, err)
		case !tc.ok && (!errors.As(err, &me) || me.Path != path || me.Mode.Perm() != tc.mode):
			t.Errorf("mode %v, access %d: %v, want a ModeError", tc.mode, tc.access, err)
		case err != nil && strings.Contains(err.Error(), "the secret"):
			t.Errorf("the error shows the content: %v", err)
		}
	}
}

func TestReadNotRegular(t *testing.T) {
	dir := t.TempDir()
	for _, a := range []secretfile.Access{secretfile.OwnerOnly, secretfile.NotOthers, secretfile.Regular} {
		var me *secretfile.ModeError
		if _, err := secretfile.Read(dir, a, 100); !errors.As(err, &me) {
			t.Errorf("Read of a directory with access %d = %v, want a ModeError", a, err)
		}
	}
}

func TestReadSize(t *testing.T) {
	path := write(t, t.TempDir(), "s", "12345", 0o600)
	if b, err := secretfile.Read(path, secretfile.OwnerOnly, 5); err != nil || string(b) != "12345" {
		t.Errorf("at the cap: %q, %v", b, err)
	}
	var se *secretfile.SizeError
	if _, err := secretfile.Read(path, secretfile.OwnerOnly, 4); !errors.As(err, &se) || se.Path != path || strings.Contains(err.Error(), "1234") {
		t.Errorf("over the cap: %v, want a SizeError without content", err)
	}
	if _, err := secretfile.Read(path+".no", secretfile.OwnerOnly, 4); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v, want ErrNotExist", err)
	}
}

func TestCredential(t *testing.T) {
	dir := t.TempDir()
	want := write(t, dir, "api-key", "k", 0o400)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	with := env(map[string]string{"CREDENTIALS_DIRECTORY": dir})
	if path, ok := secretfile.Credential(with, "api-key"); !ok || path != want {
		t.Errorf("Credential = %q, %v; want %q", path, ok, want)
	}
	for _, tc := range []struct {
		getenv func(string) string
		name   string
	}{
		{env(nil), "api-key"},
		{with, "missing"},
		{with, "../" + filepath.Base(dir) + "/api-key"},
		{with, ""},
		{with, ".."},
	} {
		if path, ok := secretfile.Credential(tc.getenv, tc.name); ok {
			t.Errorf("Credential(%q) = %q, want none", tc.name, path)
		}
	}
}
