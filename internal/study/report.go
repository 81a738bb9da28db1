package study

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bootsplash/bootsplash/access"
)

// Plot is one chart WritePlots drew, as file names inside its directory.
type Plot struct {
	// Title says what the chart shows.
	Title string
	// PNG and SVG are the two renderings.
	PNG, SVG string
}

// Report is what WriteReport wrote.
type Report struct {
	// Markdown, JSON and CSV are the paths of report.md, results.json and
	// results.csv.
	Markdown, JSON, CSV string
	// Plots are the charts, empty in a build without the plots tag.
	Plots []Plot
	// PlotErr says why there are no plots (wraps ErrNoPlots in a default
	// build).
	PlotErr error
}

// WriteReport writes into dir (made if needed) report.md, results.json,
// results.csv and, in a build with the plots tag, the charts. A build
// without plots still writes the report, which then links the CSV and says
// how to get the charts; only a failure to write a file is an error.
func WriteReport(dir string, r *Result) (*Report, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("study: report directory: %w", err)
	}
	rep := &Report{
		Markdown: filepath.Join(dir, "report.md"),
		JSON:     filepath.Join(dir, "results.json"),
		CSV:      filepath.Join(dir, "results.csv"),
	}
	if err := writeFile(rep.JSON, r.WriteJSON); err != nil {
		return nil, err
	}
	if err := writeFile(rep.CSV, r.WriteCSV); err != nil {
		return nil, err
	}
	rep.Plots, rep.PlotErr = WritePlots(dir, r)
	if rep.PlotErr != nil && !errors.Is(rep.PlotErr, ErrNoPlots) {
		return nil, rep.PlotErr
	}
	err := writeFile(rep.Markdown, func(w io.Writer) error { return r.WriteMarkdown(w, rep.Plots) })
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// writeFile creates path and fills it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("study: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	return nil
}

// WriteMarkdown writes the report: the machine, the table, the plots (or a
// link to the CSV when there are none), what to conclude and the limits of
// that conclusion.
func (r *Result) WriteMarkdown(w io.Writer, plots []Plot) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# CPU access study: %s buffers\n\n", r.Source)
	p("Each frame is one access bracket (Begin, drawing with fbemu's native operations, Damage, End). ")
	p("%d frames were measured per cell after %d warm-up frames; the study took %s.\n\n", r.Frames, r.Warmup, r.Elapsed.Round(time.Millisecond))
	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| kernel | %s |\n| architecture | %s |\n| CPU | %d × %s |\n| memory | %d MB |\n| virtual machine | %v |\n| Go | %s |\n| started | %s |\n\n",
		orUnknown(r.Machine.Kernel), r.Machine.Arch, r.Machine.CPUs, orUnknown(r.Machine.CPU), r.Machine.MemoryMB,
		r.Machine.Virtual, r.Machine.Go, r.Started.UTC().Format(time.RFC3339))
	p("## Results\n\n")
	p("Times are per frame; *vs nosync* is the median over NoSync's at the same workload and size, in the same run. ")
	p("*ioctls/f* counts DMA_BUF_IOCTL_SYNC, *syscalls/f* adds mmap, munmap and mprotect, *faults/f* are the drawing thread's minor page faults (getrusage), ")
	p("*drawn/f* the bytes the workload damaged and *copied/f* the bytes Shadow wrote back into the buffer.\n\n")
	r.writeMarkdownTable(&b)
	if len(r.HeapImports) > 0 {
		p("\n### Heap × device\n\n")
		p("The heap rule for the device: %s. ", r.HeapRule)
		p("Each row allocated *tries* buffers of the size from the heap and imported each into the device over PRIME, holding them all at once; ")
		p("*rank* is the heap's place in the rule's order (0: its first choice). A buffer of scattered pages accepted by a device that needs contiguous memory was accepted by luck.\n\n")
		h := heapHeader()
		b.WriteString("| " + strings.Join(h, " | ") + " |\n|")
		for range h {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, row := range r.sortedHeaps() {
			b.WriteString("| " + strings.Join(heapRow(row), " | ") + " |\n")
		}
	}
	if len(r.Skipped) > 0 {
		p("\nNot measured:\n\n")
		for _, s := range r.Skipped {
			p("- %s\n", s)
		}
	}
	p("\n## Plots\n\n")
	if len(plots) == 0 {
		p("This bootsplash was built without plots: gonum/plot would add about 7 MB to a static binary that has to load at boot. ")
		p("Rebuild with `go build -tags plots ./cmd/bootsplash` to draw them; the numbers are in [results.csv](results.csv) and [results.json](results.json).\n")
	}
	for _, pl := range plots {
		p("### %s\n\n![%s](%s)\n\n[SVG](%s)\n\n", pl.Title, pl.Title, pl.PNG, pl.SVG)
	}
	p("\n## What to conclude\n\n")
	for _, f := range r.Findings() {
		p("- %s\n", f)
	}
	p("\n## Limits of the conclusion\n\n")
	for _, l := range r.Limits() {
		p("- %s\n", l)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) writeMarkdownTable(b *strings.Builder) {
	h := tableHeader()
	b.WriteString("| " + strings.Join(h, " | ") + " |\n|")
	for range h {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, c := range r.sorted() {
		b.WriteString("| " + strings.Join(tableRow(c), " | ") + " |\n")
	}
}

// largest returns the largest size measured for workload w.
func (r *Result) largest(w Workload) (Size, bool) {
	var best Size
	for _, c := range r.Cells {
		if c.Workload == w && c.Size().Pixels() > best.Pixels() {
			best = c.Size()
		}
	}
	return best, best.Pixels() > 0
}

// Findings states what this run's numbers say, one sentence each, for the
// largest size of each workload.
func (r *Result) Findings() []string {
	var out []string
	st := func(a access.Strategy) Strategy { return Strategy{Access: a} }
	for _, w := range Workloads() {
		z, ok := r.largest(w)
		if !ok {
			continue
		}
		at := fmt.Sprintf("%s at %s", w, z)
		cached, okC := r.Find(st(access.Cached), w, z)
		if per, ok := r.Find(st(access.PerAccess), w, z); ok && okC {
			out = append(out, fmt.Sprintf("%s: mapping per access costs %s µs a frame against %s µs cached (%s), with %s minor faults and %s syscalls a frame against %s and %s.",
				at, micros(per.Median), micros(cached.Median), compare(per, cached),
				num(per.MinorFaults), num(per.Syscalls), num(cached.MinorFaults), num(cached.Syscalls)))
			if per.MinorFaults < 1 && per.Median > cached.Median {
				out = append(out, fmt.Sprintf("%s: the %s exporter maps every page at mmap time (no faults a frame), so mapping per access pays in the mmap call itself, in proportion to the buffer size, not to the damage.",
					at, per.Buffer))
			}
		}
		if nosync, ok := r.Find(st(access.NoSync), w, z); ok && okC {
			if cached.Ioctls == 0 {
				out = append(out, fmt.Sprintf("%s: the %s buffers cannot be synced (not dma-bufs), so cached and nosync do the same work (%s and %s µs): the difference is noise.",
					at, r.Source, micros(cached.Median), micros(nosync.Median)))
			} else if noise(cached, nosync) || cached.Median < nosync.Median {
				out = append(out, fmt.Sprintf("%s: the %s SYNC ioctls a frame cost too little to tell from the frame-to-frame spread (cached %s µs, nosync %s µs; p99 %s and %s µs).",
					at, num(cached.Ioctls), micros(cached.Median), micros(nosync.Median), micros(cached.P99), micros(nosync.P99)))
			} else {
				out = append(out, fmt.Sprintf("%s: the %s SYNC ioctls a frame cost about %s µs (cached %s µs, nosync %s µs).",
					at, num(cached.Ioctls), micros(cached.Median-nosync.Median), micros(cached.Median), micros(nosync.Median)))
			}
		}
		if sh, ok := r.Find(st(access.Shadow), w, z); ok && okC {
			out = append(out, fmt.Sprintf("%s: shadow copied %s of the %s drawn a frame and took %s µs against %s µs drawing in place (%s).",
				at, bytesStr(sh.BytesCopied), bytesStr(sh.BytesWritten), micros(sh.Median), micros(cached.Median), compare(sh, cached)))
		}
		if g, ok := r.Find(st(access.Guarded), w, z); ok && okC {
			out = append(out, fmt.Sprintf("%s: guarding the mapping outside brackets adds %s syscalls a frame and takes %s µs against %s µs (%s).",
				at, num(g.Syscalls-cached.Syscalls), micros(g.Median), micros(cached.Median), compare(g, cached)))
		}
		if d, ok := r.Find(Strategy{Access: access.Cached, Dumb: true}, w, z); ok && okC {
			out = append(out, fmt.Sprintf("%s: a cached mapping of a dumb buffer (%s) takes %s µs against %s µs on %s (%s).",
				at, d.Buffer, micros(d.Median), micros(cached.Median), cached.Buffer, compare(d, cached)))
		}
	}
	if len(out) == 0 {
		out = append(out, "Nothing to compare: the run measured too few strategies.")
	}
	return out
}

// compare says how a's median compares with b's: "2.31× as long", or that
// the difference is smaller than the spread of either cell's frames (99th
// percentile less median), which a shared or emulated machine makes large.
func compare(a, b Cell) string {
	if b.Median <= 0 {
		return "no baseline"
	}
	s := fmt.Sprintf("%.2f× as long", float64(a.Median)/float64(b.Median))
	if noise(a, b) {
		s += ", within this run's frame-to-frame spread"
	}
	return s
}

// noise reports whether the medians of a and b are within a factor of two
// and differ by less than the larger spread (p99 less median) of the two.
// With few frames the p99 is the slowest frame, so a large ratio counts
// even when one outlier frame was slower still.
func noise(a, b Cell) bool {
	if a.Median <= 0 || b.Median <= 0 || a.Median > 2*b.Median || b.Median > 2*a.Median {
		return false
	}
	d := a.Median - b.Median
	if d < 0 {
		d = -d
	}
	return d < max(a.P99-a.Median, b.P99-b.Median)
}

// Limits says what this run cannot tell, given where and how it ran.
func (r *Result) Limits() []string {
	var out []string
	switch {
	case strings.Contains(r.Machine.CPU, "TCG"):
		out = append(out, "This ran under QEMU's TCG, which emulates every instruction: times are relative at best, and syscalls, page faults and mprotect cost far more against drawing than on hardware.")
	case r.Machine.Virtual:
		out = append(out, "This ran in a virtual machine: page faults and mprotect go through the hypervisor's page tables, and other guests on the host add noise.")
	}
	switch r.Source {
	case SourceMemfd:
		out = append(out, "memfd buffers are the emulated display's: not dma-bufs, so no bracket syncs and the SYNC cost does not appear at all. Run on a heap or udmabuf (a real kernel, or the test VM) to see it.")
	case SourceDumb:
		out = append(out, "Dumb buffers are mapped through the DRM device and cannot be synced; on hardware they are often write-combined, where reads (blending) are very slow. This run's driver decides.")
	}
	if r.Machine.Arch == "amd64" || r.Machine.Arch == "386" {
		out = append(out, "On x86 the CPU caches are coherent with devices, so DMA_BUF_IOCTL_SYNC does no cache maintenance: a SYNC costs one kernel entry (and the exporter's locking), nearly free on hardware, and the gap between cached and nosync is that and nothing more.")
	}
	out = append(out,
		"On arm64 with a non-coherent display engine, END|WRITE cleans the cache over the whole buffer, not the damage: there, a cached mapping pays in proportion to the buffer size even for a one-pixel progress tick, and Shadow's damage-only copy does not save that clean. This machine cannot show it.",
		"Page faults depend on the exporter: an exporter that inserts every page at mmap time (remap_pfn_range) shows the cost of mapping per access as syscall time rather than faults; one that faults pages in on first touch (memfd, udmabuf, shmem dumb buffers) shows it as faults.",
		fmt.Sprintf("Each cell has %d frames; with fewer than 100 the 99th percentile is the slowest frame, and a machine shared with other work adds noise to it. Medians are the figures to compare.", r.Frames),
		"The workloads draw with fbemu's operations; a renderer that touches more memory per damaged byte (scaling, gradients) shifts the balance toward the drawing and away from the access strategy.",
	)
	return out
}
