//go:build !linux

package main

import (
	"fmt"
	"os"
)

// mount needs Linux.
func mount(fstype, dir string) error {
	return fmt.Errorf("mount %s on %s: %w", fstype, dir, os.ErrNotExist)
}
