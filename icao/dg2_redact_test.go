package icao

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDG2Redacted checks that every fmt verb and both slog handlers print
// DG2 and its faces as counts, formats and sizes only, never the image or
// file bytes.
func TestDG2Redacted(t *testing.T) {
	face := append(tinyJPEG(t, 8, 8), []byte("FACE-SECRET-MARKER")...)
	b, err := EncodeDG2([]FaceImage{{Format: ImageJPEG, Width: 8, Height: 8, Data: face}})
	require.NoError(t, err)
	d, err := ParseDG2(b)
	require.NoError(t, err)
	f := d.Faces[0]
	wantFace := fmt.Sprintf("FaceImage{image/jpeg 8x8 %dB}", len(face))
	wantDG2 := fmt.Sprintf("DG2{faces:1 raw:%dB [%s]}", len(b), wantFace)
	forbidden := map[string]string{
		"image (text)": "FACE-SECRET-MARKER", "image (hex)": hex.EncodeToString(face[:8]),
		"image (dec)": strings.Trim(fmt.Sprint(face[:6]), "[]"),
		"DG2 (hex)":   hex.EncodeToString(b[:8]), "DG2 (dec)": strings.Trim(fmt.Sprint(b[:6]), "[]"),
	}
	tests := []struct {
		name    string
		v       any
		fmtWant string // the output of every fmt verb; "" when it varies
		logWant string // the slog value
	}{
		{name: "DG2", v: *d, fmtWant: wantDG2, logWant: wantDG2},
		{name: "*DG2", v: d, fmtWant: wantDG2, logWant: wantDG2},
		{name: "FaceImage", v: f, logWant: wantFace},
		{name: "ImageData", v: f.Data, fmtWant: fmt.Sprintf("%dB", len(face)), logWant: fmt.Sprintf("%dB", len(face))},
		{name: "struct holding a face", v: struct{ Face FaceImage }{f}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := map[string]string{}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
				out[verb] = fmt.Sprintf(verb, tc.v)
				if tc.fmtWant != "" {
					assert.Equal(t, tc.fmtWant, out[verb], verb)
				}
			}
			var js, text bytes.Buffer
			slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", tc.v)
			slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", tc.v)
			out["slog JSON"], out["slog text"] = js.String(), text.String()
			if tc.logWant != "" {
				assert.Contains(t, js.String(), `"v":"`+tc.logWant+`"`, "slog JSON")
			}
			for how, s := range out {
				for what, secret := range forbidden {
					assert.NotContains(t, s, secret, "%s prints the %s", how, what)
				}
			}
		})
	}
	assert.Equal(t, fmt.Sprintf("{Format:image/jpeg Width:8 Height:8 Data:%dB}", len(face)), fmt.Sprintf("%+v", f))
	assert.Equal(t, fmt.Sprintf("{1 8 8 %dB}", len(face)), fmt.Sprintf("%d", f))
}
