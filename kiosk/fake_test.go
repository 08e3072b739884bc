package kiosk

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// fakeAPI is the service as the HTTP layer sees it, with canned answers.
type fakeAPI struct {
	mu        sync.Mutex
	health    Health
	readers   []ReaderInfo
	err       error // returned by every method but Health when set
	started   []ReadRequest
	reads     map[string]Status
	events    map[string][]Event
	canceled  []string
	nextCalls int
}

func newFakeAPI() *fakeAPI {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	done := Status{ID: "r1", State: Done, SessionID: "0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00", Reader: "Reader 0", Upload: true,
		CreatedAt: t0, UpdatedAt: t0.Add(3 * time.Second),
		Progress: Progress{File: "DG2", BytesRead: 21000, BytesTotal: 21000, Percent: 100},
		Result: &Result{AccessControl: "BAC", Files: map[string]FileInfo{"com": {22}, "sod": {950}, "dg1": {93}, "dg2": {19959}},
			SODHashesValid: true, APDUs: 15, ReadMillis: 900, UploadMillis: 120, Media: json.RawMessage(`{"id":"m1","context":"document-nfc"}`)}}
	waiting := done
	waiting.State, waiting.Result, waiting.Progress = WaitingForCard, nil, Progress{}
	reading := waiting
	reading.State, reading.Progress = Reading, Progress{File: "DG2", BytesRead: 5000, BytesTotal: 21000, Percent: 23}
	return &fakeAPI{
		health:  Health{Status: "ok", Version: "test", PCSC: "up"},
		readers: []ReaderInfo{{Name: "Reader 0", CardPresent: true}, {Name: "Reader 1"}},
		reads:   map[string]Status{"r1": done},
		events: map[string][]Event{"r1": {
			{Seq: 1, Kind: StateEvent, Status: waiting},
			{Seq: 2, Kind: ProgressEvent, Status: reading},
			{Seq: 3, Kind: StateEvent, Status: done},
		}},
	}
}

func (f *fakeAPI) Health(context.Context) Health { return f.health }

func (f *fakeAPI) Readers(context.Context) ([]ReaderInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.readers, nil
}

func (f *fakeAPI) Start(_ context.Context, req ReadRequest) (Status, error) {
	if _, err := req.validate(); err != nil {
		return Status{}, err
	}
	if f.err != nil {
		return Status{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, req)
	st := f.events["r1"][0].Status
	st.ID = "r2"
	return st, nil
}

func (f *fakeAPI) Status(id string) (Status, error) {
	if f.err != nil {
		return Status{}, f.err
	}
	st, ok := f.reads[id]
	if !ok {
		return Status{}, ErrNotFound
	}
	return st, nil
}

func (f *fakeAPI) Reads() []Status {
	var out []Status
	for _, st := range f.reads {
		out = append(out, st)
	}
	return out
}

func (f *fakeAPI) Next(ctx context.Context, id string, after int) ([]Event, error) {
	f.mu.Lock()
	f.nextCalls++
	f.mu.Unlock()
	evs, ok := f.events[id]
	if !ok {
		return nil, ErrNotFound
	}
	var out []Event
	for _, ev := range evs {
		if ev.Seq > after {
			out = append(out, ev)
		}
	}
	if len(out) == 0 && evs[len(evs)-1].Status.State.Final() {
		return nil, ErrNoMoreEvents
	}
	if len(out) == 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return out[:1], nil // one at a time, as a slow read delivers them
}

func (f *fakeAPI) Cancel(_ context.Context, id string) (Status, error) {
	if f.err != nil {
		return Status{}, f.err
	}
	st, ok := f.reads[id]
	if !ok {
		return Status{}, ErrNotFound
	}
	f.mu.Lock()
	f.canceled = append(f.canceled, id)
	f.mu.Unlock()
	return st, nil
}

const testToken = "0123456789abcdef0123456789abcdef-test"

// serve runs req against a handler of api as if it came from the loopback
// peer to a daemon on 127.0.0.1:8765.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	ctx := context.WithValue(req.Context(), http.LocalAddrContextKey, tcpAddr("127.0.0.1:8765"))
	req = req.WithContext(ctx)
	if req.RemoteAddr == "192.0.2.1:1234" { // httptest's default
		req.RemoteAddr = "127.0.0.1:50000"
	}
	if req.Host == "example.com" {
		req.Host = "127.0.0.1:8765"
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// newRequest builds a request with the test token and, for a body, JSON.
func newRequest(method, path, body string) *http.Request {
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	return req
}

func tcpAddr(s string) *net.TCPAddr {
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		panic(err)
	}
	return a
}

// httptestRecorder serves req as it is.
func httptestRecorder(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
