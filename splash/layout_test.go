package splash

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
)

// twoTone is a 20x10 PNG, red on the left half and blue on the right.
func twoTone(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 20, 10))
	for y := 0; y < 10; y++ {
		for x := 0; x < 20; x++ {
			c := color.RGBA{0xff, 0, 0, 0xff}
			if x >= 10 {
				c = color.RGBA{0, 0, 0xff, 0xff}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Each background fit puts the image where it says, over the colour.
func TestBackgroundFit(t *testing.T) {
	red, blue, green := color.RGBA{0xff, 0, 0, 0xff}, color.RGBA{0, 0, 0xff, 0xff}, color.RGBA{0, 0xff, 0, 0xff}
	for _, c := range []struct {
		fit    string
		checks map[image.Point]color.RGBA
	}{
		// 80x20 screen, 20x10 image.
		{"stretch", map[image.Point]color.RGBA{{1, 1}: red, {30, 18}: red, {42, 1}: blue, {79, 19}: blue}},
		{"contain", map[image.Point]color.RGBA{{10, 10}: green, {25, 10}: red, {55, 10}: blue, {70, 10}: green}},
		{"center", map[image.Point]color.RGBA{{20, 10}: green, {35, 10}: red, {45, 10}: blue, {60, 10}: green, {40, 2}: green}},
		{"cover", map[image.Point]color.RGBA{{0, 0}: red, {30, 19}: red, {50, 0}: blue, {79, 19}: blue}},
	} {
		t.Run(c.fit, func(t *testing.T) {
			path := writeTheme(t, "[background]\ncolor = \"#00ff00\"\nimage = \"bg.png\"\nfit = \""+c.fit+"\"\n", map[string][]byte{"bg.png": twoTone(t)})
			th, err := LoadTheme(path, ThemeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s := fbemu.NewSurface(80, 20, fbemu.XRGB8888)
			if err := NewRenderer(th, 1).Paint(s, State{}); err != nil {
				t.Fatal(err)
			}
			for p, want := range c.checks {
				if got := s.RGBAAt(p.X, p.Y); got != want {
					t.Errorf("%v = %v, want %v", p, got, want)
				}
			}
		})
	}
}

// The procedural spinner turns once a second: fps frames, each drawn
// only inside the spinner's square, the last one leading back to the
// first.
func TestProceduralSpinner(t *testing.T) {
	path := writeTheme(t, "[background]\ncolor = \"#000000\"\n[spinner]\nstyle = \"dots\"\nsize = 24\nfps = 10\ncolor = \"#ffffff\"\n", nil)
	th, err := LoadTheme(path, ThemeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRenderer(th, 1)
	if !r.Animated(State{}) {
		t.Error("a theme with a spinner is not animated")
	}
	s := fbemu.NewSurface(64, 48, fbemu.XRGB8888)
	if err := r.Paint(s, State{}); err != nil {
		t.Fatal(err)
	}
	if r.FPS() != 10 || r.lay.spinner.n != 10 {
		t.Fatalf("fps %d, %d frames; want 10 and 10", r.FPS(), r.lay.spinner.n)
	}
	sq := r.lay.spinner.rect
	if sq != image.Rect(20, 12, 44, 36) {
		t.Errorf("spinner at %v, want centred 24x24", sq)
	}
	prev := State{}
	for f := 1; f <= 10; f++ {
		st := State{Frame: f}
		d := fbemu.NewDamage(s.Bounds())
		s.SetDamage(d)
		if err := r.Update(s, prev, st); err != nil {
			t.Fatal(err)
		}
		if d.Empty() || !d.Extent().In(sq) {
			t.Errorf("frame %d damaged %v, want inside %v", f, d.Rects(), sq)
		}
		if n := surfacesDiffer(s, paintOn(t, th, 64, 48, st)); n != 0 {
			t.Errorf("frame %d: %d pixels differ from Paint", f, n)
		}
		prev = st
	}
	d := fbemu.NewDamage(s.Bounds())
	s.SetDamage(d)
	if err := r.Update(s, State{Frame: 10}, State{Frame: 0}); err != nil || !d.Empty() {
		t.Errorf("frame 10 is frame 0 again, yet the update damaged %v (%v)", d.Rects(), err)
	}
	lit := 0
	for y := sq.Min.Y; y < sq.Max.Y; y++ {
		for x := sq.Min.X; x < sq.Max.X; x++ {
			if s.RGBAAt(x, y).R > 0x80 {
				lit++
			}
		}
	}
	if lit < 20 {
		t.Errorf("only %d bright pixels in the spinner", lit)
	}
}

// Elements placed below another follow it, and an anchor with x and y
// puts the element's point there.
func TestPlacement(t *testing.T) {
	off := []float64{4, -2}
	p := &placeFile{Anchor: ptr("bottom-right"), X: ptr(0.5), Y: ptr(0.5), Offset: &off}
	if got := place(p, image.Pt(10, 6), 100, 50, 2, nil); got != image.Rect(48, 15, 58, 21) {
		t.Errorf("bottom-right at the centre, offset 4,-2 at scale 2: %v", got)
	}
	under := image.Rect(0, 0, 100, 30)
	p = &placeFile{Anchor: ptr("top")}
	if got := place(p, image.Pt(10, 6), 100, 50, 1, &under); got != image.Rect(45, 30, 55, 36) {
		t.Errorf("below a rectangle ending at 30: %v", got)
	}
}

func ptr[T any](v T) *T { return &v }
