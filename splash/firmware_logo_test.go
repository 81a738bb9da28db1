package splash

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// TestFirmwareLogoDrawn: a theme that takes the firmware's logo draws the
// BGRT bitmap pixel for pixel where the firmware drew it when the frame is
// in the firmware's mode (the bitmap's fourth byte ignored, as by the
// firmware's blit), as Plymouth places it in another mode, and its own
// image when the firmware has no logo or asks for it turned.
func TestFirmwareLogoDrawn(t *testing.T) {
	th, err := theme.Load(filepath.Join("..", "themes", "firmware", "theme.toml"), theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fw, err := display.ReadFirmwareLogo(filepath.Join("..", "display", "testdata", "bgrt"))
	if err != nil {
		t.Fatal(err)
	}
	// A 32-bit bitmap whose alpha byte is 0 is still drawn opaque.
	src := fw.Image
	see := image.NewNRGBA(src.Bounds())
	for y := range src.Bounds().Dy() {
		for x := range src.Bounds().Dx() {
			r, g, b, _ := src.At(x, y).RGBA()
			see.SetNRGBA(x, y, color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0})
		}
	}
	fw.Image = see
	render := func(name string, w, h int, l *display.FirmwareLogo, mode image.Point) image.Image {
		t.Helper()
		out := filepath.Join(t.TempDir(), name+".png")
		if err := RenderFrame(out, FrameOptions{Width: w, Height: h, Theme: th, Scale: 1, FirmwareLogo: l, FirmwareMode: mode}); err != nil {
			t.Fatal(err)
		}
		img, err := readPNGFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	logoAt := func(img image.Image, at image.Point) int {
		bad := 0
		for y := range src.Bounds().Dy() {
			for x := range src.Bounds().Dx() {
				r1, g1, b1, _ := src.At(x, y).RGBA()
				r2, g2, b2, _ := img.At(at.X+x, at.Y+y).RGBA()
				if r1>>8 != r2>>8 || g1>>8 != g2>>8 || b1>>8 != b2>>8 {
					bad++
				}
			}
		}
		return bad
	}
	if n := logoAt(render("firmware-mode", 1280, 800, fw, image.Point{}), fw.Offset); n != 0 {
		t.Errorf("in the firmware's mode: %d pixels of the logo differ from the bitmap at %v", n, fw.Offset)
	}
	// 1920x1080: the offset centred it on the firmware's 1280x800, so it
	// moves by half the width's change and 38.2% of the height's.
	if n := logoAt(render("other-mode", 1920, 1080, fw, image.Pt(1280, 800)), image.Pt(543+320, 371+106)); n != 0 {
		t.Errorf("in another mode: %d pixels of the logo differ from the bitmap where Plymouth puts it", n)
	}
	none := render("none", 1280, 800, nil, image.Point{})
	if n := logoAt(none, fw.Offset); n == 0 {
		t.Error("with no firmware logo the bitmap is drawn anyway")
	}
	turned := *fw
	turned.Orientation = 90
	r := NewRenderer(th, 1)
	own, err := r.newLayout(1280, 800, fbemu.XRGB8888)
	if err != nil || own.logo == nil {
		t.Fatalf("the theme's own logo: %v", err)
	}
	r.SetFirmwareLogo(&turned, image.Point{})
	l, err := r.newLayout(1280, 800, fbemu.XRGB8888)
	if err == nil || l.logo == nil || l.logoRect != own.logoRect {
		t.Errorf("a firmware logo to be turned: %v at %v; want the theme's image at %v and an error saying why", err, l.logoRect, own.logoRect)
	}
}

// TestScreenFirmwareLogo: a DisplayScreen reads the firmware's logo from
// its BGRT directory for a theme that takes it and draws exactly what
// RenderFrame draws with that logo; a corrupt bitmap, one over the size
// limit and a machine with no BGRT draw the theme's own logo instead, the
// log saying which.
func TestScreenFirmwareLogo(t *testing.T) {
	th, err := theme.Load(filepath.Join("..", "themes", "firmware", "theme.toml"), theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join("..", "display", "testdata", "bgrt")
	fw, err := display.ReadFirmwareLogo(good)
	if err != nil {
		t.Fatal(err)
	}
	// A copy of the good table with its image replaced.
	withImage := func(name string, img []byte) string {
		dir := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"type", "status", "xoffset", "yoffset"} {
			b, err := os.ReadFile(filepath.Join(good, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "image"), img, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	bmpBytes, err := os.ReadFile(filepath.Join(good, "image"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := withImage("corrupt", bmpBytes[:len(bmpBytes)/2])
	// A BMP header that says 5000x5000: over the pixel limit before a
	// pixel is decoded.
	huge := append([]byte(nil), bmpBytes[:54]...)
	binary.LittleEndian.PutUint32(huge[18:], 5000)
	binary.LittleEndian.PutUint32(huge[22:], 5000)
	oversized := withImage("oversized", huge)

	want := func(l *display.FirmwareLogo) image.Image {
		out := filepath.Join(t.TempDir(), "want.png")
		if err := RenderFrame(out, FrameOptions{Width: 1280, Height: 800, Theme: th, FirmwareLogo: l}); err != nil {
			t.Fatal(err)
		}
		img, err := readPNGFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	withLogo, without := want(fw), want(nil)
	for _, c := range []struct {
		name, dir string
		want      image.Image
		log       string
	}{
		{"the firmware's logo", good, withLogo, "firmware logo: ACPI BGRT 193x58 at (543,371)"},
		{"corrupt", corrupt, without, "corrupt BMP"},
		{"oversized", oversized, without, "over the limit"},
		{"no BGRT", filepath.Join(t.TempDir(), "none"), without, "firmware logo: none (no ACPI BGRT)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			var got image.Image
			d, err := display.NewEmulated(display.EmulatedOptions{Size: image.Pt(1280, 800), Present: func(e *fbemu.Emulated) error {
				img, err := e.Snapshot()
				got = img
				return err
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			s := NewScreen(d, th, ScreenOptions{BGRT: c.dir, Log: slog.New(slog.NewTextHandler(&log, nil))})
			if err := s.Show(State{}); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("no frame presented")
			}
			if n := testutil.DifferingPixels(got, c.want); n != 0 {
				t.Errorf("%d pixels differ from RenderFrame's", n)
			}
			if !strings.Contains(log.String(), c.log) {
				t.Errorf("the log does not say %q:\n%s", c.log, log.String())
			}
		})
	}
}
