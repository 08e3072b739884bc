package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

const (
	cliKey    = "cli-key-must-not-leak"
	cliSecret = "cli-secret-must-not-leak"
)

// uploadEnv is a started strict server with a session, a directory of NFC
// files and an env whose variables hold the credentials.
type uploadEnv struct {
	srv     *uploadtest.Server
	session string
	dir     string
	e       *env
	out     *bytes.Buffer
}

func newUploadEnv(t *testing.T) *uploadEnv {
	t.Helper()
	s := uploadtest.New(uploadtest.Config{Key: cliKey, Secret: []byte(cliSecret)})
	require.NoError(t, s.Start(""))
	t.Cleanup(func() { _ = s.Close() })
	dir := t.TempDir()
	files := map[string][]byte{
		"EF.COM": {0x60, 0x03, 0x5c, 0x01, 0x61},
		"EF.SOD": append([]byte{0x77, 0x82, 0x01, 0x00}, bytes.Repeat([]byte{1}, 256)...),
		"DG1":    append([]byte{0x61, 0x5b, 0x5f, 0x1f, 0x58}, strings.Repeat("<", 88)...),
		"DG2":    append([]byte{0x75, 0x82, 0x04, 0x00}, bytes.Repeat([]byte{2}, 1024)...),
	}
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	vars := map[string]string{upload.EnvKey: cliKey, upload.EnvSecret: cliSecret}
	out := &bytes.Buffer{}
	e := &env{stdout: out, stderr: out, getenv: func(k string) string { return vars[k] }}
	return &uploadEnv{srv: s, session: s.NewSession(), dir: dir, e: e, out: out}
}

func (u *uploadEnv) args(extra ...string) []string {
	return append([]string{"--session-id", u.session, "--api-url", u.srv.URL()}, extra...)
}

func TestRunUpload(t *testing.T) {
	tests := []struct {
		name      string
		args      func(u *uploadEnv) []string
		prepare   func(t *testing.T, u *uploadEnv)
		wantUsage bool
		wantErrIs error
		wantErr   string
		wantOut   string
		wantSent  int
	}{
		{name: "text", args: func(u *uploadEnv) []string { return u.args("--dir", u.dir) }, wantOut: "uploaded document-nfc to session", wantSent: 1},
		{name: "json is the vendor's media object", args: func(u *uploadEnv) []string { return u.args("--dir", u.dir, "--json", "--compression", "deflate") }, wantOut: `"mimetype": "application/octet-stream"`, wantSent: 1},
		{name: "no compression", args: func(u *uploadEnv) []string { return u.args("--dir", u.dir, "--compression", "none") }, wantSent: 1},
		{
			name: "submitted session", args: func(u *uploadEnv) []string { return u.args("--dir", u.dir) },
			prepare:   func(t *testing.T, u *uploadEnv) { require.NoError(t, u.srv.SubmitSession(u.session)) },
			wantErrIs: upload.ErrSessionSubmitted, wantErr: "session already submitted (409): uploads must happen before the session is submitted", wantSent: 1,
		},
		{
			name: "missing DG2", args: func(u *uploadEnv) []string { return u.args("--dir", u.dir) },
			prepare:   func(t *testing.T, u *uploadEnv) { require.NoError(t, os.Remove(filepath.Join(u.dir, "DG2"))) },
			wantErrIs: os.ErrNotExist, wantErr: "DG2 is missing",
		},
		{
			name: "credentials from files", args: func(u *uploadEnv) []string {
				k, s := filepath.Join(u.dir, "k"), filepath.Join(u.dir, "s")
				_ = os.WriteFile(k, []byte(cliKey+"\n"), 0o600)
				_ = os.WriteFile(s, []byte(cliSecret+"\n"), 0o600)
				return u.args("--dir", u.dir, "--api-key-file", k, "--api-secret-file", s)
			},
			prepare:  func(t *testing.T, u *uploadEnv) { u.e.getenv = func(string) string { return "" } },
			wantSent: 1,
		},
		{
			name: "no credentials", args: func(u *uploadEnv) []string { return u.args("--dir", u.dir) },
			prepare:   func(t *testing.T, u *uploadEnv) { u.e.getenv = func(string) string { return "" } },
			wantErrIs: upload.ErrNoCredentials, wantErr: "--api-key-file",
		},
		{name: "no session", args: func(u *uploadEnv) []string { return []string{"--dir", u.dir} }, wantUsage: true},
		{name: "bad session", args: func(u *uploadEnv) []string { return []string{"--dir", u.dir, "--session-id", "42"} }, wantUsage: true},
		{name: "no dir", args: func(u *uploadEnv) []string { return u.args() }, wantUsage: true},
		{name: "bad compression", args: func(u *uploadEnv) []string { return u.args("--dir", u.dir, "--compression", "br") }, wantUsage: true},
		{name: "plain http to a remote host", args: func(u *uploadEnv) []string {
			return []string{"--dir", u.dir, "--session-id", u.session, "--api-url", "http://example.com"}
		}, wantUsage: true},
		{name: "extra argument", args: func(u *uploadEnv) []string { return u.args("--dir", u.dir, "extra") }, wantUsage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUploadEnv(t)
			if tc.prepare != nil {
				tc.prepare(t, u)
			}
			err := runUpload(context.Background(), u.e, tc.args(u))
			assert.Len(t, u.srv.Requests(), tc.wantSent)
			switch {
			case tc.wantUsage:
				require.Error(t, err)
				assert.True(t, errors.As(err, new(usageError)), "usage error, got %v", err)
			case tc.wantErrIs != nil || tc.wantErr != "":
				require.Error(t, err)
				if tc.wantErrIs != nil {
					assert.ErrorIs(t, err, tc.wantErrIs)
				}
				assert.Contains(t, err.Error(), tc.wantErr)
			default:
				require.NoError(t, err)
				assert.Contains(t, u.out.String(), tc.wantOut)
			}
			if err != nil {
				assert.NotContains(t, err.Error()+explain(err), cliKey)
				assert.NotContains(t, err.Error()+explain(err), cliSecret)
			}
			assert.NotContains(t, u.out.String(), cliSecret)
		})
	}
}

func TestRunUploadJSON(t *testing.T) {
	u := newUploadEnv(t)
	require.NoError(t, runUpload(context.Background(), u.e, u.args("--dir", u.dir, "--json")))
	var m map[string]any
	require.NoError(t, json.Unmarshal(u.out.Bytes(), &m))
	assert.Equal(t, u.session, m["sessionId"])
	assert.Equal(t, u.srv.Uploads()[0].Media.ID, m["id"])
}

func TestRunUploadImage(t *testing.T) {
	u := newUploadEnv(t)
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 640, 480))))
	file := filepath.Join(u.dir, "front.png")
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o600))

	require.NoError(t, runUploadImage(context.Background(), u.e, u.args("--context", "document-front", "--timestamp", "2024-05-01T12:30:00Z", file)))
	assert.Contains(t, u.out.String(), "uploaded document-front to session "+u.session)
	ups := u.srv.Uploads()
	require.Len(t, ups, 1)
	assert.Equal(t, buf.Bytes(), ups[0].Image)
	assert.Contains(t, string(u.srv.Requests()[0].Body), `"timestamp":"2024-05-01T12:30:00.000Z"`)

	for name, args := range map[string][]string{
		"no file":       u.args("--context", "face"),
		"two files":     u.args("--context", "face", file, file),
		"no context":    u.args(file),
		"bad timestamp": u.args("--context", "face", "--timestamp", "yesterday", file),
	} {
		t.Run(name, func(t *testing.T) {
			err := runUploadImage(context.Background(), u.e, args)
			assert.True(t, errors.As(err, new(usageError)), "usage error, got %v", err)
		})
	}
}
