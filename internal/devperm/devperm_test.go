package devperm

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// node makes a file with mode and describes it.
func node(t *testing.T, mode fs.FileMode) Node {
	t.Helper()
	path := filepath.Join(t.TempDir(), "card0")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not masked by the umask
		t.Fatal(err)
	}
	return Stat(path)
}

func TestStat(t *testing.T) {
	n := node(t, 0o640)
	if n.Err != nil {
		t.Fatal(n.Err)
	}
	if got := n.LsMode(); got != "-rw-r-----" {
		t.Errorf("LsMode = %q, want -rw-r-----", got)
	}
	if n.UID != uint32(os.Getuid()) || n.GID != uint32(os.Getgid()) {
		t.Errorf("owner %d:%d, want %d:%d", n.UID, n.GID, os.Getuid(), os.Getgid())
	}
	if !strings.HasPrefix(n.String(), "-rw-r----- ") || !strings.Contains(n.String(), ":") {
		t.Errorf("String = %q", n)
	}
	gone := Stat(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(gone.Err, fs.ErrNotExist) || !strings.HasPrefix(gone.String(), "unknown mode and owner (") {
		t.Errorf("a missing node: %q, %v", gone, gone.Err)
	}
}

func TestLsMode(t *testing.T) {
	for _, tc := range []struct {
		n    Node
		want string
	}{
		{Node{Mode: fs.ModeDevice | fs.ModeCharDevice | 0o600}, "crw-------"},
		{Node{Mode: fs.ModeDevice | fs.ModeCharDevice | 0o660, ACL: true}, "crw-rw----+"},
		{Node{Mode: fs.ModeDevice | 0o644}, "brw-r--r--"},
		{Node{Mode: fs.ModeDir | 0o700}, "drwx------"},
		{Node{Mode: fs.ModeNamedPipe | 0o600}, "prw-------"},
		{Node{Mode: fs.ModeSocket | 0o600}, "srw-------"},
	} {
		if got := tc.n.LsMode(); got != tc.want {
			t.Errorf("LsMode of %v = %q, want %q", tc.n.Mode, got, tc.want)
		}
	}
}

func TestOwnerNames(t *testing.T) {
	// uid and gid 0 are root with or without a user database; a number
	// nobody has stays a number.
	n := Node{UID: 0, GID: 0}
	if got := n.Owner(); got != "root:root" {
		t.Errorf("Owner of 0:0 = %q", got)
	}
	n = Node{UID: 3999999, GID: 3999998}
	if got := n.Owner(); got != "3999999:3999998" {
		t.Errorf("Owner of unknown ids = %q", got)
	}
}

func TestExplain(t *testing.T) {
	card := Node{Path: "/dev/dri/card0", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o660, UID: 0, GID: 3999998}
	who := Cred{UID: 1000, GID: 1000, Groups: []uint32{1000, 24}}
	need := Need{Access: ReadWrite, For: "showing a splash", Why: "mode setting is only on the primary node", Seat: true,
		Rule: `SUBSYSTEM=="drm", KERNEL=="card[0-9]*", GROUP="video", MODE="0660"`}
	got := explain(card, who, need)
	want := `the node is crw-rw---- root:3999998 and this process runs as uid 1000 gid 1000 (groups 24); ` +
		`showing a splash needs read-write access to /dev/dri/card0 (mode setting is only on the primary node); ` +
		`to get it, run as root, add the user to group 3999998, ` +
		`log in on the seat, where logind grants the session's user an ACL (udev TAG+="uaccess"), ` +
		`or add a udev rule such as SUBSYSTEM=="drm", KERNEL=="card[0-9]*", GROUP="video", MODE="0660"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// A node only root may use: joining its group would not help, so
	// that is not suggested.
	heap := Node{Path: "/dev/dma_heap/system", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o600}
	got = explain(heap, Cred{UID: 65534, GID: 65534}, Need{Access: Read, For: "allocating a dma-buf", Rule: "R"})
	want = `the node is crw------- root:root and this process runs as uid 65534 gid 65534; ` +
		`allocating a dma-buf needs read access to /dev/dma_heap/system; to get it, run as root, or add a udev rule such as R`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// A group that may read but not write does not give read-write.
	ro := Node{Path: "/dev/x", Mode: fs.ModeCharDevice | fs.ModeDevice | 0o640, GID: 44}
	if got := explain(ro, who, Need{Access: ReadWrite}); strings.Contains(got, "add the user to group") {
		t.Errorf("suggests a group that cannot write: %s", got)
	}
	if got := explain(ro, who, Need{Access: Read}); !strings.Contains(got, "add the user to group") {
		t.Errorf("does not suggest the group that may read: %s", got)
	}
	if got := explain(heap, Cred{}, Need{Access: Read, Rule: "R"}); !strings.HasSuffix(got, "root was refused, so a security module (SELinux, AppArmor) or a user namespace without the capability denied it") ||
		strings.Contains(got, "run as root") {
		t.Errorf("a refusal of root: %s", got)
	}
	gone := Node{Path: "/dev/udmabuf", Err: fs.ErrNotExist}
	if got := explain(gone, who, Need{Access: ReadWrite}); !strings.HasPrefix(got, "the node's mode and owner are unknown (file does not exist) and this process runs as uid 1000") {
		t.Errorf("a node that cannot be stat'ed: %s", got)
	}
}

func TestExplainStatsTheNode(t *testing.T) {
	n := node(t, 0o604)
	got := Explain(n.Path, Need{Access: Read, For: "reading"})
	for _, want := range []string{"-rw----r-- ", n.Path, "reading needs read access", "runs as uid "} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	n := node(t, 0o600)
	if err := Check(n.Path, ReadWrite); err != nil {
		t.Errorf("Check of our own 0600 file: %v", err)
	}
	if err := Check(filepath.Join(t.TempDir(), "nope"), Read); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check of a missing node: %v", err)
	}
	if os.Geteuid() != 0 {
		os.Chmod(n.Path, 0o400)
		if err := Check(n.Path, ReadWrite); !Denied(err) {
			t.Errorf("Check read-write of a 0400 file: %v, want EACCES", err)
		}
	}
}

func TestDenied(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{syscall.EACCES, true},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EPERM}, true},
		{syscall.ENOENT, false},
		{nil, false},
	} {
		if got := Denied(tc.err); got != tc.want {
			t.Errorf("Denied(%v) = %v", tc.err, got)
		}
	}
}
