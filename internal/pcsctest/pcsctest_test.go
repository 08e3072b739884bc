//go:build linux

package pcsctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReaderName(t *testing.T) {
	for slot, want := range []string{"Virtual PCD 00 00", "Virtual PCD 00 01"} {
		assert.Equal(t, want, ReaderName(slot), "ReaderName(%d)", slot)
	}
}

func TestInCI(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{{"", false}, {"0", false}, {"false", false}, {"FALSE", false}, {"true", true}, {"1", true}, {"yes", true}} {
		t.Setenv("CI", tc.value)
		assert.Equal(t, tc.want, InCI(), "CI=%q: InCI()", tc.value)
	}
}

// TestLock checks that Lock excludes other holders while the test runs and
// releases the lock when it ends.
func TestLock(t *testing.T) {
	tryLock := func() error {
		f, err := os.OpenFile(LockPath(), os.O_RDWR|os.O_CREATE, 0o666)
		require.NoError(t, err)
		defer f.Close()
		return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	t.Run("held", func(t *testing.T) {
		Lock(t)
		assert.ErrorIs(t, tryLock(), syscall.EWOULDBLOCK, "flock while Lock is held")
	})
	assert.NoError(t, tryLock(), "flock after the test ended")
}

// TestRequireUnavailable runs Require in child processes whose libpcsclite
// points at a socket nobody listens on: without CI the test is skipped, with
// CI=true it fails, naming what is missing.
func TestRequireUnavailable(t *testing.T) {
	const child = "NFCBRIDGE_PCSCTEST_REQUIRE_CHILD"
	if os.Getenv(child) != "" {
		Require(t)
		return
	}
	socket := filepath.Join(os.TempDir(), fmt.Sprintf("nfcbridge-no-pcscd-%d.comm", os.Getpid()))
	for _, tc := range []struct {
		ci      string
		fail    bool
		summary string
	}{{"", false, "--- SKIP"}, {"true", true, "--- FAIL"}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRequireUnavailable$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), child+"=1", "CI="+tc.ci, envSocket+"="+socket)
			out, err := cmd.CombinedOutput()
			if tc.fail {
				assert.Error(t, err, "child:\n%s", out)
			} else {
				assert.NoError(t, err, "child:\n%s", out)
			}
			assert.Contains(t, string(out), tc.summary)
			assert.Contains(t, string(out), "pcscd not reachable")
		})
	}
}
