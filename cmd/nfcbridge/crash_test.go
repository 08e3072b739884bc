package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// Environment of the crash-consistency test.
const (
	envCrashPoints = "NFCBRIDGE_CRASH_POINTS" // kill points; 20 by default, hundreds in `make soak`
	envCrashSeed   = "NFCBRIDGE_CRASH_SEED"   // to replay a run
	envCrashChild  = "NFCBRIDGE_CRASH_CHILD"  // the daemon's arguments, a JSON array
)

// phases are where a kill point kills the daemon.
var phases = []string{"waiting", "authenticating", "reading", "uploading-down", "uploading-hung",
	"uploading-slow", "queued", "retrying"}

// TestCrashConsistency runs the daemon as a child process against a
// virtual passport (behind a private pcscd and vpcd) and the sandbox
// endpoint, and kills it with SIGKILL at random points of every phase of
// a read, restarting it each time. Every read answered 202 must end
// delivered exactly once (the sandbox holds it once, byte for byte) or
// failed with a reason; none may be lost (404, or done without a
// delivery) or delivered twice. GET /v1/reads/{id} must answer for every
// accepted read after every restart.
func TestCrashConsistency(t *testing.T) {
	d := pcsctest.Isolate(t)
	if d == nil {
		return // ran in a child process
	}
	points := 20
	if s := os.Getenv(envCrashPoints); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "%s=%q: want a positive number", envCrashPoints, s)
		require.Positive(t, n, "%s=%q: want a positive number", envCrashPoints, s)
		points = n
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv(envCrashSeed); s != "" {
		var err error
		seed, err = strconv.ParseInt(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (%s=%d replays it)", seed, envCrashSeed, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))

	ds := loadDataset(t, "specimen-20k")
	card := newCardSlot(t, d.Addr(0), ds)
	v := newVendor(t)
	h := newHarness(t, v)
	defer h.kill()

	accepted := map[string]string{} // read ID → session
	// finals holds each read's final state as first seen: the daemon
	// forgets finished reads after a while (at most 100 kept), so each is
	// looked at after every restart until it is final.
	finals := map[string]kiosk.Status{}
	check := func(when string) {
		for id := range accepted {
			if _, ok := finals[id]; ok {
				continue
			}
			var st kiosk.Status
			if assert.Equal(t, http.StatusOK, h.get(id, &st), "%s: GET read %s", when, id) && st.State.Final() {
				finals[id] = st
			}
		}
	}
	perPhase := map[string]int{}
	for i := range points {
		ph := phases[rng.IntN(len(phases))]
		perPhase[ph]++
		h.ensure()
		if id, session, ok := h.killPoint(ph, rng, card, v); ok {
			accepted[id] = session
		}
		h.kill()
		card.insert()
		v.set(vendorUp)
		h.ensure()
		check(fmt.Sprintf("after kill point %d (%s)", i, ph))
	}
	// Drain: vendor up, one more crash and restart, then every read must
	// reach a final state.
	v.set(vendorUp)
	h.kill()
	h.ensure()
	deadline := time.Now().Add(60 * time.Second)
	for len(finals) < len(accepted) && time.Now().Before(deadline) {
		check("after the last restart")
		time.Sleep(100 * time.Millisecond)
	}
	var list struct{ Reads []kiosk.Status }
	h.do("GET", "/v1/reads", nil, &list)
	listed := map[string]bool{}
	for _, st := range list.Reads {
		listed[st.ID] = true
	}

	deliveries := map[string]int{}
	for _, up := range v.sb.Uploads() {
		deliveries[up.SessionID]++
		for name, file := range map[string]string{"com": vchip.NameCOM, "sod": vchip.NameSOD, "dg1": "DG1", "dg2": "DG2"} {
			assert.Equal(t, ds.Files[file], up.NFC[name], "session %s: %s delivered differs from the chip's %s", up.SessionID, name, file)
		}
	}
	var once, failed, failedHeld, lost, twice int
	reasons := map[kiosk.Code]int{}
	for id, session := range accepted {
		st, final := finals[id]
		n := deliveries[session]
		switch {
		case n > 1:
			twice++
			assert.Failf(t, "delivered twice", "read %s delivered %d times", id, n)
		case !final:
			lost++
			assert.Failf(t, "lost", "read %s did not reach a final state (listed %t)", id, listed[id])
		case st.State == kiosk.Done && n == 1:
			once++
		case st.State == kiosk.Done:
			lost++
			assert.Failf(t, "lost", "read %s done but never delivered", id)
		case st.Error == nil || st.Error.Code == "" || st.Error.Message == "":
			lost++
			assert.Failf(t, "lost", "read %s %s without a reason", id, st.State)
		default:
			failed++
			reasons[st.Error.Code]++
			if n == 1 {
				failedHeld++ // unconfirmed: the vendor has it, once
			}
		}
		assert.True(t, listed[id] || st.State.Final(), "read %s (%s) missing from GET /v1/reads", id, st.State)
	}
	t.Logf("crash tally: kill points tried %d %v; reads accepted %d; delivered once %d; failed with reason %d %v (of which the vendor holds once: %d); lost %d; duplicated %d",
		points, perPhase, len(accepted), once, failed, reasons, failedHeld, lost, twice)
	if lost != 0 || twice != 0 {
		t.Logf("daemon log (last run):\n%s", h.out.String())
	}
}

// killPoint starts a read, drives it to phase ph and kills the daemon
// there. It returns the read's ID when the daemon answered 202.
func (h *harness) killPoint(ph string, rng *rand.Rand, card *cardSlot, v *vendor) (id, session string, ok bool) {
	t := h.t
	jitter := func(max time.Duration) { time.Sleep(time.Duration(rng.Int64N(int64(max) + 1))) }
	switch ph {
	case "waiting":
		card.remove()
	case "uploading-down", "queued":
		v.set(vendorDown)
	case "uploading-hung":
		v.set(vendorHung)
	case "uploading-slow":
		v.set(vendorSlow)
	case "retrying":
		v.set(vendorError)
	}
	session = uuid.NewString()
	var st kiosk.Status
	code := h.do("POST", "/v1/reads", map[string]any{"sessionId": session, "mrz": specimenMRZ, "reader": pcsctest.ReaderName(0)}, &st)
	if !assert.Equal(t, http.StatusAccepted, code, "%s: POST /v1/reads", ph) {
		return "", "", false
	}
	id = st.ID
	want := map[string][]kiosk.State{
		"waiting":        {kiosk.WaitingForCard},
		"authenticating": {kiosk.Authenticating, kiosk.Reading},
		"reading":        {kiosk.Reading},
		"uploading-down": {kiosk.Uploading, kiosk.Queued},
		"uploading-hung": {kiosk.Uploading},
		"uploading-slow": {kiosk.Uploading},
		"queued":         {kiosk.Queued},
		"retrying":       {kiosk.Queued},
	}[ph]
	got := h.waitFor(id, want, 5*time.Second)
	switch ph {
	case "waiting", "uploading-down", "queued":
		jitter(300 * time.Millisecond)
	case "authenticating":
		jitter(20 * time.Millisecond)
	case "reading":
		jitter(400 * time.Millisecond)
	case "uploading-hung", "uploading-slow", "retrying":
		jitter(1500 * time.Millisecond)
	}
	if got == "" {
		var now kiosk.Status
		h.get(id, &now)
		t.Logf("%s: read %s passed the phase before it was seen (now %s %+v)", ph, id, now.State, now.Error)
		if os.Getenv("NFCBRIDGE_CRASH_DEBUG") != "" {
			t.Logf("daemon log:\n%s", h.out.String())
			if p, err := reader.Open(); err == nil {
				infos, err := p.Readers(context.Background())
				t.Logf("readers: %+v %v", infos, err)
				p.Close()
			}
		}
	}
	return id, session, true
}

// harness runs the daemon as a child process: this test binary again,
// running TestCrashDaemonChild.
type harness struct {
	t        *testing.T
	v        *vendor
	state    string
	listen   string
	token    string
	cmd      *exec.Cmd
	exited   chan struct{}
	out      *lockedBuffer
	client   *http.Client
	restarts int
}

func newHarness(t *testing.T, v *vendor) *harness {
	state, err := os.MkdirTemp("", "nfcbridge-crash-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(state) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return &harness{t: t, v: v, state: state, listen: addr, client: &http.Client{Timeout: 10 * time.Second}}
}

// ensure starts the daemon if it is not running and waits until it answers.
func (h *harness) ensure() {
	t := h.t
	t.Helper()
	if h.cmd != nil {
		return
	}
	args := []string{"--state-dir", h.state, "--listen", h.listen, "--api-url", h.v.url,
		"--upload-timeout", "2s", "--retry-initial", "200ms", "--retry-max", "1s",
		"--card-timeout", "20s", "--log-level", "info"}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDaemonChild$", "-test.count=1")
	argv, err := json.Marshal(args)
	require.NoError(t, err)
	cmd.Env = append(os.Environ(), envCrashChild+"="+string(argv),
		"NFCBRIDGE_API_KEY="+h.v.key, "NFCBRIDGE_API_SECRET="+h.v.secret)
	h.out = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = h.out, h.out
	require.NoError(t, cmd.Start())
	h.cmd, h.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(h.exited) }()
	h.restarts++
	deadline := time.Now().Add(20 * time.Second)
	for {
		if h.token == "" {
			if b, err := os.ReadFile(filepath.Join(h.state, "token")); err == nil {
				h.token = strings.TrimSpace(string(b))
			}
		}
		if h.token != "" {
			if resp, err := h.client.Get("http://" + h.listen + "/v1/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		select {
		case <-h.exited:
			require.FailNow(t, "the daemon exited at start", "%s", h.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "the daemon did not answer", "%s", h.out.String())
		}
	}
}

// kill kills the daemon with SIGKILL, as a power cut or the OOM killer.
func (h *harness) kill() {
	if h.cmd == nil {
		return
	}
	h.cmd.Process.Signal(syscall.SIGKILL)
	<-h.exited
	h.cmd = nil
}

// do calls the API; it returns the status code, 0 if there was no answer.
func (h *harness) do(method, path string, body, out any) int {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(h.t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+h.listen+path, r)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (h *harness) get(id string, st *kiosk.Status) int { return h.do("GET", "/v1/reads/"+id, nil, st) }

// waitFor polls the read until it is in one of states, and returns it;
// "" when it went past them (or the time ran out).
func (h *harness) waitFor(id string, states []kiosk.State, timeout time.Duration) kiosk.State {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var st kiosk.Status
		if h.get(id, &st) == http.StatusOK {
			for _, s := range states {
				if st.State == s {
					return s
				}
			}
			if st.State.Final() {
				return ""
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ""
}

// TestCrashDaemonChild is the daemon of TestCrashConsistency.
func TestCrashDaemonChild(t *testing.T) {
	argv := os.Getenv(envCrashChild)
	if argv == "" {
		t.Skip("runs as the child of TestCrashConsistency")
	}
	var args []string
	require.NoError(t, json.Unmarshal([]byte(argv), &args))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	if err := runServe(ctx, e, args); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		require.NoError(t, err)
	}
}

// cardSlot keeps a virtual passport in a vpcd reader, or takes it out.
type cardSlot struct {
	t      *testing.T
	addr   string
	ds     *vchip.Dataset
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func newCardSlot(t *testing.T, addr string, ds *vchip.Dataset) *cardSlot {
	c := &cardSlot{t: t, addr: addr, ds: ds}
	c.insert()
	t.Cleanup(func() {
		c.mu.Lock()
		if c.cancel != nil {
			c.cancel()
			<-c.done
		}
		c.mu.Unlock()
	})
	return c
}

// insert puts the card in, and back in whenever vpcd drops it, until
// remove. A chip answers with the latency of a real one, so that every
// phase of a read lasts long enough to be hit.
func (c *cardSlot) insert() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return
	}
	defer pcsctest.WaitPresent(c.t, 0)
	chip, err := vchip.New(c.ds, &vchip.Config{Latency: 15 * time.Millisecond})
	require.NoError(c.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.cancel, c.done = cancel, done
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			err := vchip.Serve(ctx, c.addr, chip, nil)
			if os.Getenv("NFCBRIDGE_CRASH_DEBUG") != "" {
				c.t.Logf("serve: %v", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
}

func (c *cardSlot) remove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
	c.cancel = nil
	pcsctest.WaitEmpty(c.t, 0) // else vpcd takes the next card for this one
}

// Vendor behaviours.
const (
	vendorUp    = "up"
	vendorDown  = "down"  // connections refused
	vendorHung  = "hung"  // connections accepted, no answer
	vendorSlow  = "slow"  // answers after up to 1.5 s
	vendorError = "error" // 503 without storing anything
)

// vendor is the sandbox endpoint behind a switch that takes it down
// (closing its listener) or makes it hang, dawdle or fail.
type vendor struct {
	sb          *uploadtest.Server
	h           http.Handler
	key, secret string
	addr, url   string

	mu   sync.Mutex
	mode string
	srv  *http.Server
	rng  *rand.Rand
}

func newVendor(t *testing.T) *vendor {
	key, secret := randomHex(16), randomHex(32)
	v := &vendor{sb: uploadtest.New(uploadtest.Config{Key: key, Secret: []byte(secret), AutoCreateSessions: true}),
		key: key, secret: secret, rng: rand.New(rand.NewPCG(1, 2))}
	v.h = v.sb.Handler()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	v.addr = l.Addr().String()
	v.url = "http://" + v.addr
	v.serve(l)
	v.mode = vendorUp
	t.Cleanup(func() { v.set(vendorDown) })
	return v
}

func (v *vendor) serve(l net.Listener) {
	v.srv = &http.Server{Handler: http.HandlerFunc(v.handle)}
	go v.srv.Serve(l)
}

// set switches the behaviour; down closes the listener, anything else
// opens it again on the same address.
func (v *vendor) set(mode string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if mode == v.mode {
		return
	}
	if mode == vendorDown {
		v.srv.Close()
		v.srv = nil
	} else if v.srv == nil {
		for range 100 {
			l, err := net.Listen("tcp", v.addr)
			if err == nil {
				v.serve(l)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	v.mode = mode
}

func (v *vendor) handle(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	mode := v.mode
	delay := time.Duration(v.rng.Int64N(int64(1500 * time.Millisecond)))
	v.mu.Unlock()
	switch mode {
	case vendorHung:
		delay = time.Minute
	case vendorError:
		io.Copy(io.Discard, r.Body)
		http.Error(w, `{"status":"fail","code":"1001","message":"unavailable"}`, http.StatusServiceUnavailable)
		return
	case vendorSlow:
	default:
		delay = 0
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return // the client went away: nothing is stored
		}
	}
	v.h.ServeHTTP(w, r)
}
