package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const specimenMRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"

func newTestHandler(t testing.TB, api API) http.Handler {
	t.Helper()
	h, err := NewHandler(api, HandlerConfig{Token: testToken, AllowOrigins: []string{"https://kiosk.example.com", "http://127.0.0.1:3000"}, UI: true,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("# metrics\n")) })})
	require.NoError(t, err)
	return h
}

// errorCode decodes an error answer.
func errorOf(t *testing.T, body []byte) Error {
	t.Helper()
	var e errorBody
	require.NoError(t, json.Unmarshal(body, &e), "body %s", body)
	require.NotNil(t, e.Error, "body %s", body)
	return *e.Error
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func validRead() map[string]any {
	return map[string]any{"sessionId": "0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00", "mrz": specimenMRZ}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for a, b := range m {
		out[a] = b
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// TestSecurity checks what the guard and the token check refuse.
func TestSecurity(t *testing.T) {
	h := newTestHandler(t, newFakeAPI())
	for _, tc := range []struct {
		name     string
		req      func() *http.Request
		status   int
		code     Code
		checkHdr map[string]string
	}{
		{name: "no token", status: 401, code: CodeUnauthorized,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Header.Del("Authorization")
				return r
			}},
		{name: "bad token", status: 401, code: CodeUnauthorized,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Header.Set("Authorization", "Bearer "+strings.Repeat("0", len(testToken)))
				return r
			}},
		{name: "token prefix", status: 401, code: CodeUnauthorized,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Header.Set("Authorization", "Bearer "+testToken[:32])
				return r
			}},
		{name: "basic scheme", status: 401, code: CodeUnauthorized,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Header.Set("Authorization", "Basic "+testToken)
				return r
			}},
		{name: "token in query", status: 401, code: CodeUnauthorized,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers?access_token="+testToken+"&token="+testToken, "")
				r.Header.Del("Authorization")
				return r
			}},
		{name: "token on unknown path", status: 401, code: CodeUnauthorized,
			req: func() *http.Request { r := newRequest("GET", "/admin", ""); r.Header.Del("Authorization"); return r }},
		{name: "token ok", status: 200, req: func() *http.Request { return newRequest("GET", "/v1/readers", "") }},
		{name: "lower-case bearer", status: 200, req: func() *http.Request {
			r := newRequest("GET", "/v1/readers", "")
			r.Header.Set("Authorization", "bearer "+testToken)
			return r
		}},
		{name: "health needs no token", status: 200,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/health", "")
				r.Header.Del("Authorization")
				return r
			}},
		{name: "foreign host", status: 403, code: CodeForbidden,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Host = "attacker.example:8765"
				return r
			}},
		{name: "foreign host on health", status: 403, code: CodeForbidden,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/health", "")
				r.Host = "rebind.attacker.example"
				return r
			}},
		{name: "loopback host, wrong port", status: 403, code: CodeForbidden,
			req: func() *http.Request { r := newRequest("GET", "/v1/readers", ""); r.Host = "127.0.0.1:80"; return r }},
		{name: "host without port", status: 403, code: CodeForbidden,
			req: func() *http.Request { r := newRequest("GET", "/v1/readers", ""); r.Host = "localhost"; return r }},
		{name: "localhost host", status: 200,
			req: func() *http.Request { r := newRequest("GET", "/v1/readers", ""); r.Host = "LocalHost:8765"; return r }},
		{name: "ipv6 loopback host", status: 200,
			req: func() *http.Request { r := newRequest("GET", "/v1/readers", ""); r.Host = "[::1]:8765"; return r }},
		{name: "remote peer", status: 403, code: CodeForbidden,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.RemoteAddr = "198.51.100.7:40000"
				return r
			}},
		{name: "foreign origin", status: 403, code: CodeForbidden,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Header.Set("Origin", "https://attacker.example")
				return r
			}},
		{name: "null origin", status: 403, code: CodeForbidden,
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Header.Set("Origin", "null")
				return r
			}},
		{name: "foreign origin preflight", status: 403, code: CodeForbidden,
			req: func() *http.Request {
				r := newRequest("OPTIONS", "/v1/reads", "")
				r.Header.Del("Authorization")
				r.Header.Set("Origin", "https://kiosk.example.com.attacker.example")
				r.Header.Set("Access-Control-Request-Method", "POST")
				return r
			}},
		{name: "allowed origin", status: 200, checkHdr: map[string]string{"Access-Control-Allow-Origin": "https://kiosk.example.com", "Vary": "Origin"},
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Header.Set("Origin", "https://kiosk.example.com")
				return r
			}},
		{name: "allowed origin preflight with private network access", status: 204,
			checkHdr: map[string]string{"Access-Control-Allow-Origin": "http://127.0.0.1:3000", "Access-Control-Allow-Private-Network": "true",
				"Access-Control-Allow-Methods": corsMethods, "Access-Control-Allow-Headers": corsHeaders},
			req: func() *http.Request {
				r := newRequest("OPTIONS", "/v1/reads", "")
				r.Header.Del("Authorization")
				r.Header.Set("Origin", "http://127.0.0.1:3000")
				r.Header.Set("Access-Control-Request-Method", "POST")
				r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
				r.Header.Set("Access-Control-Request-Private-Network", "true")
				return r
			}},
		{name: "allowed origin still needs the token", status: 401, code: CodeUnauthorized,
			checkHdr: map[string]string{"Access-Control-Allow-Origin": "https://kiosk.example.com"},
			req: func() *http.Request {
				r := newRequest("GET", "/v1/readers", "")
				r.Header.Del("Authorization")
				r.Header.Set("Origin", "https://kiosk.example.com")
				return r
			}},
		{name: "oversize body", status: 400, code: CodeInvalidRequest,
			req: func() *http.Request {
				return newRequest("POST", "/v1/reads", mustJSON(with(validRead(), "reader", strings.Repeat("x", 20<<10))))
			}},
		{name: "malformed body", status: 400, code: CodeInvalidRequest,
			req: func() *http.Request { return newRequest("POST", "/v1/reads", `{"sessionId": "0b6e5a4c-`) }},
		{name: "two objects", status: 400, code: CodeInvalidRequest,
			req: func() *http.Request {
				return newRequest("POST", "/v1/reads", mustJSON(validRead())+mustJSON(validRead()))
			}},
		{name: "not JSON", status: 415, code: CodeUnsupportedMedia,
			req: func() *http.Request {
				r := newRequest("POST", "/v1/reads", mustJSON(validRead()))
				r.Header.Set("Content-Type", "text/plain")
				return r
			}},
		{name: "form post", status: 415, code: CodeUnsupportedMedia,
			req: func() *http.Request {
				r := newRequest("POST", "/v1/reads", "sessionId=x")
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r
			}},
		{name: "unknown path", status: 404, code: CodeNotFound, req: func() *http.Request { return newRequest("GET", "/v2/reads", "") }},
		{name: "wrong method", status: 405, code: CodeInvalidRequest, checkHdr: map[string]string{"Allow": "POST, GET"},
			req: func() *http.Request { return newRequest("PUT", "/v1/reads", "") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, tc.req())
			require.Equal(t, tc.status, rec.Code, "body %s", rec.Body)
			if tc.code != "" {
				assert.Equal(t, tc.code, errorOf(t, rec.Body.Bytes()).Code)
				assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
			}
			for k, v := range tc.checkHdr {
				assert.Equal(t, v, rec.Header().Get(k), "header %s", k)
			}
			if tc.status == 401 {
				assert.Equal(t, `Bearer realm="nfcbridge"`, rec.Header().Get("WWW-Authenticate"))
			}
			assert.NotContains(t, rec.Body.String(), testToken)
		})
	}
}

// TestUnixSocketAnyHost: on a Unix socket the Host is not checked (no
// browser can connect to one), the token still is.
func TestUnixSocketAnyHost(t *testing.T) {
	h := newTestHandler(t, newFakeAPI())
	for _, tc := range []struct {
		name   string
		token  bool
		status int
	}{
		{"with token", true, 200},
		{"without token", false, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest("GET", "/v1/readers", "")
			if !tc.token {
				r.Header.Del("Authorization")
			}
			r.Host = "anything.example"
			r.RemoteAddr = "@"
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.UnixAddr{Name: "/run/nfcbridge/api.sock", Net: "unix"}))
			rec := httptestRecorder(h, r)
			assert.Equal(t, tc.status, rec.Code)
		})
	}
}

// TestHealthLeaksNothing: health carries the status, the version and
// whether pcscd is up, and nothing about readers or reads.
func TestHealthLeaksNothing(t *testing.T) {
	api := newFakeAPI()
	h := newTestHandler(t, api)
	r := newRequest("GET", "/v1/health", "")
	r.Header.Del("Authorization")
	rec := serve(h, r)
	require.Equal(t, 200, rec.Code)
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
	assert.Equal(t, map[string]any{"status": "ok", "version": "test", "pcsc": "up"}, m)
}

func TestStartRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   any
		err    error // of the service
		status int
		code   Code
		field  string
	}{
		{name: "MRZ lines", body: validRead(), status: 202},
		{name: "MRZ lines separated by spaces", body: with(validRead(), "mrz", strings.ReplaceAll(specimenMRZ, "\n", " ")), status: 202},
		{name: "MRZ fields", body: with(validRead(), "mrz", map[string]any{"documentNumber": "L898902C3", "dateOfBirth": "740812", "dateOfExpiry": "120415"}), status: 202},
		{name: "read only", body: with(validRead(), "upload", false), status: 202},
		{name: "CAN", body: with(validRead(), "can", "123456"), status: 202},
		{name: "CAN without MRZ (ID card)", body: with(with(validRead(), "mrz", nil), "can", "123456"), status: 202},
		{name: "no session", body: with(validRead(), "sessionId", nil), status: 400, code: CodeInvalidRequest, field: "sessionId"},
		{name: "bad UUID", body: with(validRead(), "sessionId", "not-a-uuid"), status: 400, code: CodeInvalidRequest, field: "sessionId"},
		{name: "UUID without dashes", body: with(validRead(), "sessionId", "0b6e5a4c1f0e4a8a9d6f3f0e3c2b1a00"), status: 400, code: CodeInvalidRequest, field: "sessionId"},
		{name: "no MRZ", body: with(validRead(), "mrz", nil), status: 400, code: CodeInvalidRequest, field: "mrz"},
		{name: "MRZ check digit", body: with(validRead(), "mrz", strings.Replace(specimenMRZ, "L898902C36", "L898902C37", 1)), status: 400, code: CodeInvalidRequest, field: "mrz.documentNumber"},
		{name: "MRZ composite", body: with(validRead(), "mrz", strings.Replace(specimenMRZ, "<<<<<10", "<<<<<11", 1)), status: 400, code: CodeInvalidRequest, field: "mrz"},
		{name: "MRZ lower case", body: with(validRead(), "mrz", strings.ToLower(specimenMRZ)), status: 400, code: CodeInvalidRequest, field: "mrz"},
		{name: "MRZ one line", body: with(validRead(), "mrz", "P<UTOERIKSSON"), status: 400, code: CodeInvalidRequest, field: "mrz"},
		{name: "impossible birth date", body: with(validRead(), "mrz", map[string]any{"documentNumber": "L898902C3", "dateOfBirth": "741332", "dateOfExpiry": "120415"}),
			status: 400, code: CodeInvalidRequest, field: "mrz.dateOfBirth"},
		{name: "impossible expiry", body: with(validRead(), "mrz", map[string]any{"documentNumber": "L898902C3", "dateOfBirth": "740812", "dateOfExpiry": "120230"}),
			status: 400, code: CodeInvalidRequest, field: "mrz.dateOfExpiry"},
		{name: "bad document number", body: with(validRead(), "mrz", map[string]any{"documentNumber": "L89 8902", "dateOfBirth": "740812", "dateOfExpiry": "120415"}),
			status: 400, code: CodeInvalidRequest, field: "mrz.documentNumber"},
		{name: "MRZ object with unknown field", body: with(validRead(), "mrz", map[string]any{"documentNumber": "L898902C3", "dateOfBirth": "740812", "dateOfExpiry": "120415", "name": "x"}),
			status: 400, code: CodeInvalidRequest, field: "mrz.name"},
		{name: "MRZ number", body: with(validRead(), "mrz", 42), status: 400, code: CodeInvalidRequest, field: "mrz"},
		{name: "bad CAN", body: with(validRead(), "can", "12345"), status: 400, code: CodeInvalidRequest, field: "can"},
		{name: "upload not a boolean", body: with(validRead(), "upload", "yes"), status: 400, code: CodeInvalidRequest, field: "upload"},
		{name: "unknown field", body: with(validRead(), "session", "x"), status: 400, code: CodeInvalidRequest, field: "session"},
		{name: "control characters in reader", body: with(validRead(), "reader", "a\nb"), status: 400, code: CodeInvalidRequest, field: "reader"},
		{name: "reader busy", body: validRead(), err: ErrReaderBusy, status: 409, code: CodeReaderBusy},
		{name: "reader not found", body: validRead(), err: &Error{Code: CodeReaderNotFound, Field: "reader", Message: "x"}, status: 404, code: CodeReaderNotFound, field: "reader"},
		{name: "pcscd down", body: validRead(), err: ErrPCSCUnavailable, status: 503, code: CodePCSCUnavailable},
		{name: "no credentials", body: validRead(), err: ErrUploadUnavailable, status: 503, code: CodeUploadUnavailable},
		{name: "internal", body: validRead(), err: errors.New("secret detail"), status: 500, code: CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI()
			api.err = tc.err
			rec := serve(newTestHandler(t, api), newRequest("POST", "/v1/reads", mustJSON(tc.body)))
			require.Equal(t, tc.status, rec.Code, "body %s", rec.Body)
			if tc.status == 202 {
				assert.Equal(t, "/v1/reads/r2", rec.Header().Get("Location"))
				require.Len(t, api.started, 1)
				return
			}
			e := errorOf(t, rec.Body.Bytes())
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.field, e.Field)
			for _, secret := range []string{"L898902C3", "ERIKSSON", "740812", "120415", "secret detail"} {
				assert.NotContains(t, rec.Body.String(), secret)
			}
		})
	}
}

func TestReadEndpoints(t *testing.T) {
	api := newFakeAPI()
	h := newTestHandler(t, api)
	rec := serve(h, newRequest("GET", "/v1/reads/r1", ""))
	require.Equal(t, 200, rec.Code)
	var st Status
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
	assert.Equal(t, api.reads["r1"], st)
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

	rec = serve(h, newRequest("GET", "/v1/reads/nope", ""))
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, CodeNotFound, errorOf(t, rec.Body.Bytes()).Code)

	rec = serve(h, newRequest("DELETE", "/v1/reads/r1", ""))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, []string{"r1"}, api.canceled)
	api.err = ErrNotCancelable
	rec = serve(h, newRequest("DELETE", "/v1/reads/r1", ""))
	assert.Equal(t, 409, rec.Code)
	assert.Equal(t, CodeNotCancelable, errorOf(t, rec.Body.Bytes()).Code)
}

func TestEvents(t *testing.T) {
	api := newFakeAPI()
	h := newTestHandler(t, api)
	for _, tc := range []struct {
		name   string
		last   string
		status int
		ids    []string
	}{
		{name: "from the start", status: 200, ids: []string{"1", "2", "3"}},
		{name: "after Last-Event-ID", last: "1", status: 200, ids: []string{"2", "3"}},
		{name: "bad Last-Event-ID", last: "x", status: 200, ids: []string{"1", "2", "3"}},
		{name: "after the final event", last: "3", status: 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest("GET", "/v1/reads/r1/events", "")
			if tc.last != "" {
				r.Header.Set("Last-Event-ID", tc.last)
			}
			rec := serve(h, r)
			require.Equal(t, tc.status, rec.Code)
			if tc.status == 204 {
				assert.Empty(t, rec.Body.String())
				return
			}
			assert.Equal(t, "text/event-stream", rec.Header().Get("Content-Type"))
			var ids []string
			for _, line := range strings.Split(rec.Body.String(), "\n") {
				if id, ok := strings.CutPrefix(line, "id: "); ok {
					ids = append(ids, id)
				}
			}
			assert.Equal(t, tc.ids, ids)
			assert.Contains(t, rec.Body.String(), "event: state\ndata: {")
			assert.Contains(t, rec.Body.String(), "event: progress\ndata: {")
		})
	}
	rec := serve(h, newRequest("GET", "/v1/reads/nope/events", ""))
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
}

func TestNewHandlerConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     HandlerConfig
		wantErr bool
	}{
		{name: "ok", cfg: HandlerConfig{Token: testToken, AllowOrigins: []string{"https://a.example", "http://localhost:3000"}}},
		{name: "short token", cfg: HandlerConfig{Token: "short"}, wantErr: true},
		{name: "origin with path", cfg: HandlerConfig{Token: testToken, AllowOrigins: []string{"https://a.example/"}}, wantErr: true},
		{name: "null origin", cfg: HandlerConfig{Token: testToken, AllowOrigins: []string{"null"}}, wantErr: true},
		{name: "wildcard origin", cfg: HandlerConfig{Token: testToken, AllowOrigins: []string{"*"}}, wantErr: true},
		{name: "origin without scheme", cfg: HandlerConfig{Token: testToken, AllowOrigins: []string{"kiosk.example"}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHandler(newFakeAPI(), tc.cfg)
			assert.Equal(t, tc.wantErr, err != nil, "error %v", err)
		})
	}
}

// TestStrictBody checks that a body a validating proxy could read
// differently from the daemon is refused, naming the field.
func TestStrictBody(t *testing.T) {
	const session = `"0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00"`
	mrz := mustJSON(specimenMRZ)
	for _, tc := range []struct {
		name, body, field, says string
	}{
		{"duplicate key", `{"sessionId":` + session + `,"mrz":` + mrz + `,"upload":false,"upload":true}`, "upload", "twice"},
		{"duplicate key, same value", `{"sessionId":` + session + `,"sessionId":` + session + `,"mrz":` + mrz + `}`, "sessionId", "twice"},
		{"upper-case name", `{"SESSIONID":` + session + `,"mrz":` + mrz + `}`, "SESSIONID", "sessionId"},
		{"names differing in case", `{"sessionId":` + session + `,"sessionid":` + session + `,"mrz":` + mrz + `}`, "sessionid", "differ only in case"},
		{"duplicate in mrz", `{"sessionId":` + session + `,"mrz":{"documentNumber":"L898902C3","dateOfBirth":"740812","dateOfExpiry":"120415","dateOfBirth":"740812"}}`, "mrz.dateOfBirth", "twice"},
		{"miscased in mrz", `{"sessionId":` + session + `,"mrz":{"DocumentNumber":"L898902C3","dateOfBirth":"740812","dateOfExpiry":"120415"}}`, "mrz.DocumentNumber", "mrz.documentNumber"},
		{"array", `[` + session + `]`, "", "must be a JSON object"},
		{"string", session, "", "not a string"},
		{"null", `null`, "", "not null"},
		{"number", `42`, "", "not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI()
			rec := serve(newTestHandler(t, api), newRequest("POST", "/v1/reads", tc.body))
			require.Equal(t, 400, rec.Code, "body %s", rec.Body)
			e := errorOf(t, rec.Body.Bytes())
			assert.Equal(t, CodeInvalidRequest, e.Code)
			assert.Equal(t, tc.field, e.Field)
			assert.Contains(t, e.Message, tc.says)
			assert.NotContains(t, rec.Body.String(), "L898902C3")
			assert.NotContains(t, rec.Body.String(), "0b6e5a4c")
			assert.Empty(t, api.started)
		})
	}
}
