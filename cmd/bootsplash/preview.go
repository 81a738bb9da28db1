//go:build preview

package main

import (
	"context"
	"io"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/bootsplash/bootsplash/internal/preview"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// cmdPreview shows the emulated display in a window, driven live by the
// same control front ends as run.
func cmdPreview(args []string, stderr io.Writer) error {
	fs := newFlags("preview", stderr)
	themePath := fs.String("theme", "", "theme file (default: the embedded theme)")
	size := fs.String("size", "1024x768", "window and emulated display size WxH (resizing the window picks a new one)")
	scale := fs.Float64("scale", 0, "output scale, 0.25 to 8 (default: guessed from the size)")
	progress := fs.Float64("progress", 0, "boot progress shown first, in percent (0 to 100); negative: unknown (the bar pulses)")
	message := fs.String("message", "", "message line shown first")
	socket := fs.String("socket", control.DefaultSocket, `bootsplash's control socket ("" for none)`)
	psplashFIFO := fs.Bool("psplash", true, "accept psplash commands on $PSPLASH_FIFO_DIR/psplash_fifo")
	psplashDir := fs.String("psplash-dir", "", "directory of psplash_fifo (default: $PSPLASH_FIFO_DIR or /run)")
	plymouthSock := fs.Bool("plymouth", true, "accept plymouth's boot protocol on its abstract socket")
	duration := fs.Duration("for", 0, "close the window after this long (default: until closed, a quit request, SIGTERM or SIGINT)")
	still := fs.Bool("still", false, "do not animate (the spinner stays on its first frame)")
	verbose := fs.BoolP("verbose", "v", false, "log debug detail")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkScale(*scale); err != nil {
		return err
	}
	if err := checkWait("--for", *duration, "until closed"); err != nil {
		return err
	}
	initial, err := percentProgress("--progress", *progress)
	if err != nil {
		return err
	}
	opt := preview.Options{Scale: *scale, Still: *still, Log: logger(stderr, *verbose),
		Initial: splash.State{Progress: initial, Message: *message},
		Control: splash.ControlConfig{Native: *socket != "", Socket: *socket, Psplash: *psplashFIFO, PsplashDir: *psplashDir, Plymouth: *plymouthSock}}
	// Two buffers, the snapshot and the window's texture.
	if opt.Size.X, opt.Size.Y, err = parseSize("--size", *size, 16); err != nil {
		return err
	}
	if *themePath != "" {
		if opt.Theme, err = theme.Load(*themePath, theme.Options{}); err != nil {
			return err
		}
	}

	// OpenGL and the window system want one thread for the window's whole
	// life: this one, while the daemon runs on others.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	w, err := preview.Open(opt)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}
