package theme

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"sync"

	toml "github.com/pelletier/go-toml/v2"
	"golang.org/x/image/font/opentype"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

//go:embed assets/default.toml assets/logo.png
var defaultAssets embed.FS

// DefaultMaxImagePixels is the pixel budget of one theme image when
// Options leaves it zero: 16 megapixels (4096 x 4096).
const DefaultMaxImagePixels = 4096 * 4096

// The caps on the files a theme reads, checked before they are read: a
// file over its cap is refused with an error that says the cap.
const (
	// MaxFileBytes caps a theme file (TOML).
	MaxFileBytes = 1 << 20
	// MaxImageBytes caps an image file: room for a 4096 x 4096 BMP of
	// 32-bit pixels, the largest the default pixel budget takes.
	MaxImageBytes = 80 << 20
	// MaxFontBytes caps a font file.
	MaxFontBytes = 32 << 20
)

// Options are the limits a theme is loaded with.
type Options struct {
	// MaxImagePixels refuses any image whose width times height is larger,
	// before it is decoded; 0 means DefaultMaxImagePixels.
	MaxImagePixels int
	// MaxThemePixels refuses a theme whose images (every one it names,
	// spinner frames and overrides' included) have more pixels together,
	// before they are decoded; 0 means twice MaxImagePixels.
	MaxThemePixels int
}

// Theme is a parsed and checked theme file: what the splash looks like,
// with optional overrides for particular resolutions. Every image the
// theme names has been decoded (a theme with a truncated or corrupt image
// is refused at load, not found wanting when the image is first drawn);
// fonts are parsed only when text is first drawn. A Theme may be
// shared by several renderers (splash.Renderer, one per output); it is safe for concurrent
// use.
//
// A theme file is TOML. Every section is optional (a missing section is
// not drawn) and every key in it has a default; unknown keys are errors.
// Lengths are pixels at scale 1, multiplied by the output's scale; x, y,
// width, max_width and max_height of the logo are fractions of the screen;
// colours are "#rgb", "#rrggbb" or "#rrggbbaa"; paths are relative to the
// theme file.
//
//	[background]   color, or top + bottom (a vertical gradient), and
//	               image (PNG, JPEG or BMP) with fit = "cover" | "contain"
//	               | "stretch" | "center"
//	[logo]         image, scale, max_width, max_height
//	[progress]     width (of the screen), min_width, max_width, height,
//	               radius (default: half the height), border, color,
//	               track, border_color, pulse_width (of the track, for
//	               unknown progress), pulse_period (seconds)
//	[message]      font (TTF/OTF; default: Go Regular), size (points at
//	[status]       96 dpi times the scale), color
//	[spinner]      frames (a glob of PNG files, in name order) or the
//	               procedural style = "dots" with size, dots and color;
//	               fps
//
// Every element but the background is placed by anchor ("center", "top",
// "bottom-left", ...: the point of the element and, unless x and y say
// otherwise, of the screen), x and y (fractions of the screen) and offset
// = [dx, dy]; or, with below = "logo" | "progress" | "message", its top
// goes under that element, offset[1] lower.
//
// [override."WIDTHxHEIGHT".SECTION] tables replace the keys they set on a
// screen of exactly that size (the rotated size on a rotated output).
// docs/themes.md is the reference of every key.
type Theme struct {
	// File is the theme file's path, or "" for the embedded default theme.
	File string

	dir string // where relative paths start; "" for the embedded theme
	// open opens a file the theme names, refusing one over max bytes
	// (what names its kind in the error).
	open      func(name string, max int64, what string) (io.ReadCloser, error)
	base      Sections
	overrides map[image.Point]*Sections
	okeys     map[image.Point]string // an override's key as the file spells it
	budget    int
	// themeBudget bounds the pixels of all the theme's images together.
	themeBudget int
	// refs has, for every file the theme names, the first key naming it
	// and that key's line, to place errors found when it is read.
	refs map[string]fileRef

	mu sync.Mutex
	// preloaded: open serves the theme's files from memory and globs
	// the spinner's frame names (Preload).
	preloaded bool
	globs     map[string][]string
	images    map[string]*themeImage
	fonts     map[string]*opentype.Font
}

// Default returns the embedded theme bootsplash shows when none is
// given: a dark vertical gradient, the logo a little above the centre, a
// thin rounded progress bar below it and the message and status lines
// under the bar, in the Go font.
func Default() (*Theme, error) {
	data, err := defaultAssets.ReadFile("assets/default.toml")
	if err != nil {
		return nil, err
	}
	open := func(name string, _ int64, _ string) (io.ReadCloser, error) {
		return defaultAssets.Open(path.Join("assets", name))
	}
	t, err := parse("(default theme)", "", data, open, Options{})
	if t != nil {
		t.File = ""
	}
	return t, err
}

// DefaultSource returns the embedded default theme's file, a starting
// point for a theme of one's own (its images are the embedded ones and
// are not returned).
func DefaultSource() []byte {
	data, err := defaultAssets.ReadFile("assets/default.toml")
	if err != nil {
		panic("theme: the embedded default theme is missing: " + err.Error())
	}
	return data
}

// Load reads and checks the theme file at path. Paths inside it are
// relative to the file's directory. Every file the theme names is read
// only if it is a regular file under its cap (MaxFileBytes,
// MaxImageBytes, MaxFontBytes): a FIFO, a directory or a device is
// refused at once. Errors are Errors naming the file, line and key of
// each mistake.
func Load(path string, opt Options) (*Theme, error) {
	data, err := regfile.ReadFile(path, MaxFileBytes, "theme file")
	if err != nil {
		return nil, Errors{{File: path, Err: pathless(err)}}
	}
	return Parse(path, data, filepath.Dir(path), opt)
}

// pathless drops the path from an *fs.PathError, for an error that names
// the file already.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse reads a theme from data; file names the theme in errors and
// dir is where the paths inside it are relative to.
func Parse(file string, data []byte, dir string, opt Options) (*Theme, error) {
	open := func(name string, max int64, what string) (io.ReadCloser, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return regfile.OpenReader(name, max, what)
	}
	return parse(file, dir, data, open, opt)
}

func parse(file, dir string, data []byte, open func(string, int64, string) (io.ReadCloser, error), opt Options) (*Theme, error) {
	t := &Theme{File: file, dir: dir, open: open, budget: opt.MaxImagePixels, okeys: make(map[image.Point]string),
		overrides: make(map[image.Point]*Sections), images: make(map[string]*themeImage), fonts: make(map[string]*opentype.Font)}
	if t.budget <= 0 {
		t.budget = DefaultMaxImagePixels
	}
	if t.themeBudget = opt.MaxThemePixels; t.themeBudget <= 0 {
		t.themeBudget = 2 * t.budget
	}
	var tf themeFile
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tf); err != nil {
		return nil, decodeErrors(file, err)
	}
	v := &validator{t: t, file: file, lines: keyLines(data)}
	t.base = tf.Sections
	v.sections("", &t.base)
	keys := make([]string, 0, len(tf.Override))
	for k := range tf.Override {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		prefix := "override." + k + "."
		sz, err := parseSize(k)
		if err != nil {
			v.fail(prefix[:len(prefix)-1], err)
			continue
		}
		o := tf.Override[k]
		if o == nil {
			o = &Sections{}
		}
		v.sections(prefix, o)
		t.overrides[sz], t.okeys[sz] = o, k
	}
	if len(v.errs) > 0 {
		sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
		return nil, v.errs
	}
	refs, _, err := t.files()
	if err != nil {
		return nil, Errors{{File: file, Err: err}}
	}
	t.refs = make(map[string]fileRef)
	for _, r := range refs {
		if _, ok := t.refs[r.name]; !ok {
			r.line = v.line(r.key)
			t.refs[r.name] = r
		}
	}
	if errs := t.decodeImages(refs); len(errs) > 0 {
		return nil, errs
	}
	return t, nil
}

// MaxThemePixels returns the pixels the theme's images may have together
// (Options.MaxThemePixels, or its default): a renderer keeping scaled
// copies of them keeps to it too.
func (t *Theme) MaxThemePixels() int { return t.themeBudget }

// Check loads everything the theme names (decodes every image, parses
// every font), as `bootsplash theme check` does, and returns every problem
// as Errors.
func (t *Theme) Check() error {
	refs, _, err := t.files()
	if err != nil {
		return Errors{t.placed("", err)}
	}
	var errs Errors
	seen := map[string]bool{}
	for _, r := range refs {
		if seen[r.name] {
			continue
		}
		seen[r.name] = true
		if r.font {
			_, err = t.Font(r.name)
		} else {
			_, err = t.decoded(r.name)
		}
		if err != nil {
			errs = append(errs, t.placed(r.name, err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// maxPreload bounds the bytes Preload keeps: the theme's files together.
const maxPreload = 128 << 20

// Preload reads every file the theme names into memory, undecoded, so
// that drawing never opens a file again. A splash started from an
// initramfs needs that: switch_root empties the initramfs under the
// running daemon, and a font parsed on first text, a spinner frame decoded
// on first show or an image scaled for a display plugged in later would
// then be missing. Call it while nothing draws with the theme. Images
// were decoded when the theme was loaded and are not read again; fonts
// are still parsed only when first drawn. The embedded
// default theme needs nothing. On an error (a file gone or no longer a
// regular file, more than 128 MiB in all) the theme keeps reading its
// files where they are.
func (t *Theme) Preload() error {
	refs, globs, err := t.files()
	if err != nil {
		return fmt.Errorf("preload the theme: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.preloaded {
		return nil
	}
	mem := map[string][]byte{}
	total := 0
	for _, ref := range refs {
		n := ref.name
		if _, done := mem[n]; done || n == "" {
			continue
		}
		if ti := t.images[n]; !ref.font && ti != nil && ti.img != nil {
			continue // decoded at load: its file is not read again
		}
		max, what := int64(MaxImageBytes), "image"
		if ref.font {
			max, what = MaxFontBytes, "font"
		}
		r, err := t.openFile(n, max, what)
		if err != nil {
			return fmt.Errorf("preload the theme: %w", t.placed(n, fmt.Errorf("%s: %w", n, err)))
		}
		b, err := io.ReadAll(io.LimitReader(r, int64(maxPreload-total+1)))
		r.Close()
		if err != nil {
			return fmt.Errorf("preload the theme: %w", t.placed(n, fmt.Errorf("%s: %w", n, pathless(err))))
		}
		if total += len(b); total > maxPreload {
			return fmt.Errorf("preload the theme: its files are larger than %d MiB together", maxPreload>>20)
		}
		mem[n] = b
	}
	open := t.open
	t.open = func(name string, max int64, what string) (io.ReadCloser, error) {
		if b, ok := mem[name]; ok {
			return io.NopCloser(bytes.NewReader(b)), nil
		}
		return open(name, max, what)
	}
	t.globs, t.preloaded = globs, true
	return nil
}

// openFile opens a file the theme names, refused unless it is a regular
// file of at most max bytes. Errors do not repeat the name: the caller
// says it.
func (t *Theme) openFile(name string, max int64, what string) (io.ReadCloser, error) {
	f, err := t.open(name, max, what)
	if err != nil {
		return nil, pathless(err)
	}
	return f, nil
}
