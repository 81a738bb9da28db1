//go:build !linux

package main

import (
	"fmt"
	"os"
	"time"
)

// kdmode needs Linux virtual terminals.
func kdmode() error {
	return fmt.Errorf("virtual terminals: %w", os.ErrNotExist)
}

// chvt needs Linux virtual terminals.
func chvt(int, time.Duration) error {
	return fmt.Errorf("virtual terminals: %w", os.ErrNotExist)
}
