package splash

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

//go:embed assets/default.toml assets/logo.png
var defaultAssets embed.FS

// DefaultMaxImagePixels is the pixel budget of one theme image when
// ThemeOptions leaves it zero: 16 megapixels (4096 x 4096).
const DefaultMaxImagePixels = 4096 * 4096

// The caps on the files a theme reads, checked before they are read: a
// file over its cap is refused with an error that says the cap.
const (
	// MaxThemeBytes caps a theme file (TOML).
	MaxThemeBytes = 1 << 20
	// MaxImageBytes caps an image file: room for a 4096 x 4096 BMP of
	// 32-bit pixels, the largest the default pixel budget takes.
	MaxImageBytes = 80 << 20
	// MaxFontBytes caps a font file.
	MaxFontBytes = 32 << 20
)

// ThemeOptions are the limits a theme is loaded with.
type ThemeOptions struct {
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
// shared by several Renderers (one per output); it is safe for concurrent
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
type Theme struct {
	// File is the theme file's path, or "" for the embedded default theme.
	File string

	dir string // where relative paths start; "" for the embedded theme
	// open opens a file the theme names, refusing one over max bytes
	// (what names its kind in the error).
	open      func(name string, max int64, what string) (io.ReadCloser, error)
	base      sections
	overrides map[image.Point]*sections
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
	fonts     map[string]*fontFile
}

// ThemeError is a mistake in a theme file: the file, the line (0 when it
// is not known) and the key ("progress.color") it is about.
type ThemeError struct {
	File string
	Line int
	Key  string
	Err  error
}

// Error reads "theme.toml:12: progress.color: ...".
func (e *ThemeError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ThemeError) Unwrap() error { return e.Err }

// ThemeErrors is every mistake found in one theme file, in line order.
type ThemeErrors []*ThemeError

// Error lists the mistakes, one per line.
func (es ThemeErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the individual errors.
func (es ThemeErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// The theme file. Every value is a pointer so that "not set" can be told
// from a zero value: unset keys take the defaults, and a resolution override
// replaces only the keys it sets.
type themeFile struct {
	sections
	Override map[string]*sections `toml:"override"`
}

type sections struct {
	Background *backgroundFile `toml:"background"`
	Logo       *logoFile       `toml:"logo"`
	Progress   *progressFile   `toml:"progress"`
	Message    *textFile       `toml:"message"`
	Status     *textFile       `toml:"status"`
	Spinner    *spinnerFile    `toml:"spinner"`
}

type placeFile struct {
	Anchor *string    `toml:"anchor"`
	X      *float64   `toml:"x"`
	Y      *float64   `toml:"y"`
	Offset *[]float64 `toml:"offset"`
	Below  *string    `toml:"below"`
}

type backgroundFile struct {
	Color  *string `toml:"color"`
	Top    *string `toml:"top"`
	Bottom *string `toml:"bottom"`
	Image  *string `toml:"image"`
	Fit    *string `toml:"fit"`
}

type logoFile struct {
	placeFile
	Image     *string  `toml:"image"`
	Scale     *float64 `toml:"scale"`
	MaxWidth  *float64 `toml:"max_width"`
	MaxHeight *float64 `toml:"max_height"`
}

type progressFile struct {
	placeFile
	Width       *float64 `toml:"width"`
	MinWidth    *float64 `toml:"min_width"`
	MaxWidth    *float64 `toml:"max_width"`
	Height      *float64 `toml:"height"`
	Radius      *float64 `toml:"radius"`
	Border      *float64 `toml:"border"`
	Color       *string  `toml:"color"`
	Track       *string  `toml:"track"`
	BorderColor *string  `toml:"border_color"`
	PulseWidth  *float64 `toml:"pulse_width"`
	PulsePeriod *float64 `toml:"pulse_period"`
}

type textFile struct {
	placeFile
	Font  *string  `toml:"font"`
	Size  *float64 `toml:"size"`
	Color *string  `toml:"color"`
}

type spinnerFile struct {
	placeFile
	Frames *string  `toml:"frames"`
	Style  *string  `toml:"style"`
	Size   *float64 `toml:"size"`
	Dots   *int     `toml:"dots"`
	Color  *string  `toml:"color"`
	FPS    *int     `toml:"fps"`
}

// DefaultTheme returns the embedded theme bootsplash shows when none is
// given: a dark vertical gradient, the logo a little above the centre, a
// thin rounded progress bar below it and the message and status lines
// under the bar, in the Go font.
func DefaultTheme() (*Theme, error) {
	data, err := defaultAssets.ReadFile("assets/default.toml")
	if err != nil {
		return nil, err
	}
	open := func(name string, _ int64, _ string) (io.ReadCloser, error) {
		return defaultAssets.Open(path.Join("assets", name))
	}
	t, err := parseTheme("(default theme)", "", data, open, ThemeOptions{})
	if t != nil {
		t.File = ""
	}
	return t, err
}

// LoadTheme reads and checks the theme file at path. Paths inside it are
// relative to the file's directory. Every file the theme names is read
// only if it is a regular file under its cap (MaxThemeBytes,
// MaxImageBytes, MaxFontBytes): a FIFO, a directory or a device is
// refused at once. Errors are ThemeErrors naming the file, line and key of
// each mistake.
func LoadTheme(path string, opt ThemeOptions) (*Theme, error) {
	data, err := regfile.ReadFile(path, MaxThemeBytes, "theme file")
	if err != nil {
		return nil, ThemeErrors{{File: path, Err: pathless(err)}}
	}
	return ParseTheme(path, data, filepath.Dir(path), opt)
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

// ParseTheme reads a theme from data; file names the theme in errors and
// dir is where the paths inside it are relative to.
func ParseTheme(file string, data []byte, dir string, opt ThemeOptions) (*Theme, error) {
	open := func(name string, max int64, what string) (io.ReadCloser, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return regfile.OpenReader(name, max, what)
	}
	return parseTheme(file, dir, data, open, opt)
}

func parseTheme(file, dir string, data []byte, open func(string, int64, string) (io.ReadCloser, error), opt ThemeOptions) (*Theme, error) {
	t := &Theme{File: file, dir: dir, open: open, budget: opt.MaxImagePixels, okeys: make(map[image.Point]string),
		overrides: make(map[image.Point]*sections), images: make(map[string]*themeImage), fonts: make(map[string]*fontFile)}
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
	t.base = tf.sections
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
			o = &sections{}
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
		return nil, ThemeErrors{{File: file, Err: err}}
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

// decodeErrors turns the TOML library's errors into ThemeErrors.
func decodeErrors(file string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var es ThemeErrors
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			es = append(es, &ThemeError{File: file, Line: line, Key: strings.Join(e.Key(), "."), Err: errors.New("unknown key")})
		}
		return es
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if strings.HasPrefix(msg, "cannot decode ") || strings.HasPrefix(msg, "cannot store ") {
			// The library names Go's types ("struct field
			// splash.textFile.Size of type float64"): say what the
			// key takes instead.
			if want := wantType(reflect.TypeFor[themeFile](), de.Key()); want != "" {
				msg = "want " + want
			}
		}
		return ThemeErrors{{File: file, Line: line, Key: strings.Join(de.Key(), "."), Err: errors.New(msg)}}
	}
	return ThemeErrors{{File: file, Err: err}}
}

// wantType says what kind of TOML value the key path takes in a value of
// type t: "a number", "a whole number", "a string", "an array of numbers",
// "a table"; "" when the path leads nowhere.
func wantType(t reflect.Type, key []string) string {
	for len(key) > 0 {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t, key = t.Elem(), key[1:]
			continue
		case reflect.Struct:
			f, ok := tomlField(t, key[0])
			if !ok {
				return ""
			}
			t, key = f, key[1:]
			continue
		}
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		if w := wantType(t.Elem(), nil); strings.HasPrefix(w, "a ") {
			return "an array of " + strings.TrimPrefix(w, "a ") + "s"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "a table"
	}
	return ""
}

// tomlField returns the type of the field of struct t tagged name,
// looking into embedded structs.
func tomlField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == name {
			return f.Type, true
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if ft, ok := tomlField(f.Type, name); ok {
				return ft, true
			}
		}
	}
	return nil, false
}

// keyLines maps every dotted key of a TOML document ("progress.color",
// "override.480x272.logo.y") to the line it is set on.
func keyLines(data []byte) map[string]int {
	lines := make(map[string]int)
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		var parts []string
		it := e.Key()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			for it.Next() {
				parts = append(parts, string(it.Node().Data))
			}
			table = parts
			k := strings.Join(parts, ".")
			if _, ok := lines[k]; !ok {
				lines[k] = 1 + bytes.Count(data[:tableOffset(e)], []byte("\n"))
			}
			continue
		case unstable.KeyValue:
			parts = append(parts, table...)
			for it.Next() {
				parts = append(parts, string(it.Node().Data))
			}
		default:
			continue
		}
		lines[strings.Join(parts, ".")] = 1 + bytes.Count(data[:e.Raw.Offset], []byte("\n"))
	}
	return lines
}

// tableOffset returns where a table header's first key starts.
func tableOffset(e *unstable.Node) uint32 {
	it := e.Key()
	if it.Next() {
		return it.Node().Raw.Offset
	}
	return 0
}

// validator checks values one by one and collects every mistake.
type validator struct {
	t     *Theme
	file  string
	lines map[string]int
	errs  ThemeErrors
}

func (v *validator) fail(key string, err error) {
	v.errs = append(v.errs, &ThemeError{File: v.file, Line: v.line(key), Key: key, Err: err})
}

// line returns the line a key is set on, or the line of the nearest table
// that holds it.
func (v *validator) line(key string) int {
	line := v.lines[key]
	if line == 0 {
		// A table made only of subtables ([override.big.logo]) has no
		// line of its own: take the first line inside it.
		for k, l := range v.lines {
			if strings.HasPrefix(k, key+".") && (line == 0 || l < line) {
				line = l
			}
		}
	}
	for k := key; line == 0 && strings.Contains(k, "."); {
		k = k[:strings.LastIndex(k, ".")]
		line = v.lines[k]
	}
	return line
}

func (v *validator) color(key string, s *string) {
	if s == nil {
		return
	}
	if _, err := ParseColor(*s); err != nil {
		v.fail(key, err)
	}
}

func (v *validator) num(key string, f *float64, lo, hi float64) {
	if f != nil && !(*f >= lo && *f <= hi) {
		v.fail(key, fmt.Errorf("%g is out of range [%g, %g]", *f, lo, hi))
	}
}

func (v *validator) integer(key string, n *int, lo, hi int) {
	if n != nil && (*n < lo || *n > hi) {
		v.fail(key, fmt.Errorf("%d is out of range [%d, %d]", *n, lo, hi))
	}
}

func (v *validator) oneOf(key string, s *string, allowed ...string) {
	if s == nil {
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	v.fail(key, fmt.Errorf("%q is not one of %s", *s, strings.Join(allowed, ", ")))
}

func (v *validator) image(key string, name *string) {
	if name == nil {
		return
	}
	if *name == "" {
		v.fail(key, errors.New("empty path"))
		return
	}
	if _, err := v.t.imageInfo(*name); err != nil {
		v.fail(key, err)
	}
}

func (v *validator) place(prefix string, p *placeFile, below ...string) {
	v.oneOf(prefix+"anchor", p.Anchor, anchorNames...)
	v.num(prefix+"x", p.X, 0, 1)
	v.num(prefix+"y", p.Y, 0, 1)
	if p.Offset != nil {
		if len(*p.Offset) != 2 {
			v.fail(prefix+"offset", fmt.Errorf("want [x, y], got %d numbers", len(*p.Offset)))
		}
		for _, o := range *p.Offset {
			if !(o >= -10000 && o <= 10000) {
				v.fail(prefix+"offset", fmt.Errorf("%g is out of range [-10000, 10000]", o))
				break
			}
		}
	}
	if len(below) == 0 && p.Below != nil {
		v.fail(prefix+"below", errors.New("this element cannot be placed below another"))
		return
	}
	v.oneOf(prefix+"below", p.Below, below...)
}

func (v *validator) sections(prefix string, s *sections) {
	if b := s.Background; b != nil {
		p := prefix + "background."
		v.color(p+"color", b.Color)
		v.color(p+"top", b.Top)
		v.color(p+"bottom", b.Bottom)
		v.image(p+"image", b.Image)
		v.oneOf(p+"fit", b.Fit, "cover", "contain", "stretch", "center")
		if (b.Top == nil) != (b.Bottom == nil) {
			v.fail(p+"top", errors.New("a gradient needs both top and bottom"))
		}
	}
	if l := s.Logo; l != nil {
		p := prefix + "logo."
		v.place(p, &l.placeFile)
		v.image(p+"image", l.Image)
		v.num(p+"scale", l.Scale, 0.05, 20)
		v.num(p+"max_width", l.MaxWidth, 0.01, 1)
		v.num(p+"max_height", l.MaxHeight, 0.01, 1)
	}
	if b := s.Progress; b != nil {
		p := prefix + "progress."
		v.place(p, &b.placeFile, "logo")
		v.num(p+"width", b.Width, 0.01, 1)
		v.num(p+"min_width", b.MinWidth, 0, 10000)
		v.num(p+"max_width", b.MaxWidth, 0, 10000)
		v.num(p+"height", b.Height, 1, 1000)
		v.num(p+"radius", b.Radius, 0, 500)
		v.num(p+"border", b.Border, 0, 100)
		v.color(p+"color", b.Color)
		v.color(p+"track", b.Track)
		v.color(p+"border_color", b.BorderColor)
		v.num(p+"pulse_width", b.PulseWidth, 0.05, 1)
		v.num(p+"pulse_period", b.PulsePeriod, 0.1, 60)
	}
	for _, tx := range []struct {
		name  string
		f     *textFile
		below []string
	}{{"message", s.Message, []string{"logo", "progress"}}, {"status", s.Status, []string{"logo", "progress", "message"}}} {
		if tx.f == nil {
			continue
		}
		p := prefix + tx.name + "."
		v.place(p, &tx.f.placeFile, tx.below...)
		v.num(p+"size", tx.f.Size, 1, 500)
		v.color(p+"color", tx.f.Color)
		if tx.f.Font != nil {
			if *tx.f.Font == "" {
				v.fail(p+"font", errors.New("empty path"))
			} else if err := v.t.fontExists(*tx.f.Font); err != nil {
				v.fail(p+"font", err)
			}
		}
	}
	if sp := s.Spinner; sp != nil {
		p := prefix + "spinner."
		v.place(p, &sp.placeFile, "logo", "progress")
		v.oneOf(p+"style", sp.Style, "dots")
		v.num(p+"size", sp.Size, 4, 2000)
		v.integer(p+"dots", sp.Dots, 3, 64)
		v.color(p+"color", sp.Color)
		v.integer(p+"fps", sp.FPS, 1, 120)
		if sp.Frames != nil {
			names, err := v.t.frameNames(*sp.Frames)
			if err != nil {
				v.fail(p+"frames", err)
			}
			for _, n := range names {
				if _, err := v.t.imageInfo(n); err != nil {
					v.fail(p+"frames", err)
					break
				}
			}
		}
	}
}

// frameNames expands a spinner's frames pattern (a glob relative to the
// theme) to the sorted frame file names.
func (t *Theme) frameNames(pattern string) ([]string, error) {
	if pattern == "" {
		return nil, errors.New("empty pattern")
	}
	if names, ok := t.globs[pattern]; ok {
		return names, nil
	}
	if t.dir == "" {
		return nil, errors.New("the embedded theme has no spinner frames")
	}
	dir := t.dir
	full := pattern
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, pattern)
	}
	names, err := filepath.Glob(full)
	if err != nil {
		return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no such files", pattern)
	}
	sort.Strings(names)
	if !filepath.IsAbs(pattern) {
		// Name the frames as the theme does: relative to its directory.
		for i, n := range names {
			if rel, err := filepath.Rel(dir, n); err == nil {
				names[i] = rel
			}
		}
	}
	return names, nil
}

// anchorNames are the points an element can be placed by.
var anchorNames = []string{"center", "top", "bottom", "left", "right", "top-left", "top-right", "bottom-left", "bottom-right"}

// anchorPoint returns the anchor as fractions of a box: (0,0) top-left.
func anchorPoint(name string) (fx, fy float64) {
	fx, fy = 0.5, 0.5
	if strings.HasPrefix(name, "top") {
		fy = 0
	}
	if strings.HasPrefix(name, "bottom") {
		fy = 1
	}
	if strings.HasSuffix(name, "left") {
		fx = 0
	}
	if strings.HasSuffix(name, "right") {
		fx = 1
	}
	return fx, fy
}

// parseSize reads an override's resolution, "WIDTHxHEIGHT".
func parseSize(s string) (image.Point, error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return image.Point{}, fmt.Errorf("override %q: want a resolution WIDTHxHEIGHT such as \"800x480\"", s)
	}
	return image.Pt(w, h), nil
}

// ParseColor reads "#rgb", "#rrggbb" or "#rrggbbaa" (alpha last, not
// premultiplied) and returns the premultiplied colour.
func ParseColor(s string) (color.RGBA, error) {
	bad := fmt.Errorf("bad colour %q (want #rgb, #rrggbb or #rrggbbaa)", s)
	if !strings.HasPrefix(s, "#") {
		return color.RGBA{}, bad
	}
	h := s[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) == 6 {
		h += "ff"
	}
	if len(h) != 8 {
		return color.RGBA{}, bad
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return color.RGBA{}, bad
	}
	c := color.NRGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}
	return color.RGBAModel.Convert(c).(color.RGBA), nil
}

// resolve returns the sections in force on a w x h screen: the base
// theme with that resolution's override on top.
func (t *Theme) resolve(w, h int) *sections {
	o := t.overrides[image.Pt(w, h)]
	if o == nil {
		return &t.base
	}
	m := t.base
	mergeInto(reflect.ValueOf(&m).Elem(), reflect.ValueOf(o).Elem())
	return &m
}

// mergeInto copies every set (non-nil) field of src over dst, descending
// into structs, so an override replaces exactly the keys it names.
func mergeInto(dst, src reflect.Value) {
	for i := 0; i < src.NumField(); i++ {
		sf, df := src.Field(i), dst.Field(i)
		switch {
		case sf.Kind() == reflect.Struct:
			mergeInto(df, sf)
		case sf.IsNil():
		case sf.Elem().Kind() == reflect.Struct:
			if df.IsNil() {
				df.Set(sf)
				continue
			}
			cp := reflect.New(df.Elem().Type())
			cp.Elem().Set(df.Elem())
			mergeInto(cp.Elem(), sf.Elem())
			df.Set(cp)
		default:
			df.Set(sf)
		}
	}
}

// keyed is the sections of the base theme and of every override, each
// with the prefix of its keys ("" or "override.800x480.").
type keyed struct {
	prefix string
	s      *sections
}

// all returns the base sections and every override's, overrides in
// resolution order.
func (t *Theme) all() []keyed {
	keys := make([]image.Point, 0, len(t.overrides))
	for k := range t.overrides {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].X < keys[j].X || keys[i].X == keys[j].X && keys[i].Y < keys[j].Y
	})
	out := []keyed{{"", &t.base}}
	for _, k := range keys {
		name := t.okeys[k]
		if name == "" {
			name = fmt.Sprintf("%dx%d", k.X, k.Y)
		}
		out = append(out, keyed{"override." + name + ".", t.overrides[k]})
	}
	return out
}

// fileRef is a file a theme names, and the key that names it.
type fileRef struct {
	key  string // "logo.image", "override.800x480.spinner.frames"
	line int    // the key's line, once known
	name string // as the theme gives it; "" for the embedded font
	font bool
}

// files lists the files the theme names in every section, with the keys
// naming them: images (the spinner's frames expanded) and fonts ("" for
// the embedded one).
func (t *Theme) files() (refs []fileRef, globs map[string][]string, err error) {
	globs = map[string][]string{}
	for _, k := range t.all() {
		s := k.s
		if s.Background != nil && s.Background.Image != nil {
			refs = append(refs, fileRef{key: k.prefix + "background.image", name: *s.Background.Image})
		}
		if s.Logo != nil && s.Logo.Image != nil {
			refs = append(refs, fileRef{key: k.prefix + "logo.image", name: *s.Logo.Image})
		}
		if s.Spinner != nil && s.Spinner.Frames != nil {
			names, err := t.frameNames(*s.Spinner.Frames)
			if err != nil {
				return nil, nil, err
			}
			for _, n := range names {
				refs = append(refs, fileRef{key: k.prefix + "spinner.frames", name: n})
			}
			globs[*s.Spinner.Frames] = names
		}
		for _, tx := range []struct {
			name string
			f    *textFile
		}{{"message", s.Message}, {"status", s.Status}} {
			if tx.f == nil {
				continue
			}
			name := ""
			if tx.f.Font != nil {
				name = *tx.f.Font
			}
			refs = append(refs, fileRef{key: k.prefix + tx.name + ".font", name: name, font: true})
		}
	}
	return refs, globs, nil
}

// placed makes err, found reading the file name, a ThemeError naming the
// theme file, the line and the key that names it.
func (t *Theme) placed(name string, err error) *ThemeError {
	var te *ThemeError
	if errors.As(err, &te) {
		return te
	}
	r := t.refs[name]
	return &ThemeError{File: t.fileName(), Line: r.line, Key: r.key, Err: err}
}

// fileName names the theme file in errors.
func (t *Theme) fileName() string {
	if t.File == "" {
		return "(default theme)"
	}
	return t.File
}

// placedErr is placed for a caller that returns an error: nil stays nil.
func (t *Theme) placedErr(name string, err error) error {
	if err == nil {
		return nil
	}
	return t.placed(name, err)
}

// Check loads everything the theme names (decodes every image, parses
// every font), as `bootsplash theme check` does, and returns every problem
// as ThemeErrors.
func (t *Theme) Check() error {
	refs, _, err := t.files()
	if err != nil {
		return ThemeErrors{t.placed("", err)}
	}
	var errs ThemeErrors
	seen := map[string]bool{}
	for _, r := range refs {
		if seen[r.name] {
			continue
		}
		seen[r.name] = true
		if r.font {
			_, err = t.font(r.name)
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
