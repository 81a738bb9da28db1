package fbemu_test

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/fbemu"
	"golang.org/x/image/font/basicfont"
)

var (
	black = color.RGBA{0, 0, 0, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
	red   = color.RGBA{0xff, 0, 0, 0xff}
	blue  = color.RGBA{0, 0, 0xff, 0xff}
)

// show prints img one character per pixel: '.' black, '#' white, 'R' red,
// 'B' blue, '+' anything else.
func show(img image.Image) {
	var b strings.Builder
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			switch color.RGBAModel.Convert(img.At(x, y)) {
			case black:
				b.WriteByte('.')
			case white:
				b.WriteByte('#')
			case red:
				b.WriteByte('R')
			case blue:
				b.WriteByte('B')
			default:
				b.WriteByte('+')
			}
		}
		b.WriteByte('\n')
	}
	fmt.Print(b.String())
}

// A framebuffer on the emulated display: one frame drawn with the native
// operations, then read back as the display shows it.
func Example_frame() {
	e, err := fbemu.NewEmulated(12, 5, fbemu.XRGB8888, access.Cached)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	err = e.Frame(func(s *fbemu.Surface) error {
		s.Clear(black)
		s.FillRect(image.Rect(1, 1, 11, 4), white)
		s.FillRect(image.Rect(3, 2, 9, 3), red)
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	shown, err := e.Snapshot()
	if err != nil {
		fmt.Println(err)
		return
	}
	show(shown)
	fmt.Printf("%dx%d %v, %d buffers, %d frame\n", e.Var().XRes, e.Var().YRes, e.Fix().FourCC, e.Buffers(), e.Frames())
	// Output:
	// ............
	// .##########.
	// .##RRRRRR##.
	// .##########.
	// ............
	// 12x5 XRGB8888, 2 buffers, 1 frame
}

// What a frame sends: the rectangles its drawing changed, and nothing at
// all when it changed nothing.
func Example_damage() {
	e, err := fbemu.NewEmulated(64, 48, fbemu.XRGB8888, access.Cached)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	frame := func(what string, draw func(s *fbemu.Surface)) {
		before := e.Updates()
		if err := e.Frame(func(s *fbemu.Surface) error { draw(s); return nil }); err != nil {
			fmt.Println(err)
			return
		}
		if e.Updates() == before {
			fmt.Printf("%s: nothing sent\n", what)
			return
		}
		fmt.Printf("%s: %v\n", what, e.LastPresent().Clips())
	}
	frame("first frame", func(s *fbemu.Surface) { s.Clear(black) })
	frame("progress step", func(s *fbemu.Surface) { s.FillRect(image.Rect(10, 40, 14, 44), white) })
	frame("idle", func(s *fbemu.Surface) {})
	frame("clock and spinner", func(s *fbemu.Surface) {
		s.FillRect(image.Rect(40, 2, 60, 10), white)
		s.FillRect(image.Rect(2, 2, 6, 6), red)
	})
	frame("pixel by pixel", func(s *fbemu.Surface) {
		for y := 20; y < 24; y++ {
			for x := 20; x < 30; x++ {
				s.Set(x, y, blue)
			}
		}
	})
	// Output:
	// first frame: [(0,0)-(64,48)]
	// progress step: [(10,40)-(14,44)]
	// idle: nothing sent
	// clock and spinner: [(40,2)-(60,10) (2,2)-(6,6)]
	// pixel by pixel: [(20,20)-(30,24)]
}

// Text with a font.Face (here the bitmap face of x/image; an opentype face
// works the same way), through a GlyphCache so that redrawn text is not
// rasterized again.
func Example_text() {
	s := fbemu.NewSurface(22, 13, fbemu.XRGB8888)
	d := fbemu.NewDamage(s.Bounds())
	s.SetDamage(d)
	face := fbemu.NewGlyphCache(basicfont.Face7x13, 0)
	dot := s.DrawText(image.Pt(1, 11), face, "Hi!", white)
	show(s)
	// The damage is the cells of the glyphs drawn.
	fmt.Println("next dot", dot, "damage", d.Rects(), "glyphs cached", face.Len())
	// Output:
	// ......................
	// ......................
	// .#....#...........#...
	// .#....#....#......#...
	// .#....#...........#...
	// .#....#...##......#...
	// .######....#......#...
	// .#....#....#......#...
	// .#....#....#......#...
	// .#....#....#..........
	// .#....#..#####....#...
	// ......................
	// ......................
	// next dot (22,11) damage [(1,0)-(21,13)] glyphs cached 3
}

// draw.Draw onto a Surface. fbemu.Draw (like Surface.Draw and the Op
// values) takes the native paths: FillRect for a uniform color, converted
// rows for an *image.RGBA or *image.NRGBA. image/draw's own draw.Draw works
// too, pixel by pixel. Both record damage, here on a part of the surface
// made with SubImage, in the surface's coordinates.
func Example_draw() {
	s := fbemu.NewSurface(10, 5, fbemu.RGB565)
	d := fbemu.NewDamage(s.Bounds())
	s.SetDamage(d)
	logo := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	logo.Set(0, 0, red)
	logo.Set(2, 0, color.NRGBA{0xff, 0xff, 0xff, 0x80}) // half transparent
	logo.Set(1, 1, white)
	panel := s.SubImage(image.Rect(3, 1, 10, 5)).(draw.Image)
	fbemu.Draw(panel, panel.Bounds(), image.NewUniform(blue), image.Point{}, draw.Src)
	fbemu.Draw(panel, image.Rect(5, 2, 8, 4), logo, image.Point{}, draw.Over)
	draw.Draw(s, image.Rect(0, 0, 2, 5), image.NewUniform(white), image.Point{}, draw.Src)
	show(s)
	fmt.Println("damage", d.Rects())
	// Output:
	// ##........
	// ##.BBBBBBB
	// ##.BBRB+BB
	// ##.BBB#BBB
	// ##.BBBBBBB
	// damage [(3,1)-(10,5) (0,0)-(2,5)]
}
