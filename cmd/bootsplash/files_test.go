package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// TestSizeCaps: a side over what KMS scans out is refused at once for
// every size the program takes, naming the flag and the cap, before
// anything is allocated.
func TestSizeCaps(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.png")
	for _, args := range [][]string{
		{"render", "--out", out, "--size", "100000x100000"},
		{"render", "--out", out, "--size", "16385x16"},
		{"run", "--backend", "emu", "--size", "100000x100000", "--out", out},
		{"run", "--mode", "16384x20000"},
	} {
		start := time.Now()
		_, _, err := runArgs(t, args...)
		if took := time.Since(start); took > time.Second {
			t.Errorf("%q took %v", args, took)
		}
		flag := args[len(args)-2]
		if args[0] == "run" && args[1] == "--backend" {
			flag = "--size"
		}
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), flag+" ") || !strings.Contains(err.Error(), "each side must be 1 to 16384 pixels") {
			t.Errorf("%q: %v, want a usage error naming %s and the 16384 cap", args, err, flag)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused size wrote %s", out)
	}
}

// buildBinary builds bootsplash for the tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootsplash")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSizeMemory: a size whose buffers need more memory than the process
// may take is refused before allocating, with the flag, the size, the
// bytes needed and the bytes available. The process runs under an
// address-space limit (ulimit -v), so that the test does not depend on
// the machine's memory.
func TestSizeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	out := filepath.Join(t.TempDir(), "x.png")
	for _, args := range []string{
		"render --out " + out + " --size 16000x16000",
		"run --backend emu --socket '' --psplash=false --plymouth=false --for 1s --out " + out + " --size 16000x16000",
	} {
		cmd := exec.Command("sh", "-c", "ulimit -v 2097152 && exec "+bin+" "+args)
		start := time.Now()
		b, err := cmd.CombinedOutput()
		took := time.Since(start)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("%s: %v, want exit status 1\n%s", args, err, b)
		}
		msg := string(b)
		for _, want := range []string{"--size 16000x16000: needs 2048000000 bytes (1.9 GiB), only ", " bytes (", "available (RLIMIT_AS)"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: output lacks %q:\n%s", args, want, msg)
			}
		}
		if took > 2*time.Second {
			t.Errorf("%s: took %v to refuse", args, took)
		}
	}
}

// TestFIFOLogo: a theme whose logo is a FIFO is an error at once for
// `theme check` and for `run`, not a process that waits for a writer.
func TestFIFOLogo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "logo.png"), 0o600); err != nil {
		t.Fatal(err)
	}
	theme := filepath.Join(dir, "theme.toml")
	if err := os.WriteFile(theme, []byte("[logo]\nimage = \"logo.png\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := theme + ":2: logo.image: logo.png: is a FIFO, not a regular file"
	for _, args := range [][]string{
		{"theme", "check", theme},
		{"run", "--backend", "emu", "--size", "64x48", "--out", filepath.Join(dir, "x.png"), "--theme", theme,
			"--socket", "", "--psplash=false", "--plymouth=false"},
	} {
		cmd := exec.Command(bin, args...)
		done := make(chan struct{})
		var b []byte
		var err error
		go func() { b, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("%q: still running after 2s\n%s", args, b)
			continue
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(b), want) {
			t.Errorf("%q: %v\n%s\nwant exit status 1 and %q", args, err, b, want)
		}
	}
}

// TestStopDuringStartup: SIGTERM, SIGINT and --for end `run` within a
// second while its start-up is still busy (a 4096x4096 first frame being
// written out as PNG takes seconds), with success and nothing left behind.
func TestStopDuringStartup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, c := range []struct {
		name string
		sig  syscall.Signal // 0: --for
	}{{"SIGTERM", syscall.SIGTERM}, {"SIGINT", syscall.SIGINT}, {"--for", 0}} {
		dir := t.TempDir()
		args := []string{"run", "--backend", "emu", "--size", "4096x4096", "--out", filepath.Join(dir, "x.png"),
			"--socket", "", "--psplash=false", "--plymouth=false"}
		if c.sig == 0 {
			args = append(args, "--for", "300ms")
		}
		cmd := exec.Command(bin, args...)
		var stderr testutil.SyncBuffer
		cmd.Stderr = &stderr
		started := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Once the display is open the first frame is on its way.
		poll(t, c.name+": the emulated display", func() bool { return strings.Contains(stderr.String(), "buffer: memfd") })
		time.Sleep(200 * time.Millisecond)
		sent := time.Now()
		if c.sig != 0 {
			cmd.Process.Signal(c.sig)
		} else {
			sent = started.Add(300 * time.Millisecond) // --for counts from a little after the start
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			err = <-done
		}
		took := time.Since(sent)
		t.Logf("%s: ended %v after it was asked to", c.name, took.Round(time.Millisecond))
		if took > time.Second {
			t.Errorf("%s: the process ended %v after it was asked to, want within 1s\n%s", c.name, took.Round(time.Millisecond), stderr.String())
		}
		if err != nil {
			t.Errorf("%s: %v, want success\n%s", c.name, err, stderr.String())
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".x.png.*")); len(left) > 0 {
			t.Errorf("%s: left %v behind", c.name, left)
		}
	}
}
