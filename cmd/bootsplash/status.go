package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/status"
	"github.com/bootsplash/bootsplash/splash"
)

// cmdStatus shows the status screen (package internal/status) until
// SIGTERM or SIGINT.
func cmdStatus(args []string, stderr io.Writer) error {
	fs := newFlags("status", stderr)
	logFile := fs.String("log", "", "show the last lines of this log file, following appends, truncation and rotation")
	disk := fs.String("disk", "/", "show the disk usage of the filesystem holding this path")
	backend := fs.String("backend", "auto", "auto (KMS if a display device exists, else emulated), kms or emu")
	device := fs.String("device", "", "DRM device node (default: the first KMS-capable /dev/dri/card*)")
	out := fs.String("out", "status.png", "emulated backend: PNG file each update is written to")
	size := fs.String("size", "1024x768", "emulated backend: display size WxH")
	buffers := fs.Int("buffers", 1, "1 (draw in place) or 2 (double-buffered, flipped on vblank)")
	strategy := fs.String("access", "cached", "CPU access: cached, per-access, nosync, shadow or guarded")
	rotate := fs.String("rotate", "0", "rotation on the way to the panel, on top of its orientation: 0, 90, 180 or 270")
	duration := fs.Duration("for", 0, "quit after this long (default: run until SIGTERM or SIGINT)")
	verbose := fs.BoolP("verbose", "v", false, "log the damage of every update")
	if err := parse(fs, args); err != nil {
		return err
	}
	opt := statusDisplayOptions{Device: *device, Out: *out, Buffers: *buffers}
	var err error
	if opt.Backend, err = splash.ParseBackend(*backend); err != nil {
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
	if opt.Size.X, opt.Size.Y, err = parseSize("--size", *size, 4*(*buffers)+4); err != nil {
		return err
	}
	if err := checkWait("--for", *duration, "until SIGTERM or SIGINT"); err != nil {
		return err
	}
	log := logger(stderr, *verbose)
	opt.Log = log

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
	disp, err := openStatusDisplay(ctx, opt)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer func() {
		if err := disp.close(); err != nil {
			log.Warn(fmt.Sprintf("release the display: %v", err))
		}
	}()
	scr, err := status.New(disp.fb, sopt)
	if err != nil {
		return err
	}
	return scr.Run(ctx, func(ctx context.Context, u status.Update) error {
		log.Debug("update", "regions", u.Regions, "rects", u.Rects, "pixels", u.Pixels)
		if u.Rects == 0 {
			return nil
		}
		return disp.after(ctx)
	})
}

// statusDisplayOptions say which display the status screen opens.
type statusDisplayOptions struct {
	Backend  splash.Backend
	Device   string
	Out      string
	Size     image.Point
	Buffers  int
	Access   access.Strategy
	Rotation fbemu.Rotation
	Log      *slog.Logger
}

// statusDisplay is the framebuffer the status screen draws on, with what
// follows each update (save the emulated display's PNG, or wait for a
// flip) and what releases it.
type statusDisplay struct {
	fb    *fbemu.Framebuffer
	after func(context.Context) error
	close func() error
}

// openStatusDisplay opens the first connected output of a KMS device, or,
// with no device (or --backend emu), an emulated display whose updates
// are written to a PNG file.
func openStatusDisplay(ctx context.Context, opt statusDisplayOptions) (*statusDisplay, error) {
	fbo := fbemu.FramebufferOptions{Buffers: opt.Buffers, Strategy: opt.Access, Rotation: opt.Rotation}
	if opt.Backend != splash.BackendEmu {
		d, err := openStatusKMS(opt, fbo)
		if err == nil || opt.Backend == splash.BackendKMS || opt.Device != "" || !errors.Is(err, os.ErrNotExist) {
			return d, err
		}
		opt.Log.Info("no display device (/dev/dri/card* absent): using the emulated display")
	}
	e, err := fbemu.NewEmulatedWith(opt.Size.X, opt.Size.Y, fbemu.XRGB8888, fbemu.EmulatedOptions{FramebufferOptions: fbo})
	if err != nil {
		return nil, err
	}
	opt.Log.Info(fmt.Sprintf("emulated display %dx%d: each update is written to %s", opt.Size.X, opt.Size.Y, opt.Out))
	return &statusDisplay{
		fb:    e.Framebuffer,
		after: func(ctx context.Context) error { return e.SavePNGContext(ctx, opt.Out) },
		close: e.Close,
	}, nil
}

// openStatusKMS takes DRM master on the device and lights the output
// client.SelectOutput picks, as `bootsplash run` does.
func openStatusKMS(opt statusDisplayOptions, fbo fbemu.FramebufferOptions) (*statusDisplay, error) {
	dev, err := client.Open(opt.Device, client.Options{})
	if err != nil {
		return nil, err
	}
	if err := dev.SetMaster(); err != nil {
		dev.Close()
		return nil, fmt.Errorf("%s: %w (another process shows something on it)", dev.Path(), err)
	}
	out, err := dev.SelectOutput(client.OutputRequest{})
	if err != nil {
		dev.Close()
		return nil, err
	}
	k, err := fbemu.NewKMS(dev, out, fbemu.KMSOptions{FramebufferOptions: fbo})
	if err != nil {
		dev.Close()
		return nil, err
	}
	opt.Log.Info("output: "+out.String(), "device", dev.Path(), "driver", dev.Driver().Name, "buffer", k.Paths()[0])
	return &statusDisplay{
		fb: k.Framebuffer,
		after: func(context.Context) error {
			// A flip must complete before the next frame draws in the
			// buffer it replaced; waiting here keeps that out of Update.
			return k.Wait()
		},
		close: func() error { return errors.Join(k.Close(), dev.Close()) },
	}, nil
}
