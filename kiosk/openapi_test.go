package kiosk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// spec is the part of an OpenAPI 3 document the test checks.
type spec struct {
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Schemas   map[string]*schema `yaml:"schemas"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema *schema `yaml:"schema"`
			} `yaml:"content"`
		} `yaml:"responses"`
	} `yaml:"components"`
}

type operation struct {
	Responses map[string]struct {
		Ref     string `yaml:"$ref"`
		Content map[string]struct {
			Schema *schema `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"responses"`
}

// schema is the JSON Schema subset the document uses.
type schema struct {
	Ref                  string             `yaml:"$ref"`
	Type                 string             `yaml:"type"`
	Format               string             `yaml:"format"`
	Required             []string           `yaml:"required"`
	Properties           map[string]*schema `yaml:"properties"`
	AdditionalProperties yaml.Node          `yaml:"additionalProperties"`
	Items                *schema            `yaml:"items"`
	Enum                 []string           `yaml:"enum"`
	OneOf                []*schema          `yaml:"oneOf"`
	Minimum              *float64           `yaml:"minimum"`
	Maximum              *float64           `yaml:"maximum"`
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	var s spec
	require.NoError(t, yaml.Unmarshal(b, &s))
	return &s
}

var httpMethods = []string{"get", "post", "put", "patch", "delete", "head", "options"}

// operations returns the documented operations: "GET /v1/reads/{id}" → op.
func (s *spec) operations(t *testing.T) map[string]operation {
	t.Helper()
	ops := map[string]operation{}
	for path, items := range s.Paths {
		for method, node := range items {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			var op operation
			require.NoError(t, node.Decode(&op))
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

// responseSchema returns the JSON schema of a documented response, nil
// when it is not JSON.
func (s *spec) responseSchema(op operation, status string) *schema {
	r := op.Responses[status]
	content := r.Content
	if r.Ref != "" {
		content = s.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")].Content
	}
	if c, ok := content["application/json"]; ok {
		return c.Schema
	}
	return nil
}

// validate checks v (decoded JSON) against sc: types, required and
// undocumented properties, enums, formats.
func (s *spec) validate(sc *schema, v any, at string) error {
	if sc.Ref != "" {
		return s.validate(s.Components.Schemas[strings.TrimPrefix(sc.Ref, "#/components/schemas/")], v, at)
	}
	if len(sc.OneOf) > 0 {
		for _, alt := range sc.OneOf {
			if s.validate(alt, v, at) == nil {
				return nil
			}
		}
		return fmt.Errorf("%s: matches no alternative", at)
	}
	switch sc.Type {
	case "object":
		return s.validateObject(sc, v, at)
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", at)
		}
		for i, e := range a {
			if err := s.validate(sc.Items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return validateScalar(sc, v, at)
}

func (s *spec) validateObject(sc *schema, v any, at string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: not an object", at)
	}
	for _, r := range sc.Required {
		if _, ok := m[r]; !ok {
			return fmt.Errorf("%s: required property %q missing", at, r)
		}
	}
	for k, e := range m {
		if p, ok := sc.Properties[k]; ok {
			if err := s.validate(p, e, at+"."+k); err != nil {
				return err
			}
			continue
		}
		switch ap := sc.AdditionalProperties; {
		case ap.Kind == yaml.ScalarNode && ap.Value == "true":
		case ap.Kind == yaml.MappingNode:
			var sub schema
			if err := ap.Decode(&sub); err != nil {
				return err
			}
			if err := s.validate(&sub, e, at+"."+k); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: property %q is not documented", at, k)
		}
	}
	return nil
}

func validateScalar(sc *schema, v any, at string) error {
	switch sc.Type {
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: not a string", at)
		}
		if len(sc.Enum) > 0 && !slices.Contains(sc.Enum, str) {
			return fmt.Errorf("%s: %q not in the enum", at, str)
		}
		if sc.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				return fmt.Errorf("%s: not a date-time", at)
			}
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Errorf("%s: not an integer", at)
		}
		if (sc.Minimum != nil && n < *sc.Minimum) || (sc.Maximum != nil && n > *sc.Maximum) {
			return fmt.Errorf("%s: %v out of range", at, n)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: not a boolean", at)
		}
	default:
		return fmt.Errorf("%s: schema type %q not supported by the test", at, sc.Type)
	}
	return nil
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
		scenario{op: "GET /ui/{name}", status: 200, req: noToken("GET", "/ui/client.js")},
		scenario{op: "GET /ui/{name}", status: 404, req: noToken("GET", "/ui/nope.js")},
		scenario{op: "GET /metrics", status: 200, req: plain("GET", "/metrics", "")},
	)
}

// TestOpenAPI checks openapi.yaml against the server: the documented
// operations are exactly the routes served, every documented status is
// answered (and no other), and every JSON answer matches its schema, with
// no undocumented property.
func TestOpenAPI(t *testing.T) {
	s := loadSpec(t)
	ops := s.operations(t)

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
			var rec *httptest.ResponseRecorder
			if sc.paired != nil {
				var p Pairing
				require.NoError(t, json.Unmarshal(serve(h, newRequest("POST", "/v1/pairings", "")).Body.Bytes(), &p))
				rec = serve(h, sc.paired(p.Code))
			} else {
				rec = serve(h, sc.req())
			}
			require.Equal(t, sc.status, rec.Code, "body %s", rec.Body)
			status := fmt.Sprint(rec.Code)
			seen[sc.op+" "+status] = true
			op, ok := ops[sc.op]
			require.True(t, ok, "operation %s not documented", sc.op)
			_, ok = op.Responses[status]
			require.True(t, ok, "%s answers %s, which is not documented", sc.op, status)
			checkBody(t, s, op, status, rec.Header().Get("Content-Type"), rec.Body.Bytes())
		})
	}
	for name, op := range ops {
		for status := range op.Responses {
			assert.True(t, seen[name+" "+status], "%s %s is documented but no scenario makes the server answer it", name, status)
		}
	}
}

// checkBody validates a JSON answer, or each event of an event stream,
// against the documented schema.
func checkBody(t *testing.T, s *spec, op operation, status, contentType string, body []byte) {
	t.Helper()
	if strings.HasPrefix(contentType, "text/event-stream") {
		event := &schema{Ref: "#/components/schemas/Read"}
		for _, line := range strings.Split(string(body), "\n") {
			if line == "event: readers" {
				event = &schema{Ref: "#/components/schemas/ReadersEvent"}
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var v any
				require.NoError(t, json.Unmarshal([]byte(data), &v))
				assert.NoError(t, s.validate(event, v, "event"))
			}
		}
		return
	}
	if !strings.HasPrefix(contentType, "application/json") && s.responseSchema(op, status) == nil {
		return
	}
	sc := s.responseSchema(op, status)
	if sc == nil {
		return
	}
	require.True(t, strings.HasPrefix(contentType, "application/json"), "content type %q", contentType)
	var v any
	require.NoError(t, json.Unmarshal(body, &v))
	assert.NoError(t, s.validate(sc, v, "body"), "body %s", body)
}

// TestOpenAPIErrorCodes: the documented error codes are the Code constants.
func TestOpenAPIErrorCodes(t *testing.T) {
	s := loadSpec(t)
	doc := s.Components.Schemas["Error"].Properties["code"].Enum
	b, err := os.ReadFile("errors.go")
	require.NoError(t, err)
	var consts []string
	for _, line := range strings.Split(string(b), "\n") {
		if _, rest, ok := strings.Cut(line, " Code = \""); ok {
			consts = append(consts, strings.SplitN(rest, `"`, 2)[0])
		}
	}
	assert.ElementsMatch(t, consts, doc)
	states := s.Components.Schemas["State"].Enum
	assert.Equal(t, []string{"waiting_for_card", "authenticating", "reading", "uploading", "queued", "done", "failed", "canceled"}, states)
}
