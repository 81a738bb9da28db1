package client

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/testutil/unpriv"
	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/kerror"
)

// wantAll fails unless msg contains every one of wants.
func wantAll(t *testing.T, what, msg string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("%s %q lacks %q", what, msg, w)
		}
	}
}

func TestOpenPermissionMessage(t *testing.T) {
	// As root the kernel never refuses: inject the refusal.
	restore := uapi.SetFaultHook(func(s uapi.Site) error {
		if s.Call == "open" && s.Path == "/dev/dri/card7" {
			return unix.EACCES
		}
		return nil
	})
	defer restore()
	_, err := Open("/dev/dri/card7", Options{})
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Open: %v, want an error matching fs.ErrPermission", err)
	}
	if errors.Is(err, ErrNotSupported) {
		t.Errorf("a refused node matches ErrNotSupported: %v", err)
	}
	wantAll(t, "error", err.Error(),
		"open /dev/dri/card7: permission denied (",
		"runs as uid ",
		"showing a splash needs read-write access to /dev/dri/card7",
		"mode setting, planes and DRM master are only on the primary node",
		"render node")
	if os.Geteuid() == 0 {
		// Root refused: no advice on modes (TestUnprivileged reads it).
		wantAll(t, "error", err.Error(), "root was refused")
		return
	}
	wantAll(t, "error", err.Error(),
		"run as root",
		`TAG+="uaccess"`,
		`SUBSYSTEM=="drm", KERNEL=="card[0-9]*", GROUP="video", MODE="0660"`)
}

func TestOpenAllErrorMatchesEach(t *testing.T) {
	refused := &kerror.Error{Op: "open", Device: "/dev/dri/card0", Err: unix.EACCES}
	render := &kerror.Error{Op: "list KMS resources of", Device: "/dev/dri/card1 (vgem)", Err: unix.EOPNOTSUPP, Kind: ErrNotSupported}
	err := error(&openAllError{msg: "open DRM device: ...", errs: []error{refused, render}})
	if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, ErrNotSupported) {
		t.Errorf("errors.Is does not see each node's error: permission %v, not supported %v",
			errors.Is(err, fs.ErrPermission), errors.Is(err, ErrNotSupported))
	}
	var e *kerror.Error
	if !errors.As(err, &e) || e != refused {
		t.Errorf("errors.As finds %v, want the first node's error", e)
	}
}

// TestUnprivileged runs as nobody (uid 65534) what `bootsplash run` does,
// against the guest's nodes, which devtmpfs makes 0600 root:root: opening
// the card is refused with an error that says why, and a scanout on a card
// node nobody may open (a copy of card0's node the test gives to nobody)
// falls back past the refused heap and udmabuf to a dumb buffer.
func TestUnprivileged(t *testing.T) {
	const card = "/dev/dri/card0"
	if unpriv.Child() {
		unprivilegedChild(t, card, os.Getenv("BOOTSPLASH_TEST_CARD_COPY"))
		return
	}
	testutil.NeedPath(t, card)
	// The copy lives in a directory nobody may enter.
	dir, err := os.MkdirTemp("", "perm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(card, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o077 != 0 {
		t.Fatalf("%s is mode %#o: others may use it, so nothing is refused", card, st.Mode&0o7777)
	}
	copyPath := filepath.Join(dir, "card0")
	if err := unix.Mknod(copyPath, unix.S_IFCHR|0o600, int(st.Rdev)); err != nil {
		t.Fatalf("mknod a copy of %s: %v", card, err)
	}
	if err := os.Chown(copyPath, unpriv.UID, unpriv.GID); err != nil {
		t.Fatal(err)
	}
	out := unpriv.Run(t, func(c *exec.Cmd) { c.Env = append(c.Env, "BOOTSPLASH_TEST_CARD_COPY="+copyPath) })
	t.Logf("as uid %d:\n%s", unpriv.UID, out)
}

func unprivilegedChild(t *testing.T, card, copyPath string) {
	if os.Geteuid() != unpriv.UID {
		t.Fatalf("the child runs as uid %d", os.Geteuid())
	}
	_, err := Open(card, Options{})
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Open(%q) as uid %d: %v, want a permission error", card, unpriv.UID, err)
	}
	t.Logf("Open(%q): %v", card, err)
	wantAll(t, "error", err.Error(),
		"open "+card+": permission denied (the node is crw------- root:root and this process runs as uid 65534 gid 65534; ",
		"showing a splash needs read-write access to "+card,
		`TAG+="uaccess"`, `KERNEL=="card[0-9]*"`)
	if !strings.Contains(err.Error(), "not on render nodes (/dev/dri/renderD*)") && !strings.Contains(err.Error(), "not on its render node /dev/dri/renderD") {
		t.Errorf("error %q does not say the render node will not do", err)
	}

	if cerr := CheckAccess(card); !errors.Is(cerr, fs.ErrPermission) || cerr.Error() != err.Error() {
		t.Errorf("CheckAccess(%q) = %v, want the error Open gave", card, cerr)
	}

	// The first card that does modesetting: each card's refusal is kept.
	_, err = Open("", Options{})
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), card+": permission denied") {
		t.Errorf(`Open(""): %v, want a permission error naming %s`, err, card)
	}

	// A card node this user may open: the scanout falls back past the
	// refused heap and udmabuf nodes to a dumb buffer.
	if err := CheckAccess(copyPath); err != nil {
		t.Errorf("CheckAccess of a node owned by uid %d: %v", unpriv.UID, err)
	}
	dev, err := Open(copyPath, Options{})
	if err != nil {
		t.Fatalf("Open of a node owned by uid %d: %v", unpriv.UID, err)
	}
	defer dev.Close()
	s, err := NewScanout(dev, 64, 64, FormatXRGB8888, ScanoutOptions{Source: SourceAuto})
	if err != nil {
		t.Fatalf("NewScanout: %v", err)
	}
	defer s.Close()
	for _, f := range s.Fallbacks {
		t.Logf("fallback: %s", f)
	}
	if s.Source != SourceDumb || len(s.Fallbacks) != 2 {
		t.Fatalf("scanout from %v after %d fallbacks (%q), want a dumb buffer after the heap and udmabuf", s.Source, len(s.Fallbacks), s.Fallbacks)
	}
	wantAll(t, "heap fallback", s.Fallbacks[0],
		`heap "system": access: open heap "system" (/dev/dma_heap/system): permission denied: the node is crw------- root:root`,
		"allocating a buffer needs read access to /dev/dma_heap/system",
		`SUBSYSTEM=="dma_heap", KERNEL=="system"`)
	wantAll(t, "udmabuf fallback", s.Fallbacks[1],
		"udmabuf: access: alloc 16384 bytes as udmabuf: open /dev/udmabuf: permission denied: the node is crw------- root:root",
		"creating a udmabuf needs read-write access to /dev/udmabuf",
		`KERNEL=="udmabuf"`)
}
