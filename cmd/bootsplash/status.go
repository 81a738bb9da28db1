package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/internal/status"
)

// cmdStatus shows the status screen (package internal/status) on every
// output of the display until SIGTERM or SIGINT.
func cmdStatus(args []string, stderr io.Writer) error {
	fs := newFlags("status", stderr)
	logFile := fs.String("log", "", "show the last lines of this log file, following appends, truncation and rotation")
	disk := fs.String("disk", "/", "show the disk usage of the filesystem holding this path")
	backend := fs.String("backend", "auto", "auto (KMS if a display device exists, else /dev/fb0, else emulated), kms, fbdev or emu")
	device := fs.String("device", "", "DRM device node (default: the first KMS-capable /dev/dri/card*)")
	out := fs.String("out", "status.png", `emulated backend: PNG file each update is written to ("" for none)`)
	size := fs.String("size", "1024x768", "emulated backend: display size WxH")
	buffers := fs.Int("buffers", 1, "1 (draw in place) or 2 (double-buffered, flipped on vblank)")
	strategy := fs.String("access", "cached", "CPU access: cached, per-access, nosync, shadow or guarded")
	rotate := fs.String("rotate", "0", "rotation on the way to the panel, on top of its orientation: 0, 90, 180 or 270")
	masterWait := fs.Duration("master-wait", 5*time.Second, "how long to wait for DRM master while another process holds it (0: fail at once)")
	duration := fs.Duration("for", 0, "quit after this long (default: run until SIGTERM or SIGINT)")
	verbose := fs.BoolP("verbose", "v", false, "log the damage of every update")
	if err := parse(fs, args); err != nil {
		return err
	}
	log := logger(stderr, *verbose)
	opt := display.Options{Device: *device, Out: *out, Buffers: *buffers, MasterWait: *masterWait, Log: log}
	var err error
	if opt.Backend, err = display.ParseBackend(*backend); err != nil {
		return fmt.Errorf("%w: --backend: %v", errUsage, err)
	}
	if *buffers != 1 && *buffers != 2 {
		return fmt.Errorf("%w: --buffers %d: want 1 or 2", errUsage, *buffers)
	}
	if opt.Access, err = access.ParseStrategy(*strategy); err != nil {
		return fmt.Errorf("%w: --access: %v", errUsage, err)
	}
	if opt.Rotation, err = parseRotation(*rotate); err != nil {
		return fmt.Errorf("%w: --rotate: %v", errUsage, err)
	}
	// The emulated display's buffers, and the copy written to --out.
	if opt.EmuSize.X, opt.EmuSize.Y, err = parseSize("--size", *size, 4*(*buffers)+4); err != nil {
		return err
	}
	if err := checkWait("--master-wait", *masterWait, "fail at once"); err != nil {
		return err
	}
	if err := checkWait("--for", *duration, "until SIGTERM or SIGINT"); err != nil {
		return err
	}

	sopt := status.Options{Fields: status.Standard(status.System(), *disk, "")}
	if *logFile != "" {
		t, err := status.OpenTail(*logFile, status.TailOptions{})
		if err != nil {
			return fmt.Errorf("--log: %w", err)
		}
		defer t.Close()
		sopt.Log = t
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	disp, err := display.Open(ctx, opt)
	if err != nil {
		if ctx.Err() != nil {
			return nil // told to stop while waiting for DRM master
		}
		return err
	}
	defer func() {
		if err := disp.Close(); err != nil {
			log.Warn(fmt.Sprintf("release the display: %v", err))
		}
	}()
	return status.Show(ctx, disp, sopt, func(h *display.Head, u status.Update) {
		log.Debug("update", "head", h.Name, "regions", u.Regions, "rects", u.Rects, "pixels", u.Pixels)
	})
}
