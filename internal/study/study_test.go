package study

import (
	"bytes"
	"encoding/csv"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

func TestParseNamesRoundTrip(t *testing.T) {
	for _, s := range Strategies() {
		got, err := ParseStrategy(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s, got, err)
		}
	}
	for _, w := range Workloads() {
		if got, err := ParseWorkload(w.String()); err != nil || got != w {
			t.Errorf("ParseWorkload(%q) = %v, %v", w, got, err)
		}
	}
	for _, s := range []Source{SourceHeap, SourceUdmabuf, SourceDumb, SourceMemfd} {
		if got, err := ParseSource(s.String()); err != nil || got != s {
			t.Errorf("ParseSource(%q) = %v, %v", s, got, err)
		}
	}
	for _, z := range DefaultSizes() {
		if got, err := ParseSize(z.String()); err != nil || got != z {
			t.Errorf("ParseSize(%q) = %v, %v", z, got, err)
		}
	}
	for _, bad := range []string{"", "800", "800x", "x600", "8x8", "99999x10", "axb"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	if _, err := ParseStrategy("mmap-always"); err == nil || !strings.Contains(err.Error(), "dumb") {
		t.Errorf("ParseStrategy of an unknown name: %v", err)
	}
	if _, err := ParseWorkload("scroll"); err == nil {
		t.Error("ParseWorkload accepted an unknown name")
	}
	if _, err := ParseSource("vram"); err == nil {
		t.Error("ParseSource accepted an unknown name")
	}
}

func TestQuantiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		in       []time.Duration
		med, p99 time.Duration
	}{
		{ms(5), 5 * time.Millisecond, 5 * time.Millisecond},
		{ms(3, 1, 2), 2 * time.Millisecond, 3 * time.Millisecond},
		{ms(4, 1, 3, 2), 2500 * time.Microsecond, 4 * time.Millisecond},
	}
	for _, c := range cases {
		med, p99 := quantiles(c.in)
		if med != c.med || p99 != c.p99 {
			t.Errorf("quantiles(%v) = %v, %v; want %v, %v", c.in, med, p99, c.med, c.p99)
		}
	}
	// Nearest rank: of 200 samples 1..200 ms, the 99th percentile is the 198th.
	var many []time.Duration
	for i := 200; i >= 1; i-- {
		many = append(many, time.Duration(i)*time.Millisecond)
	}
	if _, p99 := quantiles(many); p99 != 198*time.Millisecond {
		t.Errorf("p99 of 1..200 ms = %v, want 198ms", p99)
	}
}

// TestWorkloadDamageCoversDrawing checks what Shadow relies on: every pixel a
// frame changes lies inside the rectangles it reports, which lie inside the
// frame.
func TestWorkloadDamageCoversDrawing(t *testing.T) {
	sentinel := color.RGBA{1, 2, 3, 0xff}
	for _, z := range []Size{{480, 272}, {37, 29}, {1280, 720}} {
		for _, w := range Workloads() {
			p := newPainter(w, z)
			s := fbemu.NewSurface(z.W, z.H, format)
			for n := 0; n < 12; n++ {
				s.FillRect(s.Bounds(), sentinel)
				rects := p.draw(s, n, nil)
				if len(rects) == 0 {
					t.Fatalf("%s at %s frame %d: no damage", w, z, n)
				}
				for _, r := range rects {
					if r.Empty() || !r.In(s.Bounds()) {
						t.Fatalf("%s at %s frame %d: damage %v outside %v or empty", w, z, n, r, s.Bounds())
					}
				}
				changed := 0
				for y := 0; y < z.H; y++ {
					for x := 0; x < z.W; x++ {
						if s.RGBAAt(x, y) == sentinel {
							continue
						}
						changed++
						inside := false
						for _, r := range rects {
							inside = inside || image.Pt(x, y).In(r)
						}
						if !inside {
							t.Fatalf("%s at %s frame %d: pixel (%d,%d) changed outside the damage %v", w, z, n, x, y, rects)
						}
					}
				}
				if changed == 0 {
					t.Fatalf("%s at %s frame %d drew nothing", w, z, n)
				}
			}
		}
	}
}

// TestEveryStrategyLeavesTheSameFrame draws the same frames through every
// strategy on memfds and compares the buffer with a frame drawn on plain
// memory: Shadow's damage-only write-back must lose nothing.
func TestEveryStrategyLeavesTheSameFrame(t *testing.T) {
	z := Size{320, 200}
	want := fbemu.NewSurface(z.W, z.H, format)
	const warmup, frames = 2, 3
	for _, w := range Workloads() {
		p := newPainter(w, z)
		for n := 0; n < warmup+frames; n++ {
			p.draw(want, n, nil)
		}
	}
	for _, s := range Strategies() {
		if s.Dumb {
			continue
		}
		t.Run(s.String(), func(t *testing.T) {
			b, err := access.AllocMemfd(z.W * z.H * 4)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			fb := frameBuf{buf: b, stride: z.W * 4}
			for _, w := range Workloads() {
				if _, err := runCell(fb, s, w, z, frames, warmup); err != nil {
					t.Fatal(err)
				}
			}
			m, err := access.Map(b, access.Cached)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			got, err := m.Begin(access.Read)
			if err != nil {
				t.Fatal(err)
			}
			same := bytes.Equal(got[:len(want.Pix())], want.Pix())
			m.End()
			if !same {
				t.Error("the buffer differs from the frames drawn on plain memory")
			}
		})
	}
}

// shortStudy runs a small study on source and fails the test on error.
func shortStudy(t *testing.T, src Source, strategies ...Strategy) *Result {
	t.Helper()
	res, err := Run(Config{Frames: 8, Warmup: 2, Sizes: []Size{{800, 480}}, Source: src, Strategies: strategies})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res.WriteTable(&buf)
	t.Logf("\n%s", buf.String())
	return res
}

func strat(a access.Strategy) Strategy { return Strategy{Access: a} }

// checkCommon asserts what holds on every source: each strategy ran every
// workload, Shadow copied exactly the damaged bytes, and the mapping
// syscalls per frame are the strategy's. faultOnTouch says the exporter
// maps pages on first touch (memfd, udmabuf, shmem dumb buffers), so that a
// fresh mapping per frame faults its pages in again; the system heap
// inserts every page at mmap time (remap_pfn_range), so mapping per access
// costs it mmap time but no faults.
func checkCommon(t *testing.T, res *Result, syncs float64, faultOnTouch bool) {
	t.Helper()
	z := Size{800, 480}
	for _, w := range Workloads() {
		cell := func(a access.Strategy) Cell {
			c, ok := res.Find(strat(a), w, z)
			if !ok {
				t.Fatalf("no %s cell for %s", a, w)
			}
			if c.Median <= 0 || c.P99 < c.Median || c.Frames != 8 {
				t.Errorf("%s %s: median %v p99 %v frames %d", a, w, c.Median, c.P99, c.Frames)
			}
			return c
		}
		cached, per, nosync, shadow, guarded := cell(access.Cached), cell(access.PerAccess), cell(access.NoSync), cell(access.Shadow), cell(access.Guarded)
		if shadow.BytesWritten <= 0 || shadow.BytesCopied != shadow.BytesWritten {
			t.Errorf("%s: shadow copied %v bytes a frame, drew %v: want exactly the damage", w, shadow.BytesCopied, shadow.BytesWritten)
		}
		if w != Full && shadow.BytesCopied >= float64(z.Pixels()*4) {
			t.Errorf("%s: shadow copied %v bytes a frame, the whole frame", w, shadow.BytesCopied)
		}
		for _, c := range []Cell{cached, per, nosync, guarded} {
			if c.BytesCopied != 0 {
				t.Errorf("%s %s copied %v bytes a frame", c.Strategy, w, c.BytesCopied)
			}
		}
		for _, c := range []struct {
			cell          Cell
			ioctls, calls float64
		}{
			{cached, syncs, syncs},
			{per, syncs, syncs + 2},     // mmap, munmap
			{nosync, 0, 0},              // never syncs
			{shadow, syncs, syncs},      // one sync pair around the write-back
			{guarded, syncs, syncs + 2}, // two mprotects
		} {
			if c.cell.Ioctls != c.ioctls || c.cell.Syscalls != c.calls {
				t.Errorf("%s %s: %v ioctls and %v syscalls a frame, want %v and %v", c.cell.Strategy, w, c.cell.Ioctls, c.cell.Syscalls, c.ioctls, c.calls)
			}
		}
		if nosync.VsNoSync != 1 || cached.VsNoSync <= 0 {
			t.Errorf("%s: ratios to nosync: nosync %v, cached %v", w, nosync.VsNoSync, cached.VsNoSync)
		}
	}
	full := func(a access.Strategy) Cell { c, _ := res.Find(strat(a), Full, z); return c }
	// A TTM exporter (bochs's VRAM dumb buffers) faults 16 pages at a
	// time, so "more" is all that holds everywhere.
	per, cached := full(access.PerAccess), full(access.Cached)
	switch {
	case faultOnTouch && per.MinorFaults <= cached.MinorFaults:
		t.Errorf("full frame: per-access took %v minor faults a frame, cached %v: want more", per.MinorFaults, cached.MinorFaults)
	case !faultOnTouch && per.MinorFaults >= 1:
		t.Errorf("full frame: per-access took %v minor faults a frame on an exporter that maps every page at mmap", per.MinorFaults)
	}
}

func TestStudyMemfd(t *testing.T) {
	res := shortStudy(t, SourceMemfd)
	checkCommon(t, res, 0, true) // memfds are not dma-bufs: nothing to sync
	for _, c := range res.Cells {
		if !c.Strategy.Dumb && c.Buffer != "memfd" || c.Stride != 800*4 {
			t.Errorf("%s %s: buffer %q stride %d", c.Strategy, c.Workload, c.Buffer, c.Stride)
		}
	}
	if _, err := os.Stat("/dev/dri/card0"); err != nil {
		if len(res.Skipped) != 1 || res.Skipped[0].Strategy != "dumb" || !strings.Contains(res.Skipped[0].Reason, "/dev/dri/card0") {
			t.Errorf("without a DRM device the dumb cells should be skipped once, naming it: %v", res.Skipped)
		}
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	if _, err := Run(Config{Frames: -1, Source: SourceMemfd}); err == nil {
		t.Error("Run accepted -1 frames")
	}
	if _, err := Run(Config{Source: Source(42)}); err == nil {
		t.Error("Run accepted an unknown source")
	}
}

func TestRunFailsWhenTheSourceCannotAllocate(t *testing.T) {
	_, err := Run(Config{Frames: 1, Sizes: []Size{{64, 64}}, Source: SourceHeap, Heap: "no-such-heap"})
	if err == nil || !strings.Contains(err.Error(), "heap buffer of 64x64") {
		t.Errorf("Run on a missing heap: %v", err)
	}
}

func TestOutputs(t *testing.T) {
	res := shortStudy(t, SourceMemfd, strat(access.Cached), strat(access.NoSync), strat(access.Shadow))
	var table, js, cs bytes.Buffer
	if err := res.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"median µs", "shadow", "nosync", "spinner", "800x480", "memfd buffers"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(bytes.NewReader(js.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJSON(strings.NewReader(`{"cells": []}`)); err == nil {
		t.Error("ReadJSON accepted a result without cells")
	}
	if len(back.Cells) != len(res.Cells) || back.Source != SourceMemfd {
		t.Fatalf("JSON round trip: %d cells source %v, want %d memfd", len(back.Cells), back.Source, len(res.Cells))
	}
	for _, c := range back.Cells {
		if orig, ok := res.Find(c.Strategy, c.Workload, c.Size()); !ok || orig != c {
			t.Errorf("JSON round trip changed %+v", c)
		}
	}
	if err := res.WriteCSV(&cs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(res.Cells)+1 || len(rows[0]) != len(csvHeader()) {
		t.Fatalf("CSV has %d rows of %d columns, want %d of %d", len(rows), len(rows[0]), len(res.Cells)+1, len(csvHeader()))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		s, _ := ParseStrategy(row[col["strategy"]])
		w, _ := ParseWorkload(row[col["workload"]])
		c, ok := res.Find(s, w, Size{800, 480})
		med, _ := strconv.ParseInt(row[col["median_ns"]], 10, 64)
		copied, _ := strconv.ParseFloat(row[col["bytes_copied_per_frame"]], 64)
		if !ok || time.Duration(med) != c.Median || copied != c.BytesCopied {
			t.Errorf("CSV row %v does not match its cell %+v", row, c)
		}
	}
}

func TestReport(t *testing.T) {
	res := shortStudy(t, SourceMemfd, strat(access.Cached), strat(access.PerAccess), strat(access.NoSync), strat(access.Shadow))
	dir := t.TempDir()
	rep, err := WriteReport(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(rep.Markdown)
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	for _, want := range []string{"## Machine", res.Machine.Kernel, "## What to conclude", "## Limits of the conclusion",
		"per access", "shadow copied", "arm64", "| 800x480 | full | cached |"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, f := range []string{rep.JSON, rep.CSV} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if errors.Is(rep.PlotErr, ErrNoPlots) {
		if len(rep.Plots) != 0 || !strings.Contains(text, "-tags plots") || !strings.Contains(text, "(results.csv)") {
			t.Errorf("a report without plots must link the CSV and say how to get plots:\n%s", text)
		}
		return
	}
	if rep.PlotErr != nil {
		t.Fatal(rep.PlotErr)
	}
	if len(rep.Plots) != len(Workloads())+1 {
		t.Errorf("%d plots, want one per workload and the damage plot", len(rep.Plots))
	}
	for _, p := range rep.Plots {
		f, err := os.Open(filepath.Join(dir, p.PNG))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 200 {
			t.Errorf("%s: %v", p.PNG, err)
		}
		if svg, err := os.ReadFile(filepath.Join(dir, p.SVG)); err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s: not an SVG (%v)", p.SVG, err)
		}
		if !strings.Contains(text, "]("+p.PNG+")") {
			t.Errorf("report does not show %s", p.PNG)
		}
	}
}
