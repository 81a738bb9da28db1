package main

import (
	"fmt"
	"math"
	"time"

	"github.com/bootsplash/bootsplash/splash"
)

// Checks of the numbers the command line takes. Each refusal is a usage
// error (exit status 2) that names the flag, the value and what it takes.

// checkScale checks a --scale value: 0 derives the scale from the display,
// anything else must lie in splash.MinScale..splash.MaxScale.
func checkScale(v float64) error {
	if v == 0 {
		return nil
	}
	if splash.CheckScale(v) != nil {
		return fmt.Errorf("%w: --scale %v: want 0 (derived from the display) or %v to %v", errUsage, v, splash.MinScale, splash.MaxScale)
	}
	return nil
}

// percentProgress reads a --progress percentage, 0 to 100 as `ctl
// progress`, psplash's PROGRESS and plymouth's system-update take it, into
// the fraction splash.State holds. A negative value means unknown (the
// bar pulses) and gives -1.
func percentProgress(flag string, v float64) (float64, error) {
	switch {
	case math.IsNaN(v) || v > 100:
		return 0, fmt.Errorf("%w: %s %v: want a percentage from 0 to 100 (negative: unknown, the bar pulses)", errUsage, flag, v)
	case v < 0:
		return -1, nil
	}
	return v / 100, nil
}

// checkWait checks a duration flag where 0 has a meaning of its own
// (zero says what) and a negative one none.
func checkWait(flag string, d time.Duration, zero string) error {
	if d < 0 {
		return fmt.Errorf("%w: %s %v: want a duration of 0 (%s) or more", errUsage, flag, d, zero)
	}
	return nil
}

// checkCount checks an integer flag against min..max.
func checkCount(flag string, v, min, max int) error {
	if v < min || v > max {
		return fmt.Errorf("%w: %s %d: want %d to %d", errUsage, flag, v, min, max)
	}
	return nil
}
