package splash

import (
	"fmt"
	"testing"
)

func TestOutputScale(t *testing.T) {
	for _, c := range []struct {
		name       string
		w, h       int
		wmm, hmm   int
		want       float64
		whyNotSame string
	}{
		{"24in 1080p monitor", 1920, 1080, 531, 299, 1, ""},
		{"13in 1080p laptop: under 1200 rows", 1920, 1080, 294, 165, 1, ""},
		{"5in 720p phone panel: tiny", 1280, 720, 62, 110, 1, ""},
		{"7in 800x480 panel", 800, 480, 154, 86, 1, ""},
		{"13in 2560x1600 laptop", 2560, 1600, 286, 179, 2, ""},
		{"27in 4K monitor: 163 dpi", 3840, 2160, 597, 336, 1, ""},
		{"15in 4K laptop", 3840, 2160, 344, 194, 2, ""},
		{"13in 3840x2400: over 320 dpi", 3840, 2400, 286, 179, 3, ""},
		{"4K TV with its aspect ratio for a size", 3840, 2160, 160, 90, 1, ""},
		{"4K TV 16x9", 3840, 2160, 16, 9, 1, ""},
		{"projector 16x10", 2560, 1600, 160, 100, 1, ""},
		{"55in 4K TV", 3840, 2160, 1210, 680, 1, ""},
		{"unknown size, 4K: guessed", 3840, 2160, 0, 0, 2, ""},
		{"unknown size, 1080p", 1920, 1080, 0, 0, 1, ""},
		{"unknown size, 1920x1200", 1920, 1200, 0, 0, 1, ""},
		{"one number plausible, the other not", 3840, 2160, 344, 1000, 1, ""},
	} {
		if got := OutputScale(c.w, c.h, c.wmm, c.hmm); got != c.want {
			t.Errorf("%s: OutputScale(%d, %d, %d, %d) = %v, want %v", c.name, c.w, c.h, c.wmm, c.hmm, got, c.want)
		}
	}
}

func ExampleOutputScale() {
	fmt.Println(OutputScale(1920, 1080, 531, 299)) // a 24" monitor
	fmt.Println(OutputScale(2560, 1600, 286, 179)) // a 13" laptop
	fmt.Println(OutputScale(3840, 2160, 160, 90))  // a TV giving its aspect ratio
	// Output:
	// 1
	// 2
	// 1
}
