package theme

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// prompt fails the test when f takes longer than a second: reading what a
// theme names must never wait (a FIFO without a writer blocks open for
// ever).
func prompt(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Second):
		t.Fatalf("%s: still blocked after 1s", what)
		return nil
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestThemeFilesNotRegular: a FIFO, a directory or a device where the
// theme expects a file (the theme itself, the logo, the background, a
// spinner frame, a font) is refused at once with an error that names the
// file, line and key and says what the path is.
func TestThemeFilesNotRegular(t *testing.T) {
	for _, c := range []struct {
		name, theme, want string
		setup             func(dir string)
	}{
		{"FIFO logo", "[logo]\nimage = \"p.png\"\n", "t.toml:2: logo.image: p.png: is a FIFO, not a regular file",
			func(dir string) { mkfifo(t, filepath.Join(dir, "p.png")) }},
		{"FIFO background", "[background]\nimage = \"p.png\"\n", "t.toml:2: background.image: p.png: is a FIFO, not a regular file",
			func(dir string) { mkfifo(t, filepath.Join(dir, "p.png")) }},
		{"FIFO spinner frame", "[spinner]\nframes = \"s-*.png\"\n", "t.toml:2: spinner.frames: s-1.png: is a FIFO, not a regular file",
			func(dir string) { mkfifo(t, filepath.Join(dir, "s-1.png")) }},
		{"FIFO font", "[message]\nfont = \"f.ttf\"\n", "t.toml:2: message.font: f.ttf: is a FIFO, not a regular file",
			func(dir string) { mkfifo(t, filepath.Join(dir, "f.ttf")) }},
		{"directory logo", "[logo]\nimage = \"d.png\"\n", "t.toml:2: logo.image: d.png: is a directory, not a regular file",
			func(dir string) { os.Mkdir(filepath.Join(dir, "d.png"), 0o755) }},
		{"device logo", "[logo]\nimage = \"/dev/null\"\n", "t.toml:2: logo.image: /dev/null: is a device (character), not a regular file",
			func(string) {}},
	} {
		path := testutil.WriteTheme(t, c.theme, nil)
		c.setup(filepath.Dir(path))
		err := prompt(t, c.name, func() error { _, err := Load(path, Options{}); return err })
		if err == nil || !strings.Contains(err.Error(), filepath.Dir(path)+"/"+c.want) {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.want)
		}
	}

	dir := t.TempDir()
	fifo := filepath.Join(dir, "theme.toml")
	mkfifo(t, fifo)
	err := prompt(t, "a FIFO theme file", func() error { _, err := Load(fifo, Options{}); return err })
	if err == nil || err.Error() != fifo+": is a FIFO, not a regular file" {
		t.Errorf("a FIFO theme file: %v", err)
	}
	_, err = Load(dir, Options{})
	if err == nil || err.Error() != dir+": is a directory, not a regular file" {
		t.Errorf("a directory as theme file: %v", err)
	}
}

// TestThemeFileSwappedForFIFO: a font that is a regular file when the
// theme is loaded and a FIFO when it is parsed (or preloaded) is refused
// then too, at once, with the key that names it. An image swapped the same
// way is not read again: it was decoded when the theme was loaded.
func TestThemeFileSwappedForFIFO(t *testing.T) {
	font, err := os.ReadFile("../testdata/theme/mono.ttf")
	if err != nil {
		t.Fatal(err)
	}
	path := testutil.WriteTheme(t, "[logo]\nimage = \"l.png\"\n[message]\nfont = \"f.ttf\"\n", map[string][]byte{"l.png": testutil.WhitePNG(t, 8, 8), "f.ttf": font})
	th, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"l.png", "f.ttf"} {
		f := filepath.Join(filepath.Dir(path), n)
		os.Remove(f)
		mkfifo(t, f)
	}
	err = prompt(t, "Check", th.Check)
	if err == nil || err.Error() != path+":4: message.font: f.ttf: is a FIFO, not a regular file" {
		t.Errorf("Check: %v", err)
	}
	err = prompt(t, "Preload", th.Preload)
	if err == nil || !strings.Contains(err.Error(), "t.toml:4: message.font: f.ttf: is a FIFO") {
		t.Errorf("Preload: %v", err)
	}
}

// TestThemeFileCaps: a theme file, an image or a font over its cap is
// refused before it is read, saying the cap.
func TestThemeFileCaps(t *testing.T) {
	path := testutil.WriteTheme(t, "# "+strings.Repeat("x", MaxFileBytes)+"\n", nil)
	_, err := Load(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "over the 1048576-byte (1 MiB) cap on a theme file") {
		t.Errorf("a 1 MiB theme: %v", err)
	}
	path = testutil.WriteTheme(t, "[logo]\nimage = \"big.png\"\n[message]\nfont = \"big.ttf\"\n", nil)
	dir := filepath.Dir(path)
	for name, size := range map[string]int64{"big.png": MaxImageBytes + 1, "big.ttf": MaxFontBytes + 1} {
		// Sparse: nothing is written, and nothing must be read.
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filepath.Join(dir, name), size); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Load(path, Options{})
	for _, want := range []string{
		"t.toml:2: logo.image: big.png: is 83886081 bytes, over the 83886080-byte (80 MiB) cap on an image",
		"t.toml:4: message.font: big.ttf: is 33554433 bytes, over the 33554432-byte (32 MiB) cap on a font",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load: %v\nwant %q", err, want)
		}
	}
}

// TestThemeTypeErrors: a value of the wrong type says what the key takes,
// not the Go type it is decoded into.
func TestThemeTypeErrors(t *testing.T) {
	for _, c := range []struct{ theme, want string }{
		{"[message]\nsize = \"big\"\n", "t.toml:2: message.size: want a number"},
		{"[progress]\ncolor = 3\n", "t.toml:2: progress.color: want a string"},
		{"[spinner]\ndots = \"many\"\n", "t.toml:2: spinner.dots: want a whole number"},
		{"[logo]\noffset = \"a\"\n", "t.toml:2: logo.offset: want an array of numbers"},
		{"[override.800x480.status]\nsize = \"x\"\n", "t.toml:2: override.800x480.status.size: want a number"},
		{"logo = 3\n", "t.toml:1: logo: want a table"},
	} {
		path := testutil.WriteTheme(t, c.theme, nil)
		_, err := Load(path, Options{})
		if err == nil || !strings.HasSuffix(err.Error(), c.want) || strings.Contains(err.Error(), "splash.") {
			t.Errorf("%q: %v\nwant %q", c.theme, err, c.want)
		}
	}
}

// TestThemeReadErrorsPlaced: an image that is cut short and a font that is
// no font are reported as file:line: key: the image when the theme is
// loaded (every broken image, not only the first), the font by Check.
func TestThemeReadErrorsPlaced(t *testing.T) {
	logo := testutil.WhitePNG(t, 64, 64)
	files := map[string][]byte{"cut.png": logo[:len(logo)/2], "cut2.png": logo[:len(logo)-30], "bad.ttf": bytes.Repeat([]byte("x"), 100)}
	path := testutil.WriteTheme(t, "[background]\ncolor = \"#000\"\n\n[logo]\nimage = \"cut.png\"\n\n[override.800x480.logo]\nimage = \"cut2.png\"\n", files)
	_, err := Load(path, Options{})
	var tes Errors
	if !errors.As(err, &tes) || len(tes) != 2 {
		t.Fatalf("Load: %v, want two Errors", err)
	}
	for i, want := range []string{
		path + ":5: logo.image: cut.png: corrupt PNG image",
		path + ":8: override.800x480.logo.image: cut2.png: ",
	} {
		if !strings.HasPrefix(tes[i].Error(), want) {
			t.Errorf("Load error %d: %q, want it to start %q", i, tes[i], want)
		}
	}
	path = testutil.WriteTheme(t, "[background]\ncolor = \"#000\"\n\n[message]\nfont = \"bad.ttf\"\n", files)
	th, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Check(); err == nil || !strings.HasPrefix(err.Error(), path+":5: message.font: bad.ttf: not a TrueType or OpenType font") {
		t.Errorf("Check: %v", err)
	}
}

// TestThemeErrorsSayPathOnce: no error repeats the path ("open X: open X:").
func TestThemeErrorsSayPathOnce(t *testing.T) {
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop.toml")
	os.Symlink(loop, loop)
	missing := filepath.Join(dir, "missing.toml")
	for _, p := range []string{loop, missing} {
		_, err := Load(p, Options{})
		if err == nil || strings.Count(err.Error(), p) != 1 || strings.Contains(err.Error(), "open ") {
			t.Errorf("Load(%s): %v", p, err)
		}
	}
	path := testutil.WriteTheme(t, "[logo]\nimage = \"l.png\"\n[message]\nfont = \"l.ttf\"\n", nil)
	os.Symlink("l.png", filepath.Join(filepath.Dir(path), "l.png"))
	os.Symlink("l.ttf", filepath.Join(filepath.Dir(path), "l.ttf"))
	_, err := Load(path, Options{})
	for _, n := range []string{"l.png", "l.ttf"} {
		if err == nil || strings.Count(err.Error(), n+": ") != 1 || strings.Contains(err.Error(), "open ") {
			t.Errorf("Load: %v: want %s named once", err, n)
		}
	}
}

// TestImageSideCap: an image header over what KMS can show is refused
// before decoding, even under a pixel budget that would take it.
func TestImageSideCap(t *testing.T) {
	path := testutil.WriteTheme(t, "[logo]\nimage = \"wide.png\"\n", map[string][]byte{"wide.png": hugePNG(t, 100000, 2)})
	_, err := Load(path, Options{MaxImagePixels: 1 << 30})
	if !errors.Is(err, ErrImageBudget) || !strings.Contains(err.Error(), "each side must be at most 16384 pixels") {
		t.Errorf("a 100000x2 image: %v", err)
	}
}
