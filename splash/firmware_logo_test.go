package splash

import (
	"image"
	"image/color"
	"path/filepath"
	"testing"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
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
