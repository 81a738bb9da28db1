package vmtest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// OVMF is Debian's UEFI firmware for QEMU (package ovmf): it lights the
// screen through its GOP driver, shows its logo and publishes an ACPI BGRT
// table; the kernel's EFI stub hands the GOP mode to efifb as fb0.
const OVMF = "/usr/share/ovmf/OVMF.fd"

// TestVMFirmwareFramebuffer boots the Debian 6.12 kernel through OVMF on
// QEMU's bochs-display with no DRM module loaded: the only display is
// efifb's /dev/fb0 (OVMF's GOP on bochs-display has a linear framebuffer;
// on virtio-gpu it has none, so no efifb). OVMF's BGRT logo is read and
// placed where the firmware drew it (the log says so). `bootsplash run` (auto) must draw the splash there,
// pixel for pixel what `bootsplash render` draws at the GOP's size. Then
// the bochs DRM driver is loaded in the guest: the kernel removes efifb
// ("fb0: switching to bochs-drm from EFI VGA") and card0 appears; the
// splash must move to the card (the log says so and gives the time from
// the last frame on fb0 to the first on card0), show there exactly as
// rendered, and follow a progress update drawn on the card.
func TestVMFirmwareFramebuffer(t *testing.T) {
	vmEnabled(t)
	if _, err := os.Stat(OVMF); err != nil {
		t.Fatalf("UEFI firmware for the VM (apt-get install ovmf): %v", err)
	}
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{
		"bootsplash": "./cmd/bootsplash",
		"insmod":     "./internal/vmtest/internal/insmod",
	})
	k := fetchKernel(t, ctx, root, Kernel612)
	out := freshOut(t, root, "firmware")

	// bochs and what it needs, in load order, put into the guest unloaded.
	mods, err := OrderModules([]ModuleSpec{{Name: "bochs"}}, k.ModuleDepends)
	if err != nil {
		t.Fatal(err)
	}
	const bs = "/bin/bootsplash"
	files := []File{
		{Path: bs, HostPath: filepath.Join(dir, "bootsplash")},
		{Path: "/bin/insmod", HostPath: filepath.Join(dir, "insmod")},
	}
	insmod := []string{"/bin/insmod"}
	for _, m := range mods {
		b, err := k.Module(m.Name)
		if err != nil {
			t.Fatal(err)
		}
		p := "/lib/late/" + m.Name + ".ko"
		files = append(files, File{Path: p, Data: b})
		insmod = append(insmod, p)
	}

	long := proto.Duration(3 * time.Minute)
	frames := newFrameCache(out)
	screen := func(name string, st splash.State) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			return frames.await(m, name, 0, st, false, 2*time.Minute)
		}
	}
	cfg := Config{
		Kernel: k, Device: BochsDisplay, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 15 * time.Minute,
		Modules:     []ModuleSpec{}, // no DRM driver: efifb's fb0 is the display
		LateModules: []ModuleSpec{}, // no vgem
		Files:       files,
		ExtraArgs:   []string{"-bios", OVMF},
		// The cursor would blink on fbcon's console over the splash
		// until the splash puts the VT in graphics mode.
		Append: []string{"vt.global_cursor_default=0"},
		Plan: proto.Plan{WaitPaths: []string{"/dev/fb0"}, WaitTimeout: proto.Duration(2 * time.Minute), Steps: []proto.Step{
			{Name: "no card", WaitPath: "/dev/dri/card0", WaitGone: true, Timeout: proto.Duration(time.Second)},
			{Name: "run", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "on fb0", Host: true, Timeout: long},
			{Name: "load bochs", Cmd: insmod, Timeout: long},
			{Name: "card0", WaitPath: "/dev/dri/card0", Timeout: long},
			{Name: "on card0", Host: true, Timeout: long},
			{Name: "progress 50", Cmd: []string{bs, "ctl", "progress", "50"}, Timeout: long},
			{Name: "card0 at 50", Host: true, Timeout: long},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
		}},
		Host: map[string]HostFunc{
			"on fb0":      screen("fb0", splash.State{}),
			"on card0":    screen("card0", splash.State{}),
			"card0 at 50": screen("card0-50", splash.State{Progress: 0.5}),
		},
	}
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Plan.Steps {
		if r := rep.Step(s.Name); !r.OK() {
			t.Errorf("step %q: exit %d %s\n%s", s.Name, r.Code, r.Note, tail(string(r.Output), 30))
		}
	}
	run := string(rep.Step("run").Output)
	t.Logf("bootsplash run -v:\n%s", run)
	for _, w := range []string{
		"the firmware framebuffer /dev/fb0 exists",
		"no dma-buf and no DMA_BUF_IOCTL_SYNC",
		"handover: /dev/dri/card0 (bochs-drm) takes the display over from /dev/fb0",
		"firmware logo: ACPI BGRT ",
		"handover: first frame on /dev/dri/card0",
	} {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}
	if m := regexp.MustCompile(`first frame after ([0-9.]+)ms`).FindStringSubmatch(run); m != nil {
		ms, _ := strconv.ParseFloat(m[1], 64)
		start := rep.Step("run").Start
		t.Logf("kernel start to the first splash frame on efifb: %v (run started at %v of guest uptime, its first frame %.1fms later)",
			(start + time.Duration(ms*float64(time.Millisecond))).Round(time.Millisecond), start.Round(time.Millisecond), ms)
	}
	if m := regexp.MustCompile(`first frame on /dev/dri/card0 ([0-9.]+)ms after the last frame on /dev/fb0`).FindStringSubmatch(run); m != nil {
		t.Logf("handover gap (last frame on fb0 to first on card0): %sms", m[1])
	}
	for _, n := range []string{"fb0", "card0", "card0-50"} {
		t.Logf("%s: on screen %v after the host step began", n, frames.waited[n].Round(time.Millisecond))
	}
}

// TestVMVesafb boots the Debian 6.12 kernel through SeaBIOS (no BGRT) on
// QEMU's standard VGA with vga=0x344 (VESA 1024x768, 32 bits), asking
// vesafb to pan: `bootsplash run --buffers 2` draws on vesafb's fb0, pixel
// for pixel what `bootsplash render` draws, before and after progress
// updates. vesafb pans only through the VBE protected-mode interface,
// which a kernel loaded directly by QEMU does not get (screen_info's
// vesapm_seg is 0), so it keeps yres_virtual at one screen: the splash
// must say it draws in one buffer and why. There is no firmware logo.
func TestVMVesafb(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{"bootsplash": "./cmd/bootsplash"})
	k := fetchKernel(t, ctx, root, Kernel612)
	out := freshOut(t, root, "vesafb")
	const bs = "/bin/bootsplash"
	long := proto.Duration(3 * time.Minute)
	frames := newFrameCache(out)
	screen := func(name string, st splash.State) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			return frames.await(m, name, 0, st, false, 2*time.Minute)
		}
	}
	cfg := Config{
		Kernel: k, Device: Bochs, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 10 * time.Minute,
		Modules:     []ModuleSpec{}, // no DRM driver: vesafb's fb0 is the display
		LateModules: []ModuleSpec{},
		Files:       []File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}},
		Append:      []string{"vga=0x344", "video=vesafb:ypan", "vt.global_cursor_default=0"},
		Plan: proto.Plan{WaitPaths: []string{"/dev/fb0"}, WaitTimeout: proto.Duration(2 * time.Minute), Steps: []proto.Step{
			{Name: "run", Cmd: []string{bs, "run", "-v", "--buffers", "2"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "on fb0", Host: true, Timeout: long},
			{Name: "progress 50", Cmd: []string{bs, "ctl", "progress", "50"}, Timeout: long},
			{Name: "fb0 at 50", Host: true, Timeout: long},
			{Name: "progress 70", Cmd: []string{bs, "ctl", "progress", "70"}, Timeout: long},
			{Name: "fb0 at 70", Host: true, Timeout: long},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
		}},
		Host: map[string]HostFunc{
			"on fb0":    screen("fb0", splash.State{}),
			"fb0 at 50": screen("fb0-50", splash.State{Progress: 0.5}),
			"fb0 at 70": screen("fb0-70", splash.State{Progress: 0.7}),
		},
	}
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Plan.Steps {
		if r := rep.Step(s.Name); !r.OK() {
			t.Errorf("step %q: exit %d %s\n%s", s.Name, r.Code, r.Note, tail(string(r.Output), 30))
		}
	}
	run := string(rep.Step("run").Output)
	t.Logf("bootsplash run -v --buffers 2:\n%s", run)
	for _, w := range []string{"output: fb0 (VESA VGA)", "fbdev: one buffer, drawn while on screen: the virtual height 768 holds one screen", "firmware logo: none (no ACPI BGRT)"} {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}
}
