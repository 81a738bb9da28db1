package fbemu

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/internal/regfile"
	"github.com/bootsplash/bootsplash/internal/sysmem"
	"github.com/bootsplash/bootsplash/kerror"
)

// MaxSide is the largest width or height of a display or frame bootsplash
// draws: what KMS scans out on the widest hardware (the max_width and
// max_height of drm_mode_config go up to 16384).
const MaxSide = 16384

// SizeError is a display size refused before anything is allocated: a side
// outside 1..MaxSide, or more memory than the machine has available.
type SizeError struct {
	// W and H are the size asked for.
	W, H int
	// Short, when not nil, is the memory the size needs and what there is;
	// nil means a side is out of range.
	Short *sysmem.ShortError
}

// Error reads "100000x100000: each side must be 1 to 16384 pixels (what
// KMS can scan out)" or "8192x8192: needs ... bytes, only ... available".
func (e *SizeError) Error() string {
	if e.Short != nil {
		return fmt.Sprintf("%dx%d: %v", e.W, e.H, e.Short)
	}
	return fmt.Sprintf("%dx%d: each side must be 1 to %d pixels (what KMS can scan out)", e.W, e.H, MaxSide)
}

// Unwrap returns the memory shortage, if that is the reason.
func (e *SizeError) Unwrap() error {
	if e.Short == nil {
		return nil
	}
	return e.Short
}

// CheckSize refuses a w x h size when a side is outside 1..MaxSide, or
// when bytesPerPixel bytes for each of its pixels (every buffer and copy
// the caller makes of it) are more than the memory available.
func CheckSize(w, h, bytesPerPixel int) error {
	if w < 1 || h < 1 || w > MaxSide || h > MaxSide {
		return &SizeError{W: w, H: h}
	}
	if err := sysmem.Check(uint64(w) * uint64(h) * uint64(bytesPerPixel)); err != nil {
		var short *sysmem.ShortError
		if errors.As(err, &short) {
			return &SizeError{W: w, H: h, Short: short}
		}
		return err
	}
	return nil
}

// Emulated is a display without a kernel device: its buffers are memfds,
// what it "scans out" can be read back as an image or saved as PNG, and its
// vblank is a clock the caller drives. It is fbemu's one fake boundary: the
// Framebuffer on top of it is the same one that drives KMS outputs, so
// splash's tests and `bootsplash render` draw exactly as on a device.
//
// The embedded *Framebuffer is what to draw on (Frame).
type Emulated struct {
	*Framebuffer
	opt     EmulatedOptions
	shown   int // buffer scanned out (-1: none yet)
	pending int // buffer a flip waits for a vblank to show (-1: none)
	vblanks uint64
	flushes uint64
	last    Present
}

// EmulatedOptions are the choices an emulated display is made with.
type EmulatedOptions struct {
	FramebufferOptions
	// ScriptedVblank makes flips wait for Vblank calls; a frame started
	// while one waits fails with ErrFlipPending. Without it every flip
	// completes at once, as if a vblank followed immediately.
	ScriptedVblank bool
}

// Present is one update the emulated display received: a flip or a damage
// flush of a buffer, with the damage clips that came with it.
type Present struct {
	// Buffer is the index of the buffer presented.
	Buffer int
	// Flip is true for a page flip (double buffering), false for a damage
	// flush of the buffer on screen (DIRTYFB / FB_DAMAGE_CLIPS).
	Flip bool
	// Damage holds the clips, in panel coordinates.
	Damage [MaxDamageRects]image.Rectangle
	// N is the number of clips in Damage.
	N int
}

// Clips returns the damage clips of the update.
func (p Present) Clips() []image.Rectangle { return p.Damage[:p.N] }

// NewEmulated makes a double-buffered emulated display of w x h pixels in
// format f whose buffers are accessed with strategy. Close it when done.
func NewEmulated(w, h int, f Format, strategy access.Strategy) (*Emulated, error) {
	return NewEmulatedWith(w, h, f, EmulatedOptions{FramebufferOptions: FramebufferOptions{Strategy: strategy}})
}

// NewEmulatedWith makes an emulated display of a w x h panel with options.
// With a rotation of 90 or 270 the Framebuffer is h x w. A size CheckSize
// refuses (its buffers and one Snapshot) is a *SizeError.
func NewEmulatedWith(w, h int, f Format, opt EmulatedOptions) (*Emulated, error) {
	if !f.Valid() {
		return nil, fmt.Errorf("fbemu: emulated display %dx%d %v", w, h, f)
	}
	n := opt.Buffers
	if n == 0 {
		n = 2
	}
	if n != 1 && n != 2 {
		return nil, fmt.Errorf("fbemu: %d buffers (want 1 or 2)", n)
	}
	if err := CheckSize(w, h, n*f.BytesPerPixel()+4); err != nil {
		return nil, fmt.Errorf("fbemu: emulated display %w", err)
	}
	e := &Emulated{opt: opt, shown: -1, pending: -1}
	stride := w * f.BytesPerPixel()
	var bufs []*access.Buffer
	var strides []int
	for i := 0; i < n; i++ {
		b, err := access.AllocMemfd(stride * h)
		if err != nil {
			for _, b := range bufs {
				b.Close()
			}
			return nil, kernelErr("emulated display buffer", err)
		}
		bufs = append(bufs, b)
		strides = append(strides, stride)
	}
	fb, err := newFramebuffer(bufs, strides, w, h, f, opt.FramebufferOptions, e)
	if err != nil {
		return nil, err
	}
	e.Framebuffer = fb
	return e, nil
}

func (e *Emulated) name() string { return "fbemu-emulated" }

func (e *Emulated) present(i int, damage []image.Rectangle) error {
	e.last = Present{Buffer: i, Flip: len(e.bufs) > 1}
	e.last.N = copy(e.last.Damage[:], damage)
	if !e.last.Flip {
		e.shown = i
		e.flushes++
		return nil
	}
	e.pending = i
	if !e.opt.ScriptedVblank {
		e.Vblank()
	}
	return nil
}

func (e *Emulated) waitIdle() error {
	if e.pending >= 0 {
		return ErrFlipPending
	}
	return nil
}

func (e *Emulated) close() error { return nil }

// Vblank advances the scripted clock by one vertical blank: a pending flip
// completes and its buffer is shown.
func (e *Emulated) Vblank() {
	e.vblanks++
	if e.pending >= 0 {
		e.shown, e.pending = e.pending, -1
		e.flushes++
	}
}

// FlipPending reports whether a flip waits for the next Vblank.
func (e *Emulated) FlipPending() bool { return e.pending >= 0 }

// Updates returns how many updates (completed flips and damage flushes) the
// display has shown.
func (e *Emulated) Updates() uint64 { return e.flushes }

// LastPresent returns the last update the display received.
func (e *Emulated) LastPresent() Present { return e.last }

// Snapshot returns what the display shows, read from the buffer memory
// itself (not from a Shadow copy) as the panel scans it out: a rotated
// Framebuffer shows rotated. Before the first frame it is black.
func (e *Emulated) Snapshot() (*image.RGBA, error) {
	img := image.NewRGBA(image.Rect(0, 0, e.pw, e.ph))
	if err := e.SnapshotInto(img, img.Bounds()); err != nil {
		return nil, err
	}
	return img, nil
}

// SnapshotInto copies the rectangles rects (panel coordinates) of what the
// display shows into dst, which must be the panel's size; the rest of dst
// is left as it was. A viewer that follows the display's damage
// (LastPresent) converts only what changed.
func (e *Emulated) SnapshotInto(dst *image.RGBA, rects ...image.Rectangle) error {
	panel := image.Rect(0, 0, e.pw, e.ph)
	if dst.Bounds() != panel {
		return fmt.Errorf("fbemu: snapshot into a %v image of a %v panel", dst.Bounds(), panel)
	}
	if e.shown < 0 {
		// Nothing shown yet: the panel is black.
		for _, r := range rects {
			draw.Draw(dst, r.Intersect(panel), image.Black, image.Point{}, draw.Src)
		}
		return nil
	}
	b := e.bufs[e.shown]
	// A memfd needs no sync; a separate mapping sees the memory the way
	// scanout would, whatever strategy the Framebuffer uses.
	m, err := access.Map(b.buf, access.NoSync)
	if err != nil {
		return kernelErr("snapshot", err)
	}
	defer m.Close()
	pix, err := m.Begin(access.Read)
	if err != nil {
		return kernelErr("snapshot", err)
	}
	defer m.End()
	var s Surface
	if err := s.reset(pix, e.pw, e.ph, b.stride, e.format); err != nil {
		return err
	}
	for _, r := range rects {
		r = r.Intersect(panel)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			out := dst.Pix[dst.PixOffset(r.Min.X, y):dst.PixOffset(r.Max.X, y)]
			if e.format == XRGB8888 {
				// B, G, R, X in memory: shuffle bytes, no colour math.
				in := s.row(y, r.Min.X, r.Max.X)
				for i := 0; i < len(out); i += 4 {
					out[i], out[i+1], out[i+2], out[i+3] = in[i+2], in[i+1], in[i], 0xff
				}
				continue
			}
			for x := r.Min.X; x < r.Max.X; x++ {
				c := e.format.RGBA(s.pixel(x, y))
				o := 4 * (x - r.Min.X)
				out[o], out[o+1], out[o+2], out[o+3] = c.R, c.G, c.B, 0xff
			}
		}
	}
	return nil
}

// SavePNG writes what the display shows to path as a PNG.
func (e *Emulated) SavePNG(path string) error {
	return e.SavePNGContext(context.Background(), path)
}

// SavePNGContext is SavePNG that gives up, leaving path as it was, as soon
// as ctx is done: a large frame takes seconds to compress, and a process
// told to stop should not wait for it.
func (e *Emulated) SavePNGContext(ctx context.Context, path string) error {
	img := image.NewRGBA(image.Rect(0, 0, e.pw, e.ph))
	// A band of rows at a time, to look at ctx between them.
	for y := 0; y < e.ph; y += 256 {
		if err := ctx.Err(); err != nil {
			return &kerror.Error{Pkg: "fbemu", Op: "save frame to", Device: path, Err: err}
		}
		if err := e.SnapshotInto(img, image.Rect(0, y, e.pw, min(y+256, e.ph))); err != nil {
			return err
		}
	}
	// Errors name path, never the temporary file written beside it.
	fail := func(err error) error {
		var pe *fs.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			err = pe.Err
		case errors.As(err, &le):
			err = le.Err
		}
		return &kerror.Error{Pkg: "fbemu", Op: "save frame to", Device: path, Err: err}
	}
	// Only a file is replaced: not a directory, a FIFO or a device.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fail(&regfile.NotRegularError{Mode: fi.Mode()})
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	// Write beside path and rename over it, so a reader watching path
	// (a theme author's viewer, a test) never sees half a frame.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fail(err)
	}
	// The encoder reads the copy, not the display's memory, so it can be
	// left to finish on its own when ctx is done; the temporary file is
	// removed either way.
	done := make(chan error, 1)
	go func() {
		err := png.Encode(ctxWriter{ctx, f}, img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), 0o644)
		}
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err != nil {
			os.Remove(f.Name())
		}
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		os.Remove(f.Name())
		err = ctx.Err()
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// ctxWriter fails its writes once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   *os.File
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Close releases the buffers.
func (e *Emulated) Close() error {
	if e.Framebuffer == nil {
		return errors.New("fbemu: close of an emulated display that failed to open")
	}
	return e.Framebuffer.Close()
}
