package secretfile_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/secretfile"
)

func write(t *testing.T, dir, name, content string, mode fs.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
	require.NoError(t, os.Chmod(path, mode)) // past the umask
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
		if tc.ok {
			if assert.NoError(t, err, "mode %v, access %d", tc.mode, tc.access) {
				assert.Equal(t, "the secret", string(b), "mode %v, access %d", tc.mode, tc.access)
			}
		} else if assert.ErrorAs(t, err, &me, "mode %v, access %d", tc.mode, tc.access) {
			assert.Equal(t, path, me.Path, "mode %v, access %d", tc.mode, tc.access)
			assert.Equal(t, tc.mode, me.Mode.Perm(), "mode %v, access %d", tc.mode, tc.access)
		}
		if err != nil {
			assert.NotContains(t, err.Error(), "the secret", "the error shows the content")
		}
	}
}

func TestReadNotRegular(t *testing.T) {
	dir := t.TempDir()
	for _, a := range []secretfile.Access{secretfile.OwnerOnly, secretfile.NotOthers, secretfile.Regular} {
		var me *secretfile.ModeError
		_, err := secretfile.Read(dir, a, 100)
		assert.ErrorAs(t, err, &me, "Read of a directory with access %d", a)
	}
}

func TestReadSize(t *testing.T) {
	path := write(t, t.TempDir(), "s", "12345", 0o600)
	b, err := secretfile.Read(path, secretfile.OwnerOnly, 5)
	if assert.NoError(t, err, "at the cap") {
		assert.Equal(t, "12345", string(b), "at the cap")
	}
	var se *secretfile.SizeError
	_, err = secretfile.Read(path, secretfile.OwnerOnly, 4)
	if assert.ErrorAs(t, err, &se, "over the cap") {
		assert.Equal(t, path, se.Path, "over the cap")
		assert.NotContains(t, err.Error(), "1234", "over the cap: want a SizeError without content")
	}
	_, err = secretfile.Read(path+".no", secretfile.OwnerOnly, 4)
	assert.ErrorIs(t, err, fs.ErrNotExist, "missing")
}

func TestCredential(t *testing.T) {
	dir := t.TempDir()
	want := write(t, dir, "api-key", "k", 0o400)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	with := env(map[string]string{"CREDENTIALS_DIRECTORY": dir})
	path, ok := secretfile.Credential(with, "api-key")
	if assert.True(t, ok, "Credential") {
		assert.Equal(t, want, path, "Credential")
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
		path, ok := secretfile.Credential(tc.getenv, tc.name)
		assert.False(t, ok, "Credential(%q) = %q, want none", tc.name, path)
	}
}
