package access

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/testutil/unpriv"
)

// TestUnprivileged opens the guest's heap and udmabuf nodes (0600
// root:root, as devtmpfs makes them) as nobody: each refusal names the node,
// its mode and owner, the access needed and a udev rule, and still matches
// fs.ErrPermission. Plain memory (a memfd) needs no node and still works.
func TestUnprivileged(t *testing.T) {
	if !unpriv.Child() {
		testutil.NeedPath(t, "/dev/dma_heap/system")
		testutil.NeedPath(t, udmabufPath)
		t.Logf("as uid %d:\n%s", unpriv.UID, unpriv.Run(t, nil))
		return
	}
	if os.Geteuid() != unpriv.UID {
		t.Fatalf("the child runs as uid %d", os.Geteuid())
	}
	want := func(what string, err error, wants ...string) {
		t.Helper()
		if !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("%s as uid %d: %v, want a permission error", what, unpriv.UID, err)
		}
		wantErr(t, err, fs.ErrPermission)
		t.Logf("%s: %v", what, err)
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", what, err, w)
			}
		}
	}
	heapMsg := []string{
		`access: open heap "system" (/dev/dma_heap/system): permission denied: ` +
			"the node is crw------- root:root and this process runs as uid 65534 gid 65534; " +
			"allocating a buffer needs read access to /dev/dma_heap/system",
		`add a udev rule such as SUBSYSTEM=="dma_heap", KERNEL=="system", GROUP="video", MODE="0660"`,
	}
	_, err := OpenHeap("system")
	want(`OpenHeap("system")`, err, heapMsg...)
	opened := err
	_, err = OpenHeap("") // the default heap is found (the directory is readable), then refused
	want(`OpenHeap("")`, err, heapMsg...)
	err = CheckHeap("system") // what bootsplash info reports
	want(`CheckHeap("system")`, err, heapMsg...)
	if err.Error() != opened.Error() {
		t.Errorf("CheckHeap and OpenHeap disagree:\n%v\n%v", err, opened)
	}

	_, err = AllocUdmabuf(4096)
	want("AllocUdmabuf", err,
		"access: alloc 4096 bytes as udmabuf: open /dev/udmabuf: permission denied: "+
			"the node is crw------- root:root and this process runs as uid 65534 gid 65534; "+
			"creating a udmabuf needs read-write access to /dev/udmabuf",
		`SUBSYSTEM=="misc", KERNEL=="udmabuf", GROUP="video", MODE="0660"`)

	err = CheckUdmabuf()
	want("CheckUdmabuf", err, "access: open udmabuf (/dev/udmabuf): permission denied: "+
		"the node is crw------- root:root and this process runs as uid 65534 gid 65534; "+
		"creating a udmabuf needs read-write access to /dev/udmabuf")

	b, err := AllocMemfd(4096)
	if err != nil {
		t.Fatalf("AllocMemfd as uid %d: %v", unpriv.UID, err)
	}
	b.Close()
}
