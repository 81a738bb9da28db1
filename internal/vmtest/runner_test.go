package vmtest

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// TestVMRunner checks the runner itself on a real boot, with a fixture
// program instead of the project's code: exit statuses, timeouts, missing
// programs, sysfs writes, a background command stopped with SIGTERM, one
// waited for (that exits by itself, and that does not), a host
// step taking a screendump of a known picture, and a guest that crashes.
func TestVMRunner(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{"guesthelper": "./internal/vmtest/internal/guesthelper"})
	helper := filepath.Join(dir, "guesthelper")
	k := fetchKernel(t, ctx, root, Kernel612)
	h := "/bin/guesthelper"

	t.Run("plan", func(t *testing.T) {
		var shot *image.RGBA
		var head1 error
		cfg := Config{
			Kernel: k, Device: Virtio, GuestInit: guestInit, Logf: t.Logf,
			WorkDir: filepath.Join(root, "out", "vmtest", "runner"),
			Files:   []File{{Path: h, HostPath: helper}},
			Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0", "/dev/fb0"}, Steps: []proto.Step{
				{Name: "exit3", Cmd: []string{h, "exit", "3"}},
				{Name: "hang", Cmd: []string{h, "hang"}, Timeout: proto.Duration(2 * time.Second)},
				{Name: "missing", Cmd: []string{"/bin/nonexistent"}},
				{Name: "no blink", Write: &proto.WriteFile{Path: "/sys/class/graphics/fbcon/cursor_blink", Data: []byte("0")}},
				{Name: "hotplug", Write: &proto.WriteFile{Path: "/sys/class/drm/card0-Virtual-2/status", Data: []byte("on")}},
				{Name: "status", Cmd: []string{h, "cat", "/sys/class/drm/card0-Virtual-2/status"}},
				{Name: "fill", Cmd: []string{h, "fill"}, Background: true, WaitFor: "filled", Timeout: proto.Duration(30 * time.Second)},
				{Name: "shot", Host: true},
				{Name: "stop fill", Stop: "fill"},
				{Name: "early", Cmd: []string{h, "exit", "0"}, Background: true, WaitFor: "never printed"},
				{Name: "stop early", Stop: "early"},
				{Name: "exits", Cmd: []string{h, "exit", "4"}, Background: true},
				{Name: "wait exits", Wait: "exits", Timeout: proto.Duration(10 * time.Second)},
				{Name: "lingers", Cmd: []string{h, "hang"}, Background: true, WaitFor: "hanging"},
				{Name: "wait lingers", Wait: "lingers", Timeout: proto.Duration(time.Second)},
			}},
			Host: map[string]HostFunc{
				"shot": func(ctx context.Context, m *Machine) error {
					var err error
					if shot, err = m.Screendump("head0", 0); err != nil {
						return err
					}
					_, head1 = m.Screendump("head1", 1)
					return nil
				},
			},
		}
		rep, err := Boot(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ready after %v, wall time %v", rep.Ready.Round(time.Millisecond), rep.Wall.Round(time.Millisecond))
		check := func(step string, code int, output, note string) {
			t.Helper()
			r := rep.Step(step)
			if !r.Exited || r.Code != code {
				t.Errorf("%s: exited=%v code %d (%s), want code %d", step, r.Exited, r.Code, r.Note, code)
			}
			if !strings.Contains(string(r.Output), output) {
				t.Errorf("%s: output %q does not contain %q", step, r.Output, output)
			}
			if !strings.Contains(r.Note, note) {
				t.Errorf("%s: note %q does not contain %q", step, r.Note, note)
			}
		}
		check("exit3", 3, "exiting with 3", "")
		check("hang", -1, "goroutine", "timed out after 2s")
		check("missing", -1, "", "start:")
		check("no blink", 0, "", "")
		check("hotplug", 0, "", "")
		check("status", 0, "connected", "")
		check("fill", 0, "terminated", "")
		check("shot", 0, "", "")
		check("stop fill", 0, "", "")
		check("early", 0, "exiting with 0", "exited before its output contained")
		check("stop early", 1, "", "not running")
		check("exits", 4, "exiting with 4", "")
		check("wait exits", 0, "", "")
		check("lingers", -1, "hanging", "did not exit by itself within 1s")
		check("wait lingers", 0, "", "")
		if !rep.Step("fill").Waited || rep.Step("early").Waited {
			t.Errorf("waited: fill %v (want true), early %v (want false)", rep.Step("fill").Waited, rep.Step("early").Waited)
		}
		t.Logf("screendump of the disconnected-then-forced second head: %v", head1)
		if shot == nil {
			t.Fatal("no screendump")
		}
		b := shot.Bounds()
		bad := 0
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				c := shot.RGBAAt(x, y)
				if got, want := uint32(c.R)<<16|uint32(c.G)<<8|uint32(c.B), quadrant(x, y, b.Dx(), b.Dy()); got != want {
					if bad < 5 {
						t.Errorf("screen (%d,%d) = %06x, want %06x", x, y, got, want)
					}
					bad++
				}
			}
		}
		t.Logf("screendump %dx%d, %d pixels off", b.Dx(), b.Dy(), bad)
	})

	t.Run("hotplug", func(t *testing.T) {
		// A PCI device plugged in and pulled out over QMP; the guest sees it
		// come and go. (QEMU's display devices cannot be hot-plugged; a
		// virtio-rng stands in.)
		rep, err := Boot(ctx, Config{
			Kernel: k, Device: Virtio, GuestInit: guestInit, Logf: t.Logf,
			Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0"}, Steps: []proto.Step{
				{Name: "vgem", WaitPath: "/dev/dri/card1", Timeout: proto.Duration(10 * time.Second)},
				{Name: "plug", Host: true},
				{Name: "appears", WaitPath: "/sys/bus/pci/devices/0000:00:10.0", Timeout: proto.Duration(20 * time.Second)},
				{Name: "unplug", Host: true},
				{Name: "goes", WaitPath: "/sys/bus/pci/devices/0000:00:10.0", WaitGone: true, Timeout: proto.Duration(20 * time.Second)},
			}},
			Host: map[string]HostFunc{
				"plug": func(ctx context.Context, m *Machine) error {
					return m.QMP().DeviceAdd("virtio-rng-pci", "rng1", map[string]any{"addr": "0x10"})
				},
				"unplug": func(ctx context.Context, m *Machine) error {
					return m.QMP().DeviceDel("rng1")
				},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"vgem", "plug", "appears", "unplug", "goes"} {
			if r := rep.Step(s); !r.OK() {
				t.Errorf("%s: exited=%v code %d %s", s, r.Exited, r.Code, r.Note)
			}
		}
	})

	t.Run("crash", func(t *testing.T) {
		start := time.Now()
		rep, err := Boot(ctx, Config{
			Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, Timeout: time.Minute,
			Plan: proto.Plan{Steps: []proto.Step{
				{Name: "panic", Write: &proto.WriteFile{Path: "/proc/sysrq-trigger", Data: []byte("c")}},
				{Name: "after", Write: &proto.WriteFile{Path: "/tmp/x", Data: []byte("x")}},
			}},
		})
		var be *BootError
		if !errors.As(err, &be) {
			t.Fatalf("a crashing guest gave %v, want a BootError", err)
		}
		if rep.Done || rep.Step("after").Started {
			t.Errorf("the plan went on after the crash")
		}
		if !strings.Contains(be.Console, "Kernel panic") {
			t.Errorf("the error does not show the panic on the console:\n%v", err)
		}
		if d := time.Since(start); d > 45*time.Second {
			t.Errorf("a crash took %v to notice", d)
		}
		t.Logf("crash reported after %v:\n%v", time.Since(start).Round(time.Millisecond), err)
	})
}

// quadrant is the picture guesthelper's fill mode paints (0xRRGGBB at (x, y)
// of a w×h screen).
func quadrant(x, y, w, h int) uint32 {
	switch {
	case x < w/2 && y < h/2:
		return 0xff0000
	case y < h/2:
		return 0x00ff00
	case x < w/2:
		return 0x0000ff
	}
	return 0xffffff
}
