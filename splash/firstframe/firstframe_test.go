package firstframe

import (
	"bytes"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

// rendered is what `bootsplash render` writes for a w x h panel.
func rendered(t *testing.T, w, h int, scale float64) *image.RGBA {
	t.Helper()
	out := filepath.Join(t.TempDir(), "render.png")
	if err := splash.RenderFrame(out, splash.FrameOptions{Width: w, Height: h, Scale: scale}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// differ counts the pixels of got that differ from want.
func differ(got, want *image.RGBA) int {
	if got.Bounds() != want.Bounds() {
		return got.Bounds().Dx() * got.Bounds().Dy()
	}
	n := 0
	for y := 0; y < got.Bounds().Dy(); y++ {
		for x := 0; x < got.Bounds().Dx(); x++ {
			if got.RGBAAt(x, y) != want.RGBAAt(x, y) {
				n++
			}
		}
	}
	return n
}

// show writes the frame for a w x h head and shows it on an emulated
// display of size dw x dh, returning how many heads showed it, what the
// display shows and the log.
func show(t *testing.T, dir string, build string, dw, dh int) (int, *image.RGBA, string) {
	t.Helper()
	var snap *image.RGBA
	d, err := display.NewEmulated(display.EmulatedOptions{Size: image.Pt(dw, dh), Present: func(e *fbemu.Emulated) error {
		var err error
		snap, err = e.Snapshot()
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var log bytes.Buffer
	n, err := Show(d, Options{Dir: dir, Build: build, Log: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return n, snap, log.String()
}

func TestShowIsRenderPixelForPixel(t *testing.T) {
	th, err := theme.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const w, h = 640, 480
	k := Key{Build: "a/b/c/d", Width: w, Height: h, Format: fbemu.XRGB8888, Scale: splash.OutputScale(w, h, 0, 0)}
	if _, err := Write(dir, th, k); err != nil {
		t.Fatal(err)
	}
	n, got, log := show(t, dir, k.Build, w, h)
	if n != 1 || got == nil {
		t.Fatalf("Show put the frame on %d heads, want 1; log:\n%s", n, log)
	}
	if d := differ(got, rendered(t, w, h, 0)); d != 0 {
		t.Errorf("the pre-rendered frame differs from render in %d pixels", d)
	}
}

func TestShowRefuses(t *testing.T) {
	th, err := theme.Default()
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 320, 240
	k := Key{Build: "a/b/c/d", Width: w, Height: h, Format: fbemu.XRGB8888, Scale: splash.OutputScale(w, h, 0, 0)}
	name := FileName(w, h, fbemu.XRGB8888)
	for _, tc := range []struct {
		what  string
		key   Key
		build string // the running build
		spoil func(t *testing.T, path string)
		want  string // in the log; "" for a silent miss
	}{
		{what: "no file", key: Key{Build: k.Build, Width: 640, Height: 480, Format: fbemu.XRGB8888, Scale: 1}, build: k.Build},
		{what: "another build", key: k, build: "e/f/g/h", want: "another bootsplash build"},
		{what: "another scale", key: Key{Build: k.Build, Width: w, Height: h, Format: fbemu.XRGB8888, Scale: 2}, build: k.Build, want: "scale 2"},
		{what: "truncated", key: k, build: k.Build, want: "truncated", spoil: func(t *testing.T, p string) {
			if err := os.Truncate(p, headerSize+w*4*10); err != nil {
				t.Fatal(err)
			}
		}},
		{what: "not a frame", key: k, build: k.Build, want: "bad magic", spoil: func(t *testing.T, p string) {
			if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, headerSize+w*h*4), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{what: "a FIFO", key: k, build: k.Build, want: "not a regular file", spoil: func(t *testing.T, p string) {
			// Opened without O_NONBLOCK, a FIFO with no writer blocked the
			// start-up here for good.
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{what: "another format", key: Key{Build: k.Build, Width: w, Height: h, Format: fbemu.RGB565, Scale: k.Scale}, build: k.Build, want: "drawn in RGB565", spoil: func(t *testing.T, p string) {
			if err := os.Rename(filepath.Join(filepath.Dir(p), FileName(w, h, fbemu.RGB565)), p); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Write(dir, th, tc.key); err != nil {
				t.Fatal(err)
			}
			if tc.spoil != nil {
				tc.spoil(t, filepath.Join(dir, name))
			}
			n, got, log := show(t, dir, tc.build, w, h)
			if n != 0 || got != nil {
				t.Errorf("Show put a frame on %d heads, want none", n)
			}
			if tc.want == "" && strings.Contains(log, "WARN") {
				t.Errorf("a missing frame is not worth a warning:\n%s", log)
			}
			if tc.want != "" && !strings.Contains(log, tc.want) {
				t.Errorf("the log does not say %q:\n%s", tc.want, log)
			}
		})
	}
}

func TestBuildID(t *testing.T) {
	id, err := BuildID("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(id, "/") < 1 || len(id) < 20 {
		t.Errorf("BuildID = %q, want the Go build ID (action/content hashes)", id)
	}
	for _, b := range [][]byte{nil, []byte("#!/bin/sh\n"), []byte("\x7fELF\x02\x01\x01"), append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...)} {
		if id, err := elfBuildID(b); err == nil {
			t.Errorf("elfBuildID(%q) = %q, want an error", b, id)
		}
	}
}
