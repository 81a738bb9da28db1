package text

import (
	"image"
	"os"
	"testing"
)

// TestColorEmoji: an emoji from a colour bitmap font (Noto Color Emoji's
// PNG strikes, which scripts/test installs) is drawn in its own colours,
// scaled to the line's size.
func TestColorEmoji(t *testing.T) {
	data, err := os.ReadFile("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
	if err != nil {
		t.Fatalf("Noto Color Emoji (fonts-noto-color-emoji): %v", err)
	}
	face, err := ParseFont(data)
	if err != nil {
		t.Fatal(err)
	}
	fonts, err := NewFonts([]*Face{face}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewShaper(fonts, 32, "en")
	img := render(t, s, "🚀", 80, 60, Options{})
	colours := map[[3]uint8]bool{}
	lit := 0
	var box image.Rectangle
	for y := 0; y < 60; y++ {
		for x := 0; x < 80; x++ {
			c := img.RGBAAt(x, y)
			if c.R|c.G|c.B != 0 {
				lit++
				colours[[3]uint8{c.R >> 4, c.G >> 4, c.B >> 4}] = true
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if lit < 200 || len(colours) < 10 {
		t.Errorf("the rocket lit %d pixels in %d colours, want a colour picture", lit, len(colours))
	}
	if box.Dx() > 44 || box.Dy() > 44 || box.Dx() < 20 {
		t.Errorf("the rocket is %v, want about the 32-pixel em", box)
	}
}
