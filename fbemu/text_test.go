package fbemu

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

func ExampleSurface_DrawText() {
	s := NewSurface(14, 13, XRGB8888)
	s.DrawText(image.Pt(0, 11), basicfont.Face7x13, "Hi", white)
	fmt.Print(ascii(s))
	// Output:
	// ..............
	// ..............
	// #....#........
	// #....#....#...
	// #....#........
	// #....#...##...
	// ######....#...
	// #....#....#...
	// #....#....#...
	// #....#....#...
	// #....#..#####.
	// ..............
	// ..............
}

func goRegular(t testing.TB, size float64) font.Face {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		t.Fatal(err)
	}
	return face
}

// TestDrawTextMatchesFontDrawer compares an anti-aliased line against
// font.Drawer on an *image.RGBA, the reference implementation.
func TestDrawTextMatchesFontDrawer(t *testing.T) {
	face := goRegular(t, 18)
	defer face.Close()
	for _, c := range []color.RGBA{white, {0x40, 0x20, 0x00, 0x80}} {
		for _, dot := range []image.Point{{4, 20}, {-7, 10}, {60, 28}} {
			s := NewSurface(90, 30, XRGB8888)
			s.FillRect(s.Bounds(), color.RGBA{0x10, 0x30, 0x50, 0xff})
			d := NewDamage(s.Bounds())
			s.SetDamage(d)
			ref := image.NewRGBA(s.Bounds())
			draw.Draw(ref, ref.Bounds(), image.NewUniform(color.RGBA{0x10, 0x30, 0x50, 0xff}), image.Point{}, draw.Src)
			end := s.DrawText(dot, face, "Wavy gj!", c)
			dr := font.Drawer{Dst: ref, Src: image.NewUniform(c), Face: face, Dot: fixed.P(dot.X, dot.Y)}
			dr.DrawString("Wavy gj!")
			if end.X != dr.Dot.X.Round() {
				t.Errorf("end dot %v, font.Drawer %v", end, dr.Dot)
			}
			changed := 0
			for y := 0; y < 30; y++ {
				for x := 0; x < 90; x++ {
					g, w := s.RGBAAt(x, y), ref.RGBAAt(x, y)
					if !near(g, w, 1) {
						t.Fatalf("color %v dot %v: (%d,%d) = %v, font.Drawer %v", c, dot, x, y, g, w)
					}
					if w != (color.RGBA{0x10, 0x30, 0x50, 0xff}) {
						changed++
						if !(image.Point{x, y}).In(d.Extent()) {
							t.Fatalf("changed pixel (%d,%d) outside damage %v", x, y, d.Rects())
						}
					}
				}
			}
			if changed == 0 {
				t.Fatal("no pixel drawn")
			}
		}
	}
}

func TestDrawTextRGB565(t *testing.T) {
	s := NewSurface(14, 13, RGB565)
	s.DrawText(image.Pt(0, 11), basicfont.Face7x13, "Hi", white)
	ref := NewSurface(14, 13, XRGB8888)
	ref.DrawText(image.Pt(0, 11), basicfont.Face7x13, "Hi", white)
	if a, b := ascii(s), ascii(ref); a != b {
		t.Errorf("RGB565:\n%s\nXRGB8888:\n%s", a, b)
	}
}

func TestGlyphCacheMatchesFace(t *testing.T) {
	face := goRegular(t, 17)
	defer face.Close()
	cached := NewGlyphCache(face, 0)
	for _, dot := range []image.Point{{3, 20}, {-5, 14}} {
		a := NewSurface(120, 30, XRGB8888)
		b := NewSurface(120, 30, XRGB8888)
		b2 := NewSurface(120, 30, XRGB8888)
		ea := a.DrawText(dot, face, "Quick fox, 42%", white)
		eb := b.DrawText(dot, cached, "Quick fox, 42%", white)
		eb2 := b2.DrawText(dot, cached, "Quick fox, 42%", white) // from the cache
		if ea != eb || eb != eb2 {
			t.Errorf("end dots %v %v %v", ea, eb, eb2)
		}
		equalPix(t, "first use of the cache", b, a)
		equalPix(t, "cached glyphs", b2, a)
	}
	if n := cached.Len(); n == 0 || n > len("Quick fox, 42%") {
		t.Errorf("%d glyphs cached", n)
	}
	s := NewSurface(120, 30, XRGB8888)
	if n := testing.AllocsPerRun(20, func() { s.DrawText(image.Pt(3, 20), cached, "Quick fox, 42%", white) }); n != 0 {
		t.Errorf("DrawText with cached glyphs allocates %v times", n)
	}
}
