package main

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// TestRunInitialState: run --message, --status and --progress put the
// state on screen from the first frame: the frame run writes is the one
// render draws for the same flags, and the flags are checked as render's
// are.
func TestRunInitialState(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"--size", "320x240", "--progress", "30", "--message", "Mounting /data", "--status", "fsck: clean"}
	want := filepath.Join(dir, "want.png")
	if _, stderr, err := runArgs(t, append([]string{"render", "--out", want}, flags...)...); err != nil {
		t.Fatalf("render: %v\n%s", err, stderr)
	}
	got := filepath.Join(dir, "got.png")
	if _, stderr, err := runArgs(t, append([]string{"run", "--backend", "emu", "--out", got, "--for", "300ms",
		"--socket", "", "--psplash=false", "--plymouth=false", "--frames", ""}, flags...)...); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if n := testutil.DifferingPixels(readPNGFile(t, got), readPNGFile(t, want)); n != 0 {
		t.Errorf("run's frame differs from render's in %d pixels", n)
	}
	// Without the flags the frame differs: they are not ignored.
	plain := filepath.Join(dir, "plain.png")
	if _, stderr, err := runArgs(t, "run", "--backend", "emu", "--out", plain, "--for", "300ms", "--size", "320x240",
		"--socket", "", "--psplash=false", "--plymouth=false", "--frames", ""); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if testutil.DifferingPixels(readPNGFile(t, plain), readPNGFile(t, want)) == 0 {
		t.Error("run without --message, --status and --progress draws the same frame")
	}
	for _, v := range []string{"101", "NaN"} {
		if _, _, err := runArgs(t, "run", "--backend", "emu", "--progress", v); !errors.Is(err, errUsage) {
			t.Errorf("run --progress %s: %v, want a usage error", v, err)
		}
	}
}
