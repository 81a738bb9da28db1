package splash

import (
	"fmt"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"

	"github.com/bootsplash/bootsplash/fbemu"
)

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
	f, err := r.theme.Font(name)
	if err != nil {
		return nil, err
	}
	// A size in points at 72 dpi is a size in pixels.
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
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
