package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vchip/inprocess"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// inProcessReader names the demo's reader when pcscd and vpcd are missing.
const inProcessReader = "nfcbridge in-process reader"

// demoFlags is the command line of demo.
type demoFlags struct {
	inProcess bool
	slot      int
	latency   time.Duration
	timeout   time.Duration
	keep      bool
}

// runDemo runs the whole product on this machine without a reader or
// credentials: the virtual specimen passport in the vpcd reader behind pcscd
// (or in process when they are missing), a local sandbox of the vendor's
// endpoint that checks signatures, and the daemon on a free loopback port;
// then it drives one read through the local API as a kiosk UI does, drawing
// the progress, and prints the result.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo")
	f := &demoFlags{}
	fs.BoolVar(&f.inProcess, "in-process", false, "serve the virtual passport in process even when pcscd and vpcd are available")
	fs.IntVar(&f.slot, "slot", 0, "vpcd reader slot for the virtual passport")
	fs.DurationVar(&f.latency, "latency", 0, "delay per APDU of the virtual chip, such as 6ms for a real chip's pace")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "give up after this long")
	fs.BoolVar(&f.keep, "keep", false, "keep the temporary state directory and the daemon's log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.slot < 0 || f.latency < 0 || f.timeout <= 0 {
		return usagef("--slot and --latency must not be negative, --timeout must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	ds, err := vchip.DefaultSpecimen()
	if err != nil {
		return err
	}
	chip, err := vchip.New(ds, &vchip.Config{Latency: f.latency})
	if err != nil {
		return err
	}
	readers, name, stopChip := demoReaders(ctx, e, f, chip)
	defer stopChip()
	sandbox, err := startSandbox()
	if err != nil {
		return err
	}
	defer sandbox.Close()
	fmt.Fprintf(e.stderr, "demo: local sandbox of the vendor's media endpoint at %s (checks request signatures)\n", sandbox.URL())
	return demoWithDaemon(ctx, e, f, readers, name, sandbox, ds.CSCA)
}

// sandboxServer is the vendor sandbox and the credentials it accepts.
type sandboxServer struct {
	*uploadtest.Server
	key, secret string
}

func startSandbox() (*sandboxServer, error) {
	key, secret := randomHex(16), randomHex(32)
	s := uploadtest.New(uploadtest.Config{Key: key, Secret: []byte(secret), AutoCreateSessions: true})
	if err := s.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("demo: sandbox: %w", err)
	}
	return &sandboxServer{Server: s, key: key, secret: secret}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// demoReaders puts the chip into vpcd slot f.slot behind pcscd when both
// are there, else serves it in process. It returns the daemon's Readers
// (nil: the daemon's own PC/SC), the reader's name and a stop function.
func demoReaders(ctx context.Context, e *env, f *demoFlags, chip *vchip.Passport) (kiosk.Readers, string, func()) {
	inProcess := func(why string) (kiosk.Readers, string, func()) {
		if why != "" {
			fmt.Fprintf(e.stderr, "demo: %s; using an in-process reader instead (for the real PC/SC stack run `make setup`)\n", why)
		}
		fmt.Fprintf(e.stderr, "demo: virtual passport (ICAO specimen, not a real person) in %q\n", inProcessReader)
		return &inprocess.Reader{Name: inProcessReader, Chip: chip}, inProcessReader, func() {}
	}
	if f.inProcess {
		return inProcess("")
	}
	name := fmt.Sprintf("Virtual PCD 00 %02d", f.slot)
	if why := vpcdMissing(ctx, name); why != "" {
		return inProcess(why)
	}
	sctx, cancel := context.WithCancel(ctx)
	inserted := make(chan struct{}, 1)
	served := make(chan error, 1)
	go func() {
		served <- vchip.Serve(sctx, vpcd.Addr(f.slot), chip, &vchip.ServeConfig{Inserted: func() {
			select {
			case inserted <- struct{}{}:
			default:
			}
		}})
	}()
	stop := func() { cancel(); <-served }
	select {
	case <-inserted:
		fmt.Fprintf(e.stderr, "demo: virtual passport (ICAO specimen, not a real person) in %q, through pcscd and vpcd\n", name)
		return nil, name, stop
	case err := <-served:
		cancel()
		return inProcess(fmt.Sprintf("the vpcd reader did not take the card (%v)", err))
	case <-time.After(5 * time.Second):
		stop()
		return inProcess("the vpcd reader did not take the card within 5 s (is another card in it?)")
	}
}

// vpcdMissing says why the vpcd reader called name cannot be used, "" if
// it can.
func vpcdMissing(ctx context.Context, name string) string {
	p, err := reader.Open()
	if err != nil {
		return "pcscd is not available (" + err.Error() + ")"
	}
	defer p.Close()
	infos, err := p.Readers(ctx)
	if err != nil {
		return "pcscd does not list its readers (" + err.Error() + ")"
	}
	if !slices.ContainsFunc(infos, func(in reader.Info) bool { return in.Name == name }) {
		return fmt.Sprintf("pcscd has no reader %q (vsmartcard-vpcd missing?)", name)
	}
	return ""
}

// demoWithDaemon starts the daemon, drives one read through its API and
// stops it.
// The daemon trusts csca, the specimen's CSCA, as it would a State's.
func demoWithDaemon(ctx context.Context, e *env, f *demoFlags, readers kiosk.Readers, name string, sb *sandboxServer, csca []byte) error {
	dir, err := os.MkdirTemp("", "nfcbridge-demo-")
	if err != nil {
		return err
	}
	if f.keep {
		fmt.Fprintf(e.stderr, "demo: state directory and daemon log kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	daemonEnv := &env{stdout: e.stdout, stderr: logFile, getenv: func(k string) string {
		switch k {
		case upload.EnvKey:
			return sb.key
		case upload.EnvSecret:
			return sb.secret
		case "CREDENTIALS_DIRECTORY", "STATE_DIRECTORY", upload.EnvNextSecret:
			return ""
		}
		return e.getenv(k)
	}}
	trust := filepath.Join(dir, "specimen-csca.cer")
	if err := os.WriteFile(trust, csca, 0o600); err != nil {
		return err
	}
	flags, err := parseServeFlags(daemonEnv, []string{"--state-dir", dir, "--api-url", sb.URL(), "--card-timeout", "30s", "--ui", "--trust", trust})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(logFile, nil))
	d, err := newDaemon(ctx, daemonEnv, daemonConfig{flags: flags, log: log, readers: readers, listeners: []net.Listener{l}})
	if err != nil {
		l.Close()
		return err
	}
	dctx, stopDaemon := context.WithCancel(context.WithoutCancel(ctx))
	stopped := make(chan error, 1)
	go func() { stopped <- d.run(dctx) }()
	defer func() { stopDaemon(); <-stopped }()
	ui := &kioskUI{base: "http://" + l.Addr().String(), token: d.token, out: e.stdout, msg: e.stderr, tty: isTerminal(e.stderr)}
	fmt.Fprintf(e.stderr, "demo: daemon serving the local API at %s\n", ui.base)
	return ui.run(ctx, name)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// kioskUI is what a kiosk UI does with the local API.
type kioskUI struct {
	base, token string
	out, msg    io.Writer
	tty         bool
	quarter     int // the last quarter of progress drawn, without a terminal
}

// run reads the passport on the reader called name and prints the result.
func (u *kioskUI) run(ctx context.Context, name string) error {
	var h kiosk.Health
	if err := u.call(ctx, "GET", "/v1/health", nil, http.StatusOK, &h); err != nil {
		return err
	}
	var rs struct{ Readers []kiosk.ReaderInfo }
	if err := u.call(ctx, "GET", "/v1/readers", nil, http.StatusOK, &rs); err != nil {
		return err
	}
	fmt.Fprintf(u.msg, "GET /v1/health: %s, pcsc %s; GET /v1/readers: %d reader(s)\n", h.Status, h.PCSC, len(rs.Readers))
	req := map[string]any{"sessionId": uuid.NewString(), "reader": name, "mrz": vchip.SpecimenMRZ}
	var st kiosk.Status
	if err := u.call(ctx, "POST", "/v1/reads", req, http.StatusAccepted, &st); err != nil {
		return err
	}
	fmt.Fprintf(u.msg, "POST /v1/reads: read %s for session %s\n", st.ID, st.SessionID)
	final, err := u.follow(ctx, st.ID)
	if err != nil {
		return err
	}
	return u.report(final)
}

// call sends one request with the token and decodes the JSON answer.
func (u *kioskUI) call(ctx context.Context, method, path string, body any, want int, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+u.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("demo: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("demo: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, out)
}

// follow reads the read's event stream, drawing each change, and returns
// the final status.
func (u *kioskUI) follow(ctx context.Context, id string) (kiosk.Status, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u.base+"/v1/reads/"+id+"/events", nil)
	if err != nil {
		return kiosk.Status{}, err
	}
	req.Header.Set("Authorization", "Bearer "+u.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return kiosk.Status{}, fmt.Errorf("demo: events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return kiosk.Status{}, fmt.Errorf("demo: events: %s", resp.Status)
	}
	var last kiosk.Status
	prev := kiosk.State("")
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(data), &last); err != nil {
			return last, fmt.Errorf("demo: event: %w", err)
		}
		u.draw(last, prev)
		prev = last.State
		if last.State.Final() {
			return last, nil
		}
	}
	if err := sc.Err(); err != nil {
		return last, fmt.Errorf("demo: events: %w", err)
	}
	return last, errors.New("demo: the event stream ended before the read did")
}

// draw shows a state change on its own line and progress as a bar, redrawn
// in place on a terminal.
func (u *kioskUI) draw(st kiosk.Status, prev kiosk.State) {
	if st.State == kiosk.Reading && st.Progress.BytesRead > 0 {
		const width = 30
		p := st.Progress
		n := p.Percent * width / 100
		bar := fmt.Sprintf("  reading  [%s%s] %3d%%  %-6s %6d/%d bytes", strings.Repeat("#", n), strings.Repeat(".", width-n), p.Percent, p.File, p.BytesRead, p.BytesTotal)
		switch {
		case u.tty:
			fmt.Fprint(u.msg, "\r"+bar)
		case st.State != prev || p.Percent/25 > u.quarter:
			fmt.Fprintln(u.msg, bar)
			u.quarter = p.Percent / 25
		}
		return
	}
	if st.State == prev {
		return
	}
	if u.tty && prev == kiosk.Reading {
		fmt.Fprintln(u.msg)
	}
	line := "  " + string(st.State)
	if st.State == kiosk.WaitingForCard && st.Resumes > 0 {
		line += " (the passport was taken off: put it back)"
	}
	fmt.Fprintln(u.msg, line)
}

// report prints the final result as JSON on stdout and a summary on
// stderr; a read that did not end done is an error.
func (u *kioskUI) report(st kiosk.Status) error {
	enc := json.NewEncoder(u.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		return err
	}
	if st.State != kiosk.Done {
		if st.Error != nil {
			return fmt.Errorf("demo: the read ended %s: %s (%s)", st.State, st.Error.Message, st.Error.Code)
		}
		return fmt.Errorf("demo: the read ended %s", st.State)
	}
	r := st.Result
	fmt.Fprintf(u.msg, "demo: done in %d ms: %d APDUs, chip read in %d ms, upload %d ms, EF.SOD hashes valid: %t, passive authentication: %s\n",
		st.UpdatedAt.Sub(st.CreatedAt).Milliseconds(), r.APDUs, r.ReadMillis, r.UploadMillis, r.SODHashesValid, r.SODSignature)
	if mem := peakMemory(); len(mem) == 4 {
		fmt.Fprintf(u.msg, "demo: memory of this process (daemon, sandbox and chip together): resident %d KiB, peak %d KiB\n",
			mem[1].(int64)>>10, mem[3].(int64)>>10)
	}
	return nil
}
