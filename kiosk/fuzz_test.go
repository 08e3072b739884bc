package kiosk

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzStartRead sends arbitrary bodies to POST /v1/reads: the answer is
// 202 or a 4xx with a well-formed error naming no input, never a 5xx or a
// panic; a body with a repeated or miscased key is never accepted.
func FuzzStartRead(f *testing.F) {
	for _, seed := range []string{
		mustJSON(validRead()),
		mustJSON(with(validRead(), "mrz", map[string]any{"documentNumber": "L898902C3", "dateOfBirth": "740812", "dateOfExpiry": "120415"})),
		mustJSON(with(with(validRead(), "mrz", nil), "can", "123456")),
		`{"sessionId":"0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00","mrz":42}`,
		`{"sessionId":1}`, `[]`, `{}`, `{"a":`, `null`,
		`{"sessionId":"0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00","upload":false,"upload":true}`,
		`{"SESSIONID":"0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00","mrz":{"documentNumber":"L898902C3","DateOfBirth":"740812"}}`,
		`{"sessionId":"x","sessionid":"y"}`, `"x"`, `[{"a":1,"a":2}]`,
		// Valid but for a repeated key, so that only the duplicate check
		// refuses them.
		`{"mrz":` + mustJSON(specimenMRZ) + `,` + mustJSON(validRead())[1:],
		`{"sessionId":"0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00",` + mustJSON(validRead())[1:],
	} {
		f.Add([]byte(seed))
	}
	h := newTestHandler(f, newFakeAPI())
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8765/v1/reads", bytes.NewReader(body))
		req.Host = "127.0.0.1:8765"
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusAccepted {
			require.False(t, repeatsKey(body), "accepted a repeated or miscased key: %q", body)
			return
		}
		require.GreaterOrEqual(t, rec.Code, 400, "status for %q", body)
		require.Less(t, rec.Code, 500, "status for %q", body)
		var e errorBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), "malformed error answer %q", rec.Body.String())
		require.NotNil(t, e.Error, "malformed error answer %q", rec.Body.String())
		require.NotEmpty(t, e.Error.Code, "malformed error answer %q", rec.Body.String())
		// The message must not echo MRZ-like input back.
		if len(body) >= 9 {
			require.NotContains(t, e.Error.Message, "L898902C3", "error echoes the document number")
		}
	})
}

// repeatsKey reports whether the top-level object of b has two keys that
// are equal when case is ignored, found by a decoder independent of the
// token walk under test.
func repeatsKey(b []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	n := 0
	d := json.NewDecoder(bytes.NewReader(b))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for d.More() {
		if _, err := d.Token(); err != nil {
			return false
		}
		var v json.RawMessage
		if d.Decode(&v) != nil {
			return false
		}
		n++
	}
	folded := map[string]bool{}
	for k := range m {
		folded[strings.ToLower(k)] = true
	}
	return n != len(folded)
}
