package vmtest

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// TestVMSimpledrm boots the arm64 kernel the suite builds
// (kconfig/arm64.config) on QEMU's virt board through UEFI (Debian's
// AAVMF) with ramfb as the only display: AAVMF's GOP lights ramfb, the
// EFI stub hands the mode to the kernel, sysfb makes a simple-framebuffer
// of it and simpledrm registers card0 (its platform driver is
// simple-framebuffer, its DRM name simpledrm). Up to the splash, the
// screen keeps AAVMF's picture (its BGRT logo on black, pixel for pixel):
// the kernel has no VT, so no fbcon draws on it. Then:
//   - `bootsplash run` with the default backend (auto) and theme draws on
//     card0 through the KMS path, saying which buffer it took and why:
//     simpledrm keeps buffers in shmem and copies them with the CPU, so
//     the system heap's dma-buf is imported over PRIME (the kernel lists
//     it as the system heap's, attached to the simple-framebuffer device);
//     the screen is pixel-exact against `bootsplash render` at its size;
//   - `bootsplash run` with themes/firmware draws AAVMF's own logo (its
//     ACPI BGRT, copied out of the guest) where AAVMF drew it, pixel-exact
//     against `render --bgrt`.
//
// It logs the time from kernel start to each first frame, the time from
// kernel start to simpledrm's registration, and the firmware's time from
// QEMU's start to the kernel's.
func TestVMSimpledrm(t *testing.T) {
	vmArchEnabled(t, Arm64VirtUEFI)
	for _, f := range []string{AAVMFCode, AAVMFVars} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("UEFI firmware for the arm64 VM (apt-get install qemu-efi-aarch64): %v", err)
		}
	}
	ctx := context.Background()
	a := archArtefacts(t, ctx, ARM64, t.TempDir())
	start := time.Now()
	b, err := BuildKernel(ctx, CacheDir(a.root), Arm64VexpressKernel())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kernel %s (%s, key %.16s) ready in %v", b.Spec.Name, b.Release, b.Key, time.Since(start).Round(time.Millisecond))
	k := b.Tree()
	k.DTB = "" // AAVMF describes the board in ACPI
	out := freshOut(t, a.root, "simpledrm")
	themeDir := filepath.Join(a.root, "themes", "firmware")
	fw := newFirmwareScreens(t, out, themeDir)

	const bs, gh = "/bin/bootsplash", "/bin/guesthelper"
	long := proto.Duration(3 * time.Minute)
	steps := []proto.Step{
		{Name: "uptime", Cmd: []string{gh, "cat", "/proc/uptime"}},
		{Name: "card0 device", Cmd: []string{gh, "cat", "/sys/class/drm/card0/device/uevent"}},
	}
	steps = append(steps, bgrtSteps(gh)...)
	steps = append(steps, []proto.Step{
		{Name: "copy bgrt", Host: true},
		{Name: "before run", Host: true},
		{Name: "run", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: "first frame", Timeout: long},
		{Name: "run screendump", Host: true, Timeout: long},
		{Name: "run bufinfo", Cmd: []string{gh, "cat", "/sys/kernel/debug/dma_buf/bufinfo"}},
		{Name: "run stop", Stop: "run"},
	}...)
	steps = append(steps,
		proto.Step{Name: "run bgrt", Cmd: []string{bs, "run", "-v", "--theme", "/theme/theme.toml"}, Background: true, WaitFor: "first frame", Timeout: long},
		proto.Step{Name: "bgrt screendump", Host: true, Timeout: long},
		proto.Step{Name: "run bgrt stop", Stop: "run bgrt"},
		proto.Step{Name: "dmesg", Cmd: []string{gh, "dmesg"}},
	)
	var shot, bgrtShot, before *image.RGBA
	cfg := Config{
		Kernel: k, Board: Arm64VirtUEFI, Device: Ramfb, GuestInit: a.guestInit, Logf: t.Logf, WorkDir: out, Timeout: 15 * time.Minute,
		LateModules: []ModuleSpec{},
		Files: []File{
			{Path: bs, HostPath: a.bootsplash},
			{Path: "/theme/theme.toml", HostPath: filepath.Join(themeDir, "theme.toml")},
			{Path: "/theme/logo.png", HostPath: filepath.Join(themeDir, "logo.png")},
		},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0"}, WaitTimeout: proto.Duration(2 * time.Minute), Steps: steps},
		Host: map[string]HostFunc{
			"run screendump": func(ctx context.Context, m *Machine) error {
				img, stable, err := m.StableScreendump("run", 0, 300*time.Millisecond, 10)
				if err != nil {
					return err
				}
				if !stable {
					t.Logf("run: the screen kept changing over 10 screendumps 300ms apart; comparing the last")
				}
				shot = img
				return nil
			},
			"copy bgrt": fw.copyBGRT,
			"before run": func(ctx context.Context, m *Machine) error {
				var err error
				before, err = m.Screendump("before", 0)
				return err
			},
			"bgrt screendump": func(ctx context.Context, m *Machine) error {
				var err error
				bgrtShot, err = fw.await(m, "card0-bgrt", splash.State{}, 2*time.Minute)
				return err
			},
		},
	}
	addGuestHelper(t, a, &cfg)
	rep := bootChecked(t, ctx, cfg)
	qemuStart := time.Now().Add(-rep.Wall)
	if rep.Release != k.Release {
		t.Errorf("guest runs kernel %q, want %q", rep.Release, k.Release)
	}
	_ = os.Remove(filepath.Join(out, "initrd.cpio.gz"))

	// card0 is simpledrm's, on sysfb's simple-framebuffer.
	if dev := string(rep.Step("card0 device").Output); !strings.Contains(dev, "DRIVER=simple-framebuffer") {
		t.Errorf("card0's device is not driven by simple-framebuffer (simpledrm):\n%s", dev)
	}
	run := rep.Step("run").Output
	if l, ok := logLine(run, "output: "); !ok || !strings.Contains(l, "driver=simpledrm") || !strings.Contains(l, "device=/dev/dri/card0") {
		t.Errorf("bootsplash run's output line %q does not name simpledrm's card0", l)
	}
	t.Run("run", func(t *testing.T) {
		checkE2E(t, ctx, a, out, e2eCase{name: "run",
			wantBuffer: []string{`heap "system"`, "imported via PRIME"},
			wantOutput: []string{"simpledrm", "scattered"}}, rep, shot)
	})
	t.Run("heap-buffer", func(t *testing.T) {
		checkHeapBuffers(t, rep.Step("run bufinfo"), map[string]int{"system": 1, "udmabuf": 0})
		if bi := string(rep.Step("run bufinfo").Output); !strings.Contains(bi, "simple-framebuffer") {
			t.Errorf("no dma-buf is attached to the simple-framebuffer device:\n%s", bi)
		}
	})
	runBGRT := string(rep.Step("run bgrt").Output)
	t.Logf("bootsplash run -v --theme themes/firmware:\n%s", runBGRT)
	if !strings.Contains(runBGRT, "firmware logo: ACPI BGRT ") {
		t.Errorf("bootsplash run with themes/firmware does not say it draws the ACPI BGRT logo")
	}
	// simpledrm's one mode is the firmware's, and the splash knows it.
	if !strings.Contains(runBGRT, "on the firmware's 800x600") {
		t.Errorf("bootsplash run on simpledrm does not take the card's mode for the firmware's (want \"on the firmware's 800x600\")")
	}
	// Nothing has drawn on the firmware's framebuffer before the splash:
	// no fbcon (the kernel has no VT), and simpledrm's fbdev emulation
	// sets no mode of its own. The screen is AAVMF's picture, its logo on
	// black.
	if before != nil && fw.logo != nil {
		sz := fw.logo.Image.Bounds().Size()
		logo := image.Rectangle{Min: fw.logo.Offset, Max: fw.logo.Offset.Add(sz)}
		n, first := logoDiff(before, fw.logo)
		lit := 0
		for y := 0; y < before.Bounds().Dy(); y++ {
			for x := 0; x < before.Bounds().Dx(); x++ {
				if c := before.RGBAAt(x, y); !image.Pt(x, y).In(logo) && c.R|c.G|c.B != 0 {
					lit++
				}
			}
		}
		if n != 0 || lit != 0 {
			_ = writePNG(filepath.Join(out, "before.png"), before)
			t.Errorf("before the splash, the screen is not AAVMF's picture (kept as before.png): %d of the logo's pixels differ (first: %s), %d pixels around it are not black",
				n, strings.Join(first, "; "), lit)
		} else {
			t.Logf("before the splash, with simpledrm's card0 up: the screen is still AAVMF's picture, its logo at %v on black", fw.logo.Offset)
		}
	}
	// simpledrm runs in the firmware's mode: the logo must be where AAVMF
	// drew it, in its own pixels.
	if fw.logo != nil && bgrtShot != nil {
		sz := fw.logo.Image.Bounds().Size()
		if n, first := logoDiff(bgrtShot, fw.logo); n != 0 {
			t.Errorf("the screen does not show AAVMF's %dx%d logo at %v: %d pixels differ; first: %s", sz.X, sz.Y, fw.logo.Offset, n, strings.Join(first, "; "))
		} else {
			t.Logf("AAVMF's BGRT: %dx%d at %v on the %v screen, every pixel where AAVMF drew it", sz.X, sz.Y, fw.logo.Offset, bgrtShot.Bounds().Size())
		}
	}

	// Times, from the kernel's start (its uptime).
	kstart := kernelStartOffset(t, rep)
	if kstart < 0 {
		t.Fatalf("the guest's uptime was not read")
	}
	up := rep.Step("uptime")
	t.Logf("QEMU start to kernel start (AAVMF, the EFI stub): %v; the guest's init ran %v after kernel start (TCG)",
		up.HostStart.Add(-(kstart + up.Start)).Sub(qemuStart).Round(time.Millisecond), (kstart + up.Start).Round(time.Millisecond))
	if at, ok := kmsgTime(rep.Step("dmesg").Output, "Initialized simpledrm"); ok {
		t.Logf("kernel start to simpledrm's card0: %v", at.Round(time.Millisecond))
	} else {
		t.Errorf("the kernel log does not say simpledrm was initialized")
	}
	for _, s := range []string{"run", "run bgrt"} {
		total, _, ok := parseTTFF(rep.Step(s).Output)
		if !ok {
			t.Errorf("%s: no first frame logged", s)
			continue
		}
		r := rep.Step(s)
		t.Logf("%s: kernel start to the first splash frame on simpledrm: %v (run started %v after kernel start, its first frame %.1fms later)",
			s, (kstart + r.Start + time.Duration(total*float64(time.Millisecond))).Round(time.Millisecond), (kstart + r.Start).Round(time.Millisecond), total)
	}
	for _, l := range strings.Split(string(rep.Step("dmesg").Output), "\n") {
		if strings.Contains(l, "simpledrm") || strings.Contains(l, "simple-framebuffer") || strings.Contains(l, "BGRT") || strings.Contains(l, "efi:") {
			t.Logf("dmesg: %s", strings.TrimSpace(l))
		}
	}
	_ = os.WriteFile(filepath.Join(out, "dmesg.txt"), rep.Step("dmesg").Output, 0o644)
}

// kmsgTime is the time stamp of the first record of a /dev/kmsg dump
// ("PRIO,SEQ,USEC,FLAGS;TEXT" lines) whose text contains s.
func kmsgTime(dump []byte, s string) (time.Duration, bool) {
	for _, l := range strings.Split(string(dump), "\n") {
		head, text, ok := strings.Cut(l, ";")
		if !ok || !strings.Contains(text, s) {
			continue
		}
		if f := strings.Split(head, ","); len(f) >= 3 {
			if us, err := strconv.ParseInt(f[2], 10, 64); err == nil {
				return time.Duration(us) * time.Microsecond, true
			}
		}
	}
	return 0, false
}

// logoDiff compares the screen at the firmware logo's offset with the
// logo's own pixels, returning how many differ and the first few.
func logoDiff(screen *image.RGBA, l *display.FirmwareLogo) (int, []string) {
	b := l.Image.Bounds()
	var n int
	var first []string
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			at := l.Offset.Add(image.Pt(x-b.Min.X, y-b.Min.Y))
			lr, lg, lb, _ := l.Image.At(x, y).RGBA()
			sr, sg, sb, _ := screen.At(at.X, at.Y).RGBA()
			if lr>>8 != sr>>8 || lg>>8 != sg>>8 || lb>>8 != sb>>8 {
				n++
				if len(first) < 3 {
					first = append(first, fmt.Sprintf("%v: screen %02x%02x%02x, logo %02x%02x%02x", at, sr>>8, sg>>8, sb>>8, lr>>8, lg>>8, lb>>8))
				}
			}
		}
	}
	return n, first
}
