package status

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/display"
)

// cpuTime is the user and system time this process has used.
func cpuTime(t testing.TB) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The screen's cost while it runs: CPU time (user+sys, getrusage) per
// second of wall time, and the damage of each update, on a 1024x768
// emulated display with the real sources and a log file that gets a line
// every other second. BOOTSPLASH_STATUS_CPU sets how long it runs
// (default 3s; the README's numbers are from 30s). It fails above 50 ms a
// second (5% of a core), an order of magnitude above what it takes.
func TestCPUPerSecond(t *testing.T) {
	run := 3 * time.Second
	if v := os.Getenv("BOOTSPLASH_STATUS_CPU"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("BOOTSPLASH_STATUS_CPU=%q: %v", v, err)
		}
		run = d
	}
	if testing.Short() {
		t.Skip("runs for seconds")
	}
	d, err := display.NewEmulated(display.EmulatedOptions{Size: image.Pt(1024, 768)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	log := filepath.Join(t.TempDir(), "messages")
	os.WriteFile(log, []byte("boot\n"), 0o644)
	tail := openTail(t, log, TailOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var updates, pixels, rects, regions int
	var first Update
	start, cpu0 := time.Now(), cpuTime(t)
	err = Show(ctx, d, Options{Fields: Standard(System(), "/", ""), Log: tail}, func(_ *display.Head, u Update) {
		if updates == 0 {
			first = u
		} else {
			pixels += u.Pixels
			rects += u.Rects
			regions += u.Regions
		}
		updates++
		if updates%2 == 0 {
			appendFile(t, log, time.Now().Format(time.StampMilli)+" kernel: a line of the log\n")
		}
	})
	wall, cpu := time.Since(start), cpuTime(t)-cpu0
	if err != nil {
		t.Fatal(err)
	}
	steady := max(updates-1, 1)
	perSec := time.Duration(float64(cpu) / wall.Seconds())
	t.Logf("%v on a 1024x768 emulated display: %d updates, CPU %v (%v per second, %.2f%% of a core)",
		wall.Round(time.Millisecond), updates, cpu.Round(time.Millisecond), perSec.Round(time.Microsecond), 100*cpu.Seconds()/wall.Seconds())
	t.Logf("first update: %d regions, %d pixels; after it, per update: %.1f regions, %.1f rects, %.0f pixels (%.2f%% of the screen)",
		first.Regions, first.Pixels, float64(regions)/float64(steady), float64(rects)/float64(steady), float64(pixels)/float64(steady),
		100*float64(pixels)/float64(steady)/(1024*768))
	if updates < int(run/time.Second) {
		t.Errorf("%d updates in %v: want one a second", updates, wall)
	}
	if perSec > 50*time.Millisecond {
		t.Errorf("CPU %v per second, want under 50ms", perSec)
	}
}

// BenchmarkUpdate is one steady-state update (the clock turns a second)
// with fixed sources: the drawing and the damage bookkeeping alone.
func BenchmarkUpdate(b *testing.B) {
	e := emulatedSize(b, 1024, 768)
	s, err := New(e.Framebuffer, Options{Fields: Standard((&fake{}).sources(), "/", "")})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Update(t0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	px := 0
	for i := 0; b.Loop(); i++ {
		u, err := s.Update(t0.Add(time.Duration(i+1) * time.Second))
		if err != nil {
			b.Fatal(err)
		}
		px += u.Pixels
	}
	b.ReportMetric(float64(px)/float64(b.N), "px/op")
}

// BenchmarkSources is one reading of every real source, what an update
// costs before it draws.
func BenchmarkSources(b *testing.B) {
	fields := Standard(System(), "/", "")
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range fields {
			f.Value(t0)
		}
	}
}
