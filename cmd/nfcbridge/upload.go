package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/secretfile"
	"github.com/nfcbridge/nfcbridge/upload"
)

// apiFlags are the flags that say how to reach the vendor: shared by
// upload, upload-image, read --session-id and serve.
type apiFlags struct {
	apiURL         string
	compression    string
	keyFile        string
	secretFile     string
	nextSecretFile string
}

func addAPIFlags(fs *flag.FlagSet) *apiFlags {
	f := &apiFlags{}
	fs.StringVar(&f.apiURL, "api-url", upload.DefaultBaseURL, "vendor API `URL` (https; http only for loopback addresses such as 127.0.0.1)")
	fs.StringVar(&f.compression, "compression", "gzip", "request compression: gzip, deflate or none")
	fs.StringVar(&f.keyFile, "api-key-file", "", "file holding the API key (default: $CREDENTIALS_DIRECTORY/api-key, then $NFCBRIDGE_API_KEY)")
	fs.StringVar(&f.secretFile, "api-secret-file", "", "file holding the shared secret (default: $CREDENTIALS_DIRECTORY/api-secret, then $NFCBRIDGE_API_SECRET)")
	fs.StringVar(&f.nextSecretFile, "api-next-secret-file", "", "file holding the next shared secret during a rotation (optional)")
	return f
}

// client checks the flags and the credentials and builds the client with
// retry policy, without network I/O: call it before reading a chip.
func (f *apiFlags) client(e *env, retry upload.RetryPolicy) (*upload.Client, error) {
	comp, err := upload.ParseCompression(f.compression)
	if err != nil {
		return nil, usagef("--compression must be gzip, deflate or none")
	}
	creds, err := upload.LoadCredentials(e.getenv, upload.CredentialFiles{Key: f.keyFile, Secret: f.secretFile, NextSecret: f.nextSecretFile})
	if errors.Is(err, upload.ErrNoCredentials) {
		return nil, fmt.Errorf("%w (give --api-key-file and --api-secret-file, set %s and %s, or use systemd's LoadCredential=)", err, upload.EnvKey, upload.EnvSecret)
	}
	if err != nil {
		return nil, err
	}
	c := &upload.Client{BaseURL: f.apiURL, Credentials: creds, Compression: comp, Retry: retry}
	if err := c.Validate(); err != nil {
		switch {
		case errors.Is(err, upload.ErrInsecureURL):
			return nil, usagef("--api-url must be https:// (plain http:// only for loopback addresses such as 127.0.0.1), without user information")
		case errors.Is(err, upload.ErrConfig):
			return nil, usagef("--api-url must be an absolute URL like %s, without a query or fragment", upload.DefaultBaseURL)
		}
		return nil, err
	}
	return c, nil
}

// uploadFlags are the flags shared by upload, upload-image and
// read --session-id. --json and --timeout are not among them: read has its
// own; runUpload and runUploadImage add them.
type uploadFlags struct {
	*apiFlags
	sessionID string
	timeout   time.Duration // the whole upload, retries included
}

// defaultUploadTimeout bounds an upload, retries included.
const defaultUploadTimeout = 60 * time.Second

func addUploadFlags(fs *flag.FlagSet) *uploadFlags {
	f := &uploadFlags{apiFlags: addAPIFlags(fs), timeout: defaultUploadTimeout}
	fs.StringVar(&f.sessionID, "session-id", "", "vendor session ID (a UUID) to upload to")
	return f
}

// client checks the session ID, the flags and the credentials and builds
// the client, without network I/O: call it before reading a chip.
func (f *uploadFlags) client(e *env) (*upload.Client, error) {
	if f.sessionID == "" {
		return nil, usagef("--session-id is required")
	}
	if err := upload.CheckSessionID(f.sessionID); err != nil {
		return nil, usagef("--session-id must be a UUID like 01234567-89ab-cdef-0123-456789abcdef")
	}
	if f.timeout <= 0 {
		return nil, usagef("--timeout must be positive")
	}
	return f.apiFlags.client(e, upload.RetryPolicy{MaxElapsed: f.timeout})
}

// runUpload uploads the four files that read --out wrote.
func runUpload(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "upload")
	f := addUploadFlags(fs)
	dir := fs.String("dir", "", "directory holding EF.COM, EF.SOD, DG1 and DG2, as written by read --out")
	asJSON := fs.Bool("json", false, "print the vendor's media object as JSON")
	fs.DurationVar(&f.timeout, "timeout", defaultUploadTimeout, "give up after this long, retries included")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	c, err := f.client(e)
	if err != nil {
		return err
	}
	nfc, err := readNFCDir(*dir)
	if err != nil {
		return err
	}
	m, err := c.UploadNFC(ctx, f.sessionID, nfc)
	if err != nil {
		return err
	}
	return printMedia(e, m, *asJSON)
}

// runUploadImage uploads one image file.
func runUploadImage(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "upload-image")
	f := addUploadFlags(fs)
	imgContext := fs.String("context", "", "what the image shows: document-front, document-back, face, …")
	stamp := fs.String("timestamp", "", "when the image was taken, RFC 3339 (optional)")
	asJSON := fs.Bool("json", false, "print the vendor's media object as JSON")
	fs.DurationVar(&f.timeout, "timeout", defaultUploadTimeout, "give up after this long, retries included")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give exactly one image FILE, after the flags")
	}
	if *imgContext == "" {
		return usagef("--context is required (document-front, document-back, face, …)")
	}
	img := upload.Image{Context: *imgContext}
	if *stamp != "" {
		t, err := time.Parse(time.RFC3339, *stamp)
		if err != nil {
			return usagef("--timestamp must be RFC 3339, like 2024-05-01T12:30:00Z")
		}
		img.Timestamp = t
	}
	c, err := f.client(e)
	if err != nil {
		return err
	}
	if img.Data, err = secretfile.Read(fs.Arg(0), secretfile.AnyFile, maxImageFile); err != nil {
		return err
	}
	m, err := c.UploadImage(ctx, f.sessionID, img)
	if err != nil {
		return err
	}
	return printMedia(e, m, *asJSON)
}

// maxImageFile caps an image file, well above what the vendor accepts,
// so that a wrong path fails quickly instead of being read whole.
const maxImageFile = 32 << 20

// readNFCDir reads EF.COM, EF.SOD, DG1 and DG2 from dir ([icao.ReadDir]).
func readNFCDir(dir string) (upload.NFC, error) {
	files, _, err := icao.ReadDir(os.DirFS(dir))
	if err != nil {
		return upload.NFC{}, fmt.Errorf("%s: %w", dir, err)
	}
	for _, f := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2} {
		if _, ok := files[f]; !ok {
			return upload.NFC{}, fmt.Errorf("%v is missing in %s: upload needs EF.COM, EF.SOD, DG1 and DG2 as written by \"nfcbridge read --out\": %w", f, dir, os.ErrNotExist)
		}
	}
	return upload.NFC{COM: files[icao.EFCOM], SOD: files[icao.EFSOD], DG1: files[icao.EFDG1], DG2: files[icao.EFDG2]}, nil
}

// printMedia prints the vendor's media object: as JSON, exactly the object
// the vendor sent (indented); otherwise one line.
func printMedia(e *env, m *upload.Media, asJSON bool) error {
	if asJSON {
		var buf bytes.Buffer
		if err := json.Indent(&buf, m.Raw, "", "  "); err != nil {
			return fmt.Errorf("print media: %w", err)
		}
		buf.WriteByte('\n')
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	what := m.Context
	if what == "" {
		what = m.MIMEType
	}
	_, err := fmt.Fprintf(e.stdout, "uploaded %s to session %s: media %s (%d bytes)\n", what, m.SessionID, m.ID, m.Size)
	return err
}

// uploadAdvice says what an upload failure means for an operator.
func uploadAdvice(err error) (string, bool) {
	switch {
	case errors.Is(err, upload.ErrSessionSubmitted):
		return "the session was already submitted: start a new session and upload before submitting it", true
	case errors.Is(err, upload.ErrSessionNotFound):
		return "the vendor does not know this session: check --session-id and --api-url", true
	case errors.Is(err, upload.ErrUnauthorized):
		return "the vendor refused the credentials: check the API key and the shared secret", true
	case errors.Is(err, upload.ErrNoCredentials):
		return "API credentials are missing or unusable", true
	case errors.Is(err, upload.ErrResponseSignature):
		return "the vendor's answer could not be verified: check the shared secret (or the next one during a rotation); the upload may be stored, so do not repeat it blindly", true
	case errors.Is(err, upload.ErrMalformedResponse):
		return "the vendor's answer could not be read; the upload may be stored, so do not repeat it blindly", true
	case errors.Is(err, upload.ErrTimeLimit):
		return "the upload did not finish in time: check the network and proxy settings, then try again", true
	case errors.Is(err, upload.ErrServer):
		return "the vendor's server failed: try again later", true
	case errors.Is(err, upload.ErrRejected):
		return "the vendor rejected the data", true
	}
	return "", false
}
