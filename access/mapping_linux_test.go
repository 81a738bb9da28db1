package access

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

func TestBracketStateMachine(t *testing.T) {
	for _, s := range Strategies() {
		t.Run(s.String(), func(t *testing.T) {
			b := memfdBuf(t, 4*4096)
			m := mustMap(t, b, s)
			if m.Strategy() != s || m.Buffer() != b || m.Generation() != 0 {
				t.Fatalf("fresh mapping: strategy %v buffer %p generation %d", m.Strategy(), m.Buffer(), m.Generation())
			}
			wantErr(t, m.End(), ErrNoBracket)

			mem, err := m.Begin(Write)
			if err != nil {
				t.Fatal(err)
			}
			if len(mem) != b.Size() {
				t.Fatalf("Begin returned %d bytes, want %d", len(mem), b.Size())
			}
			if !m.InBracket() {
				t.Fatal("InBracket false after Begin")
			}
			_, err = m.Begin(Write)
			wantErr(t, err, ErrInBracket)
			_, err = m.Begin(Read)
			wantErr(t, err, ErrInBracket)
			wantErr(t, m.Close(), ErrInBracket)
			other := memfdBuf(t, 8*4096)
			wantErr(t, m.Replace(other), ErrInBracket)
			if !m.InBracket() {
				t.Fatal("a refused call ended the bracket")
			}
			if err := m.End(); err != nil {
				t.Fatal(err)
			}
			wantErr(t, m.End(), ErrNoBracket)

			// Replace between brackets: new memory, new contents.
			fill(t, other, 0xab)
			if err := m.Replace(other); err != nil {
				t.Fatal(err)
			}
			if m.Generation() != 1 || m.Buffer() != other {
				t.Fatalf("after Replace: generation %d, buffer %v", m.Generation(), m.Buffer())
			}
			mem, err = m.Begin(Read)
			if err != nil {
				t.Fatal(err)
			}
			if len(mem) != other.Size() || mem[0] != 0xab || mem[len(mem)-1] != 0xab {
				t.Fatalf("Begin after Replace: %d bytes starting %#x, want %d of 0xab", len(mem), mem[0], other.Size())
			}
			if err := m.End(); err != nil {
				t.Fatal(err)
			}

			_, err = m.Begin(ReadWrite + 1)
			wantErr(t, err, unix.EINVAL)
			if m.InBracket() {
				t.Fatal("a bad mode opened a bracket")
			}

			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			_, err = m.Begin(Write)
			wantErr(t, err, ErrUnmapped)
			wantErr(t, m.Replace(b), ErrUnmapped)
			wantErr(t, m.End(), ErrNoBracket)
		})
	}
}

func TestMapRefuses(t *testing.T) {
	b := memfdBuf(t, 4096)
	_, err := Map(b, Strategy(42))
	wantErr(t, err, unix.EINVAL)
	_, err = Map(nil, Cached)
	wantErr(t, err, unix.EINVAL)
	closed, err := AllocMemfd(4096)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	_, err = Map(closed, Cached)
	wantErr(t, err, ErrClosed)
	wantErr(t, err, os.ErrClosed)
	m := mustMap(t, b, Cached)
	wantErr(t, m.Replace(closed), ErrClosed)
	wantErr(t, m.Replace(nil), unix.EINVAL)
	if m.Generation() != 0 || m.Buffer() != b {
		t.Fatal("a refused Replace changed the mapping")
	}
}

// brackets runs n write brackets, each writing and damaging 64 bytes.
func brackets(t testing.TB, m *Mapping, n int) {
	t.Helper()
	for i := range n {
		mem, err := m.Begin(Write)
		if err != nil {
			t.Fatal(err)
		}
		off := i * 100
		copy(mem[off:off+64], pattern(64, byte(i)))
		m.Damage(Region{Off: off, Len: 64})
		if err := m.End(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatsPerStrategy(t *testing.T) {
	const n = 5
	const size = 16 * 4096
	for _, c := range []struct {
		s       Strategy
		want    Stats // after n brackets
		unmapAt Stats // what Close adds
	}{
		{Cached, Stats{Brackets: n, Maps: 1}, Stats{Unmaps: 1}},
		{PerAccess, Stats{Brackets: n, Maps: n, Unmaps: n}, Stats{}},
		{NoSync, Stats{Brackets: n, Maps: 1}, Stats{Unmaps: 1}},
		{Shadow, Stats{Brackets: n, Maps: 1, BytesCopied: n * 64, BytesLoaded: size}, Stats{Unmaps: 1}},
		{Guarded, Stats{Brackets: n, Maps: 1, Protects: 1 + 2*n}, Stats{Unmaps: 1}},
	} {
		t.Run(c.s.String(), func(t *testing.T) {
			b := memfdBuf(t, size)
			m := mustMap(t, b, c.s)
			brackets(t, m, n)
			if got := m.Stats(); got != c.want {
				t.Errorf("after %d brackets: %+v, want %+v", n, got, c.want)
			}
			// Every strategy but Shadow writes straight through; all of
			// them must have put the damaged bytes into the buffer.
			got := contents(t, b)
			for i := range n {
				equalBytes(t, fmt.Sprintf("bracket %d's bytes", i), got[i*100:i*100+64], pattern(64, byte(i)))
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.Unmaps += c.unmapAt.Unmaps
			if got := m.Stats(); got != want {
				t.Errorf("after Close: %+v, want %+v", got, want)
			}
		})
	}
}

func TestShadowCopiesOnlyDamage(t *testing.T) {
	const stride, rows = 256, 64
	b := memfdBuf(t, stride*rows)
	fill(t, b, 0x11)
	m := mustMap(t, b, Shadow)
	if got := m.Stats().BytesLoaded; got != stride*rows {
		t.Fatalf("BytesLoaded %d, want %d", got, stride*rows)
	}

	mem, err := m.Begin(Write)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range mem {
		if v != 0x11 {
			t.Fatalf("shadow byte %d is %#x, want the buffer's 0x11", i, v)
		}
		mem[i] = 0x22 // write everywhere, damage only some of it
	}
	damaged := []Region{
		{Off: 10*stride + 16, Len: 32, Stride: stride, Rows: 5},
		{Off: 1000, Len: 7},
		{Off: stride*rows - 3, Len: 10}, // runs off the end: clipped
	}
	for _, r := range damaged {
		m.Damage(r)
	}
	if err := m.End(); err != nil {
		t.Fatal(err)
	}
	wantCopied := uint64(5*32 + 7 + 3)
	if got := m.Stats().BytesCopied; got != wantCopied {
		t.Errorf("BytesCopied %d, want %d", got, wantCopied)
	}
	isDamaged := func(i int) bool {
		for _, r := range damaged {
			r = normalize(r)
			for row := 0; row < r.Rows; row++ {
				if lo := r.Off + row*r.Stride; i >= lo && i < lo+r.Len {
					return true
				}
			}
		}
		return false
	}
	got := contents(t, b)
	for i, v := range got {
		want := byte(0x11)
		if isDamaged(i) {
			want = 0x22
		}
		if v != want {
			t.Fatalf("buffer byte %d (row %d col %d) is %#x, want %#x", i, i/stride, i%stride, v, want)
		}
	}

	// No damage: no copy, the buffer stays as it was.
	mem, _ = m.Begin(Write)
	mem[0] = 0x33
	m.End()
	if got := m.Stats().BytesCopied; got != wantCopied {
		t.Errorf("an undamaged bracket copied: BytesCopied %d, want %d", got, wantCopied)
	}
	if v := contents(t, b)[0]; v != 0x11 {
		t.Errorf("an undamaged write reached the buffer: %#x", v)
	}

	// Damage outside a bracket is ignored.
	m.Damage(Region{Off: 0, Len: 1})
	mem, _ = m.Begin(Write)
	m.End()
	if got := m.Stats().BytesCopied; got != wantCopied {
		t.Errorf("damage outside a bracket was kept: BytesCopied %d", got)
	}

	// DamageAll copies everything, the pending 0x33 too.
	mem, _ = m.Begin(Write)
	m.DamageAll()
	m.End()
	if got := m.Stats().BytesCopied; got != wantCopied+stride*rows {
		t.Errorf("DamageAll: BytesCopied %d, want %d", got, wantCopied+stride*rows)
	}
	if v := contents(t, b)[0]; v != 0x33 {
		t.Errorf("DamageAll left byte 0 at %#x", v)
	}
}

func TestShadowReplaceReloads(t *testing.T) {
	a, b := memfdBuf(t, 8192), memfdBuf(t, 4096)
	fill(t, b, 0x5a)
	m := mustMap(t, a, Shadow)
	if err := m.Replace(b); err != nil {
		t.Fatal(err)
	}
	mem, _ := m.Begin(ReadWrite)
	defer m.End()
	if len(mem) != 4096 || mem[4095] != 0x5a {
		t.Fatalf("shadow after Replace: %d bytes, last %#x", len(mem), mem[len(mem)-1])
	}
	if got := m.Stats().BytesLoaded; got != 8192+4096 {
		t.Errorf("BytesLoaded %d, want %d", got, 8192+4096)
	}
}

// catchFault runs f with faults turned into panics and returns the faulting
// address, if f faulted.
func catchFault(f func()) (addr uintptr, faulted bool) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			addr, faulted = e.Addr(), true
		}
	}()
	f()
	return 0, false
}

func TestGuardedFaultsOutsideBrackets(t *testing.T) {
	b := memfdBuf(t, 3*4096)
	m := mustMap(t, b, Guarded)
	mem, err := m.Begin(Write)
	if err != nil {
		t.Fatal(err)
	}
	if _, faulted := catchFault(func() { mem[5000] = 1 }); faulted {
		t.Fatal("a write inside a write bracket faulted")
	}
	m.End()

	addr, faulted := catchFault(func() { mem[5000] = 2 })
	if !faulted {
		t.Fatal("a stray write after End did not fault")
	}
	if !m.Contains(addr) {
		t.Errorf("fault at %#x is not inside %s", addr, m.Describe())
	}
	d := m.Describe()
	for _, want := range []string{"memfd", "guarded", "12288 bytes", "0x"} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, missing %q", d, want)
		}
	}
	t.Logf("caught the stray write at %#x in %s", addr, d)
	if _, faulted := catchFault(func() { sink += mem[0] }); !faulted {
		t.Error("a stray read after End did not fault")
	}

	mem, _ = m.Begin(Read)
	if _, faulted := catchFault(func() { sink += mem[0] }); faulted {
		t.Error("a read inside a read bracket faulted")
	}
	if _, faulted := catchFault(func() { mem[0] = 3 }); !faulted {
		t.Error("a write inside a read bracket did not fault")
	}
	m.End()
	if v := contents(t, b)[5000]; v != 1 {
		t.Errorf("byte 5000 is %d, want the bracketed write's 1", v)
	}
}

func TestCachedDoesNotGuard(t *testing.T) {
	// The contrast the study draws: Cached leaves the slice writable after
	// End, so a stray write lands in the buffer unnoticed.
	b := memfdBuf(t, 4096)
	m := mustMap(t, b, Cached)
	mem, _ := m.Begin(Write)
	m.End()
	if _, faulted := catchFault(func() { mem[0] = 9 }); faulted {
		t.Fatal("a Cached mapping faulted outside a bracket")
	}
	if contents(t, b)[0] != 9 {
		t.Fatal("the stray write did not land")
	}
}

func TestBracketsDoNotAllocate(t *testing.T) {
	for _, s := range []Strategy{Cached, NoSync, Shadow, Guarded} {
		t.Run(s.String(), func(t *testing.T) {
			b := memfdBuf(t, 64*4096)
			m := mustMap(t, b, s)
			allocs := testing.AllocsPerRun(100, func() {
				mem, err := m.Begin(Write)
				if err != nil {
					panic(err)
				}
				mem[100] = 1
				for i := range 20 { // more than the list holds: merging must not allocate either
					m.Damage(Region{Off: i * 256, Len: 64, Stride: 1024, Rows: 2})
				}
				if err := m.End(); err != nil {
					panic(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Begin/Damage/End allocate %.1f times per bracket", allocs)
			}
		})
	}
}

func TestMapFailsCleanly(t *testing.T) {
	injected := errors.New("injected mmap failure")
	for _, s := range []Strategy{Cached, NoSync, Shadow, Guarded} {
		t.Run(s.String()+"/mmap", func(t *testing.T) {
			b := memfdBuf(t, 4096)
			before := testutil.Objects()
			restore := fault(t, call("mmap"), injected)
			_, err := Map(b, s)
			restore()
			wantErr(t, err, injected)
			if !strings.Contains(err.Error(), "mmap") || !strings.Contains(err.Error(), "memfd") {
				t.Errorf("error %q does not say what failed on what", err)
			}
			objectsUnchanged(t, before)
		})
	}
	t.Run("guarded/mprotect", func(t *testing.T) {
		b := memfdBuf(t, 4096)
		before := testutil.Objects()
		restore := fault(t, call("mprotect"), unix.ENOMEM)
		_, err := Map(b, Guarded)
		restore()
		wantErr(t, err, unix.ENOMEM)
		objectsUnchanged(t, before)
	})
	t.Run("per-access/mmap at Begin", func(t *testing.T) {
		b := memfdBuf(t, 4096)
		m := mustMap(t, b, PerAccess)
		restore := fault(t, call("mmap"), unix.ENOMEM)
		_, err := m.Begin(Write)
		restore()
		wantErr(t, err, unix.ENOMEM)
		wantErr(t, m.End(), ErrNoBracket)
		if _, err := m.Begin(Write); err != nil {
			t.Fatalf("Begin after the fault cleared: %v", err)
		}
		m.End()
	})
	t.Run("alloc memfd", func(t *testing.T) {
		before := testutil.Objects()
		restore := fault(t, call("memfd_create"), unix.EMFILE)
		_, err := AllocMemfd(4096)
		restore()
		wantErr(t, err, unix.EMFILE)
		objectsUnchanged(t, before)
	})
	t.Run("replace keeps the old buffer", func(t *testing.T) {
		a, b := memfdBuf(t, 4096), memfdBuf(t, 4096)
		fill(t, a, 7)
		m := mustMap(t, a, Cached)
		restore := fault(t, call("mmap"), unix.ENOMEM)
		err := m.Replace(b)
		restore()
		wantErr(t, err, unix.ENOMEM)
		mem, _ := m.Begin(Read)
		defer m.End()
		if m.Buffer() != a || m.Generation() != 0 || mem[0] != 7 {
			t.Fatal("a failed Replace changed the mapping")
		}
	})
}

func TestUnmapRetriesAfterMunmapFails(t *testing.T) {
	b := memfdBuf(t, 4096)
	m, err := Map(b, Cached)
	if err != nil {
		t.Fatal(err)
	}
	restore := fault(t, call("munmap"), unix.EINVAL)
	wantErr(t, m.Close(), unix.EINVAL)
	restore()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.Unmaps != 1 {
		t.Errorf("Unmaps %d, want 1", s.Unmaps)
	}
}

// fakeDmaBuf wraps a memfd as if it were a dma-buf, so that the SYNC path
// runs: the real kernel answers ENOTTY, the fault hook whatever it likes.
func fakeDmaBuf(t testing.TB, size int) *Buffer {
	mem := memfdBuf(t, size)
	return NewExternal(mem.Fd(), 0, size, KindHeap, `heap "fake"`, nil)
}

func TestSyncFailureAtBeginLeavesNoBracket(t *testing.T) {
	for _, s := range []Strategy{Cached, PerAccess, Guarded} {
		t.Run(s.String(), func(t *testing.T) {
			b := fakeDmaBuf(t, 4096)
			m := mustMap(t, b, s)
			if !m.Stats().SyncSupported {
				t.Fatal("SyncSupported false for a dma-buf kind")
			}
			before := testutil.Objects()
			restore := fault(t, ioctl(uapi.DMA_BUF_IOCTL_SYNC), unix.EIO)
			_, err := m.Begin(Write)
			restore()
			wantErr(t, err, unix.EIO)
			if !strings.Contains(err.Error(), "DMA_BUF_IOCTL_SYNC START|WRITE") {
				t.Errorf("error %q does not name the ioctl", err)
			}
			wantErr(t, m.End(), ErrNoBracket)
			objectsUnchanged(t, before) // PerAccess unmapped what it mapped
			if st := m.Stats(); st.Brackets != 0 || st.Syncs != 0 {
				t.Errorf("a failed Begin counted: %+v", st)
			}
			// And what the kernel says about a memfd: not a dma-buf.
			_, err = m.Begin(Read)
			wantErr(t, err, unix.ENOTTY)
			if m.InBracket() {
				t.Fatal("a failed Begin opened a bracket")
			}
		})
	}
}

func TestNoSyncOnPlainMemory(t *testing.T) {
	// Shadow on a memfd: no syncs, at Map or End; the counts still run.
	b := memfdBuf(t, 4096)
	restore := fault(t, ioctl(uapi.DMA_BUF_IOCTL_SYNC), unix.EIO) // any sync would fail
	defer restore()
	for _, s := range Strategies() {
		m, err := Map(b, s)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		brackets(t, m, 3)
		if st := m.Stats(); st.Syncs != 0 || st.SyncSupported || st.Brackets != 3 {
			t.Errorf("%v: %+v", s, st)
		}
		m.Close()
	}
}

func TestBufferClose(t *testing.T) {
	b, err := AllocMemfd(4096)
	if err != nil {
		t.Fatal(err)
	}
	if b.Kind() != KindMemfd || b.Origin() != "memfd" || b.IsDmaBuf() || b.Offset() != 0 || b.Size() != 4096 || b.Fd() < 0 || b.BackingFd() != -1 {
		t.Fatalf("memfd buffer: %v kind %v dmabuf %v offset %d size %d backing %d", b, b.Kind(), b.IsDmaBuf(), b.Offset(), b.Size(), b.BackingFd())
	}
	m := mustMap(t, b, Cached)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if b.Fd() != -1 {
		t.Errorf("Fd after Close is %d", b.Fd())
	}
	// The mapping outlives the fd.
	mem, err := m.Begin(Write)
	if err != nil {
		t.Fatal(err)
	}
	mem[0] = 1
	m.End()
}

func TestExternalRelease(t *testing.T) {
	owner := memfdBuf(t, 8192)
	released := 0
	b := NewExternal(owner.Fd(), 4096, 4096, KindDumb, "dumb (test)", func() error {
		released++
		return errors.New("release failed")
	})
	if b.IsDmaBuf() || b.Kind() != KindDumb || b.Origin() != "dumb (test)" || b.Offset() != 4096 {
		t.Fatalf("external: %v", b)
	}
	fill(t, owner, 0)
	m := mustMap(t, b, Shadow)
	mem, _ := m.Begin(Write)
	mem[0] = 0xee
	m.Damage(Region{Len: 1})
	m.End()
	if got := contents(t, owner)[4096]; got != 0xee {
		t.Errorf("write at offset 0 of the external mapping landed as %#x at 4096", got)
	}
	if err := b.Close(); err == nil || !strings.Contains(err.Error(), "release failed") {
		t.Errorf("Close: %v, want the release error", err)
	}
	b.Close()
	if released != 1 {
		t.Errorf("release called %d times", released)
	}
	// The fd was borrowed: still open.
	if _, err := unix.FcntlInt(uintptr(owner.Fd()), unix.F_GETFD, 0); err != nil {
		t.Errorf("Close closed the borrowed fd: %v", err)
	}
}

// sink keeps reads that tests make to provoke faults from being optimised away.
var sink byte
