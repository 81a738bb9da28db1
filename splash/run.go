package splash

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// Backend is where Run shows the splash.
type Backend int

// Backends. BackendAuto uses KMS when a display device exists and the
// emulated display otherwise.
const (
	BackendAuto Backend = iota
	BackendKMS
	BackendEmu
)

var backendNames = [...]string{"auto", "kms", "emu"}

// String is "auto", "kms" or "emu".
func (b Backend) String() string {
	if b < 0 || int(b) >= len(backendNames) {
		return fmt.Sprintf("Backend(%d)", int(b))
	}
	return backendNames[b]
}

// ParseBackend reads a backend name as String writes it.
func ParseBackend(s string) (Backend, error) {
	for i, n := range backendNames {
		if s == n {
			return Backend(i), nil
		}
	}
	return 0, fmt.Errorf("unknown backend %q (want auto, kms or emu)", s)
}

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
	Buffer client.Source
	// Access is how the CPU reaches the pixels.
	Access access.Strategy
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
	// Log receives what Run does; nil discards it.
	Log *slog.Logger
}

// Render writes the frame Run shows first on a w x h display with the
// default theme to a PNG file, by the same code on the emulated display.
func Render(w, h int, out string) error {
	return RenderFrame(out, FrameOptions{Width: w, Height: h})
}

// display is the emulated display Run draws on when there is no KMS.
type display struct {
	fb    *fbemu.Framebuffer
	scale float64      // from the display's size
	after func() error // after each frame: write Out
	close func() error
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

	backend := cfg.Backend
	if backend == BackendAuto {
		backend = BackendKMS
		if cfg.Device == "" {
			if len(client.Cards()) == 0 {
				backend = BackendEmu
				cfg.Log.Info("no display device (/dev/dri/card* absent): using the emulated display")
			}
		}
	}
	var disp *display // the emulated display, or
	var ks *kmsScreen // the KMS device's outputs
	retain := false   // quit asked to leave the splash up
	var err error
	if backend == BackendEmu {
		disp, err = openEmulated(ctx, cfg)
	} else {
		ks, err = openKMSScreen(ctx, cfg, lap)
	}
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
	if disp != nil {
		defer func() {
			// The splash was shown; a failure to release it is
			// reported, not returned.
			if err := disp.close(); err != nil {
				cfg.Log.Warn(fmt.Sprintf("release the display: %v", err))
			}
		}()
	} else {
		defer func() { ks.release(retain) }()
	}

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
	var scr Screen
	var setTheme func(*theme.Theme)
	if disp != nil {
		scale := cfg.Scale
		if scale <= 0 {
			scale = disp.scale
		}
		s := NewScreen(disp.fb, NewRenderer(tr.theme, scale), ScreenOptions{After: disp.after, Log: cfg.Log}).(*screen)
		scr, setTheme = s, func(th *theme.Theme) { s.setRenderer(NewRenderer(th, scale)) }
	} else {
		ks.setTheme(tr.theme)
		scr, setTheme = ks, ks.setTheme
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
	var firstFrame time.Duration
	if disp != nil {
		firstFrame = time.Since(cfg.Start)
	}

	// Everything not needed for the first frame comes after it.
	// Changes the daemon makes between frames: theme reloads, hotplug, VT
	// switches.
	changes := make(chan func() error, 1)
	done := make(chan struct{})
	var workers sync.WaitGroup
	var uevents *client.UeventListener
	defer func() {
		close(done)
		if uevents != nil {
			uevents.Close()
		}
		workers.Wait()
	}()
	if ks != nil {
		// The daemon's first change lights the other connected outputs,
		// the way hotplug does (listening starts before it runs: nothing
		// is missed in between).
		changes <- ks.refresh
	}
	// The VT goes to graphics mode only under a real display, and back to
	// text only on a plain quit while the display is still ours: after
	// deactivate the VT belongs to the successor, as in Plymouth.
	releaseVT := func(bool) {}
	if ks != nil {
		releaseVT = takeVT(cfg.Log, &vtSwitches{away: ks.vtAway, back: ks.vtBack, changes: changes, done: done})
	}
	defer func() { releaseVT(!retain && (ks == nil || ks.master)) }()
	if ks != nil {
		if uevents, err = client.ListenUevents(); err != nil {
			cfg.Log.Warn(fmt.Sprintf("hotplug: %v: outputs will not follow the connectors", err))
			uevents = nil
		} else {
			workers.Add(1)
			go func() {
				defer workers.Done()
				watchUevents(uevents, ks, changes, done, cfg.Log)
			}()
		}
	}
	cfg.Control.Log = cfg.Log
	fes, closeFrontends, err := OpenFrontends(cfg.Control)
	defer closeFrontends()
	if err != nil {
		// A daemon nobody can reach is of no use: a second one started
		// beside a running one, say, would run on unseen.
		return err
	}
	if ks != nil {
		firstFrame = ks.announce()
	}
	if firstFrame > 0 {
		logFirstFrame(cfg, firstFrame)
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
			reloadThemes(cfg, setTheme, changes, done)
		}()
	}
	d := NewDaemon(DaemonConfig{Screen: scr, Frontends: fes, Initial: cfg.Initial, Shown: true, FrameInterval: interval, Reload: changes, Log: cfg.Log})
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

// openEmulated opens the emulated display; writing its frames to cfg.Out
// gives up when ctx is done.
func openEmulated(ctx context.Context, cfg Config) (*display, error) {
	w, h := cfg.EmuSize.X, cfg.EmuSize.Y
	if w <= 0 || h <= 0 {
		w, h = 1024, 768
	}
	e, err := fbemu.NewEmulatedWith(w, h, fbemu.XRGB8888, fbemu.EmulatedOptions{FramebufferOptions: fbemu.FramebufferOptions{
		Buffers: cfg.Buffers, Strategy: cfg.Access, Rotation: cfg.Rotation,
	}})
	if err != nil {
		return nil, err
	}
	cfg.Log.Info("output: emulated display", "size", fmt.Sprintf("%dx%d", w, h), "format", e.Format().String())
	cfg.Log.Info("buffer: memfd (emulated display)", "buffers", e.Buffers(), "access", cfg.Access.String())
	d := &display{fb: e.Framebuffer, scale: OutputScale(w, h, 0, 0), close: e.Close, after: func() error { return nil }}
	if cfg.Out != "" {
		first := true
		d.after = func() error {
			if err := e.SavePNGContext(ctx, cfg.Out); err != nil {
				return err
			}
			if first {
				cfg.Log.Info("wrote "+cfg.Out, "size", fmt.Sprintf("%dx%d", w, h))
				first = false
			}
			return nil
		}
	}
	return d, nil
}

// masterBusy says whether a SET_MASTER error means another process holds
// master (worth waiting for) rather than a lasting refusal.
func masterBusy(err error) bool {
	return errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// takeMaster makes dev's file DRM master, waiting up to wait while another
// process holds it and saying so; it stops waiting when ctx is done.
func takeMaster(ctx context.Context, dev *client.Device, wait time.Duration, log *slog.Logger) error {
	err := dev.SetMaster()
	if err == nil || !masterBusy(err) {
		return err
	}
	if wait <= 0 {
		return fmt.Errorf("%w (not waiting: --master-wait is 0)", err)
	}
	log.Info("waiting for DRM master (held by another process)", "device", dev.Path(), "max", wait.String())
	start := time.Now()
	deadline := start.Add(wait)
	pause := 20 * time.Millisecond
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("no DRM master after waiting %v: %w", wait, err)
		}
		select {
		case <-time.After(min(pause, left)):
		case <-ctx.Done():
			return fmt.Errorf("waiting for DRM master: %w", ctx.Err())
		}
		pause = min(2*pause, 250*time.Millisecond)
		if err = dev.SetMaster(); err == nil {
			log.Info("took DRM master", "waited", time.Since(start).Round(time.Millisecond).String())
			return nil
		}
		if !masterBusy(err) {
			return err
		}
	}
}

// ScreenOptions are what a Screen over a framebuffer needs besides it.
type ScreenOptions struct {
	// Device is the DRM device the framebuffer is shown on, whose master
	// Deactivate drops and Reactivate takes back; nil for the emulated
	// display.
	Device *client.Device
	// After runs after every frame (the emulated display writes its PNG,
	// a KMS display waits for its flip, a preview window uploads damage);
	// nil does nothing.
	After func() error
	// Restore runs after Reactivate takes master back, before the next
	// Show: a KMS display commits its mode and plane again, in case
	// another master changed the CRTC meanwhile. nil does nothing.
	Restore func() error
	// Log receives paint problems; nil discards them.
	Log *slog.Logger
}

// NewScreen makes the Screen a Daemon drives from a renderer on a
// framebuffer: the first State and every State after Hide are painted in
// full, the others only where they differ from the one on screen.
func NewScreen(fb *fbemu.Framebuffer, r *Renderer, opt ScreenOptions) Screen {
	if opt.After == nil {
		opt.After = func() error { return nil }
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Restore == nil {
		opt.Restore = func() error { return nil }
	}
	return &screen{fb: fb, r: r, dev: opt.Device, after: opt.After, restore: opt.Restore, log: opt.Log, master: true}
}

// screen is NewScreen's Screen.
type screen struct {
	fb      *fbemu.Framebuffer
	r       *Renderer
	dev     *client.Device
	after   func() error
	restore func() error
	log     *slog.Logger
	shown   State
	drawn   bool // the framebuffer holds shown (false at first and after Hide)
	master  bool // false while deactivated
	warned  bool // a paint error was logged
}

// Show draws st: in full the first time and after Hide, otherwise only
// what differs from the State on screen.
func (s *screen) Show(st State) error {
	var paintErr error
	err := s.fb.Frame(func(surf *fbemu.Surface) error {
		if testHookFrame != nil {
			testHookFrame()
		}
		if !s.drawn {
			paintErr = s.r.Paint(surf, st)
		} else {
			paintErr = s.r.Update(surf, s.shown, st)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if paintErr != nil && !s.warned {
		// What could be drawn is on screen; say once what could not.
		s.log.Warn(fmt.Sprintf("theme: %v", paintErr))
		s.warned = true
	}
	s.shown, s.drawn = st, true
	return s.after()
}

// Hide blanks the display.
func (s *screen) Hide() error {
	err := s.fb.Frame(func(surf *fbemu.Surface) error {
		surf.Clear(color.RGBA{A: 0xff})
		return nil
	})
	if err != nil {
		return err
	}
	s.drawn = false
	return s.after()
}

// Deactivate drops DRM master so another program (a display manager) can
// take the display; nothing is drawn until Reactivate.
func (s *screen) Deactivate() error {
	if s.dev == nil {
		return nil
	}
	if err := s.dev.DropMaster(); err != nil {
		return err
	}
	s.master = false
	return nil
}

// Reactivate takes master back and commits the mode and plane again (as
// Plymouth does: whoever had master may have changed the CRTC); the next
// Show repaints everything.
func (s *screen) Reactivate() error {
	if s.dev != nil {
		if err := s.dev.SetMaster(); err != nil {
			return err
		}
	}
	s.master, s.drawn = true, false
	return s.restore()
}

// setRenderer draws with r from now on; the next Show paints in full.
func (s *screen) setRenderer(r *Renderer) {
	s.r, s.drawn = r, false
}

// testHookFrame, when set by a test, runs inside every frame Show draws.
var testHookFrame func()

// Quit lets Run release the display; Run reads retain from the daemon
// (QuitRequested) and then closes the shown KMS framebuffer with CLOSEFB
// so the last frame stays on the plane, or removes it.
func (s *screen) Quit(retain bool) error { return nil }

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
