package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// TestVMHotplug boots virtio-gpu with two outputs on 6.12 (Virtual-2
// disconnected) and runs `bootsplash run` while connectors and then the
// whole device come and go:
//
//   - connector hotplug: Virtual-2 forced on through sysfs shows the splash
//     on head 1 (QMP screendump of head 1, pixel for pixel), a progress
//     update reaches both heads, and Virtual-2 forced off leaves head 1
//     while head 0 keeps its frame and is never lit again;
//   - device removal: the virtio-gpu PCI function removed in the guest
//     (/sys/bus/pci/devices/.../remove), the daemon keeps answering on its
//     socket and takes updates; after a PCI rescan brings the device back,
//     the splash comes back on it with the state sent while it was gone;
//     `ctl quit` then ends run with status 0;
//   - a driver that binds late: `run --backend kms` started while there is
//     no card waits for one, takes a message meanwhile, and shows the
//     splash with it once the device appears.
//
// Two stand-ins for what QEMU cannot do here, both measured: the 6.12
// virtio-gpu driver does not poll connectors, so a sysfs force changes
// the status without an event (TestKernelUevents waited 10 s for none);
// the test then asks the kernel to announce the change on card0 through
// the card's uevent file, which sends the same ACTION=change for the card
// (without HOTPLUG=1). And QEMU 7.2 refuses device_del of virtio-gpu-pci
// ("Device 'virtio-gpu-pci' does not support hotplugging"), so here the
// device is removed from the guest's side, through the same kernel path a
// surprise removal takes (pci_stop_and_remove_bus_device: the driver's
// remove, drm_dev_unplug, the card's "remove" uevent), and rescanned;
// TestVMUnplug does it with QMP on the one display device QEMU can unplug.
func TestVMHotplug(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{"bootsplash": "./cmd/bootsplash"})
	k := fetchKernel(t, ctx, root, Kernel612)
	out := freshOut(t, root, "hotplug")

	const bs = "/bin/bootsplash"
	const pci = "/sys/bus/pci/devices/0000:00:02.0"
	const status2 = "/sys/class/drm/card0-Virtual-2/status"
	long := proto.Duration(60 * time.Second)
	write := func(name, path, data string) proto.Step {
		return proto.Step{Name: name, Write: &proto.WriteFile{Path: path, Data: []byte(data)}}
	}
	progress := func(p float64) splash.State { return splash.State{Progress: p} }
	frames := newFrameCache(out)
	// screen waits until head shows st (or, with differ, until it does
	// not), keeping the screendump as name.
	screen := func(name string, head int, st splash.State, differ bool) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			return frames.await(m, name, head, st, differ, 20*time.Second)
		}
	}
	cfg := Config{
		Kernel: k, Device: Virtio, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 6 * time.Minute,
		LateModules: []ModuleSpec{}, // no vgem: card0 is the only card, before and after
		Files:       []File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0"}, Steps: []proto.Step{
			{Name: "virtio-gpu at 00:02.0", WaitPath: pci + "/drm/card0", Timeout: proto.Duration(time.Second)},
			{Name: "run", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "head 0", Host: true},
			write("force Virtual-2 on", status2, "on"),
			write("announce on", "/sys/class/drm/card0/uevent", "change"),
			{Name: "head 1 lit", Host: true},
			{Name: "progress 30", Cmd: []string{bs, "ctl", "progress", "30"}, Timeout: long},
			{Name: "head 0 at 30", Host: true},
			{Name: "head 1 at 30", Host: true},
			write("force Virtual-2 off", status2, "off"),
			write("announce off", "/sys/class/drm/card0/uevent", "change"),
			{Name: "head 1 dark", Host: true},
			{Name: "head 0 kept", Host: true},

			write("remove the device", pci+"/remove", "1"),
			{Name: "card0 gone", WaitPath: "/dev/dri/card0", WaitGone: true, Timeout: long},
			{Name: "ping while gone", Cmd: []string{bs, "ctl", "ping"}, Timeout: long},
			{Name: "progress while gone", Cmd: []string{bs, "ctl", "progress", "60"}, Timeout: long},
			write("rescan", "/sys/bus/pci/rescan", "1"),
			{Name: "card0 back", WaitPath: "/dev/dri/card0", Timeout: long},
			{Name: "splash back", Host: true},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},

			write("remove before run", pci+"/remove", "1"),
			{Name: "no card", WaitPath: "/dev/dri/card0", WaitGone: true, Timeout: long},
			{Name: "run early", Cmd: []string{bs, "run", "-v", "--backend", "kms"}, Background: true, WaitFor: "no display yet: taking requests", Timeout: long},
			{Name: "message before the device", Cmd: []string{bs, "ctl", "message", "early"}, Timeout: long},
			write("driver binds", "/sys/bus/pci/rescan", "1"),
			{Name: "late device", Host: true},
			{Name: "quit early", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run early", Wait: "run early", Timeout: long},
		}},
		Host: map[string]HostFunc{
			"head 0":       screen("head0", 0, splash.State{}, false),
			"head 1 lit":   screen("head1-lit", 1, splash.State{}, false),
			"head 0 at 30": screen("head0-30", 0, progress(0.3), false),
			"head 1 at 30": screen("head1-30", 1, progress(0.3), false),
			"head 1 dark":  screen("head1-dark", 1, progress(0.3), true),
			"head 0 kept":  screen("head0-kept", 0, progress(0.3), false),
			"splash back":  screen("back", 0, progress(0.6), false),
			"late device":  screen("late", 0, splash.State{Message: "early"}, false),
		},
	}
	rep := bootChecked(t, ctx, cfg)
	run := string(rep.Step("run").Output)
	t.Logf("bootsplash run -v:\n%s", run)
	for _, w := range []string{
		"output: Virtual-2",
		"output Virtual-2 ",
		"goes: Virtual-2 is disconnected",
		"display device /dev/dri/card0 lost",
		"display device /dev/dri/card0 appeared",
	} {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}
	// Head 0 is lit at the start and after the device came back, never
	// for Virtual-2's comings and goings.
	if n := strings.Count(run, "output: Virtual-1"); n != 2 {
		t.Errorf("Virtual-1 was lit %d times, want 2 (at the start and when the device returned)", n)
	}
	early := string(rep.Step("run early").Output)
	t.Logf("bootsplash run -v --backend kms (before the device):\n%s", early)
	if !strings.Contains(early, "display device /dev/dri/card0 appeared") || !strings.Contains(early, "first frame after") {
		t.Errorf("bootsplash run started before the device does not say it appeared and showed the first frame")
	}
	for _, n := range []string{"head1-lit", "back", "late"} {
		if d := frames.waited[n]; d > 0 {
			t.Logf("%s: on screen %v after the step began (host clock, screendump polling)", n, d.Round(time.Millisecond))
		}
	}
}

// frameCache renders the expected splash frames for the hotplug test by
// size and State, and polls screendumps against them.
type frameCache struct {
	dir    string
	frames map[string]image.Image
	waited map[string]time.Duration
}

func newFrameCache(dir string) *frameCache {
	return &frameCache{dir: dir, frames: map[string]image.Image{}, waited: map[string]time.Duration{}}
}

// frame is the splash showing st at size, as `bootsplash render` draws it.
func (c *frameCache) frame(size image.Point, st splash.State) (image.Image, error) {
	key := fmt.Sprintf("%dx%d-%g-%q", size.X, size.Y, st.Progress, st.Message)
	if p := st.Prompt; p.Active {
		key += fmt.Sprintf("-prompt-%d-%t-%t-%x", p.Bullets, p.Retry, p.CapsLock, p.Text)
	}
	if img, ok := c.frames[key]; ok {
		return img, nil
	}
	name := filepath.Join(c.dir, "render-"+strings.NewReplacer("\"", "", " ", "_").Replace(key)+".png")
	if err := splash.RenderFrame(name, splash.FrameOptions{Width: size.X, Height: size.Y, State: st}); err != nil {
		return nil, err
	}
	img, err := readPNG(name)
	if err != nil {
		return nil, err
	}
	c.frames[key] = img
	return img, nil
}

// awaitOn is await on the first head of the display device with QOM id
// device.
func (c *frameCache) awaitOn(m *Machine, name, device string, st splash.State, timeout time.Duration) error {
	return c.poll(name, st, false, timeout, func() (*image.RGBA, error) { return m.ScreendumpOf(name, device, 0) })
}

// await polls head's screendump until it shows st (with differ: until it
// no longer does), for at most timeout; on failure the last screendump is
// kept as name.png next to the expected frame.
func (c *frameCache) await(m *Machine, name string, head int, st splash.State, differ bool, timeout time.Duration) error {
	return c.poll(name, st, differ, timeout, func() (*image.RGBA, error) { return m.Screendump(name, head) })
}

// poll takes screendumps with dump until one shows st (with differ:
// until one does not), for at most timeout.
func (c *frameCache) poll(name string, st splash.State, differ bool, timeout time.Duration, dump func() (*image.RGBA, error)) error {
	head := name
	start := time.Now()
	var last *image.RGBA
	var diff int
	var first []string
	for time.Since(start) < timeout {
		shot, err := dump()
		if err != nil {
			return err
		}
		want, err := c.frame(shot.Bounds().Size(), st)
		if err != nil {
			return err
		}
		last = shot
		diff, first = comparePixels(shot, want)
		if (diff == 0) != differ {
			c.waited[name] = time.Since(start)
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	if last != nil {
		if err := writePNG(filepath.Join(c.dir, name+".png"), last); err != nil {
			return err
		}
	}
	if differ {
		return fmt.Errorf("%s: the screen still shows the splash after %v", head, timeout)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: the screen does not show the splash at %+v after %v: %d pixels differ", head, st, timeout, diff)
	if len(first) > 0 {
		fmt.Fprintf(&b, "; first: %s", strings.Join(first, "; "))
	}
	return fmt.Errorf("%s (screen kept as %s.png)", b.String(), name)
}

// TestVMUnplug unplugs the display device from under a running `bootsplash
// run` with QMP device_del and plugs another with device_add, as a GPU
// going and coming would: bochs-display, which QEMU 7.2 can hot-plug on
// the PC's ACPI PCI hotplug (virtio-gpu-pci and the VGA devices it
// cannot). The guest kernel ejects the device (the bochs driver's remove,
// drm_dev_unplug, the card's "remove" uevent); meanwhile the daemon
// answers pings and takes a progress update; the new device's card gets
// the splash with that progress, pixel for pixel; quit ends run with
// status 0.
func TestVMUnplug(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{"bootsplash": "./cmd/bootsplash"})
	k := fetchKernel(t, ctx, root, Kernel612)
	out := freshOut(t, root, "unplug")
	const bs = "/bin/bootsplash"
	const second = "display1"
	long := proto.Duration(60 * time.Second)
	frames := newFrameCache(out)
	var unplugged, plugged time.Duration
	cfg := Config{
		Kernel: k, Device: BochsDisplay, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 5 * time.Minute,
		LateModules: []ModuleSpec{},
		Files:       []File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0"}, Steps: []proto.Step{
			{Name: "run", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "splash", Host: true},
			{Name: "device_del", Host: true},
			{Name: "card0 gone", WaitPath: "/dev/dri/card0", WaitGone: true, Timeout: long},
			{Name: "ping while gone", Cmd: []string{bs, "ctl", "ping"}, Timeout: long},
			{Name: "progress while gone", Cmd: []string{bs, "ctl", "progress", "45"}, Timeout: long},
			{Name: "device_add", Host: true},
			{Name: "card0 back", WaitPath: "/dev/dri/card0", Timeout: long},
			{Name: "splash on the new device", Host: true},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
		}},
		Host: map[string]HostFunc{
			"splash": func(ctx context.Context, m *Machine) error {
				return frames.await(m, "splash", 0, splash.State{}, false, 20*time.Second)
			},
			"device_del": func(ctx context.Context, m *Machine) error {
				start := time.Now()
				if err := m.QMP().DeviceDel(DisplayID); err != nil {
					return err
				}
				err := m.QMP().DeviceGone(DisplayID, 30*time.Second)
				unplugged = time.Since(start)
				return err
			},
			"device_add": func(ctx context.Context, m *Machine) error {
				start := time.Now()
				// Another slot: QEMU 7.2 keeps the removed device's VRAM
				// block registered under its slot's name for a while, and
				// a device added there aborts QEMU ("RAMBlock
				// 0000:00:02.0/bochs-display-vram already registered").
				err := m.QMP().DeviceAdd("bochs-display", second, map[string]any{"addr": "0x5"})
				plugged = time.Since(start)
				return err
			},
			"splash on the new device": func(ctx context.Context, m *Machine) error {
				return frames.awaitOn(m, "back", second, splash.State{Progress: 0.45}, 20*time.Second)
			},
		},
	}
	rep := bootChecked(t, ctx, cfg)
	run := string(rep.Step("run").Output)
	t.Logf("bootsplash run -v:\n%s", run)
	for _, w := range []string{"display device /dev/dri/card0 lost", "display device /dev/dri/card0 appeared"} {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}
	if strings.Contains(run, "error:") {
		t.Errorf("bootsplash run logged an error through the unplug and plug")
	}
	t.Logf("device_del to the device gone in QEMU: %v; the splash on the new device %v after it was plugged",
		unplugged.Round(time.Millisecond), frames.waited["back"].Round(time.Millisecond))
	t.Logf("device_add returned after %v", plugged.Round(time.Millisecond))
}
