package kiosk_test

// Tests of the service with the in-process reader: fast, and independent of
// pcscd. The end-to-end tests through vpcd are in e2e_test.go.

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/outbox"
	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vchip/inprocess"
)

const inProcessReader = "In-process reader"

// inProcessRig is a rig around one virtual chip in process.
func inProcessRig(t *testing.T, chip *vchip.Passport, rc rigConfig) *rig {
	t.Helper()
	rc.readers = &inprocess.Reader{Name: inProcessReader, Chip: chip}
	return newRig(t, rc)
}

func TestInProcessRead(t *testing.T) {
	r := inProcessRig(t, newChip(t, nil), rigConfig{})
	session := uuid.NewString()
	st := r.start(readReq(session, nil))
	assert.Equal(t, inProcessReader, st.Reader, "the only reader is picked")
	evs := r.follow(st.ID, 20*time.Second)
	assert.Equal(t, []kiosk.State{kiosk.WaitingForCard, kiosk.Authenticating, kiosk.Reading, kiosk.Uploading, kiosk.Done}, states(evs))
	checkProgress(t, evs)
	checkUpload(t, r.sandbox, session)
}

func TestReadOnly(t *testing.T) {
	r := inProcessRig(t, newChip(t, nil), rigConfig{})
	st := r.start(readReq(uuid.NewString(), map[string]any{"upload": false}))
	evs := r.follow(st.ID, 20*time.Second)
	final := evs[len(evs)-1].status
	assert.Equal(t, kiosk.Done, final.State)
	assert.False(t, final.Upload)
	require.NotNil(t, final.Result)
	assert.Nil(t, final.Result.Media)
	assert.True(t, final.Result.SODHashesValid)
	assert.Empty(t, r.sandbox.Uploads())
}

// TestIntegrityError: a DG2 that does not match EF.SOD fails the read and
// is not uploaded.
func TestIntegrityError(t *testing.T) {
	ds := *specimen(t)
	ds.Files = maps.Clone(ds.Files)
	dg2 := append([]byte(nil), ds.Files["DG2"]...)
	dg2[len(dg2)-1] ^= 0xff
	ds.Files["DG2"] = dg2
	chip, err := vchip.New(&ds, &vchip.Config{})
	require.NoError(t, err)
	r := inProcessRig(t, chip, rigConfig{})
	st := r.start(readReq(uuid.NewString(), nil))
	evs := r.follow(st.ID, 20*time.Second)
	final := evs[len(evs)-1].status
	assert.Equal(t, kiosk.Failed, final.State)
	require.NotNil(t, final.Error)
	assert.Equal(t, kiosk.CodeIntegrity, final.Error.Code)
	require.NotNil(t, final.Result)
	assert.False(t, final.Result.SODHashesValid)
	assert.Empty(t, r.sandbox.Uploads())
}

// TestUploadRefused: answers of the vendor that will not change fail the
// read at once, with their own codes, and nothing is queued.
func TestUploadRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault uploadtest.Fault
		code  kiosk.Code
	}{
		{"submitted", uploadtest.Fault{Status: 409, Code: "1104"}, kiosk.CodeSessionSubmitted},
		{"unknown session", uploadtest.Fault{Status: 404, Code: "1102"}, kiosk.CodeSessionNotFound},
		{"unauthorized", uploadtest.Fault{Status: 401, Code: "1803"}, kiosk.CodeUploadUnauthorized},
		{"rejected", uploadtest.Fault{Status: 400, Code: "1410"}, kiosk.CodeUploadRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inProcessRig(t, newChip(t, nil), rigConfig{})
			r.sandbox.Inject(tc.fault)
			st := r.start(readReq(uuid.NewString(), nil))
			evs := r.follow(st.ID, 20*time.Second)
			final := evs[len(evs)-1].status
			assert.Equal(t, kiosk.Failed, final.State)
			require.NotNil(t, final.Error)
			assert.Equal(t, tc.code, final.Error.Code)
			assert.NotContains(t, states(evs), kiosk.Queued)
		})
	}
}

// TestQueuedNotCancelable: a queued read is stored and will be delivered.
func TestQueuedNotCancelable(t *testing.T) {
	sb := newSandbox(t)
	vendor := newSwitchable(t, sb)
	r := inProcessRig(t, newChip(t, nil), rigConfig{uploader: vendor})
	st := r.start(readReq(uuid.NewString(), nil))
	r.waitState(st.ID, kiosk.Queued, 20*time.Second)
	var e struct{ Error kiosk.Error }
	assert.Equal(t, http.StatusConflict, r.do("DELETE", "/v1/reads/"+st.ID, nil, &e))
	assert.Equal(t, kiosk.CodeNotCancelable, e.Error.Code)
	vendor.set(true)
	r.waitState(st.ID, kiosk.Done, 20*time.Second)
	assert.Len(t, sb.Uploads(), 1)
}

// blockingUploader holds uploads until released or canceled.
type blockingUploader struct {
	started chan struct{}
	release chan struct{}
	next    kiosk.Uploader
}

func (b *blockingUploader) UploadNFC(ctx context.Context, s string, nfc upload.NFC) (*upload.Media, error) {
	select {
	case b.started <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
		return b.next.UploadNFC(ctx, s, nfc)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestCancelDuringUpload aborts the upload: the read ends canceled, nothing
// reached the vendor.
func TestCancelDuringUpload(t *testing.T) {
	sb := newSandbox(t)
	up := &blockingUploader{started: make(chan struct{}, 1), release: make(chan struct{}), next: sb.client()}
	r := inProcessRig(t, newChip(t, nil), rigConfig{uploader: up})
	st := r.start(readReq(uuid.NewString(), nil))
	<-up.started
	var got kiosk.Status
	require.Equal(t, http.StatusOK, r.do("DELETE", "/v1/reads/"+st.ID, nil, &got))
	assert.Equal(t, kiosk.Canceled, got.State)
	assert.Empty(t, sb.Uploads())
}

// TestShutdownDuringUpload: an upload still running when the daemon's grace
// time ends goes to the outbox, and the next daemon delivers it.
func TestShutdownDuringUpload(t *testing.T) {
	sb := newSandbox(t)
	dir := t.TempDir()
	up := &blockingUploader{started: make(chan struct{}, 1), release: make(chan struct{}), next: sb.client()}
	key, err := outbox.LoadKey(filepath.Join(dir, "outbox.key"))
	require.NoError(t, err)
	ob, err := outbox.Open(outbox.Config{Dir: filepath.Join(dir, "outbox"), Key: key})
	require.NoError(t, err)
	svc, err := kiosk.New(kiosk.Config{Readers: &inprocess.Reader{Name: inProcessReader, Chip: newChip(t, nil)}, Uploader: up, Outbox: ob})
	require.NoError(t, err)
	st, err := svc.Start(context.Background(), kiosk.ReadRequest{SessionID: uuid.NewString(), MRZ: kiosk.MRZ{Lines: specimenMRZ}})
	require.NoError(t, err)
	<-up.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.NoError(t, svc.Shutdown(ctx))
	got, err := svc.Status(st.ID)
	require.NoError(t, err)
	assert.Equal(t, kiosk.Queued, got.State)
	_, err = svc.Start(context.Background(), kiosk.ReadRequest{SessionID: uuid.NewString(), MRZ: kiosk.MRZ{Lines: specimenMRZ}})
	assert.ErrorIs(t, err, kiosk.ErrShuttingDown)
	require.NoError(t, ob.Close())

	r := newRig(t, rigConfig{readers: &inprocess.Reader{Name: inProcessReader, Chip: newChip(t, nil)}, uploader: sb.client(), stateDir: dir})
	r.waitState(st.ID, kiosk.Done, 20*time.Second)
	assert.Len(t, sb.Uploads(), 1)
}

// TestShutdownCancelsReads: a read waiting for a card ends canceled, and
// its reader is free.
func TestShutdownCancelsReads(t *testing.T) {
	chip := newChip(t, nil)
	chip.Remove()
	svc, err := kiosk.New(kiosk.Config{Readers: &inprocess.Reader{Name: inProcessReader, Chip: chip}})
	require.NoError(t, err)
	st, err := svc.Start(context.Background(), kiosk.ReadRequest{SessionID: uuid.NewString(), MRZ: kiosk.MRZ{Lines: specimenMRZ}, Upload: new(bool)})
	require.NoError(t, err)
	require.NoError(t, svc.Shutdown(context.Background()))
	got, err := svc.Status(st.ID)
	require.NoError(t, err)
	assert.Equal(t, kiosk.Canceled, got.State)
	require.NotNil(t, got.Error)
	assert.True(t, got.Error.Retryable)
}

func TestNoUploader(t *testing.T) {
	svc, err := kiosk.New(kiosk.Config{Readers: &inprocess.Reader{Name: inProcessReader, Chip: newChip(t, nil)}})
	require.NoError(t, err)
	defer svc.Shutdown(context.Background())
	_, err = svc.Start(context.Background(), kiosk.ReadRequest{SessionID: uuid.NewString(), MRZ: kiosk.MRZ{Lines: specimenMRZ}})
	assert.ErrorIs(t, err, kiosk.ErrUploadUnavailable)
}

// TestKeepReads: finished reads beyond the bound are forgotten.
func TestKeepReads(t *testing.T) {
	svc := newService(t, kiosk.Config{Readers: &inprocess.Reader{Name: inProcessReader, Chip: newChip(t, nil)}, KeepReads: 2})
	var ids []string
	for range 4 {
		st, err := svc.Start(context.Background(), kiosk.ReadRequest{SessionID: uuid.NewString(), MRZ: kiosk.MRZ{Lines: specimenMRZ}, Upload: new(bool)})
		require.NoError(t, err)
		ids = append(ids, st.ID)
		waitFinal(t, svc, st.ID)
	}
	for i, id := range ids {
		_, err := svc.Status(id)
		if i < 2 {
			assert.ErrorIs(t, err, kiosk.ErrNotFound, "read %d kept", i)
		} else {
			assert.NoError(t, err, "read %d forgotten", i)
		}
	}
}

func waitFinal(t *testing.T, svc *kiosk.Service, id string) kiosk.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	after := 0
	for {
		evs, err := svc.Next(ctx, id, after)
		require.NoError(t, err)
		last := evs[len(evs)-1]
		if last.Status.State.Final() {
			return last.Status
		}
		after = last.Seq
	}
}

func TestServiceErrors(t *testing.T) {
	svc := newService(t, kiosk.Config{Readers: &inprocess.Reader{Name: inProcessReader, Chip: newChip(t, nil)}})
	_, err := svc.Status("nope")
	assert.ErrorIs(t, err, kiosk.ErrNotFound)
	_, err = svc.Cancel(context.Background(), "nope")
	assert.ErrorIs(t, err, kiosk.ErrNotFound)
	_, err = svc.Start(context.Background(), kiosk.ReadRequest{SessionID: uuid.NewString(), Reader: "other", MRZ: kiosk.MRZ{Lines: specimenMRZ}, Upload: new(bool)})
	assert.ErrorIs(t, err, kiosk.ErrReaderNotFound)
	var e *kiosk.Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, "reader", e.Field)
	_, err = kiosk.New(kiosk.Config{})
	assert.Error(t, err)
}

// TestRestoreReads: after a restart the service lists every recorded read:
// final ones as they were, one whose files are in the outbox as queued
// with its result summary, and one stopped before its chip read was
// complete as failed (interrupted), never unknown.
func TestRestoreReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	key := make([]byte, outbox.KeySize)
	ob, err := outbox.Open(outbox.Config{Dir: dir, Key: key})
	require.NoError(t, err)
	created := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	res := &kiosk.Result{AccessControl: "BAC", Files: map[string]kiosk.FileInfo{"com": {Size: 30}, "dg1": {Size: 93}},
		SODHashesValid: true, SODSignature: "valid", APDUs: 42, ReadMillis: 900}
	save := func(st kiosk.Status) {
		b, err := json.Marshal(st)
		require.NoError(t, err)
		require.NoError(t, ob.SaveRecord(st.ID, b))
	}
	done := kiosk.Status{ID: "done-1", State: kiosk.Done, SessionID: uuid.NewString(), Upload: true,
		CreatedAt: created, UpdatedAt: created.Add(time.Second), Result: res}
	save(done)
	save(kiosk.Status{ID: "reading-1", State: kiosk.Reading, SessionID: uuid.NewString(), Upload: true, CreatedAt: created, UpdatedAt: created})
	// Stored for the upload, but the record still says reading: the crash
	// came between the two writes.
	save(kiosk.Status{ID: "stored-1", State: kiosk.Reading, SessionID: uuid.NewString(), Upload: true, CreatedAt: created, UpdatedAt: created})
	summary, err := json.Marshal(res)
	require.NoError(t, err)
	_, err = ob.Store(outbox.Item{ReadID: "stored-1", SessionID: uuid.NewString(), CreatedAt: created, Summary: summary,
		NFC: upload.NFC{COM: []byte{0x60}, SOD: []byte{0x77}, DG1: []byte{0x61}, DG2: []byte{0x75}}})
	require.NoError(t, err)
	require.NoError(t, ob.Close())

	ob, err = outbox.Open(outbox.Config{Dir: dir, Key: key})
	require.NoError(t, err)
	t.Cleanup(func() { ob.Close() })
	svc, err := kiosk.New(kiosk.Config{Readers: &inprocess.Reader{Name: inProcessReader, Chip: newChip(t, nil)}, Outbox: ob})
	require.NoError(t, err)

	st, err := svc.Status("done-1")
	require.NoError(t, err)
	assert.Equal(t, done.State, st.State)
	assert.Equal(t, res, st.Result)

	st, err = svc.Status("reading-1")
	require.NoError(t, err)
	assert.Equal(t, kiosk.Failed, st.State)
	require.NotNil(t, st.Error)
	assert.Equal(t, kiosk.CodeInterrupted, st.Error.Code)

	st, err = svc.Status("stored-1")
	require.NoError(t, err)
	assert.Equal(t, kiosk.Queued, st.State)
	assert.Equal(t, res, st.Result, "the summary stored with the files")

	reads := svc.Reads()
	require.Len(t, reads, 3)
	assert.Equal(t, "stored-1", reads[0].ID, "reads not finished come first")

	// The interrupted read was recorded as such: a second restart agrees.
	ob.Close()
	ob, err = outbox.Open(outbox.Config{Dir: dir, Key: key})
	require.NoError(t, err)
	t.Cleanup(func() { ob.Close() })
	svc, err = kiosk.New(kiosk.Config{Readers: &inprocess.Reader{Name: inProcessReader, Chip: newChip(t, nil)}, Outbox: ob})
	require.NoError(t, err)
	st, err = svc.Status("reading-1")
	require.NoError(t, err)
	assert.Equal(t, kiosk.CodeInterrupted, st.Error.Code)

	// Events of a restored read: an id from before the restart gets the
	// current state.
	evs, err := svc.Next(context.Background(), "done-1", 18)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, kiosk.Done, evs[0].Status.State)
	assert.Greater(t, evs[0].Seq, 18)
	_, err = svc.Next(context.Background(), "done-1", evs[0].Seq)
	assert.ErrorIs(t, err, kiosk.ErrNoMoreEvents)
}
