package upload

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// Errors found before any network I/O. They are wrapped with context; test
// them with [errors.Is].
var (
	// ErrInsecureURL means the API URL is neither https nor plain http to a
	// loopback IP address, or carries user information, a query or a fragment.
	ErrInsecureURL = errors.New("insecure API URL: use https:// (http:// is allowed only for loopback addresses such as 127.0.0.1)")
	// ErrInvalidSessionID means the session ID is not a UUID in its
	// canonical 36-character form.
	ErrInvalidSessionID = errors.New("session ID must be a UUID like 01234567-89ab-cdef-0123-456789abcdef")
	// ErrNoCredentials means the API key or the shared secret is missing or
	// unusable. The error names the field and the source, never the value.
	ErrNoCredentials = errors.New("API credentials missing or invalid")
	// ErrNFCFormat means an NFC file is empty or does not start with its LDS
	// tag (EF.COM 0x60, EF.SOD 0x77, DG1 0x61, DG2 0x75; 9303-10 §4.6).
	ErrNFCFormat = errors.New("NFC file missing or not an LDS file")
	// ErrImageFormat means an image is not JPEG, PNG, HEIF/HEIC, WebP or PDF,
	// its dimensions cannot be read, or its context is empty.
	ErrImageFormat = errors.New("unsupported or unreadable image")
	// ErrConfig means a Client field has an invalid value.
	ErrConfig = errors.New("invalid client configuration")
)

// Errors about a response.
var (
	// ErrResponseSignature means a response carried an X-HMAC-SIGNATURE that
	// matches neither secret, or a 2xx response had none while
	// [Client.RequireResponseSignature] is set. It is never retried: after a
	// 2xx the upload may have been stored.
	ErrResponseSignature = errors.New("response signature invalid")
	// ErrMalformedResponse means a 2xx response could not be read or had no
	// media object. The upload was probably stored; it is not resent.
	ErrMalformedResponse = errors.New("malformed response")
	// ErrUnanswered means the whole request was sent and no answer came
	// (the attempt's time ran out, or the connection broke): the vendor
	// may have stored the upload. The endpoint has no idempotency key, so
	// it is not resent.
	ErrUnanswered = errors.New("the upload was sent but no answer came; the vendor may have stored it")
)

// Conditions an [*APIError] matches with [errors.Is], so that callers (the
// daemon's error mapping) need not compare status codes.
var (
	// ErrUnauthorized matches a 401: the API key or the signature was rejected.
	ErrUnauthorized = errors.New("not authorized")
	// ErrSessionNotFound matches a 404: the vendor does not know the session.
	ErrSessionNotFound = errors.New("unknown session")
	// ErrSessionSubmitted matches a 409: the session was already submitted.
	ErrSessionSubmitted = errors.New("session already submitted")
	// ErrRejected matches any 400: the vendor's validation failed.
	ErrRejected = errors.New("upload rejected by validation")
	// ErrServer matches a 5xx.
	ErrServer = errors.New("vendor server error")
)

// APIError is a response of the vendor that is not a success. It keeps the
// HTTP status, the vendor's code, message and "error" detail (truncated,
// control characters removed), and whether retrying can help. Error never
// contains the request or any secret.
type APIError struct {
	Status    int    // HTTP status code
	Code      string // vendor code such as "1410"; "" if the body had none
	Message   string // vendor "message"
	Detail    string // vendor "error", e.g. which data group is missing
	Retryable bool   // true for 5xx and 429: the same request may succeed later
}

// Error reads like "session already submitted (409): uploads must happen
// before the session is submitted".
func (e *APIError) Error() string {
	short, hint := e.describe()
	var b strings.Builder
	b.WriteString(short)
	fmt.Fprintf(&b, " (%d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, ", code %s", e.Code)
	}
	b.WriteString(")")
	if hint != "" {
		b.WriteString(": " + hint)
	}
	if v := e.vendorText(); v != "" {
		fmt.Fprintf(&b, "; vendor says %q", v)
	}
	if e.Retryable {
		b.WriteString("; retrying later may help")
	}
	return b.String()
}

func (e *APIError) vendorText() string {
	switch {
	case e.Detail == "" || e.Detail == e.Message:
		return e.Message
	case e.Message == "":
		return e.Detail
	}
	return e.Message + ": " + e.Detail
}

func (e *APIError) describe() (short, hint string) {
	switch {
	case e.Status == http.StatusBadRequest && e.Code == "1410":
		return "NFC data rejected", "format invalid or a data group missing"
	case e.Status == http.StatusBadRequest && e.Code == "1412":
		return "NFC data rejected", "combined size over the vendor's limit"
	case e.Status == http.StatusBadRequest:
		return "validation failed", ""
	case e.Status == http.StatusUnauthorized:
		return "not authorized", "check the API key and the shared secret"
	case e.Status == http.StatusNotFound:
		return "unknown session", "check the session ID and the API URL"
	case e.Status == http.StatusConflict:
		return "session already submitted", "uploads must happen before the session is submitted"
	case e.Status == http.StatusRequestEntityTooLarge:
		return "payload too large", ""
	case e.Status == http.StatusUnsupportedMediaType:
		return "content encoding refused", "upload without compression"
	case e.Status == http.StatusTooManyRequests:
		return "rate limited", ""
	case e.Status >= 500:
		return "vendor server error", ""
	case e.Status >= 300 && e.Status < 400:
		return "unexpected redirect", "check the API URL; redirects are not followed"
	}
	return "unexpected response", ""
}

// Is reports whether e matches one of [ErrUnauthorized],
// [ErrSessionNotFound], [ErrSessionSubmitted], [ErrRejected] or [ErrServer].
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrSessionNotFound:
		return e.Status == http.StatusNotFound
	case ErrSessionSubmitted:
		return e.Status == http.StatusConflict
	case ErrRejected:
		return e.Status == http.StatusBadRequest
	case ErrServer:
		return e.Status >= 500
	}
	return false
}

// SizeError means a payload is over its size limit. It is returned before
// any network I/O.
type SizeError struct {
	Limit int // the largest allowed size in bytes
	Size  int // the size of the payload in bytes
}

// Error says by how much the payload is over the limit.
func (e *SizeError) Error() string {
	return fmt.Sprintf("payload is %d bytes of base64, over the %d-byte limit by %d bytes", e.Size, e.Limit, e.Size-e.Limit)
}

// DimensionError means an image's longer side is over the limit (1920 px by
// default). It is returned before any network I/O.
type DimensionError struct {
	Width, Height int // the image's size in pixels
	Limit         int // the largest allowed longer side in pixels
}

// Error names the size found and the limit.
func (e *DimensionError) Error() string {
	return fmt.Sprintf("image is %d×%d px; its longer side must be at most %d px", e.Width, e.Height, e.Limit)
}

// maxVendorText bounds the vendor text kept in an APIError.
const maxVendorText = 200

// cleanVendorText makes untrusted vendor text fit for a one-line error:
// control characters become spaces, runs of spaces collapse, and the result
// is cut to maxVendorText runes.
func cleanVendorText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxVendorText {
		s = string(r[:maxVendorText]) + "…"
	}
	return s
}
