package outbox_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/outbox"
)

func TestLoadKeyCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.key")
	key, err := outbox.LoadKey(path)
	require.NoError(t, err)
	require.Len(t, key, outbox.KeySize)
	assert.NotEqual(t, make([]byte, outbox.KeySize), key)

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, hex.EncodeToString(key)+"\n", string(readFile(t, path)))
	assert.Equal(t, []string{"outbox.key"}, dirNames(t, filepath.Dir(path)), "no temporary file left")

	again, err := outbox.LoadKey(path)
	require.NoError(t, err)
	assert.Equal(t, key, again)

	other, err := outbox.LoadKey(filepath.Join(t.TempDir(), "outbox.key"))
	require.NoError(t, err)
	assert.NotEqual(t, key, other, "random")
}

func TestLoadKeyConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := outbox.LoadKey(path)
			assert.NoError(t, err)
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		assert.Equal(t, keys[0], k, "every caller gets the key on disk")
	}
}

func TestLoadKeyFormats(t *testing.T) {
	raw := bytes.Repeat([]byte{0x0a}, 32) // ends in '\n' bytes: still raw
	hexKey := strings.Repeat("0123456789abcdef", 4)
	want := mustHex(t, hexKey)
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		want    []byte
		err     error
	}{
		{name: "raw", content: raw, mode: 0o600, want: raw},
		{name: "hex", content: []byte(hexKey), mode: 0o600, want: want},
		{name: "hex newline", content: []byte(hexKey + "\n"), mode: 0o600, want: want},
		{name: "hex CRLF", content: []byte(hexKey + "\r\n"), mode: 0o400, want: want},
		{name: "upper-case hex", content: []byte(strings.ToUpper(hexKey)), mode: 0o600, want: want},
		{name: "31 bytes", content: raw[:31], mode: 0o600, err: outbox.ErrKey},
		{name: "33 bytes", content: append(raw, 1), mode: 0o600, err: outbox.ErrKey},
		{name: "63 hex digits", content: []byte(hexKey[:63]), mode: 0o600, err: outbox.ErrKey},
		{name: "not hex", content: []byte(strings.Repeat("zz", 32)), mode: 0o600, err: outbox.ErrKey},
		{name: "two newlines", content: []byte(hexKey + "\n\n"), mode: 0o600, err: outbox.ErrKey},
		{name: "empty", content: []byte{}, mode: 0o600, err: outbox.ErrKey},
		{name: "0644", content: []byte(hexKey), mode: 0o644, err: outbox.ErrKeyPermissions},
		{name: "0640", content: []byte(hexKey), mode: 0o640, err: outbox.ErrKeyPermissions},
		{name: "0602", content: []byte(hexKey), mode: 0o602, err: outbox.ErrKeyPermissions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox.key")
			require.NoError(t, os.WriteFile(path, tc.content, 0o600))
			require.NoError(t, os.Chmod(path, tc.mode))
			key, err := outbox.LoadKey(path)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.Nil(t, key)
				assert.NotContains(t, err.Error(), "0123456789abcdef", "never echoes the key")
				assert.Equal(t, tc.content, readFile(t, path), "a bad key file is not replaced")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, key)
		})
	}
}

func TestLoadKeyNotRegular(t *testing.T) {
	dir := t.TempDir()
	_, err := outbox.LoadKey(dir)
	require.ErrorIs(t, err, outbox.ErrKeyPermissions)
	_, err = outbox.LoadKey(filepath.Join(dir, "missing-dir", "outbox.key"))
	require.Error(t, err)
}

func TestKeyFromCredentials(t *testing.T) {
	hexKey := strings.Repeat("fedcba9876543210", 4)
	dir := t.TempDir()
	// systemd makes credentials 0400; the mode is not checked.
	require.NoError(t, os.WriteFile(filepath.Join(dir, outbox.CredentialName), []byte(hexKey+"\n"), 0o444))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "short"), []byte("abcd"), 0o400))
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name   string
		getenv func(string) string
		cred   string
		want   []byte
		found  bool
		err    error
	}{
		{name: "no credentials directory", getenv: env(nil), cred: outbox.CredentialName},
		{name: "credential missing", getenv: env(map[string]string{"CREDENTIALS_DIRECTORY": dir}), cred: "other"},
		{name: "found", getenv: env(map[string]string{"CREDENTIALS_DIRECTORY": dir}), cred: outbox.CredentialName,
			want: mustHex(t, hexKey), found: true},
		{name: "wrong length", getenv: env(map[string]string{"CREDENTIALS_DIRECTORY": dir}), cred: "short", err: outbox.ErrKey},
		{name: "path in name", getenv: env(map[string]string{"CREDENTIALS_DIRECTORY": dir}), cred: "../outbox-key", err: outbox.ErrKey},
		{name: "empty name", getenv: env(map[string]string{"CREDENTIALS_DIRECTORY": dir}), cred: "", err: outbox.ErrKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, found, err := outbox.KeyFromCredentials(tc.getenv, tc.cred)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.False(t, found)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.found, found)
			assert.Equal(t, tc.want, key)
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}
