package main

import (
	"context"
	"time"

	"github.com/bootsplash/bootsplash/splash"
)

// stopGrace is how long a run asked to stop (SIGTERM, SIGINT, --for) has
// to release what it holds before the process ends anyway.
const stopGrace = 300 * time.Millisecond

// runUntilStopped runs the splash until it returns or, once ctx is done,
// for stopGrace more. Run stops every wait of its own when ctx is done,
// but drawing a very large first frame cannot be cut short, and must not
// keep a process that was told to stop alive: the process then ends, and
// the kernel releases the display's memory and device with it. (The VT
// and the control sockets are taken only after the first frame, when
// Run answers ctx at once.)
func runUntilStopped(ctx context.Context, cfg splash.Config) error {
	errc := make(chan error, 1)
	go func() { errc <- splash.Run(ctx, cfg) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-errc:
		return err
	case <-time.After(stopGrace):
		cfg.Log.Warn("asked to stop while still drawing: ending now")
		return nil
	}
}
