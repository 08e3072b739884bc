package vchip

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// The synthetic portrait is a frontal head-and-shoulders drawing in the
// proportions of ISO/IEC 19794-5 full frontal images (3:4, face about half
// the height). Sensor noise of a chosen amplitude is added so that the JPEG
// lands near a target size: noise is what makes JPEG big, and a smooth
// drawing alone compresses to a few kilobytes.

// Bounds of the portrait generator.
const (
	minFaceJPEG   = 2_000     // smaller targets cannot hold a recognisable drawing
	maxFaceJPEG   = 4_000_000 // keeps generation time and memory sane
	faceQuality   = 90        // JPEG quality while the noise is tuned
	maxNoise      = 120.0     // noise amplitude (std dev, in 8-bit levels) searched up to
	searchSteps   = 24
	sizeTolerance = 0.005 // stop when within 0.5% of the target
	pixelsPerByte = 6     // image area per target byte; sized so that moderate noise suffices
)

// errFaceSize is returned for a target the generator cannot reach.
var errFaceSize = errors.New("vchip: face image size out of range")

// faceJPEG returns a JPEG portrait of about target bytes, deterministic in
// seed, with its width and height.
func faceJPEG(target int, seed uint64) (data []byte, w, h int, err error) {
	if target < minFaceJPEG || target > maxFaceJPEG {
		return nil, 0, 0, errFaceSize
	}
	k := int(math.Sqrt(float64(target*pixelsPerByte) / (12 * 16)))
	w, h = 12*k, 16*k // exactly 3:4
	base := drawFace(w, h)
	noise := noiseField(w*h, seed)
	enc := func(q int, amp float64) ([]byte, error) {
		var buf bytes.Buffer
		err := jpeg.Encode(&buf, addNoise(base, noise, amp), &jpeg.Options{Quality: q})
		return buf.Bytes(), err
	}
	best, err := enc(faceQuality, 0)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(best) > target {
		data, err = searchQuality(target, enc)
	} else {
		data, err = searchNoise(target, best, enc)
	}
	return data, w, h, err
}

type encodeFunc func(quality int, noise float64) ([]byte, error)

// searchNoise tunes the noise amplitude at the fixed quality; size grows
// with noise, so bisection converges.
func searchNoise(target int, best []byte, enc encodeFunc) ([]byte, error) {
	lo, hi := 0.0, maxNoise
	for range searchSteps {
		mid := (lo + hi) / 2
		b, err := enc(faceQuality, mid)
		if err != nil {
			return nil, err
		}
		if absDiff(len(b), target) < absDiff(len(best), target) {
			best = b
		}
		if float64(absDiff(len(b), target)) <= sizeTolerance*float64(target) {
			break
		}
		if len(b) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return best, nil
}

// searchQuality lowers the quality of the noiseless drawing for targets
// below what it takes at faceQuality.
func searchQuality(target int, enc encodeFunc) ([]byte, error) {
	var best []byte
	lo, hi := 1, faceQuality
	for lo <= hi {
		mid := (lo + hi) / 2
		b, err := enc(mid, 0)
		if err != nil {
			return nil, err
		}
		if best == nil || absDiff(len(b), target) < absDiff(len(best), target) {
			best = b
		}
		if len(b) < target {
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return best, nil
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// noiseField returns n standard normal samples from a PCG seeded by seed.
func noiseField(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x9303_0010_0000_0002))
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	return f
}

// addNoise returns base with luminance noise of standard deviation amp.
func addNoise(base *image.RGBA, noise []float32, amp float64) *image.RGBA {
	if amp == 0 {
		return base
	}
	out := image.NewRGBA(base.Rect)
	for i, n := range noise {
		d := float64(n) * amp
		for c := range 3 {
			out.Pix[4*i+c] = clamp8(float64(base.Pix[4*i+c]) + d)
		}
		out.Pix[4*i+3] = 0xFF
	}
	return out
}

func clamp8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

// ellipse is an axis-aligned ellipse in unit coordinates (x across, y
// down, both 0–1 of the image width and height).
type ellipse struct{ cx, cy, rx, ry float64 }

// at returns the normalised squared distance from the centre: < 1 inside.
func (e ellipse) at(x, y float64) float64 {
	dx, dy := (x-e.cx)/e.rx, (y-e.cy)/e.ry
	return dx*dx + dy*dy
}

// Colours of the drawing.
var (
	skin    = color.RGBA{224, 172, 140, 255}
	hair    = color.RGBA{62, 42, 30, 255}
	cloth   = color.RGBA{40, 52, 84, 255}
	lips    = color.RGBA{172, 84, 82, 255}
	sclera  = color.RGBA{236, 236, 232, 255}
	iris    = color.RGBA{78, 58, 40, 255}
	collars = color.RGBA{230, 230, 236, 255}
)

// drawFace draws the noiseless portrait.
func drawFace(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for py := range h {
		for px := range w {
			x, y := (float64(px)+0.5)/float64(w), (float64(py)+0.5)/float64(h)
			img.SetRGBA(px, py, portraitAt(x, y))
		}
	}
	return img
}

// portraitAt is the colour of the portrait at unit coordinates x, y:
// layers painted back to front.
func portraitAt(x, y float64) color.RGBA {
	c := color.RGBA{uint8(206 - 24*y), uint8(214 - 18*y), uint8(224 - 12*y), 255} // plain light background
	switch {
	case (ellipse{0.5, 1.12, 0.56, 0.36}).at(x, y) < 1:
		c = cloth
		if (ellipse{0.5, 0.80, 0.11, 0.08}).at(x, y) < 1 {
			c = collars
		}
	case math.Abs(x-0.5) < 0.085 && y > 0.6 && y < 0.84:
		c = shade(skin, 0.82)
	}
	if (ellipse{0.5, 0.37, 0.27, 0.30}).at(x, y) < 1 && y < 0.56 {
		c = hair
	}
	for _, ex := range []float64{0.285, 0.715} {
		if (ellipse{ex, 0.47, 0.03, 0.055}).at(x, y) < 1 {
			c = shade(skin, 0.9)
		}
	}
	face := ellipse{0.5, 0.46, 0.21, 0.27}
	if d := face.at(x, y); d < 1 && !(y < 0.30 && (ellipse{0.5, 0.26, 0.25, 0.10}).at(x, y) < 1) {
		light := 1.05 - 0.22*d - 0.12*(x-0.4) // soft light from the subject's right
		c = shade(skin, light)
		c = features(c, x, y)
	}
	return c
}

// features paints eyes, brows, nose and mouth over the face colour c.
func features(c color.RGBA, x, y float64) color.RGBA {
	for _, ex := range []float64{0.415, 0.585} {
		eye := ellipse{ex, 0.42, 0.038, 0.016}
		switch {
		case (ellipse{ex, 0.42, 0.011, 0.012}).at(x, y) < 0.35:
			return color.RGBA{20, 16, 14, 255} // pupil
		case (ellipse{ex, 0.42, 0.011, 0.012}).at(x, y) < 1 && eye.at(x, y) < 1:
			return iris
		case eye.at(x, y) < 1:
			return sclera
		case (ellipse{ex, 0.385, 0.048, 0.008}).at(x, y) < 1:
			return hair // brow
		}
	}
	switch {
	case (ellipse{0.5, 0.575, 0.062, 0.016}).at(x, y) < 1:
		return lips
	case (ellipse{0.5, 0.505, 0.022, 0.012}).at(x, y) < 1:
		return shade(c, 0.8) // nostrils
	case (ellipse{0.5, 0.47, 0.018, 0.05}).at(x, y) < 1:
		return shade(c, 0.94) // bridge of the nose
	}
	return c
}

func shade(c color.RGBA, f float64) color.RGBA {
	return color.RGBA{clamp8(float64(c.R) * f), clamp8(float64(c.G) * f), clamp8(float64(c.B) * f), 255}
}
