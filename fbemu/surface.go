package fbemu

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"unsafe"
)

// Surface is a rectangle of pixels in one Format with a line length (stride),
// the thing drawing operations write into. Inside a Framebuffer frame it
// covers the mapped buffer and is valid only until the frame ends; NewSurface
// makes one on ordinary memory for offscreen work and tests.
//
// Surface implements draw.Image; the methods FillRect, BlendRect, CopyArea,
// Blit and DrawText are the native fast paths. Every drawing method records
// the rectangle it changed in the surface's Damage, if it has one.
type Surface struct {
	pix    []byte
	stride int
	w, h   int
	format Format
	damage *Damage
	fb     *Framebuffer // set while a frame's catch-up copy is deferred
}

// NewSurface allocates a w x h surface of format f with a tight stride,
// cleared to zero. It records no damage until SetDamage is called.
func NewSurface(w, h int, f Format) *Surface {
	if !f.Valid() || w < 0 || h < 0 {
		panic(fmt.Sprintf("fbemu: NewSurface(%d, %d, %v)", w, h, f))
	}
	stride := w * f.BytesPerPixel()
	return &Surface{pix: make([]byte, stride*h), stride: stride, w: w, h: h, format: f}
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
	return nil
}

// invalidate drops the memory reference so a stale surface cannot write
// after its bracket ended; drawing on it then panics.
func (s *Surface) invalidate() { s.pix = nil }

// Format returns the pixel format.
func (s *Surface) Format() Format { return s.format }

// Stride returns the line length in bytes (fb_fix_screeninfo.line_length).
func (s *Surface) Stride() int { return s.stride }

// Width returns the width in pixels.
func (s *Surface) Width() int { return s.w }

// Height returns the height in pixels.
func (s *Surface) Height() int { return s.h }

// Pix returns the pixel memory: row y starts at y*Stride(). Inside a frame it
// is the mapped buffer and must not be kept after the frame; writes through
// it record no damage (call AddDamage).
func (s *Surface) Pix() []byte {
	s.prepare(s.Bounds(), false)
	return s.pix
}

// SetDamage makes s record what it draws into d (nil: record nothing).
func (s *Surface) SetDamage(d *Damage) { s.damage = d }

// Damage returns the damage list s records into, or nil.
func (s *Surface) Damage() *Damage { return s.damage }

// AddDamage records r as changed, for writes made through Pix.
func (s *Surface) AddDamage(r image.Rectangle) { s.record(r) }

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

// Bounds implements image.Image: (0,0)-(Width,Height).
func (s *Surface) Bounds() image.Rectangle { return image.Rect(0, 0, s.w, s.h) }

// ColorModel implements image.Image.
func (s *Surface) ColorModel() color.Model { return s.format.ColorModel() }

// At implements image.Image; it returns an XRGB, ARGB or RGB565Pixel.
func (s *Surface) At(x, y int) color.Color {
	if !(image.Point{x, y}).In(s.Bounds()) {
		return color.RGBA{}
	}
	s.prepare(s.Bounds(), false)
	v := s.pixel(x, y)
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
	if !(image.Point{x, y}).In(s.Bounds()) {
		return color.RGBA{}
	}
	s.prepare(s.Bounds(), false)
	return s.format.RGBA(s.pixel(x, y))
}

// Set implements draw.Image. It is the slow path: one pixel, one damage record.
func (s *Surface) Set(x, y int, c color.Color) {
	if !(image.Point{x, y}).In(s.Bounds()) {
		return
	}
	r := image.Rect(x, y, x+1, y+1)
	s.touch(r, true)
	s.setPixel(x, y, s.format.Pixel(toRGBA(c)))
}

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

// Draw is draw.Draw onto s with the surface's fast paths where they apply
// (a *Sprite source, a uniform source) and a generic per-pixel path
// otherwise; it records one damage rectangle.
func (s *Surface) Draw(r image.Rectangle, src image.Image, sp image.Point, op draw.Op) {
	switch src := src.(type) {
	case *Sprite:
		s.Blit(r, src, sp, op)
		return
	case *image.Uniform:
		c := toRGBA(src.C)
		if op == draw.Src || c.A == 0xff {
			s.FillRect(r, c)
		} else {
			s.BlendRect(r, c)
		}
		return
	}
	// Clip r to s and to src, moving sp along.
	orig := r.Min
	r = r.Intersect(s.Bounds())
	r = r.Intersect(src.Bounds().Add(orig.Sub(sp)))
	if r.Empty() {
		return
	}
	sp = sp.Add(r.Min.Sub(orig))
	s.touch(r, false)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := premul(toRGBA(src.At(sp.X+x-r.Min.X, sp.Y+y-r.Min.Y)))
			if op == draw.Over && c>>24 != 0xff {
				c = over(c, premul(s.format.RGBA(s.pixel(x, y))))
			}
			s.setPixel(x, y, s.format.Pixel(unpremul(c)))
		}
	}
}

// unpremul unpacks 0xAARRGGBB into a (premultiplied) color.RGBA.
func unpremul(v uint32) color.RGBA {
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), uint8(v >> 24)}
}

// Clear fills the whole surface with c.
func (s *Surface) Clear(c color.RGBA) { s.FillRect(s.Bounds(), c) }

// ptr returns a pointer to the 4 bytes of b at o, bounds-checked.
func ptr(b []byte, o int) unsafe.Pointer { return unsafe.Pointer(&b[o : o+4][0]) }
