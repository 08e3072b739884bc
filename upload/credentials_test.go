package upload_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
)

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	credDir := filepath.Join(dir, "creds")
	require.NoError(t, os.Mkdir(credDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(credDir, "api-key"), []byte("cred-key\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(credDir, "api-secret"), []byte("cred-secret"), 0o600))
	keyFile, secretFile := write("key", "file-key\n"), write("secret", "file-secret\r\n")
	emptyFile := write("empty", "\n")
	env := map[string]string{upload.EnvKey: "env-key", upload.EnvSecret: "env-secret\n", upload.EnvNextSecret: "env-next"}

	tests := []struct {
		name       string
		env        map[string]string
		credDir    string
		files      upload.CredentialFiles
		wantKey    string
		wantSecret string
		wantNext   string
		wantErr    error
	}{
		{name: "environment", env: env, wantKey: "env-key", wantSecret: "env-secret", wantNext: "env-next"},
		{name: "systemd credentials beat the environment", env: env, credDir: credDir, wantKey: "cred-key", wantSecret: "cred-secret", wantNext: "env-next"},
		{name: "files beat everything", env: env, credDir: credDir, files: upload.CredentialFiles{Key: keyFile, Secret: secretFile}, wantKey: "file-key", wantSecret: "file-secret", wantNext: "env-next"},
		{name: "mixed sources", env: map[string]string{upload.EnvSecret: "env-secret"}, files: upload.CredentialFiles{Key: keyFile}, wantKey: "file-key", wantSecret: "env-secret"},
		{name: "next secret from a file", env: env, files: upload.CredentialFiles{NextSecret: secretFile}, wantKey: "env-key", wantSecret: "env-secret", wantNext: "file-secret"},
		{name: "missing credential in the directory falls back", env: map[string]string{upload.EnvKey: "env-key", upload.EnvSecret: "s"}, credDir: t.TempDir(), wantKey: "env-key", wantSecret: "s"},
		{name: "nothing", env: map[string]string{}, wantErr: upload.ErrNoCredentials},
		{name: "no secret", env: map[string]string{upload.EnvKey: "k"}, wantErr: upload.ErrNoCredentials},
		{name: "explicit file missing is an error", env: env, files: upload.CredentialFiles{Key: filepath.Join(dir, "nope")}, wantErr: os.ErrNotExist},
		{name: "empty file", env: env, files: upload.CredentialFiles{Secret: emptyFile}, wantErr: upload.ErrNoCredentials},
		{name: "key with a space", env: map[string]string{upload.EnvKey: "a b", upload.EnvSecret: "s"}, wantErr: upload.ErrNoCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "CREDENTIALS_DIRECTORY" {
					return tc.credDir
				}
				return tc.env[k]
			}
			c, err := upload.LoadCredentials(getenv, tc.files)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				for _, v := range []string{"env-key", "env-secret", "file-key", "file-secret", "cred-key", "cred-secret"} {
					assert.NotContains(t, err.Error(), v)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantKey, c.Key)
			assert.Equal(t, tc.wantSecret, string(c.Secret))
			assert.Equal(t, tc.wantNext, string(c.NextSecret))
		})
	}
}

func TestLoadCredentialsLargeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	require.NoError(t, os.WriteFile(p, make([]byte, 100<<10), 0o600))
	_, err := upload.LoadCredentials(func(string) string { return "" }, upload.CredentialFiles{Key: p})
	require.ErrorIs(t, err, upload.ErrNoCredentials)
}
