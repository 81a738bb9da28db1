package splash

import (
	"fmt"
	"io"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	"github.com/bootsplash/bootsplash/fbemu"
)

// fontFile is a parsed font. It is only read once parsed, so the
// Renderers of several outputs can share it.
type fontFile struct {
	f *opentype.Font
}

// fontExists checks that a font file a theme names can be opened, without
// reading it: fonts are parsed when text is first drawn.
func (t *Theme) fontExists(name string) error {
	f, err := t.openFile(name, MaxFontBytes, "font")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

// font returns the parsed font name ("" is the embedded Go font), parsing
// it the first time. Errors are ThemeErrors naming the key that names the
// font.
func (t *Theme) font(name string) (*fontFile, error) {
	ff, err := t.fontFile(name)
	return ff, t.placedErr(name, err)
}

func (t *Theme) fontFile(name string) (*fontFile, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ff := t.fonts[name]; ff != nil {
		return ff, nil
	}
	data := goregular.TTF
	if name != "" {
		r, err := t.openFile(name, MaxFontBytes, "font")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		data, err = io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, pathless(err))
		}
	}
	f, err := opentype.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a TrueType or OpenType font (%w)", name, err)
	}
	ff := &fontFile{f: f}
	t.fonts[name] = ff
	return ff, nil
}

// faceKey names a face: a font of the theme at a pixel size.
type faceKey struct {
	font string
	px   float64
}

// face returns a face of the theme's font name at px pixels per em,
// behind a glyph cache so a line drawn again is not rasterized again.
// Faces and their caches are not safe for concurrent use, so each
// Renderer keeps its own.
func (r *Renderer) face(name string, px float64) (font.Face, error) {
	k := faceKey{name, px}
	if fc := r.faces[k]; fc != nil {
		return fc, nil
	}
	ff, err := r.theme.font(name)
	if err != nil {
		return nil, err
	}
	// A size in points at 72 dpi is a size in pixels.
	fc, err := opentype.NewFace(ff.f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("font %s at %gpx: %w", name, px, err)
	}
	gc := fbemu.NewGlyphCache(fc, 0)
	if r.faces == nil {
		r.faces = make(map[faceKey]*fbemu.GlyphCache)
	}
	r.faces[k] = gc
	return gc, nil
}
