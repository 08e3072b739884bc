package kiosk

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CORS answers for allowed origins. No cookies are used, so credentials
// are never allowed; the token travels in the Authorization header.
const (
	corsMethods = "GET, POST, DELETE"
	corsHeaders = "Authorization, Content-Type, Last-Event-ID"
	corsMaxAge  = "600"
)

// guard refuses what must not reach the API, in this order:
//
//   - a TCP peer that is not a loopback address (the daemon listens on
//     loopback only; this is defence in depth);
//   - on TCP, a Host that is not a loopback name or address with the port
//     the request came in on: DNS rebinding (nccgroup/singularity wiki). On a Unix
//     socket any Host is accepted: browsers cannot connect to one, and
//     clients such as curl --unix-socket send "localhost" or nothing;
//   - an Origin header that is not in the allow-list (CORS, preflights
//     included) and not the daemon's own origin (the page served at /).
//     Requests without Origin are not from a browser page. A refused
//     origin is logged: it is how a misconfigured kiosk shows.
//
// For allowed origins it answers preflights (with Private Network Access's
// Access-Control-Allow-Private-Network) and adds the CORS headers.
func guard(origins map[string]bool, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if tcp, ok := local.(*net.TCPAddr); ok {
			if !loopbackPeer(r.RemoteAddr) {
				writeError(w, &Error{Code: CodeForbidden, Message: "only local clients may use this API"})
				return
			}
			if !loopbackHost(r.Host, tcp.Port) {
				if log != nil {
					log.Warn("refused a request for a foreign Host (DNS rebinding?)", "host", clip(r.Host), "method", r.Method, "path", r.URL.Path)
				}
				writeError(w, &Error{Code: CodeForbidden, Message: "the Host header must name this machine's loopback address, such as 127.0.0.1:" + fmt.Sprint(tcp.Port)})
				return
			}
		}
		origin := r.Header.Get("Origin")
		if origin == "" || sameOrigin(origin, r) {
			next.ServeHTTP(w, r)
			return
		}
		if !origins[strings.ToLower(origin)] {
			if log != nil {
				log.Warn("refused a browser origin; allow it with --allow-origin if it is the kiosk UI's", "origin", clip(origin), "method", r.Method, "path", r.URL.Path)
			}
			writeError(w, &Error{Code: CodeForbidden, Message: "this origin is not allowed to use the API (see --allow-origin)"})
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Location")
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			if strings.EqualFold(r.Header.Get("Access-Control-Request-Private-Network"), "true") {
				h.Set("Access-Control-Allow-Private-Network", "true")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clip shortens a header value for the log: it comes from the client.
func clip(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// sameOrigin reports whether origin is the daemon's own (http, the Host
// that guard already checked): the reference page's requests.
func sameOrigin(origin string, r *http.Request) bool {
	return r.TLS == nil && strings.EqualFold(origin, "http://"+r.Host)
}

// loopbackPeer reports whether a RemoteAddr is a loopback address.
func loopbackPeer(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackHost reports whether the Host header names a loopback address
// ("localhost", 127.0.0.0/8, [::1]) with the given port.
func loopbackHost(host string, port int) bool {
	h, p, err := net.SplitHostPort(host)
	if err != nil || p != fmt.Sprint(port) {
		return false
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// parseOrigins checks the allowed origins: each is scheme://host[:port]
// with no path, as browsers send Origin.
func parseOrigins(list []string) (map[string]bool, error) {
	m := map[string]bool{}
	for _, o := range list {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || o != u.Scheme+"://"+u.Host {
			return nil, fmt.Errorf("kiosk: allowed origin %q must look like https://kiosk.example.com or http://127.0.0.1:3000 (scheme, host and port only)", o)
		}
		m[strings.ToLower(o)] = true
	}
	return m, nil
}

// requireToken refuses a request without "Authorization: Bearer <token>".
// The token is compared in constant time (as hashes, so that its length
// does not leak either). Tokens in the query string are never accepted:
// URLs end up in logs and browser histories.
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="nfcbridge"`)
			writeError(w, &Error{Code: CodeUnauthorized, Message: "a valid token is required: Authorization: Bearer <token from the daemon's token file>"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status code for the request log. It unwraps
// for http.ResponseController (flushes and deadlines of event streams).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush lets event streams flush through the wrapper.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logRequests logs one record per request: method, path (read IDs are
// random), status and duration. Never headers (the token), bodies (the
// MRZ) or query strings. Health checks are logged at debug level.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	if log == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if r.URL.Path == "/v1/health" || r.URL.Path == "/metrics" {
			level = slog.LevelDebug
		}
		log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"ms", time.Since(start).Milliseconds())
	})
}
