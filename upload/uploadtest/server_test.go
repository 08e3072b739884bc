package uploadtest_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

const (
	key    = "test-key"
	secret = "test-secret"
)

func sign(s, body string) string {
	m := hmac.New(sha256.New, []byte(s))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func nfcBody(com, sod, dg1, dg2 []byte) string {
	b := base64.StdEncoding.EncodeToString
	return `{"nfcDocuments":{"com":"` + b(com) + `","sod":"` + b(sod) + `","dg1":"` + b(dg1) + `","dg2":"` + b(dg2) + `"}}`
}

func goodNFC() string {
	return nfcBody([]byte{0x60, 1, 2}, []byte{0x77, 3, 4}, []byte{0x61, 5}, append([]byte{0x75}, bytes.Repeat([]byte{9}, 100)...))
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

func zl(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

func rawDeflate(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

// req is one raw request; zero fields take valid defaults.
type req struct {
	method, path, contentType string
	headers                   http.Header // added to (or, with empty values, removing) the defaults
	body                      string      // decoded body; "" = goodNFC()
	wire                      *string     // body as sent; nil = body
	signature                 *string     // nil = valid over body
}

func (r req) do(t *testing.T, h http.Handler, session string) *httptest.ResponseRecorder {
	t.Helper()
	if r.body == "" {
		r.body = goodNFC()
	}
	wire := r.body
	if r.wire != nil {
		wire = *r.wire
	}
	method, path := r.method, r.path
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = "/v1/sessions/" + session + "/media"
	}
	hr := httptest.NewRequest(method, path, strings.NewReader(wire))
	hr.Header.Set("X-AUTH-CLIENT", key)
	hr.Header.Set("Content-Type", "application/json")
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	sig := sign(secret, r.body)
	if r.signature != nil {
		sig = *r.signature
	}
	hr.Header.Set("X-HMAC-SIGNATURE", sig)
	for k, vs := range r.headers {
		hr.Header.Del(k)
		for _, v := range vs {
			if v != "" {
				hr.Header.Add(k, v)
			}
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, hr)
	return w
}

func ptr(s string) *string { return &s }

func TestServerContract(t *testing.T) {
	body := goodNFC()
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name       string
		cfg        uploadtest.Config
		req        req
		submitted  bool
		unknown    bool
		wantStatus int
		wantCode   string
	}{
		{name: "identity", req: req{}, wantStatus: 200},
		{name: "explicit identity", req: req{headers: http.Header{"Content-Encoding": {"identity"}}}, wantStatus: 200},
		{name: "gzip", req: req{wire: ptr(gz(body)), headers: http.Header{"Content-Encoding": {"gzip"}}}, wantStatus: 200},
		{name: "GZIP is case-insensitive", req: req{wire: ptr(gz(body)), headers: http.Header{"Content-Encoding": {"GZIP"}}}, wantStatus: 200},
		{name: "deflate as zlib", req: req{wire: ptr(zl(body)), headers: http.Header{"Content-Encoding": {"deflate"}}}, wantStatus: 200},
		{name: "raw deflate is refused by a strict server", req: req{wire: ptr(rawDeflate(body)), headers: http.Header{"Content-Encoding": {"deflate"}}}, wantStatus: 400, wantCode: "1101"},
		{name: "raw deflate where configured", cfg: uploadtest.Config{AcceptRawDeflate: true}, req: req{wire: ptr(rawDeflate(body)), headers: http.Header{"Content-Encoding": {"deflate"}}}, wantStatus: 200},
		{name: "gzip label on a plain body", req: req{headers: http.Header{"Content-Encoding": {"gzip"}}}, wantStatus: 400, wantCode: "1101"},
		{name: "zlib body labelled gzip", req: req{wire: ptr(zl(body)), headers: http.Header{"Content-Encoding": {"gzip"}}}, wantStatus: 400, wantCode: "1101"},
		{name: "gzip with trailing garbage", req: req{wire: ptr(gz(body) + "xx"), headers: http.Header{"Content-Encoding": {"gzip"}}}, wantStatus: 400, wantCode: "1101"},
		{name: "zlib with trailing garbage", req: req{wire: ptr(zl(body) + "xx"), headers: http.Header{"Content-Encoding": {"deflate"}}}, wantStatus: 400, wantCode: "1101"},
		{name: "truncated gzip", req: req{wire: ptr(gz(body)[:40]), headers: http.Header{"Content-Encoding": {"gzip"}}}, wantStatus: 400, wantCode: "1101"},
		{name: "br", req: req{headers: http.Header{"Content-Encoding": {"br"}}}, wantStatus: 415},
		{name: "combined values", req: req{wire: ptr(gz(body)), headers: http.Header{"Content-Encoding": {"gzip, identity"}}}, wantStatus: 415},
		{name: "two headers", req: req{wire: ptr(gz(body)), headers: http.Header{"Content-Encoding": {"gzip", "identity"}}}, wantStatus: 415},
		{name: "x-gzip", req: req{wire: ptr(gz(body)), headers: http.Header{"Content-Encoding": {"x-gzip"}}}, wantStatus: 415},
		{name: "text/plain", req: req{contentType: "text/plain"}, wantStatus: 415},
		{name: "json with utf-8 charset", req: req{contentType: "application/json; charset=utf-8"}, wantStatus: 200},
		{name: "no API key", req: req{headers: http.Header{"X-Auth-Client": {""}}}, wantStatus: 401, wantCode: "1801"},
		{name: "wrong API key", req: req{headers: http.Header{"X-Auth-Client": {"other"}}}, wantStatus: 401, wantCode: "1803"},
		{name: "signature over the compressed body", req: req{wire: ptr(gz(body)), headers: http.Header{"Content-Encoding": {"gzip"}}, signature: ptr(sign(secret, gz(body)))}, wantStatus: 401, wantCode: "1819"},
		{name: "upper-case signature", req: req{signature: ptr(strings.ToUpper(sign(secret, body)))}, wantStatus: 401, wantCode: "1812"},
		{name: "prefixed signature", req: req{signature: ptr("sha256=" + sign(secret, body))}, wantStatus: 401, wantCode: "1812"},
		{name: "wrong secret", req: req{signature: ptr(sign("other", body))}, wantStatus: 401, wantCode: "1819"},
		{name: "no signature", req: req{headers: http.Header{"X-Hmac-Signature": {""}}}, wantStatus: 401, wantCode: "1812"},
		{name: "unknown session", unknown: true, wantStatus: 404},
		{name: "unknown session is created in sandbox mode", unknown: true, cfg: uploadtest.Config{AutoCreateSessions: true}, wantStatus: 200},
		{name: "submitted session", submitted: true, wantStatus: 409},
		{name: "not a UUID", req: req{path: "/v1/sessions/abc/media"}, wantStatus: 404},
		{name: "GET", req: req{method: http.MethodGet}, wantStatus: 405},
		{name: "other path", req: req{path: "/v1/sessions"}, wantStatus: 404},
		{name: "dg2 missing", req: req{body: `{"nfcDocuments":{"com":"YA==","sod":"dw==","dg1":"YQ=="}}`}, wantStatus: 400, wantCode: "1410"},
		{name: "unpadded base64", req: req{body: `{"nfcDocuments":{"com":"YA","sod":"dw==","dg1":"YQ==","dg2":"dQ=="}}`}, wantStatus: 400, wantCode: "1410"},
		{name: "url-safe base64", req: req{body: nfcBody([]byte{0x60}, []byte{0x77, 0xfb, 0xff}, []byte{0x61}, []byte{0x75})}, wantStatus: 200},
		{name: "url-safe alphabet refused", req: req{body: strings.Replace(nfcBody([]byte{0x60}, []byte{0x77, 0xfb, 0xff}, []byte{0x61}, []byte{0x75}), "d/v/", "d_v_", 1)}, wantStatus: 400, wantCode: "1410"},
		{name: "files swapped", req: req{body: nfcBody([]byte{0x60}, []byte{0x61}, []byte{0x77}, []byte{0x75})}, wantStatus: 400, wantCode: "1410"},
		{name: "number instead of string", req: req{body: `{"nfcDocuments":{"com":1,"sod":"dw==","dg1":"YQ==","dg2":"dQ=="}}`}, wantStatus: 400, wantCode: "1410"},
		{name: "unknown NFC field", req: req{body: `{"nfcDocuments":{"com":"YA==","sod":"dw==","dg1":"YQ==","dg2":"dQ==","dg14":"bg=="}}`}, wantStatus: 400, wantCode: "1101"},
		{name: "unknown top-level field", req: req{body: `{"nfcDocuments":{"com":"YA==","sod":"dw==","dg1":"YQ==","dg2":"dQ=="},"x":1}`}, wantStatus: 400, wantCode: "1101"},
		{name: "not JSON", req: req{body: `nfc`}, wantStatus: 400, wantCode: "1101"},
		{name: "over the NFC limit", cfg: uploadtest.Config{MaxNFCBytes: 100}, wantStatus: 400, wantCode: "1412"},
		{name: "at the NFC limit", cfg: uploadtest.Config{MaxNFCBytes: len("YAEC") + len("dwME") + len("YQU=") + len(b64(append([]byte{0x75}, bytes.Repeat([]byte{9}, 100)...)))}, wantStatus: 200},
		{name: "body over MaxBodyBytes", cfg: uploadtest.Config{MaxBodyBytes: 50}, wantStatus: 413},
		{name: "decoded body over MaxBodyBytes", cfg: uploadtest.Config{MaxBodyBytes: 150}, req: req{body: nfcBody([]byte{0x60}, []byte{0x77}, []byte{0x61}, append([]byte{0x75}, make([]byte, 400)...)), wire: ptr(gz(nfcBody([]byte{0x60}, []byte{0x77}, []byte{0x61}, append([]byte{0x75}, make([]byte, 400)...)))), headers: http.Header{"Content-Encoding": {"gzip"}}}, wantStatus: 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Key, tc.cfg.Secret = key, []byte(secret)
			s := uploadtest.New(tc.cfg)
			session := s.NewSession()
			if tc.unknown {
				session = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
			}
			if tc.submitted {
				require.NoError(t, s.SubmitSession(session))
			}
			w := tc.req.do(t, s.Handler(), session)
			assert.Equal(t, tc.wantStatus, w.Code, w.Body.String())
			var got struct {
				Status, Code string
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			assert.Equal(t, tc.wantCode, got.Code)
			assert.Equal(t, sign(secret, w.Body.String()), w.Header().Get("X-HMAC-SIGNATURE"), "response signed")
			if tc.wantStatus == 200 {
				assert.Equal(t, "success", got.Status)
				assert.Len(t, s.Uploads(), 1)
			} else {
				assert.Equal(t, "fail", got.Status)
				assert.Empty(t, s.Uploads())
			}
		})
	}
}

func TestServerImage(t *testing.T) {
	sof := func(w, h int) string {
		var b bytes.Buffer
		require.NoError(t, jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)), nil))
		return b.String()
	}
	img := func(ctx, mime, data, extra string) string {
		return `{"image":{"context":"` + ctx + `","content":"data:` + mime + `;base64,` + base64.StdEncoding.EncodeToString([]byte(data)) + `"` + extra + `}}`
	}
	tests := []struct {
		name       string
		body       string
		wantStatus int
	}{
		{name: "jpeg", body: img("face", "image/jpeg", sof(640, 480), ""), wantStatus: 200},
		{name: "with timestamp", body: img("face", "image/jpeg", sof(640, 480), `,"timestamp":"2024-01-02T03:04:05.123Z"`), wantStatus: 200},
		{name: "bad timestamp", body: img("face", "image/jpeg", sof(640, 480), `,"timestamp":"yesterday"`), wantStatus: 400},
		{name: "too wide", body: img("face", "image/jpeg", sof(1921, 480), ""), wantStatus: 400},
		{name: "declared png, is jpeg", body: img("face", "image/png", sof(640, 480), ""), wantStatus: 400},
		{name: "gif", body: img("face", "image/gif", "GIF89a", ""), wantStatus: 400},
		{name: "no context", body: img("", "image/jpeg", sof(640, 480), ""), wantStatus: 400},
		{name: "unknown field", body: img("face", "image/jpeg", sof(640, 480), `,"x":1`), wantStatus: 400},
		{name: "pdf not enabled", body: img("document-front", "application/pdf", "%PDF-1.7", ""), wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := uploadtest.New(uploadtest.Config{Key: key, Secret: []byte(secret)})
			w := req{body: tc.body}.do(t, s.Handler(), s.NewSession())
			assert.Equal(t, tc.wantStatus, w.Code, w.Body.String())
			if tc.wantStatus == 200 {
				var got struct {
					Image uploadtest.Media `json:"image"`
				}
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
				assert.Equal(t, "image/jpeg", got.Image.MIMEType)
				assert.Equal(t, "face", got.Image.Context)
				assert.Nil(t, got.Image.Timestamp)
			}
		})
	}
}

func TestServerFaultsAndRecords(t *testing.T) {
	s := uploadtest.New(uploadtest.Config{Key: key, Secret: []byte(secret)})
	require.NoError(t, s.Start(""))
	defer s.Close()
	session := s.NewSession()
	s.Inject(uploadtest.Fault{Status: 500}, uploadtest.Fault{Drop: true}, uploadtest.Fault{Status: 429, RetryAfter: "3", Code: "9"})
	post := func() (*http.Response, error) {
		r, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/sessions/"+session+"/media", strings.NewReader(goodNFC()))
		r.Header.Set("X-AUTH-CLIENT", key)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-HMAC-SIGNATURE", sign(secret, goodNFC()))
		return http.DefaultClient.Do(r)
	}
	resp, err := post()
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	resp.Body.Close()
	_, err = post()
	require.Error(t, err, "dropped")
	resp, err = post()
	require.NoError(t, err)
	assert.Equal(t, 429, resp.StatusCode)
	assert.Equal(t, "3", resp.Header.Get("Retry-After"))
	resp.Body.Close()
	resp, err = post()
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, string(b))

	reqs := s.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, []int{500, 0, 429, 200}, []int{reqs[0].Status, reqs[1].Status, reqs[2].Status, reqs[3].Status})
	assert.True(t, reqs[1].Fault)
	assert.Equal(t, goodNFC(), string(reqs[3].Body))
	assert.Len(t, s.Uploads(), 1)
	assert.Positive(t, s.Connections())
}
