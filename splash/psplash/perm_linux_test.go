package psplash

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/testutil/unpriv"
	"github.com/bootsplash/bootsplash/splash/control"
)

// TestOtherUserCannotWrite: the FIFO is 0600, so another user (a copy of
// the test running as nobody) can neither send a command nor take the
// FIFO over, even in a directory it may enter.
func TestOtherUserCannotWrite(t *testing.T) {
	if unpriv.Child() {
		path := os.Getenv("BOOTSPLASH_TEST_FIFO")
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Write(fd, []byte("QUIT\x00"))
			unix.Close(fd)
			t.Fatalf("uid %d opened %s for writing", unpriv.UID, path)
		}
		if !errors.Is(err, unix.EACCES) {
			t.Errorf("psplash-write as uid %d: %v, want EACCES", unpriv.UID, err)
		}
		_, err = Open(Options{Dir: filepath.Dir(path)})
		t.Logf("Open: %v", err)
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Open of root's FIFO as uid %d: %v, want a permission error", unpriv.UID, err)
		}
		return
	}
	if os.Geteuid() != 0 {
		testutil.Unavailable(t, "a FIFO of another user's needs root")
	}
	dir, err := os.MkdirTemp("", "psplash")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	commands := make(chan control.Command, 4)
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, commands) }()
	t.Logf("as uid %d:\n%s", unpriv.UID, unpriv.Run(t, func(c *exec.Cmd) {
		c.Env = append(c.Env, "BOOTSPLASH_TEST_FIFO="+p.Path())
	}))
	select {
	case c := <-commands:
		t.Errorf("a command from uid %d arrived: %+v", unpriv.UID, c)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
