package fbemu

import (
	"fmt"
	"image"
	"image/color"
	"unsafe"
)

// Surface is a rectangle of pixels in one Format with a line length (stride),
// the thing drawing operations write into. Inside a Framebuffer frame it
// covers the mapped buffer and is valid only until the frame ends; NewSurface
// makes one on ordinary memory for offscreen work and tests.
//
// Surface is a draw.Image (and image/draw's RGBA64Image): At, Set,
// RGBA64At, SetRGBA64 and SubImage work in every Format. The methods
// FillRect, BlendRect, CopyArea, Blit, DrawText and Draw/DrawMask are the
// native fast paths; see Draw for which call takes which path. Every way of
// writing pixels, the per-pixel ones included, records what it changed in
// the surface's Damage, if it has one.
type Surface struct {
	pix    []byte
	stride int
	w, h   int
	format Format
	damage *Damage
	fb     *Framebuffer // set while a frame's catch-up copy is deferred

	// rect is the surface's bounds. A whole surface has rect (0,0)-(w,h)
	// and root nil; a surface made by SubImage has the part of its parent's
	// coordinates it covers, and root is the whole surface whose memory,
	// damage and frame it shares (looked up on every call, so that a part
	// cut inside a frame stops working when the frame ends, as the whole does).
	rect image.Rectangle
	root *Surface
}

// NewSurface allocates a w x h surface of format f with a tight stride,
// cleared to zero. It records no damage until SetDamage is called.
func NewSurface(w, h int, f Format) *Surface {
	if !f.Valid() || w < 0 || h < 0 {
		panic(fmt.Sprintf("fbemu: NewSurface(%d, %d, %v)", w, h, f))
	}
	stride := w * f.BytesPerPixel()
	return &Surface{pix: make([]byte, stride*h), stride: stride, w: w, h: h, format: f, rect: image.Rect(0, 0, w, h)}
}

// NewSurfaceOn makes a surface over existing memory, such as a slice from
// access.Mapping.Begin. pix must hold h rows of stride bytes (the last row
// needs only w pixels).
func NewSurfaceOn(pix []byte, w, h, stride int, f Format) (*Surface, error) {
	s := &Surface{}
	if err := s.reset(pix, w, h, stride, f); err != nil {
		return nil, err
	}
	return s, nil
}

// reset points s at new memory without allocating.
func (s *Surface) reset(pix []byte, w, h, stride int, f Format) error {
	if !f.Valid() {
		return fmt.Errorf("fbemu: invalid format %v", f)
	}
	bpp := f.BytesPerPixel()
	if w < 0 || h < 0 || stride < w*bpp || stride%bpp != 0 {
		return fmt.Errorf("fbemu: bad geometry %dx%d stride %d for %v", w, h, stride, f)
	}
	if h > 0 && len(pix) < (h-1)*stride+w*bpp {
		return fmt.Errorf("fbemu: %d bytes cannot hold %dx%d %v with stride %d", len(pix), w, h, f, stride)
	}
	s.pix, s.w, s.h, s.stride, s.format = pix, w, h, stride, f
	s.rect, s.root = image.Rect(0, 0, w, h), nil
	return nil
}

// base returns the whole surface whose memory s draws into: s itself, or
// the root of a SubImage.
func (s *Surface) base() *Surface {
	if s.root != nil {
		return s.root
	}
	return s
}

// SubImage returns the part of s inside r as a *Surface (image/draw's
// convention, hence the image.Image result; see Sub). It shares s's pixels,
// coordinates, damage list and frame: drawing on it changes s and records
// damage in s's coordinates, and it is valid only as long as s is.
func (s *Surface) SubImage(r image.Rectangle) image.Image { return s.Sub(r) }

// Sub is SubImage with the concrete type: the part of s inside r, sharing
// its pixels, coordinates and damage. An r outside s gives an empty surface.
func (s *Surface) Sub(r image.Rectangle) *Surface {
	r = r.Intersect(s.rect)
	if r.Empty() {
		r = image.Rectangle{}
	}
	return &Surface{format: s.format, rect: r, root: s.base()}
}

// invalidate drops the memory reference so a stale surface cannot write
// after its bracket ended; drawing on it then panics.
func (s *Surface) invalidate() { s.pix = nil }

// Format returns the pixel format.
func (s *Surface) Format() Format { return s.format }

// Stride returns the line length in bytes (fb_fix_screeninfo.line_length).
func (s *Surface) Stride() int { return s.base().stride }

// Width returns the width in pixels.
func (s *Surface) Width() int { return s.rect.Dx() }

// Height returns the height in pixels.
func (s *Surface) Height() int { return s.rect.Dy() }

// Pix returns the pixel memory from the top-left pixel of Bounds on: pixel
// (x, y) is at PixOffset(x, y). Inside a frame it is the mapped buffer and
// must not be kept after the frame; writes through it record no damage
// (call AddDamage).
func (s *Surface) Pix() []byte {
	m := s.base()
	m.prepare(s.rect, false)
	if s.rect.Empty() {
		return nil
	}
	return m.pix[m.offset(s.rect.Min.X, s.rect.Min.Y):]
}

// PixOffset returns the index in Pix of the first byte of pixel (x, y).
func (s *Surface) PixOffset(x, y int) int {
	return (y-s.rect.Min.Y)*s.base().stride + (x-s.rect.Min.X)*s.format.BytesPerPixel()
}

// SetDamage makes s record what it draws into d (nil: record nothing). A
// surface made by SubImage shares the damage list of the whole surface, so
// this sets that one.
func (s *Surface) SetDamage(d *Damage) { s.base().damage = d }

// Damage returns the damage list s records into, or nil.
func (s *Surface) Damage() *Damage { return s.base().damage }

// AddDamage records r (clipped to the surface) as changed, for writes made
// through Pix.
func (s *Surface) AddDamage(r image.Rectangle) { s.base().record(r.Intersect(s.rect)) }

// touch prepares r for drawing (see prepare) and records it as damage.
func (s *Surface) touch(r image.Rectangle, overwrite bool) {
	s.prepare(r, overwrite)
	s.record(r)
}

// prepare makes the pixels of r current before an operation reads or
// writes them: a double-buffered frame brings its buffer up to date lazily,
// so that a frame that starts by overwriting everything copies nothing.
// overwrite says the operation replaces every pixel of r without reading.
func (s *Surface) prepare(r image.Rectangle, overwrite bool) {
	if s.fb != nil && s.fb.deferred {
		s.fb.resolve(r, overwrite)
	}
}

func (s *Surface) record(r image.Rectangle) {
	if s.damage != nil {
		s.damage.Add(r)
	}
}

// Bounds implements image.Image: (0,0)-(Width,Height) for a whole surface,
// the part of the parent's coordinates it covers for one made by SubImage.
func (s *Surface) Bounds() image.Rectangle { return s.rect }

// ColorModel implements image.Image: the model of the surface's Format,
// whose colors are XRGB, ARGB or RGB565Pixel.
func (s *Surface) ColorModel() color.Model { return s.format.ColorModel() }

// At implements image.Image; it returns an XRGB, ARGB or RGB565Pixel, the
// type of ColorModel, and color.RGBA{} outside the bounds.
func (s *Surface) At(x, y int) color.Color {
	if !(image.Point{x, y}).In(s.rect) {
		return color.RGBA{}
	}
	m := s.base()
	m.prepare(s.rect, false)
	v := m.pixel(x, y)
	switch s.format {
	case XRGB8888:
		return XRGB(v)
	case ARGB8888:
		return ARGB(v)
	}
	return RGB565Pixel(v)
}

// RGBAAt returns the pixel at (x, y) as a premultiplied color.RGBA.
func (s *Surface) RGBAAt(x, y int) color.RGBA {
	if !(image.Point{x, y}).In(s.rect) {
		return color.RGBA{}
	}
	m := s.base()
	m.prepare(s.rect, false)
	return s.format.RGBA(m.pixel(x, y))
}

// RGBA64At implements image.RGBA64Image, which image/draw uses to read a
// surface without allocating.
func (s *Surface) RGBA64At(x, y int) color.RGBA64 {
	if !(image.Point{x, y}).In(s.rect) {
		return color.RGBA64{}
	}
	m := s.base()
	if m.fb != nil && m.fb.deferred {
		m.fb.resolve(s.rect, false)
	}
	var v uint32
	if s.format == RGB565 {
		v = m.pixel(x, y)
	} else {
		v = *(*uint32)(ptr(m.pix, m.offset(x, y)))
		if s.format == XRGB8888 {
			v |= 0xff000000
		}
		// Spread each byte to 16 bits: 0xAARRGGBB to 0xAAAARRRRGGGGBBBB.
		w := uint64(v)
		w = (w | w<<16) & 0x0000ffff0000ffff
		w = (w | w<<8) & 0x00ff00ff00ff00ff
		w *= 0x101
		return color.RGBA64{R: uint16(w >> 32), G: uint16(w >> 16), B: uint16(w), A: uint16(w >> 48)}
	}
	c := s.format.RGBA(v)
	return color.RGBA64{uint16(c.R) * 0x101, uint16(c.G) * 0x101, uint16(c.B) * 0x101, uint16(c.A) * 0x101}
}

// Set implements draw.Image: one pixel, converted by the surface's color
// model, recorded as damage.
func (s *Surface) Set(x, y int, c color.Color) {
	s.setRGBA(x, y, toRGBA(c))
}

// SetRGBA64 implements image/draw's RGBA64Image, the per-pixel path
// draw.Draw takes onto a Surface. Pixels written one after the other along
// rows are recorded as the rectangle they fill, so a whole draw.Draw leaves
// the same damage as the native operation.
func (s *Surface) SetRGBA64(x, y int, c color.RGBA64) {
	s.setRGBA(x, y, color.RGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)})
}

func (s *Surface) setRGBA(x, y int, c color.RGBA) {
	if !(image.Point{x, y}).In(s.rect) {
		return
	}
	m := s.base()
	if m.fb != nil && m.fb.deferred {
		m.fb.resolve(image.Rect(x, y, x+1, y+1), true)
	}
	if m.damage != nil {
		m.damage.addPoint(x, y)
	}
	if s.format == RGB565 {
		m.setPixel(x, y, s.format.Pixel(c))
		return
	}
	v := uint32(c.A)<<24 | uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B)
	if s.format == XRGB8888 {
		v |= 0xff000000
	}
	*(*uint32)(ptr(m.pix, m.offset(x, y))) = v
}

// offset returns the index of pixel (x, y) in the memory of a whole surface.
func (s *Surface) offset(x, y int) int { return y*s.stride + x*s.format.BytesPerPixel() }

// pixel reads the native value at an in-bounds (x, y).
func (s *Surface) pixel(x, y int) uint32 {
	i := y*s.stride + x*s.format.BytesPerPixel()
	if s.format == RGB565 {
		return uint32(s.pix[i]) | uint32(s.pix[i+1])<<8
	}
	p := s.pix[i : i+4]
	return uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
}

// setPixel writes the native value v at an in-bounds (x, y).
func (s *Surface) setPixel(x, y int, v uint32) {
	i := y*s.stride + x*s.format.BytesPerPixel()
	if s.format == RGB565 {
		s.pix[i], s.pix[i+1] = uint8(v), uint8(v>>8)
		return
	}
	p := s.pix[i : i+4]
	p[0], p[1], p[2], p[3] = uint8(v), uint8(v>>8), uint8(v>>16), uint8(v>>24)
}

// row returns the bytes of row y from column x0 to x1.
func (s *Surface) row(y, x0, x1 int) []byte {
	bpp := s.format.BytesPerPixel()
	o := y * s.stride
	return s.pix[o+x0*bpp : o+x1*bpp]
}

// words views b (a multiple of 4 bytes) as native 32-bit pixels.
func words(b []byte) []uint32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// halfwords views b (a multiple of 2 bytes) as native 16-bit pixels.
func halfwords(b []byte) []uint16 {
	if len(b) < 2 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
}

// unpremul unpacks 0xAARRGGBB into a (premultiplied) color.RGBA.
func unpremul(v uint32) color.RGBA {
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), uint8(v >> 24)}
}

// Clear fills the whole surface with c.
func (s *Surface) Clear(c color.RGBA) { s.FillRect(s.Bounds(), c) }

// ptr returns a pointer to the 4 bytes of b at o, bounds-checked.
func ptr(b []byte, o int) unsafe.Pointer { return unsafe.Pointer(&b[o : o+4][0]) }
