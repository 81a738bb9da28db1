// Command mkassets draws the images of the example themes under themes/:
// the product theme's background (a JPEG) and logo (a PNG with alpha) and
// the portrait theme's mark. Every image is drawn from code, so the
// themes carry no asset without a source. Run from the repository root:
//
//	go run ./themes/mkassets
package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"log"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

func main() {
	write("themes/product/background.jpg", background(960, 540), true)
	write("themes/product/logo.png", wordmark(), false)
	write("themes/portrait/mark.png", leaf(160), false)
}

// write encodes img as a JPEG or a PNG.
func write(path string, img image.Image, asJPEG bool) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if asJPEG {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 82})
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func lerp(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t + 0.5) }

// background is a night-blue sky over three layers of hills, lighter
// toward the horizon, with a soft glow where the logo goes.
func background(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	top, horizon := color.RGBA{0x0a, 0x10, 0x24, 0xff}, color.RGBA{0x2a, 0x3c, 0x66, 0xff}
	for y := 0; y < h; y++ {
		t := float64(y) / float64(h-1)
		for x := 0; x < w; x++ {
			// The glow: a wide ellipse above the middle.
			dx, dy := (float64(x)-float64(w)/2)/(float64(w)*0.42), (float64(y)-float64(h)*0.4)/(float64(h)*0.45)
			g := math.Max(0, 1-(dx*dx+dy*dy)) * 0.35
			c := color.RGBA{lerp(top.R, horizon.R, t), lerp(top.G, horizon.G, t), lerp(top.B, horizon.B, t), 0xff}
			c.R, c.G, c.B = lerp(c.R, 0x6a, g), lerp(c.G, 0x8c, g), lerp(c.B, 0xc8, g)
			img.SetRGBA(x, y, c)
		}
	}
	hills := []struct {
		base, amp, freq, phase float64
		c                      color.RGBA
	}{
		{0.70, 0.05, 2.1, 0.3, color.RGBA{0x1c, 0x28, 0x48, 0xff}},
		{0.80, 0.04, 3.3, 1.7, color.RGBA{0x13, 0x1c, 0x36, 0xff}},
		{0.90, 0.03, 5.0, 4.1, color.RGBA{0x0b, 0x11, 0x22, 0xff}},
	}
	for _, hl := range hills {
		r := vector.NewRasterizer(w, h)
		r.MoveTo(0, float32(h))
		for x := 0; x <= w; x += 4 {
			fx := float64(x) / float64(w)
			y := hl.base + hl.amp*math.Sin(2*math.Pi*hl.freq*fx+hl.phase) + hl.amp/2*math.Sin(2*math.Pi*hl.freq*2.7*fx)
			r.LineTo(float32(x), float32(y*float64(h)))
		}
		r.LineTo(float32(w), float32(h))
		r.ClosePath()
		r.Draw(img, img.Bounds(), image.NewUniform(hl.c), image.Point{})
	}
	return img
}

// wordmark is a rounded square with a chevron beside the product name.
func wordmark() *image.NRGBA {
	const w, h = 360, 96
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	accent := image.NewUniform(color.NRGBA{0xff, 0xb3, 0x47, 0xff})
	white := image.NewUniform(color.NRGBA{0xf4, 0xf6, 0xfa, 0xff})

	r := vector.NewRasterizer(w, h)
	roundRect(r, 4, 8, 84, 88, 18)
	r.Draw(img, img.Bounds(), accent, image.Point{})
	// The chevron, cut out of the square.
	r = vector.NewRasterizer(w, h)
	r.MoveTo(26, 30)
	r.LineTo(44, 48)
	r.LineTo(26, 66)
	r.LineTo(36, 66)
	r.LineTo(54, 48)
	r.LineTo(36, 30)
	r.ClosePath()
	mask := image.NewAlpha(img.Bounds())
	r.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	for i, a := range mask.Pix {
		img.Pix[4*i+3] = uint8(int(img.Pix[4*i+3]) * (255 - int(a)) / 255)
	}

	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		log.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 44, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		log.Fatal(err)
	}
	d := font.Drawer{Dst: img, Src: white, Face: face, Dot: fixed.P(104, 64)}
	d.DrawString("Northwind")
	return img
}

// roundRect adds a rectangle with corners of radius rad.
func roundRect(r *vector.Rasterizer, x0, y0, x1, y1, rad float32) {
	corner := func(cx, cy float32, from float64) {
		for i := 0; i <= 16; i++ {
			a := from + math.Pi/2*float64(i)/16
			r.LineTo(cx+rad*float32(math.Cos(a)), cy+rad*float32(math.Sin(a)))
		}
	}
	r.MoveTo(x0+rad, y0)
	corner(x1-rad, y0+rad, -math.Pi/2)
	corner(x1-rad, y1-rad, 0)
	corner(x0+rad, y1-rad, math.Pi/2)
	corner(x0+rad, y0+rad, math.Pi)
	r.ClosePath()
}

// leaf is a two-tone leaf in a ring, on transparency.
func leaf(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float32(size)
	c := s / 2
	r := vector.NewRasterizer(size, size)
	circle := func(rad float32, ccw bool) {
		for i := 0; i <= 96; i++ {
			a := 2 * math.Pi * float64(i) / 96
			if ccw {
				a = -a
			}
			x, y := c+rad*float32(math.Cos(a)), c+rad*float32(math.Sin(a))
			if i == 0 {
				r.MoveTo(x, y)
			} else {
				r.LineTo(x, y)
			}
		}
		r.ClosePath()
	}
	circle(s*0.48, false)
	circle(s*0.43, true)
	r.Draw(img, img.Bounds(), image.NewUniform(color.NRGBA{0x8f, 0xe3, 0xb0, 0xff}), image.Point{})

	half := func(side float32, col color.NRGBA) {
		r := vector.NewRasterizer(size, size)
		r.MoveTo(c, s*0.18)
		r.QuadTo(c+side*s*0.34, c, c, s*0.82)
		r.ClosePath()
		layer := image.NewNRGBA(img.Bounds())
		r.Draw(layer, layer.Bounds(), image.NewUniform(col), image.Point{})
		draw.Draw(img, img.Bounds(), layer, image.Point{}, draw.Over)
	}
	half(-1, color.NRGBA{0x4c, 0xc2, 0x7d, 0xff})
	half(1, color.NRGBA{0x2f, 0x9a, 0x5e, 0xff})
	return img
}
