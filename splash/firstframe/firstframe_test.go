package firstframe

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	return renderedTheme(t, nil, w, h, scale)
}

// renderedTheme is what `bootsplash render --theme` writes for th (nil:
// the embedded theme).
func renderedTheme(t *testing.T, th *theme.Theme, w, h int, scale float64) *image.RGBA {
	t.Helper()
	out := filepath.Join(t.TempDir(), "render.png")
	if err := splash.RenderFrame(out, splash.FrameOptions{Width: w, Height: h, Scale: scale, Theme: th}); err != nil {
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
	return showTheme(t, dir, build, "", dw, dh)
}

// showTheme is show for run --theme themeFile.
func showTheme(t *testing.T, dir, build, themeFile string, dw, dh int) (int, *image.RGBA, string) {
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
	n, err := Show(d, Options{Dir: dir, Build: build, Theme: themeFile, Log: slog.New(slog.NewTextHandler(&log, nil))})
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
			if err := os.Truncate(p, 300+w*4*10); err != nil {
				t.Fatal(err)
			}
		}},
		{what: "not a frame", key: k, build: k.Build, want: "bad magic", spoil: func(t *testing.T, p string) {
			if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, 300+w*h*4), 0o644); err != nil {
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

// themeCopy copies the theme directory src into a new directory and
// returns the theme file's path there.
func themeCopy(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "theme.toml")
}

// A theme file's first frame, drawn ahead of time, is used by run
// --theme with that file, pixel for pixel what render draws; and it is
// refused, saying why, when the theme, one of its images or the set of
// its spinner's frames changed since, or when the frame was drawn for
// another theme.
func TestShowThemeFrame(t *testing.T) {
	const w, h = 800, 480
	const build = "a/b/c/d"
	key := Key{Build: build, Width: w, Height: h, Format: fbemu.XRGB8888, Scale: splash.OutputScale(w, h, 0, 0)}
	write := func(t *testing.T, file string) string {
		t.Helper()
		th, err := theme.Load(file, theme.Options{})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := Write(dir, th, key); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	t.Run("used", func(t *testing.T) {
		file := themeCopy(t, "../../themes/product")
		frames := write(t, file)
		n, got, log := showTheme(t, frames, build, file, w, h)
		if n != 1 || got == nil {
			t.Fatalf("Show put the theme's frame on %d heads, want 1; log:\n%s", n, log)
		}
		th, err := theme.Load(file, theme.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d := differ(got, renderedTheme(t, th, w, h, 0)); d != 0 {
			t.Errorf("the theme's pre-rendered frame differs from render in %d pixels", d)
		}
		// The same frame, the theme's directory reached by another
		// path (a relative one, as --theme may be given).
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(wd, file)
		if err != nil {
			t.Fatal(err)
		}
		if n, _, log := showTheme(t, frames, build, rel, w, h); n != 1 {
			t.Errorf("--theme %s: the frame drawn for %s was not used; log:\n%s", rel, file, log)
		}
	})
	spinnerTheme := func(t *testing.T) string {
		t.Helper()
		file := themeCopy(t, "../../themes/product")
		dir := filepath.Dir(file)
		logo, err := os.ReadFile(filepath.Join(dir, "logo.png"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"spin-1.png", "spin-2.png"} {
			if err := os.WriteFile(filepath.Join(dir, n), logo, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString("\n[spinner]\nframes = \"spin-*.png\"\ny = 0.8\n"); err != nil {
			t.Fatal(err)
		}
		return file
	}
	for _, tc := range []struct {
		what   string
		theme  func(t *testing.T) string
		change func(t *testing.T, file string) string // returns run's --theme
		want   string
	}{
		{"the theme file changed", func(t *testing.T) string { return themeCopy(t, "../../themes/product") }, func(t *testing.T, file string) string {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, bytes.Replace(b, []byte("#ffb347"), []byte("#ff0000"), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			return file
		}, "theme.toml changed since the frame was drawn"},
		{"an image changed, same size", func(t *testing.T) string { return themeCopy(t, "../../themes/product") }, func(t *testing.T, file string) string {
			p := filepath.Join(filepath.Dir(file), "background.jpg")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return file
		}, "background.jpg changed since the frame was drawn"},
		{"an image replaced by a FIFO", func(t *testing.T) string { return themeCopy(t, "../../themes/product") }, func(t *testing.T, file string) string {
			p := filepath.Join(filepath.Dir(file), "logo.png")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return file
		}, "logo.png"},
		{"a spinner frame added", spinnerTheme, func(t *testing.T, file string) string {
			logo, err := os.ReadFile(filepath.Join(filepath.Dir(file), "logo.png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(filepath.Dir(file), "spin-0.png"), logo, 0o644); err != nil {
				t.Fatal(err)
			}
			return file
		}, "3 files match, 2 did"},
		{"another theme", func(t *testing.T) string { return themeCopy(t, "../../themes/product") }, func(t *testing.T, file string) string {
			return themeCopy(t, "../../themes/product")
		}, "drawn for the theme"},
		{"the built-in theme", func(t *testing.T) string { return themeCopy(t, "../../themes/product") }, func(t *testing.T, file string) string {
			return ""
		}, "the splash shows the built-in one"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			file := tc.theme(t)
			frames := write(t, file)
			runTheme := tc.change(t, file)
			n, got, log := showTheme(t, frames, build, runTheme, w, h)
			if n != 0 || got != nil {
				t.Errorf("Show put a stale frame on %d heads, want none", n)
			}
			if !strings.Contains(log, tc.want) || !strings.Contains(log, "rendering it") {
				t.Errorf("the log does not say %q and that the frame is rendered:\n%s", tc.want, log)
			}
		})
	}
	t.Run("built-in frame, theme run", func(t *testing.T) {
		th, err := theme.Default()
		if err != nil {
			t.Fatal(err)
		}
		frames := t.TempDir()
		if _, err := Write(frames, th, key); err != nil {
			t.Fatal(err)
		}
		file := themeCopy(t, "../../themes/product")
		n, _, log := showTheme(t, frames, build, file, w, h)
		if n != 0 || !strings.Contains(log, "drawn for the built-in theme") || !strings.Contains(log, "prerender --theme") {
			t.Errorf("a frame of the built-in theme, run --theme: %d heads, log:\n%s", n, log)
		}
	})
	t.Run("firmware logo", func(t *testing.T) {
		th, err := theme.Load("../../themes/firmware/theme.toml", theme.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Write(t.TempDir(), th, key); !errors.Is(err, ErrFirmwareLogo) {
			t.Errorf("Write of a theme drawing the firmware's logo: %v, want ErrFirmwareLogo", err)
		}
	})
	t.Run("secure boot line", func(t *testing.T) {
		file := themeCopy(t, "../../themes/product")
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString("\n[secure_boot]\ny = 0.9\n")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		th, err := theme.Load(file, theme.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Write(t.TempDir(), th, key); !errors.Is(err, ErrSecureBootLine) {
			t.Errorf("Write of a theme with a Secure Boot line: %v, want ErrSecureBootLine", err)
		}
	})
}

// A header that claims more than the file holds, or inputs that run past
// it, is not a frame.
func TestParseHeaderBounds(t *testing.T) {
	k := Key{Build: "a/b", Width: 2, Height: 2, Format: fbemu.XRGB8888, Scale: 1, Theme: "/t/theme.toml",
		Inputs: []Input{{Path: "/t/theme.toml", Size: 10, Sum: 7}, {Path: "/t/s-*.png", Glob: true, Size: 2, Sum: 9}}}
	b, err := k.header()
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.build != k.Build || h.theme != k.Theme || !sameInputs(h.inputs, k.Inputs) || h.size != len(b) {
		t.Fatalf("parseHeader(header(k)) = %+v, want k back", h)
	}
	for i := fixedHeader; i < len(b); i++ {
		if _, err := parseHeader(b[:i]); err == nil {
			t.Errorf("a header cut at %d of %d bytes was read", i, len(b))
		}
	}
	for _, off := range []int{8, fixedHeader, fixedHeader + 4 + len(k.Build)} {
		bad := append([]byte(nil), b...)
		bad[off+3] = 0x7f
		if _, err := parseHeader(bad); err == nil {
			t.Errorf("a header with a length at %d of %#x was read", off, bad[off:off+4])
		}
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
	// What is not a regular file is refused at once, naming it: a FIFO
	// with no writer (opened without waiting for one), a directory.
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, dir} {
		done := make(chan error, 1)
		go func() { _, err := BuildID(p); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), p+": not a regular file") {
				t.Errorf("BuildID(%s) = %v, want %q", p, err, p+": not a regular file")
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("BuildID(%s) still waiting after 5s", p)
		}
	}
	if _, err := BuildID(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("BuildID of a missing file: %v, want ErrNotExist", err)
	}
}

// Up is called once, when the first head's frame is presented, and not
// when no frame is shown.
func TestShowUp(t *testing.T) {
	th, err := theme.Default()
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 160, 120
	k := Key{Build: "a/b", Width: w, Height: h, Format: fbemu.XRGB8888, Scale: splash.OutputScale(w, h, 0, 0)}
	dir := t.TempDir()
	if _, err := Write(dir, th, k); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size image.Point
		want int
	}{{image.Pt(w, h), 1}, {image.Pt(w*2, h), 0}} {
		presents, ups := 0, 0
		d, err := display.NewEmulated(display.EmulatedOptions{Size: tc.size, Present: func(*fbemu.Emulated) error { presents++; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		n, err := Show(d, Options{Dir: dir, Build: k.Build, Up: func() {
			ups++
			if presents == 0 {
				t.Errorf("Up before the frame was presented")
			}
		}})
		d.Close()
		if err != nil || n != tc.want || ups != tc.want {
			t.Errorf("%v: Show = %d, %v; Up called %d times, want %d", tc.size, n, err, ups, tc.want)
		}
	}
}
