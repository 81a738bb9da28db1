package vmtest

import (
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

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// OVMF is Debian's UEFI firmware for QEMU (package ovmf): it lights the
// screen through its GOP driver, shows its logo and publishes an ACPI BGRT
// table; the kernel's EFI stub hands the GOP mode to efifb as fb0.
const OVMF = "/usr/share/ovmf/OVMF.fd"

// TestVMFirmwareFramebuffer boots the Debian 6.12 kernel through OVMF on
// QEMU's bochs-display with no DRM module loaded: the only display is
// efifb's /dev/fb0 (OVMF's GOP on bochs-display has a linear framebuffer;
// on virtio-gpu it has none, so no efifb). `bootsplash run` (auto) with
// themes/firmware, which takes the firmware's logo, must draw on fb0,
// before any DRM module is loaded, pixel for pixel what `bootsplash
// render --bgrt` draws at the GOP's size with the guest's own ACPI BGRT
// (copied out of /sys/firmware/acpi/bgrt): OVMF's logo exactly where OVMF
// drew it. Then the bochs DRM driver is loaded in the guest: the kernel
// removes efifb ("fb0: switching to bochs-drm from EFI VGA") and card0
// appears; the splash must move to the card (the log says so and gives
// the time from the last frame on fb0 to the first on card0) and show
// there, in the same mode, exactly the screen it showed on fb0 (the two
// screendumps are compared), then follow a progress update drawn on the
// card. While the driver binds, the screen is watched: every screendump
// that is not the splash is counted and the first kept, and the time from
// kernel start to the first frame is logged.
func TestVMFirmwareFramebuffer(t *testing.T) {
	vmEnabled(t)
	needOVMF(t)
	ctx := context.Background()
	g := newLateBochs(t, ctx, "firmware")
	const gh = "/bin/guesthelper"
	out := g.out
	fw := newFirmwareScreens(t, out, g.themeDir)
	h := &efifbHandover{fw: fw}

	long := proto.Duration(3 * time.Minute)
	steps := []proto.Step{{Name: "no card", WaitPath: "/dev/dri/card0", WaitGone: true, Timeout: proto.Duration(time.Second)}}
	steps = append(steps, bgrtCopySteps(gh)...)
	steps = append(steps, proto.Step{Name: "uptime", Cmd: []string{gh, "cat", "/proc/uptime"}})
	steps = append(steps, h.steps("load bochs", g.insmod, long)...)
	cfg := g.ovmfConfig(t, BochsDisplay, 15*time.Minute, steps)
	cfg.Host = h.host()
	cfg.Host["on fb0"] = func(ctx context.Context, m *Machine) error {
		var err error
		h.fb0, err = fw.await(m, "fb0", splash.State{}, 2*time.Minute)
		return err
	}
	cfg.Host["on card0"] = func(ctx context.Context, m *Machine) error {
		var err error
		h.card0, err = fw.await(m, "card0", splash.State{}, 2*time.Minute)
		h.watch.end()
		return err
	}
	rep, run := bootRun(t, ctx, cfg)
	checkRunLog(t, run,
		"the firmware framebuffer /dev/fb0 exists",
		"no dma-buf and no DMA_BUF_IOCTL_SYNC",
		"handover: /dev/dri/card0 (bochs-drm) takes the display over from /dev/fb0",
		"firmware logo: ACPI BGRT ",
		"handover: first frame on /dev/dri/card0",
		// A UEFI boot, but nothing mounted efivarfs: no Secure Boot
		// line (the screendumps are render's without it).
		"secure boot: efivarfs is not mounted on /sys/firmware/efi/efivars",
	)
	if fw.logo != nil {
		b := fw.logo.Image.Bounds().Size()
		t.Logf("OVMF's BGRT: %dx%d at %v; fb0 compared with render --bgrt: 0 pixels differ", b.X, b.Y, fw.logo.Offset)
	}
	if fb0, card0 := h.fb0, h.card0; fb0 != nil && card0 != nil {
		n, first := comparePixels(card0, fb0)
		if n != 0 {
			t.Errorf("the card shows another picture than fb0 did: %d pixels differ; first: %s", n, strings.Join(first, "; "))
		} else {
			t.Logf("screendumps compared: fb0 (efifb) before and card0 (bochs-drm) after the handover: %v, 0 pixels differ", card0.Bounds().Size())
		}
	}
	if h.watch != nil {
		t.Logf("while bochs bound: %s", h.watch.summary(out))
	}
	kstart := kernelStartOffset(t, rep)
	if m := regexp.MustCompile(`first frame after ([0-9.]+)ms`).FindStringSubmatch(run); m != nil && kstart >= 0 {
		ms, _ := strconv.ParseFloat(m[1], 64)
		start := rep.Step("run").Start + kstart
		t.Logf("kernel start to the first splash frame on efifb: %v (run started %v after kernel start, its first frame %.1fms later)",
			(start + time.Duration(ms*float64(time.Millisecond))).Round(time.Millisecond), start.Round(time.Millisecond), ms)
	}
	logHandoverGap(t, run)
	if d := string(rep.Step("dmesg").Output); d != "" {
		for _, l := range strings.Split(d, "\n") {
			if strings.Contains(l, "bochs") || strings.Contains(l, "fbcon") || strings.Contains(l, "efifb") || strings.Contains(l, "switching to") {
				t.Logf("dmesg: %s", strings.TrimSpace(l))
			}
		}
	}
	for _, n := range []string{"fb0", "card0", "card0-50"} {
		t.Logf("%s: on screen %v after the host step began", n, fw.waited[n].Round(time.Millisecond))
	}
}

// kernelStartOffset is how long after the kernel started the guest's init
// began counting its steps' times: /proc/uptime read by the "uptime"
// step, less that step's start. -1 when it was not read.
func kernelStartOffset(t *testing.T, rep *Report) time.Duration {
	r := rep.Step("uptime")
	if !r.OK() {
		return -1
	}
	f := strings.Fields(string(r.Output))
	if len(f) == 0 {
		return -1
	}
	up, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Errorf("/proc/uptime: %q", r.Output)
		return -1
	}
	return time.Duration(up*float64(time.Second)) - r.Start
}

// firmwareScreens renders the splash with the guest's firmware logo, as
// `bootsplash render --bgrt` does, and polls screendumps against it.
type firmwareScreens struct {
	dir   string
	theme *theme.Theme
	logo  *display.FirmwareLogo
	// secureBoot is what the splash is drawn with: a theme's
	// [secure_boot] line when it is off.
	secureBoot display.SecureBoot
	// mode is the firmware's mode, when the splash may be drawn in
	// another (zero: every screen is in the firmware's mode).
	mode   image.Point
	frames map[string]image.Image
	waited map[string]time.Duration
}

// bgrtFiles are the files of /sys/firmware/acpi/bgrt.
var bgrtFiles = []string{"type", "status", "xoffset", "yoffset", "image"}

// bgrtSteps read the guest's BGRT, each file its own step, for copyBGRT
// (a host step named "copy bgrt" after them).
func bgrtSteps(gh string) []proto.Step {
	var steps []proto.Step
	for _, f := range bgrtFiles {
		steps = append(steps, proto.Step{Name: "bgrt " + f, Cmd: []string{gh, "cat", "/sys/firmware/acpi/bgrt/" + f}})
	}
	return steps
}

// bgrtCopySteps are bgrtSteps and the host step "copy bgrt" after them,
// which the test sets to copyBGRT.
func bgrtCopySteps(gh string) []proto.Step {
	return append(bgrtSteps(gh), proto.Step{Name: "copy bgrt", Host: true})
}

// copyBGRT writes the guest's BGRT, read by bgrtSteps, to a directory
// laid out as /sys/firmware/acpi/bgrt (as `render --bgrt` takes it) and
// reads the logo from there.
func (f *firmwareScreens) copyBGRT(ctx context.Context, m *Machine) error {
	d := filepath.Join(f.dir, "bgrt")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	for _, name := range bgrtFiles {
		r := m.Result("bgrt " + name)
		if !r.OK() {
			return fmt.Errorf("the guest has no BGRT %s (OVMF publishes one): %s %s", name, r.Note, r.Output)
		}
		if err := os.WriteFile(filepath.Join(d, name), r.Output, 0o644); err != nil {
			return err
		}
	}
	l, err := display.ReadFirmwareLogo(d)
	if err != nil {
		return err
	}
	f.logo = l
	return nil
}

// want is the splash showing st on a screen of size in the firmware's
// mode.
func (f *firmwareScreens) want(size image.Point, st splash.State) (image.Image, error) {
	key := fmt.Sprintf("%dx%d-%g-sb%v", size.X, size.Y, st.Progress, f.secureBoot)
	if img, ok := f.frames[key]; ok {
		return img, nil
	}
	name := filepath.Join(f.dir, "render-bgrt-"+key+".png")
	if err := splash.RenderFrame(name, splash.FrameOptions{Width: size.X, Height: size.Y, Theme: f.theme, State: st, FirmwareLogo: f.logo, FirmwareMode: f.mode, SecureBoot: f.secureBoot}); err != nil {
		return nil, err
	}
	img, err := readPNG(name)
	if err != nil {
		return nil, err
	}
	f.frames[key] = img
	return img, nil
}

// await polls the screen until it shows st and returns that screendump;
// on failure the last one is kept as name.png.
func (f *firmwareScreens) await(m *Machine, name string, st splash.State, timeout time.Duration) (*image.RGBA, error) {
	if f.waited == nil {
		f.waited = map[string]time.Duration{}
	}
	start := time.Now()
	var last *image.RGBA
	var n int
	var first []string
	for time.Since(start) < timeout {
		shot, err := m.Screendump(name, 0)
		if err != nil {
			return nil, err
		}
		want, err := f.want(shot.Bounds().Size(), st)
		if err != nil {
			return nil, err
		}
		last = shot
		if n, first = comparePixels(shot, want); n == 0 {
			f.waited[name] = time.Since(start)
			return shot, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last != nil {
		_ = writePNG(filepath.Join(f.dir, name+".png"), last)
	}
	return nil, fmt.Errorf("%s: the screen does not show render --bgrt at %+v after %v: %d pixels differ; first: %s (kept as %s.png)",
		name, st, timeout, n, strings.Join(first, "; "), name)
}

// screenWatch takes screendumps as fast as QEMU gives them while a driver
// binds, and counts the ones that do not show the splash as expected at
// their size.
type screenWatch struct {
	want  func(size image.Point) (image.Image, error)
	stop  chan struct{}
	done  chan struct{}
	shots int
	// other counts the screendumps that were not the splash, black the
	// ones all black among them; firstOther is the first of them.
	other, black int
	firstOther   *image.RGBA
	firstAt      time.Duration
	// The last screendump showing the splash before the first that did
	// not, and the first showing it after the last that did not: the
	// gap seen from outside is at most their distance.
	lastGood, firstGoodAfter, lastOther time.Duration
	start, ended                        time.Time
	err                                 error
}

// watchScreen starts watching m's first head, want saying what it should
// show at each size.
func watchScreen(m *Machine, want func(size image.Point) (image.Image, error)) *screenWatch {
	w := &screenWatch{want: want, stop: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			shot, err := m.Screendump("watch", 0)
			if err != nil {
				w.err = err
				return
			}
			at := time.Since(w.start)
			w.shots++
			want, err := w.want(shot.Bounds().Size())
			if err != nil {
				w.err = err
				return
			}
			if n, _ := comparePixels(shot, want); n == 0 {
				if w.other == 0 {
					w.lastGood = at
				} else if w.firstGoodAfter <= w.lastOther {
					w.firstGoodAfter = at
				}
				continue
			}
			w.other++
			w.lastOther = at
			if isBlack(shot) {
				w.black++
			}
			if w.firstOther == nil {
				w.firstOther, w.firstAt = shot, at
			}
		}
	}()
	return w
}

// end stops the watch.
func (w *screenWatch) end() {
	if w == nil {
		return
	}
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	if w.ended.IsZero() {
		w.ended = time.Now()
	}
}

// summary says what was seen, keeping the first screendump that was not
// the splash as watch-other.png in dir.
func (w *screenWatch) summary(dir string) string {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	s := fmt.Sprintf("%d screendumps over %v: %d not the splash (%d all black)", w.shots, ms(w.ended.Sub(w.start)), w.other, w.black)
	if w.firstOther != nil {
		_ = writePNG(filepath.Join(dir, "watch-other.png"), w.firstOther)
		s += fmt.Sprintf(", the first %v after the watch began (kept as watch-other.png)", ms(w.firstAt))
		if w.firstGoodAfter > w.lastOther {
			s += fmt.Sprintf("; the splash was off screen for at most %v (last seen at %v, back at %v)", ms(w.firstGoodAfter-w.lastGood), ms(w.lastGood), ms(w.firstGoodAfter))
		}
	}
	if w.err != nil {
		s += fmt.Sprintf("; stopped: %v", w.err)
	}
	return s
}

// isBlack says whether every pixel of img is black.
func isBlack(img *image.RGBA) bool {
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i]|img.Pix[i+1]|img.Pix[i+2] != 0 {
			return false
		}
	}
	return true
}

// TestVMVesafb boots the Debian 6.12 kernel through SeaBIOS (no BGRT) on
// QEMU's standard VGA with vga=0x344 (VESA 1024x768, 32 bits), asking
// vesafb to pan: `bootsplash run --buffers 2` draws on vesafb's fb0, pixel
// for pixel what `bootsplash render` draws, before and after progress
// updates. vesafb pans only through the VBE protected-mode interface,
// which a kernel loaded directly by QEMU does not get (screen_info's
// vesapm_seg is 0), so it keeps yres_virtual at one screen: the splash
// must say it draws in one buffer and why. (The default theme does not
// take the firmware's logo; TestVMVesafbHandover runs one that does on
// SeaBIOS, which has none.)
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
	rep := bootChecked(t, ctx, cfg)
	run := string(rep.Step("run").Output)
	t.Logf("bootsplash run -v --buffers 2:\n%s", run)
	for _, w := range []string{"output: fb0 (VESA VGA)", "fbdev: one buffer, drawn while on screen: the virtual height 768 holds one screen"} {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}
}

// TestVMVesafbHandover boots the Debian 6.12 kernel through SeaBIOS on
// QEMU's standard VGA with vga=0x344 (vesafb's fb0, 1024x768, no BGRT):
// `bootsplash run` with themes/firmware draws on fb0 with the theme's own
// logo (there is no firmware logo), then the bochs DRM driver is loaded late
// in the guest (the kernel removes vesafb: "fb0: switching to bochs-drm
// from VESA VGA") and the splash must come to card0 in its current state,
// pixel for pixel what `bootsplash render` draws at the card's mode (the
// card's first frame is drawn before its modeset, which clears QEMU's
// VRAM, and again after it), and
// follow a progress update there. The screen is watched while the driver
// binds; screendumps before and after are kept.
func TestVMVesafbHandover(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	g := newLateBochs(t, ctx, "vesafb-handover")
	const bs, gh = "/bin/bootsplash", "/bin/guesthelper"
	guestInit, k, out, themeDir := g.guestInit, g.k, g.out, g.themeDir
	files, insmod := g.files, g.insmod
	// No BGRT on SeaBIOS: the theme's own logo stands in.
	fw := newFirmwareScreens(t, out, themeDir)
	long := proto.Duration(3 * time.Minute)
	var fb0 *image.RGBA
	var watch *screenWatch
	cfg := Config{
		Kernel: k, Device: Bochs, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 10 * time.Minute,
		Modules:     []ModuleSpec{},
		LateModules: []ModuleSpec{},
		Files:       files,
		Append:      []string{"vga=0x344", "vt.global_cursor_default=0"},
		Plan: proto.Plan{WaitPaths: []string{"/dev/fb0"}, WaitTimeout: proto.Duration(2 * time.Minute), Steps: []proto.Step{
			{Name: "run", Cmd: []string{bs, "run", "-v", "--theme", "/theme/theme.toml"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "on fb0", Host: true, Timeout: long},
			{Name: "progress 30", Cmd: []string{bs, "ctl", "progress", "30"}, Timeout: long},
			{Name: "fb0 at 30", Host: true, Timeout: long},
			{Name: "load drm", Cmd: insmod[:2], Timeout: long},
			{Name: "drm debug", Write: &proto.WriteFile{Path: "/sys/module/drm/parameters/debug", Data: []byte("0x16")}},
			{Name: "load bochs", Cmd: insmod, Timeout: long},
			{Name: "card0", WaitPath: "/dev/dri/card0", Timeout: long},
			{Name: "on card0", Host: true, Timeout: long},
			{Name: "info", Cmd: []string{bs, "info"}, Timeout: long},
			{Name: "progress 60", Cmd: []string{bs, "ctl", "progress", "60"}, Timeout: long},
			{Name: "card0 at 60", Host: true, Timeout: long},
			{Name: "dmesg", Cmd: []string{gh, "dmesg"}},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
		}},
		Host: map[string]HostFunc{
			"on fb0": func(ctx context.Context, m *Machine) error {
				_, err := fw.await(m, "fb0", splash.State{}, 2*time.Minute)
				return err
			},
			"fb0 at 30": func(ctx context.Context, m *Machine) error {
				var err error
				if fb0, err = fw.await(m, "fb0-30", splash.State{Progress: 0.3}, 2*time.Minute); err == nil {
					watch = watchScreen(m, func(size image.Point) (image.Image, error) { return fw.want(size, splash.State{Progress: 0.3}) })
				}
				return err
			},
			"on card0": func(ctx context.Context, m *Machine) error {
				defer watch.end()
				// The card's mode (bochs prefers 1280x800) is not
				// vesafb's: until it is set, the screen is vesafb's.
				if err := awaitResize(m, fb0.Bounds().Size(), time.Minute); err != nil {
					return err
				}
				_, err := fw.await(m, "card0", splash.State{Progress: 0.3}, time.Minute)
				return err
			},
			"card0 at 60": func(ctx context.Context, m *Machine) error {
				_, err := fw.await(m, "card0-60", splash.State{Progress: 0.6}, 2*time.Minute)
				return err
			},
		},
	}
	rep := bootChecked(t, ctx, cfg)
	run := string(rep.Step("run").Output)
	t.Logf("bootsplash run -v:\n%s", run)
	for _, w := range []string{"output: fb0 (VESA VGA)", "firmware logo: none (no ACPI BGRT): the theme's logo is drawn", "handover: /dev/dri/card0 (bochs-drm) takes the display over from /dev/fb0", "handover: the kernel removed /dev/fb0 (VESA VGA)", "ms after the kernel removed it", "handover: first frame on /dev/dri/card0", "secure boot: not a UEFI boot"} {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}
	if watch != nil {
		t.Logf("while bochs bound: %s", watch.summary(out))
	}
	t.Logf("info:\n%s", rep.Step("info").Output)
	_ = os.WriteFile(filepath.Join(out, "dmesg.txt"), rep.Step("dmesg").Output, 0o644)
}

// awaitResize waits until the screen's size is no longer old: the
// driver set its own mode.
func awaitResize(m *Machine, old image.Point, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		shot, err := m.Screendump("resize", 0)
		if err != nil {
			return err
		}
		if shot.Bounds().Size() != old {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the screen is still %v after %v", old, timeout)
}

// TestVMFirmwareFirstFrame times, in one boot through OVMF on
// bochs-display with the Debian 6.12 kernel and only efifb's fb0, the first
// frame on the firmware framebuffer of `bootsplash run` (themes/firmware)
// and of Debian's plymouthd (its frame-buffer renderer and BGRT theme,
// started as an initramfs starts it), each from the moment it is started
// to the first screendump that differs from the one before (seen from the
// host, polling screendumps), and from kernel start. Then the bochs DRM
// driver is loaded with no splash running: the time from its load to the
// kernel's first DRM frame (its fbdev emulation registered, fbcon on it),
// by the kernel's own log, is what the same kernel with no splash takes to
// show anything from DRM once an initramfs loads the driver.
func TestVMFirmwareFirstFrame(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	// plymouthd with its frame-buffer renderer and the BGRT theme, shown
	// at once.
	g := newPlymouthGuest(t, ctx, "firmware-first-frame", "[Daemon]\nTheme=bgrt\nShowDelay=0\nDeviceTimeout=1\n")
	const gh = "/bin/guesthelper"
	k, out := g.k, g.out
	long := proto.Duration(2 * time.Minute)
	changes := screenChanges{}
	steps := append(firstFrameSteps(long),
		proto.Step{Name: "arm plymouthd", Host: true},
		proto.Step{Name: "plymouthd", Cmd: []string{"/bin/ttff_plymouth"}, Background: true, Timeout: long},
		proto.Step{Name: "seen plymouthd", Host: true, Timeout: long})
	steps = append(steps, plymouthdQuitSteps()...)
	steps = append(steps, []proto.Step{
		{Name: "load bochs", Cmd: g.insmod, Timeout: long},
		{Name: "card0", WaitPath: "/dev/dri/card0", Timeout: long},
		{Name: "settle", Cmd: []string{gh, "exit", "0"}},
		{Name: "dmesg", Cmd: []string{gh, "dmesg"}},
	}...)
	cfg := g.ovmfConfig(t, BochsDisplay, 15*time.Minute, steps)
	cfg.Files = dedupFiles(g.files)
	cfg.Append = append(cfg.Append, "splash", "plymouth.ignore-udev", "plymouth.ignore-serial-consoles")
	// plymouthd may show nothing on the firmware framebuffer: that is a
	// result, said below.
	cfg.Host = changes.plymouthHost(30 * time.Second)
	// How plymouthd exits after `plymouth quit` is not what is checked.
	rep := bootChecked(t, ctx, cfg, "plymouthd wait")
	kstart := kernelStartOffset(t, rep)
	var summary strings.Builder
	fmt.Fprintf(&summary, "first frame through OVMF on bochs-display (%s), efifb's fb0 only:\n", k.Release)
	for _, p := range []string{"bootsplash", "plymouthd"} {
		w, r := changes[p], rep.Step(p)
		if w == nil || w.at.IsZero() || !r.Started {
			if p != "plymouthd" {
				t.Errorf("%s: no change on screen seen", p)
				continue
			}
			// With no udev (an initramfs without it, as here)
			// plymouthd tries its DRM and frame-buffer renderers on
			// /dev/dri/card0 only (its debug log says "could not find
			// suitable rendering plugin") and shows the text splash,
			// which the console does not show under quiet.
			fmt.Fprintf(&summary, "  %-10s nothing on screen within 30s of its start (no renderer for efifb's fb0)\n", p)
			continue
		}
		d := w.at.Sub(r.HostStart)
		fmt.Fprintf(&summary, "  %-10s first change on screen %v after it started (screendumps every %v on average); as if started at init: %v after kernel start\n",
			p, d.Round(time.Millisecond), w.every().Round(time.Millisecond), (kstart + rep.Step("uptime").Start + d).Round(time.Millisecond))
	}
	// The kernel's own first DRM frame: from the driver's load to its
	// fbdev emulation (fbcon's console on the card) by the kernel's log.
	if load := rep.Step("load bochs"); load.OK() && kstart >= 0 {
		var fbdevAt time.Duration
		for _, l := range strings.Split(string(rep.Step("dmesg").Output), "\n") {
			if strings.Contains(l, "bochs-drmdrmfb frame buffer device") {
				if f := strings.SplitN(l, ",", 4); len(f) == 4 {
					us, _ := strconv.ParseInt(f[2], 10, 64)
					fbdevAt = time.Duration(us) * time.Microsecond
				}
			}
		}
		if fbdevAt == 0 {
			t.Error("the kernel's log does not say bochs registered its fbdev emulation")
		} else {
			d := fbdevAt - (kstart + load.Start)
			fmt.Fprintf(&summary, "  %-10s the kernel's first DRM frame (bochs's fbdev emulation, fbcon on it) %v after the driver's load began; as if loaded at init: %v after kernel start\n",
				"no splash", d.Round(time.Millisecond), (kstart + rep.Step("uptime").Start + d).Round(time.Millisecond))
		}
	}
	if r := rep.Step("uptime"); r.OK() && kstart >= 0 {
		fmt.Fprintf(&summary, "  (the guest's init ran %v after kernel start under TCG)\n", (kstart + r.Start).Round(time.Millisecond))
	}
	t.Log("\n" + summary.String())
	_ = os.WriteFile(filepath.Join(out, "summary.txt"), []byte(summary.String()), 0o644)
	t.Logf("bootsplash run -v:\n%s", rep.Step("bootsplash").Output)
}

// changeWatch polls screendumps from when it is armed until one differs
// from the first.
type changeWatch struct {
	first  *image.RGBA
	at     time.Time // when the first differing screendump was taken
	shots  int
	start  time.Time
	done   chan struct{}
	err    error
	dumpAt time.Time
}

// watchChange takes the screen as it is and starts polling for a change.
func watchChange(m *Machine, name string) (*changeWatch, error) {
	first, err := m.Screendump("arm-"+name, 0)
	if err != nil {
		return nil, err
	}
	w := &changeWatch{first: first, start: time.Now(), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for time.Since(w.start) < 40*time.Second {
			// The screendump's time is taken before it is asked for:
			// the change happened at most then.
			at := time.Now()
			shot, err := m.Screendump("watch-"+name, 0)
			if err != nil {
				w.err = err
				return
			}
			w.shots++
			if n, _ := comparePixels(shot, w.first); n != 0 {
				w.at = at
				_ = writePNG(filepath.Join(m.WorkDir(), "changed-"+name+".png"), shot)
				return
			}
		}
		w.err = fmt.Errorf("nothing changed on screen within 40s")
	}()
	return w, nil
}

// wait waits for the change.
func (w *changeWatch) wait(timeout time.Duration) error {
	if w == nil {
		return fmt.Errorf("not armed")
	}
	select {
	case <-w.done:
		return w.err
	case <-time.After(timeout):
		return fmt.Errorf("nothing changed on screen within %v", timeout)
	}
}

// every is the average time between screendumps.
func (w *changeWatch) every() time.Duration {
	if w.shots == 0 || w.at.IsZero() {
		return 0
	}
	return w.at.Sub(w.start) / time.Duration(w.shots)
}

// lateBochs is the guest the firmware tests boot: bootsplash, insmod and
// guesthelper built for it, Debian's 6.12 kernel, themes/firmware at
// /theme, and the bochs DRM driver with what it needs put into the guest
// unloaded (under /lib/late), Insmod being the command that loads them in
// order while the splash runs on the firmware's framebuffer.
type lateBochs struct {
	root, dir, guestInit, out string
	themeDir                  string
	k                         *KernelTree
	files                     []File
	insmod                    []string
}

func newLateBochs(t *testing.T, ctx context.Context, name string) *lateBochs {
	t.Helper()
	return newLateDriver(t, ctx, name, BochsDisplay)
}

// newLateDriver is newLateBochs with dev's DRM driver (and the modules
// it needs) put in /lib/late instead of bochs.
func newLateDriver(t *testing.T, ctx context.Context, name string, dev Device) *lateBochs {
	t.Helper()
	g := &lateBochs{}
	g.root, g.dir, g.guestInit = guestBase(t, ctx)
	buildGuestPrograms(t, ctx, g.root, g.dir, map[string]string{
		"bootsplash":  "./cmd/bootsplash",
		"insmod":      "./internal/vmtest/internal/insmod",
		"guesthelper": "./internal/vmtest/internal/guesthelper",
	})
	g.k = fetchKernel(t, ctx, g.root, Kernel612)
	g.out = freshOut(t, g.root, name)
	mods, err := OrderModules(g.k.present(dev.Modules()), g.k.ModuleDepends)
	if err != nil {
		t.Fatal(err)
	}
	g.themeDir = filepath.Join(g.root, "themes", "firmware")
	g.files = []File{
		{Path: "/bin/bootsplash", HostPath: filepath.Join(g.dir, "bootsplash")},
		{Path: "/bin/insmod", HostPath: filepath.Join(g.dir, "insmod")},
		{Path: "/bin/guesthelper", HostPath: filepath.Join(g.dir, "guesthelper")},
		{Path: "/theme/theme.toml", HostPath: filepath.Join(g.themeDir, "theme.toml")},
		{Path: "/theme/logo.png", HostPath: filepath.Join(g.themeDir, "logo.png")},
	}
	g.insmod = []string{"/bin/insmod"}
	for _, m := range mods {
		b, err := g.k.Module(m.Name)
		if err != nil {
			t.Fatal(err)
		}
		p := "/lib/late/" + m.Name + ".ko"
		g.files = append(g.files, File{Path: p, Data: b})
		g.insmod = append(g.insmod, p)
	}
	return g
}
