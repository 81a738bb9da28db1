package study

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// sorted returns the cells ordered by size, workload and strategy, so that
// the strategies of one workload sit together.
func (r *Result) sorted() []Cell {
	cells := slices.Clone(r.Cells)
	order := map[Strategy]int{}
	for i, s := range Strategies() {
		order[s] = i
	}
	slices.SortStableFunc(cells, func(a, b Cell) int {
		return cmp.Or(
			cmp.Compare(a.Width*a.Height, b.Width*b.Height),
			cmp.Compare(a.Workload, b.Workload),
			cmp.Compare(order[a.Strategy], order[b.Strategy]))
	})
	return cells
}

// micros formats d in microseconds.
func micros(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 1, 64)
}

// bytesStr formats a byte count with a binary unit.
func bytesStr(v float64) string {
	switch {
	case v >= 1<<20:
		return strconv.FormatFloat(v/(1<<20), 'f', 2, 64) + "M"
	case v >= 1<<10:
		return strconv.FormatFloat(v/(1<<10), 'f', 1, 64) + "K"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// num formats a per-frame count: whole numbers without decimals.
func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "x"
}

// tableHeader and tableRow are the table's columns, shared by the text and
// Markdown tables.
func tableHeader() []string {
	return []string{"size", "workload", "strategy", "median µs", "p99 µs", "vs nosync", "ioctls/f", "syscalls/f", "faults/f", "drawn/f", "copied/f"}
}

func tableRow(c Cell) []string {
	return []string{c.Size().String(), c.Workload.String(), c.Strategy.String(),
		micros(c.Median), micros(c.P99), ratio(c.VsNoSync),
		num(c.Ioctls), num(c.Syscalls), num(c.MinorFaults),
		bytesStr(c.BytesWritten), bytesStr(c.BytesCopied)}
}

// WriteTable prints the cells as an aligned table, then the skipped cells.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "study: %s buffers, %d frames after %d warm-up, on %s\n", r.Source, r.Frames, r.Warmup, r.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(tableHeader(), "\t")+"\t")
	for _, c := range r.sorted() {
		fmt.Fprintln(tw, strings.Join(tableRow(c), "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := r.writeHeapTable(w); err != nil {
		return err
	}
	for _, s := range r.Skipped {
		if _, err := fmt.Fprintf(w, "skipped: %s\n", s); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the whole result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// csvHeader names the CSV columns; times are in nanoseconds, counts and
// bytes per frame.
func csvHeader() []string {
	return []string{"source", "buffer", "strategy", "workload", "width", "height", "stride", "frames",
		"median_ns", "p99_ns", "vs_nosync", "ioctls_per_frame", "syscalls_per_frame", "minor_faults_per_frame",
		"bytes_written_per_frame", "bytes_copied_per_frame", "damaged_pixels_per_frame"}
}

// WriteCSV writes one row per cell, in the order of the table.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader())
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, c := range r.sorted() {
		cw.Write([]string{r.Source.String(), c.Buffer, c.Strategy.String(), c.Workload.String(),
			strconv.Itoa(c.Width), strconv.Itoa(c.Height), strconv.Itoa(c.Stride), strconv.Itoa(c.Frames),
			strconv.FormatInt(int64(c.Median), 10), strconv.FormatInt(int64(c.P99), 10), f(c.VsNoSync),
			f(c.Ioctls), f(c.Syscalls), f(c.MinorFaults), f(c.BytesWritten), f(c.BytesCopied), f(c.DamagedArea)})
	}
	cw.Flush()
	return cw.Error()
}

// strategies returns the strategies that have cells, in the order of
// Strategies.
func (r *Result) strategies() []Strategy {
	var out []Strategy
	for _, s := range Strategies() {
		if slices.ContainsFunc(r.Cells, func(c Cell) bool { return c.Strategy == s }) {
			out = append(out, s)
		}
	}
	return out
}

// sizes returns the sizes that have cells, smallest first.
func (r *Result) sizes() []Size {
	var out []Size
	for _, c := range r.sorted() {
		if !slices.Contains(out, c.Size()) {
			out = append(out, c.Size())
		}
	}
	return out
}

// ReadJSON reads a result WriteJSON wrote, so that a study measured on one
// machine (a boot-time binary without plots, the test VM) can be reported
// and plotted on another.
func ReadJSON(rd io.Reader) (*Result, error) {
	var r Result
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("study: read results: %w", err)
	}
	if len(r.Cells) == 0 {
		return nil, fmt.Errorf("study: read results: no cells")
	}
	return &r, nil
}
