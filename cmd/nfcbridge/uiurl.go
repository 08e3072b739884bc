package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/kiosk"
)

// packagedTokenPath is where the packaged service keeps its token
// (RuntimeDirectory=nfcbridge): ui-url runs outside the service and has no
// $RUNTIME_DIRECTORY.
const packagedTokenPath = "/run/nfcbridge/token"

// runUIURL prints the URL a kiosk browser opens for the reference page:
// the daemon's address with a one-time pairing code in the fragment (never
// sent to a server, and useless once the page has used it). It takes
// serve's flags and config file, and needs to read the token file.
func runUIURL(ctx context.Context, e *env, args []string) error {
	f, err := parseDaemonFlags(e, "ui-url", args)
	if err != nil {
		return err
	}
	if strings.HasPrefix(f.listen, "unix:") {
		return usagef("the reference page needs a TCP address; --listen is %s", f.listen)
	}
	path, err := clientTokenPath(e, f)
	if err != nil {
		return err
	}
	token, err := kiosk.LoadToken(path)
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (add this user to the nfcbridge group: adduser $USER nfcbridge, then log in again)", err)
	}
	if err != nil {
		return err
	}
	base := "http://" + f.listen
	code, err := requestPairing(ctx, base, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s/#pair=%s\n", base, code)
	return nil
}

// clientTokenPath finds the token file of a daemon this process is not:
// --token-file, the service's credential or runtime directory when run
// from its unit, the packaged service's token, else STATE-DIR/token. It
// creates nothing.
func clientTokenPath(e *env, f *serveFlags) (string, error) {
	if f.tokenFile != "" || credentialExists(e, "api-token") || e.getenv("RUNTIME_DIRECTORY") != "" {
		return tokenPath(e, f.tokenFile, ""), nil
	}
	if _, err := os.Stat(packagedTokenPath); err == nil || errors.Is(err, fs.ErrPermission) {
		return packagedTokenPath, nil
	}
	dir := f.stateDir
	if dir == "" {
		var err error
		if dir, err = stateDirPath(e); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "token"), nil
}

// requestPairing asks the daemon for a pairing code (POST /v1/pairings).
func requestPairing(ctx context.Context, base, token string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/pairings", nil)
	if err != nil {
		return "", usagef("bad --listen address: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("the daemon does not answer at %s (is nfcbridge.socket running?): %w", base, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		return "", fmt.Errorf("the daemon at %s does not serve the reference page: set ui = true in its config (or serve --ui) and restart it", base)
	case http.StatusUnauthorized:
		return "", fmt.Errorf("the daemon at %s refused the token: the token file is not this daemon's (see --token-file)", base)
	}
	var body struct {
		kiosk.Pairing
		Error *kiosk.Error `json:"error"`
	}
	err = json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10)).Decode(&body)
	switch {
	case err == nil && body.Error != nil:
		return "", fmt.Errorf("the daemon at %s refused a pairing: %s", base, body.Error.Message)
	case err != nil || resp.StatusCode != http.StatusCreated || body.Code == "":
		return "", fmt.Errorf("the daemon at %s answered %s without a pairing", base, resp.Status)
	}
	return body.Code, nil
}
