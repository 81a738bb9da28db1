package main

import (
	"bytes"
	"errors"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunSignals sends this process SIGHUP and then SIGTERM while `bootsplash
// run` shows a theme on the emulated display: SIGHUP must repaint with the
// theme file as it is now, SIGTERM must end the run with success.
func TestRunSignals(t *testing.T) {
	dir := t.TempDir()
	theme := filepath.Join(dir, "theme.toml")
	out := filepath.Join(dir, "run.png")
	setColour := func(c string) {
		if err := os.WriteFile(theme, []byte("[background]\ncolor = \""+c+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	colourIs := func(want color.RGBA) func() bool {
		return func() bool {
			f, err := os.Open(out)
			if err != nil {
				return false
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				return false
			}
			r, g, b, a := img.At(2, 2).RGBA()
			return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)} == want
		}
	}
	setColour("#a03010")
	var stderr testutil.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(time.Now(), []string{"run", "--backend", "emu", "--size", "64x48", "--out", out, "--theme", theme,
			"--socket", "", "--psplash=false", "--plymouth=false"}, &bytes.Buffer{}, &stderr)
	}()
	poll(t, "the first frame", func() bool { return strings.Contains(stderr.String(), "first frame") })
	poll(t, "the theme's colour", colourIs(color.RGBA{0xa0, 0x30, 0x10, 0xff}))

	setColour("#1030a0")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	poll(t, "the reloaded theme's colour after SIGHUP", colourIs(color.RGBA{0x10, 0x30, 0xa0, 0xff}))

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not end on SIGTERM:\n%s", stderr.String())
	}
}

func TestMasterWaitUsage(t *testing.T) {
	_, _, err := runArgs(t, "run", "--master-wait", "-1s")
	if !errors.Is(err, errUsage) || exitCode(err) != 2 {
		t.Errorf("run --master-wait -1s: %v (exit %d), want a usage error", err, exitCode(err))
	}
	_, stderr, _ := runArgs(t, "run", "--help")
	if !strings.Contains(stderr, "--master-wait") || !strings.Contains(stderr, "(default 5s)") {
		t.Errorf("run --help does not show --master-wait and its default:\n%s", stderr)
	}
}
