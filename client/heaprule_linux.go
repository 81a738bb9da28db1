package client

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/kerror"
)

// sysfsRoot is where sysfs is mounted.
const sysfsRoot = "/sys"

// Class says what the device behind d is (bus, driver, IOMMU group, from
// sysfs through the node's device number) and what memory it scans out
// from.
func (d *Device) Class() DeviceClass {
	var st unix.Stat_t
	fd := d.Fd()
	if fd < 0 {
		return DeviceClass{DRMDriver: d.driver.Name, Why: "the device is closed: heap order as for any device"}
	}
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return DeviceClass{DRMDriver: d.driver.Name, Why: fmt.Sprintf("%s is not a character device: heap order as for any device", d.path)}
	}
	rdev := uint64(st.Rdev)
	return classifyCard(sysfsRoot, fmt.Sprintf("dev/char/%d:%d", unix.Major(rdev), unix.Minor(rdev)), d.driver.Name)
}

// HeapChoice lists the dma-buf heaps in the order d's scanout buffers are
// allocated from them, by what d is (Class), and says why.
func (d *Device) HeapChoice() HeapChoice {
	heaps, err := access.Heaps()
	return chooseHeaps(d.Class(), heaps, err)
}

// scanoutHeapChoice is HeapChoice on the way to the first frame: with one
// heap or none there is nothing to order, and the device is not looked up
// in sysfs (a dozen lookups and links followed, for a class that would
// change nothing; on arm64 virt under TCG the walk for virtio-gpu took a
// fifth of a second). No heap directory at all (a kernel without
// CONFIG_DMABUF_HEAPS, whose listing fails) is none. With more heaps it
// is HeapChoice. listErr is why no heap could be listed, for the heap
// step to fail with without listing them again.
func (d *Device) scanoutHeapChoice() (ch HeapChoice, listErr error) {
	heaps, err := access.Heaps()
	if err == nil && len(heaps) > 1 {
		return chooseHeaps(d.Class(), heaps, err), nil
	}
	c := DeviceClass{DRMDriver: d.driver.Name, Why: "one dma-buf heap or none, nothing to order: " + d.driver.Name + " not looked up in sysfs"}
	return chooseHeaps(c, heaps, err), err
}

// TryHeaps allocates a size-byte buffer from each heap of ch, in order,
// imports it into d over PRIME and releases both: which heaps d accepts
// a buffer from right now. A small buffer from a scattered heap is often
// accepted by luck (one chunk is contiguous); an acceptance says less than
// a refusal.
func (d *Device) TryHeaps(ch HeapChoice, size int) []HeapTrial {
	var out []HeapTrial
	for _, h := range ch.Heaps {
		t := HeapTrial{Heap: h, Size: size, Err: d.tryHeap(h.Name, size)}
		var errno unix.Errno
		if errors.As(t.Err, &errno) {
			t.Errno = unix.ErrnoName(errno)
		}
		out = append(out, t)
	}
	return out
}

// tryHeap allocates, imports and releases one buffer of the heap called
// name.
func (d *Device) tryHeap(name string, size int) error {
	hf, err := access.OpenHeap(name)
	if err != nil {
		return err
	}
	b, err := hf.Alloc(size)
	hf.Close()
	if err != nil {
		return err
	}
	defer b.Close()
	g, err := d.ImportDmaBuf(b.Fd())
	if err != nil {
		var e *kerror.Error
		if errors.As(err, &e) && errors.Is(err, ErrImportUnsupported) {
			return fmt.Errorf("import refused by %s: %w", d.name(), e.Err)
		}
		return err
	}
	return g.Close()
}
