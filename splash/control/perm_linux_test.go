package control

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/testutil/unpriv"
)

// The control socket as another user meets it, with real credentials: a
// copy of the test runs as nobody against sockets this process (root)
// serves.
func TestOtherUser(t *testing.T) {
	if unpriv.Child() {
		otherUserChild(t, os.Getenv("BOOTSPLASH_TEST_SOCKET"), os.Getenv("BOOTSPLASH_TEST_OPEN_SOCKET"), os.Getenv("BOOTSPLASH_TEST_ROOT_DIR"))
		return
	}
	if os.Geteuid() != 0 {
		testutil.Unavailable(t, "serving a socket to uid %d needs root", unpriv.UID)
	}
	top, err := os.MkdirTemp("", "control")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(top)
	if err := os.Chmod(top, 0o755); err != nil { // nobody may pass, not write
		t.Fatal(err)
	}
	// As Listen makes it: a 0600 socket in a 0700 directory.
	d := &fakeDaemon{}
	closed, stopClosed := serveAt(t, filepath.Join(top, "closed", "control"), d)
	defer stopClosed()
	// Opened up on the file system, so only the peer check stands.
	open, stopOpen := serveAt(t, filepath.Join(top, "open", "control"), d)
	defer stopOpen()
	if err := os.Chmod(filepath.Dir(open.Path()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open.Path(), 0o666); err != nil {
		t.Fatal(err)
	}
	out := unpriv.Run(t, func(c *exec.Cmd) {
		c.Env = append(c.Env, "BOOTSPLASH_TEST_SOCKET="+closed.Path(), "BOOTSPLASH_TEST_OPEN_SOCKET="+open.Path(),
			"BOOTSPLASH_TEST_ROOT_DIR="+top)
	})
	t.Logf("as uid %d:\n%s", unpriv.UID, out)
	if got := d.Commands(); len(got) != 0 {
		t.Errorf("uid %d reached the daemon: %v", unpriv.UID, got)
	}
}

// serveAt is serve with the socket at path.
func serveAt(t *testing.T, path string, d *fakeDaemon) (*Server, func()) {
	t.Helper()
	s, err := Listen(path, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	commands := make(chan Command)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, commands) }()
	dctx, dcancel := context.WithCancel(context.Background())
	ddone := make(chan struct{})
	go func() { d.Run(dctx, commands); close(ddone) }()
	return s, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		dcancel()
		<-ddone
		s.Close()
	}
}

func otherUserChild(t *testing.T, closed, open, rootDir string) {
	if os.Geteuid() != unpriv.UID {
		t.Fatalf("the child runs as uid %d", os.Geteuid())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// The file system keeps nobody out of a socket as Listen makes it.
	_, err := Dial(ctx, closed)
	t.Logf("Dial %s: %v", closed, err)
	if !errors.Is(err, fs.ErrPermission) || !strings.HasPrefix(err.Error(), "may not connect to the bootsplash daemon at "+closed+": ") {
		t.Errorf("Dial of a 0600 socket in a 0700 directory: %v, want a permission error", err)
	}

	// Where the file system lets it through, the peer credentials
	// (SO_PEERCRED) do not.
	_, err = Dial(ctx, open)
	t.Logf("Dial %s: %v", open, err)
	if err == nil || !strings.Contains(err.Error(), "permission denied: uid 65534 (pid ") {
		t.Errorf("Dial as a user not allowed: %v, want the daemon's refusal naming uid 65534", err)
	}

	// A directory nobody may create: the error names it and the way out.
	dir := filepath.Join(rootDir, "bootsplash")
	_, err = Listen(filepath.Join(dir, "control"), ServerOptions{})
	t.Logf("Listen: %v", err)
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Listen in a directory of root's: %v, want a permission error", err)
	}
	for _, want := range []string{"create directory " + dir + ": ", "permission denied", "--socket"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Listen error %q lacks %q", err, want)
		}
	}
}

// TestListenRefusesOthersDirectory: a socket directory another user owns
// and others may write to (as /tmp is) is refused, since anyone could
// replace the socket in it.
func TestListenRefusesOthersDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		testutil.Unavailable(t, "giving a directory to uid %d needs root", unpriv.UID)
	}
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, unpriv.UID, unpriv.GID); err != nil {
		t.Fatal(err)
	}
	_, err := Listen(filepath.Join(dir, "control"), ServerOptions{})
	if err == nil || !strings.Contains(err.Error(), "use directory "+dir+": owned by uid 65534, who could replace") {
		t.Errorf("Listen in a world-writable directory of another user: %v", err)
	}
	if _, serr := os.Lstat(filepath.Join(dir, "control")); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("a socket was made there: %v", serr)
	}
}
