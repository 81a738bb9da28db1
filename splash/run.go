package splash

import (
	"context"
	"fmt"
	"image"
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
	// Out is the PNG the emulated display writes each frame to.
	Out string
	// EmuSize is the emulated display's size.
	EmuSize image.Point
	// Start is when the process started, for the time to first frame.
	Start time.Time
	// Log receives what Run does; nil discards it.
	Log *slog.Logger
}

// Render writes the frame Run shows on a w x h display to a PNG file, by
// the same code on the emulated display.
func Render(w, h int, out string) error {
	e, err := fbemu.NewEmulatedWith(w, h, fbemu.XRGB8888, fbemu.EmulatedOptions{FramebufferOptions: fbemu.FramebufferOptions{Buffers: 1}})
	if err != nil {
		return err
	}
	defer e.Close()
	sc, err := DefaultScene()
	if err != nil {
		return err
	}
	p := NewPainter(sc, e.Format())
	if err := e.Frame(func(s *fbemu.Surface) error { p.Paint(s); return nil }); err != nil {
		return err
	}
	return e.SavePNG(out)
}

// Run shows the splash and keeps it up until ctx is done, then releases
// everything it took.
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
	if backend == BackendEmu {
		return runEmulated(ctx, cfg)
	}
	return runKMS(ctx, cfg)
}

func runEmulated(ctx context.Context, cfg Config) error {
	w, h := cfg.EmuSize.X, cfg.EmuSize.Y
	if w <= 0 || h <= 0 {
		w, h = 1024, 768
	}
	e, err := fbemu.NewEmulatedWith(w, h, fbemu.XRGB8888, fbemu.EmulatedOptions{FramebufferOptions: fbemu.FramebufferOptions{Buffers: cfg.Buffers, Strategy: cfg.Access}})
	if err != nil {
		return err
	}
	defer e.Close()
	cfg.Log.Info("output: emulated display", "size", fmt.Sprintf("%dx%d", w, h), "format", e.Format().String())
	cfg.Log.Info("buffer: memfd (emulated display)", "access", cfg.Access.String())
	sc, err := DefaultScene()
	if err != nil {
		return err
	}
	p := NewPainter(sc, e.Format())
	if err := e.Frame(func(s *fbemu.Surface) error { p.Paint(s); return nil }); err != nil {
		return err
	}
	logFirstFrame(cfg)
	if cfg.Out != "" {
		if err := e.SavePNG(cfg.Out); err != nil {
			return err
		}
		cfg.Log.Info("wrote "+cfg.Out, "size", fmt.Sprintf("%dx%d", w, h))
	}
	<-ctx.Done()
	return nil
}

type sceneResult struct {
	scene *Scene
	err   error
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

func logFirstFrame(cfg Config) {
	ms := float64(time.Since(cfg.Start).Microseconds()) / 1000
	cfg.Log.Info(fmt.Sprintf("first frame after %.1fms", ms))
}

func runKMS(ctx context.Context, cfg Config) error {
	lap := stopwatch(cfg)
	// Decoding the scene needs no device: do it while the kernel works.
	scene := make(chan sceneResult, 1)
	go func() {
		sc, err := DefaultScene()
		scene <- sceneResult{sc, err}
	}()
	dev, err := client.Open(cfg.Device, client.Options{Legacy: cfg.Legacy})
	if err != nil {
		return err
	}
	defer dev.Close()
	lap("open " + dev.Path())
	out, err := dev.SelectOutput(client.OutputRequest{Width: cfg.Mode.X, Height: cfg.Mode.Y})
	if err != nil {
		return err
	}
	lap("probe and select output")
	api := "legacy"
	if dev.Atomic() {
		api = "atomic"
	}
	cfg.Log.Info("output: "+out.String(), "device", dev.Path(), "driver", dev.Driver().Name, "api", api)
	k, err := fbemu.NewKMS(dev, out, fbemu.KMSOptions{
		FramebufferOptions: fbemu.FramebufferOptions{Buffers: cfg.Buffers, Strategy: cfg.Access},
		Scanout:            client.ScanoutOptions{Source: cfg.Buffer, Heap: cfg.Heap},
	})
	if err != nil {
		return err
	}
	defer k.Close()
	lap("allocate, import and map the scanout buffer")
	for _, f := range k.Fallbacks() {
		cfg.Log.Info("fallback: " + f)
	}
	// Every buffer takes the path the first one found.
	cfg.Log.Info("buffer: "+k.Paths()[0], "buffers", len(k.Paths()), "access", cfg.Access.String(), "format", k.Format().String())
	sr := <-scene
	if sr.err != nil {
		return sr.err
	}
	p := NewPainter(sr.scene, k.Format())
	lap("prepare the scene")
	if err := k.Frame(func(s *fbemu.Surface) error { p.Paint(s); lap("paint"); return nil }); err != nil {
		return err
	}
	lap("commit")
	logFirstFrame(cfg)
	<-ctx.Done()
	return nil
}
