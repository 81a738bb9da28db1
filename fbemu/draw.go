package fbemu

import (
	"encoding/binary"
	"image"
	"image/draw"
	"unsafe"
)

// Which call takes which path.
//
// The standard library's draw.Draw and draw.DrawMask have fast paths only
// for destinations of its own concrete types (*image.RGBA, *image.NRGBA,
// *image.Paletted, *image.NRGBA64). For any other destination they go pixel
// by pixel: through SetRGBA64 and RGBA64At when both sides implement them
// (a Surface, *image.Uniform, *image.RGBA and *image.NRGBA do), else through
// Set and At. So draw.Draw onto a Surface is correct, with exact damage, but
// it stays a per-pixel loop that no method of Surface can shortcut.
//
// The native paths are reached through this package's Draw and DrawMask
// (drop-in replacements for image/draw's, for any draw.Image), the Surface
// methods of the same names, and the Op values Src and Over, which are
// draw.Drawers. With a *Surface destination they take:
//   - *image.Uniform: FillRect (Src, or an opaque color) or BlendRect (Over);
//   - *Sprite: Blit;
//   - *image.RGBA, *image.NRGBA and *Surface: rows converted to the
//     surface's format (opaque pixels stored, transparent ones skipped),
//     or copied with copy() where the formats match and nothing blends;
//   - an *image.Alpha mask with an *image.Uniform source and Over: the glyph
//     path of DrawText;
//   - anything else: image/draw's per-pixel path.
// Each records one damage rectangle, the part of r it drew, and gives the
// same pixels as the native operation it stands for.

// Draw is draw.Draw with this package's fast paths when dst is a *Surface,
// and image/draw's own otherwise.
func Draw(dst draw.Image, r image.Rectangle, src image.Image, sp image.Point, op draw.Op) {
	DrawMask(dst, r, src, sp, nil, image.Point{}, op)
}

// DrawMask is draw.DrawMask with this package's fast paths when dst is a
// *Surface, and image/draw's own otherwise.
func DrawMask(dst draw.Image, r image.Rectangle, src image.Image, sp image.Point, mask image.Image, mp image.Point, op draw.Op) {
	if s, ok := dst.(*Surface); ok {
		s.DrawMask(r, src, sp, mask, mp, op)
		return
	}
	draw.DrawMask(dst, r, src, sp, mask, mp, op)
}

// Op is a Porter-Duff operator, like draw.Op, whose Draw method takes this
// package's fast paths: Over.Draw(dst, r, src, sp) is Draw(dst, r, src, sp,
// draw.Over). It is a draw.Drawer, for code that takes one.
type Op draw.Op

// The two operators, as draw.Drawers.
const (
	Over = Op(draw.Over)
	Src  = Op(draw.Src)
)

// Draw implements draw.Drawer.
func (op Op) Draw(dst draw.Image, r image.Rectangle, src image.Image, sp image.Point) {
	DrawMask(dst, r, src, sp, nil, image.Point{}, draw.Op(op))
}

// Draw is draw.Draw onto s (see DrawMask).
func (s *Surface) Draw(r image.Rectangle, src image.Image, sp image.Point, op draw.Op) {
	s.DrawMask(r, src, sp, nil, image.Point{}, op)
}

// DrawMask is draw.DrawMask onto s, with the fast paths listed in this
// file's comment for the common sources; the rest goes through image/draw.
// It records the part of r it drew as damage.
func (s *Surface) DrawMask(r image.Rectangle, src image.Image, sp image.Point, mask image.Image, mp image.Point, op draw.Op) {
	if op != draw.Src && op != draw.Over {
		draw.DrawMask(s, r, src, sp, mask, mp, op)
		return
	}
	clip(s, &r, src, &sp, mask, &mp)
	if r.Empty() {
		return
	}
	m := s.base()
	if mask != nil {
		a, ok := mask.(*image.Alpha)
		u, uok := src.(*image.Uniform)
		if !ok || !uok || op != draw.Over {
			draw.DrawMask(s, r, src, sp, mask, mp, op)
			return
		}
		m.prepare(r, false)
		if m.maskOver(r, a, mp, premul(toRGBA(u.C))) {
			m.record(r)
		}
		return
	}
	switch src := src.(type) {
	case *image.Uniform:
		c := toRGBA(src.C)
		if op == draw.Src || c.A == 0xff {
			m.fill(r, c)
		} else {
			s.BlendRect(r, c)
		}
	case *Sprite:
		s.Blit(r, src, sp, op)
	case *image.RGBA:
		m.touch(r, op == draw.Src)
		if m.format == RGB565 {
			m.spans(r, op, false, func(buf []uint32, x, y int) {
				loadRGBA(buf, src.Pix[src.PixOffset(sp.X+x, sp.Y+y):])
			})
			return
		}
		for y := 0; y < r.Dy(); y++ {
			p := src.Pix[src.PixOffset(sp.X, sp.Y+y):]
			rgbaRow(m.row(r.Min.Y+y, r.Min.X, r.Max.X), p, op, m.format == XRGB8888)
		}
	case *image.NRGBA:
		m.touch(r, op == draw.Src)
		if m.format == RGB565 {
			m.spans(r, op, false, func(buf []uint32, x, y int) {
				loadNRGBA(buf, src.Pix[src.PixOffset(sp.X+x, sp.Y+y):])
			})
			return
		}
		for y := 0; y < r.Dy(); y++ {
			p := src.Pix[src.PixOffset(sp.X, sp.Y+y):]
			nrgbaRow(m.row(r.Min.Y+y, r.Min.X, r.Max.X), p, op, m.format == XRGB8888)
		}
	case *Surface:
		m.drawSurface(r, src, sp, op)
	default:
		draw.DrawMask(s, r, src, sp, nil, image.Point{}, op)
	}
}

// clip is image/draw's clip: r to dst, and to src and mask placed at sp and
// mp, moving sp and mp along.
func clip(dst image.Image, r *image.Rectangle, src image.Image, sp *image.Point, mask image.Image, mp *image.Point) {
	orig := r.Min
	*r = r.Intersect(dst.Bounds())
	*r = r.Intersect(src.Bounds().Add(orig.Sub(*sp)))
	if mask != nil {
		*r = r.Intersect(mask.Bounds().Add(orig.Sub(*mp)))
	}
	d := r.Min.Sub(orig)
	*sp = sp.Add(d)
	*mp = mp.Add(d)
}

// spanLen is how many pixels a span conversion handles at a time, on the
// stack: 1 KiB, well inside the L1 cache.
const spanLen = 256

// spans draws the rectangle r of a whole surface from a source read span
// by span: load fills buf with the premultiplied 0xAARRGGBB pixels of the
// source for the span starting at destination (x, y)'s counterpart, which
// the caller's closure knows. reverse walks rows bottom-up and spans right
// to left, for a source that overlaps r lower down or further right.
func (s *Surface) spans(r image.Rectangle, op draw.Op, reverse bool, load func(buf []uint32, x, y int)) {
	var buf [spanLen]uint32
	dy := r.Dy()
	for j := 0; j < dy; j++ {
		y := r.Min.Y + j
		if reverse {
			y = r.Max.Y - 1 - j
		}
		for i := 0; i < r.Dx(); i += spanLen {
			x0, x1 := r.Min.X+i, min(r.Min.X+i+spanLen, r.Max.X)
			if reverse {
				x0, x1 = max(r.Max.X-i-spanLen, r.Min.X), r.Max.X-i
			}
			b := buf[:x1-x0]
			load(b, x0-r.Min.X, y-r.Min.Y)
			s.storeSpan(s.row(y, x0, x1), b, op)
		}
	}
}

// loadRGBA converts premultiplied R,G,B,A bytes to 0xAARRGGBB.
func loadRGBA(dst []uint32, p []byte) {
	p = p[:4*len(dst)]
	for i := range dst {
		v := binary.LittleEndian.Uint32(p[4*i:])
		dst[i] = v&0xff00ff00 | v<<16&0xff0000 | v>>16&0xff
	}
}

// Both alpha bytes of two pixels in a 64-bit word.
const alpha2 = 0xff000000ff000000

// swizzle2 turns two pixels of R,G,B,A bytes, read as a little-endian
// 64-bit word, into two 0xAARRGGBB values (B,G,R,A bytes).
func swizzle2(v uint64) uint64 {
	return v&0xff00ff00ff00ff00 | v<<16&0x00ff000000ff0000 | v>>16&0x000000ff000000ff
}

// swizzle turns one pixel of R,G,B,A bytes, read as a little-endian word,
// into 0xAARRGGBB (B,G,R,A bytes).
func swizzle(v uint32) uint32 { return v&0xff00ff00 | v<<16&0xff0000 | v>>16&0xff }

// rgbaRow draws premultiplied R,G,B,A bytes p onto dst, a row span of a
// 32-bit surface (xrgb: XRGB8888, else ARGB8888), with the result of
// storeSpan on loadRGBA's pixels. Where both rows are 8-byte aligned it
// takes two pixels at a time.
func rgbaRow(dst, p []byte, op draw.Op, xrgb bool) {
	d := words(dst)
	s := words(p)[:len(d)]
	var or uint32
	if xrgb {
		or = 0xff000000
	}
	if len(d) >= 2 && (uintptr(unsafe.Pointer(&d[0]))|uintptr(unsafe.Pointer(&s[0])))&7 == 0 {
		n := len(d) / 2
		d2 := unsafe.Slice((*uint64)(unsafe.Pointer(&d[0])), n)
		s2 := unsafe.Slice((*uint64)(unsafe.Pointer(&s[0])), n)
		or2 := uint64(or) | uint64(or)<<32
		for i, v := range s2 {
			switch {
			case op == draw.Src:
				d2[i] = swizzle2(v) | or2
			case v&alpha2 == alpha2:
				d2[i] = swizzle2(v)
			case v&alpha2 != 0:
				d[2*i] = overPixel(d[2*i], swizzle(uint32(v)))
				d[2*i+1] = overPixel(d[2*i+1], swizzle(uint32(v>>32)))
			}
		}
		d, s = d[2*n:], s[2*n:]
	}
	for i, v := range s {
		if op == draw.Src {
			d[i] = swizzle(v) | or
		} else {
			d[i] = overPixel(d[i], swizzle(v))
		}
	}
}

// overPixel composites the premultiplied 0xAARRGGBB v over the pixel d,
// as overSpan does.
func overPixel(d, v uint32) uint32 {
	switch v >> 24 {
	case 0:
		return d
	case 0xff:
		return v
	}
	return over(v, d)
}

// nrgbaRow is rgbaRow for straight-alpha R,G,B,A bytes, premultiplying as
// loadNRGBA does.
func nrgbaRow(dst, p []byte, op draw.Op, xrgb bool) {
	d := words(dst)
	s := words(p)[:len(d)]
	var or uint32
	if xrgb {
		or = 0xff000000
	}
	for i, v := range s {
		v = swizzle(v)
		switch a := v >> 24; {
		case a == 0xff:
			d[i] = v
		case op == draw.Src:
			d[i] = scale(v|0xff000000, a) | or
		case a != 0:
			d[i] = over(scale(v|0xff000000, a), d[i])
		}
	}
}

// loadNRGBA converts non-premultiplied R,G,B,A bytes to premultiplied
// 0xAARRGGBB, rounding as NewSprite does.
func loadNRGBA(dst []uint32, p []byte) {
	p = p[:4*len(dst)]
	for i := range dst {
		v := binary.LittleEndian.Uint32(p[4*i:])
		v = v&0xff00ff00 | v<<16&0xff0000 | v>>16&0xff
		if a := v >> 24; a != 0xff {
			v = scale(v|0xff000000, a)
		}
		dst[i] = v
	}
}

// drawSurface draws the rectangle of src at sp onto r of the whole surface
// s (both clipped). Same formats copy rows when nothing blends; the rest
// converts through premultiplied spans. A source sharing s's memory is
// read before it is overwritten, as CopyArea does.
func (s *Surface) drawSurface(r image.Rectangle, src *Surface, sp image.Point, op draw.Op) {
	sm := src.base()
	sm.prepare(image.Rectangle{sp, sp.Add(r.Size())}, false)
	if src.format != ARGB8888 {
		op = draw.Src // an opaque source: Over is Src
	}
	s.touch(r, op == draw.Src)
	if sm == s {
		if r.Min == sp {
			if op == draw.Over {
				// Over itself: each pixel becomes p + p*(1-a).
				s.spans(r, op, false, func(buf []uint32, x, y int) {
					copy(buf, words(s.row(sp.Y+y, sp.X+x, sp.X+x+len(buf))))
				})
			}
			return
		}
		if op == draw.Src {
			s.copyRows(r, sp)
			return
		}
		reverse := sp.Y < r.Min.Y || sp.Y == r.Min.Y && sp.X < r.Min.X
		s.spans(r, op, reverse, func(buf []uint32, x, y int) {
			copy(buf, words(s.row(sp.Y+y, sp.X+x, sp.X+x+len(buf))))
		})
		return
	}
	if src.format == s.format && op == draw.Src {
		for y := 0; y < r.Dy(); y++ {
			copy(s.row(r.Min.Y+y, r.Min.X, r.Max.X), sm.row(sp.Y+y, sp.X, sp.X+r.Dx()))
		}
		return
	}
	s.spans(r, op, false, func(buf []uint32, x, y int) {
		sm.loadSpan(buf, sp.X+x, sp.Y+y)
	})
}

// loadSpan converts the pixels of a whole surface from (x, y) on to
// premultiplied 0xAARRGGBB.
func (s *Surface) loadSpan(dst []uint32, x, y int) {
	row := s.row(y, x, x+len(dst))
	switch s.format {
	case XRGB8888:
		for i, v := range words(row)[:len(dst)] {
			dst[i] = v | 0xff000000
		}
	case ARGB8888:
		copy(dst, words(row))
	default:
		for i, v := range halfwords(row)[:len(dst)] {
			dst[i] = premul(RGB565.RGBA(uint32(v)))
		}
	}
}
