package splash

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"github.com/bootsplash/bootsplash/fbemu"
)

//go:embed assets/logo.png
var defaultLogo []byte

// Scene is a still splash: a vertical gradient from Top to Bottom and a logo
// centred on the screen.
type Scene struct {
	Top, Bottom color.RGBA
	Logo        image.Image
}

// DefaultScene is the splash bootsplash shows when no theme is given: a dark
// blue-grey gradient and the embedded logo.
func DefaultScene() (*Scene, error) {
	logo, err := png.Decode(bytes.NewReader(defaultLogo))
	if err != nil {
		return nil, fmt.Errorf("splash: embedded logo: %w", err)
	}
	return &Scene{
		Top:    color.RGBA{0x10, 0x16, 0x20, 0xff},
		Bottom: color.RGBA{0x24, 0x30, 0x44, 0xff},
		Logo:   logo,
	}, nil
}

// Painter paints one Scene on surfaces of one pixel format. It converts the
// logo to that format once, so painting a frame converts nothing.
type Painter struct {
	scene *Scene
	logo  *fbemu.Sprite
}

// NewPainter prepares sc for surfaces of format f.
func NewPainter(sc *Scene, f fbemu.Format) *Painter {
	p := &Painter{scene: sc}
	if sc.Logo != nil {
		p.logo = fbemu.NewSprite(sc.Logo, f)
	}
	return p
}

// Paint draws the whole scene on s.
func (p *Painter) Paint(s *fbemu.Surface) {
	w, h := s.Width(), s.Height()
	top, bot := p.scene.Top, p.scene.Bottom
	for y := 0; y < h; y++ {
		s.FillRect(image.Rect(0, y, w, y+1), lerp(top, bot, y, h-1))
	}
	if p.logo != nil {
		lb := p.logo.Bounds()
		at := image.Pt((w-lb.Dx())/2, (h-lb.Dy())/2)
		s.Blit(lb.Add(at), p.logo, image.Point{}, draw.Over)
	}
}

// lerp mixes a and b as i/n of the way from a to b, in integers so every
// backend computes the same bytes.
func lerp(a, b color.RGBA, i, n int) color.RGBA {
	if n <= 0 {
		return a
	}
	mix := func(x, y uint8) uint8 {
		return uint8((int(x)*(n-i) + int(y)*i + n/2) / n)
	}
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}
