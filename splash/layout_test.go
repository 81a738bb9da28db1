package splash

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
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
			path := testutil.WriteTheme(t, "[background]\ncolor = \"#00ff00\"\nimage = \"bg.png\"\nfit = \""+c.fit+"\"\n", map[string][]byte{"bg.png": twoTone(t)})
			th, err := theme.Load(path, theme.Options{})
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
	path := testutil.WriteTheme(t, "[background]\ncolor = \"#000000\"\n[spinner]\nstyle = \"dots\"\nsize = 24\nfps = 10\ncolor = \"#ffffff\"\n", nil)
	th, err := theme.Load(path, theme.Options{})
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
	p := &theme.Place{Anchor: ptr("bottom-right"), X: ptr(0.5), Y: ptr(0.5), Offset: &off}
	if got := place(p, image.Pt(10, 6), 100, 50, 2, nil); got != image.Rect(48, 15, 58, 21) {
		t.Errorf("bottom-right at the centre, offset 4,-2 at scale 2: %v", got)
	}
	under := image.Rect(0, 0, 100, 30)
	p = &theme.Place{Anchor: ptr("top")}
	if got := place(p, image.Pt(10, 6), 100, 50, 1, &under); got != image.Rect(45, 30, 55, 36) {
		t.Errorf("below a rectangle ending at 30: %v", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestSpritesFitTheScreen: spinner frames and a centred background are
// scaled by the output scale; they used to be scaled past the screen (a
// 4096-pixel frame at scale 8 makes a 32768-pixel sprite). Every sprite
// is now at most the screen, the spinner keeping its aspect.
func TestSpritesFitTheScreen(t *testing.T) {
	path := testutil.WriteTheme(t, "[background]\ncolor = \"#000000\"\nimage = \"bg.png\"\nfit = \"center\"\n\n[spinner]\nframes = \"spin-*.png\"\n",
		map[string][]byte{"bg.png": testutil.WhitePNG(t, 300, 200), "spin-0.png": testutil.WhitePNG(t, 256, 128), "spin-1.png": testutil.WhitePNG(t, 256, 128)})
	th, err := theme.Load(path, theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := fbemu.NewSurface(320, 240, fbemu.XRGB8888)
	r := NewRenderer(th, 8)
	if err := r.Paint(s, State{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Update(s, State{}, State{Frame: 1}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, sizes := range th.Scaled() {
		for _, sz := range sizes {
			n++
			if sz.X > 320 || sz.Y > 240 {
				t.Errorf("%s: a %dx%d sprite on a 320x240 screen", name, sz.X, sz.Y)
			}
			if name != "bg.png" && sz.X != 2*sz.Y {
				t.Errorf("%s: a %dx%d sprite of a 256x128 frame", name, sz.X, sz.Y)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d sprites, want 3 (the background, two frames)", n)
	}
	// The background, 2400x1600 at scale 8, covers the screen.
	if c := s.RGBAAt(2, 237); c != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("the centred background is not drawn to the screen's corner: %v", c)
	}
}

// TestThemePixelBudget: a theme's images together, and its spinner's
// scaled frames together, have a pixel budget; over it the theme is
// refused at load naming the image that went over, and the spinner is
// left out of a layout with an error that says its size.
func TestThemePixelBudget(t *testing.T) {
	files := map[string][]byte{"bg.png": testutil.WhitePNG(t, 100, 60), "logo.png": testutil.WhitePNG(t, 100, 100)}
	path := testutil.WriteTheme(t, "[background]\nimage = \"bg.png\"\n\n[logo]\nimage = \"logo.png\"\n", files)
	// 16000 pixels: within twice one image's budget, the default.
	if _, err := theme.Load(path, theme.Options{MaxImagePixels: 10000}); err != nil {
		t.Fatalf("within the theme's default budget: %v", err)
	}
	_, err := theme.Load(path, theme.Options{MaxImagePixels: 10000, MaxThemePixels: 15000})
	if !errors.Is(err, theme.ErrBudget) || !strings.HasPrefix(err.Error(), path+":5: logo.image: logo.png: over the theme's pixel budget: the theme's images come to 16000 pixels with this one, over its budget of 15000") {
		t.Errorf("over the theme's budget: %v", err)
	}

	frames := map[string][]byte{}
	for i := range 40 {
		frames[fmt.Sprintf("spin-%02d.png", i)] = testutil.WhitePNG(t, 64, 64)
	}
	path = testutil.WriteTheme(t, "[background]\ncolor = \"#102030\"\n\n[spinner]\nframes = \"spin-*.png\"\n", frames)
	th, err := theme.Load(path, theme.Options{MaxThemePixels: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	s := fbemu.NewSurface(1024, 768, fbemu.XRGB8888)
	err = NewRenderer(th, 8).Paint(s, State{})
	if !errors.Is(err, theme.ErrBudget) || !strings.Contains(err.Error(), "spinner: 40 frames of 512x512 (scale 8) are 10485760 pixels, over the theme's pixel budget of 1048576") {
		t.Errorf("Paint: %v", err)
	}
	for name, sizes := range th.Scaled() {
		if len(sizes) != 0 {
			t.Errorf("%s was scaled for a spinner over budget", name)
		}
	}
	if c := s.RGBAAt(512, 384); c != (color.RGBA{0x10, 0x20, 0x30, 0xff}) {
		t.Errorf("the rest of the splash was not drawn: %v", c)
	}
	// At scale 1 the same spinner fits.
	if err := NewRenderer(th, 1).Paint(s, State{}); err != nil {
		t.Errorf("Paint at scale 1: %v", err)
	}
}
