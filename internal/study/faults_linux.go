package study

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// minorFaults returns the minor page faults of the calling thread so far
// (getrusage RUSAGE_THREAD); the caller must be locked to its OS thread.
func minorFaults() (int64, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, fmt.Errorf("getrusage(RUSAGE_THREAD): %w", err)
	}
	return int64(ru.Minflt), nil // a C long: 32 bits on 32-bit machines
}
