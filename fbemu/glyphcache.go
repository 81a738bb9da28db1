package fbemu

import (
	"image"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// GlyphCache is a font.Face that remembers the masks another face renders,
// so text that is drawn again (a status line, a percentage) is not
// rasterized again. Faces such as opentype's rasterize on every Glyph call.
// Lookups of cached glyphs do not allocate. It is not safe for concurrent
// use, like the faces it wraps.
type GlyphCache struct {
	font.Face
	glyphs map[glyphKey]*cachedGlyph
	limit  int
}

type glyphKey struct {
	r      rune
	fx, fy fixed.Int26_6 // sub-pixel position of the dot
}

type cachedGlyph struct {
	dr   image.Rectangle // relative to the integer dot
	mask *image.Alpha    // bounds (0,0)-dr.Size()
	adv  fixed.Int26_6
	ok   bool
}

// NewGlyphCache wraps face; at most limit glyphs are kept (0 means 512),
// after which the cache starts over.
func NewGlyphCache(face font.Face, limit int) *GlyphCache {
	if limit <= 0 {
		limit = 512
	}
	return &GlyphCache{Face: face, glyphs: make(map[glyphKey]*cachedGlyph), limit: limit}
}

// Len returns the number of cached glyphs.
func (c *GlyphCache) Len() int { return len(c.glyphs) }

// Glyph implements font.Face, rendering through the wrapped face once per
// rune and sub-pixel position.
func (c *GlyphCache) Glyph(dot fixed.Point26_6, r rune) (dr image.Rectangle, mask image.Image, maskp image.Point, advance fixed.Int26_6, ok bool) {
	ix, iy := dot.X.Floor(), dot.Y.Floor()
	key := glyphKey{r, dot.X - fixed.I(ix), dot.Y - fixed.I(iy)}
	g := c.glyphs[key]
	if g == nil {
		g = c.render(key)
	}
	if !g.ok {
		return image.Rectangle{}, nil, image.Point{}, g.adv, false
	}
	return g.dr.Add(image.Pt(ix, iy)), g.mask, image.Point{}, g.adv, true
}

// render asks the wrapped face for a glyph at the key's sub-pixel offset and
// keeps a copy of its mask.
func (c *GlyphCache) render(key glyphKey) *cachedGlyph {
	if len(c.glyphs) >= c.limit {
		clear(c.glyphs)
	}
	dr, mask, mp, adv, ok := c.Face.Glyph(fixed.Point26_6{X: key.fx, Y: key.fy}, key.r)
	g := &cachedGlyph{dr: dr, adv: adv, ok: ok}
	if ok {
		g.mask = image.NewAlpha(image.Rectangle{Max: dr.Size()})
		draw.Draw(g.mask, g.mask.Bounds(), mask, mp, draw.Src)
	}
	c.glyphs[key] = g
	return g
}
