package vmtest

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// needOVMF fails the test when OVMF, the UEFI firmware the firmware tests
// boot through, is not installed.
func needOVMF(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(OVMF); err != nil {
		t.Fatalf("UEFI firmware for the VM (apt-get install ovmf): %v", err)
	}
}

// ovmfConfig sets up the boot of g's guest on dev through OVMF with no DRM
// driver loaded at boot, so that efifb's fb0 is the only display: g's
// files, no late modules (no vgem), fbcon's cursor off, and a plan that
// waits up to two minutes for /dev/fb0 before it runs steps. Tests add
// their own files, firmware options, kernel arguments and host steps.
func (g *lateBochs) ovmfConfig(t *testing.T, dev Device, timeout time.Duration, steps []proto.Step) Config {
	return Config{
		Kernel: g.k, Device: dev, GuestInit: g.guestInit, Logf: t.Logf, WorkDir: g.out, Timeout: timeout,
		Modules:     []ModuleSpec{}, // no DRM driver: efifb's fb0 is the display
		LateModules: []ModuleSpec{},
		Files:       append([]File{}, g.files...),
		ExtraArgs:   []string{"-bios", OVMF},
		// The cursor would blink on fbcon's console over the splash
		// until the splash puts the VT in graphics mode.
		Append: []string{"vt.global_cursor_default=0"},
		Plan:   proto.Plan{WaitPaths: []string{"/dev/fb0"}, WaitTimeout: proto.Duration(2 * time.Minute), Steps: steps},
	}
}

// newPlymouthGuest sets up the guest in which plymouthd is timed against
// the splash on OVMF's efifb: newLateBochs's guest, plus Debian's
// plymouthd with its frame-buffer and DRM renderers and the BGRT theme
// (which takes the spinner theme's images), conf as its plymouthd.conf
// (the first one given wins over plymouthdFiles' own), and
// /bin/ttff_plymouth, which starts plymouthd as an initramfs starts it.
// The files are g.files, not yet deduplicated.
func newPlymouthGuest(t *testing.T, ctx context.Context, name, conf string) *lateBochs {
	t.Helper()
	needOVMF(t)
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed to build the plymouthd launcher (apt-get install gcc libc6-dev): %v", err)
	}
	g := newLateBochs(t, ctx, name)
	launcher := filepath.Join(g.dir, "ttff_plymouth")
	buildC(t, ctx, g.root, "ttff_plymouth.c", launcher)
	base := fetchDebTree(t, ctx, g.root, "plymouth")
	themes := fetchDebTree(t, ctx, g.root, "plymouth-themes")
	const plugins = "/usr/lib/x86_64-linux-gnu/plymouth"
	files := append(append([]File{}, g.files...), File{Path: "/etc/plymouth/plymouthd.conf", Data: []byte(conf)})
	fb, err := ProgramFiles(filepath.Join(base, plugins, "renderers/frame-buffer.so"), plugins+"/renderers/frame-buffer.so")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, fb...)
	const bgrtTheme = "/usr/share/plymouth/themes/bgrt"
	entries, err := os.ReadDir(filepath.Join(themes, bgrtTheme))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files = append(files, File{Path: bgrtTheme + "/" + e.Name(), HostPath: filepath.Join(themes, bgrtTheme, e.Name())})
	}
	files = append(files, plymouthdFiles(t, ctx, g.root)...)
	g.files = append(files, File{Path: "/bin/ttff_plymouth", HostPath: launcher})
	return g
}

// firstFrameSteps set up the timing of `bootsplash run` on the firmware
// framebuffer before plymouthd runs in the same boot: the guest's uptime
// read (for kernelStartOffset), the screen armed ("arm bootsplash"), the
// splash started, its first change seen ("seen bootsplash") and the splash
// quit, then the console cleared for what comes next.
func firstFrameSteps(long proto.Duration) []proto.Step {
	const bs, gh = "/bin/bootsplash", "/bin/guesthelper"
	return []proto.Step{
		{Name: "uptime", Cmd: []string{gh, "cat", "/proc/uptime"}},
		{Name: "arm bootsplash", Host: true},
		{Name: "bootsplash", Cmd: []string{bs, "run", "-v", "--theme", "/theme/theme.toml"}, Background: true, WaitFor: "first frame", Timeout: long},
		{Name: "seen bootsplash", Host: true, Timeout: long},
		{Name: "bootsplash quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
		{Name: "bootsplash wait", Wait: "bootsplash", Timeout: long},
		{Name: "clear", Write: &proto.WriteFile{Path: "/dev/tty1", Data: []byte(clearConsole)}},
	}
}

// plymouthdQuitSteps ask plymouthd, started by the step "plymouthd", to
// quit and wait for it.
func plymouthdQuitSteps() []proto.Step {
	return []proto.Step{
		{Name: "plymouthd quit", Cmd: []string{"/usr/bin/plymouth", "quit"}, Timeout: proto.Duration(20 * time.Second)},
		{Name: "plymouthd wait", Wait: "plymouthd", Timeout: proto.Duration(10 * time.Second)},
	}
}

// screenChanges are a boot's changeWatches by name, set up by its host
// steps.
type screenChanges map[string]*changeWatch

// arm is the host step that takes the screen as it is and starts watching
// it for a change, as name.
func (c screenChanges) arm(name string) HostFunc {
	return func(ctx context.Context, m *Machine) error {
		w, err := watchChange(m, name)
		c[name] = w
		return err
	}
}

// seen is the host step that waits up to timeout for name's change.
func (c screenChanges) seen(name string, timeout time.Duration) HostFunc {
	return func(ctx context.Context, m *Machine) error {
		return c[name].wait(timeout)
	}
}

// newFirmwareScreens sets up the screens a firmware test compares with:
// the theme of themeDir rendered with the guest's firmware logo (once
// copyBGRT has read it), the renders kept in dir.
func newFirmwareScreens(t *testing.T, dir, themeDir string) *firmwareScreens {
	t.Helper()
	th, err := theme.Load(filepath.Join(themeDir, "theme.toml"), theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &firmwareScreens{dir: dir, theme: th, frames: map[string]image.Image{}}
}

// efifbHandover sets up the handover from efifb's fb0 to a DRM driver
// loaded late: `bootsplash run` with themes/firmware on fb0, the driver
// loaded while the screen is watched, the splash on card0, then a
// progress update there. fw is what the screen must show; fb0 and card0
// are the screendumps the test's own "on fb0" and "on card0" host steps
// keep; watch is started by the host step "watch" and ended by the test's
// "on card0".
type efifbHandover struct {
	fw         *firmwareScreens
	fb0, card0 *image.RGBA
	watch      *screenWatch
}

// steps are the handover's plan from the splash's start: "run", "on fb0",
// "watch", load (insmod), "card0", "on card0", then afterCard, "dmesg",
// "progress 50", "card0 at 50", "quit" and "wait run".
func (h *efifbHandover) steps(load string, insmod []string, long proto.Duration, afterCard ...proto.Step) []proto.Step {
	const bs, gh = "/bin/bootsplash", "/bin/guesthelper"
	steps := []proto.Step{
		{Name: "run", Cmd: []string{bs, "run", "-v", "--theme", "/theme/theme.toml"}, Background: true, WaitFor: "first frame", Timeout: long},
		{Name: "on fb0", Host: true, Timeout: long},
		{Name: "watch", Host: true},
		{Name: load, Cmd: insmod, Timeout: long},
		{Name: "card0", WaitPath: "/dev/dri/card0", Timeout: long},
		{Name: "on card0", Host: true, Timeout: long},
	}
	steps = append(steps, afterCard...)
	return append(steps, []proto.Step{
		{Name: "dmesg", Cmd: []string{gh, "dmesg"}},
		{Name: "progress 50", Cmd: []string{bs, "ctl", "progress", "50"}, Timeout: long},
		{Name: "card0 at 50", Host: true, Timeout: long},
		{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
		{Name: "wait run", Wait: "run", Timeout: long},
	}...)
}

// host are the handover's host steps but "on fb0" and "on card0", which
// the test adds: "copy bgrt", "watch" (the splash as it is at its start
// wanted at every size) and "card0 at 50".
func (h *efifbHandover) host() map[string]HostFunc {
	return map[string]HostFunc{
		"copy bgrt": h.fw.copyBGRT,
		"watch": func(ctx context.Context, m *Machine) error {
			h.watch = watchScreen(m, func(size image.Point) (image.Image, error) { return h.fw.want(size, splash.State{}) })
			return nil
		},
		"card0 at 50": func(ctx context.Context, m *Machine) error {
			_, err := h.fw.await(m, "card0-50", splash.State{Progress: 0.5}, 2*time.Minute)
			return err
		},
	}
}

// checkRunLog fails the test for each of want that bootsplash run's log
// run does not say.
func checkRunLog(t *testing.T, run string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}
}

// logHandoverGap logs the handover's gap from efifb's removal to the first
// frame on card0 as bootsplash run's log run gives it, and fails the test
// when it does not.
func logHandoverGap(t *testing.T, run string) {
	t.Helper()
	if m := regexp.MustCompile(`first frame on /dev/dri/card0 ([0-9.]+)ms after the last frame on /dev/fb0 \(([0-9.]+)ms after the kernel removed it; ([0-9.]+)ms after the card's event came\)`).FindStringSubmatch(run); m != nil {
		t.Logf("handover gap: first frame on card0 %sms after the kernel removed efifb's fb0 (%sms after the card's event came; %sms after the last frame drawn on fb0)", m[2], m[3], m[1])
	} else {
		t.Errorf("bootsplash run's log does not give the handover's gap from the framebuffer's removal")
	}
}

// plymouthHost are the host steps of firstFrameSteps and of plymouthd's
// start ("arm plymouthd", then "seen plymouthd" once it runs): the screen
// watched for bootsplash's first change (30 s) and for plymouthd's, which
// is waited for up to plymouthdWait and may not come: plymouthd showing
// nothing is a result the test reports, not a failed step.
func (c screenChanges) plymouthHost(plymouthdWait time.Duration) map[string]HostFunc {
	return map[string]HostFunc{
		"arm bootsplash":  c.arm("bootsplash"),
		"seen bootsplash": c.seen("bootsplash", 30*time.Second),
		"arm plymouthd":   c.arm("plymouthd"),
		"seen plymouthd": func(ctx context.Context, m *Machine) error {
			_ = c["plymouthd"].wait(plymouthdWait)
			return nil
		},
	}
}

// bootRun boots cfg as bootChecked does and logs the output of its step
// "run", bootsplash run -v's log, which it returns.
func bootRun(t *testing.T, ctx context.Context, cfg Config) (*Report, string) {
	t.Helper()
	rep := bootChecked(t, ctx, cfg)
	run := string(rep.Step("run").Output)
	t.Logf("bootsplash run -v:\n%s", run)
	return rep, run
}
