package fbemu

import (
	"fmt"
	"image"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/internal/testutil"
)

// The kernel tests run on /dev/dri/card0 of the test VM (cirrus, bochs or
// virtio-gpu under a 6.12 kernel); on a machine without it they skip, in the
// VM they fail.

func openKMS(t *testing.T, opts client.Options, kopt KMSOptions) (*client.Device, *KMS) {
	t.Helper()
	testutil.NeedPath(t, "/dev/dri/card0")
	dev, err := client.Open("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dev.Close(); err != nil {
			t.Error(err)
		}
	})
	if n := dev.Driver().Name; testutil.InVM() && n != "cirrus" && n != "virtio_gpu" && !strings.HasPrefix(n, "bochs") {
		t.Fatalf("unexpected driver %q in the VM", n)
	}
	out, err := dev.SelectOutput(client.OutputRequest{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKMS(dev, out, kopt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("%s on %s, %v, buffers: %s", dev.Driver(), out, k.Format(), strings.Join(k.Paths(), "; "))
	return dev, k
}

// TestKernelDamageOnlyUpdate draws a full frame, then a damage-only update,
// and checks that both commits succeed, that the second sends exactly the
// changed rectangle as damage clips, and that the plane shows the buffer
// drawn last.
func TestKernelDamageOnlyUpdate(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		for _, n := range []int{1, 2} {
			t.Run(fmt.Sprintf("legacy=%v/buffers=%d", legacy, n), func(t *testing.T) {
				dev, k := openKMS(t, client.Options{Legacy: legacy}, KMSOptions{
					FramebufferOptions:     FramebufferOptions{Buffers: n, Strategy: access.Cached},
					IgnorePanelOrientation: true,
				})
				if legacy == dev.Atomic() {
					t.Fatalf("device atomic=%v with Legacy=%v", dev.Atomic(), legacy)
				}
				if err := k.Frame(func(s *Surface) error {
					s.Clear(black)
					s.FillRect(image.Rect(0, 0, s.Width()/2, s.Height()/2), red)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if p := k.LastPresent(); p.Flip || p.N != 1 || p.Damage[0] != k.Bounds() {
					t.Errorf("first frame: %+v, want a modeset of the whole screen", p)
				}
				dirty := image.Rect(10, 20, 42, 36)
				if err := k.Frame(func(s *Surface) error {
					s.FillRect(dirty, green)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				p := k.LastPresent()
				if fmt.Sprint(p.Clips()) != fmt.Sprint([]image.Rectangle{dirty}) || p.Flip != (n == 2) {
					t.Errorf("damage-only update sent %+v, want clips [%v], flip %v", p, dirty, n == 2)
				}
				if err := k.Wait(); err != nil {
					t.Fatal(err)
				}
				plane, err := dev.Plane(k.out.Plane.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := k.scanouts[p.Buffer].FB.ID(); plane.FB != want {
					t.Errorf("plane shows framebuffer %d, want %d", plane.FB, want)
				}
				// A frame without damage commits nothing.
				before := k.Frames()
				if err := k.Frame(func(s *Surface) error { return nil }); err != nil {
					t.Fatal(err)
				}
				if k.Frames() != before {
					t.Error("a frame without damage was presented")
				}
			})
		}
	}
}

// TestKernelSeveralOutputs forces virtio-gpu's second connector on and
// draws on both outputs, each framebuffer at its own output's mode.
func TestKernelSeveralOutputs(t *testing.T) {
	testutil.NeedPath(t, "/dev/dri/card0")
	dev, err := client.Open("", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	// cirrus and bochs have one connector: one output. virtio-gpu (booted
	// with max_outputs=2) gets its second connector forced on: two
	// outputs, each with its own CRTC and plane.
	want := 1
	if dev.Driver().Name == "virtio_gpu" {
		const status = "/sys/class/drm/card0-Virtual-2/status"
		testutil.NeedPath(t, status)
		if err := os.WriteFile(status, []byte("on"), 0); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(status, []byte("detect"), 0)
		want = 2
	}
	st, err := dev.Probe()
	if err != nil {
		t.Fatal(err)
	}
	outs, err := st.SelectOutputs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != want || (want == 2 && (outs[0].CRTC.ID == outs[1].CRTC.ID || outs[0].Plane.ID == outs[1].Plane.ID)) {
		t.Fatalf("outputs %v, want %d, each with its own CRTC and plane", outs, want)
	}
	fbs, err := NewKMSOutputs(dev, outs, KMSOptions{FramebufferOptions: FramebufferOptions{Buffers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range fbs {
		defer k.Close()
		if k.Width() != outs[i].Mode.Width() || k.Height() != outs[i].Mode.Height() {
			t.Errorf("output %d: framebuffer %dx%d, mode %v", i, k.Width(), k.Height(), outs[i].Mode)
		}
		for f := 0; f < 3; f++ {
			if err := k.Frame(func(s *Surface) error {
				s.FillRect(image.Rect(f*10, 0, f*10+10, 10), white)
				return nil
			}); err != nil {
				t.Fatalf("output %d frame %d: %v", i, f, err)
			}
		}
		if err := k.Wait(); err != nil {
			t.Fatal(err)
		}
		plane, err := dev.Plane(outs[i].Plane.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p := k.LastPresent(); plane.FB != k.scanouts[p.Buffer].FB.ID() || plane.CRTC != outs[i].CRTC.ID {
			t.Errorf("output %d: plane shows fb %d on crtc %d", i, plane.FB, plane.CRTC)
		}
		t.Logf("output %s: %d frames, last %+v", outs[i], k.Frames(), k.LastPresent().Clips())
	}
	// Interleaved, flips in flight on both CRTCs: each output's next
	// frame waits for its own flip, and the other's event, read on the
	// way, stays queued for it (a dropped one would time out).
	start := time.Now()
	for f := 0; f < 8; f++ {
		for i, k := range fbs {
			if err := k.Frame(func(s *Surface) error {
				s.FillRect(image.Rect(f*10, 20, f*10+10, 30), white)
				return nil
			}); err != nil {
				t.Fatalf("interleaved frame %d on output %d: %v", f, i, err)
			}
		}
	}
	for i, k := range fbs {
		if err := k.Wait(); err != nil {
			t.Fatalf("output %d: %v", i, err)
		}
	}
	t.Logf("8 interleaved frames on %d outputs in %v", len(fbs), time.Since(start).Round(time.Millisecond))
}

// TestKernelSteadyFrameDoesNotAllocate checks that a progress-bar tick on a
// real device allocates nothing: the bracket, the damage flush
// (FB_DAMAGE_CLIPS or DIRTYFB) with one buffer, and the flip and the wait
// for its event with two.
func TestKernelSteadyFrameDoesNotAllocate(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		for _, n := range []int{1, 2} {
			t.Run(fmt.Sprintf("legacy=%v/buffers=%d", legacy, n), func(t *testing.T) {
				_, k := openKMS(t, client.Options{Legacy: legacy}, KMSOptions{
					FramebufferOptions:     FramebufferOptions{Buffers: n, Strategy: access.Cached},
					IgnorePanelOrientation: true,
				})
				if err := k.Frame(func(s *Surface) error { s.Clear(black); return nil }); err != nil {
					t.Fatal(err)
				}
				x := 0
				var ferr error
				tick := func(s *Surface) error {
					s.FillRect(image.Rect(x, 100, x+4, 110), green)
					return nil
				}
				allocs := testing.AllocsPerRun(20, func() {
					x = (x + 4) % 400
					if err := k.Frame(tick); err != nil && ferr == nil {
						ferr = err
					}
					if err := k.Wait(); err != nil && ferr == nil {
						ferr = err
					}
				})
				if ferr != nil {
					t.Fatal(ferr)
				}
				if allocs != 0 {
					t.Errorf("%v allocations per steady frame, want 0", allocs)
				}
			})
		}
	}
}
