package theme

import (
	"image"
	"image/color"
	"testing"
)

// Resampling keeps a flat colour flat, alpha included, both ways.
func TestResampleFlat(t *testing.T) {
	src := image.NewNRGBA(image.Rect(3, 5, 40, 29))
	for i := 0; i < len(src.Pix); i += 4 {
		copy(src.Pix[i:], []byte{200, 100, 50, 128})
	}
	want := color.RGBAModel.Convert(color.NRGBA{200, 100, 50, 128}).(color.RGBA)
	for _, sz := range []image.Point{{37, 24}, {10, 7}, {100, 61}, {1, 1}} {
		dst := resample(src, sz.X, sz.Y)
		if dst.Bounds() != image.Rect(0, 0, sz.X, sz.Y) {
			t.Fatalf("bounds %v", dst.Bounds())
		}
		for y := 0; y < sz.Y; y++ {
			for x := 0; x < sz.X; x++ {
				got := dst.RGBAAt(x, y)
				if d := diff(got, want); d > 1 {
					t.Fatalf("%v: (%d,%d) = %v, want %v", sz, x, y, got, want)
				}
			}
		}
	}
}

// Halving a checkerboard averages it to grey; doubling a two-pixel image
// keeps its ends and blends the middle.
func TestResampleAverages(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			if (x+y)%2 == 0 {
				src.Pix[y*64+x] = 255
			}
		}
	}
	dst := resample(src, 16, 16)
	for y := 2; y < 14; y++ {
		for x := 2; x < 14; x++ {
			if v := dst.RGBAAt(x, y).R; v < 120 || v > 135 {
				t.Fatalf("(%d,%d) = %d, want about 128", x, y, v)
			}
		}
	}
	two := image.NewGray(image.Rect(0, 0, 2, 1))
	two.Pix[1] = 200
	up := resample(two, 8, 1)
	if up.RGBAAt(0, 0).R != 0 || up.RGBAAt(7, 0).R != 200 {
		t.Errorf("ends: %v %v", up.RGBAAt(0, 0), up.RGBAAt(7, 0))
	}
	for x := 1; x < 8; x++ {
		if up.RGBAAt(x, 0).R < up.RGBAAt(x-1, 0).R {
			t.Errorf("not increasing at %d: %v", x, up.Pix)
		}
	}
}

func diff(a, b color.RGBA) int {
	d := 0
	for _, p := range [][2]uint8{{a.R, b.R}, {a.G, b.G}, {a.B, b.B}, {a.A, b.A}} {
		if x := int(p[0]) - int(p[1]); x > d {
			d = x
		} else if -x > d {
			d = -x
		}
	}
	return d
}
