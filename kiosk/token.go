package kiosk

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

// minTokenLen is the shortest token accepted: 128 bits of hex.
const minTokenLen = 32

// ErrTokenFile means the token file is unusable: readable by others, not a
// regular file, or holding too short a token. The error names the file,
// never its content.
var ErrTokenFile = errors.New("kiosk: unusable token file")

// LoadToken returns the API token kept in the file at path. If the file
// does not exist, it is created with a new token (32 random bytes as 64 hex
// digits) and mode 0640, written to a temporary file that is synced and
// linked into place, so that two starts never see different tokens. The
// token is the file's first line; a file readable by others (mode o+r), or
// larger than 1 KiB, is refused. Group-readable is allowed and is how the token is created: the
// directory decides who reaches it (the state directory is 0700; systemd's
// RuntimeDirectory=, 0750, lets the kiosk UI's group read it).
func LoadToken(path string) (string, error) {
	tok, err := readToken(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, err
	}
	if err := createToken(path, rand.Reader); err != nil {
		return "", err
	}
	return readToken(path)
}

// maxTokenFile bounds what is read from a token file.
const maxTokenFile = 1 << 10

func readToken(path string) (string, error) {
	b, err := secretfile.Read(path, secretfile.NotOthers, maxTokenFile)
	var me *secretfile.ModeError
	if errors.As(err, &me) {
		return "", fmt.Errorf("%w %s: must be a regular file not readable by others (chmod 600 or 640)", ErrTokenFile, path)
	}
	var se *secretfile.SizeError
	if errors.As(err, &se) {
		return "", fmt.Errorf("%w %s: larger than %d bytes", ErrTokenFile, path, maxTokenFile)
	}
	if err != nil {
		return "", fmt.Errorf("kiosk: token file: %w", err)
	}
	tok, _, _ := strings.Cut(string(b), "\n")
	tok = strings.TrimSpace(tok)
	if len(tok) < minTokenLen || strings.ContainsFunc(tok, func(c rune) bool { return c <= ' ' || c > '~' }) {
		return "", fmt.Errorf("%w %s: the token must be at least %d printable characters without spaces", ErrTokenFile, path, minTokenLen)
	}
	return tok, nil
}

func createToken(path string, rnd io.Reader) error {
	var raw [32]byte
	if _, err := io.ReadFull(rnd, raw[:]); err != nil {
		return fmt.Errorf("kiosk: new token: %w", err)
	}
	// Create links, never replaces: if another start won the race, its
	// token is the one both read.
	err := atomicfile.Create(path, []byte(hex.EncodeToString(raw[:])+"\n"), 0o640)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("kiosk: new token: %w", err)
	}
	return nil
}
