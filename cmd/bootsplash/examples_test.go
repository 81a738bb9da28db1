package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// exampleRender is one picture: a theme (under themes/) and render's flags.
type exampleRender struct {
	name  string
	theme string // "" is the embedded default theme
	args  []string
}

// exampleRenders are the pictures of docs/themes.md: each example theme
// under themes/ (and the embedded default theme), rendered as
// `bootsplash render` renders it. docs/themes/NAME.png is the picture.
var exampleRenders = []exampleRender{
	{"default", "", []string{"--size", "800x480", "--progress", "40", "--message", "Starting services", "--status", "network"}},
	{"product", "product", []string{"--size", "800x480", "--progress", "40", "--message", "Starting services", "--status", "network"}},
	{"small", "small", []string{"--size", "320x240", "--progress", "65", "--message", "Mounting /data", "--status", "fsck: clean"}},
	{"portrait", "portrait", []string{"--size", "480x800", "--message", "Preparing the kiosk", "--status", "v2.3.1", "--frame", "4"}},
	{"firmware", "firmware", []string{"--size", "1280x800", "--bgrt", "../../display/testdata/bgrt", "--progress", "30", "--message", "Starting services"}},
	{"firmware-no-bgrt", "firmware", []string{"--size", "800x480", "--progress", "30", "--message", "Starting services"}},
	{"portrait-800x480", "portrait", []string{"--size", "800x480", "--message", "Preparing the kiosk", "--status", "v2.3.1", "--frame", "4"}},
}

// TestExampleThemes checks every example theme as `bootsplash theme check`
// does, renders each picture of docs/themes.md as `bootsplash render`
// does, and compares it pixel for pixel with the one committed under
// docs/themes, so that neither the themes nor the pictures go stale.
// BOOTSPLASH_UPDATE_DOCS=1 writes the pictures instead.
func TestExampleThemes(t *testing.T) {
	const root = "../.."
	update := os.Getenv("BOOTSPLASH_UPDATE_DOCS") == "1"
	themes, err := filepath.Glob(filepath.Join(root, "themes", "*", "theme.toml"))
	if err != nil || len(themes) < 3 {
		t.Fatalf("example themes: %v, %v: want at least three", themes, err)
	}
	for _, file := range themes {
		name := filepath.Base(filepath.Dir(file))
		if !slices.ContainsFunc(exampleRenders, func(e exampleRender) bool { return e.theme == name }) {
			t.Errorf("themes/%s has no picture in docs/themes.md: add it to exampleRenders", name)
		}
		if stdout, stderr, err := runArgs(t, "theme", "check", file); err != nil {
			t.Errorf("bootsplash theme check %s: %v\n%s%s", file, err, stdout, stderr)
		}
	}
	for _, e := range exampleRenders {
		t.Run(e.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), e.name+".png")
			args := append([]string{"render", "--out", out}, e.args...)
			if e.theme != "" {
				args = append(args, "--theme", filepath.Join(root, "themes", e.theme, "theme.toml"))
			}
			if _, stderr, err := runArgs(t, args...); err != nil {
				t.Fatalf("bootsplash %v: %v\n%s", args, err, stderr)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			doc := filepath.Join(root, "docs", "themes", e.name+".png")
			if update {
				if err := os.WriteFile(doc, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(doc)
			if err != nil {
				t.Fatalf("%v\nregenerate the pictures: BOOTSPLASH_UPDATE_DOCS=1 go test ./cmd/bootsplash -run TestExampleThemes", err)
			}
			gi, err := png.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			wi, err := png.Decode(bytes.NewReader(want))
			if err != nil {
				t.Fatalf("docs/themes/%s.png: %v", e.name, err)
			}
			if n := testutil.DifferingPixels(gi, wi); n != 0 {
				t.Errorf("docs/themes/%s.png is stale: %d pixels differ from what `bootsplash %v` draws now (%v against %v)\n"+
					"regenerate the pictures: BOOTSPLASH_UPDATE_DOCS=1 go test ./cmd/bootsplash -run TestExampleThemes",
					e.name, n, args[3:], gi.Bounds(), wi.Bounds())
			}
		})
	}
}
