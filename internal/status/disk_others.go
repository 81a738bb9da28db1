//go:build !linux

package status

import (
	"fmt"
	"os"
)

// diskUsage needs statfs(2) as Linux has it.
func diskUsage(path string) (used, total uint64, err error) {
	return 0, 0, fmt.Errorf("statfs %s: only on Linux: %w", path, os.ErrNotExist)
}
