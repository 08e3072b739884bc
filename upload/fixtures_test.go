package upload_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
)

// Test credentials: distinctive strings, so that a leak is easy to find.
const (
	testKey        = "KEY-4f1c2e9a-must-never-leak"
	testSecret     = "SECRET-b7d06c31-must-never-leak"
	testNextSecret = "NEXT-SECRET-19e2aa70-must-never-leak"
)

func testCredentials() upload.Credentials {
	return upload.Credentials{Key: testKey, Secret: []byte(testSecret)}
}

// testCOM is a 25-byte EF.COM: LDS 1.7, Unicode 4.0.0, tags DG1 DG2 DG11
// DG12 DG14.
func testCOM() []byte {
	return []byte{0x60, 0x17, 0x5f, 0x01, 0x04, '0', '1', '0', '7', 0x5f, 0x36, 0x06, '0', '4', '0', '0', '0', '0',
		0x5c, 0x05, 0x61, 0x75, 0x6b, 0x6c, 0x6e}
}

// testDG1 is a 93-byte DG1 holding the TD3 specimen MRZ of ICAO 9303-4.
func testDG1() []byte {
	mrz := "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<" + "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
	return append([]byte{0x61, 0x5b, 0x5f, 0x1f, 0x58}, mrz...)
}

// testLDS returns a file of n bytes that starts like an LDS file with tag
// and a long-form length, followed by pseudo-random content.
func testLDS(tag byte, n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[0], b[1], b[2], b[3] = tag, 0x82, byte((n-4)>>8), byte(n-4)
	return b
}

// testFaceJPEG draws a synthetic face-like portrait (ICAO-style 3:4 head and
// shoulders on a plain background, with skin texture noise) and encodes it
// as a JPEG of about 20 KB, the size of a typical DG2 face image.
func testFaceJPEG(tb testing.TB) []byte {
	tb.Helper()
	b, err := faceJPEG()
	require.NoError(tb, err)
	return bytes.Clone(b)
}

// faceJPEG is computed once: it is deterministic and takes a while.
var faceJPEG = sync.OnceValues(func() ([]byte, error) {
	const w, h = 360, 480
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(7, 11))
	for y := range h {
		for x := range w {
			c := faceColor(float64(x)/w, float64(y)/h)
			n := r.NormFloat64() * 6
			cy, cb, cr := color.RGBToYCbCr(clamp(float64(c.R)+n), clamp(float64(c.G)+n), clamp(float64(c.B)+n))
			img.Y[img.YOffset(x, y)] = cy
			img.Cb[img.COffset(x, y)], img.Cr[img.COffset(x, y)] = cb, cr
		}
	}
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 66})
	return buf.Bytes(), err
})

// faceColor paints background, shoulders, face, eyes and mouth at (u, v)
// in [0,1)².
func faceColor(u, v float64) color.RGBA {
	ell := func(cu, cv, ru, rv float64) bool { return math.Pow((u-cu)/ru, 2)+math.Pow((v-cv)/rv, 2) < 1 }
	switch {
	case ell(0.38, 0.42, 0.05, 0.025) || ell(0.62, 0.42, 0.05, 0.025):
		return color.RGBA{60, 40, 30, 255} // eyes
	case ell(0.5, 0.64, 0.1, 0.03):
		return color.RGBA{150, 70, 70, 255} // mouth
	case ell(0.5, 0.45, 0.25, 0.32):
		shade := 30 * (u - 0.5)
		return color.RGBA{clamp(215 - shade), clamp(170 - shade), clamp(140 - shade), 255} // face
	case ell(0.5, 0.26, 0.3, 0.2):
		return color.RGBA{70, 50, 35, 255} // hair
	case v > 0.78 && ell(0.5, 1.1, 0.55, 0.35):
		return color.RGBA{40, 60, 110, 255} // shoulders
	}
	return color.RGBA{clamp(200 + 20*v), clamp(205 + 20*v), 215, 255} // background gradient
}

func clamp(f float64) uint8 { return uint8(max(0, min(255, f))) }

// testNFC is a realistic set: 25-byte COM, ~2 KB SOD, 93-byte DG1 and a DG2
// wrapping a ~20 KB JPEG.
func testNFC(tb testing.TB) upload.NFC {
	face := testFaceJPEG(tb)
	dg2 := append([]byte{0x75, 0x82, byte((len(face) + 4) >> 8), byte(len(face) + 4), 0x7f, 0x61, 0x00, 0x00}, face...)
	return upload.NFC{COM: testCOM(), SOD: testLDS(0x77, 2048, 1), DG1: testDG1(), DG2: dg2}
}
