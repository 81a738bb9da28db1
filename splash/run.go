package splash

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
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
	// Initial is the State shown first.
	Initial State
	// Control says which control front ends to open once the first frame
	// is up.
	Control ControlConfig
	// Start is when the process started, for the time to first frame.
	Start time.Time
	// Log receives what Run does; nil discards it.
	Log *slog.Logger
}

// Render writes the frame Run shows first on a w x h display with the
// default theme to a PNG file, by the same code on the emulated display.
func Render(w, h int, out string) error {
	return RenderFrame(out, FrameOptions{Width: w, Height: h})
}

// display is the framebuffer Run draws on, with what differs between KMS
// and the emulated display.
type display struct {
	fb    *fbemu.Framebuffer
	dev   *client.Device // nil on the emulated display
	scale float64        // from the output's physical size
	after func() error   // after each frame (the emulated display writes Out)
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
	lap := stopwatch(cfg)
	// Loading the theme needs no device: do it while the kernel works.
	theme := make(chan themeResult, 1)
	go func() {
		th, err := loadTheme(cfg.Theme)
		theme <- themeResult{th, err}
	}()

	backend := cfg.Backend
	if backend == BackendAuto {
		backend = BackendKMS
		if cfg.Device == "" {
			if cards, _ := filepath.Glob("/dev/dri/card*"); len(cards) == 0 {
				backend = BackendEmu
				cfg.Log.Info("no display device (/dev/dri/card* absent): using the emulated display")
			}
		}
	}
	var disp *display
	var err error
	if backend == BackendEmu {
		disp, err = openEmulated(cfg)
	} else {
		disp, err = openKMS(cfg, lap)
	}
	if err != nil {
		<-theme
		return err
	}
	defer func() {
		// The splash was shown; a failure to release it is reported,
		// not returned.
		if err := disp.close(); err != nil {
			cfg.Log.Warn(fmt.Sprintf("release the display: %v", err))
		}
	}()

	tr := <-theme
	if tr.theme == nil {
		return tr.err
	}
	if tr.err != nil {
		// A broken image is left out of the splash, not the splash
		// out of the boot.
		cfg.Log.Warn(fmt.Sprintf("theme: %v", tr.err))
	}
	scale := cfg.Scale
	if scale <= 0 {
		scale = disp.scale
	}
	r := NewRenderer(tr.theme, scale)
	scr := NewScreen(disp.fb, r, ScreenOptions{Device: disp.dev, After: disp.after, Log: cfg.Log})
	lap("load the theme")
	if err := scr.Show(cfg.Initial); err != nil {
		return err
	}
	logFirstFrame(cfg)

	// Everything not needed for the first frame comes after it.
	cfg.Control.Log = cfg.Log
	fes, closeFrontends, err := OpenFrontends(cfg.Control)
	if err != nil {
		cfg.Log.Warn(fmt.Sprintf("control: %v", err))
	}
	defer closeFrontends()
	var interval time.Duration
	if r.Animated(cfg.Initial) {
		interval = time.Second / time.Duration(max(r.FPS(), 1))
	}
	d := NewDaemon(DaemonConfig{Screen: scr, Frontends: fes, Initial: cfg.Initial, Shown: true, FrameInterval: interval, Log: cfg.Log})
	if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if quit, retain := d.QuitRequested(); quit {
		cfg.Log.Info("quit", "retain", retain)
	}
	return nil
}

type themeResult struct {
	theme *Theme
	err   error
}

// loadTheme loads the theme and decodes what its first frame shows (logo,
// background image); fonts and spinner frames wait until they are drawn.
func loadTheme(path string) (*Theme, error) {
	var th *Theme
	var err error
	if path == "" {
		th, err = DefaultTheme()
	} else {
		th, err = LoadTheme(path, ThemeOptions{})
	}
	if err != nil {
		return nil, err
	}
	return th, th.DecodeFirstFrame()
}

func openEmulated(cfg Config) (*display, error) {
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
			if err := e.SavePNG(cfg.Out); err != nil {
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

func openKMS(cfg Config, lap func(string)) (*display, error) {
	dev, err := client.Open(cfg.Device, client.Options{Legacy: cfg.Legacy})
	if err != nil {
		return nil, err
	}
	lap("open " + dev.Path())
	out, err := dev.SelectOutput(client.OutputRequest{Width: cfg.Mode.X, Height: cfg.Mode.Y})
	if err != nil {
		dev.Close()
		return nil, err
	}
	lap("probe and select output")
	api := "legacy"
	if dev.Atomic() {
		api = "atomic"
	}
	cfg.Log.Info("output: "+out.String(), "device", dev.Path(), "driver", dev.Driver().Name, "api", api)
	k, err := fbemu.NewKMS(dev, out, fbemu.KMSOptions{
		FramebufferOptions: fbemu.FramebufferOptions{Buffers: cfg.Buffers, Strategy: cfg.Access, Rotation: cfg.Rotation},
		Scanout:            client.ScanoutOptions{Source: cfg.Buffer, Heap: cfg.Heap},
	})
	if err != nil {
		dev.Close()
		return nil, err
	}
	lap("allocate, import and map the scanout buffer")
	for _, f := range k.Fallbacks() {
		cfg.Log.Info("fallback: " + f)
	}
	// Every buffer takes the path the first one found.
	cfg.Log.Info("buffer: "+k.Paths()[0], "buffers", len(k.Paths()), "access", cfg.Access.String(), "format", k.Format().String())
	return &display{
		fb:    k.Framebuffer,
		dev:   dev,
		scale: ScaleOf(out),
		after: k.Wait,
		close: func() error { return errors.Join(k.Close(), dev.Close()) },
	}, nil
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
	return &screen{fb: fb, r: r, dev: opt.Device, after: opt.After, log: opt.Log, master: true}
}

// screen is NewScreen's Screen.
type screen struct {
	fb     *fbemu.Framebuffer
	r      *Renderer
	dev    *client.Device
	after  func() error
	log    *slog.Logger
	shown  State
	drawn  bool // the framebuffer holds shown (false at first and after Hide)
	master bool // false while deactivated
	warned bool // a paint error was logged
}

// Show draws st: in full the first time and after Hide, otherwise only
// what differs from the State on screen.
func (s *screen) Show(st State) error {
	var paintErr error
	err := s.fb.Frame(func(surf *fbemu.Surface) error {
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

// Reactivate takes master back; the next Show repaints everything.
func (s *screen) Reactivate() error {
	if s.dev != nil {
		if err := s.dev.SetMaster(); err != nil {
			return err
		}
	}
	s.master, s.drawn = true, false
	return nil
}

// Quit lets Run release the display. The last frame stays on a KMS plane
// until the device is closed.
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

func logFirstFrame(cfg Config) {
	ms := float64(time.Since(cfg.Start).Microseconds()) / 1000
	cfg.Log.Info(fmt.Sprintf("first frame after %.1fms", ms))
}
