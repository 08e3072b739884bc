// Package openapitest checks the daemon's answers against kiosk/openapi.yaml
// with a real OpenAPI 3 implementation (github.com/getkin/kin-openapi):
// the document itself is validated when loaded, and each answer is matched
// to its operation and checked for a documented status, headers and a body
// that fits the schema. Event streams are checked event by event: the
// text/event-stream media type names the schema of each event's data in
// its x-events extension ({event name: {$ref}}), which OpenAPI 3.0 has no
// field for. For tests only.
package openapitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Spec is a loaded, validated OpenAPI document.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

// textTypes are the text answers the document describes as strings;
// kin-openapi decodes only text/plain itself.
var textTypes = []string{"text/event-stream", "text/html", "text/javascript", "text/css"}

func init() {
	plain := openapi3filter.RegisteredBodyDecoder("text/plain")
	for _, t := range textTypes {
		openapi3filter.RegisterBodyDecoder(t, plain)
	}
}

// Load reads and validates the document at path. The servers are replaced
// by a catch-all so that answers from any test server match.
func Load(path string) (*Spec, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("openapitest: %s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapitest: %s is not a valid OpenAPI document: %w", path, err)
	}
	doc.Servers = nil
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapitest: %w", err)
	}
	return &Spec{Doc: doc, router: r}, nil
}

// Operation returns "METHOD /path/template" of the operation req matches.
func (s *Spec) Operation(req *http.Request) (string, error) {
	route, _, err := s.router.FindRoute(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: no documented operation: %w", req.Method, req.URL.Path, err)
	}
	return route.Method + " " + route.Path, nil
}

// CheckResponse checks one answer to req: documented status, content type
// and body (or every event of an event stream).
func (s *Spec) CheckResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: no documented operation: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if mt == "text/event-stream" {
		if err := s.checkEvents(eventSchemas(route, status), body); err != nil {
			return fmt.Errorf("%s %s: %w", req.Method, route.Path, err)
		}
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s → %d: %w", req.Method, route.Path, status, err)
	}
	return nil
}

// eventSchemas reads the x-events of the operation's event-stream answer:
// event name → component schema name.
func eventSchemas(route *routers.Route, status int) map[string]string {
	out := map[string]string{}
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return out
	}
	mt := resp.Value.Content.Get("text/event-stream")
	if mt == nil {
		return out
	}
	events, _ := mt.Extensions["x-events"].(map[string]any)
	for name, v := range events {
		ref, _ := v.(map[string]any)["$ref"].(string)
		out[name] = strings.TrimPrefix(ref, "#/components/schemas/")
	}
	return out
}

// checkEvents checks the data of each event against its schema.
func (s *Spec) checkEvents(eventSchemas map[string]string, stream []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Buffer(nil, 1<<20)
	event := "message"
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			name, ok := eventSchemas[event]
			if !ok {
				return fmt.Errorf("event %q is not documented", event)
			}
			if err := s.CheckValue(name, []byte(strings.TrimPrefix(line, "data: "))); err != nil {
				return fmt.Errorf("event %q: %w", event, err)
			}
		case line == "":
			event = "message"
		}
	}
	return sc.Err()
}

// CheckValue checks JSON against the component schema name.
func (s *Spec) CheckValue(name string, data []byte) error {
	ref, ok := s.Doc.Components.Schemas[name]
	if !ok {
		return fmt.Errorf("no schema %q", name)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return ref.Value.VisitJSON(v, openapi3.MultiErrors())
}
