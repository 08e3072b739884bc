// Package testvectors loads the ICAO 9303 worked examples kept in the
// repository's testdata/icao9303 for table tests, strictly: a vector file
// must hold exactly the keys its manifest lists, and a test's struct must
// find every field it declares, so that the vectors cannot rot silently
// (the way age's CCTV loader refuses unknown keys).
package testvectors

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Dir returns the vector directory, testdata/icao9303 at the module root.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "icao9303"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("testvectors: no go.mod above " + wd)
		}
	}
}

// Load decodes the named vector file (for example "bac.json") into v, which
// must point to a struct. It fails the test when the file is missing, when
// a key occurs twice in one object, when the file's keys differ from its
// manifest (the same name with ".keys" for ".json": one key path per line),
// or when a field of v (at any depth, not tagged omitempty) has no key in
// the file. The vectors are part of the acceptance criteria and must never
// be skipped or half-read silently.
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
	manifest, err := readManifest(filepath.Join(dir, strings.TrimSuffix(name, ".json")+".keys"))
	if err != nil {
		t.Fatalf("testvectors: %s: %v", name, err)
	}
	if err := Check(b, manifest, v); err != nil {
		t.Fatalf("testvectors: %s: %v", name, err)
	}
}

// Check is Load on bytes already read: it decodes doc into v after checking
// doc's keys against manifest and v's fields against doc.
func Check(doc []byte, manifest []string, v any) error {
	paths, err := KeyPaths(doc)
	if err != nil {
		return err
	}
	if err := compare(paths, manifest); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(v); err != nil {
		return err
	}
	var tree any
	if err := json.Unmarshal(doc, &tree); err != nil {
		return err
	}
	return requireFields("", reflect.TypeOf(v), tree)
}

// readManifest reads the key paths of a manifest file, skipping blank lines
// and lines starting with '#'.
func readManifest(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var keys []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keys = append(keys, line)
	}
	return keys, sc.Err()
}

// compare reports the key paths of the file that the manifest does not
// list (unknown) and those it lists that the file lacks (missing).
func compare(paths, manifest []string) error {
	var unknown, missing []string
	for _, p := range paths {
		if !slices.Contains(manifest, p) {
			unknown = append(unknown, p)
		}
	}
	for _, m := range manifest {
		if !slices.Contains(paths, m) {
			missing = append(missing, m)
		}
	}
	var errs []error
	if len(unknown) > 0 {
		errs = append(errs, fmt.Errorf("unknown keys (not in the manifest): %s", strings.Join(unknown, ", ")))
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("missing keys (in the manifest): %s", strings.Join(missing, ", ")))
	}
	return errors.Join(errs...)
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
