package splash

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/testutil/unpriv"
)

// TestRunUnprivileged is `bootsplash run` by a user who may not open the
// card (devtmpfs makes it 0600 root:root): Run fails at once with an error
// that names the node and the access needed, and leaves nothing behind (no
// kernel objects: TestMain checks; no goroutines).
func TestRunUnprivileged(t *testing.T) {
	if !unpriv.Child() {
		testutil.NeedPath(t, "/dev/dri/card0")
		t.Logf("as uid %d:\n%s", unpriv.UID, unpriv.Run(t, nil))
		return
	}
	if os.Geteuid() != unpriv.UID {
		t.Fatalf("the child runs as uid %d", os.Geteuid())
	}
	before := runtime.NumGoroutine()
	var log testutil.SyncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := Run(ctx, Config{Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Run as uid %d: %v, want a permission error; log:\n%s", unpriv.UID, err, log.String())
	}
	t.Logf("bootsplash: %v", err)
	for _, want := range []string{
		"/dev/dri/card0: permission denied (the node is crw------- root:root and this process runs as uid 65534 gid 65534; ",
		"showing a splash needs read-write access to /dev/dri/card0",
		"run as root",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if ctx.Err() != nil {
		t.Errorf("Run took until the context ended")
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d after Run, %d before", n, before)
	}
}
