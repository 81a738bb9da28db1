package fbemu

import (
	"image"
	"image/color"
	"image/draw"
)

// Sprite is a source image converted once to the layout blits want, so it
// can be blitted many times (a logo, a spinner frame) without conversion,
// like the pre-converted image fbdev's imageblit expects. It is an
// image.Image too, so Surface.Draw recognises it.
type Sprite struct {
	w, h   int
	pm     []uint32 // premultiplied 0xAARRGGBB, row-major, tight
	px16   []uint16 // native RGB565 values, for RGB565 targets
	opaque bool     // every pixel has alpha 0xff
	format Format
}

// NewSprite converts img for blitting onto surfaces of format f. *image.RGBA
// and *image.NRGBA are converted directly; other images through At.
func NewSprite(img image.Image, f Format) *Sprite {
	b := img.Bounds()
	sp := &Sprite{w: b.Dx(), h: b.Dy(), pm: make([]uint32, b.Dx()*b.Dy()), opaque: true, format: f}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		switch src := img.(type) {
		case *image.RGBA:
			p := src.Pix[src.PixOffset(b.Min.X, y):]
			for x := 0; x < sp.w; x++ {
				sp.pm[i] = uint32(p[4*x+3])<<24 | uint32(p[4*x])<<16 | uint32(p[4*x+1])<<8 | uint32(p[4*x+2])
				i++
			}
		case *image.NRGBA:
			p := src.Pix[src.PixOffset(b.Min.X, y):]
			for x := 0; x < sp.w; x++ {
				a := uint32(p[4*x+3])
				nc := uint32(0xff)<<24 | uint32(p[4*x])<<16 | uint32(p[4*x+1])<<8 | uint32(p[4*x+2])
				sp.pm[i] = scale(nc, a)
				i++
			}
		default:
			for x := b.Min.X; x < b.Max.X; x++ {
				sp.pm[i] = premul(toRGBA(img.At(x, y)))
				i++
			}
		}
	}
	for _, v := range sp.pm {
		if v>>24 != 0xff {
			sp.opaque = false
			break
		}
	}
	if f == RGB565 {
		sp.px16 = make([]uint16, len(sp.pm))
		for i, v := range sp.pm {
			sp.px16[i] = uint16(RGB565.Pixel(unpremul(v)))
		}
	}
	return sp
}

// Opaque reports whether every pixel of the sprite is opaque, so Over is
// the same as Src.
func (sp *Sprite) Opaque() bool { return sp.opaque }

// Bounds implements image.Image: (0,0)-(w,h).
func (sp *Sprite) Bounds() image.Rectangle { return image.Rect(0, 0, sp.w, sp.h) }

// ColorModel implements image.Image.
func (sp *Sprite) ColorModel() color.Model { return color.RGBAModel }

// At implements image.Image.
func (sp *Sprite) At(x, y int) color.Color {
	if !(image.Point{x, y}).In(sp.Bounds()) {
		return color.RGBA{}
	}
	return unpremul(sp.pm[y*sp.w+x])
}

// Blit draws the part of sp at sp0 onto dr of s, like draw.Draw, with op
// draw.Src (copy, alpha included) or draw.Over (composite). dr is clipped to
// the surface and to the sprite.
func (s *Surface) Blit(dr image.Rectangle, sp *Sprite, sp0 image.Point, op draw.Op) {
	orig := dr.Min
	dr = dr.Intersect(s.rect)
	dr = dr.Intersect(sp.Bounds().Add(orig.Sub(sp0)))
	if dr.Empty() {
		return
	}
	sp0 = sp0.Add(dr.Min.Sub(orig))
	if sp.opaque {
		op = draw.Src
	}
	s = s.base()
	s.touch(dr, op == draw.Src)
	w := dr.Dx()
	for y := 0; y < dr.Dy(); y++ {
		si := (sp0.Y+y)*sp.w + sp0.X
		dst := s.row(dr.Min.Y+y, dr.Min.X, dr.Max.X)
		switch {
		case s.format == RGB565 && op == draw.Src && sp.px16 != nil:
			copy(halfwords(dst), sp.px16[si:si+w])
		case s.format != RGB565 && op == draw.Src && sp.opaque:
			copy(words(dst), sp.pm[si:si+w])
		default:
			s.storeSpan(dst, sp.pm[si:si+w], op)
		}
	}
}

// storeSpan writes the premultiplied 0xAARRGGBB pixels src to dst, a span
// of a row in s's format: converted with draw.Src, composited with
// draw.Over (transparent pixels skipped, opaque ones stored).
func (s *Surface) storeSpan(dst []byte, src []uint32, op draw.Op) {
	switch {
	case s.format == RGB565 && op == draw.Src:
		d := halfwords(dst)[:len(src)]
		for i, v := range src {
			d[i] = uint16(RGB565.Pixel(unpremul(v)))
		}
	case s.format == RGB565:
		d := halfwords(dst)[:len(src)]
		for i, v := range src {
			if v>>24 == 0 {
				continue
			}
			dv := premul(RGB565.RGBA(uint32(d[i])))
			d[i] = uint16(RGB565.Pixel(unpremul(over(v, dv))))
		}
	case op == draw.Src && s.format == ARGB8888:
		copy(words(dst), src)
	case op == draw.Src:
		d := words(dst)[:len(src)]
		for i, v := range src {
			d[i] = v | 0xff000000
		}
	default:
		overSpan(words(dst), src)
	}
}

// overSpan composites premultiplied src over dst pixel by pixel, skipping
// transparent pixels and storing opaque ones directly.
func overSpan(dst, src []uint32) {
	dst = dst[:len(src)]
	for i, v := range src {
		switch a := v >> 24; a {
		case 0:
		case 0xff:
			dst[i] = v
		default:
			dst[i] = over(v, dst[i])
		}
	}
}
