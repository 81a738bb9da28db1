//go:build !linux

package study

import (
	"errors"
	"fmt"
)

// minorFaults is Linux-only: getrusage(RUSAGE_THREAD).
func minorFaults() (int64, error) {
	return 0, fmt.Errorf("study: per-thread page fault counts need Linux: %w", errors.ErrUnsupported)
}
