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

// bind needs Linux.
func bind(src, dst string) error {
	return fmt.Errorf("bind %s on %s: %w", src, dst, os.ErrNotExist)
}

// umount needs Linux.
func umount(dir string) error {
	return fmt.Errorf("umount %s: %w", dir, os.ErrNotExist)
}
