//go:build !linux

package splash

import "log/slog"

// takeVT does nothing where there are no Linux virtual terminals.
func takeVT(log *slog.Logger) (release func(text bool)) {
	return func(bool) {}
}
