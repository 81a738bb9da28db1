//go:build preview

package preview

import (
	"image"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// BenchmarkProgressTick measures the daemon's side of a progress tick:
// the partial repaint and the hand-over of its damage (only the damaged
// rectangles are read back, with SnapshotInto). It reports the ratio to
// copying the whole frame once, what reading the whole frame would cost
// at the least.
func BenchmarkProgressTick(b *testing.B) {
	th, err := theme.Default()
	if err != nil {
		b.Fatal(err)
	}
	var bytes int
	d := &display{theme: th, send: func(u update) {
		for _, r := range u.clips {
			bytes += 4 * r.Dx() * r.Dy()
		}
	}}
	size := image.Pt(1024, 768)
	if err := d.open(size); err != nil {
		b.Fatal(err)
	}
	defer d.close()
	if err := d.Show(splash.State{Progress: 0}); err != nil {
		b.Fatal(err)
	}
	frame := make([]byte, 4*size.X*size.Y)
	dst := make([]byte, len(frame))
	start := time.Now()
	const copies = 200
	for range copies {
		copy(dst, frame)
	}
	perCopy := time.Since(start) / copies

	bytes = 0
	b.ResetTimer()
	for i := range b.N {
		if err := d.Show(splash.State{Progress: float64(i%100) / 100}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(bytes)/float64(b.N), "damage-bytes/op")
	b.ReportMetric(float64(per)/float64(perCopy), "x-frame-memmove")
}
