package access

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/kerror"
)

// Map gives the CPU a view of b with strategy s: vmap() in the kernel's
// words. All strategies but PerAccess map the whole buffer now and keep the
// mapping until Close; Shadow also allocates its copy and fills it from the
// buffer. On failure nothing stays mapped. The caller keeps owning b.
func Map(b *Buffer, s Strategy) (*Mapping, error) {
	if b == nil {
		return nil, &kerror.Error{Pkg: "access", Op: "map nil buffer", Err: unix.EINVAL}
	}
	m := &Mapping{buf: b, strategy: s}
	m.stats.SyncSupported = b.IsDmaBuf()
	if !s.valid() {
		return nil, m.fail("map", fmt.Errorf("%w: unknown strategy %d", unix.EINVAL, int(s)))
	}
	if err := m.usable(b); err != nil {
		return nil, m.fail("map", err)
	}
	if s == PerAccess {
		return m, nil
	}
	mem, shadow, err := m.setup(b, nil)
	if err != nil {
		return nil, m.fail("map", err)
	}
	m.mem, m.shadow = mem, shadow
	return m, nil
}

// usable checks that b can be mapped.
func (m *Mapping) usable(b *Buffer) error {
	if b == nil {
		return fmt.Errorf("%w: nil buffer", unix.EINVAL)
	}
	if b.isClosed() {
		return ErrClosed
	}
	if b.size <= 0 {
		return fmt.Errorf("%w: buffer of %d bytes", unix.EINVAL, b.size)
	}
	return nil
}

// setup maps b for a strategy that keeps its mapping, and prepares it: a
// Guarded mapping is protected, Shadow's copy (reused if it is shadow and of
// the right size) is loaded from the buffer. On failure nothing stays mapped.
func (m *Mapping) setup(b *Buffer, shadow []byte) (mem, sh []byte, err error) {
	mem, err = m.mmap(b)
	if err != nil {
		return nil, nil, err
	}
	switch m.strategy {
	case Guarded:
		err = m.protect(mem, unix.PROT_NONE)
	case Shadow:
		if len(shadow) != b.size {
			shadow = make([]byte, b.size)
		}
		err = m.load(b, mem, shadow)
	}
	if err != nil {
		m.munmap(mem)
		return nil, nil, err
	}
	return mem, shadow, nil
}

// load copies the buffer into Shadow's copy inside a read bracket.
func (m *Mapping) load(b *Buffer, mem, shadow []byte) error {
	if err := m.syncBuf(b, uapi.DMA_BUF_SYNC_START|uapi.DMA_BUF_SYNC_READ); err != nil {
		return err
	}
	m.stats.BytesLoaded += uint64(copy(shadow, mem))
	return m.syncBuf(b, uapi.DMA_BUF_SYNC_END|uapi.DMA_BUF_SYNC_READ)
}

// Begin opens a bracket (begin_access): it returns the bytes to draw into,
// valid until End, after making the buffer coherent for the CPU as the
// strategy does. It fails inside a bracket (ErrInBracket) and after Close
// (ErrUnmapped); a failed Begin leaves the mapping outside any bracket.
func (m *Mapping) Begin(mode Direction) ([]byte, error) {
	switch {
	case m.unmapped:
		return nil, m.bracketFail("begin", mode, ErrUnmapped)
	case m.active:
		return nil, m.bracketFail("begin", mode, ErrInBracket)
	case !mode.valid():
		return nil, m.bracketFail("begin", mode, unix.EINVAL)
	}
	var out []byte
	switch m.strategy {
	case Cached:
		if err := m.sync(uapi.DMA_BUF_SYNC_START | uint64(mode)); err != nil {
			return nil, m.bracketFail("begin", mode, err)
		}
		out = m.mem
	case NoSync:
		out = m.mem
	case PerAccess:
		if m.mem != nil {
			// An End whose munmap failed left this behind.
			if err := m.munmap(m.mem); err != nil {
				return nil, m.bracketFail("begin", mode, err)
			}
			m.mem = nil
		}
		if err := m.usable(m.buf); err != nil {
			return nil, m.bracketFail("begin", mode, err)
		}
		mem, err := m.mmap(m.buf)
		if err != nil {
			return nil, m.bracketFail("begin", mode, err)
		}
		if err := m.sync(uapi.DMA_BUF_SYNC_START | uint64(mode)); err != nil {
			m.munmap(mem)
			return nil, m.bracketFail("begin", mode, err)
		}
		m.mem, out = mem, mem
	case Shadow:
		out = m.shadow
	case Guarded:
		if err := m.sync(uapi.DMA_BUF_SYNC_START | uint64(mode)); err != nil {
			return nil, m.bracketFail("begin", mode, err)
		}
		prot := unix.PROT_READ
		if mode&Write != 0 {
			prot |= unix.PROT_WRITE
		}
		if err := m.protect(m.mem, prot); err != nil {
			m.sync(uapi.DMA_BUF_SYNC_END | uint64(mode))
			return nil, m.bracketFail("begin", mode, err)
		}
		out = m.mem
	}
	m.active, m.mode = true, mode
	m.damage.reset()
	m.stats.Brackets++
	return out, nil
}

// End closes the bracket (end_access): after it the slice from Begin is dead.
// Shadow writes the damaged regions back here. It fails outside a bracket
// (ErrNoBracket). Even when a sync or unmap fails the bracket is over, so the
// error only reports what went wrong.
func (m *Mapping) End() error {
	if !m.active {
		return m.bracketFail("end", 0, ErrNoBracket)
	}
	mode := m.mode
	m.active = false
	var err error
	switch m.strategy {
	case Cached:
		err = m.sync(uapi.DMA_BUF_SYNC_END | uint64(mode))
	case PerAccess:
		err = m.sync(uapi.DMA_BUF_SYNC_END | uint64(mode))
		if uerr := m.munmap(m.mem); uerr != nil {
			if err == nil {
				err = uerr
			}
		} else {
			m.mem = nil
		}
	case Shadow:
		if !m.damage.empty() {
			if err = m.sync(uapi.DMA_BUF_SYNC_START | uapi.DMA_BUF_SYNC_WRITE); err == nil {
				m.stats.BytesCopied += uint64(m.damage.copyDamage(m.mem, m.shadow))
				err = m.sync(uapi.DMA_BUF_SYNC_END | uapi.DMA_BUF_SYNC_WRITE)
			}
		}
	case Guarded:
		perr := m.protect(m.mem, unix.PROT_NONE)
		err = m.sync(uapi.DMA_BUF_SYNC_END | uint64(mode))
		if err == nil {
			err = perr
		}
	}
	m.damage.reset()
	if err != nil {
		return m.bracketFail("end", mode, err)
	}
	return nil
}

// Replace points the mapping at b between brackets: the old buffer is
// unmapped (not closed: the caller owns buffers) and Generation goes up, so
// the next Begin returns b's memory. Shadow reloads its copy from b. On
// failure the mapping still covers the old buffer.
func (m *Mapping) Replace(b *Buffer) error {
	fail := func(err error) error {
		origin := "nil buffer"
		if b != nil {
			origin = b.Origin()
		}
		return &kerror.Error{Pkg: "access", Op: fmt.Sprintf("replace %s mapping of %s with", m.strategy, m.buf.origin), Device: origin, Err: err}
	}
	switch {
	case m.unmapped:
		return fail(ErrUnmapped)
	case m.active:
		return fail(ErrInBracket)
	}
	if err := m.usable(b); err != nil {
		return fail(err)
	}
	if m.strategy != PerAccess {
		mem, shadow, err := m.setup(b, m.shadow)
		if err != nil {
			return fail(err)
		}
		if err := m.munmap(m.mem); err != nil {
			m.munmap(mem)
			return fail(err)
		}
		m.mem, m.shadow = mem, shadow
	}
	m.buf = b
	m.stats.SyncSupported = b.IsDmaBuf()
	m.gen++
	return nil
}

// Close removes the mapping (vunmap_cached) and drops Shadow's copy. It fails
// inside a bracket (ErrInBracket); later calls return nil. If munmap itself
// fails the mapping stays and Close may be tried again.
func (m *Mapping) Close() error {
	if m.unmapped {
		return nil
	}
	if m.active {
		return m.fail("unmap", ErrInBracket)
	}
	if m.mem != nil {
		if err := m.munmap(m.mem); err != nil {
			return m.fail("unmap", err)
		}
	}
	m.mem, m.shadow, m.unmapped = nil, nil, true
	return nil
}

// sync issues DMA_BUF_IOCTL_SYNC with flags on the mapped buffer, if it is a
// dma-buf.
func (m *Mapping) sync(flags uint64) error { return m.syncBuf(m.buf, flags) }

func (m *Mapping) syncBuf(b *Buffer, flags uint64) error {
	if !b.IsDmaBuf() {
		return nil
	}
	fd := b.Fd()
	if fd < 0 {
		return ErrClosed
	}
	m.syncArg.Flags = flags
	if err := uapi.Ioctl(fd, uapi.DMA_BUF_IOCTL_SYNC, unsafe.Pointer(&m.syncArg)); err != nil {
		return fmt.Errorf("DMA_BUF_IOCTL_SYNC %s: %w", syncFlagsString(flags), err)
	}
	m.stats.Syncs++
	return nil
}

func syncFlagsString(flags uint64) string {
	s := "START"
	if flags&uapi.DMA_BUF_SYNC_END != 0 {
		s = "END"
	}
	switch flags & uapi.DMA_BUF_SYNC_RW {
	case uapi.DMA_BUF_SYNC_READ:
		s += "|READ"
	case uapi.DMA_BUF_SYNC_WRITE:
		s += "|WRITE"
	case uapi.DMA_BUF_SYNC_RW:
		s += "|RW"
	}
	return s
}

// mmap maps b whole. A mapping kept until Close (all strategies but
// PerAccess and Guarded) is populated in the same call (MAP_POPULATE):
// the first frame writes every page, and a fresh buffer's pages (a dumb
// buffer's shmem, a CMA heap's) are otherwise faulted in one by one
// from user space, a trap each; on arm64 under TCG that first pass over
// 4 MB took a quarter of a second. Populating writes no pixel: it maps
// the pages the exporter's fault handler would map. PerAccess maps for
// each bracket and Guarded keeps its mapping PROT_NONE outside one:
// both fault as they go, which is what they are there to measure.
func (m *Mapping) mmap(b *Buffer) ([]byte, error) {
	fd := b.Fd()
	if fd < 0 {
		return nil, ErrClosed
	}
	flags := unix.MAP_SHARED
	if m.strategy != PerAccess && m.strategy != Guarded {
		flags |= unix.MAP_POPULATE
	}
	mem, err := uapi.Mmap(fd, b.offset, b.size, unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes at offset %d: %w", b.size, b.offset, err)
	}
	m.stats.Maps++
	return mem, nil
}

func (m *Mapping) munmap(mem []byte) error {
	if err := uapi.Munmap(mem); err != nil {
		return fmt.Errorf("munmap: %w", err)
	}
	m.stats.Unmaps++
	return nil
}

func (m *Mapping) protect(mem []byte, prot int) error {
	if err := uapi.Mprotect(mem, prot); err != nil {
		return fmt.Errorf("mprotect %s: %w", protString(prot), err)
	}
	m.stats.Protects++
	return nil
}

func protString(prot int) string {
	switch prot {
	case unix.PROT_NONE:
		return "PROT_NONE"
	case unix.PROT_READ:
		return "PROT_READ"
	case unix.PROT_READ | unix.PROT_WRITE:
		return "PROT_READ|PROT_WRITE"
	}
	return fmt.Sprintf("%#x", prot)
}

// fail wraps err for a mapping-wide operation.
func (m *Mapping) fail(op string, err error) error {
	return &kerror.Error{Pkg: "access", Op: fmt.Sprintf("%s %d bytes (%s) of", op, m.buf.size, m.strategy), Device: m.buf.origin, Err: err}
}

// bracketFail wraps err for Begin and End.
func (m *Mapping) bracketFail(op string, mode Direction, err error) error {
	detail := fmt.Sprintf("(%s) of", m.strategy)
	if mode != 0 {
		detail = fmt.Sprintf("%s access (%s) to", mode, m.strategy)
	}
	return &kerror.Error{Pkg: "access", Op: op + " " + detail, Device: m.buf.origin, Err: err}
}
