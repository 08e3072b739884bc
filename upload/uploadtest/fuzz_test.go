package uploadtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

// FuzzHandler: any body, signed so that it reaches the JSON checks, never
// panics the server, and a 200 always stores exactly one upload.
func FuzzHandler(f *testing.F) {
	f.Add(goodNFC(), "")
	f.Add(`{"image":{"context":"face","content":"data:image/jpeg;base64,/9j/4AAQ"}}`, "")
	f.Add(`{"nfcDocuments":{"com":"YA==","sod":"dw==","dg1":"YQ==","dg2":"dQ=="}}`, "identity")
	f.Add(`{"image":{"context":"face","content":"data:image/heic;base64,AAAAGGZ0eXBoZWlj","timestamp":"2024-01-01T00:00:00Z"}}`, "")
	f.Fuzz(func(t *testing.T, body, enc string) {
		s := uploadtest.New(uploadtest.Config{Key: key, Secret: []byte(secret), AllowPDF: true})
		w := req{body: body, headers: http.Header{"Content-Encoding": {enc}}}.do(t, s.Handler(), s.NewSession())
		if w.Code == http.StatusOK {
			require.Equal(t, 1, len(s.Uploads()), "uploads stored; status %d", w.Code)
		} else {
			require.NotEqual(t, 1, len(s.Uploads()), "status %d", w.Code)
		}
	})
}
