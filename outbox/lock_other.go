//go:build !unix

package outbox

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir only opens dir/.lock: there is no flock on this system, so two
// processes must not share an outbox directory.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: locking %s: %w", dir, err)
	}
	return f, nil
}
