//go:build unix

package pcsctest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ebfe/scard"
)

// lockWait bounds how long Lock waits for other tests to finish with the
// readers.
const lockWait = 5 * time.Minute

// LockPath is the file Lock takes an exclusive flock on.
func LockPath() string { return filepath.Join(os.TempDir(), "nfcbridge-pcsctest.lock") }

// Lock takes a cross-process lock on the vpcd readers and holds it until the
// test and its subtests end. Tests of several packages run in parallel
// processes, each vpcd slot holds one card, and a test that waits for "any
// reader with a card" must not see another test's card: every test that
// touches the system pcscd's readers takes this lock. Within one process it
// serialises tests too (each call opens the file anew, and flock locks
// belong to open files). Lock fails the test after five minutes.
//
// Once it holds the lock, Lock waits (up to five seconds) until pcscd
// reports every vpcd slot empty, because pcscd notices a removal only at its
// next poll (see [WaitEmpty]); it fails the test if a card stays. Call
// [Require] first: without pcscd there is nothing to wait for.
func Lock(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(LockPath(), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatalf("pcsctest: lock: %v", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			t.Fatalf("pcsctest: lock %s: %v", LockPath(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { f.Close() }) // closing the file releases the lock
	for slot := range Slots {
		err := waitCard(ReaderName(slot), cardAbsent, emptyWait)
		if errors.Is(err, scard.ErrNoService) || errors.Is(err, scard.ErrUnknownReader) {
			return // no stack to wait for; Require reports it
		}
		if err != nil {
			t.Fatalf("pcsctest: lock: %v; is a virtual card still connected to vpcd?", err)
		}
	}
}
