package study

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
)

// HeapImport is what the display device made of buffers from one heap at
// one size: one row of the study's heap × device table. Which heap a
// device takes is the question of the 2020 "Experimental DMA-BUF Device
// Heaps" thread; the heap rule (client.HeapChoice) answers it from what
// the device is, and this row shows what the device does with each heap.
type HeapImport struct {
	// Heap and Type are the heap; Rank is its place in the heap rule's
	// order for the device (0: the first choice).
	Heap string          `json:"heap"`
	Type access.HeapType `json:"type"`
	Rank int             `json:"rank"`
	// Width and Height are the frame size; Bytes the buffer's size.
	Width  int `json:"width"`
	Height int `json:"height"`
	Bytes  int `json:"bytes"`
	// Tries buffers were allocated and imported, all held at once (a
	// double-buffered splash holds two); Accepted of them were imported.
	Tries    int `json:"tries"`
	Accepted int `json:"accepted"`
	// Refusal is the first failure, errno first: "EINVAL: import refused
	// by pl111: invalid argument".
	Refusal string `json:"refusal,omitempty"`
	// Alloc and Import are the median times of DMA_HEAP_IOCTL_ALLOC and
	// of PRIME_FD_TO_HANDLE (accepted or not).
	Alloc  time.Duration `json:"alloc_ns"`
	Import time.Duration `json:"import_ns"`
}

// Size returns the row's frame size.
func (h HeapImport) Size() Size { return Size{h.Width, h.Height} }

// heapTries is how many buffers of each heap and size are held at once
// when Config.HeapTries is 0.
const heapTries = 4

// MaxHeapTries bounds Config.HeapTries: that many buffers of each size
// are held at once, and 64 of 16384 x 16384 are already 64 GiB.
const MaxHeapTries = 64

// measureHeaps offers every heap's buffers to dev at each size, in the
// heap rule's order, and returns the rows and the rule's reason.
func measureHeaps(dev *client.Device, sizes []Size, tries int) ([]HeapImport, string, error) {
	ch := dev.HeapChoice()
	if len(ch.Heaps) == 0 {
		return nil, ch.Why, errors.New(ch.Why)
	}
	var rows []HeapImport
	for _, size := range sizes {
		for rank, h := range ch.Heaps {
			row, err := measureHeap(dev, h, size, tries)
			if err != nil {
				return rows, ch.Why, err
			}
			row.Rank = rank
			rows = append(rows, row)
		}
	}
	return rows, ch.Why, nil
}

// measureHeap allocates tries buffers of size from h and imports each
// into dev, holding them all, then releases everything.
func measureHeap(dev *client.Device, h access.Heap, size Size, tries int) (HeapImport, error) {
	row := HeapImport{Heap: h.Name, Type: h.Type, Width: size.W, Height: size.H, Bytes: size.W * format.BytesPerPixel() * size.H, Tries: tries}
	hf, err := access.OpenHeap(h.Name)
	if err != nil {
		return row, err
	}
	defer hf.Close()
	var bufs []*access.Buffer
	var handles []*client.GEM
	defer func() {
		for _, hd := range handles {
			hd.Close()
		}
		for _, b := range bufs {
			b.Close()
		}
	}()
	refuse := func(err error) {
		if row.Refusal != "" {
			return
		}
		var errno unix.Errno
		if errors.As(err, &errno) {
			row.Refusal = unix.ErrnoName(errno) + ": " + err.Error()
		} else {
			row.Refusal = err.Error()
		}
	}
	var allocs, imports []time.Duration
	for range tries {
		t0 := time.Now()
		b, err := hf.Alloc(row.Bytes)
		allocs = append(allocs, time.Since(t0))
		if err != nil {
			refuse(err)
			continue
		}
		bufs = append(bufs, b)
		t0 = time.Now()
		hd, err := dev.ImportDmaBuf(b.Fd())
		imports = append(imports, time.Since(t0))
		if err != nil {
			refuse(err)
			continue
		}
		handles = append(handles, hd)
		row.Accepted++
	}
	row.Alloc, _ = quantiles(allocs)
	row.Import, _ = quantiles(imports)
	return row, nil
}

// writeHeapTable prints the heap × device rows, if any.
func (r *Result) writeHeapTable(w io.Writer) error {
	if len(r.HeapImports) == 0 {
		return nil
	}
	fmt.Fprintf(w, "heap x device: %s\n", r.HeapRule)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(heapHeader(), "\t")+"\t")
	for _, h := range r.sortedHeaps() {
		fmt.Fprintln(tw, strings.Join(heapRow(h), "\t")+"\t")
	}
	return tw.Flush()
}

// sortedHeaps orders the rows by size, then the rule's rank.
func (r *Result) sortedHeaps() []HeapImport {
	rows := slices.Clone(r.HeapImports)
	slices.SortStableFunc(rows, func(a, b HeapImport) int {
		if d := a.Width*a.Height - b.Width*b.Height; d != 0 {
			return d
		}
		return a.Rank - b.Rank
	})
	return rows
}

func heapHeader() []string {
	return []string{"size", "heap", "type", "rank", "accepted", "alloc µs", "import µs", "first refusal"}
}

func heapRow(h HeapImport) []string {
	return []string{h.Size().String(), h.Heap, h.Type.String(), strconv.Itoa(h.Rank),
		fmt.Sprintf("%d/%d", h.Accepted, h.Tries), micros(h.Alloc), micros(h.Import), h.Refusal}
}
