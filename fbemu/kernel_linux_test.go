package fbemu

import (
	"fmt"
	"image"
	"strings"
	"testing"

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
				if want := k.scanouts[p.Buffer].Framebuffer.ID(); plane.FB != want {
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
