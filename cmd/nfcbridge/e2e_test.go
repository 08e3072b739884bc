package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// The end-to-end tests run `nfcbridge read` through the real PC/SC stack:
// our virtual chip is inserted into vpcd, pcscd reports it, and the command
// reaches it through libpcsclite and ebfe/scard.

const specimenMRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<< L898902C36UTO7408122F1204159ZE184226B<<<<<10"

// insert serves ds with cfg in vpcd slot 0 until the test ends and waits
// until pcscd reports the card. A zero cfg keeps the dataset's own quirks
// (its chip.json).
func insert(t *testing.T, ds *vchip.Dataset, cfg vchip.Config) *vchip.Passport {
	t.Helper()
	pcsctest.Require(t)
	pcsctest.Lock(t)
	var c *vchip.Config
	if !reflect.DeepEqual(cfg, vchip.Config{}) {
		c = &cfg
	}
	chip, err := vchip.New(ds, c)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var attached atomic.Int32
	start := time.Now()
	go func() {
		done <- vchip.Serve(ctx, vpcd.Addr(0), chip, &vchip.ServeConfig{Inserted: func() { attached.Add(1) }})
	}()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "serve")
		pcsctest.WaitEmpty(t, 0)
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("virtual card: vpcd attached it %d times, it served %d APDUs, %v after insert", attached.Load(), chip.Stats().APDUs, time.Since(start))
		}
	})
	pcsctest.WaitPresent(t, 0)
	return chip
}

type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runCLIStdin(t, "", args...)
}

func runCLIStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	start := time.Now()
	code := run(context.Background(), append([]string{"nfcbridge"}, args...), e)
	return result{code: code, stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
}

func loadDataset(t *testing.T, name string) *vchip.Dataset {
	t.Helper()
	ds, err := vchip.LoadDir(filepath.Join("..", "..", "testdata", "passports", name))
	require.NoError(t, err)
	return ds
}

// assertPrivate fails when output holds personal data of the specimen.
func assertPrivate(t *testing.T, out string) {
	t.Helper()
	for _, secret := range []string{"L898902C3", "ERIKSSON", "ANNA", "740812", "120415", "UTO<", "ZE184226B"} {
		assert.NotContains(t, out, secret, "output leaks")
	}
}

func TestE2ERead(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		chip    vchip.Config
		args    []string
		source  icao.LengthSource // where the extended-length decision came from
	}{
		{name: "20k", dataset: "specimen-20k"},
		{name: "20k/EF.ATR/INFO 1024", dataset: "specimen-20k", chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 1024, Response: 1024}}, source: icao.LengthATRInfo},
		{name: "150k/EF.ATR/INFO 65535", dataset: "specimen-150k", chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 65535, Response: 65535}}, source: icao.LengthATRInfo},
		{name: "20k/EF.ATR/INFO, extended READ BINARY refused", dataset: "specimen-20k",
			chip: vchip.Config{ATRInfo: icao.BufferSizes{Command: 65535, Response: 65535}, NoExtendedReadBinary: true}, source: icao.LengthATRInfo},
		{name: "20k/--extended always", dataset: "specimen-20k", args: []string{"--mrz", specimenMRZ, "--extended", "always"}, source: icao.LengthOverride},
		{name: "150k", dataset: "specimen-150k"},
		{name: "20k/no extended, max Le 0x80", dataset: "specimen-20k", chip: vchip.Config{NoExtendedLength: true, MaxLe: 0x80}},
		{name: "150k/no extended, max Le 0x80 6B00", dataset: "specimen-150k", chip: vchip.Config{NoExtendedLength: true, MaxLe: 0x80, OverLe: vchip.LeWrongOffset}},
		{name: "20k/no SFI, 6282, key fields", dataset: "specimen-20k", chip: vchip.Config{NoShortEF: true, EOFStatus: 0x6282},
			args: []string{"--document-number", "L898902C3", "--date-of-birth", "740812", "--date-of-expiry", "120415"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := loadDataset(t, tc.dataset)
			insert(t, ds, tc.chip)
			out := t.TempDir()
			args := tc.args
			if args == nil {
				args = []string{"--mrz", specimenMRZ}
			}
			r := runCLI(t, append([]string{"read", "--reader", pcsctest.ReaderName(0), "--out", out, "--json", "--timeout", "30s"}, args...)...)
			require.Equal(t, 0, r.code, "exit code; stderr: %s", r.stderr)
			for _, name := range []string{"EF.COM", "EF.SOD", "DG1", "DG2"} {
				got, err := os.ReadFile(filepath.Join(out, name))
				require.NoError(t, err)
				assert.Equal(t, ds.Files[name], got, name)
			}
			var s summary
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), "summary:\n%s", r.stdout)
			assert.True(t, s.SOD.Valid, "summary = %+v", s)
			assert.Equal(t, "BAC", s.AccessControl, "summary = %+v", s)
			assert.NotZero(t, s.APDUs, "summary = %+v", s)
			assert.Len(t, s.Files, 4, "summary = %+v", s)
			assert.Equal(t, tc.source, s.Length.Source, "summary = %+v", s)
			assertPrivate(t, r.stdout+r.stderr)
		})
	}
}

func TestE2EReadFailures(t *testing.T) {
	ds := loadDataset(t, "specimen-20k")
	t.Run("wrong MRZ", func(t *testing.T) {
		insert(t, ds, vchip.Config{})
		r := runCLI(t, "read", "--reader", pcsctest.ReaderName(0), "--out", t.TempDir(),
			"--document-number", "L898902C3", "--date-of-birth", "740812", "--date-of-expiry", "120416")
		msg := r.stderr
		if strings.HasPrefix(msg, "warning: ") { // the MRZ flags are in the process list
			_, msg, _ = strings.Cut(msg, "\n")
		}
		require.Equal(t, 1, r.code, "exit code; stderr %q", r.stderr)
		require.True(t, strings.HasPrefix(msg, "nfcbridge read: the chip refused the key: check the document number"), "stderr %q", r.stderr)
		assert.Equal(t, 1, strings.Count(msg, "\n"), "stderr is not one line: %q", r.stderr)
		assertPrivate(t, r.stderr)
	})
	t.Run("card removed mid-read", func(t *testing.T) {
		chip := insert(t, ds, vchip.Config{NoExtendedLength: true, RemoveAfter: 40})
		removed := make(chan time.Time, 1)
		go func() { <-chip.Removed(); removed <- time.Now() }()
		r := runCLI(t, "read", "--reader", pcsctest.ReaderName(0), "--out", t.TempDir(), "--mrz", specimenMRZ)
		end := time.Now()
		require.Equal(t, 1, r.code, "exit code; stderr %q", r.stderr)
		require.Contains(t, r.stderr, "the document left the reader during the read")
		took := end.Sub(<-removed)
		t.Logf("removal reported %v after the card left: %s", took, r.stderr)
		assert.LessOrEqual(t, took, 2*time.Second, "removal took too long to report")
	})
	t.Run("MRZ from standard input", func(t *testing.T) {
		insert(t, ds, vchip.Config{})
		out := t.TempDir()
		r := runCLIStdin(t, specimenMRZ+"\n", "read", "--reader", pcsctest.ReaderName(0), "--out", out, "--mrz-file", "-")
		require.Equal(t, 0, r.code, "exit code; stderr: %s", r.stderr)
		entries, err := os.ReadDir(out)
		require.NoError(t, err)
		var names []string
		for _, en := range entries {
			names = append(names, en.Name())
			info, _ := en.Info()
			assert.Equal(t, os.FileMode(0o600).String(), info.Mode().Perm().String(), "%s mode", en.Name())
		}
		assert.Equal(t, []string{"DG1", "DG2", "EF.COM", "EF.SOD"}, names, "files written (no temporary files left)")
	})
	t.Run("PACE-only chip", func(t *testing.T) {
		insert(t, ds, vchip.Config{NoBAC: true})
		r := runCLI(t, "read", "--reader", pcsctest.ReaderName(0), "--out", t.TempDir(), "--mrz", specimenMRZ)
		require.Equal(t, 1, r.code, "exit code; stderr %q", r.stderr)
		require.Contains(t, r.stderr, "needs PACE")
	})
	t.Run("no card", func(t *testing.T) {
		pcsctest.Require(t)
		pcsctest.Lock(t)
		r := runCLI(t, "read", "--reader", pcsctest.ReaderName(0), "--out", t.TempDir(), "--mrz", specimenMRZ, "--timeout", "500ms")
		require.Equal(t, 1, r.code, "exit code; stderr %q", r.stderr)
		require.Contains(t, r.stderr, "timed out")
	})
}

func TestE2EReaders(t *testing.T) {
	insert(t, loadDataset(t, "specimen-20k"), vchip.Config{})
	r := runCLI(t, "readers", "--json")
	require.Equal(t, 0, r.code, "exit code; stderr: %s", r.stderr)
	var out struct {
		Readers []struct {
			Name        string `json:"name"`
			CardPresent bool   `json:"cardPresent"`
		} `json:"readers"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	present := map[string]bool{}
	for _, rd := range out.Readers {
		present[rd.Name] = rd.CardPresent
	}
	assert.True(t, present[pcsctest.ReaderName(0)], "card present in reader 0; readers = %+v", out.Readers)
	if assert.Contains(t, present, pcsctest.ReaderName(1), "readers = %+v", out.Readers) {
		assert.False(t, present[pcsctest.ReaderName(1)], "card present in reader 1; readers = %+v", out.Readers)
	}
}

func TestReadBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "no key", args: []string{"read", "--out", "x"}, code: 2, want: "exactly one of --mrz-file"},
		{name: "two keys", args: []string{"read", "--out", "x", "--mrz", specimenMRZ, "--document-number", "X"}, code: 2, want: "exactly one of --mrz-file"},
		{name: "bad check digit", args: []string{"read", "--out", "x", "--mrz", strings.Replace(specimenMRZ, "L898902C36", "L898902C37", 1)}, code: 1, want: "document number"},
		{name: "impossible date", args: []string{"read", "--out", "x", "--document-number", "L898902C3", "--date-of-birth", "740230", "--date-of-expiry", "120415"}, code: 1, want: "date of birth"},
		{name: "bad CAN", args: []string{"read", "--out", "x", "--can", "12345"}, code: 2, want: "must be the 6 digits"},
		{name: "no out", args: []string{"read", "--mrz", specimenMRZ}, code: 2, want: "--out"},
		{name: "unknown flag", args: []string{"read", "--bogus"}, code: 2, want: "bogus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			require.Equal(t, tc.code, r.code, "exit code; stderr %q", r.stderr)
			require.Contains(t, r.stderr, tc.want)
			assertPrivate(t, r.stderr)
		})
	}
}
