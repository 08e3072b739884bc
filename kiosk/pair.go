package kiosk

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// Pairing codes let a browser page served by the daemon obtain the API
// token without the token ever appearing in a URL or a process list:
// `nfcbridge ui-url`, run by a user who may read the token file, asks for a
// code (POST /v1/pairings, token required) and prints the page's URL with
// the code in its fragment; the page trades the code for the token once
// (POST /v1/pair). A code is 128 random bits, single use, and expires.
const (
	// DefaultPairingTTL is how long a pairing code stays valid: enough
	// for a kiosk browser to start.
	DefaultPairingTTL = 2 * time.Minute
	// maxPairings bounds the codes outstanding at once.
	maxPairings = 16
)

// pairings holds the outstanding codes by their SHA-256, so that a lookup
// reveals nothing of a code through timing.
type pairings struct {
	mu    sync.Mutex
	codes map[[32]byte]time.Time // expiry
	ttl   time.Duration
	now   func() time.Time
}

func newPairings(ttl time.Duration, now func() time.Time) *pairings {
	if ttl <= 0 {
		ttl = DefaultPairingTTL
	}
	if now == nil {
		now = time.Now
	}
	return &pairings{codes: map[[32]byte]time.Time{}, ttl: ttl, now: now}
}

// issue returns a new code and its expiry, dropping expired codes and,
// when too many are outstanding, the one that expires first.
func (p *pairings) issue() (string, time.Time) {
	var raw [16]byte
	rand.Read(raw[:]) // never fails (crypto/rand, Go 1.24+)
	code := hex.EncodeToString(raw[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var oldest [32]byte
	var oldestAt time.Time
	for k, exp := range p.codes {
		if !now.Before(exp) {
			delete(p.codes, k)
		} else if oldestAt.IsZero() || exp.Before(oldestAt) {
			oldest, oldestAt = k, exp
		}
	}
	if len(p.codes) >= maxPairings {
		delete(p.codes, oldest)
	}
	exp := now.Add(p.ttl)
	p.codes[sha256.Sum256([]byte(code))] = exp
	return code, exp
}

// redeem reports whether code is outstanding and unexpired, and uses it up.
func (p *pairings) redeem(code string) bool {
	k := sha256.Sum256([]byte(code))
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.codes[k]
	delete(p.codes, k)
	return ok && p.now().Before(exp)
}

// Pairing is the answer to POST /v1/pairings.
type Pairing struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func newPairing(p *pairings) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		code, exp := p.issue()
		writeJSON(w, http.StatusCreated, Pairing{Code: code, ExpiresAt: exp.UTC()})
	}
}

// pairRequest is the body of POST /v1/pair.
type pairRequest struct {
	Code string `json:"code"`
}

// pairResponse is the answer to POST /v1/pair.
type pairResponse struct {
	Token string `json:"token"`
}

func redeemPairing(p *pairings, token string, maxBody int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req pairRequest
		if err := decodeJSON(w, r, maxBody, &req); err != nil {
			writeError(w, err)
			return
		}
		if !p.redeem(req.Code) {
			writeError(w, &Error{Code: CodeUnauthorized, Message: "this pairing code is unknown, used or expired: start the page again with the URL from `nfcbridge ui-url`"})
			return
		}
		writeJSON(w, http.StatusOK, pairResponse{Token: token})
	}
}
