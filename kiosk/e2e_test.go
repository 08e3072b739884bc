package kiosk_test

// End-to-end tests of the daemon's API through the real PC/SC stack: the
// virtual passport in a vpcd reader, pcscd, reader.PCSC, the service, the
// HTTP API and the vendor sandbox (uploadtest).

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/outbox"
	"github.com/nfcbridge/nfcbridge/pki"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// rig is a daemon under test: service, API, sandbox, outbox and logs.
type rig struct {
	*api
	svc      *kiosk.Service
	sandbox  *sandbox
	logs     *logBuffer
	stateDir string
	key      []byte
}

// rigConfig adjusts a rig.
type rigConfig struct {
	readers  kiosk.Readers  // nil: PC/SC
	uploader kiosk.Uploader // nil: the sandbox
	service  func(*kiosk.Config)
	stateDir string // "": a new temporary directory
	ui       bool   // serve the reference page (serve --ui)
}

func newRig(t *testing.T, rc rigConfig) *rig {
	t.Helper()
	r := &rig{sandbox: newSandbox(t), logs: &logBuffer{}, stateDir: rc.stateDir}
	if r.stateDir == "" {
		r.stateDir = t.TempDir()
	}
	var err error
	r.key, err = outbox.LoadKey(filepath.Join(r.stateDir, "outbox.key"))
	require.NoError(t, err)
	ob, err := outbox.Open(outbox.Config{Dir: filepath.Join(r.stateDir, "outbox"), Key: r.key,
		Backoff: outbox.Backoff{Initial: 100 * time.Millisecond, Max: 200 * time.Millisecond}})
	require.NoError(t, err)
	readers := rc.readers
	if readers == nil {
		p, err := reader.Open()
		require.NoError(t, err)
		pcsc := kiosk.NewPCSC(p)
		t.Cleanup(func() { pcsc.Close() })
		readers = pcsc
	}
	up := rc.uploader
	if up == nil {
		up = r.sandbox.client()
	}
	// The specimens' CSCAs are the trust anchors, as States' CSCAs would be.
	store := &pki.Store{}
	_, err = store.LoadPath("../testdata/passports")
	require.NoError(t, err)
	require.GreaterOrEqual(t, store.Len(), 4)
	cfg := kiosk.Config{Readers: readers, Uploader: up, Outbox: ob, Logger: r.logs.logger(), Trust: func() *pki.Store { return store },
		CardTimeout: 10 * time.Second, ReinsertTimeout: 10 * time.Second, UploadTimeout: 5 * time.Second}
	if rc.service != nil {
		rc.service(&cfg)
	}
	// Cleanups run last-registered first: the service stops before the
	// outbox closes.
	t.Cleanup(func() { ob.Close() })
	r.svc = newService(t, cfg)
	r.api = newAPI(t, r.svc, kiosk.HandlerConfig{Logger: r.logs.logger(), UI: rc.ui})
	return r
}

// insert serves chip in vpcd slot addr until the test ends.
func insert(t *testing.T, addr string, chip *vchip.Passport, cfg *vchip.ServeConfig) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- vchip.Serve(ctx, addr, chip, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, vpcd.ErrReaderClosed) {
			assert.NoError(t, err, "serving the chip")
		}
	})
}

func realStack(t *testing.T) {
	t.Helper()
	pcsctest.Require(t)
	pcsctest.Lock(t)
}

// checkUpload asserts that the sandbox holds exactly one upload, for
// session, byte-identical to the specimen's files.
func checkUpload(t *testing.T, sb *sandbox, session string) {
	t.Helper()
	checkUploadOf(t, sb, session, specimen(t))
}

// checkUploadOf asserts that the sandbox holds exactly one upload, for
// session, byte-identical to the files of ds.
func checkUploadOf(t *testing.T, sb *sandbox, session string, ds *vchip.Dataset) {
	t.Helper()
	ups := sb.Uploads()
	require.Len(t, ups, 1, "uploads")
	assert.Equal(t, session, ups[0].SessionID)
	for name, file := range map[string]string{"com": vchip.NameCOM, "sod": vchip.NameSOD, "dg1": "DG1", "dg2": "DG2"} {
		assert.True(t, bytesEqual(ds.Files[file], ups[0].NFC[name]), "%s uploaded differs from the dataset's %s", name, file)
	}
}

func bytesEqual(a, b []byte) bool { return len(a) == len(b) && string(a) == string(b) }

func TestE2EFullRead(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{})
	insert(t, vpcd.Addr(0), newChip(t, nil), nil)
	session := uuid.NewString()
	st := r.start(readReq(session, map[string]any{"reader": pcsctest.ReaderName(0)}))
	assert.Equal(t, kiosk.WaitingForCard, st.State)
	evs := r.follow(st.ID, 30*time.Second)
	require.NotEmpty(t, evs)
	assert.Equal(t, []kiosk.State{kiosk.WaitingForCard, kiosk.Authenticating, kiosk.Reading, kiosk.Uploading, kiosk.Done}, states(evs))
	checkProgress(t, evs)
	final := evs[len(evs)-1].status
	require.NotNil(t, final.Result)
	res := final.Result
	assert.True(t, res.SODHashesValid)
	assert.Equal(t, "BAC", res.AccessControl)
	ds := specimen(t)
	assert.Equal(t, map[string]kiosk.FileInfo{"com": {Size: len(ds.Files[vchip.NameCOM])}, "sod": {Size: len(ds.Files[vchip.NameSOD])},
		"dg1": {Size: len(ds.Files["DG1"])}, "dg2": {Size: len(ds.Files["DG2"])}}, res.Files)
	assert.Contains(t, string(res.Media), `"sessionId":"`+session+`"`)
	assert.Positive(t, res.APDUs)
	checkUpload(t, r.sandbox, session)
	t.Logf("read %d APDUs in %d ms, upload %d ms", res.APDUs, res.ReadMillis, res.UploadMillis)

	t.Run("logs hold no personal data or secret", func(t *testing.T) {
		logs := r.logs.String()
		assert.Contains(t, logs, st.ID, "the logs name the read")
		assert.Contains(t, logs, `"apdus"`)
		forbidden := map[string]string{
			"MRZ line 1": strings.Split(specimenMRZ, "\n")[0], "MRZ line 2": strings.Split(specimenMRZ, "\n")[1],
			"document number": "L898902C3", "surname": "ERIKSSON", "given names": "ANNA", "date of birth": "740812",
			"date of expiry": "120415", "token": r.token, "API key": r.sandbox.creds.Key, "API secret": string(r.sandbox.creds.Secret),
			"DG1 (base64)":        base64.StdEncoding.EncodeToString(ds.Files["DG1"]),
			"DG2 (base64 prefix)": base64.StdEncoding.EncodeToString(ds.Files["DG2"][:48]),
		}
		for what, s := range forbidden {
			assert.NotContains(t, strings.ToUpper(logs), strings.ToUpper(s), "logs hold the %s", what)
		}
	})
}

// checkProgress asserts that the progress never goes backwards and ends at
// 100 %, with every byte counted.
func checkProgress(t *testing.T, evs []sseEvent) {
	t.Helper()
	prev := -1
	progress := 0
	for _, ev := range evs {
		p := ev.status.Progress
		assert.GreaterOrEqual(t, p.Percent, prev, "progress went backwards")
		assert.LessOrEqual(t, p.BytesRead, p.BytesTotal)
		prev = p.Percent
		if ev.name == "progress" {
			progress++
		}
	}
	last := evs[len(evs)-1].status.Progress
	assert.Equal(t, 100, last.Percent)
	assert.Equal(t, last.BytesTotal, last.BytesRead)
	assert.Positive(t, progress, "progress events")
}

func TestE2EWrongMRZ(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{})
	insert(t, vpcd.Addr(0), newChip(t, nil), nil)
	wrong := map[string]any{"documentNumber": "X12345678", "dateOfBirth": "740812", "dateOfExpiry": "120415"}
	st := r.start(map[string]any{"sessionId": uuid.NewString(), "mrz": wrong, "reader": pcsctest.ReaderName(0)})
	evs := r.follow(st.ID, 30*time.Second)
	final := evs[len(evs)-1].status
	assert.Equal(t, kiosk.Failed, final.State)
	require.NotNil(t, final.Error)
	assert.Equal(t, kiosk.CodeAccessDenied, final.Error.Code)
	assert.False(t, final.Error.Retryable)
	assert.Empty(t, r.sandbox.Uploads())
}

func TestE2ECardTimeout(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{service: func(c *kiosk.Config) { c.CardTimeout = 700 * time.Millisecond }})
	st := r.start(readReq(uuid.NewString(), map[string]any{"reader": pcsctest.ReaderName(0)}))
	evs := r.follow(st.ID, 30*time.Second)
	assert.Equal(t, []kiosk.State{kiosk.WaitingForCard, kiosk.Failed}, states(evs))
	final := evs[len(evs)-1].status
	require.NotNil(t, final.Error)
	assert.Equal(t, kiosk.CodeCardTimeout, final.Error.Code)
	assert.True(t, final.Error.Retryable)
	var rs struct{ Readers []kiosk.ReaderInfo }
	require.Equal(t, http.StatusOK, r.do("GET", "/v1/readers", nil, &rs))
	for _, in := range rs.Readers {
		assert.False(t, in.Busy, "reader %s still busy", in.Name)
	}
}

// TestE2ECardPulledAndPutBack takes the passport off the reader in the
// middle of DG2 and puts it back a second later: the read waits, resumes
// where it stopped and uploads the files byte for byte.
func TestE2ECardPulledAndPutBack(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{service: func(c *kiosk.Config) { c.Read.Extended = icao.ExtendedNever }})
	chip := newChip(t, &vchip.Config{RemoveAfter: 40})
	insert(t, vpcd.Addr(0), chip, &vchip.ServeConfig{Reinsert: time.Second})
	session := uuid.NewString()
	st := r.start(readReq(session, map[string]any{"reader": pcsctest.ReaderName(0)}))
	evs := r.follow(st.ID, 60*time.Second)
	final := evs[len(evs)-1].status
	require.Equal(t, kiosk.Done, final.State, "error %+v", final.Error)
	assert.Equal(t, 1, final.Resumes)
	ss := states(evs)
	assert.Equal(t, []kiosk.State{kiosk.WaitingForCard, kiosk.Authenticating, kiosk.Reading, kiosk.WaitingForCard,
		kiosk.Authenticating, kiosk.Reading, kiosk.Uploading, kiosk.Done}, ss)
	checkProgress(t, evs)
	checkUpload(t, r.sandbox, session)
}

// TestE2ECardPulledForGood: the passport does not come back in time.
func TestE2ECardPulledForGood(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{service: func(c *kiosk.Config) {
		c.Read.Extended = icao.ExtendedNever
		c.ReinsertTimeout = 700 * time.Millisecond
	}})
	insert(t, vpcd.Addr(0), newChip(t, &vchip.Config{RemoveAfter: 40}), nil)
	st := r.start(readReq(uuid.NewString(), map[string]any{"reader": pcsctest.ReaderName(0)}))
	evs := r.follow(st.ID, 30*time.Second)
	final := evs[len(evs)-1].status
	assert.Equal(t, kiosk.Failed, final.State)
	require.NotNil(t, final.Error)
	assert.Equal(t, kiosk.CodeCardRemoved, final.Error.Code)
	assert.Empty(t, r.sandbox.Uploads())
}

func TestE2ECancel(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{service: func(c *kiosk.Config) { c.Read.Extended = icao.ExtendedNever }})
	chip := newChip(t, &vchip.Config{Latency: 40 * time.Millisecond})
	insert(t, vpcd.Addr(0), chip, nil)
	name := pcsctest.ReaderName(0)
	st := r.start(readReq(uuid.NewString(), map[string]any{"reader": name}))
	r.waitState(st.ID, kiosk.Reading, 20*time.Second)
	var canceled kiosk.Status
	require.Equal(t, http.StatusOK, r.do("DELETE", "/v1/reads/"+st.ID, nil, &canceled))
	assert.Equal(t, kiosk.Canceled, canceled.State)
	require.NotNil(t, canceled.Error)
	assert.Equal(t, kiosk.CodeCanceled, canceled.Error.Code)
	assert.Nil(t, canceled.Result)
	// Canceling again is harmless.
	require.Equal(t, http.StatusOK, r.do("DELETE", "/v1/reads/"+st.ID, nil, &canceled))
	assert.Equal(t, kiosk.Canceled, canceled.State)
	// The card was released: the next read on the same reader works.
	chipFast := r.start(readReq(uuid.NewString(), map[string]any{"reader": name, "upload": false}))
	evs := r.follow(chipFast.ID, 60*time.Second)
	assert.Equal(t, kiosk.Done, evs[len(evs)-1].status.State)
	assert.Empty(t, r.sandbox.Uploads(), "nothing uploaded")
}

func TestE2ETwoReaders(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{service: func(c *kiosk.Config) { c.Read.Extended = icao.ExtendedNever }})
	for slot := range 2 {
		insert(t, vpcd.Addr(slot), newChip(t, &vchip.Config{Latency: 3 * time.Millisecond}), nil)
	}
	sessions := []string{uuid.NewString(), uuid.NewString()}
	var ids []string
	for slot, s := range sessions {
		ids = append(ids, r.start(readReq(s, map[string]any{"reader": pcsctest.ReaderName(slot)})).ID)
	}
	var e struct{ Error kiosk.Error }
	require.Equal(t, http.StatusConflict, r.do("POST", "/v1/reads", readReq(uuid.NewString(), map[string]any{"reader": pcsctest.ReaderName(0)}), &e))
	assert.Equal(t, kiosk.CodeReaderBusy, e.Error.Code)
	require.Equal(t, http.StatusConflict, r.do("POST", "/v1/reads", readReq(uuid.NewString(), nil), &e), "no free reader")

	var wg sync.WaitGroup
	finals := make([]kiosk.Status, 2)
	for i, id := range ids {
		wg.Go(func() {
			evs := r.follow(id, 60*time.Second)
			finals[i] = evs[len(evs)-1].status
		})
	}
	wg.Wait()
	for i, f := range finals {
		assert.Equal(t, kiosk.Done, f.State, "read %d: %+v", i, f.Error)
		assert.Equal(t, pcsctest.ReaderName(i), f.Reader)
	}
	// Both reads ran at the same time.
	assert.True(t, finals[1].CreatedAt.Before(finals[0].UpdatedAt) && finals[0].CreatedAt.Before(finals[1].UpdatedAt))
	ups := r.sandbox.Uploads()
	require.Len(t, ups, 2)
	assert.ElementsMatch(t, sessions, []string{ups[0].SessionID, ups[1].SessionID})
}

// switchable is an uploader whose vendor can be taken down and brought
// back: down, it sends to a port nobody listens on.
type switchable struct {
	mu   sync.Mutex
	up   kiosk.Uploader
	down kiosk.Uploader
	isUp bool
}

func newSwitchable(t *testing.T, sb *sandbox) *switchable {
	dead := &upload.Client{BaseURL: "http://127.0.0.1:1", Credentials: sb.creds,
		Retry: upload.RetryPolicy{MaxAttempts: 2, BaseDelay: 10 * time.Millisecond, MaxElapsed: time.Second}}
	return &switchable{up: sb.client(), down: dead}
}

func (s *switchable) set(up bool) {
	s.mu.Lock()
	s.isUp = up
	s.mu.Unlock()
}

func (s *switchable) UploadNFC(ctx context.Context, session string, nfc upload.NFC) (*upload.Media, error) {
	s.mu.Lock()
	u := s.down
	if s.isUp {
		u = s.up
	}
	s.mu.Unlock()
	return u.UploadNFC(ctx, session, nfc)
}

func TestE2EUploadQueuedThenDelivered(t *testing.T) {
	realStack(t)
	sb := newSandbox(t)
	vendor := newSwitchable(t, sb)
	r := newRig(t, rigConfig{uploader: vendor})
	r.sandbox = sb
	insert(t, vpcd.Addr(0), newChip(t, nil), nil)
	session := uuid.NewString()
	st := r.start(readReq(session, map[string]any{"reader": pcsctest.ReaderName(0)}))
	r.waitState(st.ID, kiosk.Queued, 30*time.Second)
	assert.Empty(t, sb.Uploads())
	vendor.set(true)
	evs := r.follow(st.ID, 30*time.Second)
	assert.Equal(t, []kiosk.State{kiosk.WaitingForCard, kiosk.Authenticating, kiosk.Reading, kiosk.Uploading, kiosk.Queued, kiosk.Done}, states(evs))
	final := evs[len(evs)-1].status
	require.NotNil(t, final.Result)
	assert.Contains(t, string(final.Result.Media), session)
	assert.True(t, final.Result.SODHashesValid)
	time.Sleep(300 * time.Millisecond) // a second delivery would happen now
	checkUpload(t, sb, session)
}

// TestE2EQueuedAcrossRestart stops the daemon while the vendor is down;
// a new daemon on the same state directory lists the read as queued and
// delivers it once the vendor is back.
func TestE2EQueuedAcrossRestart(t *testing.T) {
	realStack(t)
	sb := newSandbox(t)
	vendor := newSwitchable(t, sb)
	dir := t.TempDir()
	var id, session, lastEvent string
	var before kiosk.Status
	t.Run("first daemon", func(t *testing.T) {
		r := newRig(t, rigConfig{uploader: vendor, stateDir: dir})
		insert(t, vpcd.Addr(0), newChip(t, nil), nil)
		session = uuid.NewString()
		id = r.start(readReq(session, map[string]any{"reader": pcsctest.ReaderName(0)})).ID
		before = r.waitState(id, kiosk.Queued, 30*time.Second)
		evs := r.peek(id, 500*time.Millisecond)
		require.NotEmpty(t, evs)
		lastEvent = evs[len(evs)-1].id
	}) // the daemon stops here
	require.NotEmpty(t, id)
	r := newRig(t, rigConfig{uploader: vendor, stateDir: dir})
	// The read is found again, with the same result summary.
	var list struct{ Reads []kiosk.Status }
	require.Equal(t, http.StatusOK, r.do("GET", "/v1/reads", nil, &list))
	require.Len(t, list.Reads, 1)
	assert.Equal(t, id, list.Reads[0].ID)
	assert.Equal(t, kiosk.Queued, list.Reads[0].State)
	require.NotNil(t, before.Result)
	require.NotNil(t, list.Reads[0].Result)
	want, got := *before.Result, *list.Reads[0].Result
	want.UploadMillis, got.UploadMillis = 0, 0
	assert.Equal(t, want, got)
	assert.True(t, got.SODHashesValid)
	assert.NotEmpty(t, got.Files)
	assert.NotZero(t, got.APDUs)

	// A client reconnecting with the last event id it had gets the
	// current state, then the final event.
	evc := make(chan []sseEvent, 1)
	go func() { evc <- r.followFrom(id, lastEvent, 30*time.Second) }()
	time.Sleep(200 * time.Millisecond)
	vendor.set(true)
	st := r.waitState(id, kiosk.Done, 30*time.Second)
	evs := <-evc
	require.NotEmpty(t, evs)
	assert.Equal(t, kiosk.Queued, evs[0].status.State)
	assert.Equal(t, kiosk.Done, evs[len(evs)-1].status.State)
	assert.NotEqual(t, lastEvent, evs[0].id, "event ids are not reused")
	assert.Equal(t, session, st.SessionID)
	require.NotNil(t, st.Result)
	assert.Contains(t, string(st.Result.Media), session)
	assert.Equal(t, want.APDUs, st.Result.APDUs)
	assert.Equal(t, want.Files, st.Result.Files)
	assert.Equal(t, want.AccessControl, st.Result.AccessControl)
	time.Sleep(300 * time.Millisecond)
	checkUpload(t, sb, session)
	entries, err := os.ReadDir(filepath.Join(dir, "outbox"))
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".bad"), "quarantined %s", e.Name())
	}
}

// TestE2EPCSCDRestart runs a private pcscd and restarts it under the
// daemon: health reports it, a read waiting for a card survives it, and
// reads work afterwards without restarting the daemon.
func TestE2EPCSCDRestart(t *testing.T) {
	d := pcsctest.Isolate(t)
	if d == nil {
		return // ran in a child process
	}
	r := newRig(t, rigConfig{service: func(c *kiosk.Config) { c.CardTimeout = 30 * time.Second }})
	var h kiosk.Health
	require.Equal(t, http.StatusOK, r.do("GET", "/v1/health", nil, &h))
	assert.Equal(t, "up", h.PCSC)
	name := pcsctest.ReaderName(0)
	st := r.start(readReq(uuid.NewString(), map[string]any{"reader": name}))

	d.Stop(t)
	require.Equal(t, http.StatusOK, r.do("GET", "/v1/health", nil, &h))
	assert.Equal(t, "down", h.PCSC)
	var e struct{ Error kiosk.Error }
	assert.Equal(t, http.StatusServiceUnavailable, r.do("GET", "/v1/readers", nil, &e))
	assert.Equal(t, kiosk.CodePCSCUnavailable, e.Error.Code)
	assert.Equal(t, http.StatusServiceUnavailable, r.do("POST", "/v1/reads", readReq(uuid.NewString(), nil), &e))
	d.Start(t)

	insert(t, d.Addr(0), newChip(t, nil), nil)
	evs := r.follow(st.ID, 60*time.Second)
	final := evs[len(evs)-1].status
	if !assert.Equal(t, kiosk.Done, final.State, "read across the restart: %+v", final.Error) {
		t.Log(r.logs.String())
	}
	require.Equal(t, http.StatusOK, r.do("GET", "/v1/health", nil, &h))
	assert.Equal(t, "up", h.PCSC)
	// And a new read after the restart.
	st = r.start(readReq(uuid.NewString(), map[string]any{"reader": name, "upload": false}))
	evs = r.follow(st.ID, 60*time.Second)
	assert.Equal(t, kiosk.Done, evs[len(evs)-1].status.State)
}

// TestE2EPACEWithCAN reads a PACE-only ID card with chip authentication
// mapping through the API, with the CAN alone.
func TestE2EPACEWithCAN(t *testing.T) {
	realStack(t)
	r := newRig(t, rigConfig{})
	ds, err := vchip.LoadDir("../testdata/passports/specimen-pace-only-cam")
	require.NoError(t, err)
	chip, err := vchip.New(ds, nil)
	require.NoError(t, err)
	insert(t, vpcd.Addr(0), chip, nil)
	session := uuid.NewString()
	st := r.start(map[string]any{"sessionId": session, "can": "123456", "reader": pcsctest.ReaderName(0)})
	evs := r.follow(st.ID, 30*time.Second)
	final := evs[len(evs)-1].status
	require.Equal(t, kiosk.Done, final.State, "error: %+v", final.Error)
	res := final.Result
	assert.Equal(t, "PACE", res.AccessControl)
	require.NotNil(t, res.PACE)
	assert.Equal(t, "PACE-ECDH-CAM-AES-128", res.PACE.Protocol)
	assert.Equal(t, "CAN", res.PACE.Password)
	assert.Equal(t, "verified", res.PACE.ChipAuthentication)
	assert.Equal(t, pki.StatusValid, res.SODSignature, "the DS chains to the specimen CSCA")
	require.NotNil(t, res.Authenticity)
	assert.Equal(t, mrtd.Passed, res.Authenticity.Passive.Hashes)
	assert.True(t, res.SODHashesValid)
	checkUploadOf(t, r.sandbox, session, ds)
}

// TestE2EPCSCDStopMidRead stops a private pcscd with SIGTERM while the
// chip is being read (what `systemctl restart pcscd` and package upgrades
// do) and starts it again: the read resumes and ends done, never with a
// polkit message. A few runs in CI, NFCBRIDGE_PCSCD_RESTARTS in `make soak`.
func TestE2EPCSCDStopMidRead(t *testing.T) {
	d := pcsctest.Isolate(t)
	if d == nil {
		return // ran in a child process
	}
	runs := 2
	if s := os.Getenv("NFCBRIDGE_PCSCD_RESTARTS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		runs = n
	}
	// Many short APDUs, so that pcscd stops between exchanges as often as
	// during one.
	r := newRig(t, rigConfig{service: func(c *kiosk.Config) {
		c.CardTimeout, c.ReinsertTimeout = 30*time.Second, 30*time.Second
		c.Read = icao.ReadConfig{MaxLe: 32, Extended: icao.ExtendedNever}
	}})
	name := pcsctest.ReaderName(0)
	// The card goes back into the reader whenever pcscd comes back.
	chip := newChip(t, &vchip.Config{Latency: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		for ctx.Err() == nil {
			vchip.Serve(ctx, d.Addr(0), chip, nil)
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-served })
	resumed := 0
	for run := range runs {
		st := r.start(readReq(uuid.NewString(), map[string]any{"reader": name, "upload": false}))
		r.waitState(st.ID, kiosk.Reading, 30*time.Second)
		time.Sleep(time.Duration(run*97%500) * time.Millisecond)
		d.Stop(t)
		d.Start(t)
		evs := r.follow(st.ID, 60*time.Second)
		final := evs[len(evs)-1].status
		if final.Error != nil {
			assert.NotEqual(t, kiosk.CodePCSCDenied, final.Error.Code, "run %d", run)
		}
		if assert.Equal(t, kiosk.Done, final.State, "run %d: %+v", run, final.Error) {
			resumed++
		}
		t.Logf("run %d: %v, resumes %d", run, states(evs), final.Resumes)
	}
	t.Logf("pcscd restarts (SIGTERM mid-read): %d tried, %d resumed and done", runs, resumed)
}
