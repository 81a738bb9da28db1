// Command mktheme writes the images and font of the test theme in
// ../theme. Run it from splash/testdata: go run ./mktheme
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log"
	"math"
	"os"

	"golang.org/x/image/bmp"
	"golang.org/x/image/font/gofont/gomono"
)

func main() {
	must(write("theme/bg.jpg", func(f *os.File) error { return jpeg.Encode(f, background(), &jpeg.Options{Quality: 90}) }))
	must(write("theme/logo.bmp", func(f *os.File) error { return bmp.Encode(f, logo()) }))
	for i := 0; i < 8; i++ {
		img := spinnerFrame(i, 8)
		must(write(fmt.Sprintf("theme/spin-%02d.png", i), func(f *os.File) error { return png.Encode(f, img) }))
	}
	must(os.WriteFile("theme/mono.ttf", gomono.TTF, 0o644))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func write(name string, enc func(*os.File) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := enc(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// background is a 320x200 dusk: a warm-to-dark gradient with hills.
func background() image.Image {
	const w, h = 320, 200
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		t := float64(y) / h
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(40 + 120*t), uint8(30 + 40*t), uint8(90 - 40*t), 255}
			hill := 150 + 18*math.Sin(float64(x)/37) + 10*math.Sin(float64(x)/13+1)
			if float64(y) > hill {
				c = color.RGBA{20, 24, 32, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// logo is a 96x64 opaque badge: a rounded teal rectangle with a stripe.
func logo() image.Image {
	const w, h = 96, 64
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{0x10, 0x80, 0x80, 255}
			if y > 26 && y < 38 {
				c = color.RGBA{0xf0, 0xf0, 0xe0, 255}
			}
			if x < 8 || x >= w-8 || y < 8 || y >= h-8 {
				c = color.RGBA{0x08, 0x40, 0x40, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// spinnerFrame is frame i of n of a 24x24 arc turning clockwise, with
// alpha.
func spinnerFrame(i, n int) image.Image {
	const s = 24
	img := image.NewNRGBA(image.Rect(0, 0, s, s))
	start := 2 * math.Pi * float64(i) / float64(n)
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			dx, dy := float64(x)+0.5-s/2, float64(y)+0.5-s/2
			r := math.Hypot(dx, dy)
			a := math.Mod(math.Atan2(dx, -dy)-start+4*math.Pi, 2*math.Pi)
			if r > 7 && r < 11 && a < 1.8*math.Pi/2 {
				img.SetNRGBA(x, y, color.NRGBA{0xff, 0xd0, 0x60, uint8(255 - 100*a/math.Pi)})
			}
		}
	}
	return img
}
