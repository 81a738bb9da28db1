package client

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/internal/testutil"
)

// TestKernelHeapRule reads the real sysfs of the test VM's display and
// offers it a small buffer from every heap: the x86 VM's cirrus, bochs and
// virtio-gpu are PCI functions with no IOMMU (virtio-gpu's DRM device is
// its virtio-pci function, virtio0 a child of it), so the rule gives
// "system" first, as before it existed; cirrus accepts the system heap's
// buffer, bochs refuses it (EINVAL: VRAM helper, no import) and virtio-gpu
// too (ENODEV: it imports no sg table).
func TestKernelHeapRule(t *testing.T) {
	d := openCard(t, Options{})
	drv := driver(t, d)
	c := d.Class()
	t.Logf("class %+v", c)
	if testutil.InVM() && (c.Bus != "pci" || c.Memory != MemoryScattered || c.IOMMUGroup != "") {
		t.Errorf("%s: bus %q memory %v iommu group %q, want pci, scattered, none", drv, c.Bus, c.Memory, c.IOMMUGroup)
	}
	if isVirtio := drv == "virtio"; testutil.InVM() && isVirtio != strings.HasPrefix(c.Virtio, "virtio") {
		t.Errorf("%s: virtio device %q", drv, c.Virtio)
	}
	if testutil.InVM() && drv == "virtio" && (c.Driver != "virtio-pci" || !strings.Contains(c.Why, "the transport of virtio device "+c.Virtio+":")) {
		t.Errorf("virtio: driver %q, reason %q, want virtio-pci named as the transport of %s", c.Driver, c.Why, c.Virtio)
	}
	if c.Card != "card0" || !strings.HasPrefix(c.SysPath, "/sys/devices/") || c.Driver == "" || c.DRMDriver != d.Driver().Name {
		t.Errorf("class: card %q path %q driver %q drm driver %q", c.Card, c.SysPath, c.Driver, c.DRMDriver)
	}
	if !strings.HasPrefix(c.Why, d.Driver().Name+" ") || !strings.Contains(c.Why, " at "+c.Name+" is a") {
		t.Errorf("reason %q does not name the driver and the device", c.Why)
	}

	ch := d.HeapChoice()
	t.Logf("heap choice: %s", ch.Why)
	if _, err := os.Stat("/dev/dma_heap/system"); err != nil {
		if testutil.InVM() && kernelAtLeast(t, 6, 12) {
			t.Fatalf("the 6.12 test kernel has a system heap: %v", err)
		}
		if ch.First() != "" || ch.ListErr == "" {
			t.Errorf("no heaps, yet the choice is %q (%q)", ch.First(), ch.ListErr)
		}
		return
	}
	if ch.First() != "system" || !strings.HasSuffix(ch.Why, `; heap "system" (system)`) || !strings.HasPrefix(ch.Why, c.Why) {
		t.Errorf("choice %q: %s, want the system heap first", ch.First(), ch.Why)
	}
	before := testutil.Objects()
	trials := d.TryHeaps(ch, 4096)
	if len(trials) != len(ch.Heaps) {
		t.Fatalf("%d trials for %d heaps", len(trials), len(ch.Heaps))
	}
	for _, tr := range trials {
		t.Logf("heap %s: accepted %v errno %q err %v", tr.Heap, tr.Accepted(), tr.Errno, tr.Err)
		if tr.Heap.Name != "system" {
			continue
		}
		want := map[string]string{"cirrus": "", "bochs": "EINVAL", "virtio": "ENODEV"}[drv]
		if testutil.InVM() && tr.Errno != want {
			t.Errorf("%s: system heap buffer: errno %q (%v), want %q", drv, tr.Errno, tr.Err, want)
		}
		if !tr.Accepted() && (!errors.Is(tr.Err, ErrNotSupported) && !strings.Contains(tr.Err.Error(), "import refused by "+d.Driver().Name)) {
			t.Errorf("refusal %q does not say who refused", tr.Err)
		}
		if tr.Heap.Type != access.HeapSystem {
			t.Errorf("system heap typed %v", tr.Heap.Type)
		}
	}
	if after := testutil.Objects(); !slices.Equal(before, after) {
		t.Errorf("trying the heaps left kernel objects open: before %q, after %q", before, after)
	}
}
