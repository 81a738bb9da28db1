package client

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/access"
)

// fakeSysfs builds a sysfs tree under a temporary root: the device
// directory dev (relative to the root), the card's drm/cardN directory
// under it with its device link, /sys/class/drm/cardN and
// /sys/dev/char/226:N pointing at it, and the links given (path relative
// to dev: target relative to the root), made relative as sysfs's are.
func fakeSysfs(t *testing.T, dev, card string, links map[string]string) string {
	t.Helper()
	root := t.TempDir()
	mk := func(dir string) {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(at, target string) {
		t.Helper()
		mk(target)
		rel, err := filepath.Rel(filepath.Dir(filepath.Join(root, at)), filepath.Join(root, target))
		if err != nil {
			t.Fatal(err)
		}
		mk(filepath.Dir(at))
		if err := os.Symlink(rel, filepath.Join(root, at)); err != nil {
			t.Fatal(err)
		}
	}
	cardDir := filepath.Join(dev, "drm", card)
	mk(cardDir)
	link(filepath.Join(cardDir, "device"), dev)
	link(filepath.Join("class/drm", card), cardDir)
	link("dev/char/226:"+strings.TrimPrefix(card, "card"), cardDir)
	for at, target := range links {
		link(filepath.Join(dev, at), target)
	}
	return root
}

func TestClassifyCard(t *testing.T) {
	const pci = "devices/pci0000:00/0000:00:02.0"
	for _, c := range []struct {
		name, dev, drm string
		links          map[string]string
		want           Memory
		why            string // the whole reason
		virtio         string // the virtio device found, if any
	}{
		{
			name: "pci without iommu", dev: pci, drm: "cirrus",
			links: map[string]string{"subsystem": "bus/pci", "driver": "bus/pci/drivers/cirrus"},
			want:  MemoryScattered,
			why:   "cirrus at 0000:00:02.0 is a pci device: scattered pages do (PCI display drivers keep buffers in shmem or TTM (VRAM and GART) and take scattered pages)",
		},
		{
			name: "pci with iommu", dev: pci, drm: "amdgpu",
			links: map[string]string{"subsystem": "bus/pci", "driver": "bus/pci/drivers/amdgpu", "iommu_group": "kernel/iommu_groups/7"},
			want:  MemoryScattered,
			why:   "amdgpu at 0000:00:02.0 is a pci device in IOMMU group 7: scattered pages do (the IOMMU maps them contiguous for the device)",
		},
		{
			name: "amba without iommu", dev: "devices/platform/10020000.clcd", drm: "pl111",
			links: map[string]string{"subsystem": "bus/amba", "driver": "bus/amba/drivers/drm-clcd-pl111"},
			want:  MemoryContiguous,
			why:   "pl111 (driver drm-clcd-pl111) at 10020000.clcd is an amba device with no IOMMU: contiguous scanout (pl111 uses the GEM DMA helpers: one DMA address per buffer)",
		},
		{
			// The rule does not need the driver table: an unknown
			// platform display without an IOMMU is contiguous-only.
			name: "platform without iommu, unknown driver", dev: "devices/platform/soc/1c0c000.lcd-controller", drm: "newlcd",
			links: map[string]string{"subsystem": "bus/platform", "driver": "bus/platform/drivers/newlcd"},
			want:  MemoryContiguous,
			why:   "newlcd at 1c0c000.lcd-controller is a platform device with no IOMMU: contiguous scanout (it does DMA to physical addresses)",
		},
		{
			name: "platform with iommu", dev: "devices/platform/soc/32e00000.display-controller", drm: "imx-dcss",
			links: map[string]string{"subsystem": "bus/platform", "driver": "bus/platform/drivers/imx-dcss", "iommu_group": "kernel/iommu_groups/2"},
			want:  MemoryScattered,
			why:   "imx-dcss at 32e00000.display-controller is a platform device in IOMMU group 2: scattered pages do (the IOMMU maps them contiguous for the device)",
		},
		{
			// virtio-gpu's DRM device is its transport's device (6.12:
			// drm_dev_alloc(&driver, vdev->dev.parent)), the virtio
			// device a child of it.
			name: "virtio-pci transport without iommu", dev: pci, drm: "virtio_gpu",
			links:  map[string]string{"subsystem": "bus/pci", "driver": "bus/pci/drivers/virtio-pci", "virtio0/subsystem": "bus/virtio"},
			want:   MemoryScattered,
			virtio: "virtio0",
			why:    "virtio_gpu (driver virtio-pci) at 0000:00:02.0 is a pci device, the transport of virtio device virtio0: scattered pages do (the host reads the guest's pages through a scatter list)",
		},
		{
			name: "virtio-pci transport behind an iommu", dev: pci, drm: "virtio_gpu",
			links:  map[string]string{"subsystem": "bus/pci", "driver": "bus/pci/drivers/virtio-pci", "virtio0/subsystem": "bus/virtio", "iommu_group": "kernel/iommu_groups/3"},
			want:   MemoryScattered,
			virtio: "virtio0",
			why:    "virtio_gpu (driver virtio-pci) at 0000:00:02.0 is a pci device in IOMMU group 3: scattered pages do (the IOMMU maps them contiguous for the device)",
		},
		{
			// A platform device with no IOMMU, yet not a display
			// that does DMA: the host reads the pages.
			name: "virtio-mmio transport", dev: "devices/platform/a003e00.virtio_mmio", drm: "virtio_gpu",
			links:  map[string]string{"subsystem": "bus/platform", "driver": "bus/platform/drivers/virtio-mmio", "virtio31/subsystem": "bus/virtio"},
			want:   MemoryScattered,
			virtio: "virtio31",
			why:    "virtio_gpu (driver virtio-mmio) at a003e00.virtio_mmio is a platform device, the transport of virtio device virtio31: scattered pages do (the host reads the guest's pages through a scatter list)",
		},
		{
			// A child named like a virtio device that is none.
			name: "platform with a virtio-named child of another bus", dev: "devices/platform/soc/1c0c000.lcd-controller", drm: "newlcd",
			links: map[string]string{"subsystem": "bus/platform", "driver": "bus/platform/drivers/newlcd", "virtio0/subsystem": "bus/platform"},
			want:  MemoryContiguous,
			why:   "newlcd at 1c0c000.lcd-controller is a platform device with no IOMMU: contiguous scanout (it does DMA to physical addresses)",
		},
		{
			// Kernels whose DRM device is the virtio device itself.
			name: "virtio on pci without iommu", dev: pci + "/virtio0", drm: "virtio_gpu",
			links:  map[string]string{"subsystem": "bus/virtio", "driver": "bus/virtio/drivers/virtio_gpu", "../subsystem": "bus/pci"},
			want:   MemoryScattered,
			virtio: "virtio0",
			why:    "virtio_gpu at virtio0 is a virtio device: scattered pages do (the host reads the guest's pages through a scatter list)",
		},
		{
			name: "virtio on pci behind an iommu", dev: pci + "/virtio0", drm: "virtio_gpu",
			links:  map[string]string{"subsystem": "bus/virtio", "driver": "bus/virtio/drivers/virtio_gpu", "../iommu_group": "kernel/iommu_groups/3"},
			want:   MemoryScattered,
			virtio: "virtio0",
			why:    "virtio_gpu at virtio0 is a virtio device whose DMA goes through 0000:00:02.0 in IOMMU group 3: scattered pages do",
		},
		{
			name: "virtio on mmio", dev: "devices/platform/a003e00.virtio_mmio/virtio31", drm: "virtio_gpu",
			links:  map[string]string{"subsystem": "bus/virtio", "driver": "bus/virtio/drivers/virtio_gpu", "../subsystem": "bus/platform"},
			want:   MemoryScattered,
			virtio: "virtio31",
			why:    "virtio_gpu at virtio31 is a virtio device: scattered pages do (the host reads the guest's pages through a scatter list)",
		},
		{
			name: "usb", dev: "devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0", drm: "udl",
			links: map[string]string{"subsystem": "bus/usb", "driver": "bus/usb/drivers/udl"},
			want:  MemoryScattered,
			why:   "udl at 1-2:1.0 is a usb device: scattered pages do (the driver copies the buffer to the device with the CPU)",
		},
		{
			name: "simpledrm on platform", dev: "devices/platform/simple-framebuffer.0", drm: "simpledrm",
			links: map[string]string{"subsystem": "bus/platform", "driver": "bus/platform/drivers/simple-framebuffer"},
			want:  MemoryScattered,
			why:   "simpledrm (driver simple-framebuffer) at simple-framebuffer.0 is a platform device with no IOMMU, but simpledrm keeps buffers in shmem and copies them with the CPU: scattered pages do",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := fakeSysfs(t, c.dev, "card1", c.links)
			for _, dir := range []string{"class/drm/card1", "dev/char/226:1"} {
				got := classifyCard(root, dir, c.drm)
				if got.Memory != c.want || got.Why != c.why {
					t.Errorf("%s: %v %q\nwant %v %q", dir, got.Memory, got.Why, c.want, c.why)
				}
				if got.Virtio != c.virtio {
					t.Errorf("%s: virtio device %q, want %q", dir, got.Virtio, c.virtio)
				}
				if got.Card != "card1" || got.Name != filepath.Base(c.dev) || got.SysPath != filepath.Join(root, c.dev) {
					t.Errorf("%s: card %q name %q path %q", dir, got.Card, got.Name, got.SysPath)
				}
			}
		})
	}
}

func TestClassifyCardWithoutSysfs(t *testing.T) {
	got := classifyCard(t.TempDir(), "dev/char/226:0", "pl111")
	if got.Memory != MemoryUnknown || !strings.Contains(got.Why, "sysfs says nothing about 226:0") {
		t.Errorf("%v %q", got.Memory, got.Why)
	}
	// The device-blind order: system first, as before the rule.
	ch := chooseHeaps(got, heapsNamed("reserved", "system"), nil)
	if ch.First() != "system" {
		t.Errorf("unknown device: first heap %q, want system", ch.First())
	}
}

// heapsNamed makes heaps as access.Heaps lists them (typed by name only).
func heapsNamed(names ...string) []access.Heap {
	var out []access.Heap
	for _, n := range names {
		h := access.Heap{Name: n, Path: "/dev/dma_heap/" + n}
		for _, t := range []struct {
			name string
			typ  access.HeapType
		}{{"system", access.HeapSystem}, {"system-uncached", access.HeapSystemUncached}, {"reserved", access.HeapCMA}, {"linux,cma", access.HeapCMA}} {
			if n == t.name {
				h.Type = t.typ
			}
		}
		out = append(out, h)
	}
	return out
}

func TestChooseHeaps(t *testing.T) {
	pl111 := DeviceClass{Memory: MemoryContiguous, Why: "pl111 at 10020000.clcd is an amba device with no IOMMU: contiguous scanout"}
	cirrus := DeviceClass{Memory: MemoryScattered, Why: "cirrus at 0000:00:02.0 is a pci device: scattered pages do"}
	names := func(ch HeapChoice) string {
		var n []string
		for _, h := range ch.Heaps {
			n = append(n, h.Name)
		}
		return strings.Join(n, ",")
	}
	for _, c := range []struct {
		class   DeviceClass
		heaps   []access.Heap
		order   string
		whyTail string
	}{
		{pl111, heapsNamed("reserved", "system"), "reserved,system", `; heap "reserved" (CMA)`},
		{pl111, heapsNamed("carveout", "linux,cma", "system"), "linux,cma,carveout,system", `; heap "linux,cma" (CMA)`},
		{pl111, heapsNamed("carveout", "system"), "carveout,system", `; heap "carveout" (other), not known to be CMA`},
		{pl111, heapsNamed("system"), "system", `; no CMA heap (heaps: system): heap "system" (system), accepted only while its pages happen to be adjacent`},
		{cirrus, heapsNamed("reserved", "system"), "system,reserved", `; heap "system" (system)`},
		{cirrus, heapsNamed("system"), "system", `; heap "system" (system)`},
	} {
		ch := chooseHeaps(c.class, c.heaps, nil)
		if names(ch) != c.order || ch.Why != c.class.Why+c.whyTail {
			t.Errorf("%s with %s: order %s, why %q\nwant %s, %q", c.class.Memory, names(heapsOrder(c.heaps)), names(ch), ch.Why, c.order, c.class.Why+c.whyTail)
		}
	}
	ch := chooseHeaps(pl111, nil, errors.New("list heaps /dev/dma_heap: no dma-buf heaps"))
	if ch.First() != "" || !strings.HasSuffix(ch.Why, "; no dma-buf heap (list heaps /dev/dma_heap: no dma-buf heaps)") {
		t.Errorf("no heaps: %q %q", ch.First(), ch.Why)
	}
}

// heapsOrder wraps heaps in a HeapChoice for printing.
func heapsOrder(h []access.Heap) HeapChoice { return HeapChoice{Heaps: h} }

func TestScanoutSteps(t *testing.T) {
	pl111 := chooseHeaps(DeviceClass{Memory: MemoryContiguous, Why: "pl111"}, heapsNamed("carveout", "reserved", "system"), nil)
	none := chooseHeaps(DeviceClass{Memory: MemoryContiguous, Why: "pl111"}, nil, errors.New("no heaps"))
	str := func(steps []scanoutStep) string {
		var s []string
		for _, st := range steps {
			if st.src == SourceHeap {
				s = append(s, "heap "+st.heap)
			} else {
				s = append(s, st.src.String())
			}
		}
		return strings.Join(s, ", ")
	}
	for _, c := range []struct {
		opts   ScanoutOptions
		choice HeapChoice
		want   string
	}{
		// Every heap, in the rule's order, before udmabuf and dumb.
		{ScanoutOptions{Source: SourceAuto}, pl111, "heap reserved, heap carveout, heap system, udmabuf, dumb"},
		{ScanoutOptions{Source: SourceHeap}, pl111, "heap reserved, heap carveout, heap system"},
		// --heap overrides the rule.
		{ScanoutOptions{Source: SourceAuto, Heap: "system"}, HeapChoice{}, "heap system, udmabuf, dumb"},
		{ScanoutOptions{Source: SourceHeap, Heap: "system"}, HeapChoice{}, "heap system"},
		// No heap: one heap step, whose error says why.
		{ScanoutOptions{Source: SourceAuto}, none, "heap , udmabuf, dumb"},
		{ScanoutOptions{Source: SourceUdmabuf}, pl111, "udmabuf"},
		{ScanoutOptions{Source: SourceDumb}, pl111, "dumb"},
	} {
		steps, err := scanoutSteps(c.opts, c.choice)
		if err != nil || str(steps) != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.opts, str(steps), err, c.want)
		}
	}
	if _, err := scanoutSteps(ScanoutOptions{Source: Source(9)}, pl111); err == nil {
		t.Error("an unknown source was accepted")
	}
}
