//go:build !unix

package pcsctest

import "testing"

// Lock skips the test: pcscd and vpcd, and flock, are Unix-only.
func Lock(t testing.TB) {
	t.Helper()
	t.Skip("pcsctest: the real PC/SC stack needs a Unix system")
}
