//go:build preview

package preview

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
	"time"

	"github.com/go-gl/gl/v2.1/gl"
	"github.com/go-gl/glfw/v3.3/glfw"

	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// Options are what a preview window is opened with.
type Options struct {
	// Size is the window's, and so the emulated display's, size in
	// pixels; zero means 1024x768.
	Size image.Point
	// Theme is what to draw; nil is theme.Default.
	Theme *theme.Theme
	// Scale is the output scale; 0 derives it from the size (again at
	// every resize) as splash.OutputScale does for an unknown panel.
	Scale float64
	// Initial is the State shown first.
	Initial splash.State
	// Control says which control front ends to open, as for `run`.
	Control splash.ControlConfig
	// Still keeps the splash from animating (tests compare still frames).
	Still bool
	// Title is the window title; "" is "bootsplash preview".
	Title string
	// Log receives what the preview does; nil discards it.
	Log *slog.Logger
}

// Upload is one texture upload the window made for an update of the
// emulated display.
type Upload struct {
	// Size is the emulated display's size.
	Size image.Point
	// Rects are the rectangles uploaded with glTexSubImage2D.
	Rects []image.Rectangle
	// Bytes is how many pixel bytes were uploaded.
	Bytes int
	// Full says a new texture was made (the first frame, a resize).
	Full bool
}

// Window is a preview window: a splash daemon drawing on an emulated
// display whose updates the window shows. Its methods but Snapshot and
// Shown must be called from the goroutine that called Open, locked to its
// OS thread (OpenGL's context belongs to that thread).
type Window struct {
	opt  Options
	win  *glfw.Window
	tex  uint32
	size image.Point // texture size

	disp     *display
	daemon   *splash.Daemon
	closeFes func()
	updates  chan update
	done     chan struct{} // closed when the window stops taking updates
	resizes  chan image.Point
	want     image.Point // framebuffer size last asked for

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	errc    chan error // the daemon's result
	ended   bool       // the daemon returned
	err     error
	closed  bool
	mu      sync.Mutex
	uploads []Upload
}

// Open opens the window, shows opt.Initial in it and opens the control
// front ends. Call it on a goroutine locked to its OS thread
// (runtime.LockOSThread), then Run (or Start and Poll), then Close.
func Open(opt Options) (*Window, error) {
	if opt.Size.X <= 0 || opt.Size.Y <= 0 {
		opt.Size = image.Pt(1024, 768)
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Title == "" {
		opt.Title = "bootsplash preview"
	}
	if opt.Theme == nil {
		th, err := theme.Default()
		if err != nil {
			return nil, err
		}
		opt.Theme = th
	}
	if err := glfw.Init(); err != nil {
		return nil, fmt.Errorf("preview: open a window: %w (is DISPLAY set?)", err)
	}
	glfw.WindowHint(glfw.ContextVersionMajor, 2)
	glfw.WindowHint(glfw.ContextVersionMinor, 1)
	glfw.WindowHint(glfw.Resizable, glfw.True)
	glfw.WindowHint(glfw.DoubleBuffer, glfw.True)
	win, err := glfw.CreateWindow(opt.Size.X, opt.Size.Y, opt.Title, nil, nil)
	if err != nil {
		glfw.Terminate()
		return nil, fmt.Errorf("preview: open a %dx%d window: %w", opt.Size.X, opt.Size.Y, err)
	}
	win.MakeContextCurrent()
	if err := gl.Init(); err != nil {
		win.Destroy()
		glfw.Terminate()
		return nil, fmt.Errorf("preview: OpenGL: %w", err)
	}
	glfw.SwapInterval(1)
	opt.Log.Debug("preview: OpenGL", "version", gl.GoStr(gl.GetString(gl.VERSION)), "renderer", gl.GoStr(gl.GetString(gl.RENDERER)))

	w := &Window{opt: opt, win: win, updates: make(chan update, 8), done: make(chan struct{}),
		resizes: make(chan image.Point, 1), errc: make(chan error, 1), closeFes: func() {}}
	gl.GenTextures(1, &w.tex)
	gl.BindTexture(gl.TEXTURE_2D, w.tex)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE)
	gl.TexParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE)

	// The emulated display takes the size of what the window can show,
	// which on a scaled desktop differs from the window's size.
	fw, fh := win.GetFramebufferSize()
	w.want = image.Pt(fw, fh)
	w.disp = &display{theme: opt.Theme, scale: opt.Scale, log: opt.Log, send: w.send}
	if err := w.disp.open(w.want); err != nil {
		w.destroy()
		return nil, err
	}
	if err := w.disp.Show(opt.Initial); err != nil {
		w.destroy()
		return nil, err
	}

	cfg := opt.Control
	cfg.Log = opt.Log
	fes, closeFes, err := splash.OpenFrontends(cfg)
	if err != nil {
		opt.Log.Warn(fmt.Sprintf("control: %v", err))
	}
	w.closeFes = closeFes
	var interval time.Duration
	if r := splash.NewRenderer(w.disp.theme, 1); !opt.Still && r.Animated(opt.Initial) {
		interval = time.Second / time.Duration(max(r.FPS(), 1))
	}
	w.daemon = splash.NewDaemon(splash.DaemonConfig{Screen: w.disp, Frontends: fes, Initial: opt.Initial,
		Shown: true, FrameInterval: interval, Log: opt.Log})
	return w, nil
}

// send hands an update to the GL thread; after Close it is dropped.
func (w *Window) send(u update) {
	select {
	case w.updates <- u:
		glfw.PostEmptyEvent()
	case <-w.done:
	}
}

// Start runs the daemon, and the resizes the window asks for, on other
// goroutines until ctx ends, a quit request comes, or Close.
func (w *Window) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		w.errc <- w.daemon.Run(ctx)
		glfw.PostEmptyEvent()
	}()
	go func() {
		defer w.wg.Done()
		for {
			select {
			case s := <-w.resizes:
				if err := w.disp.resize(s); err != nil {
					w.opt.Log.Error(err.Error())
				}
			case <-ctx.Done():
				return
			}
		}
	}()
}

// Poll waits up to timeout for window events or updates, uploads the
// updates' damage, and draws the window. It returns false once the window
// was closed or the daemon stopped (a quit request, Start's ctx).
func (w *Window) Poll(timeout time.Duration) bool {
	glfw.WaitEventsTimeout(timeout.Seconds())
	if fw, fh := w.win.GetFramebufferSize(); fw > 0 && fh > 0 && image.Pt(fw, fh) != w.want {
		w.want = image.Pt(fw, fh)
		select {
		case <-w.resizes: // a newer size replaces one not yet taken
		default:
		}
		w.resizes <- w.want
	}
	for {
		select {
		case u := <-w.updates:
			w.upload(u)
			continue
		default:
		}
		break
	}
	w.draw()
	w.win.SwapBuffers()
	if !w.ended {
		select {
		case w.err = <-w.errc:
			w.ended = true
		default:
		}
	}
	return !w.ended && !w.win.ShouldClose()
}

// upload copies the damaged rectangles of u into the texture.
func (w *Window) upload(u update) {
	size := u.pix.Bounds().Size()
	gl.BindTexture(gl.TEXTURE_2D, w.tex)
	if u.full || size != w.size {
		gl.TexImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, int32(size.X), int32(size.Y), 0, gl.RGBA, gl.UNSIGNED_BYTE, nil)
		w.size = size
		u.full = true
	}
	// Snapshot's image is RGBA, R first in memory: no conversion on
	// the way, and GL reads each rectangle in place in the whole picture.
	gl.PixelStorei(gl.UNPACK_ALIGNMENT, 4)
	gl.PixelStorei(gl.UNPACK_ROW_LENGTH, int32(u.pix.Stride/4))
	rec := Upload{Size: size, Full: u.full}
	for _, r := range u.clips {
		r = r.Intersect(u.pix.Bounds())
		if r.Empty() {
			continue
		}
		off := u.pix.PixOffset(r.Min.X, r.Min.Y)
		gl.TexSubImage2D(gl.TEXTURE_2D, 0, int32(r.Min.X), int32(r.Min.Y), int32(r.Dx()), int32(r.Dy()),
			gl.RGBA, gl.UNSIGNED_BYTE, gl.Ptr(&u.pix.Pix[off]))
		rec.Rects = append(rec.Rects, r)
		rec.Bytes += 4 * r.Dx() * r.Dy()
	}
	gl.PixelStorei(gl.UNPACK_ROW_LENGTH, 0)
	w.mu.Lock()
	w.uploads = append(w.uploads, rec)
	w.mu.Unlock()
	w.opt.Log.Debug("preview: upload", "rects", len(rec.Rects), "bytes", rec.Bytes, "full", rec.Full)
}

// draw draws the texture over the whole window, row 0 at the top.
func (w *Window) draw() {
	fw, fh := w.win.GetFramebufferSize()
	gl.Viewport(0, 0, int32(fw), int32(fh))
	gl.ClearColor(0, 0, 0, 1)
	gl.Clear(gl.COLOR_BUFFER_BIT)
	if w.size == (image.Point{}) {
		return
	}
	gl.Enable(gl.TEXTURE_2D)
	gl.BindTexture(gl.TEXTURE_2D, w.tex)
	gl.Begin(gl.QUADS)
	gl.TexCoord2f(0, 0)
	gl.Vertex2f(-1, 1)
	gl.TexCoord2f(1, 0)
	gl.Vertex2f(1, 1)
	gl.TexCoord2f(1, 1)
	gl.Vertex2f(1, -1)
	gl.TexCoord2f(0, 1)
	gl.Vertex2f(-1, -1)
	gl.End()
	gl.Disable(gl.TEXTURE_2D)
}

// ReadPixels draws the window and reads back what it shows, top row
// first.
func (w *Window) ReadPixels() (*image.RGBA, error) {
	fw, fh := w.win.GetFramebufferSize()
	if fw <= 0 || fh <= 0 {
		return nil, errors.New("preview: the window shows nothing")
	}
	gl.DrawBuffer(gl.BACK)
	w.draw()
	gl.Finish()
	gl.ReadBuffer(gl.BACK)
	gl.PixelStorei(gl.PACK_ALIGNMENT, 1)
	buf := make([]byte, 4*fw*fh)
	gl.ReadPixels(0, 0, int32(fw), int32(fh), gl.RGBA, gl.UNSIGNED_BYTE, gl.Ptr(buf))
	if e := gl.GetError(); e != gl.NO_ERROR {
		return nil, fmt.Errorf("preview: glReadPixels: GL error 0x%x", e)
	}
	img := image.NewRGBA(image.Rect(0, 0, fw, fh))
	for y := 0; y < fh; y++ {
		// GL's rows go bottom-up.
		copy(img.Pix[y*img.Stride:(y+1)*img.Stride], buf[(fh-1-y)*4*fw:])
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	return img, nil
}

// Uploads returns the texture uploads made so far, one per update.
func (w *Window) Uploads() []Upload {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Upload(nil), w.uploads...)
}

// Snapshot returns what the emulated display shows. It may be called
// from any goroutine.
func (w *Window) Snapshot() (*image.RGBA, error) { return w.disp.snapshot() }

// Shown returns the State on the emulated display and its size. It may be
// called from any goroutine.
func (w *Window) Shown() (splash.State, image.Point) { return w.disp.shown() }

// Run starts the daemon and shows its frames until the window is closed,
// a quit request comes, or ctx ends; then it closes the window.
func (w *Window) Run(ctx context.Context) error {
	w.Start(ctx)
	for w.Poll(100 * time.Millisecond) {
	}
	return w.Close()
}

// Close stops the daemon and the front ends and closes the window. It
// returns the daemon's error, if any.
func (w *Window) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.cancel != nil {
		w.cancel()
	}
	close(w.done)
	w.wg.Wait()
	if !w.ended && w.cancel != nil {
		w.err = <-w.errc
	}
	w.ended = true
	if errors.Is(w.err, context.Canceled) {
		w.err = nil
	}
	w.closeFes()
	w.destroy()
	return w.err
}

func (w *Window) destroy() {
	if w.disp != nil {
		if err := w.disp.close(); err != nil {
			w.opt.Log.Warn(fmt.Sprintf("release the emulated display: %v", err))
		}
	}
	gl.DeleteTextures(1, &w.tex)
	w.win.Destroy()
	glfw.Terminate()
}
