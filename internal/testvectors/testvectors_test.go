package testvectors

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	type inner struct {
		X HexBytes `json:"x_hex"`
	}
	type vec struct {
		Name  string  `json:"name"`
		Items []inner `json:"items"`
		Opt   string  `json:"opt,omitempty"`
	}
	manifest := []string{"items", "items[].x_hex", "name", "source"}
	tests := []struct {
		name, doc, wantErr string
	}{
		{"exact", `{"name":"a","source":"s","items":[{"x_hex":"0102"}]}`, ""},
		{"unknown key", `{"name":"a","source":"s","items":[{"x_hex":"01","y_hex":"02"}]}`, "unknown keys (not in the manifest): items[].y_hex"},
		{"key missing from file", `{"name":"a","items":[{"x_hex":"01"}]}`, "missing keys (in the manifest): source"},
		{"field missing in one element", `{"name":"a","source":"s","items":[{"x_hex":"01"},{}]}`, `field X of the test has no key "items[].x_hex"`},
		{"duplicate key", `{"name":"a","name":"b","source":"s","items":[]}`, `key "name" occurs twice`},
		{"bad hex", `{"name":"a","source":"s","items":[{"x_hex":"0g"}]}`, "hex"},
		{"trailing data", `{"name":"a","source":"s","items":[]} {}`, "data after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v vec
			err := Check([]byte(tc.doc), manifest, &v)
			if tc.wantErr == "" {
				require.NoError(t, err, "Check")
				require.Equal(t, "a", v.Name, "decoded %+v", v)
				require.Len(t, v.Items, 1, "decoded %+v", v)
				require.Equal(t, HexBytes("\x01\x02"), v.Items[0].X, "decoded %+v", v)
				return
			}
			require.ErrorContains(t, err, tc.wantErr, "Check")
		})
	}
}
