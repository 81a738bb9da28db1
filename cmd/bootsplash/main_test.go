package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

func TestMain(m *testing.M) {
	if os.Getenv("BOOTSPLASH_TEST_PROCS") != "" {
		// The child of TestOneCPU: what main would make of this machine.
		oneCPU()
		fmt.Println(runtime.NumCPU(), runtime.GOMAXPROCS(0))
		os.Exit(0)
	}
	testutil.LeakCheckMain(m)
}

func runArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(time.Now(), args, &o, &e)
	return o.String(), e.String(), err
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"frobnicate"},
		{"render"},
		{"render", "--out", "x.png", "--size", "0x10"},
		{"render", "--out", "x.png", "--size", "wide"},
		{"run", "--backend", "vnc"},
		{"run", "--buffer", "vram"},
		{"run", "--access", "sometimes"},
		{"run", "--mode", "1024"},
		{"info", "extra"},
		{"run", "--buffers", "3"},
		{"run", "--rotate", "45"},
		{"run", "--scale", "-1"},
	} {
		_, _, err := runArgs(t, args...)
		if !errors.Is(err, errUsage) || exitCode(err) != 2 {
			t.Errorf("bootsplash %q: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	_, stderr, err := runArgs(t, "run", "--help")
	if exitCode(err) != 0 {
		t.Errorf("run --help: exit %d (%v)", exitCode(err), err)
	}
	for _, flag := range []string{"--device", "--mode", "--heap", "--buffer", "--access", "--backend", "--out", "-v, --verbose"} {
		if !strings.Contains(stderr, flag) {
			t.Errorf("run --help does not list %s:\n%s", flag, stderr)
		}
	}
	if !strings.Contains(stderr, `(default "cached")`) {
		t.Errorf("run --help does not show defaults:\n%s", stderr)
	}
}

func TestRenderWritesPNG(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.png")
	if _, _, err := runArgs(t, "render", "--size", "640x480", "--out", out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG", out)
	}
}

// TestRunEmulatedLogsPathAndFirstFrame: --for leaves time for the first
// frame, since a run stopped before it ends without one.
func TestRunEmulatedLogsPathAndFirstFrame(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.png")
	_, stderr, err := runArgs(t, "run", "--backend", "emu", "--size", "320x240", "--out", out, "--for", "1s",
		"--socket", "", "--psplash=false", "--plymouth=false")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"bootsplash: buffer: memfd (emulated display)", "bootsplash: first frame after ", "wrote " + out} {
		if !strings.Contains(stderr, want) {
			t.Errorf("log lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

func TestInfoJSON(t *testing.T) {
	stdout, _, err := runArgs(t, "info", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r infoReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("info --json is not JSON: %v\n%s", err, stdout)
	}
	if r.Udmabuf.Path != "/dev/udmabuf" {
		t.Errorf("udmabuf path %q", r.Udmabuf.Path)
	}
	// Without heaps the report says why; with heaps it lists them.
	if len(r.Heaps) == 0 && r.HeapError == "" {
		t.Error("no heaps and no reason given")
	}
	if _, err := os.Stat("/dev/dma_heap"); err != nil && !strings.Contains(r.HeapError, "CONFIG_DMABUF_HEAPS") {
		t.Errorf("heap error does not name the kernel option: %q", r.HeapError)
	}
	text, _, err := runArgs(t, "info")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "dma-buf heaps:") || !strings.Contains(text, "udmabuf:") {
		t.Errorf("info text:\n%s", text)
	}
}
