//go:build !unix

package pace

import "time"

// cpuNow is not available here; the cpu-ms/op metric reads 0.
func cpuNow() time.Duration { return 0 }
