//go:build !linux

package display

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// fbdevDisplay is the framebuffer device's Display, on Linux only.
type fbdevDisplay struct {
	Display
	why string
}

// openFbdev fails: framebuffer devices are Linux's.
func openFbdev(ctx context.Context, path string, opt Options, log *slog.Logger) (*fbdevDisplay, error) {
	return nil, fmt.Errorf("display: open %s: framebuffer devices are Linux's: %w", path, os.ErrNotExist)
}
