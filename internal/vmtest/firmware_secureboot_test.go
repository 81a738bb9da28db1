package vmtest

import (
	"context"

	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// Debian's OVMF split in code and variables (package ovmf), 4 MiB flash,
// built without Secure Boot: what a UEFI virtual machine boots with by
// default (virt-install, libvirt). The variables are copied for each
// boot, as libvirt copies the template.
const (
	OVMFCode4M = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	OVMFVars4M = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// ovmfPflash returns QEMU's options for OVMFCode4M, read-only, and a copy
// of OVMFVars4M in dir as the machine's variable store.
func ovmfPflash(t *testing.T, dir string) []string {
	t.Helper()
	vars, err := os.ReadFile(OVMFVars4M)
	if err != nil {
		t.Fatalf("UEFI variables for the VM (apt-get install ovmf): %v", err)
	}
	if _, err := os.Stat(OVMFCode4M); err != nil {
		t.Fatalf("UEFI firmware for the VM (apt-get install ovmf): %v", err)
	}
	p := filepath.Join(dir, "OVMF_VARS_4M.fd")
	if err := os.WriteFile(p, vars, 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{
		"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMFCode4M,
		"-drive", "if=pflash,format=raw,unit=1,file=" + p,
	}
}

// efivarfsFiles puts efivarfs.ko in the guest as /lib/late/efivarfs.ko
// (Debian builds it as a module) and returns the steps that load it and
// mount it on /sys/firmware/efi/efivars as systemd does, then list it.
func efivarfsFiles(t *testing.T, k *KernelTree, gh string) ([]File, []proto.Step) {
	t.Helper()
	b, err := k.Module("efivarfs")
	if err != nil {
		t.Fatal(err)
	}
	return []File{{Path: "/lib/late/efivarfs.ko", Data: b}}, []proto.Step{
		{Name: "load efivarfs", Cmd: []string{"/bin/insmod", "/lib/late/efivarfs.ko"}},
		{Name: "mount efivarfs", Cmd: []string{gh, "mount", "efivarfs", display.EFIVarsDir}},
		{Name: "efivars", Cmd: []string{gh, "ls", display.EFIVarsDir}},
	}
}

// TestVMFirmwareSecureBoot boots the Debian 6.12 kernel through OVMF's
// 4 MiB code and a fresh copy of its variables (Debian's build without
// Secure Boot) on bochs-display, with efivarfs mounted as systemd mounts
// it. `bootsplash run` with themes/firmware must read from the firmware's
// variables that Secure Boot is off and draw the theme's [secure_boot]
// line on efifb's fb0: the screendump must equal, pixel for pixel,
// `render --bgrt --secure-boot off` at the GOP's size, and differ from
// the render without the line. (TestVMFirmwareFramebuffer boots OVMF
// without efivarfs mounted, TestVMVesafbHandover SeaBIOS with no UEFI:
// both draw no line, their screendumps equal to render's without it.)
func TestVMFirmwareSecureBoot(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	g := newLateBochs(t, ctx, "secureboot")
	const bs, gh = "/bin/bootsplash", "/bin/guesthelper"
	fw := newFirmwareScreens(t, g.out, g.themeDir)
	fw.secureBoot = display.SecureBootOff
	efiFiles, efiSteps := efivarfsFiles(t, g.k, gh)
	long := proto.Duration(3 * time.Minute)
	steps := bgrtCopySteps(gh)
	steps = append(steps, efiSteps...)
	// This firmware has both variables, Secure Boot off and a platform
	// key enrolled or not: their bytes are checked below.
	for _, v := range []string{"SecureBoot", "SetupMode"} {
		steps = append(steps, proto.Step{Name: v, Cmd: []string{gh, "cat", display.EFIVarsDir + "/" + v + "-8be4df61-93ca-11d2-aa0d-00e098032b8c"}})
	}
	var shot *image.RGBA
	steps = append(steps, []proto.Step{
		{Name: "run", Cmd: []string{bs, "run", "-v", "--theme", "/theme/theme.toml"}, Background: true, WaitFor: "first frame", Timeout: long},
		{Name: "on fb0", Host: true, Timeout: long},
		{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
		{Name: "wait run", Wait: "run", Timeout: long},
	}...)
	cfg := g.ovmfConfig(t, BochsDisplay, 10*time.Minute, steps)
	cfg.Files = append(cfg.Files, efiFiles...)
	cfg.ExtraArgs = ovmfPflash(t, g.out)
	cfg.Host = map[string]HostFunc{
		"copy bgrt": fw.copyBGRT,
		"on fb0": func(ctx context.Context, m *Machine) error {
			var err error
			if shot, err = fw.await(m, "fb0", splash.State{}, 2*time.Minute); err != nil {
				return err
			}
			return writePNG(filepath.Join(g.out, "fb0-secure-boot-off.png"), shot)
		},
	}
	rep, run := bootRun(t, ctx, cfg)
	if w := "secure boot: off, says the firmware: the theme's warning is drawn"; !strings.Contains(run, w) {
		t.Errorf("bootsplash run's log does not say %q", w)
	}
	sb, setup := rep.Step("SecureBoot").Output, rep.Step("SetupMode").Output
	t.Logf("OVMF's variables (%d): SecureBoot % x, SetupMode % x (4 bytes of attributes, then the value)", strings.Count(string(rep.Step("efivars").Output), "\n"), sb, setup)
	if len(sb) != 5 || sb[4] != 0 {
		t.Errorf("SecureBoot is % x: Debian's OVMF_CODE_4M.fd was expected to say 0 (off)", sb)
	}
	if shot == nil {
		return
	}
	fw.secureBoot = display.SecureBootUnknown
	none, err := fw.want(shot.Bounds().Size(), splash.State{})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := comparePixels(shot, none)
	if n == 0 {
		t.Error("the screen is the render without the Secure Boot line")
	}
	t.Logf("screendump of fb0 (%v) equals render --bgrt --secure-boot off in every pixel; %d pixels differ from the render without the line (kept as fb0-secure-boot-off.png)", shot.Bounds().Size(), n)
}
