package upload_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nfcbridge/nfcbridge/upload"
)

// TestFilesRedacted checks that every fmt verb and both slog handlers
// print an NFC or an Image as sizes only, never the bytes.
func TestFilesRedacted(t *testing.T) {
	nfc := testNFC(t)
	img := upload.Image{Context: upload.ContextFace, Data: testFaceJPEG(t)}
	wantNFC := fmt.Sprintf("NFC{com:%dB sod:%dB dg1:%dB dg2:%dB}", len(nfc.COM), len(nfc.SOD), len(nfc.DG1), len(nfc.DG2))
	wantImage := fmt.Sprintf(`Image{context:"face" data:%dB}`, len(img.Data))
	forbidden := map[string]string{
		"MRZ name": "ERIKSSON", "DG1 (text)": string(nfc.DG1[5:25]),
		"DG1 (hex)": hex.EncodeToString(nfc.DG1[5:15]), "DG1 (base64)": base64.StdEncoding.EncodeToString(nfc.DG1)[:24],
		"DG1 (dec)":   strings.Trim(fmt.Sprint(nfc.DG1[5:10]), "[]"),
		"image (hex)": hex.EncodeToString(img.Data[:8]), "image (dec)": strings.Trim(fmt.Sprint(img.Data[:6]), "[]"),
		"image (base64)": base64.StdEncoding.EncodeToString(img.Data)[:16],
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{name: "NFC", v: nfc, want: wantNFC},
		{name: "*NFC", v: &nfc, want: wantNFC},
		{name: "Image", v: img, want: wantImage},
		{name: "*Image", v: &img, want: wantImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := map[string]string{}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
				out[verb] = fmt.Sprintf(verb, tc.v)
				assert.Equal(t, tc.want, out[verb], verb)
			}
			var js, text bytes.Buffer
			slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", tc.v)
			slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", tc.v)
			out["slog JSON"], out["slog text"] = js.String(), text.String()
			assert.Contains(t, js.String(), fmt.Sprintf("%q", tc.want), "slog JSON")
			for how, s := range out {
				for what, secret := range forbidden {
					assert.NotContains(t, s, secret, "%s prints the %s", how, what)
				}
			}
		})
	}
}
