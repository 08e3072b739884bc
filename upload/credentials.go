package upload

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/nfcbridge/nfcbridge/internal/secretfile"
)

// Credentials are the integration's API key and HMAC shared secret. They
// have no String method; formatting, logging (LogValue) and JSON all print
// "redacted".
type Credentials struct {
	Key        string // API key, sent as X-AUTH-CLIENT
	Secret     []byte // current shared secret: signs requests, verifies responses
	NextSecret []byte // optional next secret: also accepted on responses during a rotation
}

// LogValue implements [slog.LogValuer]; it never reveals the credentials.
func (Credentials) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format implements [fmt.Formatter] for every verb (%v, %+v, %#v, %s, %x …);
// it never reveals the credentials.
func (Credentials) Format(f fmt.State, _ rune) { io.WriteString(f, "upload.Credentials{redacted}") }

// MarshalJSON implements [json.Marshaler]; it never reveals the credentials.
func (Credentials) MarshalJSON() ([]byte, error) { return []byte(`"redacted"`), nil }

// check reports the first unusable field, naming it but not its value.
func (c Credentials) check() error {
	switch {
	case c.Key == "":
		return fmt.Errorf("API key is empty: %w", ErrNoCredentials)
	case !validHeaderValue(c.Key):
		return fmt.Errorf("API key has characters not allowed in an HTTP header (spaces, control or non-ASCII characters): %w", ErrNoCredentials)
	case len(c.Secret) == 0:
		return fmt.Errorf("API shared secret is empty: %w", ErrNoCredentials)
	}
	return nil
}

// validHeaderValue accepts printable ASCII without spaces, which covers every
// API key format seen (UUIDs, hex, base64).
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// Names of the environment variables and systemd credentials read by
// [LoadCredentials].
const (
	EnvKey         = "NFCBRIDGE_API_KEY"
	EnvSecret      = "NFCBRIDGE_API_SECRET"
	EnvNextSecret  = "NFCBRIDGE_API_SECRET_NEXT"
	CredKey        = "api-key"
	CredSecret     = "api-secret"
	CredNextSecret = "api-secret-next"
)

// CredentialFiles names explicit files holding the credentials; "" means
// not given.
type CredentialFiles struct {
	Key, Secret, NextSecret string
}

// maxCredentialFile bounds a credential file, so that a wrong path (a log,
// /dev/zero) fails instead of being read whole.
const maxCredentialFile = 64 << 10

// LoadCredentials finds each of the API key, the secret and the optional next
// secret on its own, first match wins:
//
//  1. the explicit file in files; failing to read it is an error;
//  2. the systemd credential $CREDENTIALS_DIRECTORY/api-key, api-secret or
//     api-secret-next (LoadCredential=), when that variable is set and the
//     file exists;
//  3. the environment variable NFCBRIDGE_API_KEY, NFCBRIDGE_API_SECRET or
//     NFCBRIDGE_API_SECRET_NEXT (for interactive use; never pass secrets in
//     argv).
//
// One trailing "\n" or "\r\n" is removed from every value. The key and the
// secret are required; a missing one is an error wrapping [ErrNoCredentials]
// that lists where it was looked for. Errors name files and variables, never
// values. getenv is usually [os.Getenv].
func LoadCredentials(getenv func(string) string, files CredentialFiles) (Credentials, error) {
	key, err := lookup(getenv, files.Key, CredKey, EnvKey)
	if err != nil {
		return Credentials{}, fmt.Errorf("upload: API key: %w", err)
	}
	secret, err := lookup(getenv, files.Secret, CredSecret, EnvSecret)
	if err != nil {
		return Credentials{}, fmt.Errorf("upload: API secret: %w", err)
	}
	next, err := lookup(getenv, files.NextSecret, CredNextSecret, EnvNextSecret)
	if err != nil && !errors.Is(err, ErrNoCredentials) {
		return Credentials{}, fmt.Errorf("upload: next API secret: %w", err)
	}
	c := Credentials{Key: string(key), Secret: secret, NextSecret: next}
	if err := c.check(); err != nil {
		return Credentials{}, fmt.Errorf("upload: %w", err)
	}
	return c, nil
}

// lookup returns one value by the precedence of [LoadCredentials].
func lookup(getenv func(string) string, file, cred, env string) ([]byte, error) {
	if file != "" {
		return readCredential(file, secretfile.AnyFile)
	}
	if path, ok := secretfile.Credential(getenv, cred); ok {
		return readCredential(path, secretfile.Regular)
	}
	if v := trimNewline(getenv(env)); v != "" {
		return []byte(v), nil
	}
	return nil, fmt.Errorf("not found in a file, $CREDENTIALS_DIRECTORY/%s or $%s: %w", cred, env, ErrNoCredentials)
}

// readCredential reads a small file; the error names the file only.
func readCredential(name string, access secretfile.Access) ([]byte, error) {
	b, err := secretfile.Read(name, access, maxCredentialFile)
	if err != nil {
		var se *secretfile.SizeError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: %w", err, ErrNoCredentials)
		}
		return nil, err
	}
	v := trimNewline(string(b))
	clear(b)
	if v == "" {
		return nil, fmt.Errorf("%s is empty: %w", name, ErrNoCredentials)
	}
	return []byte(v), nil
}

func trimNewline(s string) string {
	s, _ = strings.CutSuffix(s, "\n")
	s, _ = strings.CutSuffix(s, "\r")
	return s
}
