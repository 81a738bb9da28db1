package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bootsplash/bootsplash/internal/study"
)

// maxStudyFrames bounds --frames and --warmup: a million frames of the
// smallest size take minutes per cell, and each measured frame keeps a
// sample in memory.
const maxStudyFrames = 1_000_000

// cmdStudy measures the CPU access strategies (bootsplash study).
func cmdStudy(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("study", stderr)
	frames := fs.Int("frames", 50, "measured frames per cell")
	warmup := fs.Int("warmup", 5, "frames drawn before measuring")
	sizes := fs.String("sizes", "480x272,800x480,1280x720,1920x1080,3840x2160", "frame sizes WxH, comma-separated (a size that cannot be allocated is skipped)")
	strategies := fs.String("strategies", "cached,per-access,nosync,shadow,guarded,dumb", "access strategies, comma-separated (dumb needs a DRM device)")
	workloads := fs.String("workloads", "full,progress,spinner,text", "workloads, comma-separated")
	source := fs.String("source", "auto", "buffer source: auto (heap if present, else memfd), heap, udmabuf, dumb or memfd")
	heap := fs.String("heap", "", `dma-buf heap name for --source heap (default: "system", else a CMA heap)`)
	device := fs.String("device", "/dev/dri/card0", "DRM device for dumb buffers and heap x device")
	heapDevice := fs.Bool("heap-device", true, "measure heap x device: buffers of every heap, at every size, imported into --device")
	heapTries := fs.Int("heap-tries", 4, "buffers of each heap and size held at once for heap x device")
	jsonOut := fs.String("json", "", "write the results as JSON to this file")
	csvOut := fs.String("csv", "", "write the results as CSV to this file")
	report := fs.String("report", "", "write a Markdown report (with JSON, CSV and, in a -tags plots build, plots) into this directory")
	from := fs.String("from", "", "measure nothing: print and report the results JSON a --json run wrote, to plot a run made elsewhere (in a -tags plots build)")
	verbose := fs.BoolP("verbose", "v", false, "print each cell as it finishes")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg := study.Config{Frames: *frames, Warmup: *warmup, Heap: *heap, Device: *device, HeapDevice: *heapDevice, HeapTries: *heapTries}
	var err error
	if cfg.Sizes, err = parseList(*sizes, study.ParseSize); err != nil {
		return fmt.Errorf("%w: --sizes: %v", errUsage, err)
	}
	if cfg.Strategies, err = parseList(*strategies, study.ParseStrategy); err != nil {
		return fmt.Errorf("%w: --strategies: %v", errUsage, err)
	}
	if cfg.Workloads, err = parseList(*workloads, study.ParseWorkload); err != nil {
		return fmt.Errorf("%w: --workloads: %v", errUsage, err)
	}
	if *source == "auto" {
		cfg.Source = study.AutoSource()
	} else if cfg.Source, err = study.ParseSource(*source); err != nil {
		return fmt.Errorf("%w: --source: %v", errUsage, err)
	}
	if err := checkCount("--heap-tries", *heapTries, 1, study.MaxHeapTries); err != nil {
		return err
	}
	if err := checkCount("--frames", *frames, 1, maxStudyFrames); err != nil {
		return err
	}
	if err := checkCount("--warmup", *warmup, 0, maxStudyFrames); err != nil {
		return err
	}
	if *verbose {
		cfg.Progress = func(c study.Cell, skip *study.Skip) {
			if skip != nil {
				fmt.Fprintf(stderr, "skipped: %s\n", skip)
				return
			}
			fmt.Fprintf(stderr, "%s %s %s: median %v p99 %v\n", c.Size(), c.Workload, c.Strategy, c.Median, c.P99)
		}
	}
	var res *study.Result
	if *from != "" {
		if res, err = readResults(*from); err != nil {
			return err
		}
	} else if res, err = study.Run(cfg); err != nil {
		return err
	}
	if err := res.WriteTable(stdout); err != nil {
		return err
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{*jsonOut, res.WriteJSON}, {*csvOut, res.WriteCSV}} {
		if out.path == "" {
			continue
		}
		if err := writeStudyFile(out.path, out.write); err != nil {
			return err
		}
	}
	if *report != "" {
		rep, err := study.WriteReport(*report, res)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: %s\n", rep.Markdown)
		if rep.PlotErr != nil {
			fmt.Fprintf(stderr, "report: no plots: %v\n", rep.PlotErr)
		}
	}
	return nil
}

// parseList splits a comma-separated flag and parses each item.
func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		v, err := parse(item)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list %q", s)
	}
	return out, nil
}

// writeStudyFile creates path and fills it with write.
func writeStudyFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
