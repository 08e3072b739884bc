package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	sdnotify "github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/secretfile"
	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/outbox"
	"github.com/nfcbridge/nfcbridge/pki"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload"
)

// defaultListen is the API's address when neither --listen nor systemd
// gives one.
const defaultListen = "127.0.0.1:8765"

// serveFlags is the command line of serve.
type serveFlags struct {
	*apiFlags
	*trustFlags
	listen, tokenFile, stateDir, logLevel       string
	outboxKeyFile, extended                     string
	origins                                     listFlag
	noUpload, ui                                bool
	maxLe                                       int
	cardTimeout, reinsertTimeout, uploadTimeout time.Duration
	retention, shutdownGrace                    time.Duration
	retryInitial, retryMax                      time.Duration
}

func parseServeFlags(e *env, args []string) (*serveFlags, error) {
	return parseDaemonFlags(e, "serve", args)
}

// parseDaemonFlags parses the flags of serve, which ui-url shares so that
// both read the same config file: the command line, then the config file
// for what it left unset.
func parseDaemonFlags(e *env, name string, args []string) (*serveFlags, error) {
	fs, f, config := daemonFlagSet(e, name)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := applyConfig(e, fs, *config); err != nil {
		return nil, err
	}
	for _, d := range []time.Duration{f.cardTimeout, f.reinsertTimeout, f.uploadTimeout, f.retention, f.shutdownGrace, f.retryInitial, f.retryMax} {
		if d <= 0 {
			return nil, usagef("durations must be positive")
		}
	}
	return f, nil
}

// daemonFlagSet defines serve's flags; config is --config.
func daemonFlagSet(e *env, name string) (fs *flag.FlagSet, f *serveFlags, config *string) {
	f = &serveFlags{}
	fs = newFlagSet(e, name)
	config = addConfigFlag(fs)
	fs.StringVar(&f.listen, "listen", defaultListen, "API address: a loopback `ADDR` (127.0.0.1:PORT, [::1]:PORT, localhost:PORT) or unix:/PATH; sockets passed by systemd take precedence")
	fs.StringVar(&f.tokenFile, "token-file", "", "API token `FILE`, created (0640, random) if missing (default: $CREDENTIALS_DIRECTORY/api-token if present, else $RUNTIME_DIRECTORY/token, else STATE-DIR/token)")
	fs.StringVar(&f.stateDir, "state-dir", "", "state `DIR` for the outbox and the token (default: $STATE_DIRECTORY, else $XDG_STATE_HOME/nfcbridge or ~/.local/state/nfcbridge)")
	fs.Var(&f.origins, "allow-origin", "browser `ORIGIN` allowed to call the API, such as https://kiosk.example.com (repeatable)")
	f.apiFlags = addAPIFlags(fs)
	f.trustFlags = addTrustFlags(fs, true)
	fs.BoolVar(&f.noUpload, "no-upload", false, "run without API credentials: only reads with \"upload\": false are accepted")
	fs.StringVar(&f.outboxKeyFile, "outbox-key-file", "", "outbox encryption key `FILE`, created if missing (default: $CREDENTIALS_DIRECTORY/outbox-key if present, else STATE-DIR/outbox.key)")
	fs.DurationVar(&f.retention, "retention", outbox.DefaultRetention, "how long an undelivered upload is kept in the outbox")
	fs.DurationVar(&f.retryInitial, "retry-initial", 5*time.Second, "wait before the first retry of a queued upload; each later wait doubles, with jitter")
	fs.DurationVar(&f.retryMax, "retry-max", 5*time.Minute, "longest wait between retries of a queued upload")
	fs.DurationVar(&f.cardTimeout, "card-timeout", 60*time.Second, "how long a read waits for a passport")
	fs.DurationVar(&f.reinsertTimeout, "reinsert-timeout", 30*time.Second, "how long a read waits for a passport taken off mid-read to come back")
	fs.DurationVar(&f.uploadTimeout, "upload-timeout", 30*time.Second, "how long an upload is tried, retries included, before it goes to the outbox")
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM, how long uploads under way may finish before they go to the outbox")
	fs.IntVar(&f.maxLe, "max-le", 0, "largest short Le to use (0: the most a short APDU carries)")
	fs.StringVar(&f.extended, "extended", "auto", "extended-length APDUs: auto, never or always")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&f.ui, "ui", false, "serve the reference kiosk page at / (open it with the URL from `nfcbridge ui-url`)")
	return fs, f, config
}

// runServe runs the daemon until ctx ends (SIGTERM, SIGINT).
func runServe(ctx context.Context, e *env, args []string) error {
	f, err := parseServeFlags(e, args)
	if err != nil {
		return err
	}
	log, err := newLogger(e.stderr, f.logLevel, toJournal(e, e.stderr))
	if err != nil {
		return err
	}
	d, err := newDaemon(ctx, e, daemonConfig{flags: f, log: log})
	if err != nil {
		return err
	}
	return d.run(ctx)
}

// newLogger logs JSON lines to w; to journald, each with its priority.
func newLogger(w io.Writer, level string, journal bool) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level must be debug, info, warn or error")
	}
	opts := &slog.HandlerOptions{Level: l}
	if journal {
		return slog.New(newJournalHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// daemonConfig is what a daemon is built from: the flags, and for the demo
// a reader and a listener of its own.
type daemonConfig struct {
	flags     *serveFlags
	log       *slog.Logger
	readers   kiosk.Readers  // nil: PC/SC
	listeners []net.Listener // nil: from systemd, else --listen
}

// daemon is the wired service: readers, uploads, outbox, API server.
type daemon struct {
	log       *slog.Logger
	svc       *kiosk.Service
	srv       *http.Server
	listeners []net.Listener
	outbox    *outbox.Outbox
	pcsc      *kiosk.PCSC // nil when the readers came from the config
	token     string
	grace     time.Duration
	trust     *trustFlags
	store     atomic.Pointer[pki.Store] // swapped on SIGHUP
}

// newDaemon wires the daemon. Nothing is served until run.
func newDaemon(ctx context.Context, e *env, cfg daemonConfig) (_ *daemon, err error) {
	f := cfg.flags
	d := &daemon{log: cfg.log, grace: f.shutdownGrace}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	stateDir, err := resolveStateDir(e, f.stateDir)
	if err != nil {
		return nil, err
	}
	if d.token, err = kiosk.LoadToken(tokenPath(e, f.tokenFile, stateDir)); err != nil {
		return nil, err
	}
	up, err := serveUploader(e, f, cfg.log)
	if err != nil {
		return nil, err
	}
	if d.outbox, err = openOutbox(e, f, stateDir); err != nil {
		return nil, err
	}
	readers := cfg.readers
	if readers == nil {
		if d.pcsc, err = openPCSC(ctx, cfg.log); err != nil {
			return nil, err
		}
		readers = d.pcsc
	}
	h, err := d.wire(f, readers, up)
	if err != nil {
		return nil, err
	}
	if d.listeners = cfg.listeners; d.listeners == nil {
		if d.listeners, err = listen(f.listen, cfg.log); err != nil {
			return nil, err
		}
	}
	d.srv = newServer(h, cfg.log)
	return d, nil
}

// wire builds the service, its metrics and the API handler.
func (d *daemon) wire(f *serveFlags, readers kiosk.Readers, up kiosk.Uploader) (http.Handler, error) {
	mode, err := parseExtended(f.extended)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	policy, err := f.parsePolicy()
	if err != nil {
		return nil, err
	}
	d.trust = f.trustFlags
	if err := d.reloadTrust(); err != nil {
		return nil, err
	}
	d.svc, err = kiosk.New(kiosk.Config{
		Readers: readers, Uploader: up, Outbox: d.outbox,
		Trust: d.store.Load, Authenticity: policy,
		Read:        icao.ReadConfig{MaxLe: f.maxLe, Extended: mode},
		CardTimeout: f.cardTimeout, ReinsertTimeout: f.reinsertTimeout, UploadTimeout: f.uploadTimeout,
		Version: version(), Logger: d.log, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	h, err := kiosk.NewHandler(d.svc, kiosk.HandlerConfig{Token: d.token, AllowOrigins: f.origins, Logger: d.log, UI: f.ui,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return h, nil
}

// serveUploader builds the upload client from the flags and credentials,
// without network I/O; nil with --no-upload. Its retries are few: the
// outbox retries for longer. Under systemd, credentials that exist but are
// empty (as the package installs them) are a daemon not configured yet: it
// serves reads without upload and says what to fill in.
func serveUploader(e *env, f *serveFlags, log *slog.Logger) (kiosk.Uploader, error) {
	if f.noUpload {
		return nil, nil
	}
	c, err := f.client(e, upload.RetryPolicy{MaxAttempts: 3, MaxElapsed: f.uploadTimeout})
	if errors.Is(err, upload.ErrNoCredentials) {
		if credentialExists(e, "api-key") {
			log.Warn("uploads are off until the vendor's API key and shared secret are in /etc/nfcbridge/credentials/api-key and api-secret; then restart nfcbridge", "error", err.Error())
			return nil, nil
		}
		return nil, fmt.Errorf("%w; --no-upload runs without", err)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// credentialExists reports whether systemd passed the credential name.
func credentialExists(e *env, name string) bool {
	_, ok := secretfile.Credential(e.getenv, name)
	return ok
}

// resolveStateDir picks and creates (0700) the state directory; an
// existing one open to other users is refused.
func resolveStateDir(e *env, dir string) (string, error) {
	if dir == "" {
		var err error
		if dir, err = stateDirPath(e); err != nil {
			return "", err
		}
	}
	if err := outbox.PrivateDir(dir); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return dir, nil
}

// stateDirPath is the default state directory: $STATE_DIRECTORY (systemd),
// else $XDG_STATE_HOME/nfcbridge, else ~/.local/state/nfcbridge.
func stateDirPath(e *env) (string, error) {
	if dir, _, _ := strings.Cut(e.getenv("STATE_DIRECTORY"), ":"); dir != "" { // systemd may list several
		return dir, nil
	}
	if base := e.getenv("XDG_STATE_HOME"); base != "" {
		return filepath.Join(base, "nfcbridge"), nil
	}
	if home := e.getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "nfcbridge"), nil
	}
	return "", usagef("--state-dir is required (no $STATE_DIRECTORY, $XDG_STATE_HOME or $HOME)")
}

// tokenPath is --token-file, else the systemd credential api-token if
// present, else token in the service's runtime directory (systemd's
// RuntimeDirectory=, 0750: the kiosk UI's group reads it there), else
// STATE-DIR/token.
func tokenPath(e *env, flag, stateDir string) string {
	if flag != "" {
		return flag
	}
	if path, ok := secretfile.Credential(e.getenv, "api-token"); ok {
		return path
	}
	if run, _, _ := strings.Cut(e.getenv("RUNTIME_DIRECTORY"), ":"); run != "" {
		return filepath.Join(run, "token")
	}
	return filepath.Join(stateDir, "token")
}

// openOutbox opens STATE-DIR/outbox with the key from --outbox-key-file,
// the systemd credential outbox-key, or STATE-DIR/outbox.key.
func openOutbox(e *env, f *serveFlags, stateDir string) (*outbox.Outbox, error) {
	var key []byte
	var err error
	if f.outboxKeyFile != "" {
		key, err = outbox.LoadKey(f.outboxKeyFile)
	} else {
		var ok bool
		key, ok, err = outbox.KeyFromCredentials(e.getenv, outbox.CredentialName)
		if err == nil && !ok {
			key, err = outbox.LoadKey(filepath.Join(stateDir, "outbox.key"))
		}
	}
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return outbox.Open(outbox.Config{Dir: filepath.Join(stateDir, "outbox"), Key: key, Retention: f.retention,
		Backoff: outbox.Backoff{Initial: f.retryInitial, Max: f.retryMax}})
}

// pcscWait is how long the daemon waits at start for pcscd to appear
// before it goes on without it (health then reports "down").
const pcscWait = 10 * time.Second

// openPCSC connects to pcscd. A polkit refusal is fatal: it will not go
// away by itself. pcscd not running is waited for briefly, then left to
// the service, which connects when pcscd comes.
func openPCSC(ctx context.Context, log *slog.Logger) (*kiosk.PCSC, error) {
	deadline := time.Now().Add(pcscWait)
	for {
		p, err := reader.Open()
		switch {
		case err == nil:
			return kiosk.NewPCSC(p), nil
		case errors.Is(err, reader.ErrAccessDenied):
			return nil, err
		case time.Now().After(deadline) || ctx.Err() != nil:
			log.Warn("pcscd is not running; reads start once it is", "error", err.Error())
			return &kiosk.PCSC{}, nil
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// reloadTrust loads the --trust paths into a new store and swaps it in:
// reads started afterwards use it. On error the current store stays.
func (d *daemon) reloadTrust() error {
	store, reports, err := d.trust.load()
	logTrust(d.log, reports)
	if err != nil {
		return err
	}
	d.store.Store(store)
	d.log.Info("trust anchors loaded", "cscas", store.Len(), "crls", store.CRLs(), "files", len(reports))
	return nil
}

// run serves until ctx ends, then shuts down: STOPPING=1 to systemd, stop
// accepting connections, cancel reads at the card, let uploads finish for
// --shutdown-grace (then they go to the outbox), end event streams, stop
// the outbox.
func (d *daemon) run(ctx context.Context) error {
	defer d.close()
	base, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	d.srv.BaseContext = func(net.Listener) context.Context { return base }
	outboxCtx, stopOutbox := context.WithCancel(context.Background())
	outboxDone := make(chan error, 1)
	go func() { outboxDone <- d.svc.Run(outboxCtx) }()
	serveErr := make(chan error, len(d.listeners))
	for _, l := range d.listeners {
		go func() { serveErr <- d.srv.Serve(l) }()
	}
	d.log.Info("serving", "addresses", addrs(d.listeners), "version", version())
	d.notify(sdnotify.SdNotifyReady + "\nSTATUS=serving the API on " + strings.Join(addrs(d.listeners), ", "))
	stopWatchdog := d.watchdog()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var err error
	outboxStopped := false
wait:
	for {
		select {
		case <-hup:
			d.notify(sdnotify.SdNotifyReloading)
			if rerr := d.reloadTrust(); rerr != nil {
				d.log.Warn("trust anchors not reloaded; the previous ones stay", "error", rerr.Error())
			}
			d.notify(sdnotify.SdNotifyReady)
			continue
		case <-ctx.Done():
		case err = <-serveErr:
			err = fmt.Errorf("serve: %w", err)
		case err = <-outboxDone:
			outboxStopped = true
		}
		break wait
	}
	stopWatchdog()
	d.notify(sdnotify.SdNotifyStopping)
	d.log.Info("stopping")
	shutdownDone := make(chan struct{})
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), d.grace+5*time.Second)
		defer cancel()
		d.srv.Shutdown(sctx)
		close(shutdownDone)
	}()
	gctx, cancel := context.WithTimeout(context.Background(), d.grace)
	if serr := d.svc.Shutdown(gctx); serr != nil {
		d.log.Error("reads did not stop", "error", serr.Error())
	}
	cancel()
	endStreams()
	<-shutdownDone
	stopOutbox()
	if !outboxStopped {
		if oerr := <-outboxDone; err == nil && oerr != nil {
			err = oerr
		}
	}
	d.log.Info("stopped", peakMemory()...)
	return err
}

// close releases what newDaemon acquired.
func (d *daemon) close() {
	closeAll(d.listeners)
	if d.outbox != nil {
		d.outbox.Close()
	}
	if d.pcsc != nil {
		d.pcsc.Close()
	}
}

// peakMemory reads the resident set (VmRSS) and its peak (VmHWM) of this
// process from /proc/self/status, as log attributes in bytes.
func peakMemory() []any {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	kb := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "VmRSS" || k == "VmHWM") {
			var n int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &n); err == nil {
				kb[k] = n
			}
		}
	}
	if len(kb) != 2 {
		return nil
	}
	return []any{"rssBytes", kb["VmRSS"] << 10, "peakRssBytes", kb["VmHWM"] << 10}
}
