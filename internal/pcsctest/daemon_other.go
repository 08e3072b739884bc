//go:build !linux

package pcsctest

import "testing"

// Daemon is a private pcscd; it needs Linux mount namespaces.
type Daemon struct{}

// Isolate skips the test (or fails it when CI is set): a private pcscd
// needs Linux.
func Isolate(t *testing.T) *Daemon {
	t.Helper()
	unavailable(t, "a private pcscd needs Linux")
	return nil
}

// Addr is not available off Linux.
func (d *Daemon) Addr(int) string { return "" }

// Start is not available off Linux.
func (d *Daemon) Start(testing.TB) {}

// Stop is not available off Linux.
func (d *Daemon) Stop(testing.TB) {}

// Log is not available off Linux.
func (d *Daemon) Log() string { return "" }
