package theme

import (
	"image"
	"image/draw"
	"math"
)

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
