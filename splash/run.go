package splash

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/input"
	"github.com/bootsplash/bootsplash/splash/theme"
	"github.com/bootsplash/bootsplash/text/locale"
)

// Backend is where Run shows the splash.
type Backend = display.Backend

// Backends. BackendAuto uses KMS when a display device exists, else the
// firmware framebuffer, else (as a boot splash) waits for a display, else
// the emulated display (display.Open).
const (
	BackendAuto  = display.BackendAuto
	BackendKMS   = display.BackendKMS
	BackendEmu   = display.BackendEmu
	BackendFbdev = display.BackendFbdev
)

// ParseBackend reads a backend name as Backend's String writes it.
func ParseBackend(s string) (Backend, error) { return display.ParseBackend(s) }

// Config is what Run needs to know.
type Config struct {
	// Device is the DRM node; "" takes the first KMS-capable one.
	Device string
	// Mode chooses the display mode by size; zero takes the preferred mode.
	Mode image.Point
	// Heap names the dma-buf heap; "" takes the default one.
	Heap string
	// Buffer is where the scanout buffer comes from (client.SourceAuto
	// falls back from heap to udmabuf to dumb).
	Buffer display.Source
	// Access is how the CPU reaches the pixels.
	Access display.Strategy
	// Buffers is 1 (draw in place: the fastest first frame, the least
	// memory) or 2 (double-buffered, flipped on vblank); 0 means 1.
	Buffers int
	// Legacy keeps KMS on the legacy ioctls even where atomic works.
	Legacy bool
	// Backend chooses KMS or the emulated display.
	Backend Backend
	// Out is the PNG the emulated display rewrites after every frame.
	Out string
	// EmuSize is the emulated display's size; zero means 1024x768.
	EmuSize image.Point
	// Theme is the theme file; "" is the embedded default theme.
	Theme string
	// Scale overrides the output scale; 0 derives it from the display's
	// physical size.
	Scale float64
	// Rotation turns the splash on its way to the panel, on top of the
	// panel's own orientation.
	Rotation fbemu.Rotation
	// MasterWait bounds the wait for DRM master while another process
	// holds it (KMS only); 0 tries once.
	MasterWait time.Duration
	// Reload asks for the theme to be loaded again (cmd sends on SIGHUP):
	// a new renderer then repaints the whole screen; a theme that fails to
	// load leaves the old one up. nil: no reloads.
	Reload <-chan struct{}
	// Initial is the State shown first.
	Initial State
	// Lang is the locale of the splash's own strings (the prompt's
	// defaults, its retry and Caps Lock lines, the details hint): "ar",
	// "zh_CN.UTF-8"; "" is the system's, as locale.System finds it (the
	// environment, locale.LANG= on the kernel command line,
	// /etc/locale.conf), looked up after the first frame.
	Lang string
	// BootLog is where the details view's lines are written once the
	// root filesystem is writable (plymouth update-root-fs
	// --read-write); "" writes none.
	BootLog string
	// KernelLog is the kernel's log device (/dev/kmsg) the details view
	// reads from boot on; "" shows only the messages sent.
	KernelLog string
	// Input is the keyboard questions are answered from, opened only
	// while one is asked; nil answers every question "no answer" (the
	// asker asks on its own).
	Input input.Source
	// Control says which control front ends to open once the first frame
	// is up.
	Control ControlConfig
	// Ready is called once the first frame is up (or, with no display
	// device yet, Run waits for one) and the control front ends serve:
	// cmd tells systemd (sd_notify READY=1). nil: nothing.
	Ready func()
	// Start is when the process started, for the time to first frame.
	Start time.Time
	// BeforeMain is how long the process ran before Start (exec, the
	// runtime's start, package inits), for the verbose log; 0: unknown.
	BeforeMain time.Duration
	// Open opens the display; nil is display.Open. Another backend (a
	// window, a firmware framebuffer) comes in here.
	Open func(ctx context.Context, opt display.Options) (display.Display, error)
	// Log receives what Run does; nil discards it.
	Log *slog.Logger
}

// displayOptions is what cfg asks of the display.
func (cfg Config) displayOptions(step func(string)) display.Options {
	return display.Options{Backend: cfg.Backend, Device: cfg.Device, Mode: cfg.Mode, Heap: cfg.Heap, Buffer: cfg.Buffer,
		Access: cfg.Access, Buffers: cfg.Buffers, Legacy: cfg.Legacy, Rotation: cfg.Rotation, MasterWait: cfg.MasterWait,
		Out: cfg.Out, EmuSize: cfg.EmuSize, Step: step, Log: cfg.Log}
}

// Render writes the frame Run shows first on a w x h display with the
// default theme to a PNG file, by the same code on the emulated display.
func Render(w, h int, out string) error {
	return RenderFrame(out, FrameOptions{Width: w, Height: h})
}

// Run shows the splash, then serves the control front ends until a quit
// request or until ctx is done, and releases everything it took.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now()
	}
	if cfg.Buffers == 0 {
		cfg.Buffers = 1
	}
	if cfg.BeforeMain > 0 {
		cfg.Log.Debug("exec to main (runtime start, page faults, package inits)", "ms", fmt.Sprintf("%.2f", float64(cfg.BeforeMain.Microseconds())/1000))
	}
	lap := stopwatch(cfg)
	// Loading the theme needs no device: with more than one CPU it is
	// done while the kernel works. With one (a small board, a VM) a
	// goroutine beside the device's system calls runs nothing sooner: the
	// runtime hands the CPU from thread to thread at every call that
	// blocks. There the theme is loaded once the device is open.
	loaded := make(chan themeResult, 1)
	concurrent := runtime.NumCPU() > 1
	load := func() {
		step := lap
		if concurrent {
			step = func(string) {} // laps are the main line's
		}
		th, err := loadTheme(cfg.Theme, step)
		loaded <- themeResult{th, err}
	}
	if concurrent {
		go load()
	}

	open := cfg.Open
	if open == nil {
		open = display.Open
	}
	disp, err := open(ctx, cfg.displayOptions(lap))
	if err != nil {
		if concurrent {
			select {
			case <-loaded:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			// Told to stop while waiting (for DRM master): not a failure.
			return nil
		}
		return err
	}
	retain := false // quit asked to leave the splash up
	defer func() {
		// The splash was shown; a failure to release it is reported,
		// not returned.
		release := disp.Close
		if retain {
			release = disp.CloseRetained
		}
		if err := release(); err != nil {
			cfg.Log.Warn(fmt.Sprintf("release the display: %v", err))
		}
	}()

	// Start-up stops as soon as ctx is done (SIGTERM, --for): a theme
	// still loading is left to finish on its own and be dropped.
	if !concurrent {
		load()
	}
	var tr themeResult
	select {
	case tr = <-loaded:
	case <-ctx.Done():
		return nil
	}
	if tr.err != nil {
		// A broken theme (a truncated image too) is refused as a whole,
		// with every mistake's file:line: key.
		return tr.err
	}
	scr := NewScreen(disp, tr.theme, ScreenOptions{Scale: cfg.Scale, Log: cfg.Log, Lang: cfg.Lang})
	// first is when the first frame went up (0: not yet); once the
	// front ends serve, later first frames (a device that comes late)
	// are logged as they happen.
	var first time.Duration
	loud := false
	scr.shown = func() {
		if first == 0 {
			first = time.Since(cfg.Start)
			if loud {
				logFirstFrame(cfg, first)
			}
		}
	}
	if concurrent {
		lap("load the theme (beside the device)")
	} else {
		lap("set up the renderer")
	}
	if err := scr.Show(cfg.Initial); err != nil {
		if ctx.Err() != nil {
			// Stopped while the first frame was written out.
			return nil
		}
		return err
	}

	// Everything not needed for the first frame comes after it.
	if cfg.Lang == "" {
		cfg.Lang = locale.System()
	}
	scr.SetLocale(cfg.Lang)
	// Changes the daemon makes between frames: theme reloads, hotplug, VT
	// switches.
	changes := make(chan func() error, 1)
	done := make(chan struct{})
	var workers sync.WaitGroup
	defer func() {
		close(done)
		workers.Wait()
	}()
	// The display's changes (hotplug, the device going and coming, VT
	// switches) run on the daemon's goroutine, as the theme reloads do.
	disp.Listen(func(ev display.Event) bool {
		select {
		case changes <- func() error { return scr.Apply(ev) }:
			return true
		case <-done:
			return false
		}
	})
	cfg.Control.Log = cfg.Log
	fes, closeFrontends, err := OpenFrontends(cfg.Control)
	defer closeFrontends()
	if err != nil {
		// A daemon nobody can reach is of no use: a second one started
		// beside a running one, say, would run on unseen.
		return err
	}
	loud = true
	if first > 0 {
		logFirstFrame(cfg, first)
	} else {
		// Said once the front ends serve, as the first frame is.
		cfg.Log.Info("no display yet: taking requests; the first frame comes with a display device")
	}
	if cfg.Ready != nil {
		cfg.Ready()
	}
	// From here on drawing opens no theme file: an initramfs emptied by
	// switch_root under the daemon takes nothing from the splash.
	if err := tr.theme.Preload(); err != nil {
		cfg.Log.Warn(fmt.Sprintf("theme: %v", err))
	}
	var interval time.Duration
	if r := NewRenderer(tr.theme, 1); r.Animated(cfg.Initial) {
		interval = time.Second / time.Duration(max(r.FPS(), 1))
	}
	if cfg.Reload != nil {
		workers.Add(1)
		go func() {
			defer workers.Done()
			reloadThemes(cfg, scr.SetTheme, changes, done)
		}()
	}
	var kernelLog chan string
	if cfg.KernelLog != "" {
		kernelLog = make(chan string, 64)
		kctx, stopKmsg := context.WithCancel(ctx)
		workers.Add(1)
		go func() {
			defer workers.Done()
			if err := readKmsg(kctx, cfg.KernelLog, kernelLog); err != nil {
				cfg.Log.Debug("details view: no kernel log", "path", cfg.KernelLog, "err", err)
			}
		}()
		go func() { <-done; stopKmsg() }()
	}
	d := NewDaemon(DaemonConfig{Screen: scr, Frontends: fes, Initial: cfg.Initial, Shown: true, FrameInterval: interval, Reload: changes, KernelLog: kernelLog, BootLog: cfg.BootLog, Input: cfg.Input, Log: cfg.Log})
	if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if quit, r := d.QuitRequested(); quit {
		cfg.Log.Info("quit", "retain", r)
		retain = r
	}
	return nil
}

// reloadThemes loads the theme again on each request of cfg.Reload, away
// from the daemon, and hands the daemon the swap to a new renderer; a
// theme that fails to load is logged and the current one kept.
func reloadThemes(cfg Config, set func(*theme.Theme), to chan<- func() error, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-cfg.Reload:
		}
		th, err := loadTheme(cfg.Theme, func(string) {})
		if err != nil {
			cfg.Log.Warn(fmt.Sprintf("reload the theme: %v (keeping the current one)", err))
			continue
		}
		if err := th.Preload(); err != nil {
			cfg.Log.Warn(fmt.Sprintf("theme: %v", err))
		}
		select {
		case <-done:
			return
		case to <- func() error { set(th); return nil }:
			cfg.Log.Info("reloaded the theme")
		}
	}
}

type themeResult struct {
	theme *theme.Theme
	err   error
}

// loadTheme loads the theme, decoding every image it names (a broken one
// refuses the theme); fonts wait until text is drawn. lap is called once
// it is loaded.
func loadTheme(path string, lap func(string)) (*theme.Theme, error) {
	var th *theme.Theme
	var err error
	if path == "" {
		th, err = theme.Default()
	} else {
		th, err = theme.Load(path, theme.Options{})
	}
	lap("parse the theme and decode its images")
	return th, err
}

// stopwatch returns a function that logs, at debug level, the time since
// its previous call (or since the process started) for each step of the
// way to the first frame.
func stopwatch(cfg Config) func(step string) {
	last := cfg.Start
	return func(step string) {
		now := time.Now()
		cfg.Log.Debug(step, "ms", fmt.Sprintf("%.2f", float64(now.Sub(last).Microseconds())/1000))
		last = now
	}
}

// logFirstFrame says when the first frame went up, d after the process
// started. Run says it once the control front ends serve too, so whoever
// waits for this line can talk to the splash at once.
func logFirstFrame(cfg Config, d time.Duration) {
	if cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
		logUsage(cfg, d)
	}
	cfg.Log.Info(fmt.Sprintf("first frame after %.1fms", float64(d.Microseconds())/1000))
}
