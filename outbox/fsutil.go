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
