package upload_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

// TestSecretsNotLeaked collects the errors of many failures, formats and
// logs the client and its credentials, and looks for the key, the secrets,
// the signature and the uploaded data in all of it.
func TestSecretsNotLeaked(t *testing.T) {
	nfc := testNFC(t)
	var errs []error
	upload1 := func(f *fixture) {
		_, err := f.client.UploadNFC(context.Background(), f.session, nfc)
		errs = append(errs, err)
	}

	f := setup(t, uploadtest.Config{})
	f.client.Credentials.NextSecret = []byte(testNextSecret)
	f.client.Credentials.Secret = []byte(testSecret + "-wrong") // 401 1819 and an unverifiable answer
	upload1(f)
	f.client.Credentials = testCredentials()
	f.client.Credentials.Key = testKey + "-wrong" // 401 1803
	upload1(f)
	f.client.Credentials = testCredentials()
	f.client.Retry.MaxAttempts = 2
	f.srv.Inject(uploadtest.Fault{Status: 500}, uploadtest.Fault{Drop: true}) // gives up
	upload1(f)
	f.srv.Inject(uploadtest.Fault{Status: 400, Code: "1410"})
	upload1(f)
	f.client.MaxNFCBytes = 100 // size
	upload1(f)
	f.client.MaxNFCBytes = 0
	f.client.Credentials.Key = testKey + "\r\nX-Injected: 1" // invalid key
	upload1(f)
	f.client.Credentials = testCredentials()
	f.client.BaseURL = "https://user:" + testSecret + "@example.com"
	upload1(f)

	bad := setup(t, uploadtest.Config{ResponseSecret: []byte("forged")})
	upload1(bad)

	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600))
	_, err := upload.LoadCredentials(func(string) string { return "" }, upload.CredentialFiles{Secret: secretFile})
	errs = append(errs, err)
	_, err = upload.LoadCredentials(func(k string) string { return map[string]string{upload.EnvKey: testKey + " \x01"}[k] },
		upload.CredentialFiles{Secret: secretFile})
	errs = append(errs, err)

	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	text := slog.New(slog.NewTextHandler(&out, nil))
	creds := upload.Credentials{Key: testKey, Secret: []byte(testSecret), NextSecret: []byte(testNextSecret)}
	for _, err := range errs {
		require.Error(t, err)
		fmt.Fprintf(&out, "%v\n%+v\n", err, err)
		log.Error("upload failed", "err", err)
	}
	c := &upload.Client{Credentials: creds}
	fmt.Fprintf(&out, "%v %+v %#v %s %x %q\n", creds, creds, creds, creds, creds, creds)
	fmt.Fprintf(&out, "%v %+v\n", c, c)
	log.Info("config", "credentials", creds, "client", c)
	text.Info("config", "credentials", creds, "client", c)
	fmt.Fprintf(&out, "%v\n", errors.Join(errs...))

	signature := hmacHex(testSecret, wantNFCBody(nfc))
	forbidden := map[string]string{
		"key": testKey, "secret": testSecret, "next secret": testNextSecret,
		"secret (hex)": hex.EncodeToString([]byte(testSecret)), "secret (base64)": base64.StdEncoding.EncodeToString([]byte(testSecret)),
		"key (base64)":      base64.StdEncoding.EncodeToString([]byte(testKey)),
		"request signature": signature, "MRZ name": "ERIKSSON", "DG1 (base64)": base64.StdEncoding.EncodeToString(nfc.DG1)[:24],
	}
	all := out.String()
	for what, s := range forbidden {
		assert.NotContains(t, all, s, "%s leaked", what)
	}
	assert.Contains(t, all, "redacted")
	assert.Contains(t, all, "1819", "the errors themselves are there")
}
