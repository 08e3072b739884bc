package kiosk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/openapitest"
)

// loadSpec loads and validates openapi.yaml with kin-openapi.
func loadSpec(t *testing.T) *openapitest.Spec {
	t.Helper()
	s, err := openapitest.Load("openapi.yaml")
	require.NoError(t, err)
	return s
}

// operations returns the documented operations, "GET /v1/reads/{id}", with
// their documented statuses.
func operations(s *openapitest.Spec) map[string][]string {
	ops := map[string][]string{}
	for path, item := range s.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			var statuses []string
			for status := range op.Responses.Map() {
				statuses = append(statuses, status)
			}
			ops[method+" "+path] = statuses
		}
	}
	return ops
}

// scenario makes the server answer one documented status.
type scenario struct {
	op     string // "GET /v1/reads/{id}"
	status int
	req    func() *http.Request
	err    error // the fake service's error
	// paired, if set, builds the request from a pairing code that the
	// handler under test issued.
	paired func(code string) *http.Request
}

func scenarios() []scenario {
	noToken := func(m, p string) func() *http.Request {
		return func() *http.Request { r := newRequest(m, p, ""); r.Header.Del("Authorization"); return r }
	}
	foreign := func(m, p string) func() *http.Request {
		return func() *http.Request {
			r := newRequest(m, p, "")
			r.Header.Set("Origin", "https://evil.example")
			return r
		}
	}
	plain := func(m, p, body string) func() *http.Request {
		return func() *http.Request { return newRequest(m, p, body) }
	}
	good := mustJSON(validRead())
	var out []scenario
	for _, op := range []struct{ method, tmpl, path string }{
		{"GET", "/v1/readers", "/v1/readers"}, {"POST", "/v1/reads", "/v1/reads"}, {"GET", "/v1/reads", "/v1/reads"}, {"GET", "/v1/reads/{id}", "/v1/reads/r1"},
		{"DELETE", "/v1/reads/{id}", "/v1/reads/r1"}, {"GET", "/v1/reads/{id}/events", "/v1/reads/r1/events"}, {"GET", "/metrics", "/metrics"},
		{"GET", "/v1/readers/events", "/v1/readers/events"}, {"POST", "/v1/pairings", "/v1/pairings"},
	} {
		name := op.method + " " + op.tmpl
		out = append(out, scenario{op: name, status: 401, req: noToken(op.method, op.path)},
			scenario{op: name, status: 403, req: foreign(op.method, op.path)})
	}
	return append(out,
		scenario{op: "GET /v1/health", status: 200, req: noToken("GET", "/v1/health")},
		scenario{op: "GET /v1/health", status: 403, req: func() *http.Request { r := newRequest("GET", "/v1/health", ""); r.Host = "evil.example"; return r }},
		scenario{op: "GET /v1/readers", status: 200, req: plain("GET", "/v1/readers", "")},
		scenario{op: "GET /v1/readers", status: 503, req: plain("GET", "/v1/readers", ""), err: ErrPCSCUnavailable},
		scenario{op: "POST /v1/reads", status: 202, req: plain("POST", "/v1/reads", good)},
		scenario{op: "POST /v1/reads", status: 400, req: plain("POST", "/v1/reads", `{}`)},
		scenario{op: "POST /v1/reads", status: 404, req: plain("POST", "/v1/reads", good), err: ErrReaderNotFound},
		scenario{op: "POST /v1/reads", status: 409, req: plain("POST", "/v1/reads", good), err: ErrReaderBusy},
		scenario{op: "POST /v1/reads", status: 415, req: func() *http.Request {
			r := newRequest("POST", "/v1/reads", good)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}},
		scenario{op: "POST /v1/reads", status: 503, req: plain("POST", "/v1/reads", good), err: ErrUploadUnavailable},
		scenario{op: "GET /v1/reads", status: 200, req: plain("GET", "/v1/reads", "")},
		scenario{op: "GET /v1/reads/{id}", status: 200, req: plain("GET", "/v1/reads/r1", "")},
		scenario{op: "GET /v1/reads/{id}", status: 404, req: plain("GET", "/v1/reads/nope", "")},
		scenario{op: "DELETE /v1/reads/{id}", status: 200, req: plain("DELETE", "/v1/reads/r1", "")},
		scenario{op: "DELETE /v1/reads/{id}", status: 404, req: plain("DELETE", "/v1/reads/nope", "")},
		scenario{op: "DELETE /v1/reads/{id}", status: 409, req: plain("DELETE", "/v1/reads/r1", ""), err: ErrNotCancelable},
		scenario{op: "GET /v1/reads/{id}/events", status: 200, req: plain("GET", "/v1/reads/r1/events", "")},
		scenario{op: "GET /v1/reads/{id}/events", status: 204, req: func() *http.Request {
			r := newRequest("GET", "/v1/reads/r1/events", "")
			r.Header.Set("Last-Event-ID", "3")
			return r
		}},
		scenario{op: "GET /v1/reads/{id}/events", status: 404, req: plain("GET", "/v1/reads/nope/events", "")},
		scenario{op: "GET /v1/readers/events", status: 200, req: func() *http.Request {
			r := newRequest("GET", "/v1/readers/events", "")
			ctx, cancel := context.WithTimeout(r.Context(), 100*time.Millisecond)
			_ = cancel // ends with the deadline: the stream lasts while the client stays
			return r.WithContext(ctx)
		}},
		scenario{op: "POST /v1/pairings", status: 201, req: plain("POST", "/v1/pairings", "")},
		scenario{op: "POST /v1/pair", status: 200, paired: func(code string) *http.Request {
			r := newRequest("POST", "/v1/pair", `{"code":"`+code+`"}`)
			r.Header.Del("Authorization")
			return r
		}},
		scenario{op: "POST /v1/pair", status: 400, req: plain("POST", "/v1/pair", `{"code":1}`)},
		scenario{op: "POST /v1/pair", status: 401, req: plain("POST", "/v1/pair", `{"code":"0123"}`)},
		scenario{op: "POST /v1/pair", status: 403, req: foreign("POST", "/v1/pair")},
		scenario{op: "GET /", status: 200, req: noToken("GET", "/")},
		scenario{op: "GET /", status: 403, req: func() *http.Request { r := httptest.NewRequest("GET", "/", nil); r.Host = "evil.example"; return r }},
		scenario{op: "GET /ui/{name}", status: 200, req: noToken("GET", "/ui/client.js")},
		scenario{op: "GET /ui/{name}", status: 404, req: noToken("GET", "/ui/nope.js")},
		scenario{op: "GET /metrics", status: 200, req: plain("GET", "/metrics", "")},
	)
}

// TestOpenAPI checks openapi.yaml against the server with kin-openapi: the
// documented operations are exactly the routes served, every documented
// status is answered (and no other), and every answer (each event of a
// stream) matches its schema.
func TestOpenAPI(t *testing.T) {
	s := loadSpec(t)
	ops := operations(s)

	var served []string
	for _, rt := range routes(newFakeAPI(), &HandlerConfig{Metrics: http.NotFoundHandler(), UI: true}) {
		served = append(served, rt.method+" "+strings.TrimSuffix(rt.path, "{$}")) // ServeMux's "exactly /"
	}
	documented := make([]string, 0, len(ops))
	for op := range ops {
		documented = append(documented, op)
	}
	sort.Strings(served)
	sort.Strings(documented)
	require.Equal(t, served, documented, "routes served vs operations documented")

	seen := map[string]bool{}
	for _, sc := range scenarios() {
		t.Run(fmt.Sprintf("%s %d", sc.op, sc.status), func(t *testing.T) {
			api := newFakeAPI()
			api.err = sc.err
			h := newTestHandler(t, api)
			var req *http.Request
			if sc.paired != nil {
				var p Pairing
				require.NoError(t, json.Unmarshal(serve(h, newRequest("POST", "/v1/pairings", "")).Body.Bytes(), &p))
				req = sc.paired(p.Code)
			} else {
				req = sc.req()
			}
			rec := serve(h, req)
			require.Equal(t, sc.status, rec.Code, "body %s", rec.Body)
			op, err := s.Operation(req)
			require.NoError(t, err)
			require.Equal(t, sc.op, op)
			seen[sc.op+" "+fmt.Sprint(rec.Code)] = true
			assert.NoError(t, s.CheckResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()))
		})
	}
	for name, statuses := range ops {
		for _, status := range statuses {
			assert.True(t, seen[name+" "+status], "%s %s is documented but no scenario makes the server answer it", name, status)
		}
	}
}

// TestOpenAPIErrorCodes: the documented error codes are the Code constants.
func TestOpenAPIErrorCodes(t *testing.T) {
	s := loadSpec(t)
	var doc []string
	for _, c := range s.Doc.Components.Schemas["Error"].Value.Properties["code"].Value.Extensions["x-extensible-enum"].([]any) {
		doc = append(doc, c.(string))
	}
	b, err := os.ReadFile("errors.go")
	require.NoError(t, err)
	var consts []string
	for _, line := range strings.Split(string(b), "\n") {
		if _, rest, ok := strings.Cut(line, " Code = \""); ok {
			consts = append(consts, strings.SplitN(rest, `"`, 2)[0])
		}
	}
	assert.ElementsMatch(t, consts, doc)
	var states []string
	for _, v := range s.Doc.Components.Schemas["State"].Value.Enum {
		states = append(states, v.(string))
	}
	assert.Equal(t, []string{"waiting_for_card", "authenticating", "reading", "uploading", "queued", "done", "failed", "canceled"}, states)
}
