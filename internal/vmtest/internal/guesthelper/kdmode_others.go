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

// fragment needs Linux dma-buf heaps.
func fragment(int) error { return fmt.Errorf("dma-buf heaps: %w", os.ErrNotExist) }

// dmesg needs Linux's /dev/kmsg.
func dmesg() error { return fmt.Errorf("kernel log: %w", os.ErrNotExist) }
