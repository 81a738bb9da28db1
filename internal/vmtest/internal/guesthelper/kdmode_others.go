//go:build !linux

package main

import (
	"fmt"
	"os"
)

// kdmode needs Linux virtual terminals.
func kdmode() error {
	return fmt.Errorf("virtual terminals: %w", os.ErrNotExist)
}
