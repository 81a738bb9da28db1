package fbemu

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/bootsplash/bootsplash/access"
)

func newEmu(t testing.TB, w, h int, f Format, opt EmulatedOptions) *Emulated {
	t.Helper()
	e, err := NewEmulatedWith(w, h, f, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

func snap(t testing.TB, e *Emulated) *image.RGBA {
	t.Helper()
	img, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// asciiRGBA renders like ascii, for snapshots.
func asciiRGBA(img *image.RGBA) string {
	s := NewSurface(img.Rect.Dx(), img.Rect.Dy(), XRGB8888)
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			s.setPixel(x, y, XRGB8888.Pixel(img.RGBAAt(x, y)))
		}
	}
	return ascii(s)
}

func frame(t testing.TB, fb *Framebuffer, f func(s *Surface)) {
	t.Helper()
	if err := fb.Frame(func(s *Surface) error { f(s); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatedEveryStrategyShowsTheFrame(t *testing.T) {
	for _, st := range access.Strategies() {
		for _, n := range []int{1, 2} {
			t.Run(fmt.Sprintf("%v/%d", st, n), func(t *testing.T) {
				e := newEmu(t, 6, 4, XRGB8888, EmulatedOptions{FramebufferOptions: FramebufferOptions{Buffers: n, Strategy: st}})
				frame(t, e.Framebuffer, func(s *Surface) {
					s.FillRect(s.Bounds(), black)
					s.FillRect(image.Rect(1, 1, 3, 3), red)
				})
				frame(t, e.Framebuffer, func(s *Surface) { s.FillRect(image.Rect(4, 0, 5, 4), white) })
				want := "....#.\n.RR.#.\n.RR.#.\n....#.\n"
				if got := asciiRGBA(snap(t, e)); got != want {
					t.Errorf("shown:\n%swant:\n%s", got, want)
				}
				if p := e.LastPresent(); fmt.Sprint(p.Clips()) != "[(4,0)-(5,4)]" || p.Flip != (n == 2) {
					t.Errorf("last present %+v", p)
				}
				if st == access.Shadow {
					// Only the damaged column went back to the buffer (plus,
					// double-buffered, the catch-up copy of the first frame).
					stats := e.bufs[1%n].m.Stats()
					if want := uint64(4 * 4); n == 1 && stats.BytesCopied != 6*4*4+want {
						t.Errorf("shadow copied %d bytes, want %d", stats.BytesCopied, 6*4*4+want)
					}
				}
			})
		}
	}
}

func TestEmulatedFrameWithoutDamageDoesNothing(t *testing.T) {
	e := newEmu(t, 8, 8, XRGB8888, EmulatedOptions{})
	frame(t, e.Framebuffer, func(s *Surface) { s.FillRect(image.Rect(0, 0, 2, 2), red) })
	before, frames := e.Updates(), e.Frames()
	frame(t, e.Framebuffer, func(s *Surface) {
		s.FillRect(image.Rect(20, 20, 30, 30), red) // off-screen
		s.FillRect(image.Rect(3, 3, 3, 8), red)     // empty
	})
	if e.Updates() != before || e.Frames() != frames {
		t.Errorf("a frame without damage presented: updates %d -> %d, frames %d -> %d", before, e.Updates(), frames, e.Frames())
	}
}

func TestEmulatedDamageClipsScripted(t *testing.T) {
	e := newEmu(t, 100, 50, XRGB8888, EmulatedOptions{FramebufferOptions: FramebufferOptions{Buffers: 1}})
	steps := []struct {
		draw func(s *Surface)
		want string
	}{
		{func(s *Surface) { s.Clear(black) }, "[(0,0)-(100,50)]"},
		{func(s *Surface) {
			s.FillRect(image.Rect(10, 40, 14, 44), white)
			s.FillRect(image.Rect(14, 40, 18, 44), white)
		}, "[(10,40)-(18,44)]"},
		{func(s *Surface) {
			s.FillRect(image.Rect(-5, -5, 5, 5), red)
			s.CopyArea(image.Rect(50, 10, 60, 20), image.Pt(52, 10))
		}, "[(0,0)-(5,5) (50,10)-(60,20)]"},
	}
	for i, st := range steps {
		frame(t, e.Framebuffer, st.draw)
		p := e.LastPresent()
		if got := fmt.Sprint(p.Clips()); got != st.want || p.Flip {
			t.Errorf("frame %d: clips %s flip %v, want %s", i, got, p.Flip, st.want)
		}
	}
}

func TestEmulatedDoubleBufferAgeAndScriptedVblank(t *testing.T) {
	e := newEmu(t, 5, 3, XRGB8888, EmulatedOptions{ScriptedVblank: true})
	if e.Age() != 1 {
		t.Errorf("first buffer age %d, want 1 (zero-filled, as frame 0)", e.Age())
	}
	frame(t, e.Framebuffer, func(s *Surface) { s.FillRect(image.Rect(0, 0, 1, 3), red) })
	if !e.FlipPending() {
		t.Fatal("no flip pending after a double-buffered frame")
	}
	if got := asciiRGBA(snap(t, e)); got != ".....\n.....\n.....\n" {
		t.Errorf("flip shown before vblank:\n%s", got)
	}
	err := e.Frame(func(s *Surface) error { return nil })
	if !errors.Is(err, ErrFlipPending) {
		t.Fatalf("frame during a pending flip: %v, want ErrFlipPending", err)
	}
	e.Vblank()
	if got := asciiRGBA(snap(t, e)); got != "R....\nR....\nR....\n" {
		t.Errorf("after vblank:\n%s", got)
	}
	if e.Age() != 2 {
		t.Errorf("second buffer age %d, want 2", e.Age())
	}
	// Only the change is drawn; the buffer age brings the rest along.
	frame(t, e.Framebuffer, func(s *Surface) { s.FillRect(image.Rect(4, 0, 5, 1), green) })
	e.Vblank()
	frame(t, e.Framebuffer, func(s *Surface) { s.FillRect(image.Rect(2, 2, 3, 3), blue) })
	e.Vblank()
	if got := asciiRGBA(snap(t, e)); got != "R...G\nR....\nR.B..\n" {
		t.Errorf("after three partial frames:\n%s", got)
	}
	if p := e.LastPresent(); !p.Flip || p.Buffer != 0 || fmt.Sprint(p.Clips()) != "[(2,2)-(3,3)]" {
		t.Errorf("last present %+v", p)
	}
	if v := e.Var(); v.YResVirtual != 6 || v.XRes != 5 || v.BitsPerPixel != 32 || v.Red != (Bitfield{16, 8}) {
		t.Errorf("Var() = %+v", v)
	}
	if f := e.Fix(); f.LineLength != 20 || f.SmemLen != 2*60 || f.ID != "fbemu-emulated" {
		t.Errorf("Fix() = %+v", f)
	}
}

func TestEmulatedRotationRoundTrip(t *testing.T) {
	// A 4x2 logical picture with distinct corners.
	draw := func(s *Surface) {
		s.Clear(black)
		s.FillRect(image.Rect(0, 0, 1, 1), red)
		s.FillRect(image.Rect(s.Width()-1, 0, s.Width(), 1), green)
		s.FillRect(image.Rect(0, s.Height()-1, 1, s.Height()), blue)
	}
	want := map[Rotation]string{
		Rotate0:   "R..G\nB...\n",
		Rotate90:  "G.\n..\n..\nRB\n", // counter-clockwise
		Rotate180: "...B\nG..R\n",
		Rotate270: "BR\n..\n..\n.G\n", // clockwise
	}
	for _, f := range Formats() {
		for rot, w := range want {
			pw, ph := 4, 2
			if rot.Swaps() {
				pw, ph = 2, 4
			}
			for _, n := range []int{1, 2} {
				e := newEmu(t, pw, ph, f, EmulatedOptions{FramebufferOptions: FramebufferOptions{Rotation: rot, Buffers: n}})
				if e.Width() != 4 || e.Height() != 2 {
					t.Fatalf("rotation %v: logical size %dx%d", rot, e.Width(), e.Height())
				}
				frame(t, e.Framebuffer, draw)
				img := snap(t, e)
				if got := asciiRGBA(img); got != w {
					t.Errorf("%v rotation %v buffers %d: panel shows\n%swant\n%s", f, rot, n, got, w)
				}
				// Turning the panel picture back gives the logical picture.
				back := NewSurface(4, 2, XRGB8888)
				for y := 0; y < 2; y++ {
					for x := 0; x < 4; x++ {
						p := rot.toPanel(image.Rect(x, y, x+1, y+1), 4, 2).Min
						back.setPixel(x, y, XRGB8888.Pixel(img.RGBAAt(p.X, p.Y)))
					}
				}
				if got := ascii(back); got != want[Rotate0] {
					t.Errorf("%v rotation %v: round trip\n%s", f, rot, got)
				}
				// A one-pixel change is flushed as one panel clip.
				frame(t, e.Framebuffer, func(s *Surface) { s.FillRect(image.Rect(1, 0, 2, 1), white) })
				if n == 2 {
					// Double-buffered, the second buffer caught up.
					img = snap(t, e)
					if img.RGBAAt(rot.toPanel(image.Rect(0, 0, 1, 1), 4, 2).Min.X, rot.toPanel(image.Rect(0, 0, 1, 1), 4, 2).Min.Y) != red {
						t.Errorf("%v rotation %v: second buffer lost frame 1", f, rot)
					}
				}
				wantClip := rot.toPanel(image.Rect(1, 0, 2, 1), 4, 2)
				if p := e.LastPresent(); p.N != 1 || p.Damage[0] != wantClip {
					t.Errorf("rotation %v: clips %v, want %v", rot, p.Clips(), wantClip)
				}
			}
		}
	}
}

func TestPanelRotation(t *testing.T) {
	for o, want := range map[string]Rotation{"Normal": Rotate0, "Upside Down": Rotate180, "Left Side Up": Rotate90, "Right Side Up": Rotate270, "": Rotate0} {
		if got := PanelRotation(o); got != want {
			t.Errorf("PanelRotation(%q) = %v, want %v", o, got, want)
		}
	}
	if Rotate90.Add(Rotate270) != Rotate0 || Rotate180.Add(Rotate180) != Rotate0 || Rotate90.DRM() != 2 {
		t.Error("rotation arithmetic")
	}
}

func TestEmulatedSavePNG(t *testing.T) {
	e := newEmu(t, 3, 2, RGB565, EmulatedOptions{})
	frame(t, e.Framebuffer, func(s *Surface) {
		s.Clear(white)
		s.FillRect(image.Rect(1, 0, 2, 1), color.RGBA{0xff, 0, 0, 0xff})
	})
	path := filepath.Join(t.TempDir(), "frame.png")
	if err := e.SavePNG(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b, _ := img.At(1, 0).RGBA(); r != 0xffff || g != 0 || b != 0 {
		t.Errorf("PNG pixel (1,0) = %v", img.At(1, 0))
	}
	if r, g, b, _ := img.At(0, 1).RGBA(); r != 0xffff || g != 0xffff || b != 0xffff {
		t.Errorf("PNG pixel (0,1) = %v", img.At(0, 1))
	}
}

// TestSteadyFrameDoesNotAllocate draws progress ticks through the whole
// frame path (bracket, damage, mapping regions, present).
func TestSteadyFrameDoesNotAllocate(t *testing.T) {
	for _, st := range access.Strategies() {
		for _, n := range []int{1, 2} {
			for _, rot := range []Rotation{Rotate0, Rotate90} {
				e := newEmu(t, 320, 240, XRGB8888, EmulatedOptions{FramebufferOptions: FramebufferOptions{Buffers: n, Strategy: st, Rotation: rot}})
				sc := newScene(t, e.Width(), e.Height())
				full := func(s *Surface) error { sc.full(s); return nil }
				tick := func(s *Surface) error { sc.tick(s); return nil }
				if err := e.Frame(full); err != nil {
					t.Fatal(err)
				}
				allocs := testing.AllocsPerRun(50, func() {
					if err := e.Frame(tick); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("%v, %d buffers, rotation %v: %v allocations per frame", st, n, rot, allocs)
				}
			}
		}
	}
}

// TestEmulatedCatchUpIsLazy checks when a double-buffered frame copies what
// its buffer misses from the buffer shown: not at all when the frame starts
// by overwriting everything, before the first operation that reads
// (blending), and at the end of a frame that drew nothing.
func TestEmulatedCatchUpIsLazy(t *testing.T) {
	e := newEmu(t, 4, 2, XRGB8888, EmulatedOptions{})
	frame(t, e.Framebuffer, func(s *Surface) { s.FillRect(image.Rect(0, 0, 2, 2), red) })
	reads := func() uint64 { return e.bufs[0].m.Stats().Brackets }
	before := reads()
	frame(t, e.Framebuffer, func(s *Surface) {
		s.Clear(black)
		s.FillRect(image.Rect(3, 0, 4, 1), green)
	})
	if got := reads(); got != before {
		t.Errorf("a frame that overwrote everything read the shown buffer (%d brackets, want %d)", got, before)
	}
	if got := asciiRGBA(snap(t, e)); got != "...G\n....\n" {
		t.Errorf("after a full repaint:\n%s", got)
	}
	// Buffer 0 misses frame 2; a blend must see frame 2's pixels.
	frame(t, e.Framebuffer, func(s *Surface) {
		s.BlendRect(image.Rect(3, 0, 4, 2), color.RGBA{0x80, 0, 0, 0x80})
	})
	img := snap(t, e)
	if got := img.RGBAAt(3, 0); got != (color.RGBA{0x80, 0x7f, 0, 0xff}) {
		t.Errorf("50%% red over green = %v, want {128 127 0 255}", got)
	}
	if got := img.RGBAAt(0, 0); got != (color.RGBA{0, 0, 0, 0xff}) {
		t.Errorf("stale frame-1 pixel %v shown: the catch-up did not happen", got)
	}
	// A frame that draws nothing still leaves its buffer current.
	frame(t, e.Framebuffer, func(s *Surface) {})
	frame(t, e.Framebuffer, func(s *Surface) { s.FillRect(image.Rect(0, 1, 1, 2), blue) })
	if got := asciiRGBA(snap(t, e)); got != "...+\nB..+\n" {
		t.Errorf("after an empty frame and a partial one:\n%s", got)
	}
}

func ExampleEmulated() {
	e, err := NewEmulated(12, 4, XRGB8888, access.Cached)
	if err != nil {
		panic(err)
	}
	defer e.Close()
	// One frame: one access bracket, damage flushed at the end.
	e.Frame(func(s *Surface) error {
		s.Clear(black)
		s.FillRect(image.Rect(1, 1, 11, 3), white) // a progress bar's frame
		s.FillRect(image.Rect(2, 2, 6, 3), red)    // 40% done
		return nil
	})
	img, _ := e.Snapshot()
	fmt.Print(asciiRGBA(img))
	fmt.Println(e.LastPresent().Clips())
	// Output:
	// ............
	// .##########.
	// .#RRRR#####.
	// ............
	// [(0,0)-(12,4)]
}

// SnapshotInto converts only the rectangles asked for, each exactly as
// Snapshot shows it, in every format.
func TestSnapshotIntoOnlyTheRects(t *testing.T) {
	for _, f := range Formats() {
		t.Run(f.String(), func(t *testing.T) {
			e, err := NewEmulated(40, 30, f, access.Cached)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if err := e.Frame(func(s *Surface) error {
				s.Clear(color.RGBA{0x10, 0x20, 0x30, 0xff})
				s.FillRect(image.Rect(5, 5, 20, 15), color.RGBA{0xff, 0x80, 0x00, 0xff})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			full, err := e.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			marker := color.RGBA{1, 2, 3, 4}
			dst := image.NewRGBA(full.Bounds())
			draw.Draw(dst, dst.Bounds(), image.NewUniform(marker), image.Point{}, draw.Src)
			r := image.Rect(3, 4, 12, 9)
			if err := e.SnapshotInto(dst, r); err != nil {
				t.Fatal(err)
			}
			for y := 0; y < 30; y++ {
				for x := 0; x < 40; x++ {
					got := dst.RGBAAt(x, y)
					want := marker
					if image.Pt(x, y).In(r) {
						want = full.RGBAAt(x, y)
					}
					if got != want {
						t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
					}
				}
			}
			if err := e.SnapshotInto(image.NewRGBA(image.Rect(0, 0, 10, 10)), r); err == nil {
				t.Error("SnapshotInto accepted an image of the wrong size")
			}
		})
	}
}

// A frame that cannot be saved is reported under the path given, never
// under the name of the temporary file written beside it
// (".frame.png.123456"), and nothing is left behind.
func TestEmulatedSavePNGErrorsNamePath(t *testing.T) {
	e := newEmu(t, 3, 2, XRGB8888, EmulatedOptions{})
	dir := t.TempDir()
	if err := os.Symlink("loop", filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "loop", "x.png"), "too many levels of symbolic links"},
		{filepath.Join(dir, "missing", "x.png"), "no such file or directory"},
		{filepath.Join(dir, "adir.png"), "is a directory, not a regular file"},
	} {
		err := e.SavePNG(c.path)
		if err == nil {
			t.Errorf("SavePNG(%s) succeeded", c.path)
			continue
		}
		if want := "fbemu: save frame to " + c.path + ": " + c.want; err.Error() != want {
			t.Errorf("SavePNG(%s):\n got %q\nwant %q", c.path, err, want)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
