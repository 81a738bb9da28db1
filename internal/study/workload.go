package study

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font/basicfont"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/fbemu"
)

// format is the pixel format every study frame uses.
const format = fbemu.XRGB8888

// painter draws the frames of one workload at one size. Everything a frame
// needs beyond the surface is made here, so that drawing allocates nothing.
type painter struct {
	w    Workload
	size Size
	dots [8]*fbemu.Sprite // Spinner: one dot per brightness
	text [16]string       // Text: the lines shown in turn
}

// Colours of the study's frames (opaque, so premultiplied as they are).
var (
	bgColor    = color.RGBA{0x10, 0x12, 0x18, 0xff}
	panelColor = color.RGBA{0x30, 0x38, 0x50, 0xff}
	barColor   = color.RGBA{0x40, 0xa0, 0xe0, 0xff}
	textColor  = color.RGBA{0xe8, 0xe8, 0xe8, 0xff}
)

func newPainter(w Workload, size Size) *painter {
	p := &painter{w: w, size: size}
	switch w {
	case Spinner:
		d := p.dotSize()
		for i := range p.dots {
			img := image.NewNRGBA(image.Rect(0, 0, d, d))
			alpha := uint8(255 - i*28)
			c := float64(d-1) / 2
			for y := 0; y < d; y++ {
				for x := 0; x < d; x++ {
					dx, dy := float64(x)-c, float64(y)-c
					if dx*dx+dy*dy <= c*c+0.5 {
						img.SetNRGBA(x, y, color.NRGBA{0xe8, 0xe8, 0xe8, alpha})
					}
				}
			}
			p.dots[i] = fbemu.NewSprite(img, format)
		}
	case Text:
		for i := range p.text {
			p.text[i] = fmt.Sprintf("[  OK  ] Started unit %d of %d: systemd-udev-trigger.service", 40+i, 120)
		}
	}
	return p
}

// progressBar is where the progress bar lies, and the width of one tick.
func (p *painter) progressBar() (bar image.Rectangle, tick int) {
	w, h := p.size.W, p.size.H
	bh := max(4, h/60)
	bar = image.Rect(w/4, h*3/4, w*3/4, h*3/4+bh)
	return bar, max(1, bar.Dx()/100)
}

// spinnerBox is the square the spinner redraws.
func (p *painter) spinnerBox() image.Rectangle {
	s := max(24, p.size.H/8)
	x0, y0 := p.size.W/2-s/2, p.size.H*5/8-s/2
	return image.Rect(x0, y0, x0+s, y0+s)
}

func (p *painter) dotSize() int { return max(3, p.spinnerBox().Dx()/6) }

// textBand is the line of text the Text workload redraws.
func (p *painter) textBand() image.Rectangle {
	lh := basicfont.Face7x13.Height + 6
	y0 := p.size.H*7/8 - lh
	return image.Rect(p.size.W/16, y0, p.size.W-p.size.W/16, y0+lh)
}

// draw paints frame n on s and returns the rectangles it changed, which do
// not overlap.
func (p *painter) draw(s *fbemu.Surface, n int, out []image.Rectangle) []image.Rectangle {
	b := s.Bounds()
	switch p.w {
	case Full:
		shade := uint8(n % 32)
		s.FillRect(b, color.RGBA{bgColor.R + shade, bgColor.G, bgColor.B, 0xff})
		panel := image.Rect(b.Dx()/3, b.Dy()/3, b.Dx()*2/3, b.Dy()*2/3)
		s.FillRect(panel, panelColor)
		bar, _ := p.progressBar()
		s.FillRect(bar, barColor)
		return append(out, b)
	case Progress:
		bar, tick := p.progressBar()
		steps := (bar.Dx() + tick - 1) / tick
		lap, step := n/steps, n%steps
		r := image.Rect(bar.Min.X+step*tick, bar.Min.Y, bar.Min.X+(step+1)*tick, bar.Max.Y).Intersect(bar).Intersect(b)
		c := barColor
		if lap%2 == 1 {
			c = panelColor
		}
		s.FillRect(r, c)
		return append(out, r)
	case Spinner:
		box := p.spinnerBox()
		s.FillRect(box, bgColor)
		d := p.dotSize()
		c := box.Min.Add(image.Pt(box.Dx()/2-d/2, box.Dy()/2-d/2))
		rad := box.Dx()/2 - d/2 - 1
		for k := 0; k < 8; k++ {
			off := spinOffset(k)
			at := c.Add(image.Pt(off.X*rad/1000, off.Y*rad/1000))
			dot := p.dots[(k-n%8+8)%8]
			s.Blit(image.Rectangle{Min: at, Max: at.Add(image.Pt(d, d))}, dot, image.Point{}, draw.Over)
		}
		return append(out, box.Intersect(b))
	case Text:
		band := p.textBand().Intersect(b)
		s.FillRect(band, bgColor)
		// The text is clipped to its band: draw it on a surface over the
		// band's pixels.
		off := band.Min.Y*s.Stride() + band.Min.X*format.BytesPerPixel()
		line, err := fbemu.NewSurfaceOn(s.Pix()[off:], band.Dx(), band.Dy(), s.Stride(), s.Format())
		if err == nil {
			line.DrawText(image.Pt(4, 3+basicfont.Face7x13.Ascent), basicfont.Face7x13, p.text[n%len(p.text)], textColor)
		}
		return append(out, band)
	}
	return out
}

// spinOffset is the k-th of the eight spinner positions on a circle of
// radius 1000, clockwise from three o'clock.
func spinOffset(k int) image.Point {
	const d = 707 // 1000/sqrt(2)
	switch k % 8 {
	case 0:
		return image.Pt(1000, 0)
	case 1:
		return image.Pt(d, d)
	case 2:
		return image.Pt(0, 1000)
	case 3:
		return image.Pt(-d, d)
	case 4:
		return image.Pt(-1000, 0)
	case 5:
		return image.Pt(-d, -d)
	case 6:
		return image.Pt(0, -1000)
	}
	return image.Pt(d, -d)
}

// region is rectangle r of a frame with this stride as the byte region the
// mapping is told about.
func region(r image.Rectangle, stride int) access.Region {
	bpp := format.BytesPerPixel()
	return access.Region{Off: r.Min.Y*stride + r.Min.X*bpp, Len: r.Dx() * bpp, Stride: stride, Rows: r.Dy()}
}
