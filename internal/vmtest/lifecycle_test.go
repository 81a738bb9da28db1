package vmtest

import (
	"context"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// TestVMLifecycle boots cirrus on 6.12 (fbdev emulation on) and runs
// bootsplash next to a second DRM client (internal/drmholder), in turn:
//
//   - master wait: the holder is DRM master and closes the card after 1 s;
//     bootsplash run must say it waits for master, then show its frame;
//   - reactivate: after `ctl deactivate` the holder takes master and shows
//     green at 800x600 (checked on a screendump); after `ctl reactivate`
//     the screen is the splash again at bootsplash's own mode;
//   - plain quit with the holder still holding the card: the primary plane
//     no longer shows the splash (drmholder compare);
//   - retained quit: a successor holds the card (without master); after
//     `ctl quit --retain` run exits 0 by itself, the primary plane's
//     framebuffer (GETFB2, mapped over PRIME) equals the splash pixel for
//     pixel, and so does a screendump taken after the exit.
//
// lifecyclePrograms are the guest programs of the lifecycle tests: the
// splash and a second DRM client.
func lifecyclePrograms() map[string]string {
	return map[string]string{"bootsplash": "./cmd/bootsplash", "drmholder": "./internal/vmtest/internal/drmholder"}
}

func TestVMLifecycle(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, lifecyclePrograms())
	k := fetchKernel(t, ctx, root, Kernel612)
	out := freshOut(t, root, "lifecycle")

	const bs, h = "/bin/bootsplash", "/bin/drmholder"
	long := proto.Duration(60 * time.Second)
	shots := map[string]*image.RGBA{}
	shot := func(name string) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			img, _, err := m.StableScreendump(name, -1, 200*time.Millisecond, 10)
			shots[name] = img
			return err
		}
	}
	cfg := Config{
		Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 6 * time.Minute,
		Files: []File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}, {Path: h, HostPath: filepath.Join(dir, "drmholder")}},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0"}, Steps: []proto.Step{
			{Name: "hog", Cmd: []string{h, "hold"}, Background: true, WaitFor: "holding", Timeout: long},
			{Name: "run refused", Cmd: []string{bs, "run", "-v", "--master-wait", "700ms"}, Timeout: long},
			{Name: "stop hog", Stop: "hog"},
			{Name: "master holder", Cmd: []string{h, "hold", "-release-after", "1s"}, Background: true, WaitFor: "holding", Timeout: long},
			{Name: "run", Cmd: []string{bs, "run", "-v", "--master-wait", "20s"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "deactivate", Cmd: []string{bs, "ctl", "deactivate"}, Timeout: long},
			{Name: "steal", Cmd: []string{h, "steal", "800x600"}, Background: true, WaitFor: "stole the display", Timeout: long},
			{Name: "stolen", Host: true},
			{Name: "reactivate", Cmd: []string{bs, "ctl", "reactivate"}, Timeout: long},
			{Name: "reactivated", Host: true},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
			{Name: "compare after quit", Cmd: []string{h, "compare"}, Timeout: long},
			{Name: "stop steal", Stop: "steal"},
			{Name: "stop master holder", Stop: "master holder"},

			{Name: "successor", Cmd: []string{h, "hold", "-drop"}, Background: true, WaitFor: "holding", Timeout: long},
			{Name: "run retained", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "quit retain", Cmd: []string{bs, "ctl", "quit", "--retain"}, Timeout: long},
			{Name: "wait run retained", Wait: "run retained", Timeout: long},
			{Name: "compare retained", Cmd: []string{h, "compare"}, Timeout: long},
			{Name: "retained", Host: true},
			{Name: "stop successor", Stop: "successor"},
		}},
		Host: map[string]HostFunc{"stolen": shot("stolen"), "reactivated": shot("reactivated"), "retained": shot("retained")},
	}
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Plan.Steps {
		r := rep.Step(s.Name)
		t.Logf("step %q: exit %d %s\n%s", s.Name, r.Code, r.Note, tail(string(r.Output), 30))
	}
	ok := func(step string) {
		t.Helper()
		if r := rep.Step(step); !r.OK() {
			t.Errorf("%s: exit %d %s\n%s", step, r.Code, r.Note, r.Output)
		}
	}

	// Master wait, bounded.
	if r := rep.Step("hog"); !strings.Contains(string(r.Output), "master true") {
		t.Errorf("the hog was not master:\n%s", r.Output)
	}
	if r := rep.Step("run refused"); !r.Exited || r.Code == 0 || !strings.Contains(string(r.Output), "no DRM master after waiting 700ms") {
		t.Errorf("bootsplash run --master-wait 700ms next to a master that never lets go: exit %d %s, want a failure saying so\n%s", r.Code, r.Note, r.Output)
	}

	// Master wait.
	if r := rep.Step("master holder"); !strings.Contains(string(r.Output), "master true") || !strings.Contains(string(r.Output), "released") {
		t.Errorf("the first holder was not master, or never released the card:\n%s", r.Output)
	}
	run := string(rep.Step("run").Output)
	if !rep.Step("run").Waited {
		t.Fatalf("bootsplash run never showed its first frame:\n%s", run)
	}
	for _, w := range []string{"waiting for DRM master (held by another process)", "took DRM master"} {
		if !strings.Contains(run, w) {
			t.Errorf("bootsplash run's log does not say %q", w)
		}
	}

	// Reactivate over a CRTC someone else changed.
	ok("deactivate")
	ok("reactivate")
	stolen := shots["stolen"]
	if stolen == nil || stolen.Bounds().Size() != image.Pt(800, 600) || stolen.RGBAAt(400, 300) != (color.RGBA{G: 0xff, A: 0xff}) {
		t.Errorf("the second client did not show green at 800x600 while bootsplash was deactivated (the check below would prove nothing)")
	}
	compareSplash(t, out, "reactivated", shots["reactivated"])
	if s := shots["reactivated"]; s != nil && s.Bounds().Size() == image.Pt(800, 600) {
		t.Errorf("after reactivate the screen is still at the other client's 800x600")
	}

	// A plain quit removes the splash from the plane.
	ok("quit")
	ok("wait run")
	ok("run")
	if r := rep.Step("compare after quit"); r.Code != 3 && r.Code != 4 {
		t.Errorf("after a plain quit the primary plane should not show the splash; drmholder compare: exit %d %s\n%s", r.Code, r.Note, r.Output)
	}

	// A retained quit leaves it there for the successor.
	ok("quit retain")
	ok("wait run retained")
	ok("run retained")
	if r := rep.Step("run retained"); !strings.Contains(string(r.Output), "CLOSEFB") {
		t.Errorf("bootsplash run --retain's log does not say the frame was left with CLOSEFB:\n%s", r.Output)
	}
	if r := rep.Step("compare retained"); !r.OK() || !strings.Contains(string(r.Output), "pixel for pixel") {
		t.Errorf("after quit --retain the primary plane does not show the splash: exit %d %s\n%s", r.Code, r.Note, r.Output)
	}
	compareSplash(t, out, "retained", shots["retained"])
	ok("successor")
}

// TestVMRetainOldKernel checks quit --retain on 6.1, which lacks CLOSEFB:
// bootsplash says the splash cannot outlive it there and still exits 0,
// and the framebuffer goes with its device file.
func TestVMRetainOldKernel(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, lifecyclePrograms())
	k := fetchKernel(t, ctx, root, Kernel61)
	const bs, h = "/bin/bootsplash", "/bin/drmholder"
	long := proto.Duration(60 * time.Second)
	cfg := Config{
		Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, Timeout: 3 * time.Minute,
		WorkDir: filepath.Join(root, "out", "vmtest", "retain-6.1"),
		Files:   []File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}, {Path: h, HostPath: filepath.Join(dir, "drmholder")}},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0"}, Steps: []proto.Step{
			{Name: "successor", Cmd: []string{h, "hold", "-drop"}, Background: true, WaitFor: "holding", Timeout: long},
			{Name: "run retained", Cmd: []string{bs, "run", "-v"}, Background: true, WaitFor: "first frame", Timeout: long},
			{Name: "quit retain", Cmd: []string{bs, "ctl", "quit", "--retain"}, Timeout: long},
			{Name: "wait run retained", Wait: "run retained", Timeout: long},
			{Name: "compare", Cmd: []string{h, "compare"}, Timeout: long},
			{Name: "stop successor", Stop: "successor"},
		}},
	}
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Step("run retained")
	t.Logf("bootsplash run:\n%s", r.Output)
	if !r.OK() {
		t.Errorf("bootsplash run: exit %d %s", r.Code, r.Note)
	}
	if !strings.Contains(string(r.Output), "kernels with CLOSEFB (6.8+)") {
		t.Errorf("bootsplash run --retain on 6.1 does not say the splash cannot be retained without CLOSEFB")
	}
	if c := rep.Step("compare"); c.Code != 3 {
		t.Errorf("on 6.1 the framebuffer should go with bootsplash's device file; drmholder compare: exit %d %s\n%s", c.Code, c.Note, c.Output)
	}
}

// compareSplash requires a screendump to equal the splash's first frame
// at its size, leaving both under out/NAME on a mismatch.
func compareSplash(t *testing.T, out, name string, shot *image.RGBA) {
	t.Helper()
	if shot == nil {
		t.Errorf("%s: no screendump", name)
		return
	}
	size := shot.Bounds().Size()
	dir := filepath.Join(out, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	renderPNG := filepath.Join(dir, "render.png")
	if err := splash.RenderFrame(renderPNG, splash.FrameOptions{Width: size.X, Height: size.Y}); err != nil {
		t.Fatal(err)
	}
	want, err := readPNG(renderPNG)
	if err != nil {
		t.Fatal(err)
	}
	if n, first := comparePixels(shot, want); n != 0 {
		screenPNG := filepath.Join(dir, "screen.png")
		if err := writePNG(screenPNG, shot); err != nil {
			t.Error(err)
		}
		t.Errorf("%s: screen and the splash differ in %d pixels; first: %s (screen %s, render %s)", name, n, strings.Join(first, "; "), screenPNG, renderPNG)
	} else {
		t.Logf("%s: the screen (%dx%d) is the splash, pixel for pixel", name, size.X, size.Y)
	}
}
