package fbemu

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/internal/testutil"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

var (
	red   = color.RGBA{0xff, 0, 0, 0xff}
	green = color.RGBA{0, 0xff, 0, 0xff}
	blue  = color.RGBA{0, 0, 0xff, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
	black = color.RGBA{0, 0, 0, 0xff}
)

// ascii renders s with one character per pixel: '.' for black, '#' for
// white, 'R', 'G', 'B' for the primaries, '+' for anything else.
func ascii(s *Surface) string {
	var b strings.Builder
	for y := 0; y < s.Height(); y++ {
		for x := 0; x < s.Width(); x++ {
			switch s.RGBAAt(x, y) {
			case black, color.RGBA{}:
				b.WriteByte('.')
			case white:
				b.WriteByte('#')
			case red:
				b.WriteByte('R')
			case green:
				b.WriteByte('G')
			case blue:
				b.WriteByte('B')
			default:
				b.WriteByte('+')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// naiveFill is the reference fill: per pixel, with explicit bounds checks.
func naiveFill(s *Surface, r image.Rectangle, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if x >= 0 && y >= 0 && x < s.Width() && y < s.Height() {
				s.setPixel(x, y, s.format.Pixel(c))
			}
		}
	}
}

func equalPix(t *testing.T, what string, got, want *Surface) {
	t.Helper()
	for y := 0; y < got.Height(); y++ {
		for x := 0; x < got.Width(); x++ {
			if g, w := got.pixel(x, y), want.pixel(x, y); g != w {
				t.Fatalf("%s: pixel (%d,%d) = %#x, want %#x", what, x, y, g, w)
			}
		}
	}
}

// paddedSurface has a stride wider than its width, with the padding filled
// with a canary so writes past a row show up.
func paddedSurface(w, h int, f Format) *Surface {
	stride := (w + 3) * f.BytesPerPixel()
	pix := make([]byte, stride*h)
	for i := range pix {
		pix[i] = 0xa5
	}
	s, err := NewSurfaceOn(pix, w, h, stride, f)
	if err != nil {
		panic(err)
	}
	naiveFill(s, s.Bounds(), black)
	return s
}

func checkPadding(t *testing.T, s *Surface) {
	t.Helper()
	bpp := s.format.BytesPerPixel()
	for y := 0; y < s.Height(); y++ {
		for i := s.Width() * bpp; i < s.Stride(); i++ {
			if s.pix[y*s.Stride()+i] != 0xa5 {
				t.Fatalf("row %d padding byte %d overwritten", y, i)
			}
		}
	}
}

func TestFillRectEdges(t *testing.T) {
	rects := []image.Rectangle{
		image.Rect(0, 0, 1, 1), image.Rect(6, 4, 7, 5), // 1-px corners
		image.Rect(-3, -2, 2, 2), image.Rect(5, 3, 20, 20), // clipped
		image.Rect(-10, -10, 100, 100), // covers all
		image.Rect(2, 1, 2, 4),         // empty
		image.Rect(-5, 1, -1, 3),       // fully outside
		image.Rect(0, 2, 7, 3),         // one full row
		image.Rect(3, 0, 4, 5),         // one column
		image.Rect(0, 1, 7, 4),         // full rows (contiguous path)
	}
	for _, f := range Formats() {
		for _, r := range rects {
			for _, padded := range []bool{false, true} {
				var got, want *Surface
				if padded {
					got, want = paddedSurface(7, 5, f), paddedSurface(7, 5, f)
				} else {
					got, want = NewSurface(7, 5, f), NewSurface(7, 5, f)
				}
				got.FillRect(r, red)
				naiveFill(want, r, red)
				equalPix(t, fmt.Sprintf("%v FillRect(%v) padded=%v", f, r, padded), got, want)
				if padded {
					checkPadding(t, got)
				}
			}
		}
	}
}

// TestFillRectLargeContiguous covers the chunked path for whole rows of a
// surface bigger than the chunk.
func TestFillRectLargeContiguous(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 3, 1000, 37), image.Rect(-1, -1, 2000, 50)} {
		got, want := NewSurface(1000, 40, XRGB8888), NewSurface(1000, 40, XRGB8888)
		got.FillRect(r, green)
		naiveFill(want, r, green)
		equalPix(t, fmt.Sprint("FillRect ", r), got, want)
	}
}

func TestFillRectPixelValues(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		c    color.RGBA
		want []byte
	}{
		{XRGB8888, color.RGBA{0x11, 0x22, 0x33, 0xff}, []byte{0x33, 0x22, 0x11, 0xff}},
		{ARGB8888, color.RGBA{0x11, 0x22, 0x33, 0x44}, []byte{0x33, 0x22, 0x11, 0x44}},
		{RGB565, color.RGBA{0xff, 0x00, 0xff, 0xff}, []byte{0x1f, 0xf8}},
		{RGB565, color.RGBA{0x00, 0xff, 0x00, 0xff}, []byte{0xe0, 0x07}},
	} {
		s := NewSurface(2, 1, tc.f)
		s.FillRect(image.Rect(1, 0, 2, 1), tc.c)
		bpp := tc.f.BytesPerPixel()
		if got := s.pix[bpp:]; string(got) != string(tc.want) {
			t.Errorf("%v %v: bytes % x, want % x", tc.f, tc.c, got, tc.want)
		}
		for _, b := range s.pix[:bpp] {
			if b != 0 {
				t.Errorf("%v: pixel 0 written", tc.f)
			}
		}
	}
}

func TestCopyAreaOverlapBothDirections(t *testing.T) {
	const w, h = 9, 7
	moves := []image.Point{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {2, 3}, {-2, -3}, {3, -2}, {-3, 2}, {0, 0}}
	for _, f := range Formats() {
		for _, mv := range moves {
			for _, dr := range []image.Rectangle{
				image.Rect(2, 2, 7, 5), image.Rect(0, 0, w, h), image.Rect(-2, -1, 4, 3),
				image.Rect(4, 4, 5, 5), image.Rect(6, 1, 12, 9),
			} {
				s := NewSurface(w, h, f)
				rng := rand.New(rand.NewPCG(1, uint64(mv.X+10*mv.Y)))
				for y := 0; y < h; y++ {
					for x := 0; x < w; x++ {
						s.setPixel(x, y, s.format.Pixel(color.RGBA{uint8(rng.IntN(256)), uint8(x * 20), uint8(y * 30), 0xff}))
					}
				}
				orig := NewSurface(w, h, f)
				copy(orig.pix, s.pix)
				sp := dr.Min.Sub(mv)
				s.CopyArea(dr, sp)
				for y := 0; y < h; y++ {
					for x := 0; x < w; x++ {
						sx, sy := x-mv.X, y-mv.Y
						want := orig.pixel(x, y)
						inDst := (image.Point{x, y}).In(dr)
						if inDst && (image.Point{sx, sy}).In(orig.Bounds()) {
							want = orig.pixel(sx, sy)
						}
						if got := s.pixel(x, y); got != want {
							t.Fatalf("%v CopyArea(%v, %v): (%d,%d) = %#x, want %#x", f, dr, sp, x, y, got, want)
						}
					}
				}
			}
		}
	}
}

func TestCopyAreaDamageIsClippedDestination(t *testing.T) {
	s := NewSurface(10, 10, XRGB8888)
	d := NewDamage(s.Bounds())
	s.SetDamage(d)
	s.CopyArea(image.Rect(7, 7, 12, 12), image.Pt(-2, 0))
	// Destination clipped to (7,7)-(10,10); the source starts off-surface
	// at x=-2, so its first two columns are dropped: (9,7)-(10,10).
	want := []image.Rectangle{image.Rect(9, 7, 10, 10)}
	if got := d.Rects(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("damage %v, want %v", got, want)
	}
}

func TestBlendRectRounding(t *testing.T) {
	half := color.RGBA{0x80, 0x80, 0x80, 0x80} // 50% white, premultiplied
	for _, tc := range []struct {
		dst, want color.RGBA
	}{
		{black, color.RGBA{0x80, 0x80, 0x80, 0xff}},
		{white, white},
		{red, color.RGBA{0xff, 0x80, 0x80, 0xff}},
	} {
		s := NewSurface(3, 3, XRGB8888)
		s.FillRect(s.Bounds(), tc.dst)
		s.BlendRect(image.Rect(1, 1, 2, 2), half)
		if got := s.RGBAAt(1, 1); got != tc.want {
			t.Errorf("50%% white over %v = %v, want %v", tc.dst, got, tc.want)
		}
		if got := s.RGBAAt(0, 0); got != tc.dst {
			t.Errorf("pixel outside the rect changed to %v", got)
		}
	}
}

// TestOverMatchesExactFormula checks the two-channels-per-multiply blend
// against the definition for every alpha and destination value.
func TestOverMatchesExactFormula(t *testing.T) {
	for a := uint32(0); a < 256; a++ {
		for d := uint32(0); d < 256; d++ {
			c := a * 3 / 4 // any premultiplied channel <= a
			s := a<<24 | c<<16 | c<<8 | c
			dst := d<<24 | d<<16 | (255-d)<<8 | d
			got := over(s, dst)
			exact := func(sc, dc uint32) uint32 { return sc + (dc*(255-a)+127)/255 }
			want := exact(a, d)<<24 | exact(c, d)<<16 | exact(c, 255-d)<<8 | exact(c, d)
			if got != want {
				t.Fatalf("over(%#08x, %#08x) = %#08x, want %#08x", s, dst, got, want)
			}
			if sc := scale(dst, a); sc != (d*a+127)/255<<24|(d*a+127)/255<<16|((255-d)*a+127)/255<<8|(d*a+127)/255 {
				t.Fatalf("scale(%#08x, %d) = %#08x", dst, a, sc)
			}
		}
	}
}

func TestBlitSrcOverClipping(t *testing.T) {
	// A 3x2 sprite: opaque red, transparent, 50% blue / opaque green row.
	src := image.NewRGBA(image.Rect(10, 20, 13, 22))
	src.SetRGBA(10, 20, red)
	src.SetRGBA(12, 20, color.RGBA{0, 0, 0x80, 0x80})
	src.SetRGBA(10, 21, green)
	src.SetRGBA(11, 21, green)
	src.SetRGBA(12, 21, green)
	for _, f := range Formats() {
		sp := NewSprite(src, f)
		if sp.Opaque() {
			t.Fatal("sprite with transparent pixels reported opaque")
		}
		for _, op := range []draw.Op{draw.Src, draw.Over} {
			for _, dp := range []image.Point{{0, 0}, {-1, -1}, {3, 2}, {-3, 0}, {1, 3}} {
				got := NewSurface(4, 4, f)
				got.FillRect(got.Bounds(), white)
				ref := image.NewRGBA(image.Rect(0, 0, 4, 4))
				draw.Draw(ref, ref.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
				dr := image.Rectangle{dp, dp.Add(image.Pt(3, 2))}
				got.Blit(dr, sp, image.Point{}, op)
				draw.Draw(ref, dr, src, src.Bounds().Min, op)
				for y := 0; y < 4; y++ {
					for x := 0; x < 4; x++ {
						w := ref.RGBAAt(x, y)
						if f != ARGB8888 {
							w = f.RGBA(f.Pixel(color.RGBA{w.R, w.G, w.B, 0xff}))
						}
						if g := got.RGBAAt(x, y); !near(g, w, 1) {
							t.Fatalf("%v op %v at %v: (%d,%d) = %v, want %v", f, op, dp, x, y, g, w)
						}
					}
				}
			}
		}
	}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func TestBlitOpaqueIsExactCopy(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 37)
	}
	for i := 3; i < len(src.Pix); i += 4 {
		src.Pix[i] = 0xff
	}
	sp := NewSprite(src, XRGB8888)
	if !sp.Opaque() {
		t.Fatal("opaque sprite not detected")
	}
	s := NewSurface(5, 3, XRGB8888)
	s.Blit(s.Bounds(), sp, image.Point{}, draw.Over)
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			if g, w := s.RGBAAt(x, y), src.RGBAAt(x, y); g != w {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

func TestSurfaceIsDrawImage(t *testing.T) {
	var _ draw.Image = NewSurface(1, 1, XRGB8888)
	s := NewSurface(4, 3, XRGB8888)
	d := NewDamage(s.Bounds())
	s.SetDamage(d)
	// image/draw's generic path goes through At and Set.
	draw.Draw(s, image.Rect(1, 1, 3, 2), image.NewUniform(red), image.Point{}, draw.Src)
	if got := ascii(s); got != "....\n.RR.\n....\n" {
		t.Errorf("draw.Draw onto Surface:\n%s", got)
	}
	if got := d.Rects(); len(got) != 1 || got[0] != image.Rect(1, 1, 3, 2) {
		t.Errorf("damage %v", got)
	}
	if _, ok := s.At(0, 0).(XRGB); !ok {
		t.Errorf("At returns %T, want XRGB", s.At(0, 0))
	}
}

func TestNewSurfaceOnRejectsShortMemory(t *testing.T) {
	if _, err := NewSurfaceOn(make([]byte, 4*10*2-1), 10, 2, 40, XRGB8888); err == nil {
		t.Error("short buffer accepted")
	}
	if _, err := NewSurfaceOn(make([]byte, 100), 10, 2, 38, XRGB8888); err == nil {
		t.Error("stride not a multiple of the pixel size accepted")
	}
	if _, err := NewSurfaceOn(make([]byte, 40+36), 10, 2, 40, XRGB8888); err == nil {
		t.Error("last row shorter than a row accepted")
	}
}

func TestFormatFourCCRoundTrip(t *testing.T) {
	for _, f := range Formats() {
		g, err := FormatOf(f.FourCC())
		if err != nil || g != f {
			t.Errorf("FormatOf(%v.FourCC()) = %v, %v", f, g, err)
		}
	}
	if _, err := FormatOf(0x12345678); err == nil {
		t.Error("unknown fourcc accepted")
	}
	if f, err := ChooseFormat([]client.Format{RGB565.FourCC(), XRGB8888.FourCC()}); err != nil || f != XRGB8888 {
		t.Errorf("ChooseFormat = %v, %v", f, err)
	}
}

func ExampleSurface_CopyArea() {
	s := NewSurface(8, 4, XRGB8888)
	s.FillRect(image.Rect(0, 0, 3, 2), white)
	s.FillRect(image.Rect(0, 0, 1, 1), red)
	s.CopyArea(image.Rect(2, 1, 5, 3), image.Pt(0, 0)) // overlapping, down-right
	fmt.Print(ascii(s))
	// Output:
	// R##.....
	// ##R##...
	// ..###...
	// ........
}
