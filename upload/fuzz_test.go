package upload

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseMedia: a success body never panics, and a result is returned
// only with a nil error and holds the object it came from.
func FuzzParseMedia(f *testing.F) {
	f.Add([]byte(`{"status":"success","nfcDocument":{"id":"a","name":"n","context":"c","timestamp":null,"size":12,"mimetype":"application/json","url":"u","sessionId":"s"}}`))
	f.Add([]byte(`{"status":"success","image":{"id":1,"size":"7","timestamp":"2024-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"status":"fail"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"image":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseMedia(body)
		if err != nil {
			require.Nil(t, m, "result with error %v", err)
			return
		}
		require.NotNil(t, m, "no result and no error")
		require.True(t, json.Valid(m.Raw), "Raw is not JSON: %q", m.Raw)
	})
}

// FuzzParseAPIError: an error body never panics, and the kept vendor text
// is one line of bounded length.
func FuzzParseAPIError(f *testing.F) {
	f.Add(400, []byte(`{"status":"fail","code":"1410","message":"NFC data format is invalid","error":"dg2 is missing"}`))
	f.Add(401, []byte(`{"status":"fail","code":1819,"message":null,"error":{"field":"x"}}`))
	f.Add(502, []byte("<html>\n502\r\n</html>"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseAPIError(status, body)
		msg := e.Error()
		require.NotContains(t, msg, "\n", "multi-line error")
		require.NotContains(t, msg, "\r", "multi-line error")
		require.LessOrEqual(t, len([]rune(e.Message)), maxVendorText+1, "vendor text not bounded")
		require.LessOrEqual(t, len([]rune(e.Detail)), maxVendorText+1, "vendor text not bounded")
		require.LessOrEqual(t, len(e.Code), 16, "vendor text not bounded")
	})
}

// FuzzDetectImage: image bytes never panic the format and size detection,
// and a success always has a MIME type and, except for PDF, a size.
func FuzzDetectImage(f *testing.F) {
	f.Add([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"))
	f.Add([]byte("RIFF\x20\x00\x00\x00WEBPVP8L\x05\x00\x00\x00\x2f\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("RIFF\x20\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\x00\x00"))
	f.Add([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x10meta\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x00\x00\x00\x01ftyp\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("%PDF-1.7"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := detectImage(b)
		if err != nil {
			require.Zero(t, info, "result with error %v", err)
			return
		}
		require.NotEmpty(t, info.mime, "incomplete result %+v", info)
		if info.mime != "application/pdf" {
			require.Positive(t, info.width, "incomplete result %+v", info)
			require.Positive(t, info.height, "incomplete result %+v", info)
		}
	})
}

// FuzzReadBody: a compressed response never panics the decoder.
func FuzzReadBody(f *testing.F) {
	f.Add("gzip", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"))
	f.Add("deflate", []byte("\x78\x9c\x03\x00\x00\x00\x00\x01"))
	f.Add("", []byte("{}"))
	f.Fuzz(func(t *testing.T, enc string, b []byte) {
		resp := &http.Response{Header: http.Header{"Content-Encoding": {enc}}, Body: http.NoBody}
		resp.Body = nopCloser{bytes.NewReader(b)}
		if d, err := readBody(resp); err != nil {
			require.Nil(t, d, "result with error %v", err)
		}
	})
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
