package icao

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// newSigner returns a key and a self-signed document signer certificate.
func newSigner(t testing.TB, kind string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	var key crypto.Signer
	var err error
	switch kind {
	case "P-224", "P-256", "P-384", "P-521":
		curves := map[string]elliptic.Curve{"P-224": elliptic.P224(), "P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
		key, err = ecdsa.GenerateKey(curves[kind], rand.Reader)
	case "RSA":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1234567),
		Subject:      pkix.Name{Country: []string{"UT"}, CommonName: "Utopia Document Signer " + kind},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		SubjectKeyId: []byte(kind),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

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
// fuzz targets; go test -run TestTestdata -update rewrites them.
func TestTestdata(t *testing.T) {
	files := specimenFiles(t)
	if update() {
		cert, key := newSigner(t, "P-256")
		sod, err := BuildSOD(crypto.SHA256, map[int][]byte{1: files["dg1_td3.bin"], 2: files["dg2_19794.bin"]}, cert, key)
		require.NoError(t, err)
		files["sod_p256.bin"] = sod
		files["sod_p256_ber.bin"] = indefinite(t, sod)
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
		_, err = sod.VerifySignature()
		require.NoError(t, err, name)
	}
}

// indefinite re-encodes a DER EF.SOD the way BER signers may write it:
// every constructed object outside the certificates gets an indefinite
// length, and eContent becomes a constructed OCTET STRING of 16-byte
// segments.
func indefinite(t testing.TB, der []byte) []byte {
	t.Helper()
	o, err := tlv.Decode(der)
	require.NoError(t, err)
	return berObject(t, o, false)
}

func berObject(t testing.TB, o tlv.Object, inEContent bool) []byte {
	if o.Tag == 0x04 && inEContent {
		var segs []byte
		for v := o.Value; len(v) > 0; v = v[min(16, len(v)):] {
			segs = tlv.Append(segs, 0x04, v[:min(16, len(v))])
		}
		return append(append(tlv.AppendTag(nil, 0x24), 0x80), append(segs, 0, 0)...)
	}
	// Certificates ([0] holding a SEQUENCE with a SEQUENCE) stay DER.
	if !o.Tag.Constructed() || o.Tag == 0xA0 && bytes.HasPrefix(o.Value, []byte{0x30}) && isCertificate(o.Value) {
		return o.Raw
	}
	children, err := tlv.Children(o.Value, 1<<16)
	require.NoError(t, err)
	b := append(tlv.AppendTag(nil, o.Tag), 0x80)
	for _, c := range children {
		b = append(b, berObject(t, c, o.Tag == 0xA0 && c.Tag == 0x04)...)
	}
	return append(b, 0, 0)
}

func isCertificate(v []byte) bool {
	_, err := x509.ParseCertificate(firstRaw(v))
	return err == nil
}

func firstRaw(v []byte) []byte {
	o, _, err := tlv.Next(v)
	if err != nil {
		return nil
	}
	return o.Raw
}
