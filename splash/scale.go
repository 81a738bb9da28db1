package splash

import (
	"fmt"
	"math"
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
