package upload

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Compression is the Content-Encoding of request bodies.
type Compression string

// Compressions. The zero value "" means [Gzip], the vendor's recommendation.
const (
	Gzip          Compression = "gzip"    // RFC 1952
	Deflate       Compression = "deflate" // the zlib format, RFC 1950 (RFC 9110 §8.4.1.2), not raw RFC 1951
	NoCompression Compression = "none"    // no Content-Encoding header
)

// ParseCompression accepts "gzip", "deflate" and "none" (and "" for gzip).
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case "", Gzip:
		return Gzip, nil
	case Deflate, NoCompression:
		return c, nil
	}
	return "", fmt.Errorf("upload: compression %q: want gzip, deflate or none: %w", s, ErrConfig)
}

// NFC holds the four files as read from the chip, whole and unmodified
// (9303-10 §4): the vendor stores them and checks the SOD hashes itself.
// DG1 and DG2 are personal data, so NFC has no String method; it logs and
// formats as the file sizes only, such as
// "NFC{com:22B sod:950B dg1:93B dg2:19959B}".
type NFC struct {
	COM, SOD, DG1, DG2 []byte
}

// sizes describes n by its file sizes.
func (n NFC) sizes() string {
	return fmt.Sprintf("NFC{com:%dB sod:%dB dg1:%dB dg2:%dB}", len(n.COM), len(n.SOD), len(n.DG1), len(n.DG2))
}

// LogValue implements [slog.LogValuer]: the file sizes, never the bytes.
func (n NFC) LogValue() slog.Value { return slog.StringValue(n.sizes()) }

// Format implements [fmt.Formatter] for every verb (%v, %+v, %#v, %s, %x
// …): the file sizes, never the bytes.
func (n NFC) Format(f fmt.State, _ rune) { io.WriteString(f, n.sizes()) }

// nfcFile pairs a file with its name and its first LDS tag (9303-10 §4.6).
type nfcFile struct {
	name string
	tag  byte
	data []byte
}

func (n NFC) files() []nfcFile {
	return []nfcFile{{"EF.COM", 0x60, n.COM}, {"EF.SOD", 0x77, n.SOD}, {"DG1", 0x61, n.DG1}, {"DG2", 0x75, n.DG2}}
}

// check requires each file and its tag, and the combined base64 size.
func (n NFC) check(limit int) error {
	size := 0
	for _, f := range n.files() {
		if len(f.data) == 0 {
			return fmt.Errorf("%s is missing: all four files are required: %w", f.name, ErrNFCFormat)
		}
		if f.data[0] != f.tag {
			return fmt.Errorf("%s does not start with tag %#02x: %w", f.name, f.tag, ErrNFCFormat)
		}
		size += base64.StdEncoding.EncodedLen(len(f.data))
	}
	if size > limit {
		return &SizeError{Limit: limit, Size: size}
	}
	return nil
}

// nfcBody is the request body; []byte fields marshal as standard base64
// with padding.
type nfcBody struct {
	NFCDocuments struct {
		COM []byte `json:"com"`
		SOD []byte `json:"sod"`
		DG1 []byte `json:"dg1"`
		DG2 []byte `json:"dg2"`
	} `json:"nfcDocuments"`
}

func (n NFC) body() ([]byte, error) {
	var b nfcBody
	b.NFCDocuments.COM, b.NFCDocuments.SOD, b.NFCDocuments.DG1, b.NFCDocuments.DG2 = n.COM, n.SOD, n.DG1, n.DG2
	return json.Marshal(b)
}

// payload is one request body, ready to be sent any number of times.
type payload struct {
	json      []byte // the uncompressed JSON body, which is signed
	signature string // lower-case hex HMAC-SHA256 of json
	wire      []byte // json compressed as encoding says
	encoding  string // Content-Encoding value, "" for none
}

// newPayload signs body and then compresses the same bytes.
func newPayload(body, secret []byte, c Compression) (payload, error) {
	p := payload{json: body, signature: sign(secret, body)}
	var err error
	p.wire, p.encoding, err = compress(c, body)
	return p, err
}

// sign returns the lower-case hex HMAC-SHA256 of body, 64 characters.
func sign(secret, body []byte) string { return hex.EncodeToString(mac(secret, body)) }

// mac returns the HMAC-SHA256 of body keyed with secret.
func mac(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// compress returns b encoded as c and the Content-Encoding to send.
func compress(c Compression, b []byte) ([]byte, string, error) {
	var buf bytes.Buffer
	switch c {
	case "", Gzip:
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(b); err != nil {
			return nil, "", err
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), "gzip", nil
	case Deflate:
		w := zlib.NewWriter(&buf)
		if _, err := w.Write(b); err != nil {
			return nil, "", err
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), "deflate", nil
	case NoCompression:
		return b, "", nil
	}
	return nil, "", fmt.Errorf("compression %q: want gzip, deflate or none: %w", c, ErrConfig)
}
