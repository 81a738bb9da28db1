package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// TestVMFirmwareBadBGRT boots the Debian 6.12 kernel through OVMF on
// bochs-display with only efifb's fb0, as TestVMFirmwareFramebuffer does,
// and starts `bootsplash run` with themes/firmware (which takes the
// firmware's logo) once with the guest's own ACPI BGRT, then once for each
// bad image bind-mounted over /sys/firmware/acpi/bgrt/image (unmounted
// after each): a file that is not a BMP, the real image cut to half its
// length, the real image extended with a hole to one byte over the splash's
// cap on a logo file (display.MaxLogoBytes), and a BMP whose header says
// 8192x8192 (over display.MaxLogoPixels). With the real image the screen
// must be `render --bgrt`'s; with each bad one the splash must come up,
// say in its log which file is wrong and why, and draw the theme's own
// logo instead: the screendump must equal `render` without --bgrt (and
// without the Secure Boot line: efivarfs is not mounted) in every pixel.
// Before each run the console is cleared and the screen seen not to be
// the splash, so each match is that run's own frame. Each run's time to
// its first frame is logged beside the real image's; a bad image may not
// add more than a second to it (the file over the cap is refused by its
// size, not read).
func TestVMFirmwareBadBGRT(t *testing.T) {
	vmEnabled(t)
	needOVMF(t)
	ctx := context.Background()
	g := newLateBochs(t, ctx, "firmware-bad-bgrt")
	const bs, gh = "/bin/bootsplash", "/bin/guesthelper"
	const bgrtImage = display.BGRTDir + "/image"
	// withLogo draws render --bgrt with the guest's BGRT; plain draws
	// render without it, the theme's own logo.
	withLogo := newFirmwareScreens(t, g.out, g.themeDir)
	plainDir := filepath.Join(g.out, "no-bgrt")
	if err := os.MkdirAll(plainDir, 0o755); err != nil {
		t.Fatal(err)
	}
	plain := newFirmwareScreens(t, plainDir, g.themeDir)

	// A BMP whose header says 8192x8192 over 1 KiB of pixels.
	var huge bytes.Buffer
	if err := bmp.Encode(&huge, image.NewRGBA(image.Rect(0, 0, 16, 16))); err != nil {
		t.Fatal(err)
	}
	hugeBMP := huge.Bytes()
	copy(hugeBMP[18:], []byte{0, 0x20, 0, 0, 0, 0x20, 0, 0})

	type badCase struct {
		name string
		// make puts the bad image at /tmp/NAME.bmp.
		make proto.Step
		// want is what the log must say about the image.
		want string
	}
	tmp := func(name string) string { return "/tmp/" + name + ".bmp" }
	cases := []badCase{
		{"corrupt", proto.Step{Write: &proto.WriteFile{Path: tmp("corrupt"), Data: []byte("BM this is not a bitmap, whatever its first two bytes say")}},
			"not a BMP the splash can read"},
		{"truncated", proto.Step{Cmd: []string{gh, "truncate", bgrtImage, tmp("truncated"), "half"}},
			"corrupt BMP"},
		{"oversized", proto.Step{Cmd: []string{gh, "truncate", bgrtImage, tmp("oversized"), strconv.Itoa(display.MaxLogoBytes + 1)}},
			// Refused by its size, before it is read.
			fmt.Sprintf("%d bytes, over the limit of %d bytes", display.MaxLogoBytes+1, display.MaxLogoBytes)},
		{"8192x8192", proto.Step{Write: &proto.WriteFile{Path: tmp("8192x8192"), Data: hugeBMP}},
			fmt.Sprintf("8192x8192 is over the limit of %d pixels", display.MaxLogoPixels)},
	}

	long := proto.Duration(time.Minute)
	steps := bgrtCopySteps(gh)
	// runSteps start the splash and quit it once the screen shows what
	// screen waits for; the console is cleared first and seen not to be
	// the splash.
	runSteps := func(name string) []proto.Step {
		return []proto.Step{
			{Name: name + " clear", Write: &proto.WriteFile{Path: "/dev/tty1", Data: []byte(clearConsole)}},
			{Name: name + " cleared", Host: true, Timeout: long},
			{Name: name + " run", Cmd: []string{bs, "run", "-v", "--theme", "/theme/theme.toml"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: name + " screen", Host: true, Timeout: long},
			{Name: name + " quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: name + " wait", Wait: name + " run", Timeout: long},
		}
	}
	steps = append(steps, runSteps("real")...)
	for _, c := range cases {
		mk := c.make
		mk.Name = c.name + " make"
		steps = append(steps, mk,
			proto.Step{Name: c.name + " bind", Cmd: []string{gh, "bind", tmp(c.name), bgrtImage}})
		steps = append(steps, runSteps(c.name)...)
		steps = append(steps, proto.Step{Name: c.name + " umount", Cmd: []string{gh, "umount", bgrtImage}})
	}
	// The kernel's image is back once the last is unmounted.
	steps = append(steps, proto.Step{Name: "image after", Cmd: []string{gh, "cat", bgrtImage}})

	// notSplash waits until the screen is not the splash: what comes on
	// screen next is the next run's.
	notSplash := func(ctx context.Context, m *Machine) error {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			shot, err := m.Screendump("cleared", 0)
			if err != nil {
				return err
			}
			size := shot.Bounds().Size()
			a, err := withLogo.want(size, splash.State{})
			if err != nil {
				return err
			}
			b, err := plain.want(size, splash.State{})
			if err != nil {
				return err
			}
			na, _ := comparePixels(shot, a)
			nb, _ := comparePixels(shot, b)
			if na != 0 && nb != 0 {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("the screen still shows the splash 30s after it quit and the console was cleared")
	}
	shots := map[string]*image.RGBA{}
	host := map[string]HostFunc{
		"copy bgrt":    withLogo.copyBGRT,
		"real cleared": notSplash,
		"real screen": func(ctx context.Context, m *Machine) error {
			var err error
			shots["real"], err = withLogo.await(m, "real", splash.State{}, time.Minute)
			return err
		},
	}
	for _, c := range cases {
		name := c.name
		host[name+" cleared"] = notSplash
		host[name+" screen"] = func(ctx context.Context, m *Machine) error {
			var err error
			shots[name], err = plain.await(m, name, splash.State{}, time.Minute)
			return err
		}
	}
	cfg := g.ovmfConfig(t, BochsDisplay, 10*time.Minute, steps)
	cfg.Host = host
	rep := bootChecked(t, ctx, cfg)

	firstFrame := regexp.MustCompile(`first frame after ([0-9.]+)ms`)
	var summary strings.Builder
	fmt.Fprintf(&summary, "bad ACPI BGRT images bind-mounted over %s, OVMF on bochs-display, efifb's fb0 (%s):\n", bgrtImage, g.k.Release)
	var realMs float64
	report := func(name, want string) {
		run := string(rep.Step(name + " run").Output)
		_ = os.WriteFile(filepath.Join(g.out, name+"-run.log"), []byte(run), 0o644)
		if !strings.Contains(run, want) {
			t.Errorf("%s: bootsplash run's log does not say %q:\n%s", name, want, run)
		}
		if w := "secure boot: efivarfs is not mounted"; !strings.Contains(run, w) {
			t.Errorf("%s: bootsplash run's log does not say %q", name, w)
		}
		ms := "?"
		if m := firstFrame.FindStringSubmatch(run); m != nil {
			ms = m[1] + "ms"
			d, _ := strconv.ParseFloat(m[1], 64)
			if name == "real" {
				realMs = d
			} else if d > realMs+1000 {
				// A bad image is refused before it is read
				// or decoded in full: no slower than the good one.
				t.Errorf("%s: first frame %.1fms after start, over a second later than with the real image (%.1fms)", name, d, realMs)
			}
		} else {
			t.Errorf("%s: bootsplash run's log does not give its first frame's time", name)
		}
		line := ""
		for _, l := range strings.Split(run, "\n") {
			if strings.Contains(l, "firmware logo:") {
				line = strings.TrimSpace(l)
			}
		}
		if name != "real" && !strings.Contains(line, "the theme's logo is drawn") {
			t.Errorf("%s: bootsplash run's log does not say the theme's logo is drawn: %q", name, line)
		}
		size := "?"
		if r := rep.Step(name + " make"); name != "real" && r.OK() && len(r.Output) > 0 {
			size = strings.TrimSpace(string(r.Output))
		}
		on := "no match"
		if s := shots[name]; s != nil {
			on = fmt.Sprintf("screen %v = render without --bgrt, 0 pixels differ", s.Bounds().Size())
			if name == "real" {
				on = fmt.Sprintf("screen %v = render --bgrt, 0 pixels differ", s.Bounds().Size())
			}
		}
		fmt.Fprintf(&summary, "  %-9s first frame %s after start; %s; log: %s\n", name, ms, on, line)
		if name != "real" && size != "?" {
			fmt.Fprintf(&summary, "  %-9s (%s)\n", "", size)
		}
	}
	report("real", "firmware logo: ACPI BGRT ")
	for _, c := range cases {
		report(c.name, "firmware logo: "+bgrtImage+": "+c.want)
	}
	if s := shots["real"]; s != nil {
		if b, err := plain.want(s.Bounds().Size(), splash.State{}); err == nil {
			n, _ := comparePixels(s, b)
			if n == 0 {
				t.Error("render --bgrt and render without it are the same picture: the fallback is not told apart")
			}
			fmt.Fprintf(&summary, "  render --bgrt and render without it differ in %d pixels (OVMF's logo %v at %v against the theme's)\n",
				n, withLogo.logo.Image.Bounds().Size(), withLogo.logo.Offset)
		}
	}
	if a, b := rep.Step("image after").Output, rep.Step("bgrt image").Output; len(b) == 0 || !bytes.Equal(a, b) {
		t.Errorf("%s after the last unmount: %d bytes, not the kernel's %d", bgrtImage, len(a), len(b))
	}
	t.Log("\n" + summary.String())
	_ = os.WriteFile(filepath.Join(g.out, "summary.txt"), []byte(summary.String()), 0o644)
}
