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

const testTheme = "../../splash/testdata/theme/test.toml"

func TestThemeCheck(t *testing.T) {
	stdout, _, err := runArgs(t, "theme", "check", testTheme)
	if err != nil || !strings.Contains(stdout, testTheme+": ok") {
		t.Fatalf("check of the test theme: %v\n%s", err, stdout)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[logo]\nimage = \"missing.png\"\n\n[progress]\nheigth = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runArgs(t, "theme", "check", bad)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("check of a bad theme: %v (exit %d)", err, exitCode(err))
	}
	// The TOML decoder stops at the unknown key, before the values are checked.
	if want := bad + ":5: progress.heigth: unknown key"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if err := os.WriteFile(bad, []byte("[logo]\nimage = \"missing.png\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ = runArgs(t, "theme", "check", bad)
	if want := bad + ":2: logo.image: missing.png: no such file or directory"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	for _, args := range [][]string{{"theme"}, {"theme", "lint"}, {"theme", "check"}} {
		if _, _, err := runArgs(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// render with a theme and a state writes what the splash package renders
// for them, pixel for pixel.
func TestRenderThemeAndState(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cmd.png")
	_, stderr, err := runArgs(t, "render", "--size", "480x272", "--out", out, "--theme", testTheme,
		"--progress", "-1", "--frame", "5", "--message", "Hello", "--status", "world", "--rotate", "90", "--scale", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	th, err := theme.Load(testTheme, theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "lib.png")
	err = splash.RenderFrame(want, splash.FrameOptions{Width: 480, Height: 272, Theme: th, Scale: 1, Rotation: 1,
		State: splash.State{Progress: -1, Frame: 5, Message: "Hello", Status: "world"}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(want)
	if len(a) == 0 || string(a) != string(b) {
		t.Error("render's PNG differs from splash.RenderFrame's")
	}
	for _, args := range [][]string{
		{"render", "--out", out, "--rotate", "45"},
		{"render", "--out", out, "--scale", "-1"},
	} {
		if _, _, err := runArgs(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if _, _, err := runArgs(t, "render", "--out", out, "--theme", filepath.Join(dir, "none.toml")); err == nil || !strings.Contains(err.Error(), "none.toml") {
		t.Errorf("missing theme: %v", err)
	}
}
