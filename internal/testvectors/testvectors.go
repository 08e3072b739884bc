// Package testvectors loads the ICAO 9303 worked examples kept in
// ../shared/testvectors beside the repository, for table tests.
package testvectors

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Dir returns the vector directory: $NFCBRIDGE_TESTVECTORS if set, else
// ../shared/testvectors next to the module root.
func Dir() (string, error) {
	if d := os.Getenv("NFCBRIDGE_TESTVECTORS"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testvectors"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("testvectors: no go.mod above " + wd)
		}
	}
}

// Load decodes the named vector file (for example "bac.json") into v. It
// fails the test when the file is missing: the vectors are part of the
// acceptance criteria and must never be skipped silently.
func Load(t testing.TB, name string, v any) {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("testvectors: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("testvectors: %s: %v", name, err)
	}
}

// Hex decodes s, hex digits in either case with optional white space
// between them, and fails the test when s is not hex.
func Hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("testvectors: bad hex %q: %v", s, err)
	}
	return b
}

// HexBytes is a byte string that a vector file writes as a JSON hex
// string.
type HexBytes []byte

// UnmarshalJSON decodes a JSON string of hex digits.
func (h *HexBytes) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("testvectors: hex: not a string: %.20s", b)
	}
	v, err := hex.DecodeString(string(b[1 : len(b)-1]))
	if err != nil {
		return fmt.Errorf("testvectors: hex: %w", err)
	}
	*h = v
	return nil
}
