package icao

import (
	"bytes"
	"encoding/hex"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// update reports the -update flag: internal/apdutest, which the external
// tests of this package import, defines it for the whole test binary, so
// it also rewrites the specimen files in testdata/.
func update() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

// tinyJPEG encodes a small gradient image.
func tinyJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 16), 128, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 50}))
	return b.Bytes()
}

// fakeJP2 and fakeJ2K start with the JPEG 2000 signatures; the parser
// only looks at those.
func fakeJP2() []byte {
	return append(append([]byte{}, magicJP2...), 0, 0, 0, 0x14, 'f', 't', 'y', 'p', 'j', 'p', '2', ' ')
}

func fakeJ2K() []byte { return append(append([]byte{}, magicJ2K...), 0x00, 0x2F, 0x00, 0x00) }

// specimenFiles returns a small test document: EF.COM, DG1 and DG2.
func specimenFiles(t testing.TB) map[string][]byte {
	t.Helper()
	dg2, err := EncodeDG2([]FaceImage{{Format: ImageJPEG, Width: 8, Height: 8, Data: tinyJPEG(t, 8, 8)}})
	require.NoError(t, err)
	dg2j, err := EncodeDG2ISO39794([]FaceImage{{Format: ImageJPEG2000, Width: 413, Height: 531, Data: fakeJP2()}})
	require.NoError(t, err)
	return map[string][]byte{
		"com.bin":       EncodeCOM("0107", "040000", []tlv.Tag{0x61, 0x75}),
		"dg1_td3.bin":   EncodeDG1(td3),
		"dg1_td1.bin":   EncodeDG1(td1),
		"dg2_19794.bin": dg2,
		"dg2_39794.bin": dg2j,
	}
}

// TestTestdata checks the specimen files in testdata/, which seed the
// fuzz targets; go test -run TestTestdata -update rewrites them, except
// sod_p256.bin and sod_p256_ber.bin (DER and BER EF.SOD over dg1_td3.bin
// and the DG2 of their time), which are kept as they are.
func TestTestdata(t *testing.T) {
	files := specimenFiles(t)
	if update() {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		for name, b := range files {
			require.NoError(t, os.WriteFile(filepath.Join("testdata", name), b, 0o644))
		}
	}
	disk := map[string][]byte{}
	for _, name := range []string{"com.bin", "dg1_td3.bin", "dg1_td1.bin", "dg2_19794.bin", "dg2_39794.bin", "sod_p256.bin", "sod_p256_ber.bin"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		disk[name] = b
	}
	// The JPEG encoder's output may change between Go releases, so the
	// files that hold one are parsed, the others compared.
	for _, name := range []string{"com.bin", "dg1_td3.bin", "dg1_td1.bin", "dg2_39794.bin"} {
		require.Equal(t, files[name], disk[name], "%s is stale; run go test -run TestTestdata -update", name)
	}
	d, err := ParseDG2(disk["dg2_19794.bin"])
	require.NoError(t, err)
	require.Equal(t, ImageJPEG, d.Faces[0].Format)
	for _, name := range []string{"sod_p256.bin", "sod_p256_ber.bin"} {
		sod, err := ParseSOD(disk[name])
		require.NoError(t, err, name)
		require.NoError(t, sod.Check(1, disk["dg1_td3.bin"]))
		require.NoError(t, sod.Check(2, disk["dg2_19794.bin"]))
	}
}
