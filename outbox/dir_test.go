package outbox_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/outbox"
)

func TestPrivateDir(t *testing.T) {
	t.Run("created 0700", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "outbox")
		require.NoError(t, outbox.PrivateDir(dir))
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	})
	for _, mode := range []os.FileMode{0o777, 0o755, 0o750, 0o701, 0o720} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, mode))
			err := outbox.PrivateDir(dir)
			require.ErrorIs(t, err, outbox.ErrDirMode)
			assert.Contains(t, err.Error(), "chmod 700 "+dir)
			_, err = outbox.Open(outbox.Config{Dir: dir, Key: make([]byte, outbox.KeySize)})
			assert.ErrorIs(t, err, outbox.ErrDirMode, "Open refuses it too")
			fi, err := os.Stat(dir)
			require.NoError(t, err)
			assert.Equal(t, mode, fi.Mode().Perm(), "left as it was")
		})
	}
	t.Run("existing 0700", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "outbox")
		require.NoError(t, os.Mkdir(dir, 0o700))
		assert.NoError(t, outbox.PrivateDir(dir))
	})
	t.Run("a file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		err := outbox.PrivateDir(p)
		require.Error(t, err)
		assert.False(t, errors.Is(err, outbox.ErrDirMode))
	})
}
