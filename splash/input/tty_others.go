//go:build !linux

package input

import (
	"fmt"
	"os"
)

// DefaultTTY is the tty of the VT in the foreground.
const DefaultTTY = "/dev/tty0"

// TTY reads keys from a VT's tty; only Linux has VTs.
type TTY struct {
	Path string
}

// Open fails: there are no VTs here.
func (t *TTY) Open() (<-chan Event, error) {
	return nil, fmt.Errorf("keyboard: %w (VTs are Linux only)", os.ErrNotExist)
}

// Close does nothing.
func (t *TTY) Close() error { return nil }

// WatchEscape fails: there is no evdev here.
func (t *TTY) WatchEscape() (<-chan Event, error) { return t.Open() }

// StopWatching does nothing.
func (t *TTY) StopWatching() error { return nil }
