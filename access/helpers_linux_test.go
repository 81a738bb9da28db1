package access

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/kerror"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

// memfdBuf allocates a memfd Buffer that is closed when the test ends.
func memfdBuf(t testing.TB, size int) *Buffer {
	t.Helper()
	b, err := AllocMemfd(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// mustMap maps b and unmaps it when the test ends.
func mustMap(t testing.TB, b *Buffer, s Strategy) *Mapping {
	t.Helper()
	m, err := Map(b, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if m.InBracket() {
			m.End()
		}
		if err := m.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return m
}

// peek maps fd independently of the package and calls f with the bytes.
func peek(t testing.TB, fd int, size int, f func(mem []byte)) {
	t.Helper()
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatalf("independent mmap: %v", err)
	}
	defer unix.Munmap(mem)
	f(mem)
}

// fill sets every byte of the buffer to v through an independent mapping.
func fill(t testing.TB, b *Buffer, v byte) {
	t.Helper()
	peek(t, b.Fd(), b.Size(), func(mem []byte) {
		for i := range mem {
			mem[i] = v
		}
	})
}

// contents returns a copy of the buffer read through an independent mapping.
func contents(t testing.TB, b *Buffer) []byte {
	t.Helper()
	var out []byte
	peek(t, b.Fd(), b.Size(), func(mem []byte) { out = slices.Clone(mem) })
	return out
}

// fault installs a hook that fails the calls match picks with err, until the
// test ends or the returned function is called.
func fault(t testing.TB, match func(uapi.Site) bool, err error) (restore func()) {
	t.Helper()
	restore = uapi.SetFaultHook(func(s uapi.Site) error {
		if match(s) {
			return err
		}
		return nil
	})
	t.Cleanup(restore)
	return restore
}

func call(name string) func(uapi.Site) bool {
	return func(s uapi.Site) bool { return s.Call == name }
}

func ioctl(req uint) func(uapi.Site) bool {
	return func(s uapi.Site) bool { return s.Call == "ioctl" && s.Req == req }
}

// wantErr fails unless err wraps target.
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one wrapping %v", err, target)
	}
	var e *kerror.Error
	if !errors.As(err, &e) || e.Pkg != "access" {
		t.Fatalf("error %v (%T) is not a *kerror.Error of package access", err, err)
	}
}

// objectsUnchanged fails if the process's kernel objects differ from before.
func objectsUnchanged(t testing.TB, before []string) {
	t.Helper()
	if after := testutil.Objects(); !slices.Equal(before, after) {
		t.Errorf("kernel objects changed:\nbefore %q\nafter  %q", before, after)
	}
}

// pattern returns n bytes of a recognisable pattern.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = seed + byte(i*7)
	}
	return p
}

func equalBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: differs first at byte %d (len %d vs %d)", what, i, len(got), len(want))
	}
}
