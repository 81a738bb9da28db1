package fbemu

import (
	"image"
	"image/color"
)

// fillChunk is the size of the pattern FillRect copies along a contiguous
// run: small enough to stay in the L1 data cache.
const fillChunk = 16 << 10

// FillRect sets every pixel of r (clipped to the surface) to c, like
// fbdev's fillrect with ROP_COPY. It fills one row and copies it down.
func (s *Surface) FillRect(r image.Rectangle, c color.RGBA) {
	r = r.Intersect(s.rect)
	if r.Empty() {
		return
	}
	s.base().fill(r, c)
}

// fill is FillRect on a whole surface, r already clipped.
func (s *Surface) fill(r image.Rectangle, c color.RGBA) {
	s.touch(r, true)
	v := s.format.Pixel(c)
	first := s.row(r.Min.Y, r.Min.X, r.Max.X)
	if s.format == RGB565 {
		row := halfwords(first)
		for i := range row {
			row[i] = uint16(v)
		}
	} else {
		row := words(first)
		for i := range row {
			row[i] = v
		}
	}
	n := len(first)
	if r.Dx() == s.w && s.stride == n && n < fillChunk {
		// Whole rows of a tight surface are one run: grow the filled
		// prefix to a chunk that stays in the L1 cache, then copy that
		// chunk along the run, so the copies read hot memory and only
		// the writes go out.
		run := s.pix[r.Min.Y*s.stride : r.Max.Y*s.stride]
		chunk := min(len(run), fillChunk/n*n)
		for done := n; done < chunk; done *= 2 {
			copy(run[done:chunk], run[:done])
		}
		for o := chunk; o < len(run); o += chunk {
			copy(run[o:], run[:chunk])
		}
		return
	}
	o := r.Min.Y*s.stride + r.Min.X*s.format.BytesPerPixel()
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		o += s.stride
		copy(s.pix[o:o+n], first)
	}
}

// BlendRect composites the premultiplied color c over every pixel of r
// (clipped). An opaque c is a FillRect.
func (s *Surface) BlendRect(r image.Rectangle, c color.RGBA) {
	if c.A == 0xff {
		s.FillRect(r, c)
		return
	}
	r = r.Intersect(s.rect)
	if r.Empty() || c.A == 0 && c.R|c.G|c.B == 0 {
		return
	}
	m := s.base()
	m.touch(r, false)
	src := premul(c)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		m.overRow(y, r.Min.X, r.Max.X, src)
	}
}

// overRow composites one premultiplied color over a row span of a whole
// surface.
func (s *Surface) overRow(y, x0, x1 int, src uint32) {
	b := s.row(y, x0, x1)
	switch s.format {
	case XRGB8888, ARGB8888:
		px := words(b)
		for i, d := range px {
			px[i] = over(src, d)
		}
	default:
		for x := x0; x < x1; x++ {
			d := premul(s.format.RGBA(s.pixel(x, y)))
			s.setPixel(x, y, s.format.Pixel(unpremul(over(src, d))))
		}
	}
}

// CopyArea copies the rectangle of the same size as dr at sp to dr, within
// the surface, like fbdev's copyarea. Source and destination may overlap in
// any direction; both are clipped to the surface.
func (s *Surface) CopyArea(dr image.Rectangle, sp image.Point) {
	b := s.rect
	// Clip the destination, then the source, keeping them aligned.
	d := dr.Intersect(b)
	sp = sp.Add(d.Min.Sub(dr.Min))
	src := image.Rectangle{sp, sp.Add(d.Size())}.Intersect(b)
	d = image.Rectangle{d.Min.Add(src.Min.Sub(sp)), d.Min.Add(src.Max.Sub(sp))}
	sp = src.Min
	if d.Empty() {
		return
	}
	s = s.base()
	s.prepare(b, false) // reads the source area too
	s.record(d)
	if d.Min == sp {
		return
	}
	s.copyRows(d, sp)
}

// copyRows copies the rectangle of the same size as d at sp to d within
// a whole surface (both already clipped), in the order an overlap needs.
func (s *Surface) copyRows(d image.Rectangle, sp image.Point) {
	bpp := s.format.BytesPerPixel()
	n := d.Dx() * bpp
	do := d.Min.Y*s.stride + d.Min.X*bpp
	so := sp.Y*s.stride + sp.X*bpp
	if n == s.stride {
		// Whole rows of a tight surface: one memmove, which handles the
		// overlap in either direction.
		size := d.Dy() * s.stride
		copy(s.pix[do:do+size], s.pix[so:so+size])
		return
	}
	if sp.Y < d.Min.Y {
		// Moving down: walk bottom-up so rows are read before they are
		// overwritten. copy() itself handles overlap within a row.
		off := (d.Dy() - 1) * s.stride
		for y := d.Dy() - 1; y >= 0; y-- {
			copy(s.pix[do+off:do+off+n], s.pix[so+off:so+off+n])
			off -= s.stride
		}
		return
	}
	for y := 0; y < d.Dy(); y++ {
		copy(s.pix[do:do+n], s.pix[so:so+n])
		do += s.stride
		so += s.stride
	}
}
