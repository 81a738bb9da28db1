package splash

import (
	"fmt"
	"image"
	"image/draw"
	"math"

	"github.com/bootsplash/bootsplash/client"
)

// Thresholds of the output scale heuristic (see OutputScale).
const (
	// scaleMinHeight is the shortest panel that is ever scaled up: below
	// it a doubled splash would not fit, however dense the pixels are
	// (phones, small embedded panels).
	scaleMinHeight = 1200
	// scaleGuessWidth is the narrowest panel guessed to be dense when its
	// physical size is unknown.
	scaleGuessWidth = 2560
	// scale2DPI and scale3DPI are the densities, in both directions, above
	// which a panel gets scale 2 and 3.
	scale2DPI = 192
	scale3DPI = 320
)

// The range of scales a splash may be drawn at when one is asked for
// (Config.Scale, FrameOptions.Scale): a quarter of the theme's size, for
// a theme drawn for a big panel shown on a tiny one, up to eight times,
// beyond any panel density made. Outside it the splash is empty or a few
// of its pixels fill the screen.
const (
	MinScale = 0.25
	MaxScale = 8
)

// CheckScale says why s is not a scale to draw at: NaN, infinite, or
// outside MinScale..MaxScale. Zero, which asks for OutputScale, is not a
// scale either: callers that accept it check it first.
func CheckScale(s float64) error {
	if math.IsNaN(s) || s < MinScale || s > MaxScale {
		return fmt.Errorf("scale %v: want %v to %v", s, MinScale, MaxScale)
	}
	return nil
}

// OutputScale returns the scale factor a splash is drawn at on a panel of
// width x height pixels and widthMM x heightMM millimetres (0 when the
// EDID gives no size), in the spirit of Plymouth's device scale:
//
//   - panels shorter than 1200 pixels are drawn at 1: tiny dense panels
//     have no room for a bigger splash;
//   - a size of 16x9, 16x10, 160x90 or 160x100 mm is an aspect ratio
//     (TVs and projectors put it there), not a size: 1;
//   - an unknown size is guessed from the pixels: 2 from 2560 wide;
//   - otherwise 2 above 192 dpi and 3 above 320 dpi, in both directions,
//     since one of the two EDID numbers is often wrong.
//
// Width and height are the panel's own (unrotated) pixels.
func OutputScale(width, height, widthMM, heightMM int) float64 {
	if height < scaleMinHeight {
		return 1
	}
	switch [2]int{widthMM, heightMM} {
	case [2]int{16, 9}, [2]int{16, 10}, [2]int{160, 90}, [2]int{160, 100}:
		return 1
	}
	if widthMM <= 0 || heightMM <= 0 {
		if width >= scaleGuessWidth {
			return 2
		}
		return 1
	}
	dx := float64(width) * 25.4 / float64(widthMM)
	dy := float64(height) * 25.4 / float64(heightMM)
	switch {
	case dx > scale3DPI && dy > scale3DPI:
		return 3
	case dx > scale2DPI && dy > scale2DPI:
		return 2
	}
	return 1
}

// ScaleOf returns OutputScale for a KMS output: its mode's size and its
// connector's physical size.
func ScaleOf(out *client.Output) float64 {
	return OutputScale(int(out.Mode.HDisplay), int(out.Mode.VDisplay), out.Connector.WidthMM, out.Connector.HeightMM)
}

// resample scales src to w x h pixels with a triangle filter that widens
// when shrinking (so downscaling averages every source pixel, upscaling
// is bilinear), in premultiplied alpha. It works a row at a time, keeping
// only the source rows the filter needs, so a large source costs no more
// memory than a few of its rows.
func resample(src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sb := src.Bounds()
	if w <= 0 || h <= 0 || sb.Empty() {
		return dst
	}
	xs := filterWeights(sb.Dx(), w)
	ys := filterWeights(sb.Dy(), h)
	srow := image.NewRGBA(image.Rect(0, 0, sb.Dx(), 1))
	// cache holds the horizontally resampled source rows in use.
	type hrow struct {
		y   int
		pix []float32
	}
	var cache []hrow
	var free [][]float32
	get := func(y int) []float32 {
		for _, r := range cache {
			if r.y == y {
				return r.pix
			}
		}
		draw.Draw(srow, srow.Bounds(), src, image.Pt(sb.Min.X, sb.Min.Y+y), draw.Src)
		var pix []float32
		if n := len(free); n > 0 {
			pix, free = free[n-1], free[:n-1]
		} else {
			pix = make([]float32, 4*w)
		}
		for x, wt := range xs {
			var acc [4]float32
			for i, f := range wt.w {
				p := srow.Pix[4*(wt.start+i):]
				acc[0] += f * float32(p[0])
				acc[1] += f * float32(p[1])
				acc[2] += f * float32(p[2])
				acc[3] += f * float32(p[3])
			}
			copy(pix[4*x:4*x+4], acc[:])
		}
		cache = append(cache, hrow{y, pix})
		return pix
	}
	acc := make([]float32, 4*w)
	for y, wt := range ys {
		// Output rows move down the source: rows above this filter are
		// not needed again.
		k := 0
		for _, r := range cache {
			if r.y >= wt.start {
				cache[k] = r
				k++
			} else {
				free = append(free, r.pix)
			}
		}
		cache = cache[:k]
		clear(acc)
		for i, f := range wt.w {
			r := get(wt.start + i)
			for j := range acc {
				acc[j] += f * r[j]
			}
		}
		out := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			a := clamp8(acc[4*x+3])
			for c := 0; c < 3; c++ {
				v := clamp8(acc[4*x+c])
				if v > a {
					v = a // stay premultiplied
				}
				out[4*x+c] = v
			}
			out[4*x+3] = a
		}
	}
	return dst
}

// tap is one output pixel's filter: weights for source pixels
// start, start+1, ...
type tap struct {
	start int
	w     []float32
}

// filterWeights computes the normalised triangle-filter weights mapping
// n source pixels onto m.
func filterWeights(n, m int) []tap {
	ratio := float64(n) / float64(m)
	support := math.Max(1, ratio)
	out := make([]tap, m)
	for i := range out {
		c := (float64(i)+0.5)*ratio - 0.5
		lo := int(math.Floor(c - support + 1))
		hi := int(math.Ceil(c + support - 1))
		lo, hi = max(lo, 0), min(hi, n-1)
		ws := make([]float32, hi-lo+1)
		var sum float64
		for j := lo; j <= hi; j++ {
			f := 1 - math.Abs(float64(j)-c)/support
			if f < 0 {
				f = 0
			}
			ws[j-lo] = float32(f)
			sum += f
		}
		if sum == 0 {
			ws[len(ws)/2], sum = 1, 1
		}
		for j := range ws {
			ws[j] = float32(float64(ws[j]) / sum)
		}
		out[i] = tap{lo, ws}
	}
	return out
}

func clamp8(f float32) uint8 {
	switch {
	case f <= 0:
		return 0
	case f >= 255:
		return 255
	}
	return uint8(f + 0.5)
}
