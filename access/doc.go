// Package access mirrors the kernel's dma-buf CPU-access model from user
// space: where a dma-buf comes from, and how the CPU may touch it.
//
// # Where memory comes from
//
// A Buffer is one piece of CPU-mappable memory:
//
//   - a dma-buf from a DMA-BUF heap (/dev/dma_heap/system, a CMA heap):
//     OpenHeap, HeapFile.Alloc. Heaps are how a process gets
//     scanout-capable memory without opening a DRM primary node (the 2023
//     "vc4: introduce DMA-BUF heap" thread). Heaps lists them with their
//     type (HeapType: system, CMA, other) and OrderHeaps orders them for a
//     device that needs contiguous memory or not.
//   - a dma-buf made from a sealed memfd by /dev/udmabuf: AllocUdmabuf.
//   - a plain memfd, which is not a dma-buf: AllocMemfd. The emulated
//     display draws into these; they cannot be synced or imported.
//   - memory owned elsewhere, such as a DRM dumb buffer that package client
//     maps through its DRM fd: NewExternal.
//
// # CPU access
//
// The 2018 "drm: Begin an API for in-kernel clients" thread proposed a cached
// kernel mapping with explicit access brackets: vmap() keeps the mapping,
// begin_access() and end_access() bracket each CPU access, vunmap_cached()
// drops it. This package has the same shape: Map, Mapping.Begin,
// Mapping.End, Mapping.Close. On a dma-buf Begin and End issue
// DMA_BUF_IOCTL_SYNC with DMA_BUF_SYNC_START and DMA_BUF_SYNC_END, which
// is what makes CPU access correct on non-coherent hardware (the 2013
// "dma-buf non-coherent mmap" thread). On memory that is not a dma-buf the
// syncs are skipped but the brackets still count and are still enforced.
//
// The bracket rules:
//
//   - Touch the memory only between Begin and End, through the slice Begin
//     returned. That slice is dead after End (a Guarded mapping makes it
//     fault).
//   - Brackets do not nest: Begin inside a bracket fails with ErrInBracket,
//     End outside one with ErrNoBracket.
//   - Say what you wrote with Damage (or DamageAll) before End. Only Shadow
//     needs it, but every caller should: it is what a later strategy switch
//     relies on.
//   - Replace and Close work only between brackets. Replace points the
//     mapping at another buffer and bumps Generation; the next Begin returns
//     the new memory.
//   - The caller owns Buffers: a Mapping's Close and Replace never close one.
//
// How a Mapping maps and syncs is its Strategy, so that the costs the thread
// argued about can be measured behind one API: Cached (map once, one sync per
// Begin and End), PerAccess (map and unmap at every bracket), NoSync (never
// sync), Shadow (draw into RAM, write back only the damage) and Guarded
// (Cached, with the mapping PROT_NONE outside brackets). Stats counts what
// each did; BenchmarkBracket and BenchmarkBracketHeap compare them.
//
// Buffer, HeapFile and Mapping each own one kernel object (a dma-buf or
// memfd fd, a heap node's fd, an mmap) and release it with Close, which
// does nothing when called again. A failing operation returns a
// *kerror.Error ("access: alloc 8294400 bytes from heap "system"
// (/dev/dma_heap/system): cannot allocate memory"), through which
// errors.Is sees the errno and this package's sentinels.
//
// A Mapping is for one goroutine at a time. The kernel calls go through
// internal/uapi, whose fault hook the tests use to make them fail; only
// UDMABUF_CREATE (whose result is an ioctl return value that uapi.Ioctl
// drops), ftruncate, fcntl and close are made directly.
//
// # Example
//
//	heap, err := access.OpenHeap("") // "system", or a CMA heap
//	if err != nil {
//		return err
//	}
//	defer heap.Close()
//	buf, err := heap.Alloc(1920 * 1080 * 4)
//	if err != nil {
//		return err
//	}
//	defer buf.Close()
//	m, err := access.Map(buf, access.Cached)
//	if err != nil {
//		return err
//	}
//	defer m.Close()
//	px, err := m.Begin(access.Write) // DMA_BUF_IOCTL_SYNC START|WRITE
//	if err != nil {
//		return err
//	}
//	clear(px)
//	m.DamageAll()
//	return m.End() // DMA_BUF_IOCTL_SYNC END|WRITE
package access
