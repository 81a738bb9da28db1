package vmtest

import (
	"context"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// TestVMVT boots cirrus on 6.12 and reads the foreground VT's mode
// (KDGETMODE, from guesthelper kdmode) around the real bootsplash:
//
//   - text before; graphics while `bootsplash run` shows; text after
//     `ctl quit`;
//   - graphics while a second run shows, and still graphics after its
//     `ctl quit --retain` (the successor takes over a quiet VT);
//   - a third run finds the VT left in graphics mode, says so, and puts
//     it in text mode on a plain quit all the same (the console comes
//     back, as with Plymouth).
func TestVMVT(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{
		"bootsplash":  "./cmd/bootsplash",
		"guesthelper": "./internal/vmtest/internal/guesthelper",
	})
	k := fetchKernel(t, ctx, root, Kernel612)

	const bs, h = "/bin/bootsplash", "/bin/guesthelper"
	// "first frame" is said once the control socket serves, after the VT
	// was taken.
	const took = "first frame"
	long := proto.Duration(60 * time.Second)
	mode := func(name string) proto.Step {
		return proto.Step{Name: name, Cmd: []string{h, "kdmode"}, Timeout: long}
	}
	cfg := Config{
		Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, Timeout: 4 * time.Minute,
		WorkDir: filepath.Join(root, "out", "vmtest", "vt"),
		Files:   []File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}, {Path: h, HostPath: filepath.Join(dir, "guesthelper")}},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0", "/dev/tty0"}, Steps: []proto.Step{
			mode("before"),
			{Name: "run", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: took, Timeout: long},
			mode("showing"),
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
			mode("after quit"),

			{Name: "run retained", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: took, Timeout: long},
			mode("showing retained"),
			{Name: "quit retain", Cmd: []string{bs, "ctl", "quit", "--retain"}, Timeout: long},
			{Name: "wait run retained", Wait: "run retained", Timeout: long},
			mode("after retained quit"),

			{Name: "run over graphics", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: took, Timeout: long},
			mode("showing over graphics"),
			{Name: "quit over graphics", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run over graphics", Wait: "run over graphics", Timeout: long},
			mode("after quit over graphics"),
		}},
	}
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Plan.Steps {
		r := rep.Step(s.Name)
		t.Logf("step %q: exit %d %s\n%s", s.Name, r.Code, r.Note, tail(string(r.Output), 20))
	}
	for _, s := range cfg.Plan.Steps {
		if r := rep.Step(s.Name); !r.OK() {
			t.Errorf("%s: exit %d %s\n%s", s.Name, r.Code, r.Note, r.Output)
		}
	}
	for step, want := range map[string]string{
		"before":                   "text",
		"showing":                  "graphics",
		"after quit":               "text",
		"showing retained":         "graphics",
		"after retained quit":      "graphics",
		"showing over graphics":    "graphics",
		"after quit over graphics": "text",
	} {
		out := strings.TrimSpace(string(rep.Step(step).Output))
		if f := strings.Fields(out); len(f) != 3 || f[0] != "kdmode" || f[2] != want {
			t.Errorf("%s: the foreground VT's mode is %q, want %s", step, out, want)
		}
	}
	for step, wants := range map[string][]string{
		"run":               {"in graphics mode while the splash shows", "back in text mode"},
		"run retained":      {"in graphics mode while the splash shows", "leaving /dev/tty1 in graphics mode for the successor"},
		"run over graphics": {"was already in graphics mode", "back in text mode"},
	} {
		for _, want := range wants {
			if r := rep.Step(step); !strings.Contains(string(r.Output), want) {
				t.Errorf("bootsplash %s's log does not say %q:\n%s", step, want, r.Output)
			}
		}
	}
}

// TestVMVTDeactivated: after `ctl deactivate` a successor (drmholder
// steal) shows green at 800x600; a plain `ctl quit` then leaves the VT in
// graphics mode and the successor's picture on the screen (the VT is the
// successor's, as Plymouth ignores mode changes after deactivate).
func TestVMVTDeactivated(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{
		"bootsplash":  "./cmd/bootsplash",
		"guesthelper": "./internal/vmtest/internal/guesthelper",
		"drmholder":   "./internal/vmtest/internal/drmholder",
	})
	k := fetchKernel(t, ctx, root, Kernel612)
	const bs, h, d = "/bin/bootsplash", "/bin/guesthelper", "/bin/drmholder"
	long := proto.Duration(60 * time.Second)
	var after *image.RGBA
	cfg := Config{
		Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, Timeout: 4 * time.Minute,
		WorkDir: filepath.Join(root, "out", "vmtest", "vt-deactivated"),
		Files: []File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}, {Path: h, HostPath: filepath.Join(dir, "guesthelper")},
			{Path: d, HostPath: filepath.Join(dir, "drmholder")}},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0", "/dev/tty0"}, Steps: []proto.Step{
			{Name: "run", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: "first frame", Timeout: long}, // said once the socket serves
			{Name: "deactivate", Cmd: []string{bs, "ctl", "deactivate"}, Timeout: long},
			{Name: "steal", Cmd: []string{d, "steal", "800x600"}, Background: true, WaitFor: "stole the display", Timeout: long},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
			{Name: "mode after quit", Cmd: []string{h, "kdmode"}, Timeout: long},
			{Name: "after quit", Host: true},
			{Name: "stop steal", Stop: "steal"},
		}},
		Host: map[string]HostFunc{"after quit": func(ctx context.Context, m *Machine) error {
			img, _, err := m.StableScreendump("after-quit", -1, 200*time.Millisecond, 10)
			after = img
			return err
		}},
	}
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Plan.Steps {
		r := rep.Step(s.Name)
		t.Logf("step %q: exit %d %s\n%s", s.Name, r.Code, r.Note, tail(string(r.Output), 20))
		if !r.OK() {
			t.Errorf("%s: exit %d %s", s.Name, r.Code, r.Note)
		}
	}
	if out := strings.TrimSpace(string(rep.Step("mode after quit").Output)); !strings.HasSuffix(out, " graphics") {
		t.Errorf("after a plain quit while deactivated the VT's mode is %q, want graphics (the successor's)", out)
	}
	if !strings.Contains(string(rep.Step("run").Output), "leaving /dev/tty1 in graphics mode for the successor") {
		t.Errorf("bootsplash run's log does not say it left the VT to the successor")
	}
	if after == nil || after.Bounds().Size() != image.Pt(800, 600) || after.RGBAAt(400, 300) != (color.RGBA{G: 0xff, A: 0xff}) {
		t.Errorf("after a plain quit while deactivated the screen is not the successor's green 800x600 (the console took it back)")
	}
}

// TestVMVTSwitch boots cirrus on 6.12 and switches VTs while `bootsplash
// run` shows: chvt 2 goes through (the splash's VT is under VT_PROCESS
// control; under VT_AUTO the kernel refuses every switch away from a VT
// in graphics mode), the console takes the screen, a progress update
// sent meanwhile is kept, and chvt 1 brings the splash back with it, pixel
// for pixel. A plain quit then leaves the VT in text mode.
func TestVMVTSwitch(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{
		"bootsplash":  "./cmd/bootsplash",
		"guesthelper": "./internal/vmtest/internal/guesthelper",
	})
	k := fetchKernel(t, ctx, root, Kernel612)
	out := freshOut(t, root, "vt-switch")
	const bs, h = "/bin/bootsplash", "/bin/guesthelper"
	long := proto.Duration(60 * time.Second)
	frames := newFrameCache(out)
	screen := func(name string, st splash.State, differ bool) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			return frames.await(m, name, -1, st, differ, 20*time.Second)
		}
	}
	cfg := Config{
		Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 4 * time.Minute,
		Files: []File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}, {Path: h, HostPath: filepath.Join(dir, "guesthelper")}},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0", "/dev/tty0"}, Steps: []proto.Step{
			{Name: "run", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "splash", Host: true},
			{Name: "chvt 2", Cmd: []string{h, "chvt", "2"}, Timeout: long},
			{Name: "console", Host: true},
			{Name: "progress away", Cmd: []string{bs, "ctl", "progress", "50"}, Timeout: long},
			{Name: "chvt 1", Cmd: []string{h, "chvt", "1"}, Timeout: long},
			{Name: "splash back", Host: true},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
			{Name: "mode after quit", Cmd: []string{h, "kdmode"}, Timeout: long},
		}},
		Host: map[string]HostFunc{
			"splash":      screen("splash", splash.State{}, false),
			"console":     screen("console", splash.State{}, true),
			"splash back": screen("back", splash.State{Progress: 0.5}, false),
		},
	}
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Plan.Steps {
		r := rep.Step(s.Name)
		if !r.OK() {
			t.Errorf("step %q: exit %d %s\n%s", s.Name, r.Code, r.Note, tail(string(r.Output), 20))
		}
	}
	run := string(rep.Step("run").Output)
	t.Logf("bootsplash run -v:\n%s", run)
	for _, w := range []string{"vt: switched away", "vt: back on the splash's VT"} {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}
	if out := strings.TrimSpace(string(rep.Step("mode after quit").Output)); out != "kdmode /dev/tty1 text" {
		t.Errorf("after a plain quit: %q, want /dev/tty1 in text mode", out)
	}
	for _, n := range []string{"chvt 2", "chvt 1"} {
		t.Logf("%s: %s", n, strings.TrimSpace(string(rep.Step(n).Output)))
	}
}
