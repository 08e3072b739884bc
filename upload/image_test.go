package upload_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))))
	return buf.Bytes()
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// testWebP builds the header of a WebP file of kind "VP8 ", "VP8L" or
// "VP8X" (RFC 9649) with the given canvas size.
func testWebP(kind string, w, h int) []byte {
	var chunk []byte
	switch kind {
	case "VP8 ":
		chunk = []byte{0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a}
		chunk = binary.LittleEndian.AppendUint16(chunk, uint16(w))
		chunk = binary.LittleEndian.AppendUint16(chunk, uint16(h))
	case "VP8L":
		chunk = append([]byte{0x2f}, le32(uint32(w-1)|uint32(h-1)<<14)...)
	case "VP8X":
		chunk = []byte{0, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	}
	chunk = append(chunk, make([]byte, 16)...)
	body := append([]byte("WEBP"+kind), le32(uint32(len(chunk)))...)
	body = append(body, chunk...)
	return append(append([]byte("RIFF"), le32(uint32(len(body)))...), body...)
}

func box(typ string, payload ...[]byte) []byte {
	b := bytes.Join(payload, nil)
	return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(b))), typ...), b...)
}

// testHEIF builds an ISO BMFF file with the given brands and 'ispe'
// properties for a primary image and a thumbnail.
func testHEIF(major string, compat []string, w, h int) []byte {
	ftyp := []byte(major + "\x00\x00\x00\x00" + strings.Join(compat, ""))
	ispe := func(w, h int) []byte {
		p := []byte{0, 0, 0, 0}
		p = binary.BigEndian.AppendUint32(p, uint32(w))
		return box("ispe", binary.BigEndian.AppendUint32(p, uint32(h)))
	}
	meta := box("meta", []byte{0, 0, 0, 0}, box("hdlr", make([]byte, 24)), box("iprp", box("ipco", ispe(320, 240), ispe(w, h)), box("ipma", make([]byte, 8))))
	return bytes.Join([][]byte{box("ftyp", ftyp), meta, box("mdat", make([]byte, 64))}, nil)
}

func TestUploadImage(t *testing.T) {
	face := testFaceJPEG(t)
	var gifBuf bytes.Buffer
	require.NoError(t, gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White}), nil))
	ts := time.Date(2024, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("X", 3600))
	tests := []struct {
		name        string
		img         upload.Image
		cfg         uploadtest.Config
		client      func(c *upload.Client)
		wantMIME    string
		wantInBody  string
		wantIs      error
		wantDim     bool
		wantSize    bool
		wantVendor  int // status of an expected APIError
		wantRequest bool
	}{
		{name: "jpeg face", img: upload.Image{Context: upload.ContextFace, Data: face}, wantMIME: "image/jpeg", wantInBody: `"content":"data:image/jpeg;base64,/9j/`, wantRequest: true},
		{name: "timestamp in UTC with milliseconds", img: upload.Image{Context: upload.ContextFace, Data: face, Timestamp: ts}, wantMIME: "image/jpeg", wantInBody: `"timestamp":"2024-01-02T02:04:05.600Z"`, wantRequest: true},
		{name: "png document front", img: upload.Image{Context: upload.ContextDocumentFront, Data: testPNG(t, 1920, 1080)}, wantMIME: "image/png", wantRequest: true},
		{name: "png too wide", img: upload.Image{Context: upload.ContextDocumentFront, Data: testPNG(t, 1921, 10)}, wantDim: true},
		{name: "png too tall", img: upload.Image{Context: upload.ContextDocumentBack, Data: testPNG(t, 10, 2000)}, wantDim: true},
		{name: "webp lossy", img: upload.Image{Context: "face", Data: testWebP("VP8 ", 640, 480)}, wantMIME: "image/webp", wantRequest: true},
		{name: "webp lossless too large", img: upload.Image{Context: "face", Data: testWebP("VP8L", 4000, 3000)}, wantDim: true},
		{name: "webp extended too large", img: upload.Image{Context: "face", Data: testWebP("VP8X", 100, 16000)}, wantDim: true},
		{name: "heic", img: upload.Image{Context: "face", Data: testHEIF("heic", []string{"mif1", "heic"}, 1920, 1440)}, wantMIME: "image/heic", wantRequest: true},
		{name: "heif", img: upload.Image{Context: "face", Data: testHEIF("mif1", []string{"mif1"}, 800, 600)}, wantMIME: "image/heif", wantRequest: true},
		{name: "heic from an iPhone is too large", img: upload.Image{Context: "face", Data: testHEIF("heic", []string{"mif1", "heic"}, 4032, 3024)}, wantDim: true},
		{name: "avif is not heif", img: upload.Image{Context: "face", Data: testHEIF("avif", []string{"mif1", "avif"}, 100, 100)}, wantIs: upload.ErrImageFormat},
		{name: "gif", img: upload.Image{Context: "face", Data: gifBuf.Bytes()}, wantIs: upload.ErrImageFormat},
		{name: "truncated jpeg", img: upload.Image{Context: "face", Data: face[:20]}, wantIs: upload.ErrImageFormat},
		{name: "empty context", img: upload.Image{Data: face}, wantIs: upload.ErrImageFormat},
		{name: "context with a quote", img: upload.Image{Context: `face"`, Data: face}, wantIs: upload.ErrImageFormat},
		{name: "over the size limit", img: upload.Image{Context: "face", Data: face}, client: func(c *upload.Client) { c.MaxImageBytes = 1000 }, wantSize: true},
		{name: "pdf refused by a server without it", img: upload.Image{Context: "document-front", Data: []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n")}, wantVendor: 400, wantRequest: true},
		{name: "pdf where enabled", img: upload.Image{Context: "document-front", Data: []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n")}, cfg: uploadtest.Config{AllowPDF: true}, wantMIME: "application/pdf", wantRequest: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, tc.cfg)
			if tc.client != nil {
				tc.client(f.client)
			}
			m, err := f.client.UploadImage(context.Background(), f.session, tc.img)
			if tc.wantRequest {
				assert.Len(t, f.srv.Requests(), 1)
			} else {
				assert.Zero(t, f.srv.Connections(), "nothing sent")
			}
			switch {
			case tc.wantDim:
				var de *upload.DimensionError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, 1920, de.Limit)
			case tc.wantSize:
				var se *upload.SizeError
				require.ErrorAs(t, err, &se)
			case tc.wantIs != nil:
				require.ErrorIs(t, err, tc.wantIs)
			case tc.wantVendor != 0:
				var ae *upload.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tc.wantVendor, ae.Status)
			default:
				require.NoError(t, err)
				assert.Equal(t, tc.wantMIME, m.MIMEType)
				assert.Equal(t, tc.img.Context, m.Context)
				ups := f.srv.Uploads()
				require.Len(t, ups, 1)
				assert.Equal(t, tc.img.Data, ups[0].Image)
				assert.Contains(t, string(f.srv.Requests()[0].Body), tc.wantInBody)
				if tc.img.Timestamp.IsZero() {
					assert.NotContains(t, string(f.srv.Requests()[0].Body), "timestamp")
				}
			}
		})
	}
}
