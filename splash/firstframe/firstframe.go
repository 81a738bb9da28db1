package firstframe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"syscall"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// DefaultDir is where `bootsplash prerender` writes frames and `run` looks
// for them unless told otherwise.
const DefaultDir = "/usr/lib/bootsplash/frames"

// A frame file is a header of headerSize bytes, little-endian, then the
// rows of pixels with no padding:
//
//	0   magic "BSFRAME1"
//	8   width, height, stride (bytes per row), DRM fourcc: 4 x uint32
//	24  scale: float64 bits
//	32  rotation (0: upright), length of the build ID: 2 x uint32
//	40  the Go build ID of the bootsplash that drew it
const (
	magic      = "BSFRAME1"
	headerSize = 256
	maxBuildID = headerSize - 40
)

// Key is what a frame was drawn for; a frame is used only where all of it
// holds.
type Key struct {
	// Build is the Go build ID of the bootsplash that drew it (BuildID).
	Build string
	// Width and Height are the head's size in pixels.
	Width, Height int
	// Format is the pixel format of the head's framebuffer.
	Format fbemu.Format
	// Scale is the renderer's scale (splash.OutputScale or run's --scale).
	Scale float64
}

// FileName is the name of the frame for a w x h head in format f.
func FileName(w, h int, f fbemu.Format) string {
	return fmt.Sprintf("%dx%d-%s.frame", w, h, f)
}

// header encodes k as a frame file's header.
func (k Key) header() ([]byte, error) {
	if len(k.Build) == 0 || len(k.Build) > maxBuildID {
		return nil, fmt.Errorf("build ID of %d bytes (want 1 to %d)", len(k.Build), maxBuildID)
	}
	if k.Width <= 0 || k.Height <= 0 || k.Width > 1<<15 || k.Height > 1<<15 || !k.Format.Valid() {
		return nil, fmt.Errorf("%dx%d %v: not a frame size and format", k.Width, k.Height, k.Format)
	}
	b := make([]byte, headerSize)
	copy(b, magic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], uint32(k.Width))
	le.PutUint32(b[12:], uint32(k.Height))
	le.PutUint32(b[16:], uint32(k.Width*k.Format.BytesPerPixel()))
	le.PutUint32(b[20:], uint32(k.Format.FourCC()))
	le.PutUint64(b[24:], math.Float64bits(k.Scale))
	le.PutUint32(b[36:], uint32(len(k.Build)))
	copy(b[40:], k.Build)
	return b, nil
}

// check says why the header b does not describe a frame drawn for k
// (nil: it does).
func (k Key) check(b []byte) error {
	le := binary.LittleEndian
	switch {
	case len(b) < headerSize || string(b[:8]) != magic:
		return errors.New("not a frame file (bad magic)")
	case le.Uint32(b[20:]) != uint32(k.Format.FourCC()):
		return fmt.Errorf("drawn in %v, the framebuffer is %v", client4cc(le.Uint32(b[20:])), k.Format)
	case int(le.Uint32(b[8:])) != k.Width || int(le.Uint32(b[12:])) != k.Height:
		return fmt.Errorf("drawn at %dx%d, the head is %dx%d", le.Uint32(b[8:]), le.Uint32(b[12:]), k.Width, k.Height)
	case int(le.Uint32(b[16:])) != k.Width*k.Format.BytesPerPixel():
		return fmt.Errorf("row stride %d, want %d", le.Uint32(b[16:]), k.Width*k.Format.BytesPerPixel())
	case math.Float64frombits(le.Uint64(b[24:])) != k.Scale:
		return fmt.Errorf("drawn at scale %g, the head's is %g", math.Float64frombits(le.Uint64(b[24:])), k.Scale)
	case le.Uint32(b[32:]) != 0:
		return fmt.Errorf("drawn rotated (%d)", le.Uint32(b[32:]))
	}
	n := le.Uint32(b[36:])
	if n == 0 || n > maxBuildID || string(b[40:40+n]) != k.Build {
		return errors.New("drawn by another bootsplash build (run bootsplash prerender again)")
	}
	return nil
}

// client4cc prints a fourcc read from a file.
func client4cc(v uint32) string {
	for _, f := range fbemu.Formats() {
		if uint32(f.FourCC()) == v {
			return f.String()
		}
	}
	return fmt.Sprintf("fourcc %#x", v)
}

// Render draws the first frame of th (the initial State) for k, by the
// renderer `run` uses, and returns its pixels, rows of k.Width pixels with
// no padding.
func Render(th *theme.Theme, k Key) []byte {
	surf := fbemu.NewSurface(k.Width, k.Height, k.Format)
	// A theme part that cannot be drawn is left out, as run leaves it
	// out (and says so there).
	_ = splash.NewRenderer(th, k.Scale).Paint(surf, splash.State{})
	return surf.Pix()
}

// Write renders th's first frame for k into dir (made if missing) as
// FileName, replacing the file in one rename, and returns its path.
func Write(dir string, th *theme.Theme, k Key) (string, error) {
	h, err := k.header()
	if err != nil {
		return "", err
	}
	pix := Render(th, k)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := filepath.Join(dir, FileName(k.Width, k.Height, k.Format))
	tmp, err := os.CreateTemp(dir, ".frame-*")
	if err != nil {
		return "", err
	}
	_, err = tmp.Write(h)
	if err == nil {
		_, err = tmp.Write(pix)
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// Options say where frames are and what the heads are drawn at.
type Options struct {
	// Dir holds the frames (DefaultDir).
	Dir string
	// Scale is run's --scale; 0 derives each head's from its size and
	// physical size, as the renderer does.
	Scale float64
	// Build is the running bootsplash's Go build ID; "" reads it from
	// /proc/self/exe.
	Build string
	// Log says which frames were refused and why; nil discards it.
	Log *slog.Logger
}

// Show puts the frame drawn for each head of d on it, read straight into
// the head's buffer inside one CPU access bracket, and presents it. It
// returns how many heads show one. A head with no frame, or one drawn for
// something else (the log says what), is left for the full render.
func Show(d display.Display, opt Options) (int, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if !d.Active() || len(d.Heads()) == 0 {
		return 0, nil
	}
	if opt.Build == "" {
		id, err := BuildID("/proc/self/exe")
		if err != nil {
			return 0, fmt.Errorf("pre-rendered first frame: %w", err)
		}
		opt.Build = id
	}
	shown := 0
	err := d.Each("pre-rendered first frame", func(h *display.Head) error {
		fb := h.Framebuffer
		if fb.Rotation() != fbemu.Rotate0 {
			opt.Log.Debug("pre-rendered frame: not for a rotated head", "head", h.Name)
			return nil
		}
		scale := opt.Scale
		if scale <= 0 {
			scale = splash.OutputScale(h.Size.X, h.Size.Y, h.SizeMM.X, h.SizeMM.Y)
		}
		k := Key{Build: opt.Build, Width: fb.Width(), Height: fb.Height(), Format: fb.Format(), Scale: scale}
		name := filepath.Join(opt.Dir, FileName(k.Width, k.Height, k.Format))
		src, err := mapFrame(name, k)
		if errors.Is(err, fs.ErrNotExist) {
			opt.Log.Debug("pre-rendered frame: none", "file", name)
			return nil
		}
		if err != nil {
			opt.Log.Warn(fmt.Sprintf("pre-rendered frame refused: %v; rendering it", err))
			return nil
		}
		defer syscall.Munmap(src)
		err = fb.Frame(func(s *fbemu.Surface) error {
			copyPixels(s, src[headerSize:], k)
			s.AddDamage(s.Bounds())
			return nil
		})
		if err != nil {
			return err
		}
		if err := h.Present(); err != nil {
			return err
		}
		shown++
		return nil
	})
	return shown, err
}

// mapFrame maps the frame file name, after checking that its length is
// that of a frame for k, and checks its header. The file is opened and
// mapped with plain system calls (a regular file needs no poller, whose
// set-up is four more calls), the mapping populated in the same call.
func mapFrame(name string, k Key) ([]byte, error) {
	// O_NONBLOCK: a FIFO put where a frame was expected is opened
	// without waiting for a writer, then refused as not a regular file.
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	want := int64(headerSize) + int64(k.Height)*int64(k.Width*k.Format.BytesPerPixel())
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if st.Size < headerSize {
		return nil, fmt.Errorf("%s: %d bytes: not a frame file (bad magic)", name, st.Size)
	}
	b, err := syscall.Mmap(fd, 0, int(min(st.Size, want)), syscall.PROT_READ, syscall.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, &fs.PathError{Op: "mmap", Path: name, Err: err}
	}
	if err := k.check(b); err != nil {
		syscall.Munmap(b)
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if st.Size != want {
		syscall.Munmap(b)
		return nil, fmt.Errorf("%s: %d bytes, want %d (truncated or not a frame)", name, st.Size, want)
	}
	return b, nil
}

// copyPixels copies the frame's rows src into s: in one copy where the
// buffer's rows have no padding, else row by row.
func copyPixels(s *fbemu.Surface, src []byte, k Key) {
	row := k.Width * k.Format.BytesPerPixel()
	pix := s.Pix()
	if s.Stride() == row {
		copy(pix[:row*k.Height], src)
		return
	}
	for y := 0; y < k.Height; y++ {
		o := s.PixOffset(0, y)
		copy(pix[o:o+row], src[y*row:(y+1)*row])
	}
}
