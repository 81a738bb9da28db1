//go:build !linux

package input

import (
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Layout maps key codes to characters; only Linux has evdev.
type Layout struct {
	Name string
}

// Layouts are the built-in layouts by name.
func Layouts() map[string]*Layout {
	return map[string]*Layout{"us": {Name: "us"}, "de": {Name: "de"}, "fr": {Name: "fr"}}
}

// Evdev reads evdev keyboards; only Linux has them.
type Evdev struct {
	Glob   string
	Layout *Layout
	Rescan time.Duration
	Log    *slog.Logger
}

// Open fails: there is no evdev here.
func (e *Evdev) Open() (<-chan Event, error) {
	return nil, fmt.Errorf("keyboard: %w (evdev is Linux only)", os.ErrNotExist)
}

// Close does nothing.
func (e *Evdev) Close() error { return nil }

// WatchEscape fails: there is no evdev here.
func (e *Evdev) WatchEscape() (<-chan Event, error) { return e.Open() }

// StopWatching does nothing.
func (e *Evdev) StopWatching() error { return nil }
