package outbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
)

// writeFile replaces dir/name with data durably (mode 0600).
func writeFile(dir, name string, data []byte) error {
	if err := atomicfile.Write(filepath.Join(dir, name), data, 0o600); err != nil {
		return fmt.Errorf("outbox: writing %s: %w", name, err)
	}
	return nil
}

// removeFiles removes dir/name for each name, in order, ignoring files that
// do not exist, then fsyncs the directory.
func removeFiles(dir string, names ...string) error {
	for _, name := range names {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("outbox: removing %s: %w", name, err)
		}
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("outbox: removing files: %w", err)
	}
	return nil
}

// ErrDirMode means a directory that holds secrets or personal data can be
// read, written or searched by other users than its owner.
var ErrDirMode = errors.New("directory is open to other users")

// PrivateDir creates dir (and its missing parents) with mode 0700, or
// checks that an existing dir is a directory no other user can enter: the
// outbox holds passports (sealed, but a writable directory lets another
// user delete or swap entries), and the state directory holds the keys.
// An existing directory is refused rather than changed, so that an
// operator's own layout is never silently altered.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: %w; run chmod 700 %s", dir, perm, ErrDirMode, dir)
	}
	return nil
}
