package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of an outbox key in bytes (AES-256).
const KeySize = 32

// CredentialName is the usual name of the outbox key among the systemd
// credentials (LoadCredential=outbox-key:…).
const CredentialName = "outbox-key"

// Key errors. The errors name the file, never its content.
var (
	// ErrKey means a key is not 32 bytes, or a key file holds neither 32
	// raw bytes nor 64 hex digits.
	ErrKey = errors.New("outbox: invalid key")
	// ErrKeyPermissions means a key file is accessible to its group or to
	// others, or is not a regular file.
	ErrKeyPermissions = errors.New("outbox: key file must be a regular file readable only by its owner (chmod 600)")
)

// maxKeyFile bounds what is read from a key file.
const maxKeyFile = 1 << 10

// LoadKey reads the outbox key from the file at path. The file holds either
// 32 raw bytes or 64 hex digits, optionally followed by one "\n" or "\r\n"
// (such as the output of `openssl rand -hex 32`). A file accessible to group
// or others is refused with [ErrKeyPermissions].
//
// If the file does not exist, LoadKey creates it with a new random key,
// written as hex, mode 0600: in a temporary file that is fsynced and then
// linked into place, so a concurrent LoadKey never sees a partial file and
// both end up with the same key. The directory must exist. Losing this file
// makes the queued entries unreadable (they are quarantined, see the package
// documentation): back it up with the state directory, or better, provide
// the key as a systemd credential ([KeyFromCredentials]).
func LoadKey(path string) ([]byte, error) {
	key, err := readKeyFile(path, ownerOnly)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createKeyFile(path, rand.Reader); err != nil {
		return nil, err
	}
	return readKeyFile(path, ownerOnly)
}

// KeyFromCredentials reads the key named name (usually [CredentialName])
// from the systemd credentials directory, $CREDENTIALS_DIRECTORY, in the
// format [LoadKey] reads. It reports false, with no error, when the
// variable is unset or the credential does not exist. systemd makes the
// directory and its files accessible to the service only, so their modes
// are not checked. getenv is usually [os.Getenv].
func KeyFromCredentials(getenv func(string) string, name string) ([]byte, bool, error) {
	dir := getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return nil, false, nil
	}
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return nil, false, fmt.Errorf("outbox: credential name %q is not a plain file name: %w", name, ErrKey)
	}
	key, err := readKeyFile(filepath.Join(dir, name), systemdManaged)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// keyPerms says which permissions readKeyFile accepts on a key file.
type keyPerms int

const (
	ownerOnly      keyPerms = iota // refuse a file its group or others can access
	systemdManaged                 // a credential: systemd limits access to the service
)

// readKeyFile reads and parses a key file, a regular file with permissions
// as perms says.
func readKeyFile(path string, perms keyPerms) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("outbox: reading key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("outbox: reading key file: %w", err)
	}
	if !fi.Mode().IsRegular() || (perms == ownerOnly && fi.Mode().Perm()&0o077 != 0) {
		return nil, fmt.Errorf("%w: %s has mode %v", ErrKeyPermissions, path, fi.Mode())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("outbox: reading key file %s: %w", path, err)
	}
	key, err := parseKey(b)
	clear(b)
	if err != nil {
		return nil, fmt.Errorf("outbox: key file %s: %w", path, err)
	}
	return key, nil
}

// parseKey accepts 32 raw bytes, or 64 hex digits with an optional line
// ending. Errors give the length only, never the content.
func parseKey(b []byte) ([]byte, error) {
	if len(b) == KeySize {
		return append([]byte(nil), b...), nil
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(s) != 2*KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d raw bytes or %d hex digits", ErrKey, len(b), KeySize, 2*KeySize)
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %d characters that are not all hex digits", ErrKey, len(s))
	}
	return key, nil
}

// createKeyFile writes a new random key to path unless path exists.
func createKeyFile(path string, rnd io.Reader) error {
	key := make([]byte, KeySize)
	defer clear(key)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return fmt.Errorf("outbox: generating key: %w", err)
	}
	text := []byte(hex.EncodeToString(key) + "\n")
	defer clear(text)
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, text)
	if err != nil {
		return fmt.Errorf("outbox: creating key file: %w", err)
	}
	defer os.Remove(tmp)
	// Link, unlike rename, never replaces a key another process has just
	// created: the loser reads the winner's key.
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("outbox: creating key file: %w", err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("outbox: creating key file: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("outbox: creating key file: %w", err)
	}
	return nil
}
