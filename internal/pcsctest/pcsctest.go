// Package pcsctest helps tests that need the real PC/SC stack: pcscd, the
// vsmartcard vpcd reader driver, libpcsclite and github.com/ebfe/scard.
//
// A test that uses the stack calls [Require] and then [Lock]:
//
//	func TestX(t *testing.T) {
//		pcsctest.Require(t)
//		pcsctest.Lock(t)
//		ins, err := vpcd.Insert(ctx, vpcd.Addr(0), card, nil)
//		… reader pcsctest.ReaderName(0) …
//	}
//
// Tests that stop and start pcscd use [Isolate], which gives them a private
// pcscd so that the system one, and other tests, are never disturbed.
package pcsctest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebfe/scard"
)

// Slots is the number of vpcd readers pcscd offers ("Virtual PCD 00 00"
// and "Virtual PCD 00 01").
const Slots = 2

// ReaderName returns the PC/SC name of vpcd slot n, "Virtual PCD 00 0n",
// which the vpcd driver listens for on TCP port 35963+n.
func ReaderName(slot int) string { return fmt.Sprintf("Virtual PCD 00 %02d", slot) }

// InCI reports whether the environment variable CI is set to something
// other than "", "0" or "false", as CI services do.
func InCI() bool {
	switch strings.ToLower(os.Getenv("CI")) {
	case "", "0", "false":
		return false
	}
	return true
}

// unavailable stops t because the real stack is missing: a skip on a
// developer machine, a failure in CI, which must never silently skip the
// real-stack tests.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "pcsctest: " + fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatal(msg + " (CI is set: the real PC/SC stack is required)")
	}
	t.Skip(msg)
}

// Require stops the test unless pcscd answers and both vpcd readers are
// listed: with t.Fatal when CI is set, with t.Skip otherwise. The reason is
// one line naming what is missing.
func Require(t testing.TB) {
	t.Helper()
	sc, err := scard.EstablishContext()
	if err != nil {
		unavailable(t, "pcscd not reachable (%v); start it as root with `pcscd` (or `pcscd --foreground &`)", err)
		return
	}
	defer sc.Release()
	names, err := sc.ListReaders()
	if err != nil && err != scard.ErrNoReadersAvailable {
		unavailable(t, "listing PC/SC readers: %v", err)
		return
	}
	for slot := range Slots {
		if !slices.Contains(names, ReaderName(slot)) {
			unavailable(t, "reader %q not listed by pcscd (have %q); install vsmartcard-vpcd and restart pcscd", ReaderName(slot), names)
			return
		}
	}
}

// emptyWait bounds how long Lock waits for the slots to be empty, and how
// long WaitPresent and WaitEmpty wait: pcscd polls vpcd slots every 400 ms.
const emptyWait = 5 * time.Second

// WaitPresent waits up to five seconds until pcscd reports a card in vpcd
// slot n, and fails the test if it does not.
func WaitPresent(t testing.TB, slot int) {
	t.Helper()
	if err := waitCard(ReaderName(slot), cardPresent, emptyWait); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
}

// WaitEmpty waits up to five seconds until pcscd reports no card in vpcd
// slot n, and fails the test if a card stays.
//
// vpcd notices a removal only at its next presence poll, and that poll
// accepts a card waiting to connect at once: a card inserted into a slot
// before pcscd saw the previous one go is, to pcscd and its clients, the
// same card. Wait for the slot to be empty between removing a card and
// inserting the next.
func WaitEmpty(t testing.TB, slot int) {
	t.Helper()
	if err := waitCard(ReaderName(slot), cardAbsent, emptyWait); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
}

// slotState is what waitCard waits for a reader to report.
type slotState int

const (
	cardAbsent  slotState = iota // no card (SCARD_STATE_PRESENT clear)
	cardPresent                  // a card (SCARD_STATE_PRESENT set)
)

// waitCard waits up to d for reader name to reach state want.
func waitCard(name string, want slotState, d time.Duration) error {
	sc, err := scard.EstablishContext()
	if err != nil {
		return err
	}
	defer sc.Release()
	present := want == cardPresent
	st := []scard.ReaderState{{Reader: name, CurrentState: scard.StateUnaware}}
	deadline := time.Now().Add(d)
	for timeout := time.Duration(0); ; timeout = time.Until(deadline) {
		err := sc.GetStatusChange(st, timeout)
		if err == nil && (st[0].EventState&scard.StatePresent != 0) == present {
			return nil
		}
		if err != nil || time.Until(deadline) <= 0 {
			if err != nil {
				return fmt.Errorf("reader %q: %w", name, err)
			}
			return fmt.Errorf("reader %q: card present = %v after %v", name, !present, d)
		}
		st[0].CurrentState = st[0].EventState &^ scard.StateChanged
	}
}
