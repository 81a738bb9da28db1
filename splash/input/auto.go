package input

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Auto is the keyboard a boot splash reads: the VT's tty when there is
// one (the console's keymap then applies), else evdev with Layout. It
// chooses again at every Open, so a VT or keyboard that appears later is
// used.
type Auto struct {
	// TTY is the VT's tty; "" means DefaultTTY.
	TTY string
	// Evdev reads the evdev devices when there is no VT.
	Evdev Evdev
	// Log says which was taken; nil says nothing.
	Log *slog.Logger

	open Source
}

// Open opens the tty, or evdev when the tty cannot be opened.
func (a *Auto) Open() (<-chan Event, error) {
	if a.open != nil {
		return nil, errors.New("keyboard: already open")
	}
	t := &TTY{Path: a.TTY}
	ch, terr := t.Open()
	if terr == nil {
		a.open = t
		a.log("keyboard: reading the VT's tty", "tty", cmp.Or(t.Path, DefaultTTY))
		return ch, nil
	}
	if a.Evdev.Log == nil {
		a.Evdev.Log = a.Log
	}
	ch, eerr := a.Evdev.Open()
	if eerr == nil {
		a.open = &a.Evdev
		name := "us"
		if a.Evdev.Layout != nil {
			name = a.Evdev.Layout.Name
		}
		a.log("keyboard: no VT; reading evdev", "why", terr.Error(), "layout", name)
		return ch, nil
	}
	return nil, fmt.Errorf("no keyboard: %w; %w", terr, eerr)
}

func (a *Auto) log(msg string, args ...any) {
	if a.Log != nil {
		a.Log.Debug(msg, args...)
	}
}

// WatchEscape watches the evdev devices for Escape (see
// Evdev.WatchEscape), whichever Open would read.
func (a *Auto) WatchEscape() (<-chan Event, error) { return a.Evdev.WatchEscape() }

// StopWatching ends WatchEscape.
func (a *Auto) StopWatching() error { return a.Evdev.StopWatching() }

// Close closes whichever was opened.
func (a *Auto) Close() error {
	if a.open == nil {
		return nil
	}
	err := a.open.Close()
	a.open = nil
	return err
}

// ParseLayout finds a built-in layout by name.
func ParseLayout(name string) (*Layout, error) {
	ls := Layouts()
	if l, ok := ls[name]; ok {
		return l, nil
	}
	names := make([]string, 0, len(ls))
	for n := range ls {
		names = append(names, n)
	}
	slices.Sort(names)
	return nil, fmt.Errorf("unknown keymap %q (built in: %s)", name, strings.Join(names, ", "))
}
