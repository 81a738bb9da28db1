package study

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/access"
)

// TestHeapTable prints heap × device rows as a pl111 board with a CMA and
// a system heap gives them (arm-vm.md): sorted by size, then by the rule's
// rank, in the table, the Markdown report and JSON.
func TestHeapTable(t *testing.T) {
	rule := `pl111 at 10020000.clcd is an amba device with no IOMMU: contiguous scanout; heap "reserved" (CMA)`
	r := &Result{Source: SourceHeap, HeapRule: rule, HeapImports: []HeapImport{
		{Heap: "system", Type: access.HeapSystem, Rank: 1, Width: 640, Height: 480, Bytes: 1228800, Tries: 4, Accepted: 0,
			Refusal: "EINVAL: import dma-buf into pl111: invalid argument (driver cannot import)", Alloc: 80 * time.Microsecond, Import: 20 * time.Microsecond},
		{Heap: "reserved", Type: access.HeapCMA, Rank: 0, Width: 640, Height: 480, Bytes: 1228800, Tries: 4, Accepted: 4,
			Alloc: 300 * time.Microsecond, Import: 15 * time.Microsecond},
		{Heap: "reserved", Type: access.HeapCMA, Rank: 0, Width: 64, Height: 64, Bytes: 16384, Tries: 4, Accepted: 4},
	}}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	i0 := strings.Index(out, "heap x device: "+rule+"\n")
	i1 := strings.Index(out, "64x64    reserved  CMA ")
	i2 := strings.Index(out, "640x480  reserved  CMA     0     4/4       300.0     15.0")
	i3 := strings.Index(out, "640x480  system    system  1     0/4       80.0      20.0       EINVAL: import dma-buf into pl111")
	if i0 < 0 || i1 < i0 || i2 < i1 || i3 < i2 {
		t.Errorf("heap table out of order or missing (%d %d %d %d):\n%s", i0, i1, i2, i3, out)
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "### Heap × device") || !strings.Contains(md.String(), "| 640x480 | system | system | 1 | 0/4 |") {
		t.Errorf("report lacks the heap table:\n%s", md.String())
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.HeapRule != rule || len(back.HeapImports) != 3 || back.HeapImports[0] != r.HeapImports[0] {
		t.Errorf("round trip: %+v", back.HeapImports)
	}
	// Without rows, nothing is printed.
	b.Reset()
	(&Result{Source: SourceMemfd}).WriteTable(&b)
	if strings.Contains(b.String(), "heap x device") {
		t.Errorf("an empty heap table was printed:\n%s", b.String())
	}
}

// TestHeapDeviceWithoutDevice: asked for heap × device with no display
// device, the study says why once and measures the rest.
func TestHeapDeviceWithoutDevice(t *testing.T) {
	res, err := Run(Config{Frames: 1, Sizes: []Size{{64, 64}}, Source: SourceMemfd, Strategies: []Strategy{strat(access.NoSync)},
		Workloads: []Workload{Progress}, HeapDevice: true, Device: "/nonexistent/card0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cells) != 1 || len(res.Skipped) != 1 || res.Skipped[0].Strategy != "heap x device" || !strings.Contains(res.Skipped[0].Reason, "/nonexistent/card0") {
		t.Errorf("cells %d, skipped %v", len(res.Cells), res.Skipped)
	}
}
