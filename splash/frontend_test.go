package splash

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/psplash"
)

// TestRunSecondDaemonFails: a daemon started on the front ends of a
// running one cannot open any of them; it says why, on one line, and
// ends with an error instead of running on where nothing can reach it
// (it used to warn and keep running). The first one keeps serving.
func TestRunSecondDaemonFails(t *testing.T) {
	dir := t.TempDir()
	cc := ControlConfig{
		Native: true, Socket: filepath.Join(dir, "run", "control"),
		Psplash: true, PsplashDir: dir,
		Plymouth: true, PlymouthName: fmt.Sprintf("/bootsplash-test/%s/%d", t.Name(), os.Getpid()),
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		first <- Run(ctx, Config{Backend: BackendEmu, EmuSize: image.Pt(160, 120), Out: filepath.Join(dir, "first.png"), Control: cc})
	}()
	defer func() {
		cancel()
		if err := <-first; err != nil {
			t.Errorf("first Run: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cl, err := control.Dial(ctx, cc.Socket)
		if err == nil {
			cl.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first daemon never listened: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	for _, tc := range []struct {
		name string
		cc   ControlConfig
		want []error
	}{
		{"all three", cc, []error{control.ErrRunning, psplash.ErrInUse, syscall.EADDRINUSE}},
		{"the socket", ControlConfig{Native: true, Socket: cc.Socket}, []error{control.ErrRunning}},
		{"the FIFO", ControlConfig{Psplash: true, PsplashDir: dir}, []error{psplash.ErrInUse}},
		{"plymouth", ControlConfig{Plymouth: true, PlymouthName: cc.PlymouthName}, []error{syscall.EADDRINUSE}},
	} {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		err := Run(sctx, Config{Backend: BackendEmu, EmuSize: image.Pt(160, 120), Out: filepath.Join(dir, "second.png"), Control: tc.cc})
		timedOut := sctx.Err() != nil
		scancel()
		if err == nil || timedOut {
			t.Errorf("%s: second Run: %v after %v, want an error at once", tc.name, err, time.Since(start))
			continue
		}
		t.Logf("%s: %v", tc.name, err)
		for _, w := range tc.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: %v does not match %v", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the error takes more than one line: %q", tc.name, err)
		}
	}
	// The first daemon still answers on all three.
	cl, err := control.Dial(ctx, cc.Socket)
	if err != nil {
		t.Fatalf("the first daemon after the second: %v", err)
	}
	defer cl.Close()
	if err := cl.Do(ctx, control.Command{Kind: control.Ping}); err != nil {
		t.Errorf("ping the first daemon: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, psplash.FIFOName)); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("the first daemon's FIFO: %v", err)
	}
}
