package kiosk

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
// token is the file's first line; a file readable by others (mode o+r) is
// refused. Group-readable is allowed and is how the token is created: the
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

func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("kiosk: token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("kiosk: token file: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o007 != 0 {
		return "", fmt.Errorf("%w %s: must be a regular file not readable by others (chmod 600 or 640)", ErrTokenFile, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<10))
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
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return fmt.Errorf("kiosk: new token: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(raw[:]) + "\n")
	if err == nil {
		err = tmp.Chmod(0o640)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Link, not rename: an existing token (another start won the
		// race) is never replaced.
		if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("kiosk: new token: %w", err)
	}
	return nil
}
