package theme

import (
	"fmt"
	"image"
	"image/color"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// The theme file. Every value is a pointer so that "not set" can be told
// from a zero value: unset keys take the defaults, and a resolution override
// replaces only the keys it sets.
type themeFile struct {
	Sections
	Override map[string]*Sections `toml:"override"`
}

// Sections are the tables of a theme file, or of one of its overrides.
// A nil section is not drawn (in an override: not changed). Every field
// of a section is a pointer so that a key that is not set can be told
// from one set to zero: nil takes the default (see docs/themes.md).
type Sections struct {
	Background *Background `toml:"background"`
	Logo       *Logo       `toml:"logo"`
	Progress   *Progress   `toml:"progress"`
	Message    *Text       `toml:"message"`
	Status     *Text       `toml:"status"`
	Spinner    *Spinner    `toml:"spinner"`
	Prompt     *Prompt     `toml:"prompt"`
	SecureBoot *SecureBoot `toml:"secure_boot"`
}

// Place says where an element goes: the point Anchor of the element at
// (X, Y) (fractions of the screen; by default the same point of the
// screen) moved by Offset (pixels at scale 1); or, with Below, its top
// under the element Below names.
type Place struct {
	Anchor *string    `toml:"anchor"`
	X      *float64   `toml:"x"`
	Y      *float64   `toml:"y"`
	Offset *[]float64 `toml:"offset"`
	Below  *string    `toml:"below"`
}

// Background is the [background] table: a colour, or a vertical gradient
// from Top to Bottom, and an image on top of it placed as Fit says.
type Background struct {
	Color  *string `toml:"color"`
	Top    *string `toml:"top"`
	Bottom *string `toml:"bottom"`
	Image  *string `toml:"image"`
	Fit    *string `toml:"fit"`
}

// Logo is the [logo] table: an image, scaled by the output's scale times
// Scale, shrunk to fit MaxWidth and MaxHeight (fractions of the screen);
// or, with Firmware, the logo the firmware showed (ACPI BGRT) where the
// firmware drew it, the image standing in when the firmware has none.
type Logo struct {
	Place
	Image *string `toml:"image"`
	// Firmware takes the firmware's logo when there is one: drawn at
	// its own size where the firmware drew it (placed as Plymouth's BGRT
	// theme places it in another mode), the placement and size keys then
	// applying to Image only.
	Firmware  *bool    `toml:"firmware"`
	Scale     *float64 `toml:"scale"`
	MaxWidth  *float64 `toml:"max_width"`
	MaxHeight *float64 `toml:"max_height"`
}

// Progress is the [progress] table: the progress bar, a rounded track with
// a fill; while progress is unknown a pulse sweeps the track.
type Progress struct {
	Place
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

// Text is the [message] or [status] table: one line of text.
type Text struct {
	Place
	Font *string `toml:"font"`
	// Fonts are tried, in order, for characters Font lacks, before the
	// system's fonts and the embedded one.
	Fonts *[]string `toml:"fonts"`
	Size  *float64  `toml:"size"`
	Color *string   `toml:"color"`
	// MaxLines lets a long line wrap onto up to this many lines (the
	// last one ending in an ellipsis); 1 keeps one line shortened in
	// its middle.
	MaxLines *int `toml:"max_lines"`
}

// SecureBoot is the [secure_boot] table: a warning line drawn when the
// firmware says Secure Boot is off (a UEFI boot whose firmware checks no
// signature: switched off, in setup mode, or without Secure Boot). A
// theme without the table says nothing; nor does any theme on a machine
// that did not boot through UEFI.
type SecureBoot struct {
	Place
	// Text is the warning; unset, it is the splash's own string in the
	// locale's language.
	Text *string `toml:"text"`
	Font *string `toml:"font"`
	// Fonts are tried, in order, for characters Font lacks, before the
	// system's fonts and the embedded one.
	Fonts    *[]string `toml:"fonts"`
	Size     *float64  `toml:"size"`
	Color    *string   `toml:"color"`
	MaxLines *int      `toml:"max_lines"`
}

// Line returns the table's text style and place as a [message] table
// has them.
func (s *SecureBoot) Line() *Text {
	return &Text{Place: s.Place, Font: s.Font, Fonts: s.Fonts, Size: s.Size, Color: s.Color, MaxLines: s.MaxLines}
}

// Spinner is the [spinner] table: a sequence of image frames, or the
// procedural ring of dots (Style "dots").
type Spinner struct {
	Place
	Frames *string  `toml:"frames"`
	Style  *string  `toml:"style"`
	Size   *float64 `toml:"size"`
	Dots   *int     `toml:"dots"`
	Color  *string  `toml:"color"`
	FPS    *int     `toml:"fps"`
}

// Prompt is the [prompt] table: a question asked at the splash (a
// passphrase), its prompt text, the entry with one bullet per character
// typed, the lines under it for a retry and for Caps Lock, and the hint
// that Escape shows the details. Unlike the
// other tables it is drawn when absent, with the defaults: a question
// must always be seen.
type Prompt struct {
	Place
	Font *string `toml:"font"`
	// Fonts are tried, in order, for characters Font lacks, before the
	// system's fonts and the embedded one.
	Fonts       *[]string `toml:"fonts"`
	Size        *float64  `toml:"size"`
	Color       *string   `toml:"color"`
	EntryWidth  *float64  `toml:"entry_width"`
	EntryHeight *float64  `toml:"entry_height"`
	EntryColor  *string   `toml:"entry_color"`
	BulletSize  *float64  `toml:"bullet_size"`
	BulletColor *string   `toml:"bullet_color"`
	MaxBullets  *int      `toml:"max_bullets"`
	RetryText   *string   `toml:"retry_text"`
	RetryColor  *string   `toml:"retry_color"`
	CapsText    *string   `toml:"caps_text"`
	CapsColor   *string   `toml:"caps_color"`
	// DetailsText is the hint under the block that Escape shows the
	// details view; "" shows none. Unset, it is the splash's own string
	// in the locale's language.
	DetailsText *string `toml:"details_text"`
}

// anchorNames are the points an element can be placed by.
var anchorNames = []string{"center", "top", "bottom", "left", "right", "top-left", "top-right", "bottom-left", "bottom-right"}

// AnchorPoint returns the anchor as fractions of a box: (0,0) top-left.
func AnchorPoint(name string) (fx, fy float64) {
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

// Base returns the theme's sections without any override: what a screen
// of a size the theme does not override shows. The caller must not
// change them.
func (t *Theme) Base() *Sections { return &t.base }

// Sizes returns the screen sizes the theme has overrides for, in
// resolution order (narrowest first).
func (t *Theme) Sizes() []image.Point {
	keys := make([]image.Point, 0, len(t.overrides))
	for k := range t.overrides {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].X < keys[j].X || keys[i].X == keys[j].X && keys[i].Y < keys[j].Y
	})
	return keys
}

// Resolve returns the sections in force on a w x h screen: the base
// theme with that resolution's override on top. The caller must not
// change them.
func (t *Theme) Resolve(w, h int) *Sections {
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

// keyed is the Sections of the base theme and of every override, each
// with the prefix of its keys ("" or "override.800x480.").
type keyed struct {
	prefix string
	s      *Sections
}

// all returns the base Sections and every override's, overrides in
// resolution order.
func (t *Theme) all() []keyed {
	out := []keyed{{"", &t.base}}
	for _, k := range t.Sizes() {
		name := t.okeys[k]
		if name == "" {
			name = fmt.Sprintf("%dx%d", k.X, k.Y)
		}
		out = append(out, keyed{"override." + name + ".", t.overrides[k]})
	}
	return out
}
