package main

import (
	"bytes"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// `bootsplash status` on the emulated display writes its picture, and
// SIGTERM ends it at once, with success.
func TestStatusSignal(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "status.png")
	logFile := filepath.Join(dir, "messages")
	os.WriteFile(logFile, []byte("hello\n"), 0o644)
	var stderr testutil.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(time.Now(), []string{"status", "--backend", "emu", "--size", "320x240", "--out", out,
			"--log", logFile, "--disk", "/nonexistent", "-v"}, &bytes.Buffer{}, &stderr)
	}()
	poll(t, "two updates", func() bool { return strings.Count(stderr.String(), "update head=") >= 2 })
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 320 {
		t.Fatalf("status.png: %v %v", img.Bounds(), err)
	}
	start := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("status after SIGTERM: %v\n%s", err, stderr.String())
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("status took %v to stop after SIGTERM", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("status did not end on SIGTERM:\n%s", stderr.String())
	}
}

// A log that is not a regular file, or that cannot be read, is refused
// before anything is shown, with an error that names it and says why.
func TestStatusBadLog(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "status.png")
	for _, c := range []struct{ log, want string }{
		{fifo, "is a FIFO, not a regular file"},
		{dir, "is a directory, not a regular file"},
		{"/dev/zero", "is a character device, not a regular file"},
		{filepath.Join(dir, "missing"), "no such file or directory"},
	} {
		done := make(chan error, 1)
		go func() {
			_, _, err := runArgs(t, "status", "--backend", "emu", "--size", "64x48", "--out", out, "--log", c.log, "--for", "1s")
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.log) || exitCode(err) != 1 {
				t.Errorf("status --log %s: %v, want %q naming it", c.log, err, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("status --log %s hangs", c.log)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a picture was written although the log was refused: %v", err)
	}
}

func TestStatusUsage(t *testing.T) {
	for _, args := range [][]string{
		{"status", "--buffers", "3"},
		{"status", "--backend", "x11"},
		{"status", "--size", "0x10"},
		{"status", "--for", "-1s"},
		{"status", "extra"},
	} {
		if _, _, err := runArgs(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}
