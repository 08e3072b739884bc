// Package secretfile reads the files that hold keys, tokens, API secrets
// or personal data, with one rule for who may read them, a size cap, and errors
// that name the file but never its content. It also finds the credentials
// systemd passes to a service (LoadCredential=, SetCredential=): files in
// the directory named by $CREDENTIALS_DIRECTORY, which systemd makes
// readable by the service only (systemd.exec(5), "Credentials").
//
// Secret files are created with [atomicfile.Create], which never replaces
// a file another process created first.
package secretfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Access is the rule a secret file's type and permissions must meet.
type Access uint8

// Access rules.
const (
	// OwnerOnly accepts a regular file with no permission for its group
	// or others (chmod 600): a key kept in a state directory.
	OwnerOnly Access = iota
	// NotOthers accepts a regular file with no permission for others
	// (chmod 600 or 640): a token a group of clients reads, where the
	// directory decides who reaches it.
	NotOthers
	// Regular accepts any regular file: a systemd credential, whose
	// directory systemd keeps to the service, or a file of personal data
	// in a directory kept to its owner.
	Regular
	// AnyFile accepts any file that can be read, such as a pipe: a path
	// the operator names on the command line, e.g. --api-secret-file
	// <(pass show vendor).
	AnyFile
)

// allows reports whether a file of mode m meets a.
func (a Access) allows(m fs.FileMode) bool {
	switch a {
	case OwnerOnly:
		return m.IsRegular() && m.Perm()&0o077 == 0
	case NotOthers:
		return m.IsRegular() && m.Perm()&0o007 == 0
	case Regular:
		return m.IsRegular()
	}
	return true
}

// ModeError means a secret file is not a regular file, or others (or its
// group) may access it, against the [Access] rule it was read with.
type ModeError struct {
	Path string
	Mode fs.FileMode
}

func (e *ModeError) Error() string {
	return fmt.Sprintf("secret file %s has mode %v", e.Path, e.Mode)
}

// SizeError means a secret file is larger than its cap: a wrong path (a
// log, /dev/zero) fails instead of being read whole.
type SizeError struct {
	Path string
	Max  int64
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes", e.Path, e.Max)
}

// Read returns the content of the file at path if it meets access and
// holds at most max bytes. The type and mode are those of the opened
// file, so a file swapped after a check is never read. Errors are
// *[fs.PathError] (operation, path and errno), *[ModeError] or
// *[SizeError]: none carries content.
func Read(path string, access Access, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return read(f, path, access, max)
}

// ReadFS is [Read] for the file name in fsys.
func ReadFS(fsys fs.FS, name string, access Access, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	return read(f, name, access, max)
}

// read reads and closes f, opened from path.
func read(f fs.File, path string, access Access, max int64) ([]byte, error) {
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !access.allows(fi.Mode()) {
		return nil, &ModeError{Path: path, Mode: fi.Mode()}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		clear(b)
		return nil, &SizeError{Path: path, Max: max}
	}
	return b, nil
}

// Credential returns the path of the systemd credential name, and whether
// $CREDENTIALS_DIRECTORY is set (as getenv, usually [os.Getenv], reads it),
// name is a plain file name and the credential exists. A credential that
// cannot be checked (a permission error) counts as existing, so that
// reading it reports the error rather than looking elsewhere.
func Credential(getenv func(string) string, name string) (string, bool) {
	dir := getenv("CREDENTIALS_DIRECTORY")
	if dir == "" || !PlainName(name) {
		return "", false
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	return path, true
}

// PlainName reports whether name is a file name without a directory, as
// a credential name must be.
func PlainName(name string) bool {
	return name != "" && name == filepath.Base(name) && name != "." && name != ".."
}
