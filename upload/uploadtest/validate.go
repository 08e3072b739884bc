package uploadtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// nfcField is a data group of an NFC upload and the first byte of its LDS
// file (ICAO 9303-10 §4.6).
type nfcField struct {
	name string
	tag  byte
}

func nfcFields() [4]nfcField {
	return [4]nfcField{{"com", 0x60}, {"sod", 0x77}, {"dg1", 0x61}, {"dg2", 0x75}}
}

// store validates the JSON body and keeps the media.
func (s *Server) store(r *http.Request, sessionID string, body []byte) verdict {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || len(top) != 1 {
		return fail(http.StatusBadRequest, "1101", "Validation failed", "body must be an object with exactly one of nfcDocuments or image")
	}
	up := Upload{SessionID: sessionID}
	var v verdict
	switch {
	case top["nfcDocuments"] != nil:
		up.NFC, v = s.checkNFC(top["nfcDocuments"])
		// As the vendor answers NFC uploads (its media contract).
		up.Media = Media{Name: "document-nfc", Context: "document-nfc", MIMEType: "application/octet-stream"}
		for _, b := range up.NFC {
			up.Media.Size += len(b)
		}
		v.kind = "nfcDocument"
	case top["image"] != nil:
		var mimeType, ctx string
		up.Image, mimeType, ctx, v = s.checkImage(top["image"])
		up.Media = Media{Name: ctx + extension(mimeType), Context: ctx, MIMEType: mimeType, Size: len(up.Image)}
		v.kind = "image"
	default:
		return fail(http.StatusBadRequest, "1101", "Validation failed", "unknown field")
	}
	if v.status != 0 {
		return v
	}
	up.Media.ID = uuid.Must(uuid.NewRandomFromReader(rand.Reader)).String()
	up.Media.SessionID = sessionID
	up.Media.URL = "http://" + r.Host + "/v1/media/" + up.Media.ID
	s.mu.Lock()
	s.uploads = append(s.uploads, up)
	if len(s.uploads) > maxRecords {
		s.uploads = s.uploads[1:]
	}
	s.mu.Unlock()
	m := up.Media
	return verdict{status: http.StatusOK, kind: v.kind, media: &m}
}

// checkNFC requires exactly com, sod, dg1 and dg2, as standard padded
// base64 of LDS files, together at most MaxNFCBytes of base64.
func (s *Server) checkNFC(raw json.RawMessage) (map[string][]byte, verdict) {
	var docs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &docs); err != nil {
		return nil, fail(http.StatusBadRequest, "1410", "NFC data format is invalid", "nfcDocuments must be an object")
	}
	for k := range docs {
		if !oneOf(k, "com", "sod", "dg1", "dg2") {
			return nil, fail(http.StatusBadRequest, "1101", "Validation failed", "unknown field nfcDocuments."+k)
		}
	}
	out, size := map[string][]byte{}, 0
	for _, f := range nfcFields() {
		var b64 string
		if docs[f.name] == nil {
			return nil, fail(http.StatusBadRequest, "1410", "NFC data format is invalid", f.name+" is missing")
		}
		if err := json.Unmarshal(docs[f.name], &b64); err != nil {
			return nil, fail(http.StatusBadRequest, "1410", "NFC data format is invalid", f.name+" must be a string")
		}
		b, err := base64.StdEncoding.Strict().DecodeString(b64)
		switch {
		case err != nil:
			return nil, fail(http.StatusBadRequest, "1410", "NFC data format is invalid", f.name+" is not standard base64 with padding")
		case len(b) == 0 || b[0] != f.tag:
			return nil, fail(http.StatusBadRequest, "1410", "NFC data format is invalid", fmt.Sprintf("%s does not start with tag %#02x", f.name, f.tag))
		}
		out[f.name], size = b, size+len(b64)
	}
	if size > s.cfg.MaxNFCBytes {
		return nil, fail(http.StatusBadRequest, "1412", "NFC data is too large", fmt.Sprintf("combined NFC data is %d bytes, over %d", size, s.cfg.MaxNFCBytes))
	}
	return out, verdict{}
}

// imageMagic reports whether mimeType is accepted and whether b starts
// with its magic.
func imageMagic(mimeType string, b []byte) (known, ok bool) {
	switch mimeType {
	case "image/jpeg":
		return true, bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff})
	case "image/png":
		return true, bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n"))
	case "image/webp":
		return true, len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	case "image/heif", "image/heic":
		return true, isFtyp(b)
	case "application/pdf":
		return true, bytes.HasPrefix(b, []byte("%PDF-"))
	}
	return false, false
}

func isFtyp(b []byte) bool { return len(b) >= 12 && string(b[4:8]) == "ftyp" }

func extension(mimeType string) string {
	_, ext, _ := strings.Cut(mimeType, "/")
	return "." + ext
}

// checkImage validates {"context","content","timestamp"}.
func (s *Server) checkImage(raw json.RawMessage) (img []byte, mimeType, ctx string, v verdict) {
	var im struct {
		Context   *string `json:"context"`
		Content   *string `json:"content"`
		Timestamp *string `json:"timestamp"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&im); err != nil {
		return nil, "", "", fail(http.StatusBadRequest, "1101", "Validation failed", "image must be an object with context, content and an optional timestamp")
	}
	switch {
	case im.Context == nil || *im.Context == "":
		return nil, "", "", fail(http.StatusBadRequest, "1101", "Validation failed", "image.context is missing")
	case im.Content == nil:
		return nil, "", "", fail(http.StatusBadRequest, "1101", "Validation failed", "image.content is missing")
	case len(*im.Content) > s.cfg.MaxImageBytes:
		return nil, "", "", fail(http.StatusBadRequest, "1101", "Validation failed", "image.content is too large")
	}
	if im.Timestamp != nil {
		if _, err := time.Parse(time.RFC3339, *im.Timestamp); err != nil {
			return nil, "", "", fail(http.StatusBadRequest, "1101", "Validation failed", "image.timestamp is not RFC 3339")
		}
	}
	img, mimeType, detail := s.checkContent(*im.Content)
	if detail != "" {
		return nil, "", "", fail(http.StatusBadRequest, "1101", "Validation failed", detail)
	}
	return img, mimeType, *im.Context, verdict{}
}

// checkContent parses data:<mime>;base64,<data> and checks the image.
func (s *Server) checkContent(content string) (img []byte, mimeType, detail string) {
	rest, ok := strings.CutPrefix(content, "data:")
	mimeType, b64, ok2 := strings.Cut(rest, ";base64,")
	if !ok || !ok2 {
		return nil, "", "image.content is not a data:<type>;base64, URI"
	}
	if known, _ := imageMagic(mimeType, nil); !known || mimeType == "application/pdf" && !s.cfg.AllowPDF {
		return nil, "", "image type " + mimeType + " is not supported"
	}
	img, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(img) == 0 {
		return nil, "", "image.content is not standard base64 with padding"
	}
	if _, ok := imageMagic(mimeType, img); !ok {
		return nil, "", "image.content is not a " + mimeType
	}
	var cfg image.Config
	switch mimeType {
	case "image/jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(img))
	case "image/png":
		cfg, err = png.DecodeConfig(bytes.NewReader(img))
	}
	switch {
	case err != nil:
		return nil, "", "image.content cannot be decoded"
	case cfg.Width > s.cfg.MaxImageSide || cfg.Height > s.cfg.MaxImageSide:
		return nil, "", fmt.Sprintf("image is %dx%d, longer side over %d px", cfg.Width, cfg.Height, s.cfg.MaxImageSide)
	}
	return img, mimeType, ""
}
