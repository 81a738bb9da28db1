package plymouth

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/testutil/unpriv"
)

// TestOtherUserRefused: an abstract socket has no file mode, so the peer
// credentials (SO_PEERCRED) are all that keeps another user out. A copy of
// the test running as nobody asks to quit and gets one NAK and the end of
// the connection; nothing reaches the daemon.
func TestOtherUserRefused(t *testing.T) {
	if unpriv.Child() {
		c, err := net.Dial("unix", "@"+os.Getenv("BOOTSPLASH_TEST_PLYMOUTH"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("Q\x02\x01\x00"))
		b, err := io.ReadAll(c)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatal(err)
		}
		if !bytes.Equal(b, []byte{nak}) {
			t.Errorf("uid %d read %q, want one NAK and the end", unpriv.UID, b)
		}
		return
	}
	if os.Geteuid() != 0 {
		testutil.Unavailable(t, "connecting as uid %d needs root", unpriv.UID)
	}
	d := &fakeDaemon{}
	s, stop := serve(t, Options{Name: testName(t)}, d) // root and this process's user only
	defer stop()
	t.Logf("as uid %d:\n%s", unpriv.UID, unpriv.Run(t, func(c *exec.Cmd) {
		c.Env = append(c.Env, "BOOTSPLASH_TEST_PLYMOUTH="+s.Name())
	}))
	if got := d.Take(); len(got) != 0 {
		t.Errorf("uid %d reached the daemon: %v", unpriv.UID, got)
	}
}
