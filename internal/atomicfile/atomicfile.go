// Package atomicfile writes files that a reader, or a restart after a
// crash, sees either whole or not at all: the data goes to a temporary
// file in the same directory, which is fsynced and then renamed (Write) or
// linked (Create) into place, and the directory is fsynced last.
//
// The last step is what makes the new name durable: POSIX rename(2) and
// link(2) change the directory, and fsync(2) of the file alone does not
// promise that the directory entry reaches the disk (POSIX.1-2017 fsync,
// "Rationale"; the Linux fsync(2) page says the same: "an explicit fsync()
// on a file descriptor for the directory is also needed").
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// TempPrefix starts the name of every temporary file. Such a file is
// only ever left by a crash, so that the owner of a directory may remove
// the files named so when it starts.
const TempPrefix = ".tmp-"

// Write replaces the file at path with data, mode mode: a reader sees
// the old content or the new, never a part. The temporary file is new
// (O_EXCL), so that nothing is written through a symbolic link or into a
// file another user prepared. The directory must exist.
func Write(path string, data []byte, mode fs.FileMode) error {
	tmp, err := writeTemp(filepath.Dir(path), data, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// Create creates the file at path with data, mode mode, unless path
// exists: then it returns an error for which errors.Is(err, fs.ErrExist)
// holds and leaves the file alone. Link, unlike rename, never replaces,
// so of two processes creating the same file (a key, a token) one wins
// and the other can read the winner's file.
func Create(path string, data []byte, mode fs.FileMode) error {
	tmp, err := writeTemp(filepath.Dir(path), data, mode)
	if err != nil {
		return err
	}
	err = os.Link(tmp, path)
	if rerr := os.Remove(tmp); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// writeTemp writes data to a new temporary file in dir with mode mode,
// fsynced, and returns its path.
func writeTemp(dir string, data []byte, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, TempPrefix+"*") // O_EXCL, 0600
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil && mode.Perm() != 0o600 {
		err = f.Chmod(mode.Perm()) // not subject to the umask
	}
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

// SyncDir makes the entries of directory dir durable: call it after
// creating, renaming or removing files in dir by other means.
func SyncDir(dir string) error {
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
