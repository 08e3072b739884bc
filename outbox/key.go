package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
	"github.com/nfcbridge/nfcbridge/internal/secretfile"
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
	key, err := readKeyFile(path, secretfile.OwnerOnly)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createKeyFile(path, rand.Reader); err != nil {
		return nil, err
	}
	return readKeyFile(path, secretfile.OwnerOnly)
}

// KeyFromCredentials reads the key named name (usually [CredentialName])
// from the systemd credentials directory, $CREDENTIALS_DIRECTORY, in the
// format [LoadKey] reads. It reports false, with no error, when the
// variable is unset or the credential does not exist. systemd makes the
// directory and its files accessible to the service only, so their modes
// are not checked. getenv is usually [os.Getenv].
func KeyFromCredentials(getenv func(string) string, name string) ([]byte, bool, error) {
	if getenv("CREDENTIALS_DIRECTORY") == "" {
		return nil, false, nil
	}
	if !secretfile.PlainName(name) {
		return nil, false, fmt.Errorf("outbox: credential name %q is not a plain file name: %w", name, ErrKey)
	}
	path, ok := secretfile.Credential(getenv, name)
	if !ok {
		return nil, false, nil
	}
	key, err := readKeyFile(path, secretfile.Regular)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// readKeyFile reads and parses a key file, a regular file with permissions
// as access says.
func readKeyFile(path string, access secretfile.Access) ([]byte, error) {
	b, err := secretfile.Read(path, access, maxKeyFile)
	var me *secretfile.ModeError
	if errors.As(err, &me) {
		return nil, fmt.Errorf("%w: %s has mode %v", ErrKeyPermissions, path, me.Mode)
	}
	var se *secretfile.SizeError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("outbox: key file %s: %w: more than %d bytes", path, ErrKey, maxKeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: reading key file: %w", err)
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

// createKeyFile writes a new random key to path unless path exists; of
// two concurrent creators, the loser reads the winner's key.
func createKeyFile(path string, rnd io.Reader) error {
	key := make([]byte, KeySize)
	defer clear(key)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return fmt.Errorf("outbox: generating key: %w", err)
	}
	text := []byte(hex.EncodeToString(key) + "\n")
	defer clear(text)
	if err := atomicfile.Create(path, text, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("outbox: creating key file: %w", err)
	}
	return nil
}
