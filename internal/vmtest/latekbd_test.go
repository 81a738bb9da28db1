package vmtest

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// TestVMLateKeyboard plugs a USB keyboard (usb-kbd on a qemu-xhci
// controller, QMP device_add) while a password is being asked, with no
// other keyboard in the guest (the i8042's atkbd is unbound first), and
// types the answer on it; Caps Lock pressed at the prompt shows the hint
// and pressed again hides it. Both keyboard paths:
//
//   - --keyboard tty: the kernel's console takes the new keyboard by
//     itself; Caps Lock, which types nothing, is seen through KDGKBLED;
//   - --keyboard evdev: the splash opens and grabs the new device when
//     the kernel's uevent announces it (the guest checks that it is open
//     and grabbed before a key is typed, and says how long it took);
//     Caps Lock is the evdev reader's own.
//
// The keyboard of the first part is unplugged before the second, so that
// the second keyboard is a late one too.
func TestVMLateKeyboard(t *testing.T) {
	vmEnabled(t)
	host := testutil.NeedCommand(t, "plymouth")
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{
		"bootsplash": "./cmd/bootsplash",
		"kbdwait":    "./internal/vmtest/internal/kbdwait",
	})
	plymouth, err := ProgramFiles(host, plymouthBin)
	if err != nil {
		t.Fatalf("the plymouth client cannot go into the guest: %v", err)
	}
	k := fetchKernel(t, ctx, root, Kernel612)
	out := freshOut(t, root, "latekbd")
	const bs, kw = "/bin/bootsplash", "/bin/kbdwait"
	const (
		prompt   = "Please unlock disk root:"
		usbName  = "USB Keyboard" // QEMU's usb-kbd: "QEMU QEMU USB Keyboard"
		ttyPass  = "usb-tty-17"
		evdvPass = "usb-evdev-29"
	)
	long := proto.Duration(90 * time.Second)
	frames := newFrameCache(out)
	pw := func(bullets int, caps bool) splash.State {
		return splash.State{Prompt: splash.Prompt{Active: true, Password: true, Text: prompt, Bullets: bullets, CapsLock: caps}}
	}
	plug := func(id string) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			if err := frames.await(m, id+" prompt", -1, pw(0, false), false, 60*time.Second); err != nil {
				return err
			}
			_, err := m.QMP().Execute("device_add", map[string]any{"driver": "usb-kbd", "bus": "xhci.0", "id": id})
			return err
		}
	}
	// Half the passphrase, Caps Lock on (the hint shows) and off again
	// (it goes), the rest and Enter.
	typing := func(name, pass string) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			half := len(pass) / 2
			if err := typeKeys(m, pass[:half]); err != nil {
				return err
			}
			if err := frames.await(m, name+" half", -1, pw(half, false), false, 60*time.Second); err != nil {
				return err
			}
			for _, caps := range []bool{true, false} {
				if err := pressKey(m, "caps_lock"); err != nil {
					return err
				}
				if err := frames.await(m, fmt.Sprintf("%s caps %t", name, caps), -1, pw(half, caps), false, 60*time.Second); err != nil {
					return err
				}
			}
			return typeKeys(m, pass[half:]+"\n")
		}
	}
	files := append([]File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}, {Path: kw, HostPath: filepath.Join(dir, "kbdwait")}}, plymouth...)
	ask := []string{plymouthBin, "ask-for-password", "--prompt", prompt}
	cfg := Config{
		Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 8 * time.Minute,
		Files: files,
		// The xHCI controller's driver and USB HID, loaded before any
		// USB keyboard is there; evdev for the second part.
		Modules: append(Cirrus.Modules(), ModuleSpec{Name: "evdev"}, ModuleSpec{Name: "xhci_pci"},
			ModuleSpec{Name: "usbhid"}, ModuleSpec{Name: "hid_generic"}),
		ExtraArgs: []string{"-device", "qemu-xhci,id=xhci"},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0", "/dev/tty0"}, Steps: []proto.Step{
			// No keyboard at all: the AT keyboard leaves.
			{Name: "unbind atkbd", Write: &proto.WriteFile{Path: "/sys/bus/serio/drivers/atkbd/unbind", Data: []byte("serio0")}},

			{Name: "run tty", Cmd: []string{bs, "run", "-v", "--keyboard", "tty"}, Background: true, WaitFor: "first frame after", Timeout: long},
			{Name: "ask tty", Cmd: ask, Background: true, Timeout: long},
			{Name: "plug tty", Host: true, Timeout: long},
			{Name: "kbd tty", Cmd: []string{kw, usbName, "60s"}, Timeout: long},
			{Name: "type tty", Host: true, Timeout: long},
			{Name: "wait ask tty", Wait: "ask tty", Timeout: long},
			{Name: "quit tty", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run tty", Wait: "run tty", Timeout: long},
			{Name: "unplug", Host: true, Timeout: long},
			{Name: "kbd gone", Cmd: []string{kw, "--gone", usbName, "60s"}, Timeout: long},

			{Name: "run evdev", Cmd: []string{bs, "run", "-v", "--keyboard", "evdev"}, Background: true, WaitFor: "first frame after", Timeout: long},
			{Name: "ask evdev", Cmd: ask, Background: true, Timeout: long},
			{Name: "plug evdev", Host: true, Timeout: long},
			{Name: "kbd evdev", Cmd: []string{kw, "--taken", usbName, "60s"}, Timeout: long},
			{Name: "type evdev", Host: true, Timeout: long},
			{Name: "wait ask evdev", Wait: "ask evdev", Timeout: long},
			{Name: "quit evdev", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run evdev", Wait: "run evdev", Timeout: long},
		}},
		Host: map[string]HostFunc{
			"plug tty":   plug("kbd1"),
			"type tty":   typing("tty", ttyPass),
			"plug evdev": plug("kbd2"),
			"type evdev": typing("evdev", evdvPass),
			"unplug": func(ctx context.Context, m *Machine) error {
				_, err := m.QMP().Execute("device_del", map[string]any{"id": "kbd1"})
				return err
			},
		},
	}
	rep := bootChecked(t, ctx, cfg)
	if got := string(rep.Step("ask tty").Output); got != ttyPass {
		t.Errorf("through the tty, plymouth ask-for-password printed %q, want %q typed on the late USB keyboard", got, ttyPass)
	}
	if got := string(rep.Step("ask evdev").Output); got != evdvPass {
		t.Errorf("through evdev, plymouth ask-for-password printed %q, want %q typed on the late USB keyboard", got, evdvPass)
	}
	run := string(rep.Step("run tty").Output) + string(rep.Step("run evdev").Output)
	for _, secret := range []string{ttyPass, evdvPass} {
		if strings.Contains(run, secret) {
			t.Errorf("bootsplash run's log holds a passphrase:\n%s", run)
		}
	}
	if m := regexp.MustCompile(`opened by pid \d+ (\S+) after`).FindStringSubmatch(string(rep.Step("kbd evdev").Output)); m != nil {
		t.Logf("evdev: the late keyboard was opened and grabbed %s after its node appeared", m[1])
	}
	for name, d := range frames.waited {
		t.Logf("%s: the screen matched after %v", name, d.Round(time.Millisecond))
	}
}
