//go:build !linux

package display

import "log/slog"

// takeVT does nothing where there are no Linux virtual terminals.
func takeVT(log *slog.Logger, sw *vtSwitches) (release func(text bool)) {
	return func(bool) {}
}

// vtSwitches is what a Linux VT does on a switch away and back.
type vtSwitches struct {
	away, back func() error
	changes    chan<- Event
	done       <-chan struct{}
}
