package splash

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/internal/testutil"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func rgba(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

func TestRenderDefaultScene(t *testing.T) {
	out := filepath.Join(t.TempDir(), "frame.png")
	const w, h = 400, 300
	if err := Render(w, h, out); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, out)
	if img.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	sc, err := DefaultScene()
	if err != nil {
		t.Fatal(err)
	}
	accent := color.RGBA{0x5a, 0xb0, 0xff, 0xff}
	for _, c := range []struct {
		name string
		x, y int
		want color.RGBA
	}{
		{"top-left is the gradient's top", 0, 0, sc.Top},
		{"top-right is the gradient's top", w - 1, 0, sc.Top},
		{"bottom-left is the gradient's bottom", 0, h - 1, sc.Bottom},
		{"the centre is background, inside the ring", w / 2, h / 2, lerp(sc.Top, sc.Bottom, h/2, h-1)},
		// The logo (192 px) is centred: its ring's left edge crosses the
		// middle row about 0.40*192 px left of the centre, and its dot sits
		// in the gap at the top.
		{"the ring's left side", w/2 - 77, h / 2, accent},
		{"the ring's right side", w/2 + 77, h / 2, accent},
		{"the dot in the gap", w / 2, h/2 - 77, accent},
		{"just inside the gap beside the dot", w/2 - 30, h/2 - 77, lerp(sc.Top, sc.Bottom, h/2-77, h-1)},
	} {
		if got := rgba(img.At(c.x, c.y)); got != c.want {
			t.Errorf("%s: (%d,%d) = %v, want %v", c.name, c.x, c.y, got, c.want)
		}
	}
}

func TestLerpEnds(t *testing.T) {
	a, b := color.RGBA{0, 100, 255, 255}, color.RGBA{255, 0, 1, 255}
	if lerp(a, b, 0, 10) != a || lerp(a, b, 10, 10) != b {
		t.Errorf("lerp ends: %v %v", lerp(a, b, 0, 10), lerp(a, b, 10, 10))
	}
	if got := lerp(a, b, 5, 10); got != (color.RGBA{128, 50, 128, 255}) {
		t.Errorf("lerp middle = %v", got)
	}
	if lerp(a, b, 0, 0) != a {
		t.Error("lerp over one row is not the top colour")
	}
}

// Run on the emulated backend shows exactly what Render writes, for every
// access strategy.
func TestRunEmulatedEqualsRender(t *testing.T) {
	dir := t.TempDir()
	want := filepath.Join(dir, "render.png")
	if err := Render(320, 200, want); err != nil {
		t.Fatal(err)
	}
	wantImg := readPNG(t, want)
	for _, s := range access.Strategies() {
		t.Run(s.String(), func(t *testing.T) {
			out := filepath.Join(dir, s.String()+".png")
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := Run(ctx, Config{Backend: BackendEmu, EmuSize: image.Pt(320, 200), Out: out, Access: s})
			if err != nil {
				t.Fatal(err)
			}
			got := readPNG(t, out)
			if n := differing(got, wantImg); n != 0 {
				t.Errorf("%d pixels differ from Render", n)
			}
		})
	}
}

func differing(a, b image.Image) int {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy()
	}
	n := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgba(a.At(x, y)) != rgba(b.At(x, y)) {
				n++
			}
		}
	}
	return n
}

func TestParseBackend(t *testing.T) {
	for _, b := range []Backend{BackendAuto, BackendKMS, BackendEmu} {
		got, err := ParseBackend(b.String())
		if err != nil || got != b {
			t.Errorf("ParseBackend(%q) = %v, %v", b.String(), got, err)
		}
	}
	if _, err := ParseBackend("fbdev"); err == nil {
		t.Error("ParseBackend accepted an unknown name")
	}
}
