package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// TestRenderBGRT: render --bgrt draws the firmware theme with the logo of
// a BGRT directory, in the firmware's mode or, with --firmware-mode,
// another (the picture then differs); a directory that is not a BGRT and
// --firmware-mode without --bgrt are refused saying why.
func TestRenderBGRT(t *testing.T) {
	const bgrt = "../../display/testdata/bgrt"
	th := filepath.Join("..", "..", "themes", "firmware", "theme.toml")
	dir := t.TempDir()
	render := func(name string, args ...string) (string, error) {
		out := filepath.Join(dir, name+".png")
		_, stderr, err := runArgs(t, append([]string{"render", "--theme", th, "--size", "1920x1080", "--out", out}, args...)...)
		if err != nil {
			return "", errors.Join(err, errors.New(stderr))
		}
		return out, nil
	}
	same, err := render("same", "--bgrt", bgrt)
	if err != nil {
		t.Fatal(err)
	}
	// The firmware drew at 543,371, centred, in a 1280x800 mode: on
	// 1920x1080 the logo moves by Plymouth's rule, where without
	// --firmware-mode it stays at 543,371 of the 1920x1080 frame.
	other, err := render("other", "--bgrt", bgrt, "--firmware-mode", "1280x800")
	if err != nil {
		t.Fatal(err)
	}
	none, err := render("none")
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := readPNGFile(t, same), readPNGFile(t, other), readPNGFile(t, none)
	if testutil.DifferingPixels(a, b) == 0 {
		t.Error("--firmware-mode changes nothing")
	}
	if testutil.DifferingPixels(a, c) == 0 {
		t.Error("--bgrt changes nothing")
	}
	if _, err := render("bad", "--bgrt", dir); err == nil || !strings.Contains(err.Error(), "--bgrt: firmware logo:") {
		t.Errorf("a directory with no BGRT: %v", err)
	}
	if _, err := render("lone", "--firmware-mode", "1024x768"); err == nil || !strings.Contains(err.Error(), "--firmware-mode needs --bgrt") {
		t.Errorf("--firmware-mode alone: %v", err)
	}
}

// TestRenderSecureBoot: render --secure-boot off draws the firmware
// theme's [secure_boot] line, on draws what no flag draws (a render reads
// no firmware), and another word is refused.
func TestRenderSecureBoot(t *testing.T) {
	th := filepath.Join("..", "..", "themes", "firmware", "theme.toml")
	dir := t.TempDir()
	render := func(name string, args ...string) (string, error) {
		out := filepath.Join(dir, name+".png")
		_, stderr, err := runArgs(t, append([]string{"render", "--theme", th, "--size", "1280x800", "--lang", "en", "--out", out}, args...)...)
		if err != nil {
			return "", errors.Join(err, errors.New(stderr))
		}
		return out, nil
	}
	var imgs []string
	for _, args := range [][]string{{"--secure-boot", "off"}, {"--secure-boot", "on"}, nil} {
		p, err := render(strings.Join(append([]string{"x"}, args...), "-"), args...)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, p)
	}
	off, on, none := readPNGFile(t, imgs[0]), readPNGFile(t, imgs[1]), readPNGFile(t, imgs[2])
	if testutil.DifferingPixels(off, none) == 0 {
		t.Error("--secure-boot off draws no line")
	}
	if n := testutil.DifferingPixels(on, none); n != 0 {
		t.Errorf("--secure-boot on differs from no flag in %d pixels", n)
	}
	if _, err := render("bad", "--secure-boot", "maybe"); err == nil || !strings.Contains(err.Error(), "--secure-boot") {
		t.Errorf("--secure-boot maybe: %v", err)
	}
}
