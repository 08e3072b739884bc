package uploadtest

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// verdict is the answer to one request.
type verdict struct {
	status                int
	code, message, detail string
	retryAfter            string
	kind                  string // "nfcDocument" or "image" on success
	media                 *Media
	drop                  bool
}

func fail(status int, code, message, detail string) verdict {
	return verdict{status: status, code: code, message: message, detail: detail}
}

func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	rec := Request{
		Time:            time.Now(),
		SessionID:       r.PathValue("sessionId"),
		ContentEncoding: strings.Join(r.Header.Values("Content-Encoding"), ", "),
		Signature:       r.Header.Get("X-HMAC-SIGNATURE"),
	}
	v := s.handle(w, r, &rec)
	if v.drop {
		s.record(rec)
		s.log(rec)
		drop(w)
		return
	}
	rec.Status, rec.Code = v.status, v.code
	s.record(rec)
	s.log(rec)
	s.reply(w, v)
}

// handle runs the checks in the order the package documentation gives.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, rec *Request) verdict {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(http.StatusMethodNotAllowed, "", "Method not allowed", "")
	}
	if !validSessionID(rec.SessionID) {
		return fail(http.StatusNotFound, "", "Session not found", "session ID is not a UUID")
	}
	wire, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	rec.WireBytes = len(wire)
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return fail(http.StatusRequestEntityTooLarge, "", "Payload too large", "")
		}
		return fail(http.StatusBadRequest, "1101", "Validation failed", "could not read the body")
	}
	if f, ok := s.nextFault(); ok {
		rec.Fault = true
		if v, done := s.fault(r.Context(), f); done {
			return v
		}
	}
	if v, ok := s.checkHeaders(r); !ok {
		return v
	}
	body, v, ok := s.decode(r.Header.Get("Content-Encoding"), wire)
	if !ok {
		return v
	}
	rec.Body = body
	if v, ok := s.checkSignature(r, body); !ok {
		return v
	}
	switch exists, submitted := s.sessionState(rec.SessionID); {
	case !exists:
		return fail(http.StatusNotFound, "", "Session not found", "")
	case submitted:
		return fail(http.StatusConflict, "", "Session already submitted", "")
	}
	return s.store(r, rec.SessionID, body)
}

// fault applies f; done is false when only a delay was asked for.
func (s *Server) fault(ctx context.Context, f Fault) (v verdict, done bool) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return verdict{drop: true}, true
		}
	}
	switch {
	case f.Drop:
		return verdict{drop: true}, true
	case f.Status != 0:
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(f.Status)
		}
		v := fail(f.Status, f.Code, msg, "")
		v.retryAfter = f.RetryAfter
		return v, true
	}
	return verdict{}, false
}

// checkHeaders checks X-AUTH-CLIENT, Content-Type and Content-Encoding.
func (s *Server) checkHeaders(r *http.Request) (verdict, bool) {
	keys := r.Header.Values("X-AUTH-CLIENT")
	switch {
	case len(keys) == 0 || keys[0] == "":
		return fail(http.StatusUnauthorized, "1801", "Mandatory X-AUTH-CLIENT header containing the API key is missing from the request", ""), false
	case len(keys) > 1 || subtle.ConstantTimeCompare([]byte(keys[0]), []byte(s.cfg.Key)) != 1:
		return fail(http.StatusUnauthorized, "1803", "Integration with the API key was not found", ""), false
	}
	ct := r.Header.Values("Content-Type")
	mt, params, err := mime.ParseMediaType(strings.Join(ct, ","))
	if len(ct) != 1 || err != nil || mt != "application/json" || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return fail(http.StatusUnsupportedMediaType, "", "Unsupported Media Type", "Content-Type must be application/json"), false
	}
	ce := r.Header.Values("Content-Encoding")
	if len(ce) > 1 || len(ce) == 1 && !oneOf(strings.ToLower(strings.TrimSpace(ce[0])), "gzip", "deflate", "identity") {
		return fail(http.StatusUnsupportedMediaType, "", "Unsupported Media Type", "Content-Encoding must be one of gzip, deflate, identity"), false
	}
	return verdict{}, true
}

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// decode undoes the Content-Encoding, bounded by MaxBodyBytes.
func (s *Server) decode(enc string, wire []byte) ([]byte, verdict, bool) {
	enc = strings.ToLower(strings.TrimSpace(enc))
	if enc == "" || enc == "identity" {
		return wire, verdict{}, true
	}
	body, err := s.inflate(enc, wire)
	if err != nil && enc == "deflate" && s.cfg.AcceptRawDeflate && !errors.Is(err, errTooLarge) {
		body, err = readLimited(flate.NewReader(bytes.NewReader(wire)), s.cfg.MaxBodyBytes)
	}
	switch {
	case errors.Is(err, errTooLarge):
		return nil, fail(http.StatusRequestEntityTooLarge, "", "Payload too large", "decoded body too large"), false
	case err != nil:
		return nil, fail(http.StatusBadRequest, "1101", "Validation failed", "body does not match Content-Encoding "+enc), false
	}
	return body, verdict{}, true
}

var errTooLarge = errors.New("too large")

// inflate decodes gzip (RFC 1952) or deflate as zlib (RFC 1950) and
// rejects bytes after the end of the stream.
func (s *Server) inflate(enc string, wire []byte) ([]byte, error) {
	br := bytes.NewReader(wire)
	var r io.ReadCloser
	var err error
	if enc == "gzip" {
		r, err = gzip.NewReader(br) // multistream: trailing garbage fails as a bad header
	} else {
		r, err = zlib.NewReader(br) // checks the header and the Adler-32 trailer
	}
	if err != nil {
		return nil, err
	}
	body, err := readLimited(r, s.cfg.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	if br.Len() != 0 {
		return nil, errors.New("data after the end of the stream")
	}
	return body, r.Close()
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// checkSignature requires 64 lower-case hex digits equal to the HMAC-SHA256
// of the decoded body.
func (s *Server) checkSignature(r *http.Request, body []byte) (verdict, bool) {
	sigs := r.Header.Values("X-HMAC-SIGNATURE")
	if len(sigs) != 1 || !lowerHex64(sigs[0]) {
		return fail(http.StatusUnauthorized, "1812", "Signature is not a valid SHA256 hash", ""), false
	}
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(sigs[0]), []byte(want)) != 1 {
		return fail(http.StatusUnauthorized, "1819", "Signature does not match the HMAC-SHA256 of request body and integration API secret", ""), false
	}
	return verdict{}, true
}

func lowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// reply writes v as JSON and signs it.
func (s *Server) reply(w http.ResponseWriter, v verdict) {
	var body []byte
	if v.media != nil {
		body, _ = json.Marshal(map[string]any{"status": "success", v.kind: v.media})
	} else {
		e := struct {
			Status  string `json:"status"`
			Code    string `json:"code,omitempty"`
			Message string `json:"message"`
			Error   string `json:"error,omitempty"`
		}{"fail", v.code, v.message, v.detail}
		body, _ = json.Marshal(e)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if !s.cfg.UnsignedResponses {
		m := hmac.New(sha256.New, s.cfg.ResponseSecret)
		m.Write(body)
		h.Set("X-HMAC-SIGNATURE", hex.EncodeToString(m.Sum(nil)))
	}
	if v.retryAfter != "" {
		h.Set("Retry-After", v.retryAfter)
	}
	w.WriteHeader(v.status)
	_, _ = w.Write(body)
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	// HTTP/2 cannot be hijacked; net/http's documented way to abort a
	// response is this sentinel panic, which it recovers without logging.
	panic(http.ErrAbortHandler)
}

func (s *Server) log(rec Request) {
	if s.cfg.Logger == nil {
		return
	}
	s.cfg.Logger.Info("uploadtest: request", "session", rec.SessionID, "encoding", rec.ContentEncoding,
		"wire_bytes", rec.WireBytes, "body_bytes", len(rec.Body), "status", rec.Status, "code", rec.Code, "fault", rec.Fault)
}
