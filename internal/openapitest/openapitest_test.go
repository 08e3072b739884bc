package openapitest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfcbridge/nfcbridge/internal/openapitest"
)

func TestLoad(t *testing.T) {
	if _, err := openapitest.Load("../../kiosk/openapi.yaml"); err != nil {
		t.Fatal(err)
	}
}

// TestLoadRefusesJunk: the YAML slip that the old hand-written check
// missed (an unquoted comma in a flow mapping makes a junk property) is
// refused.
func TestLoadRefusesJunk(t *testing.T) {
	b, err := os.ReadFile("../../kiosk/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := `field: {type: string, description: 'The request field at fault (invalid_request), such as "mrz.dateOfBirth".'}`
	if !strings.Contains(string(b), good) {
		t.Fatal("the line to break is gone from openapi.yaml")
	}
	bad := strings.Replace(string(b), good, `field: {type: string, description: The request field at fault (invalid_request), such as "mrz.dateOfBirth".}`, 1)
	path := filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openapitest.Load(path); err == nil || !strings.Contains(err.Error(), "such as") {
		t.Fatalf("Load = %v, want the junk property named", err)
	}
}
