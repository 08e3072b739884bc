package upload

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Image is a picture for the session. A face or a document page is personal
// data, so Image has no String method; it logs and formats as its context
// and size only, such as `Image{context:"face" data:48213B}`.
type Image struct {
	// Context says what the image shows, such as [ContextDocumentFront];
	// the vendor defines more. Letters, digits, '-' and '_' only.
	Context string
	// Data is the file: JPEG, PNG, HEIF/HEIC, WebP, or PDF where the
	// vendor has enabled it. The format is detected from the content.
	Data []byte
	// Timestamp is when the image was taken; the zero value omits it.
	Timestamp time.Time
}

// describe describes img by its context and size.
func (img Image) describe() string {
	return fmt.Sprintf("Image{context:%q data:%dB}", img.Context, len(img.Data))
}

// LogValue implements [slog.LogValuer]: the context and the size, never the
// bytes.
func (img Image) LogValue() slog.Value { return slog.StringValue(img.describe()) }

// Format implements [fmt.Formatter] for every verb (%v, %+v, %#v, %s, %x
// …): the context and the size, never the bytes.
func (img Image) Format(f fmt.State, _ rune) { io.WriteString(f, img.describe()) }

// Image contexts documented by the vendor.
const (
	ContextDocumentFront = "document-front"
	ContextDocumentBack  = "document-back"
	ContextFace          = "face"
)

// Image limits of the vendor's contract.
const (
	// DefaultMaxImageBytes is the largest "content" (data URI) length: the
	// contract says the base64 must be under 24 MB, and the decimal reading
	// is the stricter one.
	DefaultMaxImageBytes = 24_000_000 - 1
	// DefaultMaxImageSide is the largest allowed longer side in pixels.
	DefaultMaxImageSide = 1920
)

// imageInfo is what detectImage learns; width and height are 0 for PDF.
type imageInfo struct {
	mime          string
	width, height int
}

// imageBody is the request body for an image.
type imageBody struct {
	Image struct {
		Context   string `json:"context"`
		Content   string `json:"content"`
		Timestamp string `json:"timestamp,omitempty"`
	} `json:"image"`
}

// body checks img against the limits and returns the JSON body.
func (img Image) body(maxBytes, maxSide int) ([]byte, error) {
	if !validContext(img.Context) {
		return nil, fmt.Errorf("context %q: want letters, digits, '-' or '_' such as %q: %w", img.Context, ContextDocumentFront, ErrImageFormat)
	}
	info, err := detectImage(img.Data)
	if err != nil {
		return nil, err
	}
	if info.width > maxSide || info.height > maxSide {
		return nil, &DimensionError{Width: info.width, Height: info.height, Limit: maxSide}
	}
	prefix := "data:" + info.mime + ";base64,"
	size := len(prefix) + base64.StdEncoding.EncodedLen(len(img.Data))
	if size > maxBytes {
		return nil, &SizeError{Limit: maxBytes, Size: size}
	}
	var b imageBody
	b.Image.Context = img.Context
	b.Image.Content = prefix + base64.StdEncoding.EncodeToString(img.Data)
	if !img.Timestamp.IsZero() {
		b.Image.Timestamp = img.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return json.Marshal(b)
}

func validContext(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}

// detectImage finds the format from the content (not a file name) and the
// dimensions: JPEG and PNG from their headers (image.DecodeConfig), WebP
// from its VP8/VP8L/VP8X header, HEIF/HEIC from the largest 'ispe'
// property (ISO/IEC 23008-12 §6.5.3), which is the full image rather than a
// tile or a thumbnail. PDF has no pixel size and is not checked.
func detectImage(b []byte) (imageInfo, error) {
	if mime, ok := heifBrand(b); ok {
		w, h, err := heifSize(b)
		if err != nil {
			return imageInfo{}, err
		}
		return imageInfo{mime, w, h}, nil
	}
	var info imageInfo
	var err error
	switch mime := http.DetectContentType(b); mime {
	case "image/jpeg":
		info.mime = mime
		c, e := jpeg.DecodeConfig(bytes.NewReader(b))
		info.width, info.height, err = c.Width, c.Height, e
	case "image/png":
		info.mime = mime
		c, e := png.DecodeConfig(bytes.NewReader(b))
		info.width, info.height, err = c.Width, c.Height, e
	case "image/webp":
		info.mime = mime
		info.width, info.height, err = webpSize(b)
	case "application/pdf":
		return imageInfo{mime: mime}, nil
	default:
		return imageInfo{}, fmt.Errorf("content is %s, not JPEG, PNG, HEIF/HEIC, WebP or PDF: %w", mime, ErrImageFormat)
	}
	if err != nil || info.width <= 0 || info.height <= 0 {
		return imageInfo{}, fmt.Errorf("%s: cannot read the image size: %w", info.mime, ErrImageFormat)
	}
	return info, nil
}

// webpSize reads the canvas size of a WebP file (RFC 9649 §2.5-2.7).
func webpSize(b []byte) (w, h int, err error) {
	if len(b) < 30 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return 0, 0, ErrImageFormat
	}
	d := b[20:]
	switch string(b[12:16]) {
	case "VP8 ": // lossy: 3-byte frame tag, start code, 14-bit sizes
		if d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a {
			return 0, 0, ErrImageFormat
		}
		return int(binary.LittleEndian.Uint16(d[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(d[8:]) & 0x3fff), nil
	case "VP8L": // lossless: signature 0x2f, then 14-bit width-1 and height-1
		if d[0] != 0x2f {
			return 0, 0, ErrImageFormat
		}
		v := binary.LittleEndian.Uint32(d[1:])
		return int(v&0x3fff) + 1, int(v>>14&0x3fff) + 1, nil
	case "VP8X": // extended: flags, then 24-bit canvas width-1 and height-1
		return le24(d[4:]) + 1, le24(d[7:]) + 1, nil
	}
	return 0, 0, ErrImageFormat
}

func le24(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }

// heifBrand reads the 'ftyp' box (ISO/IEC 14496-12 §4.3) and names HEIC
// (HEVC-coded) or HEIF. AVIF, which shares the container, is not accepted.
func heifBrand(b []byte) (string, bool) {
	typ, body, _, ok := nextBox(b)
	if !ok || typ != "ftyp" || len(body) < 8 {
		return "", false
	}
	brands := map[string]bool{string(body[:4]): true}
	for i := 8; i+4 <= len(body); i += 4 {
		brands[string(body[i:i+4])] = true
	}
	switch {
	case brands["heic"] || brands["heix"] || brands["heim"] || brands["heis"]:
		return "image/heic", true
	case brands["avif"] || brands["avis"]:
		return "", false
	case brands["mif1"] || brands["msf1"] || brands["heif"]:
		return "image/heif", true
	}
	return "", false
}

// heifSize returns the largest 'ispe' in meta/iprp/ipco.
func heifSize(b []byte) (w, h int, err error) {
	meta, ok := findBox(b, "meta")
	if !ok || len(meta) < 4 {
		return 0, 0, fmt.Errorf("image/heic: no 'meta' box: %w", ErrImageFormat)
	}
	iprp, ok := findBox(meta[4:], "iprp") // meta is a full box: skip version and flags
	if !ok {
		return 0, 0, fmt.Errorf("image/heic: no 'iprp' box: %w", ErrImageFormat)
	}
	ipco, ok := findBox(iprp, "ipco")
	if !ok {
		return 0, 0, fmt.Errorf("image/heic: no 'ipco' box: %w", ErrImageFormat)
	}
	for rest := ipco; ; {
		typ, body, next, ok := nextBox(rest)
		if !ok {
			break
		}
		rest = next
		if typ != "ispe" || len(body) < 12 {
			continue
		}
		iw, ih := int(binary.BigEndian.Uint32(body[4:])), int(binary.BigEndian.Uint32(body[8:]))
		if iw > 0 && ih > 0 && uint64(iw)*uint64(ih) > uint64(w)*uint64(h) {
			w, h = iw, ih
		}
	}
	if w == 0 {
		return 0, 0, fmt.Errorf("image/heic: no 'ispe' property: %w", ErrImageFormat)
	}
	return w, h, nil
}

// findBox returns the body of the first box of type typ among the boxes in b.
func findBox(b []byte, typ string) ([]byte, bool) {
	for {
		t, body, rest, ok := nextBox(b)
		if !ok {
			return nil, false
		}
		if t == typ {
			return body, true
		}
		b = rest
	}
}

// nextBox splits the first ISO BMFF box (ISO/IEC 14496-12 §4.2) off b.
func nextBox(b []byte) (typ string, body, rest []byte, ok bool) {
	if len(b) < 8 {
		return "", nil, nil, false
	}
	size, hdr := uint64(binary.BigEndian.Uint32(b)), uint64(8)
	switch size {
	case 0: // to the end
		size = uint64(len(b))
	case 1: // 64-bit largesize
		if len(b) < 16 {
			return "", nil, nil, false
		}
		size, hdr = binary.BigEndian.Uint64(b[8:]), 16
	}
	if size < hdr || size > uint64(len(b)) {
		return "", nil, nil, false
	}
	return string(b[4:8]), b[hdr:size], b[size:], true
}
