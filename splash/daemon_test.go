package splash

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/plymouth"
	"github.com/bootsplash/bootsplash/splash/psplash"
)

// recordingScreen is a Screen that writes down each call. Show can be held
// (block) until released, to play a slow display.
type recordingScreen struct {
	mu     sync.Mutex
	calls  []string
	shown  []State
	fail   map[string]error
	hold   chan struct{} // when not nil, Show waits for a receive on it
	inShow chan struct{} // Show signals here on entry, if there is room
}

func (r *recordingScreen) record(call string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
	return r.fail[call]
}

func (r *recordingScreen) Show(s State) error {
	select {
	case r.inShow <- struct{}{}:
	default:
	}
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	r.shown = append(r.shown, s)
	r.mu.Unlock()
	return r.record("show")
}
func (r *recordingScreen) Hide() error       { return r.record("hide") }
func (r *recordingScreen) Deactivate() error { return r.record("deactivate") }
func (r *recordingScreen) Reactivate() error { return r.record("reactivate") }

func (r *recordingScreen) log() ([]string, []State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...), append([]State(nil), r.shown...)
}

// startDaemon runs a daemon; the returned func waits for Run to end.
func startDaemon(t *testing.T, cfg DaemonConfig) (*Daemon, context.CancelFunc, func() error) {
	t.Helper()
	d := NewDaemon(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, cancel, func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("daemon Run did not return")
			return nil
		}
	}
}

func send(t *testing.T, d *Daemon, c control.Command) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return control.Send(ctx, d.Commands(), c)
}

func TestDaemonTransitions(t *testing.T) {
	type step struct {
		c       control.Command
		wantErr error // nil: must succeed; errAny: must fail
	}
	errAny := errors.New("any error")
	k := func(kind control.Kind) control.Command { return control.Command{Kind: kind} }
	for _, tc := range []struct {
		name      string
		steps     []step
		wantCalls string
	}{
		{"hide and show", []step{{k(control.Hide), nil}, {k(control.Hide), nil}, {k(control.Show), nil}, {k(control.Show), nil}},
			"hide show"},
		{"reactivate when showing", []step{{k(control.Reactivate), control.ErrNotDeactivated}},
			""},
		{"deactivate, reactivate", []step{{k(control.Deactivate), nil}, {k(control.Deactivate), nil}, {k(control.Reactivate), nil}, {k(control.Reactivate), control.ErrNotDeactivated}},
			"deactivate reactivate show"},
		{"updates while deactivated are drawn on reactivate", []step{{k(control.Deactivate), nil}, {control.Command{Kind: control.Progress, Value: 0.5}, nil}, {k(control.Reactivate), nil}},
			"deactivate reactivate show"},
		{"hide while deactivated resumes hidden", []step{{k(control.Deactivate), nil}, {k(control.Hide), nil}, {k(control.Reactivate), nil}, {k(control.Show), nil}},
			"deactivate reactivate show"},
		{"deactivate from hidden", []step{{k(control.Hide), nil}, {k(control.Deactivate), nil}, {k(control.Reactivate), nil}},
			"hide deactivate reactivate"},
		{"has-active-vt", []step{{k(control.HasActiveVT), nil}, {k(control.Hide), nil}, {k(control.HasActiveVT), control.ErrNotShowing}},
			"hide"},
		{"bad progress", []step{{control.Command{Kind: control.Progress, Value: nanValue()}, errAny}},
			""},
		{"quit retain", []step{{k(control.Ping), nil}, {control.Command{Kind: control.Quit, Retain: true}, nil}},
			""},
		{"quit from deactivated", []step{{k(control.Deactivate), nil}, {k(control.Quit), nil}},
			"deactivate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scr := &recordingScreen{}
			d, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Shown: true})
			defer cancel()
			for i, s := range tc.steps {
				err := send(t, d, s.c)
				switch {
				case s.wantErr == nil && err != nil:
					t.Fatalf("step %d %v: %v", i, s.c, err)
				case s.wantErr == errAny && err == nil:
					t.Fatalf("step %d %v succeeded, want an error", i, s.c)
				case s.wantErr != nil && s.wantErr != errAny && !errors.Is(err, s.wantErr):
					t.Fatalf("step %d %v: %v, want %v", i, s.c, err, s.wantErr)
				}
			}
			last := tc.steps[len(tc.steps)-1].c
			if last.Kind != control.Quit {
				// Ping is answered after everything before it was applied
				// and drawn.
				send(t, d, control.Command{Kind: control.Ping})
				cancel()
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			calls, _ := scr.log()
			if got := strings.Join(calls, " "); got != tc.wantCalls {
				t.Errorf("screen calls %q, want %q", got, tc.wantCalls)
			}
		})
	}
}

func nanValue() float64 {
	var zero float64
	return zero / zero
}

func TestDaemonStateUpdates(t *testing.T) {
	scr := &recordingScreen{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Initial: State{Progress: -1}})
	defer cancel()
	for _, c := range []control.Command{
		{Kind: control.Progress, Value: 0.25},
		{Kind: control.Message, Text: "Checking disks"},
		{Kind: control.Status, Text: "fsck"},
		{Kind: control.HideMessage, Text: "some other message"},
		{Kind: control.SystemUpdate, Value: 2},
	} {
		if err := send(t, d, c); err != nil {
			t.Fatal(err)
		}
		send(t, d, control.Command{Kind: control.Ping}) // wait for the draw
	}
	if err := send(t, d, control.Command{Kind: control.HideMessage, Text: "Checking disks"}); err != nil {
		t.Fatal(err)
	}
	if err := send(t, d, control.Command{Kind: control.Quit}); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	calls, shown := scr.log()
	if len(shown) == 0 || shown[0] != (State{Progress: -1}) {
		t.Fatalf("first frame %v, want the initial state", shown)
	}
	last := shown[len(shown)-1]
	want := State{Progress: 1, Message: "", Status: "fsck"}
	if last != want {
		t.Errorf("last drawn state %+v, want %+v (calls %v)", last, want, calls)
	}
	for _, s := range shown {
		if s.Message != "" && s.Message != "Checking disks" {
			t.Errorf("drew a message never sent: %+v", s)
		}
	}
	if q, r := d.QuitRequested(); !q || r {
		t.Errorf("QuitRequested = %v, %v; want true, false", q, r)
	}
}

func TestDaemonCoalescesUpdates(t *testing.T) {
	scr := &recordingScreen{hold: make(chan struct{}), inShow: make(chan struct{}, 1)}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Shown: true})
	defer cancel()
	// The first update starts a Show that stays blocked while many more
	// arrive, sent the way psplash's FIFO sends them: without waiting for
	// an answer.
	if err := send(t, d, control.Command{Kind: control.Progress, Value: 0}); err != nil {
		t.Fatal(err)
	}
	<-scr.inShow
	const n = 200
	sent := make(chan struct{})
	go func() {
		for i := range n {
			d.Commands() <- control.Command{Kind: control.Progress, Value: float64(i+1) / n}
		}
		close(sent)
	}()
	time.Sleep(20 * time.Millisecond) // let the queue fill
	close(scr.hold)
	<-sent
	send(t, d, control.Command{Kind: control.Message, Text: "done"})
	send(t, d, control.Command{Kind: control.Quit, Retain: true})
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	calls, shown := scr.log()
	if len(shown) >= n/4 {
		t.Errorf("%d updates drawn %d times; want them merged into far fewer frames", n, len(shown))
	}
	// The retained frame is the newest state.
	if got := shown[len(shown)-1]; got.Progress != 1 || got.Message != "done" {
		t.Errorf("last frame %+v, want progress 1 and the last message", got)
	}
	if q, r := d.QuitRequested(); !q || !r || calls[len(calls)-1] != "show" {
		t.Errorf("calls end %v, quit %v retain %v; want the last frame, then quit with retain", calls, q, r)
	}
}

func TestDaemonAnimatesOnlyWhileShowing(t *testing.T) {
	scr := &recordingScreen{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Shown: true, FrameInterval: 2 * time.Millisecond})
	defer cancel()
	time.Sleep(100 * time.Millisecond)
	_, shown := scr.log()
	if len(shown) < 3 {
		t.Fatalf("%d frames in 100ms at 2ms a frame; want the animation running", len(shown))
	}
	for i := 1; i < len(shown); i++ {
		if shown[i].Frame <= shown[i-1].Frame {
			t.Fatalf("frames not advancing: %d then %d", shown[i-1].Frame, shown[i].Frame)
		}
	}
	if err := send(t, d, control.Command{Kind: control.Hide}); err != nil {
		t.Fatal(err)
	}
	_, hidden := scr.log()
	time.Sleep(30 * time.Millisecond)
	if _, after := scr.log(); len(after) != len(hidden) {
		t.Errorf("%d frames drawn while hidden", len(after)-len(hidden))
	}
	send(t, d, control.Command{Kind: control.Show})
	time.Sleep(100 * time.Millisecond)
	if _, again := scr.log(); len(again) < len(hidden)+2 {
		t.Errorf("animation did not resume after show")
	}
	cancel()
	wait()
}

func TestDaemonIdleDrawsNothing(t *testing.T) {
	scr := &recordingScreen{}
	_, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Shown: true})
	time.Sleep(30 * time.Millisecond)
	cancel()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if calls, _ := scr.log(); len(calls) != 0 {
		t.Errorf("idle daemon called the screen: %v", calls)
	}
}

// stubbornFrontend serves until its context ends and counts what it saw.
type stubbornFrontend struct {
	started, stopped chan struct{}
}

func (f *stubbornFrontend) Serve(ctx context.Context, commands chan<- control.Command) error {
	close(f.started)
	<-ctx.Done()
	// A front end still sending while the daemon stops gets an answer.
	err := control.Send(ctx, commands, control.Command{Kind: control.Message, Text: "late"})
	if err == nil {
		return errors.New("late command accepted")
	}
	close(f.stopped)
	return nil
}

func TestDaemonQuitStopsFrontends(t *testing.T) {
	before := runtime.NumGoroutine()
	scr := &recordingScreen{}
	fes := []*stubbornFrontend{{make(chan struct{}), make(chan struct{})}, {make(chan struct{}), make(chan struct{})}}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Shown: true, Frontends: []Frontend{fes[0], fes[1]}})
	defer cancel()
	for _, f := range fes {
		<-f.started
	}
	if err := send(t, d, control.Command{Kind: control.Quit, Retain: true}); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	for i, f := range fes {
		select {
		case <-f.stopped:
		default:
			t.Errorf("front end %d had not stopped when Run returned", i)
		}
	}
	late, lateCancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer lateCancel()
	if err := control.Send(late, d.Commands(), control.Command{Kind: control.Message}); !errors.Is(err, control.ErrStopped) {
		t.Errorf("command after Run: %v, want ErrStopped", err)
	}
	if q, r := d.QuitRequested(); !q || !r {
		t.Errorf("QuitRequested = %v, %v; want true, true", q, r)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d after Run, %d before", n, before)
	}
}

func TestDaemonScreenErrors(t *testing.T) {
	scr := &recordingScreen{fail: map[string]error{"deactivate": errors.New("drop master: permission denied")}}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Shown: true})
	defer cancel()
	err := send(t, d, control.Command{Kind: control.Deactivate})
	if err == nil || !strings.Contains(err.Error(), "deactivate: drop master: permission denied") {
		t.Fatalf("deactivate: %v", err)
	}
	// Still showing: reactivate is refused, has-active-vt answers yes.
	if err := send(t, d, control.Command{Kind: control.Reactivate}); !errors.Is(err, control.ErrNotDeactivated) {
		t.Errorf("reactivate after a failed deactivate: %v", err)
	}
	if err := send(t, d, control.Command{Kind: control.HasActiveVT}); err != nil {
		t.Errorf("has-active-vt: %v", err)
	}
	cancel()
	wait()
}

// The three front ends satisfy Frontend.
var (
	_ Frontend = (*control.Server)(nil)
	_ Frontend = (*psplash.FIFO)(nil)
	_ Frontend = (*plymouth.Server)(nil)
)

// TestDaemonWithFrontends drives one daemon through the native socket,
// psplash's FIFO and plymouth's protocol at once, and quits it through
// plymouth with the splash retained.
func TestDaemonWithFrontends(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	native, err := control.Listen(filepath.Join(dir, "bootsplash", "control"), control.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer native.Close()
	fifo, err := psplash.Open(psplash.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer fifo.Close()
	ply, err := plymouth.Listen(plymouth.Options{Name: fmt.Sprintf("/bootsplash-test/%s/%d", t.Name(), os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	defer ply.Close()

	scr := &recordingScreen{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Shown: true, Frontends: []Frontend{native, fifo, ply}})
	defer cancel()

	ctx, ctxCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ctxCancel()
	cl, err := control.Dial(ctx, native.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Do(ctx, control.Command{Kind: control.Progress, Value: 0.3}); err != nil {
		t.Fatal(err)
	}

	f, err := os.OpenFile(fifo.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("MSG from psplash\x00"))
	f.Close()
	// The FIFO is not answered; wait until the message is applied.
	for {
		if _, shown := scr.log(); len(shown) > 0 && shown[len(shown)-1].Message == "from psplash" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the psplash message never reached the screen")
		}
		time.Sleep(5 * time.Millisecond)
	}

	pc, err := net.Dial("unix", "@"+ply.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.SetDeadline(time.Now().Add(5 * time.Second))
	reply := make([]byte, 1)
	for _, req := range []string{"U\x02\x05fsck\x00", "Q\x02\x02\x01\x00"} {
		if _, err := pc.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(pc, reply); err != nil || reply[0] != 0x06 {
			t.Fatalf("plymouth %q: reply %#x, %v; want ACK", req, reply[0], err)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	calls, shown := scr.log()
	if got := shown[len(shown)-1]; got != (State{Progress: 0.3, Message: "from psplash", Status: "fsck"}) {
		t.Errorf("retained frame %+v", got)
	}
	if q, r := d.QuitRequested(); !q || !r {
		t.Errorf("screen calls %v, quit %v retain %v; want a quit with retain", calls, q, r)
	}
	if err := cl.Do(ctx, control.Command{Kind: control.Ping}); err == nil {
		t.Errorf("the native socket still answers after quit")
	}
	if _, err := os.Stat(native.Path()); !os.IsNotExist(err) {
		t.Errorf("control socket left behind: %v", err)
	}
	cl.Close()
	pc.Close()
	fifo.Close()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d after, %d before", n, before)
	}
}

func TestOpenFrontends(t *testing.T) {
	dir := t.TempDir()
	cfg := ControlConfig{
		Native: true, Socket: filepath.Join(dir, "bootsplash", "control"),
		Psplash: true, PsplashDir: dir,
		Plymouth: true, PlymouthName: fmt.Sprintf("/bootsplash-test/%s/%d", t.Name(), os.Getpid()),
	}
	fes, closeAll, err := OpenFrontends(cfg)
	if err != nil || len(fes) != 3 {
		t.Fatalf("OpenFrontends: %d front ends, %v", len(fes), err)
	}
	defer closeAll()
	// A second daemon finds all three taken: both sockets, and the FIFO
	// the first one reads.
	fes2, closeAll2, err := OpenFrontends(cfg)
	defer closeAll2()
	if len(fes2) != 0 {
		t.Errorf("second OpenFrontends opened %d front ends, want none", len(fes2))
	}
	if !errors.Is(err, control.ErrRunning) || !errors.Is(err, syscall.EADDRINUSE) || !errors.Is(err, psplash.ErrInUse) {
		t.Errorf("second OpenFrontends: %v, want ErrRunning, EADDRINUSE and psplash.ErrInUse", err)
	}
	if fes, _, err := OpenFrontends(ControlConfig{}); len(fes) != 0 || err != nil {
		t.Errorf("OpenFrontends with none asked: %v, %v", fes, err)
	}
}

// TestDaemonPacesFrames sends updates one at a time, each answered before
// the next, for 200 ms: they are drawn no more often than every
// minFrameGap (plus the first at once), every request is answered while
// frames wait, and the newest State is drawn in the end without another
// request.
func TestDaemonPacesFrames(t *testing.T) {
	scr := &recordingScreen{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Shown: true})
	defer cancel()
	start := time.Now()
	n := 0
	var slowest time.Duration
	for time.Since(start) < 200*time.Millisecond {
		n++
		t0 := time.Now()
		if err := send(t, d, control.Command{Kind: control.Progress, Value: float64(n%100) / 100}); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(t0))
	}
	last := float64(n%100) / 100
	elapsed := time.Since(start)
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, shown := scr.log()
		if len(shown) > 0 && shown[len(shown)-1].Progress == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last update (%v) was never drawn; drawn: %v", last, shown[max(0, len(shown)-3):])
		}
		time.Sleep(time.Millisecond)
	}
	_, shown := scr.log()
	limit := int(elapsed/minFrameGap) + 2
	if len(shown) > limit || n < 4*len(shown) {
		t.Errorf("%d updates in %v drawn %d times; want at most %d frames (one per %v)", n, elapsed.Round(time.Millisecond), len(shown), limit, minFrameGap)
	}
	t.Logf("%d updates in %v: %d frames, slowest answer %v", n, elapsed.Round(time.Millisecond), len(shown), slowest)
	send(t, d, control.Command{Kind: control.Quit})
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}
