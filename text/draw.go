package text

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"

	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/bootsplash/bootsplash/fbemu"
)

// maxCachedMasks bounds the glyph mask cache, after which it starts over.
const maxCachedMasks = 1024

// subpixels is how many horizontal positions within a pixel a glyph's
// mask is rendered at.
const subpixels = 4

type maskKey struct {
	face *font.Face
	id   font.GID
	fx   fixed.Int26_6 // sub-pixel offset, a multiple of 64/subpixels
}

// glyphMask is a rendered glyph: a coverage mask, or a colour image for
// a bitmap (emoji) glyph, placed relative to the integer dot.
type glyphMask struct {
	rect  image.Rectangle
	alpha *image.Alpha
	rgba  *image.RGBA
	tofu  bool
}

// Draw draws line on dst with its baseline's left end at dot, in the
// colour c (colour glyphs keep their own colours), and returns the
// rectangle it touched. A glyph no font has is drawn as a box.
func (s *Shaper) Draw(dst *fbemu.Surface, line Line, dot image.Point, c color.RGBA) image.Rectangle {
	src := image.NewUniform(c)
	var ink image.Rectangle
	s.walk(line, dot, func(r image.Rectangle, m *glyphMask) {
		switch {
		case m.rgba != nil:
			dst.Draw(r, m.rgba, image.Point{}, draw.Over)
		case m.alpha != nil:
			dst.DrawMask(r, src, image.Point{}, m.alpha, image.Point{}, draw.Over)
		}
		ink = ink.Union(r)
	})
	return ink.Intersect(dst.Bounds())
}

// Ink returns the rectangle Draw would touch for line at dot.
func (s *Shaper) Ink(line Line, dot image.Point) image.Rectangle {
	var ink image.Rectangle
	s.walk(line, dot, func(r image.Rectangle, _ *glyphMask) { ink = ink.Union(r) })
	return ink
}

// walk calls f with each glyph's mask and where it goes.
func (s *Shaper) walk(line Line, dot image.Point, f func(image.Rectangle, *glyphMask)) {
	for _, g := range line.Glyphs {
		x := fixed.I(dot.X) + g.X
		ix := x.Floor()
		fx := (x - fixed.I(ix)) / (64 / subpixels) * (64 / subpixels)
		m := s.mask(g, fx)
		if m.rect.Empty() {
			continue
		}
		f(m.rect.Add(image.Pt(ix, dot.Y+g.Y.Round())), m)
	}
}

// mask returns the glyph's mask at sub-pixel offset fx, rendering it the
// first time.
func (s *Shaper) mask(g Glyph, fx fixed.Int26_6) *glyphMask {
	k := maskKey{g.Face, g.ID, fx}
	if m := s.masks[k]; m != nil {
		return m
	}
	if len(s.masks) >= maxCachedMasks {
		clear(s.masks)
	}
	m := s.render(g, fx)
	s.masks[k] = m
	return m
}

func (s *Shaper) render(g Glyph, fx fixed.Int26_6) *glyphMask {
	if g.ID == 0 || g.Face == nil {
		return s.tofu(g.Advance)
	}
	scale := float32(s.size) / 64 / float32(g.Face.Upem())
	off := float32(fx) / 64
	switch d := g.Face.GlyphData(g.ID).(type) {
	case font.GlyphOutline:
		return outline(d, scale, off)
	case font.GlyphSVG:
		return outline(d.Outline, scale, off)
	case font.GlyphBitmap:
		if m := s.bitmap(g, d); m != nil {
			return m
		}
		if d.Outline != nil {
			return outline(*d.Outline, scale, off)
		}
	}
	return s.tofu(g.Advance)
}

// outline rasterizes an outline in font units, scaled by scale (y up)
// and moved right by off pixels.
func outline(o font.GlyphOutline, scale, off float32) *glyphMask {
	if len(o.Segments) == 0 {
		return &glyphMask{}
	}
	minX, minY := float32(math.Inf(1)), float32(math.Inf(1))
	maxX, maxY := float32(math.Inf(-1)), float32(math.Inf(-1))
	for _, seg := range o.Segments {
		for _, p := range seg.ArgsSlice() {
			x, y := p.X*scale+off, -p.Y*scale
			minX, maxX = min(minX, x), max(maxX, x)
			minY, maxY = min(minY, y), max(maxY, y)
		}
	}
	r := image.Rect(int(math.Floor(float64(minX))), int(math.Floor(float64(minY))),
		int(math.Ceil(float64(maxX))), int(math.Ceil(float64(maxY))))
	if r.Empty() || r.Dx() > 4096 || r.Dy() > 4096 {
		return &glyphMask{}
	}
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	z := vector.NewRasterizer(r.Dx(), r.Dy())
	pt := func(p font.SegmentPoint) (float32, float32) { return p.X*scale + off - ox, -p.Y*scale - oy }
	for _, seg := range o.Segments {
		a := seg.Args
		switch seg.Op {
		case ot.SegmentOpMoveTo:
			z.MoveTo(pt(a[0]))
		case ot.SegmentOpLineTo:
			z.LineTo(pt(a[0]))
		case ot.SegmentOpQuadTo:
			x1, y1 := pt(a[0])
			x2, y2 := pt(a[1])
			z.QuadTo(x1, y1, x2, y2)
		case ot.SegmentOpCubeTo:
			x1, y1 := pt(a[0])
			x2, y2 := pt(a[1])
			x3, y3 := pt(a[2])
			z.CubeTo(x1, y1, x2, y2, x3, y3)
		}
	}
	z.ClosePath()
	m := image.NewAlpha(image.Rect(0, 0, r.Dx(), r.Dy()))
	z.Draw(m, m.Bounds(), image.Opaque, image.Point{})
	return &glyphMask{rect: r, alpha: m}
}

// bitmap decodes a colour bitmap glyph (a PNG, as Noto Color Emoji has)
// and scales it to the glyph's extents at the shaper's size.
func (s *Shaper) bitmap(g Glyph, d font.GlyphBitmap) *glyphMask {
	if d.Format != font.PNG {
		return nil
	}
	img, err := png.Decode(bytes.NewReader(d.Data))
	if err != nil {
		return nil
	}
	ext, ok := g.Face.GlyphExtents(g.ID)
	if !ok {
		return nil
	}
	k := float64(s.size) / 64 / float64(g.Face.Upem())
	r := image.Rect(int(math.Floor(float64(ext.XBearing)*k)), int(math.Floor(-float64(ext.YBearing)*k)),
		int(math.Ceil(float64(ext.XBearing+ext.Width)*k)), int(math.Ceil(-float64(ext.YBearing+ext.Height)*k)))
	if r.Empty() || r.Dx() > 4096 || r.Dy() > 4096 {
		return nil
	}
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	xdraw.CatmullRom.Scale(out, out.Bounds(), img, img.Bounds(), xdraw.Over, nil)
	return &glyphMask{rect: r, rgba: out}
}

// tofu is the box drawn for a character no font has: an outlined
// rectangle the height of a capital, in the glyph's advance (or half an
// em when it has none).
func (s *Shaper) tofu(adv fixed.Int26_6) *glyphMask {
	em := float64(s.size) / 64
	w := float64(adv) / 64
	if w < em/4 {
		w = em / 2
	}
	bw, bh := max(3, int(math.Round(w*0.8))), max(4, int(math.Round(em*0.7)))
	lw := max(1, int(math.Round(em/16)))
	m := image.NewAlpha(image.Rect(0, 0, bw, bh))
	for y := 0; y < bh; y++ {
		for x := 0; x < bw; x++ {
			if x < lw || y < lw || x >= bw-lw || y >= bh-lw {
				m.Pix[y*m.Stride+x] = 0xff
			}
		}
	}
	x0 := int(math.Round((w - float64(bw)) / 2))
	return &glyphMask{rect: image.Rect(x0, -bh, x0+bw, 0), alpha: m, tofu: true}
}
