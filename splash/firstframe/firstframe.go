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
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// DefaultDir is where `bootsplash prerender` writes frames and `run` looks
// for them unless told otherwise.
const DefaultDir = "/usr/lib/bootsplash/frames"

// A frame file is a header, little-endian, then the rows of pixels with
// no padding:
//
//	0   magic "BSFRAME2"
//	8   length of the header: where the rows start (uint32)
//	12  width, height, stride (bytes per row), DRM fourcc, rotation (0:
//	    upright): 5 x uint32
//	32  scale: float64 bits
//	40  the Go build ID of the bootsplash that drew it: uint32 length, bytes
//	    the theme file's absolute path: uint32 length, bytes ("" for the
//	    embedded theme)
//	    the theme's inputs: uint32 count, then each: kind (uint8, 0 a file,
//	    1 a spinner's frame pattern), uint32 length and path, size
//	    (uint64: bytes of a file, names a pattern matched), CRC-64 (ECMA)
//	    of the file's bytes or of the names matched
const (
	magic = "BSFRAME2"
	// maxHeader bounds a header: a theme of a few hundred files.
	maxHeader   = 64 << 10
	maxBuildID  = 256
	fixedHeader = 40
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
	// Theme is the theme file's absolute path, "" for the embedded theme
	// (which the build ID covers).
	Theme string
	// Inputs are what a theme file's first frame is drawn from, each
	// with its size and checksum when the frame was drawn (ThemeInputs).
	Inputs []Input
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
	le := binary.LittleEndian
	b := make([]byte, fixedHeader, 512)
	copy(b, magic)
	le.PutUint32(b[12:], uint32(k.Width))
	le.PutUint32(b[16:], uint32(k.Height))
	le.PutUint32(b[20:], uint32(k.Width*k.Format.BytesPerPixel()))
	le.PutUint32(b[24:], uint32(k.Format.FourCC()))
	le.PutUint64(b[32:], math.Float64bits(k.Scale))
	str := func(s string) {
		b = le.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	str(k.Build)
	str(k.Theme)
	b = le.AppendUint32(b, uint32(len(k.Inputs)))
	for _, in := range k.Inputs {
		kind := byte(0)
		if in.Glob {
			kind = 1
		}
		b = append(b, kind)
		str(in.Path)
		b = le.AppendUint64(b, uint64(in.Size))
		b = le.AppendUint64(b, in.Sum)
	}
	if len(b) > maxHeader {
		return nil, fmt.Errorf("a header of %d bytes (the theme names too many files; at most %d bytes)", len(b), maxHeader)
	}
	le.PutUint32(b[8:], uint32(len(b)))
	return b, nil
}

// header is a frame file's header as read.
type header struct {
	width, height, stride, fourcc, rotation uint32
	scale                                   float64
	build, theme                            string
	inputs                                  []Input
	size                                    int // bytes, where the rows start
}

// errNotFrame is the error for a file that is not a frame file.
var errNotFrame = errors.New("not a frame file (bad magic or header)")

// parseHeader reads the header at the start of b.
func parseHeader(b []byte) (header, error) {
	le := binary.LittleEndian
	var h header
	if len(b) < fixedHeader || string(b[:8]) != magic {
		return h, errNotFrame
	}
	h.size = int(le.Uint32(b[8:]))
	if h.size < fixedHeader+12 || h.size > maxHeader || h.size > len(b) {
		return h, errNotFrame
	}
	h.width, h.height, h.stride = le.Uint32(b[12:]), le.Uint32(b[16:]), le.Uint32(b[20:])
	h.fourcc, h.rotation = le.Uint32(b[24:]), le.Uint32(b[28:])
	h.scale = math.Float64frombits(le.Uint64(b[32:]))
	r := b[fixedHeader:h.size]
	bad := false
	u32 := func() uint32 {
		if len(r) < 4 {
			bad = true
			return 0
		}
		v := le.Uint32(r)
		r = r[4:]
		return v
	}
	u64 := func() uint64 {
		if len(r) < 8 {
			bad = true
			return 0
		}
		v := le.Uint64(r)
		r = r[8:]
		return v
	}
	str := func() string {
		n := u32()
		if bad || uint64(n) > uint64(len(r)) {
			bad = true
			return ""
		}
		s := string(r[:n])
		r = r[n:]
		return s
	}
	h.build = str()
	h.theme = str()
	n := u32()
	for i := uint32(0); i < n && !bad; i++ {
		if len(r) < 1 {
			bad = true
			break
		}
		in := Input{Glob: r[0] == 1}
		if r[0] > 1 {
			bad = true
			break
		}
		r = r[1:]
		in.Path = str()
		in.Size = int64(u64())
		in.Sum = u64()
		h.inputs = append(h.inputs, in)
	}
	if bad || len(r) != 0 {
		return h, errNotFrame
	}
	return h, nil
}

// check says why the header h does not describe a frame drawn for k,
// leaving the theme's inputs to checkInputs (nil: it does).
func (k Key) check(h header) error {
	switch {
	case h.fourcc != uint32(k.Format.FourCC()):
		return fmt.Errorf("drawn in %v, the framebuffer is %v", client4cc(h.fourcc), k.Format)
	case int(h.width) != k.Width || int(h.height) != k.Height:
		return fmt.Errorf("drawn at %dx%d, the head is %dx%d", h.width, h.height, k.Width, k.Height)
	case int(h.stride) != k.Width*k.Format.BytesPerPixel():
		return fmt.Errorf("row stride %d, want %d", h.stride, k.Width*k.Format.BytesPerPixel())
	case h.scale != k.Scale:
		return fmt.Errorf("drawn at scale %g, the head's is %g", h.scale, k.Scale)
	case h.rotation != 0:
		return fmt.Errorf("drawn rotated (%d)", h.rotation)
	case h.build != k.Build:
		return errors.New("drawn by another bootsplash build (run bootsplash prerender again)")
	case h.theme != k.Theme && h.theme == "":
		return fmt.Errorf("drawn for the built-in theme, the splash shows %s (run bootsplash prerender --theme %s)", k.Theme, k.Theme)
	case h.theme != k.Theme && k.Theme == "":
		return fmt.Errorf("drawn for the theme %s, the splash shows the built-in one", h.theme)
	case h.theme != k.Theme:
		return fmt.Errorf("drawn for the theme %s, the splash shows %s (run bootsplash prerender --theme %s)", h.theme, k.Theme, k.Theme)
	case h.theme == "" && len(h.inputs) > 0:
		return errNotFrame
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
// The key's Theme and Inputs are th's (its file and what its first frame
// is drawn from, summed now).
func Write(dir string, th *theme.Theme, k Key) (string, error) {
	k.Theme, k.Inputs = "", nil
	if th.File != "" {
		abs, err := filepath.Abs(th.File)
		if err != nil {
			return "", err
		}
		if k.Inputs, err = ThemeInputs(th); err != nil {
			return "", fmt.Errorf("%s: %w", th.File, err)
		}
		k.Theme = abs
	}
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
	// Theme is the theme file run shows ("" for the embedded theme): a
	// frame is used only when drawn for it, from its files as they are.
	Theme string
	// Log says which frames were refused and why; nil discards it.
	Log *slog.Logger
	// Up, if set, is called once, when the first head's frame has been
	// presented: the moment it is on the screen, before the display
	// layer paints a head's first frame again after its modeset.
	Up func()
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
	themeFile := ""
	if opt.Theme != "" {
		abs, err := filepath.Abs(opt.Theme)
		if err != nil {
			return 0, fmt.Errorf("pre-rendered first frame: %w", err)
		}
		themeFile = abs
	}
	// The theme's files are read and summed once, for the first frame
	// that names them.
	var inputs []Input
	var inputsErr error
	checked := false
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
		k := Key{Build: opt.Build, Width: fb.Width(), Height: fb.Height(), Format: fb.Format(), Scale: scale, Theme: themeFile}
		name := filepath.Join(opt.Dir, FileName(k.Width, k.Height, k.Format))
		src, hdr, err := mapFrame(name, k)
		if errors.Is(err, fs.ErrNotExist) {
			opt.Log.Debug("pre-rendered frame: none", "file", name)
			return nil
		}
		if err == nil && len(hdr.inputs) > 0 {
			if !checked || !sameInputs(inputs, hdr.inputs) {
				t0 := time.Now()
				inputs, inputsErr, checked = hdr.inputs, checkInputs(hdr.inputs), true
				opt.Log.Debug("pre-rendered frame: the theme's files summed and compared", "inputs", len(inputs),
					"ms", fmt.Sprintf("%.2f", float64(time.Since(t0).Microseconds())/1000))
			}
			if inputsErr != nil {
				syscall.Munmap(src)
				err = fmt.Errorf("%s: %w", name, inputsErr)
			}
		}
		if err != nil {
			opt.Log.Warn(fmt.Sprintf("pre-rendered frame refused: %v; rendering it", err))
			return nil
		}
		defer syscall.Munmap(src)
		err = fb.Frame(func(s *fbemu.Surface) error {
			copyPixels(s, src[hdr.size:], k)
			s.AddDamage(s.Bounds())
			return nil
		})
		if err != nil {
			return err
		}
		if err := h.Present(); err != nil {
			return err
		}
		if shown == 0 && opt.Up != nil {
			opt.Up()
		}
		shown++
		return nil
	})
	return shown, err
}

// mapFrame maps the frame file name, after checking that its length is
// that of a frame for k, and checks its header (all but the theme's
// inputs, which the caller checks). The file is opened and mapped with
// plain system calls (a regular file needs no poller, whose set-up is four
// more calls), the mapping populated in the same call.
func mapFrame(name string, k Key) ([]byte, header, error) {
	var h header
	fd, st, err := openRegular(name)
	if err != nil {
		return nil, h, err
	}
	defer syscall.Close(fd)
	rows := int64(k.Height) * int64(k.Width*k.Format.BytesPerPixel())
	if st.Size < fixedHeader {
		return nil, h, fmt.Errorf("%s: %d bytes: %w", name, st.Size, errNotFrame)
	}
	b, err := syscall.Mmap(fd, 0, int(min(st.Size, maxHeader+rows)), syscall.PROT_READ, syscall.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, h, &fs.PathError{Op: "mmap", Path: name, Err: err}
	}
	if h, err = parseHeader(b); err == nil {
		err = k.check(h)
	}
	if err != nil {
		syscall.Munmap(b)
		return nil, h, fmt.Errorf("%s: %w", name, err)
	}
	if want := int64(h.size) + rows; st.Size != want {
		syscall.Munmap(b)
		return nil, h, fmt.Errorf("%s: %d bytes, want %d (truncated or not a frame)", name, st.Size, want)
	}
	return b, h, nil
}

// openRegular opens the regular file name for reading with plain system
// calls, and returns it with its status. Read once on the way to the first
// frame, a file needs nothing of os.File: its first use sets up the
// runtime's poller, four more calls. O_NONBLOCK: a FIFO put where a file
// was expected is opened without waiting for a writer, then refused as
// not a regular file.
func openRegular(name string) (int, syscall.Stat_t, error) {
	var st syscall.Stat_t
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return -1, st, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return -1, st, &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return -1, st, fmt.Errorf("%s: not a regular file", name)
	}
	return fd, st, nil
}

// sameInputs says whether two frames name the same inputs, as they were.
func sameInputs(a, b []Input) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
