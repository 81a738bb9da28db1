package splash

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/control"
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

func TestRunEmulatedEqualsRender(t *testing.T) {
	dir := t.TempDir()
	want := filepath.Join(dir, "render.png")
	if err := Render(320, 200, want); err != nil {
		t.Fatal(err)
	}
	wantImg := readPNG(t, want)
	for _, s := range access.Strategies() {
		for _, n := range []int{1, 2} {
			t.Run(fmt.Sprintf("%v/buffers=%d", s, n), func(t *testing.T) {
				out := filepath.Join(dir, fmt.Sprintf("%v-%d.png", s, n))
				// Stopped once the first frame is written: Run stops
				// start-up itself when told to, frame or not.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				go func() {
					for ctx.Err() == nil {
						if _, err := os.Stat(out); err == nil {
							cancel()
						}
						time.Sleep(5 * time.Millisecond)
					}
				}()
				err := Run(ctx, Config{Backend: BackendEmu, EmuSize: image.Pt(320, 200), Out: out, Access: s, Buffers: n})
				if err != nil {
					t.Fatal(err)
				}
				got := readPNG(t, out)
				if n := testutil.DifferingPixels(got, wantImg); n != 0 {
					t.Errorf("%d pixels differ from Render", n)
				}
			})
		}
	}
}

func TestParseBackend(t *testing.T) {
	for _, b := range []Backend{BackendAuto, BackendKMS, BackendEmu, BackendFbdev} {
		got, err := ParseBackend(b.String())
		if err != nil || got != b {
			t.Errorf("ParseBackend(%q) = %v, %v", b.String(), got, err)
		}
	}
	if _, err := ParseBackend("vnc"); err == nil {
		t.Error("ParseBackend accepted an unknown name")
	}
}

// TestRunFollowsControl drives Run on the emulated display through the
// native socket and psplash's FIFO, as boot scripts would, and checks that
// the PNG it rewrites after each frame shows exactly what RenderFrame
// draws for the State sent.
func TestRunFollowsControl(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run.png")
	sock := filepath.Join(dir, "control")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Backend: BackendEmu, EmuSize: image.Pt(480, 272), Out: out, Buffers: 2,
			Control: ControlConfig{Native: true, Socket: sock, Psplash: true, PsplashDir: dir}})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var cl *control.Client
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		if cl, err = control.Dial(ctx, sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon never listened: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer cl.Close()

	// shows waits until the PNG Run rewrites shows st as RenderFrame draws
	// it: front ends hand requests to the daemon, which draws on its own
	// goroutine.
	shows := func(st State) {
		t.Helper()
		ref := filepath.Join(dir, "want.png")
		if err := RenderFrame(ref, FrameOptions{Width: 480, Height: 272, State: st}); err != nil {
			t.Fatal(err)
		}
		wantImg := readPNG(t, ref)
		n := -1
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if got, err := readPNGFile(out); err == nil {
				if n = testutil.DifferingPixels(got, wantImg); n == 0 {
					return
				}
			}
		}
		t.Errorf("the display never showed %+v (%d pixels differ)", st, n)
	}
	shows(State{})
	if err := cl.Do(ctx, control.Command{Kind: control.Progress, Value: 0.4}); err != nil {
		t.Fatal(err)
	}
	if err := cl.Do(ctx, control.Command{Kind: control.Message, Text: "Checking file systems"}); err != nil {
		t.Fatal(err)
	}
	shows(State{Progress: 0.4, Message: "Checking file systems"})

	// psplash-write sends the command and a NUL.
	fifo, err := os.OpenFile(filepath.Join(dir, "psplash_fifo"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fifo.Write([]byte("PROGRESS 75\x00MSG Starting services\x00"))
	fifo.Close()
	if err != nil {
		t.Fatal(err)
	}
	shows(State{Progress: 0.75, Message: "Starting services"})
}

// readPNGFile reads a PNG that another goroutine may be rewriting.
func readPNGFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}
