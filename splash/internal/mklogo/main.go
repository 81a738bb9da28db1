// Command mklogo draws bootsplash's default logo, an anti-aliased ring
// opened at the top with a dot in the gap, and writes it as a PNG with
// alpha. Run by `go generate ./splash/theme`.
package main

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"

	"golang.org/x/image/vector"
)

func main() {
	out := flag.String("o", "logo.png", "output file")
	size := flag.Int("size", 192, "width and height in pixels")
	flag.Parse()

	s := float32(*size)
	c := s / 2
	outer, inner := s*0.46, s*0.34
	gap := 0.55 // radians either side of the top left open

	r := vector.NewRasterizer(*size, *size)
	// The ring as one closed path: the outer arc clockwise, the inner arc back.
	arc := func(radius float32, from, to float64, first bool) {
		const steps = 96
		for i := 0; i <= steps; i++ {
			a := from + (to-from)*float64(i)/steps
			x := c + radius*float32(math.Sin(a))
			y := c - radius*float32(math.Cos(a))
			if first && i == 0 {
				r.MoveTo(x, y)
			} else {
				r.LineTo(x, y)
			}
		}
	}
	arc(outer, gap, 2*math.Pi-gap, true)
	arc(inner, 2*math.Pi-gap, gap, false)
	r.ClosePath()
	// The dot in the gap.
	dot := (outer - inner) * 0.62
	cy := c - (outer+inner)/2
	for i := 0; i <= 64; i++ {
		a := 2 * math.Pi * float64(i) / 64
		x := c + dot*float32(math.Cos(a))
		y := cy + dot*float32(math.Sin(a))
		if i == 0 {
			r.MoveTo(x, y)
		} else {
			r.LineTo(x, y)
		}
	}
	r.ClosePath()

	img := image.NewNRGBA(image.Rect(0, 0, *size, *size))
	accent := image.NewUniform(color.NRGBA{0x5a, 0xb0, 0xff, 0xff})
	r.Draw(img, img.Bounds(), accent, image.Point{})

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
