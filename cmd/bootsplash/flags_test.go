package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// usageErrorNaming runs args and wants a usage error (exit 2) whose text
// names every string in want.
func usageErrorNaming(t *testing.T, args []string, want ...string) {
	t.Helper()
	_, _, err := runArgs(t, args...)
	if !errors.Is(err, errUsage) || exitCode(err) != 2 {
		t.Errorf("bootsplash %q: %v (exit %d), want a usage error", args, err, exitCode(err))
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("bootsplash %q: %q does not say %q", args, err, w)
		}
	}
}

// --scale takes 0 (derive it) or 0.25..8 on every command; a scale that
// draws an empty splash, a NaN or an infinity is refused naming the range.
func TestScaleFlagRange(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.png")
	for _, v := range []string{"-1", "0.001", "0.2", "8.5", "1e9", "NaN", "Inf", "-Inf"} {
		usageErrorNaming(t, []string{"render", "--out", out, "--scale", v}, "--scale", "0.25 to 8")
		usageErrorNaming(t, []string{"run", "--backend", "emu", "--scale", v}, "--scale", "0.25 to 8")
	}
	for _, v := range []string{"0", "0.25", "1", "2.5", "8"} {
		if _, stderr, err := runArgs(t, "render", "--size", "64x48", "--out", out, "--scale", v); err != nil {
			t.Errorf("render --scale %s: %v\n%s", v, err, stderr)
		}
	}
	if err := splash.CheckScale(splash.MinScale); err != nil {
		t.Errorf("CheckScale(MinScale): %v", err)
	}
	if err := splash.CheckScale(0); err == nil {
		t.Error("CheckScale(0) accepted 0, which is no scale to draw at")
	}
}

// A negative duration is refused: `run --for -1s` used to run forever.
func TestDurationFlagsRefused(t *testing.T) {
	usageErrorNaming(t, []string{"run", "--backend", "emu", "--for", "-1s"}, "--for -1s", "0 (until SIGTERM or SIGINT)")
	usageErrorNaming(t, []string{"run", "--backend", "emu", "--master-wait", "-5s"}, "--master-wait -5s")
}

// Counts out of their range are refused naming the flag and the range:
// `study --frames 1e12` used to end in the runtime's out-of-memory crash.
func TestCountFlagsRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.png")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"render", "--out", out, "--frame", "-1"}, "--frame -1"},
		{[]string{"run", "--buffers", "0"}, "--buffers 0"},
		{[]string{"study", "--frames", "0"}, "--frames 0: want 1 to 1000000"},
		{[]string{"study", "--frames", "1000000000000"}, "--frames 1000000000000: want 1 to 1000000"},
		{[]string{"study", "--warmup", "-1"}, "--warmup -1: want 0 to 1000000"},
		{[]string{"study", "--warmup", "1000000000000"}, "--warmup 1000000000000"},
		{[]string{"theme", "check", "--max-image-pixels", "-1", testTheme}, "--max-image-pixels -1: want 1 to 268435456"},
		{[]string{"theme", "check", "--max-image-pixels", "0", testTheme}, "--max-image-pixels 0"},
		{[]string{"study", "--heap-tries", "0"}, "--heap-tries 0: want 1 to 64"},
		{[]string{"study", "--heap-tries", "1000000000"}, "--heap-tries 1000000000: want 1 to 64"},
		{[]string{"ctl", "--timeout", "-1s", "ping"}, "--timeout -1s: want 1ms to 1h0m0s"},
		{[]string{"ctl", "--timeout", "0", "ping"}, "--timeout 0s: want 1ms to 1h0m0s"},
		{[]string{"ctl", "--timeout", "2h", "ping"}, "--timeout 2h0m0s: want 1ms to 1h0m0s"},
	} {
		usageErrorNaming(t, c.args, c.want)
	}
}

// render --progress is a percentage, as `ctl progress`, psplash and
// plymouth take it: 50 draws what the daemon shows after `ctl progress
// 50`, not a full bar.
func TestRenderProgressPercent(t *testing.T) {
	dir := t.TempDir()
	th, err := theme.Load(testTheme, theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		flag string
		want float64
	}{{"50", 0.5}, {"0", 0}, {"100", 1}, {"12.5", 0.125}, {"-1", -1}, {"-30", -1}} {
		got := filepath.Join(dir, "cmd-"+c.flag+".png")
		if _, stderr, err := runArgs(t, "render", "--size", "320x240", "--theme", testTheme, "--progress", c.flag, "--out", got); err != nil {
			t.Fatalf("render --progress %s: %v\n%s", c.flag, err, stderr)
		}
		want := filepath.Join(dir, "lib-"+c.flag+".png")
		if err := splash.RenderFrame(want, splash.FrameOptions{Width: 320, Height: 240, Theme: th, State: splash.State{Progress: c.want}}); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(got)
		b, _ := os.ReadFile(want)
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("render --progress %s differs from the splash at progress %v", c.flag, c.want)
		}
	}
	half, _ := os.ReadFile(filepath.Join(dir, "cmd-50.png"))
	full, _ := os.ReadFile(filepath.Join(dir, "cmd-100.png"))
	if string(half) == string(full) {
		t.Error("render --progress 50 draws the same bar as --progress 100")
	}
}

// A progress above 100 or NaN is refused, naming the flag and the range.
func TestRenderProgressRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.png")
	for _, v := range []string{"100.5", "150", "1e9", "NaN", "Inf"} {
		usageErrorNaming(t, []string{"render", "--out", out, "--progress", v}, "--progress", "0 to 100")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("render wrote a frame for a refused --progress")
	}
}
