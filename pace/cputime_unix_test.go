//go:build unix

package pace

import (
	"syscall"
	"time"
)

// cpuNow returns the process's user and system CPU time, so benchmarks can
// report CPU cost on a machine shared with other work.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
