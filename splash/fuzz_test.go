package splash

import (
	"bytes"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// fuzzThemeDir holds the images and the font of the golden test theme;
// fuzzed theme files name them.
const fuzzThemeDir = "testdata/theme"

// FuzzParseTheme parses arbitrary theme files whose paths stay in
// testdata/theme (a file that could name a path leaving it is skipped:
// the fuzzer is not to read, or glob, the machine's files). A theme is either refused with theme.Errors,
// each naming the file and a line of it, or accepted; an accepted theme
// re-checks clean (every image it names decodes; only a font that names
// a file that is no font may fail, since fonts are parsed when first
// drawn) and paints at a small size and at its overrides' sizes.
func FuzzParseTheme(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join(fuzzThemeDir, "test.toml"))
	if err != nil {
		f.Fatal(err)
	}
	// The default theme comes from the binary: the VM suite runs this
	// test with only the package's own files beside it.
	for _, data := range [][]byte{golden, theme.DefaultSource()} {
		// Without the comments, which name paths outside the directory.
		var kept []string
		for _, l := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(l, "#") {
				kept = append(kept, l)
			}
		}
		f.Add([]byte(strings.Join(kept, "\n")))
	}
	for _, s := range []string{
		"", "[background]\ncolor = \"#fff\"\n", "[background]\ntop = \"#000\"\n",
		"[progress]\nheight = 4\ncolour = \"#fff\"\n", "[logo]\nimage = \"logo.bmp\"\nscale = 20\nanchor = \"bottom-right\"\n",
		"[logo]\nimage = \"\"\n", "[logo]\nimage = \"nope.png\"\n", "[logo]\nimage = \"mono.ttf\"\n",
		"[message]\nfont = \"bg.jpg\"\nsize = 500\n", "[status]\nbelow = \"status\"\n",
		"[spinner]\nframes = \"spin-*.png\"\nfps = 120\n", "[spinner]\nframes = \"*\"\n", "[spinner]\nframes = \"[\"\n",
		"[spinner]\nstyle = \"dots\"\ndots = 64\nsize = 2000\n", "[override.\"16x16\".logo]\nimage = \"logo.bmp\"\n",
		"[override.\"0x0\"]\n", "[override.big.logo]\nx = 2\n", "[progress]\noffset = [1, 2, 3]\nx = nan\n",
		"[progress]\nwidth = 1\nheight = 1000\nradius = 500\nborder = 100\n", "a = 1\n[[logo]]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Not "/", "..", or TOML's escapes that could spell them.
		for _, s := range []string{"/", "..", `\u`, `\U`} {
			if bytes.Contains(data, []byte(s)) {
				t.Skip("may name a path outside the theme's directory")
			}
		}
		const file = "fuzz.toml"
		th, err := theme.Parse(file, data, fuzzThemeDir, theme.Options{})
		if err != nil {
			var es theme.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v (%T) is not theme.Errors", err, err)
			}
			lines := 1 + bytes.Count(data, []byte("\n"))
			for _, e := range es {
				if e.File != file || e.Line < 0 || e.Line > lines || e.Err == nil || e.Err.Error() == "" {
					t.Fatalf("theme error %#v: not about %s lines 1..%d, or without a reason", e, file, lines)
				}
			}
			// Parsing is a function of the text.
			if _, err2 := theme.Parse(file, data, fuzzThemeDir, theme.Options{}); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("parsed again: %v, first %v", err2, err)
			}
			return
		}
		fontOnly := func(err error) bool {
			return err == nil || strings.Contains(err.Error(), "not a TrueType or OpenType font")
		}
		if err := th.Check(); !fontOnly(err) {
			t.Fatalf("accepted, yet Check: %v", err)
		}
		sizes := []image.Point{{40, 30}}
		for _, sz := range th.Sizes() {
			if sz.X*sz.Y <= 160*160 && len(sizes) < 4 {
				sizes = append(sizes, sz)
			}
		}
		r := NewRenderer(th, 1)
		for _, sz := range sizes {
			s := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
			st := State{Progress: 0.5, Message: "Booting", Status: "fsck", Frame: 3}
			if err := r.Paint(s, st); !fontOnly(err) {
				t.Fatalf("accepted, yet Paint at %v: %v", sz, err)
			}
			if err := r.Update(s, st, State{Progress: -1, Frame: 4}); !fontOnly(err) {
				t.Fatalf("accepted, yet Update at %v: %v", sz, err)
			}
		}
	})
}
