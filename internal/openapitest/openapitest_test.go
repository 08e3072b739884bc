package openapitest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/openapitest"
)

func TestLoad(t *testing.T) {
	_, err := openapitest.Load("../../kiosk/openapi.yaml")
	require.NoError(t, err)
}

// TestLoadRefusesJunk: the YAML slip that the old hand-written check
// missed (an unquoted comma in a flow mapping makes a junk property) is
// refused.
func TestLoadRefusesJunk(t *testing.T) {
	b, err := os.ReadFile("../../kiosk/openapi.yaml")
	require.NoError(t, err)
	good := `field: {type: string, description: 'The request field at fault (invalid_request), such as "mrz.dateOfBirth".'}`
	require.Contains(t, string(b), good, "the line to break is gone from openapi.yaml")
	bad := strings.Replace(string(b), good, `field: {type: string, description: The request field at fault (invalid_request), such as "mrz.dateOfBirth".}`, 1)
	path := filepath.Join(t.TempDir(), "openapi.yaml")
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o644))
	_, err = openapitest.Load(path)
	require.ErrorContains(t, err, "such as", "want the junk property named")
}
