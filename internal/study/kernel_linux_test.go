package study

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/internal/testutil"
)

// These tests need the kernel's own dma-buf heap, udmabuf and DRM device:
// they skip here and fail inside the test VM, where those must exist.

func TestStudyHeap(t *testing.T) {
	testutil.NeedPath(t, "/dev/dma_heap/system")
	res := shortStudy(t, SourceHeap)
	// On a dma-buf every bracket syncs: exactly START and END a frame.
	checkCommon(t, res, 2, false)
	for _, c := range res.Cells {
		if !c.Strategy.Dumb && c.Buffer != `heap "system"` {
			t.Errorf("%s %s drew into %q", c.Strategy, c.Workload, c.Buffer)
		}
	}
}

func TestStudyUdmabuf(t *testing.T) {
	testutil.NeedPath(t, "/dev/udmabuf")
	checkCommon(t, shortStudy(t, SourceUdmabuf), 2, true)
}

func TestStudyDumb(t *testing.T) {
	testutil.NeedPath(t, "/dev/dri/card0")
	dumb := Strategy{Access: access.Cached, Dumb: true}
	res := shortStudy(t, SourceMemfd, strat(access.Cached), dumb)
	for _, w := range Workloads() {
		c, ok := res.Find(dumb, w, Size{800, 480})
		if !ok {
			t.Fatalf("no dumb cell for %s; skipped: %v", w, res.Skipped)
		}
		if !strings.HasPrefix(c.Buffer, "dumb (") || c.Stride < 800*4 || c.Ioctls != 0 || c.Syscalls != 0 {
			t.Errorf("dumb %s: buffer %q stride %d, %v ioctls %v syscalls a frame", w, c.Buffer, c.Stride, c.Ioctls, c.Syscalls)
		}
	}
	// A whole study on dumb buffers.
	checkCommon(t, shortStudy(t, SourceDumb, strat(access.Cached), strat(access.PerAccess), strat(access.NoSync), strat(access.Shadow), strat(access.Guarded)), 0, true)
}

// guardChildEnv makes the test binary the child of
// TestGuardedStrayWriteKillsChild: the value names the buffer source.
const guardChildEnv = "BOOTSPLASH_STUDY_GUARD_CHILD"

// guardChild draws one frame through a Guarded mapping, then writes to the
// slice after End twice: once under CatchStray, which prints the diagnostic,
// and once bare, which must kill the process with SIGSEGV.
func guardChild(src string) {
	die := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	var (
		b   *access.Buffer
		err error
	)
	const size = 64 * 4096
	if src == "heap" {
		heap, herr := access.OpenHeap("system")
		if herr != nil {
			die(herr)
		}
		defer heap.Close()
		b, err = heap.Alloc(size)
	} else {
		b, err = access.AllocMemfd(size)
	}
	if err != nil {
		die(err)
	}
	m, err := access.Map(b, access.Guarded)
	if err != nil {
		die(err)
	}
	pix, err := m.Begin(access.Write)
	if err != nil {
		die(err)
	}
	pix[100] = 1
	if err := m.End(); err != nil {
		die(err)
	}
	err = CatchStray(m, func() { pix[5000] = 2 })
	var stray *StrayAccessError
	if !errors.As(err, &stray) {
		die(fmt.Errorf("the stray write was not caught: %v", err))
	}
	fmt.Fprintln(os.Stderr, "diagnostic:", stray)
	pix[5000] = 2 // not caught: the runtime reports the fault and exits
	die(errors.New("a write outside the bracket went through"))
}

func TestGuardedStrayWriteKillsChild(t *testing.T) {
	if src := os.Getenv(guardChildEnv); src != "" {
		guardChild(src)
		return
	}
	for _, src := range []string{"memfd", "heap"} {
		t.Run(src, func(t *testing.T) {
			if src == "heap" {
				testutil.NeedPath(t, "/dev/dma_heap/system")
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestGuardedStrayWriteKillsChild$")
			cmd.Env = append(os.Environ(), guardChildEnv+"="+src)
			out, err := cmd.CombinedOutput()
			text := string(out)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 || exit.ExitCode() == 3 {
				t.Fatalf("child: %v, want death by fault; output:\n%s", err, text)
			}
			// The diagnostic names the mapping: its range, origin and strategy.
			diag := regexp.MustCompile(`diagnostic: stray access at (0x[0-9a-f]+) outside an access bracket: mapping (0x[0-9a-f]+)-(0x[0-9a-f]+) \(262144 bytes\) of (.*), guarded, generation 0`).FindStringSubmatch(text)
			if diag == nil {
				t.Fatalf("no diagnostic naming the mapping in:\n%s", text)
			}
			wantOrigin := map[string]string{"memfd": "memfd", "heap": `heap "system"`}[src]
			if diag[4] != wantOrigin {
				t.Errorf("diagnostic names %q, want %q", diag[4], wantOrigin)
			}
			addr, lo, hi := hex(t, diag[1]), hex(t, diag[2]), hex(t, diag[3])
			if addr != lo+5000 || hi-lo != 262144 {
				t.Errorf("fault at %#x in %#x-%#x, want the written byte %#x", addr, lo, hi, lo+5000)
			}
			// The bare write: the Go runtime's fatal fault report.
			fault := regexp.MustCompile(`unexpected fault address (0x[0-9a-f]+)`).FindStringSubmatch(text)
			if fault == nil || !strings.Contains(text, "SIGSEGV") {
				t.Fatalf("child did not die of SIGSEGV:\n%s", text)
			}
			if hex(t, fault[1]) != addr {
				t.Errorf("the runtime reports the fault at %s, the diagnostic at %#x", fault[1], addr)
			}
			t.Logf("child (exit %d): %s", exit.ExitCode(), diag[0])
		})
	}
}

func hex(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStudyHeapDevice measures heap × device on the VM's display: PCI
// devices with no IOMMU, so the heap rule ranks "system" first; cirrus
// imports every buffer, bochs refuses each (EINVAL: the VRAM helper
// imports nothing) and virtio-gpu too (ENODEV). The DRM driver is told by
// its DRM name, not by the card's sysfs device: virtio-gpu's is its PCI
// function, whose driver is virtio-pci.
func TestStudyHeapDevice(t *testing.T) {
	testutil.NeedPath(t, "/dev/dma_heap/system")
	testutil.NeedPath(t, "/dev/dri/card0")
	d, err := client.Open("", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	drv := d.Driver().Name
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	before := testutil.Objects()
	sizes := []Size{{640, 480}, {1024, 768}}
	res, err := Run(Config{Frames: 1, Warmup: 0, Sizes: sizes, Source: SourceHeap, Strategies: []Strategy{strat(access.NoSync)},
		Workloads: []Workload{Progress}, HeapDevice: true, HeapTries: 3})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.WriteTable(&b)
	t.Logf("%s", b.String())
	if !strings.Contains(res.HeapRule, `; heap "system" (system)`) || !strings.Contains(b.String(), "heap x device: "+res.HeapRule+"\n") {
		t.Errorf("heap rule %q not printed as the first choice", res.HeapRule)
	}
	want := ""
	if !strings.HasPrefix(res.HeapRule, drv+" ") {
		t.Errorf("heap rule %q does not start with the driver %s", res.HeapRule, drv)
	}
	switch drv {
	case "cirrus":
	case "bochs", "bochs-drm":
		want = "EINVAL: "
	case "virtio_gpu":
		want = "ENODEV: "
	default:
		if testutil.InVM() {
			t.Fatalf("unexpected display driver %q: %s", drv, res.HeapRule)
		}
	}
	n := 0
	for _, h := range res.HeapImports {
		if h.Heap != "system" {
			continue
		}
		n++
		if h.Rank != 0 || h.Type != access.HeapSystem || h.Tries != 3 || h.Bytes != h.Width*h.Height*4 || h.Alloc <= 0 || h.Import <= 0 {
			t.Errorf("row %+v", h)
		}
		if !testutil.InVM() {
			continue
		}
		if want == "" && (h.Accepted != 3 || h.Refusal != "") {
			t.Errorf("cirrus at %s: accepted %d/3 (%s), want all", h.Size(), h.Accepted, h.Refusal)
		}
		if want != "" && (h.Accepted != 0 || !strings.HasPrefix(h.Refusal, want) || !strings.Contains(h.Refusal, "import dma-buf into")) {
			t.Errorf("at %s: accepted %d/3, refusal %q, want none and %q", h.Size(), h.Accepted, h.Refusal, want)
		}
	}
	if n != len(sizes) {
		t.Errorf("%d system-heap rows for %d sizes: %+v", n, len(sizes), res.HeapImports)
	}
	if after := testutil.Objects(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("heap x device left kernel objects open: before %q, after %q", before, after)
	}
}
