package outbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// tempPrefix starts the names of temporary files; Open removes them, as they
// can only be left by a crash.
const tempPrefix = ".tmp-"

// writeTemp writes data to a new temporary file in dir, mode 0600, fsynced,
// and returns its path.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*") // O_EXCL, 0600
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// writeFile replaces dir/name with data durably: temporary file, fsync,
// rename, fsync of the directory.
func writeFile(dir, name string, data []byte) error {
	tmp, err := writeTemp(dir, data)
	if err != nil {
		return fmt.Errorf("outbox: writing %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("outbox: writing %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
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
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("outbox: removing files: %w", err)
	}
	return nil
}

// syncDir makes the directory entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
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
