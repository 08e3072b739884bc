package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The HTTP layer only decodes, calls one method of the service, maps
// errors and encodes: each handler depends on a one-method interface.
type (
	healthChecker interface {
		Health(ctx context.Context) Health
	}
	readerLister interface {
		Readers(ctx context.Context) ([]ReaderInfo, error)
	}
	readStarter interface {
		Start(ctx context.Context, req ReadRequest) (Status, error)
	}
	statusGetter interface {
		Status(id string) (Status, error)
	}
	readsLister interface {
		Reads() []Status
	}
	eventWaiter interface {
		Next(ctx context.Context, id string, after int) ([]Event, error)
	}
	readCanceler interface {
		Cancel(ctx context.Context, id string) (Status, error)
	}
)

// API is everything the HTTP layer calls; *Service implements it.
type API interface {
	healthChecker
	readerLister
	readStarter
	statusGetter
	readsLister
	eventWaiter
	readCanceler
}

var _ API = (*Service)(nil)

// HandlerConfig configures [NewHandler].
type HandlerConfig struct {
	// Token is the bearer token every endpoint but /v1/health requires
	// (see [LoadToken]). Required.
	Token string
	// AllowOrigins are the browser origins allowed to call the API, such
	// as "https://kiosk.example.com" (scheme, host and port, exactly).
	// Requests with another Origin are refused; requests without one (not
	// from a browser) are allowed.
	AllowOrigins []string
	// Metrics, if set, is served at GET /metrics (token required).
	Metrics http.Handler
	// Logger gets one record per request (method, path, status, time; never
	// headers, bodies or query strings); nil means none.
	Logger *slog.Logger
	// MaxBody bounds request bodies; zero means 16 KiB.
	MaxBody int64
	// KeepAlive is how often an idle event stream gets a comment, so that
	// proxies and the client see it alive; zero means 15 s.
	KeepAlive time.Duration
	// UI serves the reference kiosk page at / (and its files under /ui/),
	// with pairing: POST /v1/pairings (token) issues a one-time code that
	// the page trades for the token at POST /v1/pair.
	UI bool
	// PairingTTL is how long a pairing code is valid; zero means
	// [DefaultPairingTTL].
	PairingTTL time.Duration
	// ReaderPoll is how often GET /v1/readers/events looks at the readers;
	// zero means 250 ms.
	ReaderPoll time.Duration
}

// route is one endpoint.
type route struct {
	method, path string
	public       bool // no token needed
	handler      http.HandlerFunc
}

// routes lists the endpoints; the OpenAPI document describes exactly these.
func routes(api API, cfg *HandlerConfig) []route {
	rs := []route{
		{"GET", "/v1/health", true, health(api)},
		{"GET", "/v1/readers", false, listReaders(api)},
		{"POST", "/v1/reads", false, startRead(api, cfg.MaxBody)},
		{"GET", "/v1/reads", false, listReads(api)},
		{"GET", "/v1/reads/{id}", false, getRead(api)},
		{"DELETE", "/v1/reads/{id}", false, cancelRead(api)},
		{"GET", "/v1/reads/{id}/events", false, events(api, cfg.KeepAlive)},
		{"GET", "/v1/readers/events", false, readerEvents(api, cfg.ReaderPoll, cfg.KeepAlive)},
	}
	if cfg.UI {
		p := newPairings(cfg.PairingTTL, nil)
		rs = append(rs,
			route{"POST", "/v1/pairings", false, newPairing(p)},
			route{"POST", "/v1/pair", true, redeemPairing(p, cfg.Token, cfg.MaxBody)},
			route{"GET", "/{$}", true, serveUI},
			route{"GET", "/ui/{name}", true, serveUI},
		)
	}
	if cfg.Metrics != nil {
		rs = append(rs, route{"GET", "/metrics", false, cfg.Metrics.ServeHTTP})
	}
	return rs
}

// NewHandler returns the HTTP API (v1) over api, as openapi.yaml describes
// it, behind the security checks: loopback peer, loopback Host on TCP (DNS
// rebinding), Origin allow-list with CORS and Private Network Access
// preflights, and the bearer token on every endpoint but GET /v1/health.
func NewHandler(api API, cfg HandlerConfig) (http.Handler, error) {
	if len(cfg.Token) < minTokenLen {
		return nil, fmt.Errorf("kiosk: the API token must have at least %d characters", minTokenLen)
	}
	origins, err := parseOrigins(cfg.AllowOrigins)
	if err != nil {
		return nil, err
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 10
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.ReaderPoll <= 0 {
		cfg.ReaderPoll = 250 * time.Millisecond
	}
	mux := http.NewServeMux()
	methods := map[string][]string{}
	for _, rt := range routes(api, &cfg) {
		h := http.Handler(rt.handler)
		if !rt.public {
			h = requireToken(cfg.Token, h)
		}
		mux.Handle(rt.method+" "+rt.path, h)
		methods[rt.path] = append(methods[rt.path], rt.method)
	}
	for path, ms := range methods {
		mux.Handle(path, requireToken(cfg.Token, methodNotAllowed(ms)))
	}
	mux.Handle("/", requireToken(cfg.Token, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, &Error{Code: CodeNotFound, Message: "no such endpoint"})
	})))
	return logRequests(cfg.Logger, guard(origins, cfg.Logger, mux)), nil
}

func health(api healthChecker) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Health(r.Context()))
	}
}

func listReaders(api readerLister) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rs, err := api.Readers(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Readers []ReaderInfo `json:"readers"`
		}{rs})
	}
}

func startRead(api readStarter, maxBody int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req ReadRequest
		if err := decodeJSON(w, r, maxBody, &req); err != nil {
			writeError(w, err)
			return
		}
		st, err := api.Start(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Location", "/v1/reads/"+st.ID)
		writeJSON(w, http.StatusAccepted, st)
	}
}

// listReads answers the reads the daemon keeps, also across restarts: a UI
// finds a queued read again by its session.
func listReads(api readsLister) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, struct {
			Reads []Status `json:"reads"`
		}{api.Reads()})
	}
}

func getRead(api statusGetter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := api.Status(r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}

func cancelRead(api readCanceler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := api.Cancel(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}

func methodNotAllowed(methods []string) http.HandlerFunc {
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{&Error{Code: CodeInvalidRequest, Message: "method not allowed; use " + allow}})
	}
}

// decodeJSON reads a JSON body of at most maxBody bytes into v: exactly one
// object, no unknown, repeated or miscased fields (checkStrict).
func decodeJSON(w http.ResponseWriter, r *http.Request, maxBody int64, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &Error{Code: CodeUnsupportedMedia, Message: "the body must be JSON, sent with Content-Type: application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return invalid("", "the body is larger than %d bytes", maxBody)
	} else if err != nil {
		return invalid("", "the body could not be read")
	}
	if err := checkStrict(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	err = d.Decode(v)
	if err == nil {
		if _, terr := d.Token(); terr != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &typeErr):
		return invalid(typeErr.Field, "%s has the wrong JSON type", typeErr.Field)
	}
	return invalid("", "the body is not valid JSON")
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error *Error `json:"error"`
}

// writeError answers err with its status code and JSON body. Errors that
// are not *Error are internal: their text is not sent.
func writeError(w http.ResponseWriter, err error) {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		e = &Error{Code: CodeInternal, Message: "internal error; see the daemon log", Retryable: true}
	}
	writeJSON(w, statusOf(err), errorBody{e})
}

// statusOf maps an error to an HTTP status code.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrInvalidRequest):
		return http.StatusBadRequest
	case errors.Is(err, &Error{Code: CodeUnsupportedMedia}):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, &Error{Code: CodeUnauthorized}):
		return http.StatusUnauthorized
	case errors.Is(err, &Error{Code: CodeForbidden}):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrReaderNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrReaderBusy), errors.Is(err, ErrNotCancelable):
		return http.StatusConflict
	case errors.Is(err, ErrPCSCUnavailable), errors.Is(err, ErrPCSCDenied),
		errors.Is(err, ErrUploadUnavailable), errors.Is(err, ErrShuttingDown):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal_error","message":"internal error","retryable":true}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
