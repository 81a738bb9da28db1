package client

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bootsplash/bootsplash/access"
)

// The heap rule: which dma-buf heap a display device's scanout buffers
// come from, chosen by what the device is (its bus, its driver, whether an
// IOMMU stands between it and memory), not by trying heaps until one
// import happens to be accepted. A system-heap buffer is built from
// scattered 1 MiB chunks; a display that does DMA to physical addresses
// takes it only while its chunks happen to be adjacent, which holds on a
// freshly booted machine and stops holding after uptime. See
// docs/access-model.md for the evidence.

// Memory is what memory a display device can scan out from.
type Memory int

// What a device scans out from.
const (
	// MemoryUnknown: sysfs says nothing about the device.
	MemoryUnknown Memory = iota
	// MemoryScattered: the device takes buffers made of scattered pages
	// (an IOMMU maps them for it, the driver copies them with the CPU, or
	// the hardware has page tables of its own): the system heap.
	MemoryScattered
	// MemoryContiguous: the device scans out only physically contiguous
	// memory: a CMA heap.
	MemoryContiguous
)

// String returns "unknown", "scattered" or "contiguous".
func (m Memory) String() string {
	switch m {
	case MemoryScattered:
		return "scattered"
	case MemoryContiguous:
		return "contiguous"
	}
	return "unknown"
}

// MarshalText makes a Memory print as its name in JSON.
func (m Memory) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads a name String returns.
func (m *Memory) UnmarshalText(b []byte) error {
	for _, v := range []Memory{MemoryUnknown, MemoryScattered, MemoryContiguous} {
		if string(b) == v.String() {
			*m = v
			return nil
		}
	}
	return fmt.Errorf("unknown scanout memory %q (want unknown, scattered or contiguous)", b)
}

// DeviceClass is what sysfs says about the device behind a DRM card node,
// and what memory that device scans out from.
type DeviceClass struct {
	// Card is the DRM card's name in sysfs: "card0".
	Card string `json:"card"`
	// SysPath is the device's directory under /sys/devices, resolved.
	SysPath string `json:"sys_path,omitempty"`
	// Name is the device's name: "10020000.clcd", "0000:00:02.0".
	Name string `json:"name,omitempty"`
	// Bus is the device's subsystem: "pci", "platform", "amba",
	// "virtio", "usb", ...
	Bus string `json:"bus,omitempty"`
	// Driver is the kernel driver bound to the device ("pl111",
	// "cirrus-qemu", "vc4_drm"); DRMDriver the DRM driver's name as
	// DRM_IOCTL_VERSION gives it ("pl111", "cirrus", "vc4").
	Driver    string `json:"driver,omitempty"`
	DRMDriver string `json:"drm_driver,omitempty"`
	// IOMMUGroup is the device's IOMMU group, "" without one;
	// IOMMUDevice names the device the group belongs to when that is an
	// ancestor (the PCI function under a virtio device).
	IOMMUGroup  string `json:"iommu_group,omitempty"`
	IOMMUDevice string `json:"iommu_device,omitempty"`
	// Virtio names the virtio device the display is ("virtio0"), or "".
	// virtio-gpu hangs its DRM device on the virtio transport's device
	// (the PCI function, or the virtio-mmio platform device), whose child
	// the virtio device is; on kernels where the DRM device is the virtio
	// device itself, Virtio is Name.
	Virtio string `json:"virtio,omitempty"`
	// Memory is what the device scans out from, and Why says how that was
	// told: "pl111 at 10020000.clcd is an amba device with no IOMMU:
	// contiguous scanout".
	Memory Memory `json:"memory"`
	Why    string `json:"why"`
}

// scatterBuses are the buses whose display devices take scattered pages,
// and why.
var scatterBuses = map[string]string{
	"pci":    "PCI display drivers keep buffers in shmem or TTM (VRAM and GART) and take scattered pages",
	"virtio": "the host reads the guest's pages through a scatter list",
	"usb":    "the driver copies the buffer to the device with the CPU",
	"vmbus":  "the driver copies the buffer into the VRAM Hyper-V shares with it",
	"xen":    "the backend maps the guest's pages one by one",
}

// shmemDrivers are DRM drivers (by DRM_IOCTL_VERSION name) that sit on a
// platform bus without an IOMMU yet keep buffers in shmem and copy or map
// them with the CPU, so scattered pages do. Knowledge the sysfs facts
// cannot give.
var shmemDrivers = map[string]bool{
	"simpledrm": true, "ofdrm": true, "efidrm": true, "vesadrm": true, "vkms": true,
}

// dmaHelperDrivers are DRM drivers (by DRM_IOCTL_VERSION name) that use the
// GEM DMA helpers: a buffer is one DMA address, so an import is accepted
// only when the buffer is contiguous for the device. They name the reason;
// the rule does not depend on the list (any platform device without an
// IOMMU is taken as contiguous-only).
var dmaHelperDrivers = map[string]bool{
	"pl111": true, "vc4": true, "sun4i-drm": true, "imx-dcss": true, "imx-drm": true,
	"imx-lcdif": true, "mxsfb-drm": true, "stm": true, "meson": true, "tilcdc": true,
	"hdlcd": true, "mali-dp": true, "rcar-du": true, "atmel-hlcdc": true, "fsl-dcu-drm": true,
	"ingenic-drm": true, "kirin": true, "logicvc-drm": true, "mcde": true, "tve200": true,
	"aspeed-gfx-drm": true, "tidss": true, "arcpgu": true, "zynqmp-dpsub": true,
	"sti": true, "kmb-drm": true, "adi_axi_hdmi": true, "hx8357d": true, "ili9341": true,
	"mi0283qt": true, "st7735r": true, "panel-mipi-dbi": true, "repaper": true,
}

// classifyCard reads what sysfs under sysRoot ("/sys") says about the
// device of the DRM card whose sysfs directory is cardDir (relative to
// sysRoot: "class/drm/card0" or "dev/char/226:0"), and decides what memory
// it scans out from. drm is the DRM driver's name. The rule, in order:
//
//  1. sysfs unreadable: unknown (the caller keeps the device-blind order).
//  2. The device or an ancestor has an iommu_group: scattered.
//  3. The device is a virtio device, or the transport (virtio-pci,
//     virtio-mmio) of one: scattered, whatever bus the transport sits on.
//  4. The bus is pci, virtio, usb, vmbus or xen: scattered.
//  5. The driver keeps buffers in shmem (simpledrm and kin): scattered.
//  6. Anything else (platform, amba, spi, ... with no IOMMU): contiguous.
//
// A wrong "contiguous" costs CMA space; a wrong "scattered" costs a
// refused import after uptime. Scattered therefore needs a reason, and
// contiguous is the default.
func classifyCard(sysRoot, cardDir, drm string) DeviceClass {
	c := DeviceClass{DRMDriver: drm}
	card := filepath.Join(sysRoot, cardDir)
	if real, err := filepath.EvalSymlinks(card); err == nil {
		c.Card = filepath.Base(real)
	} else {
		c.Card = filepath.Base(card)
	}
	dev, err := filepath.EvalSymlinks(filepath.Join(card, "device"))
	if err != nil {
		c.Why = fmt.Sprintf("sysfs says nothing about %s (%v): heap order as for any device", c.Card, err)
		return c
	}
	c.SysPath = dev
	c.Name = filepath.Base(dev)
	c.Bus = linkBase(filepath.Join(dev, "subsystem"))
	c.Driver = linkBase(filepath.Join(dev, "driver"))
	who := drm
	switch {
	case who == "" && c.Driver == "":
		who = "the display"
	case who == "":
		who = c.Driver
	case c.Driver != "" && c.Driver != drm:
		who += " (driver " + c.Driver + ")"
	}
	bus := c.Bus
	if bus == "" {
		bus = "bus-less"
	}
	subject := fmt.Sprintf("%s at %s is %s %s device", who, c.Name, article(bus), bus)

	// The device's own group, or the nearest ancestor's under
	// /sys/devices (the PCI function a virtio or USB device does its DMA
	// through).
	devices := filepath.Join(sysRoot, "devices")
	for d := dev; strings.HasPrefix(d, devices+string(filepath.Separator)); d = filepath.Dir(d) {
		if g := linkBase(filepath.Join(d, "iommu_group")); g != "" {
			c.IOMMUGroup = g
			if d != dev {
				c.IOMMUDevice = filepath.Base(d)
			}
			break
		}
	}
	c.Virtio = virtioDevice(dev, c.Bus)
	switch {
	case c.IOMMUGroup != "" && c.IOMMUDevice == "":
		c.Memory = MemoryScattered
		c.Why = fmt.Sprintf("%s in IOMMU group %s: scattered pages do (the IOMMU maps them contiguous for the device)", subject, c.IOMMUGroup)
	case c.IOMMUGroup != "":
		c.Memory = MemoryScattered
		c.Why = fmt.Sprintf("%s whose DMA goes through %s in IOMMU group %s: scattered pages do", subject, c.IOMMUDevice, c.IOMMUGroup)
	case c.Virtio != "" && c.Bus != "virtio":
		c.Memory = MemoryScattered
		c.Why = fmt.Sprintf("%s, the transport of virtio device %s: scattered pages do (%s)", subject, c.Virtio, scatterBuses["virtio"])
	case scatterBuses[c.Bus] != "":
		c.Memory = MemoryScattered
		c.Why = fmt.Sprintf("%s: scattered pages do (%s)", subject, scatterBuses[c.Bus])
	case shmemDrivers[drm]:
		c.Memory = MemoryScattered
		c.Why = fmt.Sprintf("%s with no IOMMU, but %s keeps buffers in shmem and copies them with the CPU: scattered pages do", subject, drm)
	default:
		c.Memory = MemoryContiguous
		c.Why = subject + " with no IOMMU: contiguous scanout"
		if dmaHelperDrivers[drm] {
			c.Why += fmt.Sprintf(" (%s uses the GEM DMA helpers: one DMA address per buffer)", drm)
		} else {
			c.Why += " (it does DMA to physical addresses)"
		}
	}
	return c
}

// virtioDevice names the virtio device that the device at dev (on bus) is,
// or carries as a child (a transport's virtio0), or "".
func virtioDevice(dev, bus string) string {
	if bus == "virtio" {
		return filepath.Base(dev)
	}
	ents, err := os.ReadDir(dev)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "virtio") && linkBase(filepath.Join(dev, e.Name(), "subsystem")) == "virtio" {
			return e.Name()
		}
	}
	return ""
}

// linkBase is the last element of the symlink at path's target, or "".
func linkBase(path string) string {
	t, err := os.Readlink(path)
	if err != nil {
		return ""
	}
	return filepath.Base(t)
}

// article is "an" before a vowel sound ("an amba", "a usb"), else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeio", rune(word[0])) {
		return "an"
	}
	return "a"
}

// HeapChoice is the order a device's scanout buffers are allocated from
// the dma-buf heaps, and why.
type HeapChoice struct {
	// Class is what the device is.
	Class DeviceClass `json:"class"`
	// Heaps are the heaps to try, first choice first; empty when there
	// are none (ListErr says why).
	Heaps []access.Heap `json:"heaps"`
	// ListErr is why no heap could be listed, or "".
	ListErr string `json:"list_error,omitempty"`
	// Why says what was chosen and why, in one line: "pl111 at
	// 10020000.clcd is an amba device with no IOMMU: contiguous scanout;
	// heap "reserved" (CMA)".
	Why string `json:"why"`
}

// First is the name of the heap tried first, or "".
func (c HeapChoice) First() string {
	if len(c.Heaps) == 0 {
		return ""
	}
	return c.Heaps[0].Name
}

// chooseHeaps orders heaps for the device class c; listErr is why heaps
// could not be listed.
func chooseHeaps(c DeviceClass, heaps []access.Heap, listErr error) HeapChoice {
	ch := HeapChoice{Class: c, Heaps: access.OrderHeaps(heaps, c.Memory == MemoryContiguous)}
	var what string
	switch {
	case listErr != nil:
		ch.ListErr = listErr.Error()
		what = "no dma-buf heap (" + ch.ListErr + ")"
	case len(ch.Heaps) == 0:
		what = "no dma-buf heap"
	default:
		first := ch.Heaps[0]
		what = "heap " + first.String()
		if c.Memory == MemoryContiguous && !first.Type.Contiguous() {
			if first.Type.Scattered() {
				what = fmt.Sprintf("no CMA heap (heaps: %s): heap %s, accepted only while its pages happen to be adjacent", heapNameList(heaps), first)
			} else {
				what += ", not known to be CMA"
			}
		}
	}
	ch.Why = c.Why + "; " + what
	return ch
}

// heapNameList is "a, b, c".
func heapNameList(heaps []access.Heap) string {
	names := make([]string, len(heaps))
	for i, h := range heaps {
		names[i] = h.Name
	}
	return strings.Join(names, ", ")
}

// HeapTrial is one heap's buffer offered to a device over PRIME.
type HeapTrial struct {
	// Heap is the heap tried.
	Heap access.Heap `json:"heap"`
	// Size is the buffer's size in bytes.
	Size int `json:"size"`
	// Err is why the buffer could not be allocated or was refused; nil
	// when the device accepted it.
	Err error `json:"-"`
	// Errno is the kernel's answer to the failed step ("EINVAL"), or "".
	Errno string `json:"errno,omitempty"`
}

// Accepted reports whether the device imported the buffer.
func (t HeapTrial) Accepted() bool { return t.Err == nil }

// scanoutStep is one path NewScanout tries: a source, and for SourceHeap
// the heap's name ("" when there is none to try: the step's error says
// why).
type scanoutStep struct {
	src  Source
	heap string
}

// scanoutSteps lists the paths NewScanout tries for opts, in order: for
// SourceAuto every heap of choice (or only opts.Heap), then udmabuf, then
// a dumb buffer; for SourceHeap the heaps alone; otherwise that source.
func scanoutSteps(opts ScanoutOptions, choice HeapChoice) ([]scanoutStep, error) {
	var steps []scanoutStep
	heaps := func() {
		switch {
		case opts.Heap != "":
			steps = append(steps, scanoutStep{SourceHeap, opts.Heap})
		case len(choice.Heaps) == 0:
			steps = append(steps, scanoutStep{SourceHeap, ""})
		default:
			for _, h := range choice.Heaps {
				steps = append(steps, scanoutStep{SourceHeap, h.Name})
			}
		}
	}
	switch opts.Source {
	case SourceAuto:
		heaps()
		steps = append(steps, scanoutStep{SourceUdmabuf, ""}, scanoutStep{SourceDumb, ""})
	case SourceHeap:
		heaps()
	case SourceUdmabuf, SourceDumb:
		steps = append(steps, scanoutStep{opts.Source, ""})
	default:
		return nil, fmt.Errorf("unknown buffer source %v", opts.Source)
	}
	return steps, nil
}
