package upload_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

func TestResponseSignature(t *testing.T) {
	nfc := testNFC(t)
	tests := []struct {
		name       string
		cfg        uploadtest.Config
		client     func(c *upload.Client)
		prepare    func(f *fixture)
		wantErr    error
		wantStored int
	}{
		{name: "signed with the current secret", wantStored: 1},
		{name: "signed with a wrong secret", cfg: uploadtest.Config{ResponseSecret: []byte("forged")}, wantErr: upload.ErrResponseSignature, wantStored: 1},
		{
			name: "signed with the next secret during a rotation", cfg: uploadtest.Config{ResponseSecret: []byte(testNextSecret)},
			client: func(c *upload.Client) { c.Credentials.NextSecret = []byte(testNextSecret) }, wantStored: 1,
		},
		{name: "next secret not configured", cfg: uploadtest.Config{ResponseSecret: []byte(testNextSecret)}, wantErr: upload.ErrResponseSignature, wantStored: 1},
		{name: "unsigned is accepted by default", cfg: uploadtest.Config{UnsignedResponses: true}, wantStored: 1},
		{
			name: "unsigned is refused when required", cfg: uploadtest.Config{UnsignedResponses: true},
			client: func(c *upload.Client) { c.RequireResponseSignature = true }, wantErr: upload.ErrResponseSignature, wantStored: 1,
		},
		{
			name: "a wrongly signed 500 is not retried", cfg: uploadtest.Config{ResponseSecret: []byte("forged")},
			prepare: func(f *fixture) { f.srv.Inject(uploadtest.Fault{Status: 500}) }, wantErr: upload.ErrResponseSignature,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, tc.cfg)
			if tc.client != nil {
				tc.client(f.client)
			}
			if tc.prepare != nil {
				tc.prepare(f)
			}
			m, err := f.client.UploadNFC(context.Background(), f.session, nfc)
			assert.Len(t, f.srv.Requests(), 1, "never resent")
			assert.Len(t, f.srv.Uploads(), tc.wantStored)
			if tc.wantErr == nil {
				require.NoError(t, err)
				assert.NotEmpty(t, m.ID)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, m)
			if tc.wantStored == 1 {
				assert.Contains(t, err.Error(), "not resent")
			}
		})
	}
}

func TestMalformedSuccessNotResent(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "not JSON", body: "<html>ok</html>"},
		{name: "no media object", body: `{"status":"success"}`},
		{name: "status not success", body: `{"status":"fail","nfcDocument":{"id":"x"}}`},
		{name: "media not an object", body: `{"status":"success","nfcDocument":"x"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits := 0
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits++
				_, _ = w.Write([]byte(tc.body))
			}))
			defer ts.Close()
			c := &upload.Client{BaseURL: ts.URL, Credentials: testCredentials(), Retry: fastRetry()}
			_, err := c.UploadNFC(context.Background(), "f47ac10b-58cc-4372-a567-0e02b2c3d479", testNFC(t))
			require.ErrorIs(t, err, upload.ErrMalformedResponse)
			assert.Equal(t, 1, hits)
		})
	}
}

func TestLenientMedia(t *testing.T) {
	// A strict server may send numbers as strings or ids as numbers; a
	// stored upload must not become an error because of it.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"status":"success","image":{"id":42,"name":"face.jpg","context":"face","timestamp":"2024-01-02T03:04:05Z","size":"1234","mimetype":"image/jpeg","url":"https://x/y","sessionId":"s","extra":{"a":1}}}`))
	}))
	defer ts.Close()
	c := &upload.Client{BaseURL: ts.URL, Credentials: testCredentials()}
	m, err := c.UploadNFC(context.Background(), "f47ac10b-58cc-4372-a567-0e02b2c3d479", testNFC(t))
	require.NoError(t, err)
	assert.Equal(t, "42", m.ID)
	assert.EqualValues(t, 1234, m.Size)
	require.NotNil(t, m.Timestamp)
	assert.Equal(t, "2024-01-02T03:04:05Z", *m.Timestamp)
	assert.JSONEq(t, `{"id":42,"name":"face.jpg","context":"face","timestamp":"2024-01-02T03:04:05Z","size":"1234","mimetype":"image/jpeg","url":"https://x/y","sessionId":"s","extra":{"a":1}}`, string(m.Raw))
}

func TestGatewayErrorPage(t *testing.T) {
	hits := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Error(w, "<html>\n<h1>502 Bad Gateway</h1>\n</html>", http.StatusBadGateway)
	}))
	defer ts.Close()
	c := &upload.Client{BaseURL: ts.URL, Credentials: testCredentials(), Retry: fastRetry()}
	c.Retry.MaxAttempts = 2
	_, err := c.UploadNFC(context.Background(), "f47ac10b-58cc-4372-a567-0e02b2c3d479", testNFC(t))
	var ae *upload.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 502, ae.Status)
	assert.Empty(t, ae.Code)
	assert.True(t, ae.Retryable)
	assert.Equal(t, 2, hits)
	assert.NotContains(t, err.Error(), "\n")
}
