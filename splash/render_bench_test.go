package splash

import (
	"fmt"
	"image"
	"image/color"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

var benchSizes = []image.Point{{1920, 1080}, {800, 480}}

// versus times ours with the benchmark timer and base as often, untimed,
// in alternating rounds so both see the same load, and reports ours over
// base as metric (1 is as fast as the baseline).
func versus(b *testing.B, metric string, ours, base func()) {
	b.Helper()
	b.StopTimer()
	b.ResetTimer()
	const rounds = 4
	var baseTime time.Duration
	done := 0
	for r := 0; r < rounds; r++ {
		n := (b.N*(r+1))/rounds - done
		start := time.Now()
		for i := 0; i < n; i++ {
			base()
		}
		baseTime += time.Since(start)
		b.StartTimer()
		for i := 0; i < n; i++ {
			ours()
		}
		b.StopTimer()
		done += n
	}
	b.ReportMetric(float64(b.Elapsed())/float64(baseTime), metric)
}

func forBenchSizes(b *testing.B, f func(b *testing.B, w, h int)) {
	for _, sz := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", sz.X, sz.Y), func(b *testing.B) { f(b, sz.X, sz.Y) })
	}
}

// The whole default splash with text, against clearing the screen (the
// least a full frame can cost): "x-clear" is how many clears it costs.
func BenchmarkPaint(b *testing.B) {
	forBenchSizes(b, func(b *testing.B, w, h int) {
		th, err := theme.Default()
		if err != nil {
			b.Fatal(err)
		}
		r := NewRenderer(th, 1)
		s := fbemu.NewSurface(w, h, fbemu.XRGB8888)
		st := State{Progress: 0.4, Message: "Checking file systems…", Status: "clean"}
		if err := r.Paint(s, st); err != nil {
			b.Fatal(err)
		}
		versus(b, "x-clear", func() { r.Paint(s, st) }, func() { s.Clear(color.RGBA{A: 0xff}) })
	})
}

// A progress tick through Update, against a full Paint of the same
// state: "x-paint" is the fraction of a full repaint it costs.
func BenchmarkUpdateTick(b *testing.B) {
	forBenchSizes(b, func(b *testing.B, w, h int) {
		th, err := theme.Default()
		if err != nil {
			b.Fatal(err)
		}
		r := NewRenderer(th, 1)
		s := fbemu.NewSurface(w, h, fbemu.XRGB8888)
		a, c := State{Progress: 0.4, Message: "Starting"}, State{Progress: 0.41, Message: "Starting"}
		if err := r.Paint(s, a); err != nil {
			b.Fatal(err)
		}
		flip := false
		versus(b, "x-paint", func() {
			if flip {
				r.Update(s, c, a)
			} else {
				r.Update(s, a, c)
			}
			flip = !flip
		}, func() {
			if flip {
				r.Paint(s, a)
			} else {
				r.Paint(s, c)
			}
		})
	})
}

// The first frame from nothing: load the embedded theme, lay it out,
// decode the logo and paint, against clearing the screen.
func BenchmarkFirstFrame(b *testing.B) {
	forBenchSizes(b, func(b *testing.B, w, h int) {
		s := fbemu.NewSurface(w, h, fbemu.XRGB8888)
		versus(b, "x-clear", func() {
			th, err := theme.Default()
			if err != nil {
				b.Fatal(err)
			}
			if err := NewRenderer(th, 1).Paint(s, State{}); err != nil {
				b.Fatal(err)
			}
		}, func() { s.Clear(color.RGBA{A: 0xff}) })
	})
}
