package fbemu

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// drawEntry is one way a program can draw onto a Surface.
type drawEntry struct {
	name string
	// exact: the pixels equal the native operation's. image/draw's
	// per-pixel path blends and premultiplies in 16 bits and truncates, so
	// it may differ by one step where it blends or premultiplies.
	exact bool
	draw  func(dst *Surface, r image.Rectangle, src image.Image, sp image.Point, op draw.Op)
}

var drawEntries = []drawEntry{
	{"fbemu.Draw", true, func(dst *Surface, r image.Rectangle, src image.Image, sp image.Point, op draw.Op) {
		Draw(dst, r, src, sp, op)
	}},
	{"Surface.Draw", true, (*Surface).Draw},
	{"Op.Draw", true, func(dst *Surface, r image.Rectangle, src image.Image, sp image.Point, op draw.Op) {
		var d draw.Drawer = Op(op)
		d.Draw(dst, r, src, sp)
	}},
	{"draw.Draw", false, func(dst *Surface, r image.Rectangle, src image.Image, sp image.Point, op draw.Op) {
		draw.Draw(dst, r, src, sp, op)
	}},
}

// drawSource is a source image with the native operation that draws it.
type drawSource struct {
	name string
	img  image.Image
	// blends says image/draw's result may be a step off the native one
	// for op (premultiplying or compositing in 16 bits).
	blends func(op draw.Op) bool
	native func(dst *Surface, r image.Rectangle, sp image.Point, op draw.Op)
}

// testPicture is a w x h picture at (3,5) with every alpha from 0 to 0xff
// (translucent) or opaque, in premultiplied or straight alpha.
func testPicture(w, h int, translucent, straight bool) image.Image {
	r := image.Rect(3, 5, 3+w, 5+h)
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	c := func(x, y int) color.NRGBA {
		a := uint8(0xff)
		if translucent {
			a = []uint8{0, 0xff, uint8(rng.IntN(256))}[(x+y)%3]
		}
		return color.NRGBA{uint8(rng.IntN(256)), uint8(x * 23), uint8(y * 41), a}
	}
	if straight {
		img := image.NewNRGBA(r)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				img.SetNRGBA(x, y, c(x, y))
			}
		}
		return img
	}
	img := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Set(x, y, c(x, y))
		}
	}
	return img
}

func drawSources(f Format) []drawSource {
	var srcs []drawSource
	for _, c := range []color.RGBA{{0x10, 0x80, 0xf0, 0xff}, {0x10, 0x40, 0x30, 0x80}} {
		srcs = append(srcs, drawSource{
			name:   fmt.Sprintf("Uniform%v", c),
			img:    image.NewUniform(c),
			blends: func(op draw.Op) bool { return op == draw.Over && c.A != 0xff },
			native: func(dst *Surface, r image.Rectangle, _ image.Point, op draw.Op) {
				if op == draw.Src {
					dst.FillRect(r, c)
				} else {
					dst.BlendRect(r, c)
				}
			},
		})
	}
	pictures := []struct {
		name                  string
		translucent, straight bool
	}{{"RGBA", false, false}, {"RGBA-alpha", true, false}, {"NRGBA", false, true}, {"NRGBA-alpha", true, true}}
	for _, p := range pictures {
		img := testPicture(37, 23, p.translucent, p.straight)
		sp := NewSprite(img, f)
		srcs = append(srcs, drawSource{
			name:   p.name,
			img:    img,
			blends: func(op draw.Op) bool { return p.translucent && (op == draw.Over || p.straight) },
			native: func(dst *Surface, r image.Rectangle, p image.Point, op draw.Op) {
				dst.Blit(r, sp, p.Sub(img.Bounds().Min), op)
			},
		})
	}
	sprite := NewSprite(testPicture(37, 23, true, false), f)
	srcs = append(srcs, drawSource{
		name:   "Sprite",
		img:    sprite,
		blends: func(op draw.Op) bool { return op == draw.Over },
		native: func(dst *Surface, r image.Rectangle, p image.Point, op draw.Op) { dst.Blit(r, sprite, p, op) },
	})
	for _, sf := range Formats() {
		s := NewSurface(40, 30, sf)
		s.Blit(s.Bounds(), NewSprite(testPicture(40, 30, true, false), sf), image.Point{}, draw.Src)
		sub := s.Sub(image.Rect(2, 3, 39, 26))
		native := NewSprite(sub, f) // through At, the generic conversion
		srcs = append(srcs, drawSource{
			name:   "Surface-" + sf.String(),
			img:    sub,
			blends: func(op draw.Op) bool { return op == draw.Over && sf == ARGB8888 },
			native: func(dst *Surface, r image.Rectangle, p image.Point, op draw.Op) {
				dst.Blit(r, native, p.Sub(sub.Bounds().Min), op)
			},
		})
	}
	return srcs
}

// TestDrawMatchesNative draws every source with every entry onto every
// format, clipped in various ways, and checks the pixels and the damage
// against the native operation.
func TestDrawMatchesNative(t *testing.T) {
	rects := []struct {
		r  image.Rectangle
		sp image.Point
	}{
		{image.Rect(0, 0, 30, 20), image.Pt(3, 5)},
		{image.Rect(-4, -2, 50, 40), image.Pt(1, 2)},  // clipped by both
		{image.Rect(10, 7, 35, 28), image.Pt(10, 11)}, // in the middle
		{image.Rect(0, 0, 1, 1), image.Pt(4, 6)},
		{image.Rect(40, 0, 50, 5), image.Pt(3, 5)}, // outside
	}
	prior := image.Rect(20, 20, 24, 24)
	for _, f := range Formats() {
		for _, src := range drawSources(f) {
			for _, op := range []draw.Op{draw.Src, draw.Over} {
				for _, rc := range rects {
					want := newTestDst(f)
					want.Damage().Add(prior)
					src.native(want, rc.r, rc.sp, op)
					for _, e := range drawEntries {
						what := fmt.Sprintf("%v %s %s %s(%v, sp %v)", f, src.name, opName(op), e.name, rc.r, rc.sp)
						got := newTestDst(f)
						got.Damage().Add(prior)
						e.draw(got, rc.r, src.img, rc.sp, op)
						tol := 0
						if !e.exact && src.blends(op) {
							tol = 1
						}
						equalPixTol(t, what, got, want, tol)
						if g, w := got.Damage().Rects(), want.Damage().Rects(); !slices.Equal(g, w) {
							t.Errorf("%s: damage %v, want %v", what, g, w)
						}
					}
				}
			}
		}
	}
}

func opName(op draw.Op) string {
	if op == draw.Src {
		return "Src"
	}
	return "Over"
}

// newTestDst is a 32x24 surface with a pattern and a damage list.
func newTestDst(f Format) *Surface {
	s := NewSurface(32, 24, f)
	for y := 0; y < 24; y++ {
		for x := 0; x < 32; x++ {
			s.setPixel(x, y, f.Pixel(color.RGBA{uint8(x * 8), uint8(y * 10), 0x60, 0xff}))
		}
	}
	s.SetDamage(NewDamage(s.Bounds()))
	return s
}

func equalPixTol(t *testing.T, what string, got, want *Surface, tol int) {
	t.Helper()
	for y := 0; y < got.Height(); y++ {
		for x := 0; x < got.Width(); x++ {
			g, w := got.RGBAAt(x, y), want.RGBAAt(x, y)
			if tol == 0 && got.pixel(x, y) != want.pixel(x, y) || !near(g, w, tol*steps(got.format)) {
				t.Fatalf("%s: pixel (%d,%d) = %v, want %v", what, x, y, g, w)
			}
		}
	}
}

// steps is the size of one step of a channel of f in 8-bit terms (5 bits
// expand to steps of 8 or 9).
func steps(f Format) int {
	if f == RGB565 {
		return 9
	}
	return 1
}

// TestDrawSurfaceOverlap draws parts of one surface onto overlapping parts
// of itself in every direction: the result is as if the source had been
// copied out first.
func TestDrawSurfaceOverlap(t *testing.T) {
	moves := []image.Point{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {3, 2}, {-3, -2}, {2, -3}, {-2, 3}, {0, 0}, {300, 1}, {-300, 0}}
	for _, f := range Formats() {
		for _, op := range []draw.Op{draw.Src, draw.Over} {
			for _, mv := range moves {
				s := NewSurface(700, 9, f)
				s.Blit(s.Bounds(), NewSprite(testPicture(700, 9, true, false), f), image.Point{}, draw.Src)
				ref := NewSurface(700, 9, f)
				copy(ref.pix, s.pix)
				srcR := image.Rect(5, 2, 650, 7)
				dr := srcR.Add(mv)
				// The reference reads from a copy.
				cp := NewSurface(700, 9, f)
				copy(cp.pix, s.pix)
				ref.Draw(dr, cp.Sub(srcR), srcR.Min, op)
				s.Draw(dr, s.Sub(srcR), srcR.Min, op)
				equalPix(t, fmt.Sprintf("%v %s move %v", f, opName(op), mv), s, ref)
			}
		}
	}
}

func TestSubImage(t *testing.T) {
	for _, f := range Formats() {
		s := NewSurface(8, 6, f)
		d := NewDamage(s.Bounds())
		s.SetDamage(d)
		var img image.Image = s.SubImage(image.Rect(2, 1, 12, 4))
		sub, ok := img.(*Surface)
		if !ok {
			t.Fatalf("SubImage returns %T", img)
		}
		if sub.Bounds() != image.Rect(2, 1, 8, 4) || sub.Width() != 6 || sub.Height() != 3 {
			t.Fatalf("sub bounds %v %dx%d", sub.Bounds(), sub.Width(), sub.Height())
		}
		if sub.Damage() != d {
			t.Errorf("%v: sub records into %p, want the parent's %p", f, sub.Damage(), d)
		}
		sub.FillRect(image.Rect(0, 0, 100, 100), white) // clipped to the sub
		sub.Set(0, 0, red)                              // outside the sub: nothing
		sub.Sub(image.Rect(6, 2, 8, 3)).Set(7, 2, red)  // a sub of a sub
		got := ascii(s)
		want := "........\n..######\n..#####R\n..######\n........\n........\n"
		if got != want {
			t.Errorf("%v: after drawing on the sub:\n%s\nwant\n%s", f, got, want)
		}
		if g, w := d.Rects(), []image.Rectangle{image.Rect(2, 1, 8, 4)}; !slices.Equal(g, w) {
			t.Errorf("%v: damage %v, want %v", f, g, w)
		}
		if c := sub.RGBAAt(7, 2); c != red {
			t.Errorf("%v: sub.RGBAAt(7, 2) = %v, in the parent's coordinates", f, c)
		}
		if c := sub.RGBAAt(1, 1); c != (color.RGBA{}) {
			t.Errorf("%v: sub.RGBAAt outside = %v", f, c)
		}
		// Pix starts at the sub's top-left pixel.
		pix, o := sub.Pix(), sub.PixOffset(7, 2)
		bpp := f.BytesPerPixel()
		if v := s.pix[s.offset(7, 2):]; string(pix[o:o+bpp]) != string(v[:bpp]) || o != 1*s.Stride()+5*bpp {
			t.Errorf("%v: Pix/PixOffset of the sub disagree with the parent (offset %d)", f, o)
		}
		if e := s.Sub(image.Rect(20, 20, 30, 30)); !e.Bounds().Empty() || e.Pix() != nil {
			t.Errorf("%v: a sub outside the surface is %v", f, e.Bounds())
		}
	}
}

// TestSubImageInFrame draws on a part of a frame's surface: the display
// gets that part as damage, in the frame's coordinates, and a part kept
// after the frame cannot draw.
func TestSubImageInFrame(t *testing.T) {
	e := newEmu(t, 16, 8, XRGB8888, EmulatedOptions{})
	frame(t, e.Framebuffer, func(s *Surface) { s.Clear(black) })
	var kept *Surface
	frame(t, e.Framebuffer, func(s *Surface) {
		kept = s.Sub(image.Rect(4, 2, 12, 6))
		draw.Draw(kept, image.Rect(0, 0, 16, 8), image.NewUniform(white), image.Point{}, draw.Src)
		Draw(kept, image.Rect(5, 3, 7, 4), image.NewUniform(red), image.Point{}, draw.Src)
	})
	if got, want := e.LastPresent().Clips(), []image.Rectangle{image.Rect(4, 2, 12, 6)}; !slices.Equal(got, want) {
		t.Errorf("frame damage %v, want %v", got, want)
	}
	want := "................\n................\n....########....\n....#RR#####....\n....########....\n....########....\n................\n................\n"
	if got := asciiRGBA(snap(t, e)); got != want {
		t.Errorf("frame:\n%s\nwant\n%s", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("a part of a frame's surface drew after the frame")
		}
	}()
	kept.FillRect(kept.Bounds(), red)
}

// TestColorModelAllFormats checks At, Set, RGBA64At and SetRGBA64 against
// the color model in every format.
func TestColorModelAllFormats(t *testing.T) {
	colors := []color.Color{
		color.RGBA{0x12, 0x34, 0x56, 0xff}, color.NRGBA{0xff, 0x80, 0x00, 0x80},
		color.Gray{0x7f}, color.RGBA64{0x1234, 0x5678, 0x9abc, 0xffff}, color.Transparent,
		XRGB(0x00a0b0c0), ARGB(0x80402010), RGB565Pixel(0xf81f),
	}
	for _, f := range Formats() {
		s := NewSurface(2, 1, f)
		m := s.ColorModel()
		for _, c := range colors {
			s.Set(1, 0, c)
			want := m.Convert(c)
			got := s.At(1, 0)
			if reflect.TypeOf(got) != reflect.TypeOf(want) || !sameColor(got, want) {
				t.Errorf("%v: Set(%#v) then At = %#v, want the model's %#v", f, c, got, want)
			}
			if !sameColor(m.Convert(got), got) {
				t.Errorf("%v: the model changes its own color %#v", f, got)
			}
			r, g, b, a := got.RGBA()
			if c64 := s.RGBA64At(1, 0); c64 != (color.RGBA64{uint16(r), uint16(g), uint16(b), uint16(a)}) {
				t.Errorf("%v: RGBA64At = %v, At says %v", f, c64, got)
			}
			s.SetRGBA64(0, 0, color.RGBA64{uint16(r), uint16(g), uint16(b), uint16(a)})
			if s.pixel(0, 0) != s.pixel(1, 0) {
				t.Errorf("%v: SetRGBA64 of %v wrote %#x, Set %#x", f, got, s.pixel(0, 0), s.pixel(1, 0))
			}
		}
		if f != ARGB8888 {
			s.Set(0, 0, color.NRGBA{0xff, 0xff, 0xff, 0x80})
			if _, _, _, a := s.At(0, 0).RGBA(); a != 0xffff {
				t.Errorf("%v: a translucent color reads back with alpha %#x", f, a)
			}
		}
	}
}

func sameColor(a, b color.Color) bool {
	r0, g0, b0, a0 := a.RGBA()
	r1, g1, b1, a1 := b.RGBA()
	return r0 == r1 && g0 == g1 && b0 == b1 && a0 == a1
}

// TestDamageOfPixels checks that pixels drawn one by one are recorded as
// the rectangles they make, and that every pixel is covered whatever the
// order.
func TestDamageOfPixels(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(2, 3, 9, 7), image.Rect(0, 0, 1, 5), image.Rect(4, 4, 20, 5), image.Rect(0, 0, 30, 20)} {
		d := NewDamage(image.Rect(0, 0, 30, 20))
		d.Add(image.Rect(25, 0, 30, 2))
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				d.addPoint(x, y)
			}
		}
		want := NewDamage(image.Rect(0, 0, 30, 20))
		want.Add(image.Rect(25, 0, 30, 2))
		want.Add(r)
		if !slices.Equal(d.Rects(), want.Rects()) {
			t.Errorf("pixels of %v recorded as %v, want %v", r, d.Rects(), want.Rects())
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 200; i++ {
		d := NewDamage(image.Rect(0, 0, 16, 16))
		var pts []image.Point
		for j := rng.IntN(60); j >= 0; j-- {
			p := image.Pt(rng.IntN(18)-1, rng.IntN(18)-1)
			if rng.IntN(2) == 0 && len(pts) > 0 { // often continue a run
				p = pts[len(pts)-1].Add(image.Pt(1, 0))
			}
			pts = append(pts, p)
			d.addPoint(p.X, p.Y)
		}
		for _, p := range pts {
			covered := false
			for _, r := range d.Rects() {
				covered = covered || p.In(r)
			}
			if !covered && p.In(d.Bounds()) {
				t.Fatalf("pixel %v not in the damage %v", p, d.Rects())
			}
		}
		for _, r := range d.Rects() {
			if !r.In(d.Bounds()) {
				t.Fatalf("damage %v outside the bounds", r)
			}
		}
	}
}
