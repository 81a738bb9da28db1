package fbemu

import (
	"image"
	"image/color"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// DrawText draws s with face at dot (the baseline origin, in pixels) in the
// premultiplied color c, blending each glyph mask onto the surface in one
// pass, and returns the dot after the last glyph. It records one damage
// rectangle covering the drawn glyphs. Glyph masks that are *image.Alpha
// (basicfont, opentype) take the fast path.
func (s *Surface) DrawText(dot image.Point, face font.Face, text string, c color.RGBA) image.Point {
	d := fixed.P(dot.X, dot.Y)
	prev := rune(-1)
	var changed image.Rectangle
	bounds := s.rect
	col := premul(c)
	m := s.base()
	m.prepare(bounds, false)
	for _, r := range text {
		if prev >= 0 {
			d.X += face.Kern(prev, r)
		}
		dr, mask, mp, adv, ok := face.Glyph(d, r)
		prev = r
		if !ok {
			// A missing glyph still advances, as font.Drawer does.
			d.X += adv
			continue
		}
		d.X += adv
		clip := dr.Intersect(bounds)
		if clip.Empty() {
			continue
		}
		mp = mp.Add(clip.Min.Sub(dr.Min))
		if m.maskOver(clip, mask, mp, col) {
			changed = changed.Union(clip)
		}
	}
	m.record(changed)
	return image.Point{d.X.Round(), d.Y.Round()}
}

// maskOver composites col, scaled by mask, over r (already clipped) of a
// whole surface, and reports whether any pixel was touched.
func (s *Surface) maskOver(r image.Rectangle, mask image.Image, mp image.Point, col uint32) bool {
	opaque := col>>24 == 0xff
	a, fast := mask.(*image.Alpha)
	touched := false
	for y := 0; y < r.Dy(); y++ {
		var m []uint8
		if fast {
			i := a.PixOffset(mp.X, mp.Y+y)
			m = a.Pix[i : i+r.Dx()]
		}
		if fast && (s.format == XRGB8888 || s.format == ARGB8888) {
			dst := words(s.row(r.Min.Y+y, r.Min.X, r.Max.X))
			dst = dst[:len(m)]
			for i, mv := range m {
				switch {
				case mv == 0:
				case mv == 0xff && opaque:
					dst[i] = col
					touched = true
				default:
					dst[i] = over(scale(col, uint32(mv)), dst[i])
					touched = true
				}
			}
			continue
		}
		for x := 0; x < r.Dx(); x++ {
			var mv uint32
			if fast {
				mv = uint32(m[x])
			} else {
				_, _, _, ma := mask.At(mp.X+x, mp.Y+y).RGBA()
				mv = ma >> 8
			}
			if mv == 0 {
				continue
			}
			px, py := r.Min.X+x, r.Min.Y+y
			dv := premul(s.format.RGBA(s.pixel(px, py)))
			s.setPixel(px, py, s.format.Pixel(unpremul(over(scale(col, mv), dv))))
			touched = true
		}
	}
	return touched
}
