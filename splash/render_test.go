package splash

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/golden")

func loadTestTheme(t *testing.T) *theme.Theme {
	t.Helper()
	th, err := theme.Load(filepath.Join("testdata", "theme", "test.toml"), theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func defaultTheme(t *testing.T) *theme.Theme {
	t.Helper()
	th, err := theme.Default()
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// goldenSizes are the panels the goldens are drawn for; the last one is
// rotated, so the splash is laid out in its 480x800 rotated geometry.
var goldenSizes = []struct {
	w, h int
	rot  fbemu.Rotation
}{
	{480, 272, fbemu.Rotate0},
	{800, 480, fbemu.Rotate0},
	{1280, 720, fbemu.Rotate0},
	{1920, 1080, fbemu.Rotate0},
	{800, 480, fbemu.Rotate90},
}

// TestGolden renders each theme at each size through RenderFrame (the
// emulated display, as `bootsplash render` does) and compares every pixel
// with testdata/golden. Run with -update to rewrite the goldens, then look
// at them.
func TestGolden(t *testing.T) {
	themes := []struct {
		name  string
		theme *theme.Theme
		state State
	}{
		{"default", defaultTheme(t), State{Progress: 0.4, Message: "Checking file systems…", Status: "fsck /dev/mmcblk0p2: clean"}},
		{"test", loadTestTheme(t), State{Progress: -1, Frame: 7, Message: "Starting network…", Status: "eth0: link up"}},
	}
	dir := t.TempDir()
	for _, th := range themes {
		for _, sz := range goldenSizes {
			name := fmt.Sprintf("%s-%dx%d", th.name, sz.w, sz.h)
			if sz.rot != fbemu.Rotate0 {
				name += "-rot" + sz.rot.String()
			}
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(dir, name+".png")
				err := RenderFrame(out, FrameOptions{Width: sz.w, Height: sz.h, Theme: th.theme, State: th.state, Rotation: sz.rot})
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", "golden", name+".png")
				if *update {
					data, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, data, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				got, want := readPNG(t, out), readPNG(t, golden)
				if got.Bounds() != image.Rect(0, 0, sz.w, sz.h) {
					t.Fatalf("frame is %v, want the panel's %dx%d", got.Bounds(), sz.w, sz.h)
				}
				if n := testutil.DifferingPixels(got, want); n != 0 {
					t.Errorf("%d pixels differ from %s (rerun with -update and look at it if the change is meant)", n, golden)
				}
			})
		}
	}
}

// paintOn paints st on a fresh w x h surface.
func paintOn(t *testing.T, th *theme.Theme, w, h int, st State) *fbemu.Surface {
	t.Helper()
	s := fbemu.NewSurface(w, h, fbemu.XRGB8888)
	if err := NewRenderer(th, 1).Paint(s, st); err != nil {
		t.Fatal(err)
	}
	return s
}

func surfacesDiffer(a, b *fbemu.Surface) int {
	n := 0
	for y := 0; y < a.Height(); y++ {
		for x := 0; x < a.Width(); x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				n++
			}
		}
	}
	return n
}

// Painting state A and then updating to B gives exactly the pixels of
// painting B, and the update damages no more than what changed.
func TestUpdateEqualsPaint(t *testing.T) {
	base := State{Progress: 0.25, Message: "Loading kernel modules…", Status: "usb 1-1: new device", Frame: 3}
	with := func(f func(*State)) State { s := base; f(&s); return s }
	steps := []struct {
		name string
		b    State
	}{
		{"same", base},
		{"progress tick", with(func(s *State) { s.Progress = 0.26 })},
		{"progress back", with(func(s *State) { s.Progress = 0.1 })},
		{"progress done", with(func(s *State) { s.Progress = 1.5 })},
		{"to indeterminate", with(func(s *State) { s.Progress = -1 })},
		{"message", with(func(s *State) { s.Message = "Mounting /home" })},
		{"message cleared", with(func(s *State) { s.Message = "" })},
		{"status longer", with(func(s *State) { s.Status = "usb 1-1: new high-speed USB device number 2 using xhci" })},
		{"spinner frame", with(func(s *State) { s.Frame = 4 })},
		{"message too wide", with(func(s *State) {
			s.Message = "Starting NetworkManager-wait-online.service - Network Manager Wait Online, and then some more text than any screen holds"
		})},
		{"everything", State{Progress: -1, Frame: 40, Message: "Bye", Status: "x"}},
	}
	themes := []struct {
		name string
		th   *theme.Theme
	}{{"default", defaultTheme(t)}, {"test", loadTestTheme(t)}}
	for _, th := range themes {
		for _, sz := range []image.Point{{480, 272}, {1280, 720}} {
			for _, st := range steps {
				t.Run(fmt.Sprintf("%s/%dx%d/%s", th.name, sz.X, sz.Y, st.name), func(t *testing.T) {
					r := NewRenderer(th.th, 1)
					s := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
					if err := r.Paint(s, base); err != nil {
						t.Fatal(err)
					}
					d := fbemu.NewDamage(s.Bounds())
					s.SetDamage(d)
					if err := r.Update(s, base, st.b); err != nil {
						t.Fatal(err)
					}
					want := paintOn(t, th.th, sz.X, sz.Y, st.b)
					if n := surfacesDiffer(s, want); n != 0 {
						t.Errorf("Update differs from Paint in %d pixels", n)
					}
					if st.b == base && !d.Empty() {
						t.Errorf("an update to the same state damaged %v", d.Rects())
					}
					if d.Area() > sz.X*sz.Y/4 {
						t.Errorf("damage %v covers %d pixels, over a quarter of the screen", d.Rects(), d.Area())
					}
				})
			}
		}
	}
}

// An indeterminate bar pulses: Update through many frames stays equal to
// Paint, and each frame damages only the bar.
func TestPulseFrames(t *testing.T) {
	th := defaultTheme(t)
	r := NewRenderer(th, 1)
	s := fbemu.NewSurface(800, 480, fbemu.XRGB8888)
	prev := State{Progress: -1}
	if err := r.Paint(s, prev); err != nil {
		t.Fatal(err)
	}
	bar := r.lay.bar.rect
	moved := 0
	for f := 1; f <= 60; f++ {
		st := State{Progress: -1, Frame: f}
		d := fbemu.NewDamage(s.Bounds())
		s.SetDamage(d)
		if err := r.Update(s, prev, st); err != nil {
			t.Fatal(err)
		}
		if !d.Extent().In(bar) {
			t.Fatalf("frame %d damaged %v outside the bar %v", f, d.Extent(), bar)
		}
		if !d.Empty() {
			moved++
		}
		prev = st
		if f%15 == 0 {
			if n := surfacesDiffer(s, paintOn(t, th, 800, 480, st)); n != 0 {
				t.Fatalf("frame %d: %d pixels differ from Paint", f, n)
			}
		}
	}
	if moved < 50 {
		t.Errorf("the pulse moved in only %d of 60 frames", moved)
	}
}

// A progress tick repaints a few columns of the bar, not the bar.
func TestProgressTickDamage(t *testing.T) {
	r := NewRenderer(defaultTheme(t), 1)
	s := fbemu.NewSurface(1280, 720, fbemu.XRGB8888)
	a, b := State{Progress: 0.5}, State{Progress: 0.51}
	if err := r.Paint(s, a); err != nil {
		t.Fatal(err)
	}
	d := fbemu.NewDamage(s.Bounds())
	s.SetDamage(d)
	if err := r.Update(s, a, b); err != nil {
		t.Fatal(err)
	}
	bar := r.lay.bar.rect
	ext := d.Extent()
	// 1% of the bar is a few pixels; allow the two partly covered columns.
	want := int(0.01*float64(bar.Dx())) + 2
	if ext.Dx() > want || !ext.In(bar) {
		t.Errorf("tick damaged %v (bar %v), want at most %d columns inside the bar", ext, bar, want)
	}
}

// The first frame of a theme needs no font: fonts are parsed when text is
// first drawn. The theme's font is a file that is no font, which only
// parsing finds out.
func TestFirstFrameParsesNoFont(t *testing.T) {
	path := testutil.WriteTheme(t, "[message]\nfont = \"nofont.ttf\"\n", map[string][]byte{"nofont.ttf": []byte("not a font")})
	th, err := theme.Load(path, theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRenderer(th, 1)
	s := fbemu.NewSurface(640, 480, fbemu.XRGB8888)
	if err := r.Paint(s, State{}); err != nil {
		t.Fatalf("a frame without text parsed the font: %v", err)
	}
	if err := r.Update(s, State{}, State{Message: "hello"}); err == nil || !strings.Contains(err.Error(), "not a TrueType or OpenType font") {
		t.Fatalf("the first text did not parse the font: %v", err)
	}
}

// The layout follows the surface: a renderer used on a rotated output
// lays out in the rotated geometry, and again when the size changes.
func TestLayoutPerSurface(t *testing.T) {
	r := NewRenderer(defaultTheme(t), 1)
	for _, sz := range []image.Point{{800, 480}, {480, 800}, {800, 480}} {
		s := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
		if err := r.Paint(s, State{Progress: 0.5}); err != nil {
			t.Fatal(err)
		}
		if r.lay.w != sz.X || r.lay.h != sz.Y {
			t.Fatalf("layout for %v after painting %v", image.Pt(r.lay.w, r.lay.h), sz)
		}
		// The logo is centred horizontally in either geometry.
		lr := r.lay.logoRect
		if c := (lr.Min.X + lr.Max.X) / 2; c < sz.X/2-1 || c > sz.X/2+1 {
			t.Errorf("%v: logo %v is not centred", sz, lr)
		}
	}
}

// The output scale scales the logo and the bar.
func TestScaleGrowsElements(t *testing.T) {
	th := defaultTheme(t)
	var logo, bar [2]image.Rectangle
	for i, sc := range []float64{1, 2} {
		r := NewRenderer(th, sc)
		s := fbemu.NewSurface(2560, 1600, fbemu.XRGB8888)
		if err := r.Paint(s, State{}); err != nil {
			t.Fatal(err)
		}
		logo[i], bar[i] = r.lay.logoRect, r.lay.bar.rect
	}
	if logo[1].Dx() != 2*logo[0].Dx() || bar[1].Dy() != 2*bar[0].Dy() {
		t.Errorf("at scale 2 the logo is %v and the bar %v; at 1 %v and %v", logo[1].Size(), bar[1].Size(), logo[0].Size(), bar[0].Size())
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// Renderers of several outputs share one Theme and draw at the same time
// (run with -race).
func TestRenderersShareTheme(t *testing.T) {
	th := loadTestTheme(t)
	errs := make(chan error, 2)
	surfaces := make([]*fbemu.Surface, 2)
	for i := range surfaces {
		surfaces[i] = fbemu.NewSurface(640, 400, fbemu.XRGB8888)
		go func(s *fbemu.Surface) {
			r := NewRenderer(th, 1)
			st := State{Progress: 0.3, Message: "shared", Status: "theme"}
			err := r.Paint(s, st)
			for f := 1; f < 10 && err == nil; f++ {
				next := st
				next.Frame, next.Progress = f, st.Progress+0.01
				err = r.Update(s, st, next)
				st = next
			}
			errs <- err
		}(surfaces[i])
	}
	for range surfaces {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := surfacesDiffer(surfaces[0], surfaces[1]); n != 0 {
		t.Errorf("the two outputs differ in %d pixels", n)
	}
}

// TestLongLinesFit draws a line wider than the screen: it is cut in the
// middle with an ellipsis, keeps both ends, and its ink stays inside the
// margins; a line that fits is left alone.
func TestLongLinesFit(t *testing.T) {
	long := "A start job is running for /dev/disk/by-uuid/0a3f7c1e-5d2b-4b8e-9f61-2c4d8e7a9b10 (1min 30s / no limit)"
	long += " " + long
	for _, th := range []*theme.Theme{defaultTheme(t), loadTestTheme(t)} {
		for _, w := range []int{480, 1280} {
			r := NewRenderer(th, 1)
			s := fbemu.NewSurface(w, 272, fbemu.XRGB8888)
			st := State{Progress: 0.5, Message: long, Status: "ok"}
			if err := r.Paint(s, st); err != nil {
				t.Fatal(err)
			}
			l := r.lay
			got, err := r.fit(l, l.message, long)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, "…") || !strings.HasPrefix(got, "A start job") || !strings.HasSuffix(got, "no limit)") {
				t.Errorf("%dpx: %q, want the ends kept around an ellipsis", w, got)
			}
			ink, err := r.textInk(l, l.message, long)
			if err != nil {
				t.Fatal(err)
			}
			if ink.Min.X < 0 || ink.Max.X > w {
				t.Errorf("%dpx: the line's ink %v leaves the screen", w, ink)
			}
			if short, _ := r.fit(l, l.message, "ok"); short != "ok" {
				t.Errorf("a short line became %q", short)
			}
		}
	}
}
