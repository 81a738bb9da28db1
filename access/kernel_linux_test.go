package access

// Tests against the real kernel: they skip where the device is missing and
// fail inside the test VM, where it must exist. The heap tests port
// tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

const oneMeg = 1 << 20

// systemHeap opens the system heap, closed when the test ends.
func systemHeap(t testing.TB) *HeapFile {
	t.Helper()
	testutil.NeedPath(t, "/dev/dma_heap/system")
	h, err := OpenHeap("system")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// heapBuf allocates size bytes from h, closed when the test ends.
func heapBuf(t testing.TB, h *HeapFile, size int) *Buffer {
	t.Helper()
	b, err := h.Alloc(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestHeapsListsSystem(t *testing.T) {
	testutil.NeedPath(t, "/dev/dma_heap/system")
	heaps, err := Heaps()
	if err != nil {
		t.Fatal(err)
	}
	var sys *Heap
	for i, h := range heaps {
		t.Logf("heap %s: %s %v uid %d gid %d", h.Name, h.Path, h.Mode, h.UID, h.GID)
		if h.Name == "system" {
			sys = &heaps[i]
		}
	}
	if sys == nil {
		t.Fatalf("Heaps() = %+v lacks system", heaps)
	}
	if sys.Path != "/dev/dma_heap/system" || sys.Mode&fs.ModeCharDevice == 0 {
		t.Errorf("system heap: %+v", sys)
	}
	if testutil.InVM() && (sys.Mode.Perm() != 0o600 || sys.UID != 0 || sys.GID != 0) {
		t.Errorf("in the VM the system heap should be 0600 root:root, is %v %d:%d", sys.Mode, sys.UID, sys.GID)
	}
	if name, err := DefaultHeapName(); name != "system" || err != nil {
		t.Errorf("DefaultHeapName() = %q, %v", name, err)
	}
	h, err := OpenHeap("")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Name() != "system" {
		t.Errorf("OpenHeap(\"\") opened %q", h.Name())
	}
	_, err = OpenHeap("no-such-heap")
	wantErr(t, err, ErrNoHeaps)
}

// The selftest's test_alloc_and_import: allocate and map 1 MiB, write it
// inside SYNC brackets, import it into vgem.
func TestHeapAllocAndImport(t *testing.T) {
	h := systemHeap(t)
	b := heapBuf(t, h, oneMeg)
	if b.Kind() != KindHeap || !b.IsDmaBuf() || b.Origin() != `heap "system"` || b.Size() != oneMeg {
		t.Fatalf("heap buffer: %v kind %v", b, b.Kind())
	}
	if fl, err := unix.FcntlInt(uintptr(b.Fd()), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("dma-buf fd flags %#x, %v: want FD_CLOEXEC", fl, err)
	}
	if fl, err := unix.FcntlInt(uintptr(b.Fd()), unix.F_GETFL, 0); err != nil || fl&unix.O_ACCMODE != unix.O_RDWR {
		t.Errorf("dma-buf file flags %#x, %v: want O_RDWR", fl, err)
	}
	m := mustMap(t, b, Cached)
	mem, err := m.Begin(Write)
	if err != nil {
		t.Fatal(err)
	}
	for i := range mem[:oneMeg/2] {
		mem[i] = 1
	}
	clear(mem[oneMeg/2:])
	if err := m.End(); err != nil {
		t.Fatal(err)
	}

	t.Run("vgem import", func(t *testing.T) {
		vgem := openVgem(t)
		handle := primeImport(t, vgem, b)
		t.Logf("imported into vgem as GEM handle %d", handle)
	})

	mem, err = m.Begin(ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	if mem[0] != 1 || mem[oneMeg-1] != 0 {
		t.Errorf("read back %d and %d, want 1 and 0", mem[0], mem[oneMeg-1])
	}
	for i := range mem {
		mem[i] = 0xff
	}
	if err := m.End(); err != nil {
		t.Fatal(err)
	}
	if st := m.Stats(); st.Syncs != 4 || st.Brackets != 2 || st.Maps != 1 || !st.SyncSupported {
		t.Errorf("stats %+v, want 4 syncs in 2 brackets over 1 map", st)
	}
}

// The selftest's test_alloc_zeroed: buffers freed after being filled with
// 0xff must come back zeroed.
func TestHeapAllocZeroed(t *testing.T) {
	h := systemHeap(t)
	for _, size := range []int{4096, oneMeg} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			const count = 32
			for round, v := range []byte{0xff, 0} {
				var bufs []*Buffer
				for i := range count {
					b, err := h.Alloc(size)
					if err != nil {
						t.Fatalf("round %d buffer %d: %v", round, i, err)
					}
					bufs = append(bufs, b)
					m, err := Map(b, Cached)
					if err != nil {
						t.Fatal(err)
					}
					mem, err := m.Begin(ReadWrite)
					if err != nil {
						t.Fatal(err)
					}
					if round == 1 {
						for j, got := range mem {
							if got != 0 {
								t.Fatalf("reallocated buffer %d: byte %d is %#x, want 0", i, j, got)
							}
						}
					} else {
						for j := range mem {
							mem[j] = v
						}
					}
					if err := m.End(); err != nil {
						t.Fatal(err)
					}
					if err := m.Close(); err != nil {
						t.Fatal(err)
					}
				}
				for _, b := range bufs {
					if err := b.Close(); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// iowr encodes _IOWR(type, nr, size) for amd64 and arm64.
func iowr(typ byte, nr uint, size uintptr) uint {
	return 3<<30 | uint(size)<<16 | uint(typ)<<8 | nr
}

// The selftest's test_alloc_compat: the ioctl accepts an older, smaller
// struct and a newer, larger one.
func TestHeapAllocCompat(t *testing.T) {
	h := systemHeap(t)
	older := struct {
		Len          uint64
		Fd, Fd_flags uint32
	}{Len: oneMeg, Fd_flags: unix.O_RDWR | unix.O_CLOEXEC}
	if err := uapi.Ioctl(h.fd, iowr('H', 0, unsafe.Sizeof(older)), unsafe.Pointer(&older)); err != nil {
		t.Errorf("older, %d-byte struct: %v", unsafe.Sizeof(older), err)
	} else {
		unix.Close(int(older.Fd))
	}
	newer := struct {
		Len                          uint64
		Fd, Fd_flags                 uint32
		Heap_flags                   uint64
		Garbage1, Garbage2, Garbage3 uint64
	}{Len: oneMeg, Fd_flags: unix.O_RDWR | unix.O_CLOEXEC, Garbage1: 0xffffffff, Garbage2: 0x88888888, Garbage3: 0x11111111}
	if err := uapi.Ioctl(h.fd, iowr('H', 0, unsafe.Sizeof(newer)), unsafe.Pointer(&newer)); err != nil {
		t.Errorf("newer, %d-byte struct: %v", unsafe.Sizeof(newer), err)
	} else {
		unix.Close(int(newer.Fd))
	}
}

// The selftest's test_alloc_errors.
func TestHeapAllocErrors(t *testing.T) {
	h := systemHeap(t)
	mem := memfdBuf(t, 4096)
	notHeap := &HeapFile{fd: mem.Fd(), name: "memfd", path: "memfd"}
	_, err := notHeap.AllocFlags(oneMeg, unix.O_RDWR|unix.O_CLOEXEC, 0x111111)
	wantErr(t, err, unix.ENOTTY)
	_, err = h.AllocFlags(oneMeg, unix.O_RDWR|unix.O_CLOEXEC, 0x111111)
	wantErr(t, err, unix.EINVAL)
	_, err = h.AllocFlags(oneMeg, ^uint32(unix.O_RDWR|unix.O_CLOEXEC), 0)
	wantErr(t, err, unix.EINVAL)
	t.Log(err)
}

func TestHeapStrategies(t *testing.T) {
	h := systemHeap(t)
	const n = 4
	for _, c := range []struct {
		s    Strategy
		want Stats
	}{
		{Cached, Stats{Brackets: n, Syncs: 2 * n, Maps: 1}},
		{PerAccess, Stats{Brackets: n, Syncs: 2 * n, Maps: n, Unmaps: n}},
		{NoSync, Stats{Brackets: n, Maps: 1}},
		{Shadow, Stats{Brackets: n, Syncs: 2 + 2*n, Maps: 1, BytesCopied: n * 64, BytesLoaded: oneMeg}},
		{Guarded, Stats{Brackets: n, Syncs: 2 * n, Maps: 1, Protects: 1 + 2*n}},
	} {
		t.Run(c.s.String(), func(t *testing.T) {
			b := heapBuf(t, h, oneMeg)
			m := mustMap(t, b, c.s)
			brackets(t, m, n)
			c.want.SyncSupported = true
			if got := m.Stats(); got != c.want {
				t.Errorf("stats %+v, want %+v", got, c.want)
			}
			got := contents(t, b)
			for i := range n {
				equalBytes(t, fmt.Sprintf("bracket %d", i), got[i*100:i*100+64], pattern(64, byte(i)))
			}
			if c.s == PerAccess {
				return
			}
			allocs := testing.AllocsPerRun(50, func() {
				mem, err := m.Begin(Write)
				if err != nil {
					panic(err)
				}
				mem[0] = 1
				m.Damage(Region{Len: 1})
				if err := m.End(); err != nil {
					panic(err)
				}
			})
			if allocs != 0 {
				t.Errorf("a bracket with real syncs allocates %.1f times", allocs)
			}
		})
	}
	t.Run("guarded mprotect fails at Begin", func(t *testing.T) {
		b := heapBuf(t, h, 4096)
		m := mustMap(t, b, Guarded)
		restore := fault(t, call("mprotect"), unix.ENOMEM)
		_, err := m.Begin(Write)
		restore()
		wantErr(t, err, unix.ENOMEM)
		if st := m.Stats(); st.Syncs != 2 || st.Brackets != 0 || m.InBracket() {
			t.Errorf("the START was not undone: %+v", st)
		}
	})
	t.Run("sync fails at Begin", func(t *testing.T) {
		b := heapBuf(t, h, 4096)
		m := mustMap(t, b, Cached)
		restore := fault(t, ioctl(uapi.DMA_BUF_IOCTL_SYNC), unix.EIO)
		_, err := m.Begin(Write)
		restore()
		wantErr(t, err, unix.EIO)
		wantErr(t, m.End(), ErrNoBracket)
		if _, err := m.Begin(Write); err != nil {
			t.Fatal(err)
		}
		if err := m.End(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("replace heap with memfd", func(t *testing.T) {
		b := heapBuf(t, h, 4096)
		m := mustMap(t, b, Cached)
		brackets(t, m, 1)
		if err := m.Replace(memfdBuf(t, 4096)); err != nil {
			t.Fatal(err)
		}
		brackets(t, m, 1)
		if st := m.Stats(); st.Syncs != 2 || st.SyncSupported {
			t.Errorf("after replacing with a memfd: %+v", st)
		}
	})
}

func TestSetName(t *testing.T) {
	h := systemHeap(t)
	b := heapBuf(t, h, 4096)
	if err := SetName(b, "bootsplash-test"); err != nil {
		t.Fatal(err)
	}
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", b.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), "name:\tbootsplash-test") {
		t.Errorf("fdinfo does not show the name:\n%s", info)
	}
}

func TestUdmabuf(t *testing.T) {
	testutil.NeedPath(t, "/dev/udmabuf")
	b, err := AllocUdmabuf(oneMeg + 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Kind() != KindUdmabuf || !b.IsDmaBuf() || b.Origin() != "udmabuf" || b.Size() != oneMeg+os.Getpagesize() || b.BackingFd() < 0 {
		t.Fatalf("udmabuf: %v kind %v backing %d", b, b.Kind(), b.BackingFd())
	}
	seals, err := unix.FcntlInt(uintptr(b.BackingFd()), unix.F_GET_SEALS, 0)
	if err != nil || seals&unix.F_SEAL_SHRINK == 0 {
		t.Errorf("memfd seals %#x, %v: want F_SEAL_SHRINK", seals, err)
	}
	m := mustMap(t, b, Cached)
	want := pattern(b.Size(), 3)
	mem, err := m.Begin(Write)
	if err != nil {
		t.Fatal(err)
	}
	copy(mem, want)
	if err := m.End(); err != nil {
		t.Fatal(err)
	}
	peek(t, b.BackingFd(), b.Size(), func(back []byte) {
		equalBytes(t, "the memfd behind the udmabuf", back, want)
		back[12345] = 0x77 // and the other way round
	})
	mem, _ = m.Begin(Read)
	if mem[12345] != 0x77 {
		t.Errorf("a write through the memfd reads back as %#x", mem[12345])
	}
	m.End()
	if st := m.Stats(); st.Syncs != 4 || !st.SyncSupported {
		t.Errorf("stats %+v, want 4 syncs", st)
	}
	if err := SetName(b, "bootsplash-udmabuf"); err != nil {
		t.Error(err)
	}
	t.Run("vgem import", func(t *testing.T) {
		primeImport(t, openVgem(t), b)
	})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if b.Fd() != -1 || b.BackingFd() != -1 {
		t.Error("fds still set after Close")
	}
}

// openVgem opens the vgem DRM device (the importer the selftest uses), closed
// when the test ends.
func openVgem(t testing.TB) int {
	t.Helper()
	cards, _ := filepath.Glob("/dev/dri/card*")
	renders, _ := filepath.Glob("/dev/dri/renderD*")
	var seen []string
	for _, path := range append(renders, cards...) {
		fd, err := uapi.Open(path, unix.O_RDWR, 0)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		name, err := drmDriverName(fd)
		if err == nil && name == "vgem" {
			t.Cleanup(func() { unix.Close(fd) })
			return fd
		}
		unix.Close(fd)
		seen = append(seen, fmt.Sprintf("%s: %q %v", path, name, err))
	}
	testutil.Unavailable(t, "no vgem DRM node (modprobe vgem); saw %q", seen)
	return -1
}

// drmDriverName asks DRM_IOCTL_VERSION for the driver's name.
func drmDriverName(fd int) (string, error) {
	const n = 64 // untyped: Name_len is a size_t, 32 or 64 bits
	name := make([]byte, n)
	v := uapi.DrmVersion{Name_len: n}
	// char * is *int8 on amd64 and 386, *uint8 on arm, arm64 and riscv64.
	*(*unsafe.Pointer)(unsafe.Pointer(&v.Name)) = unsafe.Pointer(&name[0])
	err := uapi.Ioctl(fd, uapi.DRM_IOCTL_VERSION, unsafe.Pointer(&v))
	runtime.KeepAlive(name)
	if err != nil {
		return "", err
	}
	return string(name[:min(int(v.Name_len), len(name))]), nil
}

// primeImport imports b into the DRM device and closes the GEM handle when
// the test ends.
func primeImport(t testing.TB, drm int, b *Buffer) uint32 {
	t.Helper()
	p := uapi.DrmPrimeHandle{Fd: int32(b.Fd())}
	if err := uapi.Ioctl(drm, uapi.DRM_IOCTL_PRIME_FD_TO_HANDLE, unsafe.Pointer(&p)); err != nil {
		t.Fatalf("PRIME_FD_TO_HANDLE of %v: %v", b, err)
	}
	t.Cleanup(func() {
		c := uapi.DrmGemClose{Handle: p.Handle}
		if err := uapi.Ioctl(drm, uapi.DRM_IOCTL_GEM_CLOSE, unsafe.Pointer(&c)); err != nil {
			t.Errorf("GEM_CLOSE %d: %v", p.Handle, err)
		}
	})
	return p.Handle
}
