package upload

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Media is the vendor's record of an uploaded NFC document set or image,
// from a 200 response: {"status":"success","nfcDocument"|"image":{…}}.
type Media struct {
	ID        string  // vendor media ID
	Name      string  // vendor file name
	Context   string  // e.g. "document-front"
	Timestamp *string // nil when the vendor sent null
	Size      int64   // bytes stored
	MIMEType  string  // "mimetype"
	URL       string  // where the vendor serves the media
	SessionID string  // "sessionId"
	// Raw is the media object exactly as the vendor sent it.
	Raw json.RawMessage
}

// mediaJSON is read leniently: a field of an unexpected JSON type must not
// turn a stored upload into an error.
type mediaJSON struct {
	ID        json.RawMessage `json:"id"`
	Name      json.RawMessage `json:"name"`
	Context   json.RawMessage `json:"context"`
	Timestamp json.RawMessage `json:"timestamp"`
	Size      json.RawMessage `json:"size"`
	MIMEType  json.RawMessage `json:"mimetype"`
	URL       json.RawMessage `json:"url"`
	SessionID json.RawMessage `json:"sessionId"`
}

// parseMedia reads a 2xx body. The object is under "nfcDocument" or
// "image"; a "status" other than "success" is an error.
func parseMedia(body []byte) (*Media, error) {
	var env struct {
		Status      json.RawMessage `json:"status"`
		NFCDocument json.RawMessage `json:"nfcDocument"`
		Image       json.RawMessage `json:"image"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %w", ErrMalformedResponse)
	}
	if env.Status != nil && text(env.Status) != "success" {
		return nil, fmt.Errorf("status is %q, not \"success\": %w", cleanVendorText(text(env.Status)), ErrMalformedResponse)
	}
	raw := env.NFCDocument
	if !isObject(raw) {
		raw = env.Image
	}
	if !isObject(raw) {
		return nil, fmt.Errorf("no \"nfcDocument\" or \"image\" object: %w", ErrMalformedResponse)
	}
	var mj mediaJSON
	if err := json.Unmarshal(raw, &mj); err != nil {
		return nil, fmt.Errorf("media object: %w", ErrMalformedResponse)
	}
	m := &Media{
		ID: text(mj.ID), Name: text(mj.Name), Context: text(mj.Context), MIMEType: text(mj.MIMEType),
		URL: text(mj.URL), SessionID: text(mj.SessionID), Raw: append(json.RawMessage(nil), raw...),
	}
	if ts := text(mj.Timestamp); ts != "" {
		m.Timestamp = &ts
	}
	m.Size, _ = strconv.ParseInt(text(mj.Size), 10, 64)
	return m, nil
}

func isObject(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '{'
}

// text renders a JSON value as a string: strings unquoted, null and absent
// as "", anything else as its compact JSON text.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// parseAPIError reads a vendor error body such as
// {"status":"fail","code":"1410","message":"…","error":"…"}. A body that is
// not JSON (a gateway page) leaves Code, Message and Detail empty.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status, Retryable: status >= 500 || status == http.StatusTooManyRequests}
	var v struct {
		Code    json.RawMessage `json:"code"`
		Message json.RawMessage `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Code = cleanVendorText(text(v.Code))
		if len(e.Code) > 16 {
			e.Code = e.Code[:16]
		}
		e.Message = cleanVendorText(text(v.Message))
		e.Detail = cleanVendorText(text(v.Error))
	}
	return e
}

// responseSignature is the header the vendor signs responses with.
const responseSignature = "X-HMAC-SIGNATURE"

// verifyResponse checks X-HMAC-SIGNATURE over body against the current and
// then the next secret. A missing header is an error only for a 2xx when
// RequireResponseSignature is set.
func (c *Client) verifyResponse(h http.Header, body []byte, success bool) error {
	sig := strings.TrimSpace(h.Get(responseSignature))
	if sig == "" {
		if success && c.RequireResponseSignature {
			return fmt.Errorf("response has no %s: %w", responseSignature, ErrResponseSignature)
		}
		return nil
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != 32 {
		return fmt.Errorf("response %s is not 64 hex digits: %w", responseSignature, ErrResponseSignature)
	}
	for _, s := range [][]byte{c.Credentials.Secret, c.Credentials.NextSecret} {
		if len(s) > 0 && hmac.Equal(got, mac(s, body)) {
			return nil
		}
	}
	return fmt.Errorf("response %s matches neither the current nor the next secret: %w", responseSignature, ErrResponseSignature)
}

// maxResponse bounds a response body, before and after decoding.
const maxResponse = 1 << 20

// readBody reads at most maxResponse bytes and undoes a gzip or deflate
// Content-Encoding (the client asks for identity; some gateways ignore it).
func readBody(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponse {
		return nil, errors.New("response body over 1 MiB")
	}
	var r io.ReadCloser
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "", "identity":
		return b, nil
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(b))
	default:
		return nil, errors.New("response has an unknown Content-Encoding")
	}
	if err != nil {
		return nil, fmt.Errorf("decoding response: %w", err)
	}
	defer r.Close()
	d, err := io.ReadAll(io.LimitReader(r, maxResponse+1))
	if err != nil || len(d) > maxResponse {
		return nil, errors.New("decoding response: corrupt or over 1 MiB")
	}
	return d, nil
}
