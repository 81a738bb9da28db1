package access

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/devperm"
	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/kerror"
)

// syncArg is DMA_BUF_IOCTL_SYNC's argument.
type syncArg = uapi.DmaBufSync

func closeFd(fd int) error { return unix.Close(fd) }

// pageRound rounds n up to a whole number of pages.
func pageRound(n int) int {
	p := os.Getpagesize()
	return (n + p - 1) / p * p
}

// Heaps lists the dma-buf heaps in /dev/dma_heap, sorted by name, each
// with its type (told by its name and /sys/kernel/mm/cma). With no
// such directory (or an empty one) the error wraps ErrNoHeaps.
func Heaps() ([]Heap, error) { return listHeaps(heapDir, cmaSysfs) }

// listHeaps lists the heaps in dir; cmaDir is where the CMA areas are
// listed (/sys/kernel/mm/cma), which tells a CMA heap by its name.
func listHeaps(dir, cmaDir string) ([]Heap, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &kerror.Error{Pkg: "access", Op: "list heaps", Path: dir,
			Err: fmt.Errorf("%w: the kernel lacks CONFIG_DMABUF_HEAPS (or /dev is not a devtmpfs)", ErrNoHeaps)}
	}
	if err != nil {
		return nil, &kerror.Error{Pkg: "access", Op: "list heaps", Path: dir, Err: err}
	}
	var heaps []Heap
	for _, e := range ents {
		h := Heap{Name: e.Name(), Path: filepath.Join(dir, e.Name())}
		h.Type, h.TypeWhy = heapType(h.Name, cmaDir)
		if fi, err := os.Stat(h.Path); err == nil {
			h.Mode = fi.Mode()
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				h.UID, h.GID = st.Uid, st.Gid
			}
		}
		heaps = append(heaps, h)
	}
	if len(heaps) == 0 {
		return nil, &kerror.Error{Pkg: "access", Op: "list heaps", Path: dir,
			Err: fmt.Errorf("%w: the directory is empty (no heap driver: CONFIG_DMABUF_HEAPS_SYSTEM, CONFIG_DMABUF_HEAPS_CMA)", ErrNoHeaps)}
	}
	sort.Slice(heaps, func(i, j int) bool { return heaps[i].Name < heaps[j].Name })
	return heaps, nil
}

// DefaultHeapName names the heap to allocate CPU-drawn scanout buffers from:
// "system" if present, else the first CMA heap of "linux,cma", "reserved",
// "default_cma_region", else any other heap whose name contains "cma".
func DefaultHeapName() (string, error) {
	heaps, err := Heaps()
	if err != nil {
		return "", err
	}
	return pickDefaultHeap(heaps)
}

// OpenHeap opens the heap called name ("" for DefaultHeapName). A node the
// caller may not open gives an error wrapping fs.ErrPermission that names
// the node, its mode and owner, the caller's ids, the read access needed
// and a udev rule that would grant it.
func OpenHeap(name string) (*HeapFile, error) {
	if name == "" {
		n, err := DefaultHeapName()
		if err != nil {
			return nil, err
		}
		name = n
	}
	return openHeapAt(heapDir, name)
}

func openHeapAt(dir, name string) (*HeapFile, error) {
	path := filepath.Join(dir, name)
	origin := fmt.Sprintf("heap %q", name)
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return nil, &kerror.Error{Pkg: "access", Op: "open", Device: origin, Path: path, Err: fs.ErrInvalid}
	}
	// Heap ioctls need no write permission; Android's nodes are 0444.
	fd, err := uapi.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if _, derr := os.Stat(dir); derr != nil {
				err = fmt.Errorf("%w: %w: the kernel lacks CONFIG_DMABUF_HEAPS (or /dev is not a devtmpfs)", err, ErrNoHeaps)
			} else {
				err = fmt.Errorf("%w: %w (heaps here: %s)", err, ErrNoHeaps, heapNames(dir))
			}
		case devperm.Denied(err):
			err = fmt.Errorf("%w: %s", err, devperm.Explain(path, heapNeed(name)))
		}
		return nil, &kerror.Error{Pkg: "access", Op: "open", Device: origin, Path: path, Err: err}
	}
	return &HeapFile{fd: fd, name: name, path: path}, nil
}

// CheckHeap reports whether this process may open the heap called name
// ("" for DefaultHeapName) the way OpenHeap does, by the kernel's own check
// and without opening it. A refusal reads like OpenHeap's and matches
// fs.ErrPermission.
func CheckHeap(name string) error {
	if name == "" {
		n, err := DefaultHeapName()
		if err != nil {
			return err
		}
		name = n
	}
	path := filepath.Join(heapDir, name)
	if err := devperm.Check(path, devperm.Read); err != nil {
		if devperm.Denied(err) {
			err = fmt.Errorf("%w: %s", err, devperm.Explain(path, heapNeed(name)))
		}
		return &kerror.Error{Pkg: "access", Op: "open", Device: fmt.Sprintf("heap %q", name), Path: path, Err: err}
	}
	return nil
}

// CheckUdmabuf reports whether this process may open /dev/udmabuf the way
// AllocUdmabuf does (read-write), by the kernel's own check and without
// opening it. A refusal reads like AllocUdmabuf's and matches
// fs.ErrPermission.
func CheckUdmabuf() error {
	if err := devperm.Check(udmabufPath, devperm.ReadWrite); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w: the kernel lacks CONFIG_UDMABUF", err, ErrNoUdmabuf)
		} else if devperm.Denied(err) {
			err = fmt.Errorf("%w: %s", err, devperm.Explain(udmabufPath, udmabufNeed()))
		}
		return &kerror.Error{Pkg: "access", Op: "open", Device: "udmabuf", Path: udmabufPath, Err: err}
	}
	return nil
}

// heapNames lists the heaps in dir for an error message.
func heapNames(dir string) string {
	heaps, err := listHeaps(dir, "")
	if err != nil {
		return "none"
	}
	names := make([]string, len(heaps))
	for i, h := range heaps {
		names[i] = h.Name
	}
	return strings.Join(names, ", ")
}

// heapNeed says what allocating from the heap called name needs of its
// node.
func heapNeed(name string) devperm.Need {
	return devperm.Need{
		Access: devperm.Read,
		For:    "allocating a buffer",
		Why:    "heaps are opened read-only; the allocation needs no write access",
		Rule:   fmt.Sprintf(`SUBSYSTEM=="dma_heap", KERNEL=="%s", GROUP="video", MODE="0660"`, name),
	}
}

// udmabufNeed says what creating a udmabuf needs of /dev/udmabuf, which
// is opened read-write.
func udmabufNeed() devperm.Need {
	return devperm.Need{
		Access: devperm.ReadWrite,
		For:    "creating a udmabuf",
		Rule:   `SUBSYSTEM=="misc", KERNEL=="udmabuf", GROUP="video", MODE="0660"`,
	}
}

// Alloc allocates a dma-buf of size bytes, rounded up to the page size, with
// the fd flags O_RDWR|O_CLOEXEC.
func (h *HeapFile) Alloc(size int) (*Buffer, error) {
	if size <= 0 {
		return nil, &kerror.Error{Pkg: "access", Op: fmt.Sprintf("alloc %d bytes from", size), Device: h.origin(), Path: h.path, Err: unix.EINVAL}
	}
	return h.AllocFlags(pageRound(size), unix.O_RDWR|unix.O_CLOEXEC, 0)
}

// AllocFlags issues DMA_HEAP_IOCTL_ALLOC as given, without rounding or
// checking: the kernel selftest's error cases need it raw.
func (h *HeapFile) AllocFlags(size int, fdFlags uint32, heapFlags uint64) (*Buffer, error) {
	h.mu.Lock()
	fd := h.fd
	h.mu.Unlock()
	fail := func(err error) (*Buffer, error) {
		return nil, &kerror.Error{Pkg: "access", Op: fmt.Sprintf("alloc %d bytes from", size), Device: h.origin(), Path: h.path, Err: err}
	}
	if fd < 0 {
		return fail(ErrClosed)
	}
	data := uapi.DmaHeapAllocationData{Len: uint64(size), Fd_flags: fdFlags, Heap_flags: heapFlags}
	if err := uapi.Ioctl(fd, uapi.DMA_HEAP_IOCTL_ALLOC, unsafe.Pointer(&data)); err != nil {
		return fail(err)
	}
	return &Buffer{fd: int(data.Fd), backing: -1, owned: true, size: size, kind: KindHeap, origin: h.origin()}, nil
}

// Close closes the heap node; buffers allocated from it stay valid.
// Later calls return nil.
func (h *HeapFile) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fd < 0 {
		return nil
	}
	err := unix.Close(h.fd)
	h.fd = -1
	if err != nil {
		return &kerror.Error{Pkg: "access", Op: "close", Device: h.origin(), Path: h.path, Err: err}
	}
	return nil
}

const udmabufPath = "/dev/udmabuf"

// AllocUdmabuf makes a dma-buf out of ordinary memory: a memfd with
// MFD_ALLOW_SEALING, sealed with F_SEAL_SHRINK, handed to /dev/udmabuf's
// UDMABUF_CREATE. size is rounded up to the page size. The memfd stays open
// as the buffer's BackingFd.
func AllocUdmabuf(size int) (*Buffer, error) {
	fail := func(op string, err error) (*Buffer, error) {
		return nil, &kerror.Error{Pkg: "access", Op: fmt.Sprintf("%s %d bytes as", op, size), Device: "udmabuf", Err: err}
	}
	if size <= 0 {
		return fail("alloc", unix.EINVAL)
	}
	size = pageRound(size)
	memfd, err := newMemfd("access-udmabuf", size, unix.MFD_ALLOW_SEALING)
	if err != nil {
		return fail("alloc", err)
	}
	if _, err := unix.FcntlInt(uintptr(memfd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK); err != nil {
		unix.Close(memfd)
		return fail("alloc", fmt.Errorf("seal memfd (F_SEAL_SHRINK): %w", err))
	}
	dev, err := uapi.Open(udmabufPath, unix.O_RDWR, 0)
	if err != nil {
		unix.Close(memfd)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			err = fmt.Errorf("open %s: %w: %w: the kernel lacks CONFIG_UDMABUF", udmabufPath, err, ErrNoUdmabuf)
		case devperm.Denied(err):
			err = fmt.Errorf("open %s: %w: %s", udmabufPath, err, devperm.Explain(udmabufPath, udmabufNeed()))
		default:
			err = fmt.Errorf("open %s: %w", udmabufPath, err)
		}
		return fail("alloc", err)
	}
	defer unix.Close(dev)
	create := uapi.UdmabufCreate{Memfd: uint32(memfd), Flags: uapi.UDMABUF_FLAGS_CLOEXEC, Size: uint64(size)}
	fd, err := uapi.IoctlRet(dev, uapi.UDMABUF_CREATE, unsafe.Pointer(&create))
	if err != nil {
		unix.Close(memfd)
		return fail("alloc", fmt.Errorf("UDMABUF_CREATE: %w", err))
	}
	return &Buffer{fd: fd, backing: memfd, owned: true, size: size, kind: KindUdmabuf, origin: "udmabuf"}, nil
}

// AllocMemfd makes a Buffer of plain memory: a memfd of size bytes, which is
// not a dma-buf (no SYNC, no PRIME import). The emulated display draws into
// these.
func AllocMemfd(size int) (*Buffer, error) {
	if size <= 0 {
		return nil, &kerror.Error{Pkg: "access", Op: fmt.Sprintf("alloc %d bytes as", size), Device: "memfd", Err: unix.EINVAL}
	}
	fd, err := newMemfd("access-memfd", size, 0)
	if err != nil {
		return nil, &kerror.Error{Pkg: "access", Op: fmt.Sprintf("alloc %d bytes as", size), Device: "memfd", Err: err}
	}
	return &Buffer{fd: fd, backing: -1, owned: true, size: size, kind: KindMemfd, origin: "memfd"}, nil
}

// newMemfd creates a memfd of size bytes.
func newMemfd(name string, size, flags int) (int, error) {
	fd, err := uapi.MemfdCreate(name, flags)
	if err != nil {
		return -1, fmt.Errorf("memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("ftruncate memfd to %d bytes: %w", size, err)
	}
	return fd, nil
}

// SetName names a dma-buf (DMA_BUF_SET_NAME_B) so that /proc/*/fdinfo and
// /sys/kernel/debug/dma_buf/bufinfo show what it is for. The name is at most
// 31 bytes.
func SetName(b *Buffer, name string) error {
	fail := func(err error) error {
		return &kerror.Error{Pkg: "access", Op: fmt.Sprintf("set name %q of", name), Device: b.Origin(), Err: err}
	}
	if !b.IsDmaBuf() {
		return fail(ErrNotDmaBuf)
	}
	if len(name) >= uapi.DMA_BUF_NAME_LEN || strings.IndexByte(name, 0) >= 0 {
		return fail(fmt.Errorf("%w: a name has at most %d bytes and no NUL", unix.EINVAL, uapi.DMA_BUF_NAME_LEN-1))
	}
	fd := b.Fd()
	if fd < 0 {
		return fail(ErrClosed)
	}
	cstr := append([]byte(name), 0)
	if err := uapi.Ioctl(fd, uapi.DMA_BUF_SET_NAME_B, unsafe.Pointer(&cstr[0])); err != nil {
		return fail(err)
	}
	return nil
}
