package kiosk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload"
)

func TestMeter(t *testing.T) {
	m := newMeter(mrtd.DefaultFiles())
	var got []Progress
	// EF.COM and EF.SOD fit one chunk each and are never reported.
	for _, r := range []struct {
		f           icao.EF
		done, total int
	}{
		{icao.EFDG1, 93, 93},
		{icao.EFDG2, 223, -1},
		{icao.EFDG2, 446, 20000},
		{icao.EFDG2, 10000, 20000},
		{icao.EFDG2, 20000, 20000},
	} {
		got = append(got, m.report(r.f, r.done, r.total))
	}
	doc := &mrtd.Document{Files: map[icao.EF][]byte{icao.EFCOM: make([]byte, 22), icao.EFSOD: make([]byte, 950),
		icao.EFDG1: make([]byte, 93), icao.EFDG2: make([]byte, 20000)}}
	got = append(got, m.complete(doc))
	prev := 0
	for i, p := range got {
		assert.GreaterOrEqual(t, p.Percent, prev, "step %d went backwards: %+v", i, p)
		assert.LessOrEqual(t, p.BytesRead, p.BytesTotal, "step %d", i)
		prev = p.Percent
	}
	assert.Equal(t, "DG1", got[0].File)
	assert.Less(t, got[3].Percent, 99, "half of DG2")
	assert.Greater(t, got[3].Percent, 30, "half of DG2")
	assert.Equal(t, 99, got[4].Percent, "all read, not yet complete")
	assert.Equal(t, Progress{File: "DG2", BytesRead: 21065, BytesTotal: 21065, Percent: 100}, got[5])
}

func TestJobEvents(t *testing.T) {
	now := time.Now()
	j := newJob(Status{ID: "x", State: WaitingForCard}, 0)
	j.update(now, StateEvent, func(s *Status) { s.State = Reading })
	for i := range 2 * maxEvents {
		j.update(now, ProgressEvent, func(s *Status) { s.Progress.BytesRead = i })
	}
	evs, _, _ := j.since(0)
	assert.LessOrEqual(t, len(evs), maxEvents+1)
	assert.Equal(t, WaitingForCard, evs[0].Status.State)
	assert.Equal(t, StateEvent, evs[1].Kind)
	assert.Equal(t, 2*maxEvents-1, evs[len(evs)-1].Status.Progress.BytesRead, "the latest progress is kept")
	last := evs[len(evs)-1].Seq
	more, changed, ended := j.since(last)
	assert.False(t, ended)
	assert.Empty(t, more)
	j.update(now, StateEvent, func(s *Status) { s.State = Done })
	<-changed
	evs, _, _ = j.since(last)
	require.Len(t, evs, 1)
	assert.Equal(t, Done, evs[0].Status.State)
	_, ok := j.update(now, StateEvent, func(s *Status) { s.State = Failed })
	assert.False(t, ok, "a final state is final")
	evs, _, _ = j.since(0)
	assert.Len(t, evs, 1, "a finished read keeps its final event only")
	evs, _, ended = j.since(evs[0].Seq)
	assert.Empty(t, evs)
	assert.True(t, ended)
}

// TestReadFailure: each cause maps to its code.
func TestReadFailure(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code Code
	}{
		{fmt.Errorf("%w: %w", errCardTimeout, reader.ErrCanceled), CodeCardTimeout},
		{fmt.Errorf("%w: %w", errNotBack, reader.ErrCanceled), CodeCardRemoved},
		{fmt.Errorf("%w: %w", errReadTimeout, reader.ErrCanceled), CodeReadTimeout},
		{&mrtd.Error{Class: mrtd.ErrAccessDenied, Step: "BAC", Err: icao.StatusAuthFailed}, CodeAccessDenied},
		{&mrtd.Error{Class: mrtd.ErrNeedsPACE, Step: "BAC", Err: icao.StatusRefDataNotFound}, CodeNeedsPACE},
		{&mrtd.Error{Class: mrtd.ErrNeedsMRZ, Step: "BAC"}, CodeNeedsMRZ},
		{&mrtd.Error{Class: mrtd.ErrReaderUnable, Step: "PACE"}, CodeReaderUnable},
		{&mrtd.Error{Class: mrtd.ErrUnsupported, Step: "PACE"}, CodeUnsupported},
		{&mrtd.Error{Class: mrtd.ErrNoApplication, Step: "select application", Err: icao.StatusFileNotFound}, CodeNotAPassport},
		{&mrtd.Error{Class: mrtd.ErrChip, Step: "read DG2", File: icao.EFDG2, Err: icao.StatusFileNotFound}, CodeChipError},
		{&mrtd.Error{Class: mrtd.ErrSecureMessaging, Step: "read DG2", Err: icao.ErrSM}, CodeCommunication},
		{fmt.Errorf("x: %w", reader.ErrCardRemoved), CodeCardRemoved},
		{fmt.Errorf("x: %w", reader.ErrCommunication), CodeCommunication},
		{fmt.Errorf("x: %w", reader.ErrNoService), CodePCSCUnavailable},
		{fmt.Errorf("x: %w", reader.ErrAccessDenied), CodePCSCDenied},
		{fmt.Errorf("x: %w", reader.ErrReaderBusy), CodeReaderBusy},
		{fmt.Errorf("x: %w", reader.ErrReaderGone), CodeReaderNotFound},
		{errors.New("what"), CodeInternal},
	} {
		t.Run(string(tc.code)+" "+tc.err.Error(), func(t *testing.T) {
			e := readFailure(tc.err)
			assert.Equal(t, tc.code, e.Code)
			assert.NotEmpty(t, e.Message)
		})
	}
}

func TestUploadFailure(t *testing.T) {
	for _, tc := range []struct {
		name        string
		err         error
		code        Code
		deliverable bool
	}{
		{"5xx", &upload.APIError{Status: 503, Retryable: true}, CodeUploadFailed, true},
		{"network", errors.New("no response: connection refused"), CodeUploadFailed, true},
		{"time limit", fmt.Errorf("%w", upload.ErrTimeLimit), CodeUploadFailed, true},
		{"409", &upload.APIError{Status: 409}, CodeSessionSubmitted, false},
		{"404", &upload.APIError{Status: 404}, CodeSessionNotFound, false},
		{"401", &upload.APIError{Status: 401}, CodeUploadUnauthorized, false},
		{"400", &upload.APIError{Status: 400, Message: "DG2 missing"}, CodeUploadRejected, false},
		{"413", &upload.APIError{Status: 413}, CodeUploadRejected, false},
		{"signature", fmt.Errorf("x: %w", upload.ErrResponseSignature), CodeUploadUnconfirmed, false},
		{"size", &upload.SizeError{Limit: 10, Size: 20}, CodeUploadRejected, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.code, uploadFailure(tc.err).Code)
			assert.Equal(t, tc.deliverable, deliverable(tc.err))
		})
	}
	assert.Equal(t, CodeUploadExpired, uploadFailure(errUploadExpired).Code)
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	tok, err := LoadToken(path)
	require.NoError(t, err)
	assert.Len(t, tok, 64)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "group-readable: the directory decides who reaches it")
	again, err := LoadToken(path)
	require.NoError(t, err)
	assert.Equal(t, tok, again)

	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
		err     error
	}{
		{"own token", "my-token-0123456789-0123456789-0123\n", 0o600, "my-token-0123456789-0123456789-0123", nil},
		{"group readable", strings.Repeat("a", 40), 0o640, strings.Repeat("a", 40), nil},
		{"world readable", strings.Repeat("a", 40), 0o644, "", ErrTokenFile},
		{"too short", "short\n", 0o600, "", ErrTokenFile},
		{"spaces", strings.Repeat("a", 20) + " " + strings.Repeat("b", 20), 0o600, "", ErrTokenFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			require.NoError(t, os.WriteFile(p, []byte(tc.content), tc.mode))
			require.NoError(t, os.Chmod(p, tc.mode))
			got, err := LoadToken(p)
			assert.ErrorIs(t, err, tc.err)
			assert.Equal(t, tc.want, got)
			if err != nil {
				assert.NotContains(t, err.Error(), tc.content)
			}
		})
	}
}

// TestReadRequestRedacted: the MRZ never shows in fmt or slog output.
func TestReadRequestRedacted(t *testing.T) {
	req := ReadRequest{SessionID: "s", MRZ: MRZ{Lines: specimenMRZ, DocumentNumber: "L898902C3"}, CAN: "123456"}
	for _, s := range []string{fmt.Sprint(req), fmt.Sprintf("%+v", req), fmt.Sprintf("%#v", req), fmt.Sprint(req.MRZ), req.LogValue().String()} {
		assert.NotContains(t, s, "L898902C3")
		assert.NotContains(t, s, "ERIKSSON")
		assert.NotContains(t, s, "123456")
	}
}
