//go:build preview

package preview

import (
	"context"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/go-gl/gl/v2.1/gl"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// needDisplay skips the test without an X display, or fails it where the
// tools must be there (CI, BOOTSPLASH_REQUIRE_TOOLS=1).
func needDisplay(t *testing.T) {
	t.Helper()
	if os.Getenv("DISPLAY") == "" {
		if testutil.RequireTools() {
			t.Fatal("required under CI: DISPLAY is unset (run the test under xvfb-run, as scripts/test-preview does)")
		}
		t.Skip("DISPLAY is unset: the preview needs an X display (scripts/test-preview runs it under Xvfb)")
	}
}

// waitShown polls the window until the emulated display shows a State
// (and size) that ok accepts and its update is uploaded and drawn.
func waitShown(t *testing.T, w *Window, what string, ok func(splash.State, image.Point) bool) splash.State {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if !w.Poll(20 * time.Millisecond) {
			t.Fatalf("the window stopped while waiting for %s", what)
		}
		if st, size := w.Shown(); ok(st, size) {
			// Show returns only after its update is queued: one more
			// Poll uploads and draws it.
			w.Poll(0)
			return st
		}
	}
	st, size := w.Shown()
	t.Fatalf("timed out waiting for %s; shown: %+v at %v", what, st, size)
	return splash.State{}
}

// expected renders st on a size panel by `bootsplash render`'s path, with
// no window and no daemon.
func expected(t *testing.T, th *theme.Theme, size image.Point, st splash.State) *image.RGBA {
	t.Helper()
	out := filepath.Join(t.TempDir(), "want.png")
	if err := splash.RenderFrame(out, splash.FrameOptions{Width: size.X, Height: size.Y, Theme: th, State: st}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// differ counts the pixels whose R, G or B differ, and returns the first.
func differ(a, b *image.RGBA) (n int, first image.Point) {
	for y := 0; y < a.Bounds().Dy(); y++ {
		for x := 0; x < a.Bounds().Dx(); x++ {
			i, j := a.PixOffset(x, y), b.PixOffset(x, y)
			if a.Pix[i] != b.Pix[j] || a.Pix[i+1] != b.Pix[j+1] || a.Pix[i+2] != b.Pix[j+2] {
				if n == 0 {
					first = image.Pt(x, y)
				}
				n++
			}
		}
	}
	return n, first
}

// sameAs checks that the window shows exactly want.
func sameAs(t *testing.T, what string, got, want *image.RGBA) {
	t.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("%s: window is %v, frame is %v", what, got.Bounds().Size(), want.Bounds().Size())
	}
	n, p := differ(got, want)
	t.Logf("%s: %d of %d pixels differ", what, n, got.Bounds().Dx()*got.Bounds().Dy())
	if n > 0 {
		t.Errorf("%s: %d pixels differ, first at %v: window %v, frame %v", what, n, p, got.At(p.X, p.Y), want.At(p.X, p.Y))
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestWindowShowsEmulatedFrame drives the preview over its native control
// socket and reads the window back: it must show the emulated frame pixel
// for pixel, and a progress tick must upload only its damage.
func TestWindowShowsEmulatedFrame(t *testing.T) {
	needDisplay(t)
	// The GL context belongs to this thread for the whole test.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	th, err := theme.Default()
	if err != nil {
		t.Fatal(err)
	}
	size := image.Pt(640, 480)
	sock := filepath.Join(t.TempDir(), "control")
	w, err := Open(Options{Size: size, Theme: th, Still: true,
		Initial: splash.State{Progress: 0.2, Message: "Starting"},
		Control: splash.ControlConfig{Native: true, Socket: sock}})
	if err != nil {
		if testutil.RequireTools() {
			t.Fatalf("required under CI: %v", err)
		}
		t.Skipf("no window: %v", err)
	}
	defer func() {
		if err := w.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	t.Logf("OpenGL %s on %s", gl.GoStr(gl.GetString(gl.VERSION)), gl.GoStr(gl.GetString(gl.RENDERER)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.Start(ctx)

	// The first frame is uploaded whole.
	waitShown(t, w, "the first frame", func(splash.State, image.Point) bool { return len(w.Uploads()) > 0 })
	if up := w.Uploads()[0]; !up.Full || up.Bytes != 4*size.X*size.Y {
		t.Errorf("first upload: %+v, want the whole %v frame (%d bytes)", up, size, 4*size.X*size.Y)
	}

	// One update over the socket, as `bootsplash ctl` sends it.
	do := func(cmds ...control.Command) {
		errc := make(chan error, 1)
		go func() {
			cl, err := control.Dial(ctx, sock)
			if err != nil {
				errc <- err
				return
			}
			defer cl.Close()
			for _, c := range cmds {
				if err := cl.Do(ctx, c); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		// Keep the window serving while the client waits.
		for {
			select {
			case err := <-errc:
				if err != nil {
					t.Fatal(err)
				}
				return
			default:
				w.Poll(10 * time.Millisecond)
			}
		}
	}
	do(control.Command{Kind: control.Progress, Value: 0.6}, control.Command{Kind: control.Message, Text: "Checking disks"})
	st := waitShown(t, w, "progress 60% and the message", func(st splash.State, _ image.Point) bool {
		return near(st.Progress, 0.6) && st.Message == "Checking disks"
	})
	got, err := w.ReadPixels()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// A blank window would match a blank frame: make sure there is a
	// picture to compare.
	colors := map[[3]byte]bool{}
	for i := 0; i < len(snap.Pix); i += 4 {
		colors[[3]byte(snap.Pix[i:i+3])] = true
	}
	if len(colors) < 3 {
		t.Fatalf("the emulated frame has %d colours: nothing to compare", len(colors))
	}
	sameAs(t, "window vs emulated display", got, snap)
	sameAs(t, "window vs splash.RenderFrame", got, expected(t, th, size, st))

	// A progress tick: only its damage crosses to the texture.
	before := snap
	n := len(w.Uploads())
	do(control.Command{Kind: control.Progress, Value: 0.65})
	st = waitShown(t, w, "progress 65%", func(st splash.State, _ image.Point) bool { return near(st.Progress, 0.65) })
	after, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ups := w.Uploads()[n:]
	var bytes int
	var rects []image.Rectangle
	for _, u := range ups {
		if u.Full {
			t.Errorf("a progress tick made a new texture: %+v", u)
		}
		bytes += u.Bytes
		rects = append(rects, u.Rects...)
	}
	frame := 4 * size.X * size.Y
	t.Logf("progress tick: %d update(s), %d bytes uploaded in %v (whole frame: %d bytes)", len(ups), bytes, rects, frame)
	if bytes == 0 || bytes > frame/10 {
		t.Errorf("progress tick uploaded %d bytes, want more than 0 and at most a tenth of the frame (%d)", bytes, frame/10)
	}
	changed := 0
	for y := 0; y < size.Y; y++ {
		for x := 0; x < size.X; x++ {
			i := before.PixOffset(x, y)
			if before.Pix[i] == after.Pix[i] && before.Pix[i+1] == after.Pix[i+1] && before.Pix[i+2] == after.Pix[i+2] {
				continue
			}
			changed++
			in := false
			for _, r := range rects {
				in = in || image.Pt(x, y).In(r)
			}
			if !in {
				t.Fatalf("pixel %d,%d changed but no upload covered it (%v)", x, y, rects)
			}
		}
	}
	if changed == 0 {
		t.Error("the progress tick changed no pixel")
	}
	got, err = w.ReadPixels()
	if err != nil {
		t.Fatal(err)
	}
	sameAs(t, "window vs emulated display after the tick", got, after)
	sameAs(t, "window vs splash.RenderFrame after the tick", got, expected(t, th, size, st))

	// Resizing the window lays the splash out again on a new display,
	// keeping the State.
	next := image.Pt(800, 600)
	w.win.SetSize(next.X, next.Y)
	waitShown(t, w, "the resized display", func(_ splash.State, s image.Point) bool { return s == next })
	if u := w.Uploads(); !u[len(u)-1].Full || u[len(u)-1].Size != next {
		t.Errorf("last upload after the resize: %+v, want a whole new %v texture", u[len(u)-1], next)
	}
	got, err = w.ReadPixels()
	if err != nil {
		t.Fatal(err)
	}
	sameAs(t, "window vs splash.RenderFrame after the resize", got, expected(t, th, next, st))
}
