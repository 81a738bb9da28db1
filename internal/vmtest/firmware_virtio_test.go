package vmtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// TestVMFirmwareVirtioHandover is TestVMFirmwareFramebuffer on virtio-vga:
// the Debian 6.12 kernel booted through OVMF (4 MiB code, fresh
// variables: Secure Boot off, efivarfs mounted as systemd mounts it), whose
// GOP sets the mode on virtio-vga's VGA side, so efifb's fb0 is the only
// display. `bootsplash run` with themes/firmware draws there, pixel for
// pixel `render --bgrt --secure-boot off`; then virtio-gpu is loaded late:
// the kernel removes efifb ("fb0: switching to virtio_gpudrmfb from EFI
// VGA") and the splash must move to the card in its current state. The
// screen is watched while the driver binds; the card's screendump must be
// render's at the card's mode (the firmware logo where Plymouth puts it
// when that is not the GOP's) and, in the same mode, equal fb0's in every
// pixel; then a progress update drawn on the card. The handover's gap
// and the two modes are logged. QEMU's virtio-gpu prefers 1280x800, as
// OVMF's GOP sets; the second case makes it prefer 1024x768 (xres, yres),
// so the handover changes the mode and the splash is laid out again.
func TestVMFirmwareVirtioHandover(t *testing.T) {
	vmEnabled(t)
	t.Run("same-mode", func(t *testing.T) { testVirtioHandover(t, "firmware-virtio", nil) })
	t.Run("1024x768", func(t *testing.T) {
		testVirtioHandover(t, "firmware-virtio-1024", []string{"-global", "virtio-vga.xres=1024", "-global", "virtio-vga.yres=768"})
	})
}

func testVirtioHandover(t *testing.T, name string, qemuArgs []string) {
	ctx := context.Background()
	g := newLateDriver(t, ctx, name, VirtioVGA)
	const bs, gh = "/bin/bootsplash", "/bin/guesthelper"
	fw := newFirmwareScreens(t, g.out, g.themeDir)
	fw.secureBoot = display.SecureBootOff
	h := &efifbHandover{fw: fw}
	efiFiles, efiSteps := efivarfsFiles(t, g.k, gh)
	long := proto.Duration(3 * time.Minute)
	steps := []proto.Step{{Name: "no card", WaitPath: "/dev/dri/card0", WaitGone: true, Timeout: proto.Duration(time.Second)}}
	steps = append(steps, bgrtCopySteps(gh)...)
	steps = append(steps, efiSteps...)
	steps = append(steps, h.steps("load virtio-gpu", g.insmod, long,
		proto.Step{Name: "info", Cmd: []string{bs, "info"}, Timeout: long})...)
	cfg := g.ovmfConfig(t, VirtioVGA, 15*time.Minute, steps)
	cfg.Files = append(cfg.Files, efiFiles...)
	cfg.ExtraArgs = append(ovmfPflash(t, g.out), qemuArgs...)
	cfg.Host = h.host()
	cfg.Host["on fb0"] = func(ctx context.Context, m *Machine) error {
		var err error
		if h.fb0, err = fw.await(m, "fb0", splash.State{}, 2*time.Minute); err == nil {
			fw.mode = h.fb0.Bounds().Size()
			err = writePNG(filepath.Join(g.out, "fb0.png"), h.fb0)
		}
		return err
	}
	cfg.Host["on card0"] = func(ctx context.Context, m *Machine) error {
		defer h.watch.end()
		if len(qemuArgs) > 0 {
			// Until virtio-gpu sets its mode the screen is
			// the GOP's.
			if err := awaitResize(m, fw.mode, time.Minute); err != nil {
				return err
			}
		}
		var err error
		if h.card0, err = fw.await(m, "card0", splash.State{}, 2*time.Minute); err == nil {
			err = writePNG(filepath.Join(g.out, "card0.png"), h.card0)
		}
		return err
	}
	rep, run := bootRun(t, ctx, cfg)
	checkRunLog(t, run,
		"output: fb0 (EFI VGA)",
		"no dma-buf and no DMA_BUF_IOCTL_SYNC",
		"firmware logo: ACPI BGRT ",
		"secure boot: off, says the firmware",
		"takes the display over from /dev/fb0",
		"handover: first frame on /dev/dri/card0",
	)
	if fb0, card0 := h.fb0, h.card0; fb0 != nil && card0 != nil {
		if a, b := fb0.Bounds().Size(), card0.Bounds().Size(); a != b {
			t.Logf("modes: the GOP's %dx%d on efifb, virtio-gpu's %dx%d on the card: the splash laid out again, the firmware logo placed as Plymouth's BGRT theme places it", a.X, a.Y, b.X, b.Y)
		} else if n, first := comparePixels(card0, fb0); n != 0 {
			t.Errorf("the card shows another picture than fb0 did in the same mode: %d pixels differ; first: %s", n, strings.Join(first, "; "))
		} else {
			t.Logf("modes: the GOP's and virtio-gpu's are both %dx%d; screendumps of fb0 (efifb) before and card0 (virtio-gpu) after the handover: 0 pixels differ", a.X, a.Y)
		}
	}
	if h.watch != nil {
		t.Logf("while virtio-gpu bound: %s", h.watch.summary(g.out))
	}
	logHandoverGap(t, run)
	t.Logf("info:\n%s", rep.Step("info").Output)
	for _, l := range strings.Split(string(rep.Step("dmesg").Output), "\n") {
		if strings.Contains(l, "virtio") || strings.Contains(l, "fbcon") || strings.Contains(l, "efifb") || strings.Contains(l, "switching to") {
			t.Logf("dmesg: %s", strings.TrimSpace(l))
		}
	}
}
