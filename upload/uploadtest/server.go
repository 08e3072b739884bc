// Package uploadtest is a strict implementation of the vendor's session
// media endpoint, POST /v1/sessions/{sessionId}/media, for tests and as a
// local sandbox. It was written from the contract, not from package upload,
// and shares no code with it.
//
// It enforces, in this order: the method and path; a canonical UUID session
// ID; X-AUTH-CLIENT (401, code 1801/1803); Content-Type application/json
// (415); a single Content-Encoding of gzip, deflate (the zlib format of RFC
// 1950, per RFC 9110 §8.4.1.2; raw RFC 1951 only with
// [Config.AcceptRawDeflate]) or identity, anything else 415; a body that
// decodes as its Content-Encoding says (400, code 1101); X-HMAC-SIGNATURE as
// 64 lower-case hex digits (401, code 1812) equal, in constant time, to the
// HMAC-SHA256 of the decoded body (401, code 1819); the session (404
// unknown, 409 submitted); the JSON schema (400, code 1101, unknown fields
// rejected); the NFC files (400, code 1410: all four, standard padded
// base64, each starting with its LDS tag); their combined base64 size (400,
// code 1412); and for images the data URI, format, size and longer side (400,
// code 1101). Responses are signed with X-HMAC-SIGNATURE.
//
// Faults can be injected ([Server.Inject]) and every request is recorded
// ([Server.Requests]), so tests can assert what was sent and how often.
// Nothing is logged unless [Config.Logger] is set, and then never a key,
// a signature or a body.
package uploadtest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Config configures a [Server]. Key and Secret are required.
type Config struct {
	Key    string // API key accepted in X-AUTH-CLIENT
	Secret []byte // shared secret of the request signatures
	// ResponseSecret signs responses; nil means Secret. Set it to another
	// value to test the client's response verification or a rotation.
	ResponseSecret []byte
	// UnsignedResponses leaves X-HMAC-SIGNATURE off the responses.
	UnsignedResponses bool
	// MaxNFCBytes bounds the combined base64 length of com, sod, dg1 and
	// dg2 (code 1412 above it); 0 means 500,000.
	MaxNFCBytes int
	// MaxImageBytes bounds the length of an image's content string; 0
	// means 23,999,999 (under 24 MB).
	MaxImageBytes int
	// MaxImageSide bounds an image's longer side (JPEG and PNG are
	// checked); 0 means 1920.
	MaxImageSide int
	// MaxBodyBytes bounds the request body, before and after decoding
	// (413 above it); 0 means 32 MiB.
	MaxBodyBytes int64
	// AcceptRawDeflate also accepts raw RFC 1951 data under "deflate", as
	// some lenient servers do. Strict (false) accepts only zlib.
	AcceptRawDeflate bool
	// AllowPDF accepts data:application/pdf images ("where enabled").
	AllowPDF bool
	// AutoCreateSessions opens an unknown (well-formed) session on its first
	// upload, for a sandbox; otherwise it gets 404.
	AutoCreateSessions bool
	// Logger, if set, gets one line per request: session, encoding, sizes,
	// status and code. nil logs nothing.
	Logger *slog.Logger
}

// Fault replaces the normal handling of one request. The request body is
// always read first, so a fault happens after the upload reached the server.
type Fault struct {
	Delay      time.Duration // wait first (ends early if the client goes away)
	Drop       bool          // then close the connection without a response
	Status     int           // or answer with this status (0: handle normally after Delay)
	Code       string        // vendor code of the injected error
	Message    string        // vendor message of the injected error; "" = the status text
	RetryAfter string        // Retry-After header of the injected error
}

// Request is the record of one request received.
type Request struct {
	Time            time.Time
	SessionID       string
	ContentEncoding string // as received, "" if absent
	Signature       string // X-HMAC-SIGNATURE as received
	WireBytes       int    // body bytes as received
	Body            []byte // decoded body, nil if it could not be decoded
	Fault           bool   // an injected fault answered it
	Status          int    // status sent (0 for a dropped connection)
	Code            string // vendor code sent
}

// Upload is one stored media entry.
type Upload struct {
	SessionID string
	Media     Media             // the object returned to the client
	NFC       map[string][]byte // "com", "sod", "dg1", "dg2", decoded; nil for images
	Image     []byte            // decoded image; nil for NFC
}

// Media is the media object of a success response.
type Media struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Context   string  `json:"context"`
	Timestamp *string `json:"timestamp"`
	Size      int     `json:"size"`
	MIMEType  string  `json:"mimetype"`
	URL       string  `json:"url"`
	SessionID string  `json:"sessionId"`
}

// Server is the endpoint. Its methods are safe for concurrent use.
type Server struct {
	cfg   Config
	conns atomic.Int64

	mu        sync.Mutex
	sessions  map[string]bool // id → submitted
	faults    []Fault
	requests  []Request
	uploads   []Upload
	http      *http.Server
	listener  net.Listener
	serveDone chan struct{}
}

// maxRecords bounds the request and upload records of a long-running sandbox.
const maxRecords = 1000

// New returns a server; it serves nothing until [Server.Start] or until its
// [Server.Handler] is mounted elsewhere.
func New(cfg Config) *Server {
	if cfg.MaxNFCBytes <= 0 {
		cfg.MaxNFCBytes = 500_000
	}
	if cfg.MaxImageBytes <= 0 {
		cfg.MaxImageBytes = 24_000_000 - 1
	}
	if cfg.MaxImageSide <= 0 {
		cfg.MaxImageSide = 1920
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.ResponseSecret == nil {
		cfg.ResponseSecret = cfg.Secret
	}
	return &Server{cfg: cfg, sessions: map[string]bool{}}
}

// Handler serves POST /v1/sessions/{sessionId}/media and answers 404 to
// every other path.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/sessions/{sessionId}/media", s.serveMedia)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.reply(w, verdict{status: http.StatusNotFound, message: "Not found"})
	})
	return mux
}

// Start listens on addr ("" means 127.0.0.1 on a free port) and serves
// plain HTTP in the background.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s.mu.Lock()
	started := s.http != nil
	s.mu.Unlock()
	if started {
		return errors.New("uploadtest: server already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("uploadtest: %w", err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.conns.Add(1)
			}
		},
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.http, s.listener, s.serveDone = srv, ln, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return nil
}

// URL is the base URL of a started server, such as http://127.0.0.1:41234.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops a started server and waits for it.
func (s *Server) Close() error {
	s.mu.Lock()
	srv, done := s.http, s.serveDone
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	return err
}

// Connections counts the TCP connections accepted by a started server.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// ErrSessionID means a session ID is not a canonical UUID.
var ErrSessionID = errors.New("uploadtest: session ID is not a canonical UUID")

// AddSession opens a session for uploads.
func (s *Server) AddSession(id string) error {
	if !validSessionID(id) {
		return ErrSessionID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[id] = false
	return nil
}

// NewSession opens a session with a random ID and returns the ID.
func (s *Server) NewSession() string {
	id := uuid.Must(uuid.NewRandomFromReader(rand.Reader)).String()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[id] = false
	return id
}

// SubmitSession marks a session submitted: further uploads get 409.
func (s *Server) SubmitSession(id string) error {
	if !validSessionID(id) {
		return ErrSessionID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[id] = true
	return nil
}

// Inject queues faults; each request takes the next one.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// Requests returns a copy of the requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Uploads returns a copy of the media stored, oldest first.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.uploads...)
}

func validSessionID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

func (s *Server) nextFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	if len(s.requests) > maxRecords {
		s.requests = s.requests[1:]
	}
}

// sessionState returns whether the session exists and is submitted.
func (s *Server) sessionState(id string) (exists, submitted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	submitted, exists = s.sessions[id]
	if !exists && s.cfg.AutoCreateSessions {
		s.sessions[id] = false
		return true, false
	}
	return exists, submitted
}
