//go:build !linux

package devperm

import (
	"fmt"
	"os"
	"runtime"
)

func hasACL(path string) bool { return false }

func check(path string, a Access) error {
	return fmt.Errorf("check %s access to %s on %s: %w", a, path, runtime.GOOS, os.ErrNotExist)
}
