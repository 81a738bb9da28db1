package access

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/kerror"
)

func TestAllocErrorMessage(t *testing.T) {
	// A HeapFile over a memfd: the fault hook answers the ioctl before the
	// kernel would.
	mem := memfdBuf(t, 4096)
	h := &HeapFile{fd: mem.Fd(), name: "system", path: "/dev/dma_heap/system"}
	fault(t, ioctl(uapi.DMA_HEAP_IOCTL_ALLOC), unix.ENOMEM)
	_, err := h.Alloc(1920 * 1080 * 4)
	wantErr(t, err, unix.ENOMEM)
	const want = `access: alloc 8294400 bytes from heap "system" (/dev/dma_heap/system): cannot allocate memory`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	_, err = h.Alloc(0)
	wantErr(t, err, unix.EINVAL)
}

func TestAllocRoundsToPages(t *testing.T) {
	mem := memfdBuf(t, 4096)
	h := &HeapFile{fd: mem.Fd(), name: "system", path: "/dev/dma_heap/system"}
	var asked []uint
	fault(t, func(s uapi.Site) bool { asked = append(asked, s.Req); return true }, unix.ENOMEM)
	_, err := h.Alloc(4097)
	if !strings.Contains(err.Error(), "alloc 8192 bytes") {
		t.Errorf("4097 bytes were not rounded to 8192: %v", err)
	}
	if len(asked) != 1 || asked[0] != uapi.DMA_HEAP_IOCTL_ALLOC {
		t.Errorf("calls made: %#x", asked)
	}
}

func TestHeapFileClose(t *testing.T) {
	fd, err := unix.MemfdCreate("heapfile-close", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	h := &HeapFile{fd: fd, name: "x", path: "/dev/dma_heap/x"}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = h.Alloc(4096)
	wantErr(t, err, ErrClosed)
}

func TestOpenHeapPermissionMessage(t *testing.T) {
	// As root EACCES cannot be had for real: inject it.
	fault(t, func(s uapi.Site) bool { return s.Call == "open" && s.Path == "/dev/dma_heap/system" }, unix.EACCES)
	_, err := OpenHeap("system")
	wantErr(t, err, fs.ErrPermission)
	msg := err.Error()
	advice := `SUBSYSTEM=="dma_heap", KERNEL=="system"`
	if os.Geteuid() == 0 {
		advice = "root was refused" // TestUnprivileged reads the advice
	}
	for _, want := range []string{`open heap "system"`, "/dev/dma_heap/system", "permission denied", "runs as uid",
		"needs read access", advice} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if _, serr := os.Stat("/dev/dma_heap/system"); serr == nil && !strings.Contains(msg, "the node is c") {
		t.Errorf("the node exists but the message %q does not show its mode", msg)
	}
	t.Log(msg)
}

func TestOpenHeapMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := openHeapAt(filepath.Join(dir, "nope"), "system")
	wantErr(t, err, ErrNoHeaps)
	wantErr(t, err, os.ErrNotExist)
	if !strings.Contains(err.Error(), "CONFIG_DMABUF_HEAPS") {
		t.Errorf("message %q does not name the kernel option", err)
	}
	os.WriteFile(filepath.Join(dir, "system"), nil, 0o600)
	_, err = openHeapAt(dir, "linux,cma")
	wantErr(t, err, ErrNoHeaps)
	if !strings.Contains(err.Error(), "heaps here: system") {
		t.Errorf("message %q does not list the heaps there are", err)
	}
	for _, bad := range []string{"..", "a/b", "."} {
		_, err := openHeapAt(dir, bad)
		wantErr(t, err, fs.ErrInvalid)
	}
}

func TestListHeaps(t *testing.T) {
	_, err := listHeaps(filepath.Join(t.TempDir(), "dma_heap"), "")
	wantErr(t, err, ErrNoHeaps)
	wantErr(t, err, os.ErrNotExist)
	if !strings.Contains(err.Error(), "CONFIG_DMABUF_HEAPS") {
		t.Errorf("message %q does not name the kernel option", err)
	}
	dir := t.TempDir()
	_, err = listHeaps(dir, "")
	wantErr(t, err, ErrNoHeaps)
	for _, n := range []string{"system", "linux,cma"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	heaps, err := listHeaps(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(heaps) != 2 || heaps[0].Name != "linux,cma" || heaps[1].Name != "system" ||
		heaps[1].Path != filepath.Join(dir, "system") || heaps[1].Mode.Perm() != 0o600 || heaps[1].UID != uint32(os.Getuid()) {
		t.Errorf("heaps: %+v", heaps)
	}
}

func TestPickDefaultHeap(t *testing.T) {
	heaps := func(names ...string) []Heap {
		var hs []Heap
		for _, n := range names {
			hs = append(hs, Heap{Name: n})
		}
		return hs
	}
	for _, c := range []struct {
		heaps []Heap
		want  string
	}{
		{heaps("linux,cma", "system"), "system"},
		{heaps("default_cma_region", "reserved", "linux,cma"), "linux,cma"},
		{heaps("default_cma_region", "reserved"), "reserved"},
		{heaps("default_cma_region", "system-uncached"), "default_cma_region"},
		{heaps("foo", "vendor_cma_heap"), "vendor_cma_heap"},
	} {
		if got, err := pickDefaultHeap(c.heaps); got != c.want || err != nil {
			t.Errorf("%v: got %q, %v; want %q", c.heaps, got, err, c.want)
		}
	}
	_, err := pickDefaultHeap(heaps("qcom,secure"))
	wantErr(t, err, ErrNoHeaps)
	if !strings.Contains(err.Error(), "qcom,secure") {
		t.Errorf("message %q does not list the heaps", err)
	}
}

func TestUdmabufFailsCleanly(t *testing.T) {
	before := testutil.Objects()
	restore := fault(t, func(s uapi.Site) bool { return s.Call == "open" && s.Path == udmabufPath }, unix.ENOENT)
	_, err := AllocUdmabuf(4096)
	restore()
	wantErr(t, err, ErrNoUdmabuf)
	wantErr(t, err, os.ErrNotExist)
	if !strings.Contains(err.Error(), "CONFIG_UDMABUF") {
		t.Errorf("message %q does not name the kernel option", err)
	}
	objectsUnchanged(t, before) // the memfd was closed

	restore = fault(t, call("memfd_create"), unix.ENFILE)
	_, err = AllocUdmabuf(4096)
	restore()
	wantErr(t, err, unix.ENFILE)
	objectsUnchanged(t, before)
}

func TestSetNameRefusesPlainMemory(t *testing.T) {
	b := memfdBuf(t, 4096)
	wantErr(t, SetName(b, "x"), ErrNotDmaBuf)
	if !errors.Is(SetName(b, "x"), errors.ErrUnsupported) {
		t.Error("ErrNotDmaBuf does not wrap errors.ErrUnsupported")
	}
	fake := fakeDmaBuf(t, 4096)
	wantErr(t, SetName(fake, strings.Repeat("n", 32)), unix.EINVAL)
}

// TestErrorShape checks the messages and the matching of the errors real
// operations return: one *kerror.Error, errno and sentinels seen through it.
func TestErrorShape(t *testing.T) {
	m, err := Map(memfdBuf(t, 4096), Cached)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Begin(Write); err != nil {
		t.Fatal(err)
	}
	_, err = m.Begin(Write)
	wantErr(t, err, ErrInBracket)
	if want := "access: begin write access (cached) to memfd: already inside a Begin/End bracket"; err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	var e *kerror.Error
	if errors.As(err, &e); e.Op != "begin write access (cached) to" || e.Device != "memfd" || e.Errno() != 0 {
		t.Errorf("fields %+v, errno %v", e, e.Errno())
	}
	if err := m.End(); err != nil {
		t.Fatal(err)
	}
	if _, err := Map(nil, Cached); err == nil || err.Error() != "access: map nil buffer: invalid argument" {
		t.Errorf("Map(nil): %v", err)
	} else if errors.As(err, &e); e.Errno() != unix.EINVAL {
		t.Errorf("Map(nil): errno %v, want EINVAL", e.Errno())
	}
}

func TestNames(t *testing.T) {
	for _, s := range Strategies() {
		p, err := ParseStrategy(strings.ToUpper(s.String()))
		if err != nil || p != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s, p, err)
		}
	}
	if got := len(Strategies()); got != 5 {
		t.Errorf("%d strategies", got)
	}
	if _, err := ParseStrategy("lazy"); err == nil || !strings.Contains(err.Error(), "per-access") {
		t.Errorf("ParseStrategy(lazy): %v", err)
	}
	want := map[any]string{
		Cached: "cached", PerAccess: "per-access", NoSync: "nosync", Shadow: "shadow", Guarded: "guarded",
		KindHeap: "heap", KindUdmabuf: "udmabuf", KindMemfd: "memfd", KindDumb: "dumb",
		Read: "read", Write: "write", ReadWrite: "read-write",
		Strategy(9): "Strategy(9)", Kind(0): "Kind(0)", Direction(0): "Direction(0)",
	}
	for v, w := range want {
		if got := v.(interface{ String() string }).String(); got != w {
			t.Errorf("%#v.String() = %q, want %q", v, got, w)
		}
	}
}
