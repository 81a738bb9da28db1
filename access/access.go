package access

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/bootsplash/bootsplash/kerror"
)

// Kind says where a Buffer's memory comes from.
type Kind int

// The kinds of memory a Buffer can hold.
const (
	// KindHeap is a dma-buf allocated from a /dev/dma_heap node.
	KindHeap Kind = iota + 1
	// KindUdmabuf is a dma-buf made by /dev/udmabuf over a sealed memfd.
	KindUdmabuf
	// KindMemfd is a plain memfd: CPU memory, not a dma-buf (the emulated
	// display uses it; it cannot be synced or imported).
	KindMemfd
	// KindDumb is a DRM dumb buffer mapped through its DRM fd, owned by
	// package client and wrapped with NewExternal.
	KindDumb
)

// String returns "heap", "udmabuf", "memfd" or "dumb".
func (k Kind) String() string {
	switch k {
	case KindHeap:
		return "heap"
	case KindUdmabuf:
		return "udmabuf"
	case KindMemfd:
		return "memfd"
	case KindDumb:
		return "dumb"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// isDmaBuf reports whether memory of kind k is a dma-buf fd, on which
// DMA_BUF_IOCTL_SYNC works and which DRM may import over PRIME.
func (k Kind) isDmaBuf() bool { return k == KindHeap || k == KindUdmabuf }

// Buffer owns one piece of CPU-mappable memory: a dma-buf fd from a heap or
// udmabuf, a memfd (the emulated display: no SYNC possible), or a mapping
// handle owned elsewhere (a DRM dumb buffer, made by package client through
// NewExternal).
//
// A Buffer outlives its Mappings only as far as the kernel goes: a mapping
// keeps the pages alive after Close, but the caller owns the Buffer and must
// Close it once nothing maps it any more.
type Buffer struct {
	mu      sync.Mutex
	fd      int   // the fd to mmap; -1 once closed
	backing int   // udmabuf: the memfd behind it, else -1
	owned   bool  // Close closes fd (and backing)
	offset  int64 // mmap offset
	size    int
	kind    Kind
	origin  string
	release func() error // external buffers: called once by Close
	closed  bool
}

// Fd returns the fd to mmap (and, for dma-bufs, to import over PRIME), or -1
// after Close.
func (b *Buffer) Fd() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fd
}

// BackingFd returns the memfd behind a udmabuf (the same memory, reachable
// without the dma-buf), or -1 for other kinds and after Close.
func (b *Buffer) BackingFd() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.backing
}

// Offset returns the mmap offset: 0 except for dumb buffers, whose offset is
// the fake offset DRM_IOCTL_MODE_MAP_DUMB returned.
func (b *Buffer) Offset() int64 { return b.offset }

// Size returns the buffer's length in bytes (heap and udmabuf allocations are
// rounded up to the page size).
func (b *Buffer) Size() int { return b.size }

// Kind says where the memory comes from.
func (b *Buffer) Kind() Kind { return b.kind }

// Origin describes the memory for people: `heap "system"`, "udmabuf",
// "memfd", "dumb (cirrus)".
func (b *Buffer) Origin() string { return b.origin }

// IsDmaBuf reports whether the fd is a dma-buf: DMA_BUF_IOCTL_SYNC works on
// it and a DRM driver may import it over PRIME.
func (b *Buffer) IsDmaBuf() bool { return b.kind.isDmaBuf() }

// String describes the buffer: origin, size and fd.
func (b *Buffer) String() string {
	return fmt.Sprintf("%s buffer of %d bytes (fd %d)", b.origin, b.size, b.Fd())
}

// isClosed reports whether Close has run.
func (b *Buffer) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Close releases the buffer: it closes the fds the Buffer owns, or calls the
// release function of an external one, exactly once. Later calls return nil.
// Mappings of the buffer stay valid until they are unmapped.
func (b *Buffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var errs []error
	if b.owned {
		for _, fd := range []int{b.fd, b.backing} {
			if fd >= 0 {
				if err := closeFd(fd); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if b.release != nil {
		if err := b.release(); err != nil {
			errs = append(errs, err)
		}
		b.release = nil
	}
	b.fd, b.backing = -1, -1
	if err := errors.Join(errs...); err != nil {
		return &kerror.Error{Pkg: "access", Op: "close", Device: b.origin, Err: err}
	}
	return nil
}

// NewExternal wraps memory owned elsewhere (a DRM dumb buffer: fd is the DRM
// fd and offset the MAP_DUMB offset) so that it can be mapped like any
// Buffer. The fd is borrowed, never closed; Close calls release (if not nil)
// once. The kind says whether the fd is a dma-buf (KindHeap, KindUdmabuf) or
// not (KindMemfd, KindDumb).
func NewExternal(fd int, offset int64, size int, kind Kind, origin string, release func() error) *Buffer {
	if origin == "" {
		origin = kind.String()
	}
	return &Buffer{fd: fd, backing: -1, offset: offset, size: size, kind: kind, origin: origin, release: release}
}

// Heap is one dma-buf heap node in /dev/dma_heap.
type Heap struct {
	// Name is the heap's name: "system", "linux,cma", ...
	Name string
	// Path is its device node.
	Path string
	// Mode is the node's mode as os.Stat reports it (Mode.Perm() is the
	// permission bits, 0600 by default).
	Mode fs.FileMode
	// UID and GID own the node.
	UID, GID uint32
	// Type is what memory the heap hands out, and TypeWhy how that was
	// told: "a CMA area (/sys/kernel/mm/cma/reserved)".
	Type    HeapType
	TypeWhy string
}

// String is the heap's name and type: `"reserved" (CMA)`.
func (h Heap) String() string { return fmt.Sprintf("%q (%s)", h.Name, h.Type) }

// HeapType is what memory a dma-buf heap hands out: scattered pages (the
// system heaps) or physically contiguous memory (CMA). The kernel does not
// say it; the name and /sys/kernel/mm/cma do.
type HeapType int

// The heap types.
const (
	// HeapOther is a heap named neither "system" nor like a CMA area. On
	// mainline kernels, which have only the system and CMA heaps, that is
	// a CMA or carveout region under its own name; on vendor kernels it
	// may be anything (secure, protected memory).
	HeapOther HeapType = iota
	// HeapSystem is "system": scattered pages, cached.
	HeapSystem
	// HeapSystemUncached is "system-uncached": scattered pages, mapped
	// uncached.
	HeapSystemUncached
	// HeapCMA is a CMA area: physically contiguous memory that any
	// device without an IOMMU can scan out.
	HeapCMA
)

// String returns "system", "system-uncached", "CMA" or "other".
func (t HeapType) String() string {
	switch t {
	case HeapSystem:
		return "system"
	case HeapSystemUncached:
		return "system-uncached"
	case HeapCMA:
		return "CMA"
	}
	return "other"
}

// MarshalText makes a HeapType print as its name in JSON.
func (t HeapType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a name String returns.
func (t *HeapType) UnmarshalText(b []byte) error {
	for _, v := range []HeapType{HeapOther, HeapSystem, HeapSystemUncached, HeapCMA} {
		if string(b) == v.String() {
			*t = v
			return nil
		}
	}
	return fmt.Errorf("unknown heap type %q (want system, system-uncached, CMA or other)", b)
}

// Contiguous reports whether the heap's buffers are physically contiguous
// as far as is known (CMA; a HeapOther heap may be, but is not known to be).
func (t HeapType) Contiguous() bool { return t == HeapCMA }

// Scattered reports whether the heap builds buffers from scattered pages
// (the system heaps): a device without an IOMMU takes such a buffer only
// when its pages happen to be adjacent.
func (t HeapType) Scattered() bool { return t == HeapSystem || t == HeapSystemUncached }

// cmaHeapNames are the names CMA heaps are registered under, in the order
// DefaultHeapName prefers them: the default area named by the device tree
// ("linux,cma"), by cma= on the command line ("reserved"), and the fixed
// name newer kernels give the default area's heap ("default_cma_region").
var cmaHeapNames = [...]string{"linux,cma", "reserved", "default_cma_region"}

// cmaSysfs is where the kernel lists its CMA areas (CONFIG_CMA_SYSFS).
const cmaSysfs = "/sys/kernel/mm/cma"

// heapType tells what the heap called name hands out, and how that was
// told. cmaDir is /sys/kernel/mm/cma (a parameter for tests).
func heapType(name, cmaDir string) (HeapType, string) {
	switch name {
	case "system":
		return HeapSystem, "the system heap: scattered pages"
	case "system-uncached":
		return HeapSystemUncached, "the uncached system heap: scattered pages"
	}
	if cmaDir != "" {
		if fi, err := os.Stat(filepath.Join(cmaDir, name)); err == nil && fi.IsDir() {
			return HeapCMA, "a CMA area (" + filepath.Join(cmaDir, name) + ")"
		}
	}
	for _, n := range cmaHeapNames {
		if name == n {
			return HeapCMA, "a name the kernel gives its default CMA area's heap"
		}
	}
	if strings.Contains(strings.ToLower(name), "cma") {
		return HeapCMA, "named as a CMA heap"
	}
	return HeapOther, "neither system nor a known CMA area: on mainline kernels a CMA or carveout region, elsewhere a vendor heap"
}

// OrderHeaps returns heaps in the order a device should try them. For a
// device that scans out only contiguous memory: CMA heaps, other heaps
// (regions), then the system heaps, which it takes only by luck. For any
// other device: the system heaps, then CMA, then the rest. Within a type,
// the well-known CMA names come first, then by name.
func OrderHeaps(heaps []Heap, contiguous bool) []Heap {
	rank := map[HeapType]int{HeapSystem: 0, HeapSystemUncached: 1, HeapCMA: 2, HeapOther: 3}
	if contiguous {
		rank = map[HeapType]int{HeapCMA: 0, HeapOther: 1, HeapSystem: 2, HeapSystemUncached: 3}
	}
	known := func(name string) int {
		for i, n := range cmaHeapNames {
			if n == name {
				return i
			}
		}
		return len(cmaHeapNames)
	}
	out := append([]Heap(nil), heaps...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if rank[a.Type] != rank[b.Type] {
			return rank[a.Type] < rank[b.Type]
		}
		if ka, kb := known(a.Name), known(b.Name); ka != kb {
			return ka < kb
		}
		return a.Name < b.Name
	})
	return out
}

// pickDefaultHeap chooses the heap DefaultHeapName names: "system", else the
// first CMA heap by its well-known names, else any heap whose name contains
// "cma".
func pickDefaultHeap(heaps []Heap) (string, error) {
	has := func(name string) bool {
		for _, h := range heaps {
			if h.Name == name {
				return true
			}
		}
		return false
	}
	if has("system") {
		return "system", nil
	}
	for _, n := range cmaHeapNames {
		if has(n) {
			return n, nil
		}
	}
	for _, h := range heaps {
		if strings.Contains(h.Name, "cma") {
			return h.Name, nil
		}
	}
	names := make([]string, len(heaps))
	for i, h := range heaps {
		names[i] = h.Name
	}
	return "", &kerror.Error{Pkg: "access", Op: "choose default heap", Path: heapDir,
		Err: fmt.Errorf("%w: no \"system\" or CMA heap among %q; name one explicitly", ErrNoHeaps, names)}
}

// heapDir is where the kernel puts dma-buf heap nodes.
const heapDir = "/dev/dma_heap"

// HeapFile is an open dma-buf heap node, from which buffers are allocated.
type HeapFile struct {
	mu   sync.Mutex
	fd   int
	name string
	path string
}

// Name returns the heap's name.
func (h *HeapFile) Name() string { return h.name }

// origin names the heap the way Buffer.Origin does.
func (h *HeapFile) origin() string { return fmt.Sprintf("heap %q", h.name) }

// Strategy is how a Mapping gives the CPU access to a Buffer: the variants
// the 2018 in-kernel client discussion weighed, behind one API.
type Strategy int

// The access strategies.
const (
	// Cached maps once at Map (vmap kept cached); Begin and End issue
	// exactly one DMA_BUF_IOCTL_SYNC each.
	Cached Strategy = iota
	// PerAccess maps at every Begin and unmaps at every End, syncing in
	// between: the costly pattern the thread warns of.
	PerAccess
	// NoSync maps once and never syncs ("pinned, vmap just works"): wrong on
	// non-coherent hardware, the baseline for the others.
	NoSync
	// Shadow gives the CPU a private RAM copy and writes back only the
	// damaged regions at End, inside one sync pair.
	Shadow
	// Guarded is Cached with the mapping mprotect'ed PROT_NONE outside
	// brackets, so a stray access faults.
	Guarded
)

var strategyNames = [...]string{Cached: "cached", PerAccess: "per-access", NoSync: "nosync", Shadow: "shadow", Guarded: "guarded"}

// String returns "cached", "per-access", "nosync", "shadow" or "guarded".
func (s Strategy) String() string {
	if s >= 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

func (s Strategy) valid() bool { return s >= 0 && int(s) < len(strategyNames) }

// Strategies lists every strategy, in the order of their constants.
func Strategies() []Strategy {
	out := make([]Strategy, len(strategyNames))
	for i := range out {
		out[i] = Strategy(i)
	}
	return out
}

// ParseStrategy returns the strategy String names (case does not matter).
func ParseStrategy(name string) (Strategy, error) {
	for i, n := range strategyNames {
		if strings.EqualFold(name, n) {
			return Strategy(i), nil
		}
	}
	return 0, fmt.Errorf("access: unknown strategy %q (want one of %s)", name, strings.Join(strategyNames[:], ", "))
}

// Direction is what a bracket does with the memory: the direction of the
// kernel's dma_buf_begin_cpu_access() (enum dma_data_direction), sent as the
// DMA_BUF_SYNC_READ and DMA_BUF_SYNC_WRITE flags of its syncs. (Named apart
// from client.Mode, a display timing.)
type Direction int

// The access directions.
const (
	Read      Direction = 1
	Write     Direction = 2
	ReadWrite Direction = 3
)

// String returns "read", "write" or "read-write".
func (m Direction) String() string {
	switch m {
	case Read:
		return "read"
	case Write:
		return "write"
	case ReadWrite:
		return "read-write"
	}
	return fmt.Sprintf("Direction(%d)", int(m))
}

func (m Direction) valid() bool { return m >= Read && m <= ReadWrite }

// Region is damage in bytes: Rows rows of Len bytes, the first at Off, each
// Stride after the previous. Rows of 0 counts as 1 (a linear span), and
// Stride matters only when Rows > 1.
type Region struct{ Off, Len, Stride, Rows int }

// Stats counts what a Mapping did to the kernel and to memory.
type Stats struct {
	// Brackets is the number of Begin calls that opened a bracket.
	Brackets uint64
	// Syncs is the number of DMA_BUF_IOCTL_SYNC calls that succeeded
	// (START and END each count).
	Syncs uint64
	// Maps and Unmaps count mmap and munmap calls.
	Maps, Unmaps uint64
	// Protects counts mprotect calls (Guarded only).
	Protects uint64
	// BytesCopied counts bytes Shadow wrote back from its copy into the
	// buffer at End.
	BytesCopied uint64
	// SyncSupported says whether the buffer is a dma-buf, whose brackets
	// sync; for memfds and dumb buffers Syncs stays 0.
	SyncSupported bool
	// BytesLoaded counts bytes Shadow read from the buffer into its copy
	// (at Map and Replace).
	BytesLoaded uint64
}

// Mapping is the CPU's view of a Buffer: vmap() is Map, begin_access() is
// Begin, end_access() is End, vunmap_cached() is Close. It is not safe for
// concurrent use; one goroutine draws through it at a time.
type Mapping struct {
	buf      *Buffer
	strategy Strategy
	mem      []byte // the mmap of buf; nil outside brackets for PerAccess
	shadow   []byte // Shadow's private copy
	active   bool   // inside a Begin/End bracket
	mode     Direction
	unmapped bool
	gen      uint64
	stats    Stats
	damage   damageList
	syncArg  syncArg // the SYNC ioctl's argument, kept here so brackets do not allocate
}

// Generation counts Replace calls: a slice from a Begin of an older
// generation points at memory the mapping no longer covers.
func (m *Mapping) Generation() uint64 { return m.gen }

// Buffer returns the buffer the mapping covers now.
func (m *Mapping) Buffer() *Buffer { return m.buf }

// Strategy returns how the mapping syncs and maps.
func (m *Mapping) Strategy() Strategy { return m.strategy }

// Stats returns what the mapping has done so far.
func (m *Mapping) Stats() Stats { return m.stats }

// InBracket reports whether a Begin is waiting for its End.
func (m *Mapping) InBracket() bool { return m.active }

// Damage records, inside a bracket, which bytes were written. Shadow copies
// only these back at End; the other strategies ignore them. Outside a bracket
// it does nothing. At most 16 regions are kept; beyond that they merge into
// one bounding region.
func (m *Mapping) Damage(r Region) {
	if m.active {
		m.damage.add(r)
	}
}

// DamageAll records, inside a bracket, that the whole buffer was written.
func (m *Mapping) DamageAll() {
	if m.active {
		m.damage.all = true
	}
}

// Describe names the mapping for a fault diagnostic: its address range,
// size, origin, strategy and generation.
func (m *Mapping) Describe() string {
	where := "not mapped"
	if lo, hi, ok := m.span(); ok {
		where = fmt.Sprintf("%#x-%#x", lo, hi)
	}
	state := ""
	switch {
	case m.unmapped:
		state = ", unmapped"
	case m.active:
		state = ", in a " + m.mode.String() + " bracket"
	}
	return fmt.Sprintf("mapping %s (%d bytes) of %s, %s, generation %d%s",
		where, m.buf.size, m.buf.origin, m.strategy, m.gen, state)
}

// Contains reports whether addr (say, the Addr of a fault recovered with
// debug.SetPanicOnFault) lies inside the buffer's mapping.
func (m *Mapping) Contains(addr uintptr) bool {
	lo, hi, ok := m.span()
	return ok && addr >= lo && addr < hi
}

// span returns the mapped address range of the buffer, if mapped.
func (m *Mapping) span() (lo, hi uintptr, ok bool) {
	if len(m.mem) == 0 {
		return 0, 0, false
	}
	lo = uintptr(unsafe.Pointer(unsafe.SliceData(m.mem)))
	return lo, lo + uintptr(len(m.mem)), true
}

// sentinel is an error value with a message that wraps a standard error.
type sentinel struct {
	msg  string
	wrap error
}

// Error is the sentinel's message.
func (s *sentinel) Error() string { return s.msg }

// Unwrap gives the standard error the sentinel also matches.
func (s *sentinel) Unwrap() error { return s.wrap }

// Errors the package's operations wrap; test for them with errors.Is. Every
// failing operation returns a *kerror.Error with Pkg "access": what was
// tried, on which buffer, the file and the cause (an errno, one of these,
// or both), which errors.Is and errors.As see through.
var (
	// ErrNoHeaps means the kernel offers no usable dma-buf heap. It wraps
	// os.ErrNotExist.
	ErrNoHeaps error = &sentinel{"no dma-buf heaps", os.ErrNotExist}
	// ErrNoUdmabuf means /dev/udmabuf is missing. It wraps os.ErrNotExist.
	ErrNoUdmabuf error = &sentinel{"no /dev/udmabuf", os.ErrNotExist}
	// ErrInBracket means the call needs to be outside a Begin/End bracket.
	ErrInBracket = errors.New("already inside a Begin/End bracket")
	// ErrNoBracket means End was called without a Begin.
	ErrNoBracket = errors.New("not inside a Begin/End bracket")
	// ErrUnmapped means the Mapping was unmapped.
	ErrUnmapped = errors.New("mapping was unmapped")
	// ErrClosed means the Buffer or HeapFile was closed. It wraps
	// os.ErrClosed.
	ErrClosed error = &sentinel{"closed", os.ErrClosed}
	// ErrNotDmaBuf means the operation needs a dma-buf and the buffer is a
	// memfd or a dumb buffer. It wraps errors.ErrUnsupported.
	ErrNotDmaBuf error = &sentinel{"not a dma-buf", errors.ErrUnsupported}
)
