//go:build !linux

package display

import (
	"fmt"
	"os"
)

// isEFIVarFS fails: efivarfs is Linux's.
func isEFIVarFS(dir string) error {
	return fmt.Errorf("%s: efivarfs is Linux's: %w", dir, os.ErrNotExist)
}
