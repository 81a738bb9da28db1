package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/plymouth"
	"github.com/bootsplash/bootsplash/splash/psplash"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

// daemon is splash.Run on the emulated display in this process, with all
// three front ends on, as the load's target.
type daemon struct {
	opts Options // where it listens
	out  string  // the PNG it rewrites after every frame
	size image.Point
	done chan error
	stop context.CancelFunc
}

// plymouthSeq makes the plymouth abstract names of one test binary
// unique; the pid makes them unique on the machine.
var plymouthSeq atomic.Int64

func startDaemon(tb testing.TB, size image.Point) *daemon {
	tb.Helper()
	dir := tb.TempDir()
	opts := DefaultOptions()
	opts.Socket = filepath.Join(dir, "control")
	opts.PsplashDir = dir
	opts.PlymouthName = fmt.Sprintf("/org/bootsplash/load-test/%d/%d", os.Getpid(), plymouthSeq.Add(1))
	// The PNG goes to memory where there is a tmpfs: on a disk, writing
	// and renaming a frame file a few thousand times a second measures
	// the file system's writeback (a 280 ms stall was seen on ext4), not
	// the daemon.
	outDir := dir
	if shm, err := os.MkdirTemp("/dev/shm", "load-"); err == nil {
		outDir = shm
		tb.Cleanup(func() { os.RemoveAll(shm) })
	}
	d := &daemon{opts: opts, out: filepath.Join(outDir, "screen.png"), size: size, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	cfg := splash.Config{Backend: splash.BackendEmu, EmuSize: size, Out: d.out, Control: splash.ControlConfig{
		Native: true, Socket: opts.Socket, Psplash: true, PsplashDir: dir, Plymouth: true, PlymouthName: opts.PlymouthName,
	}}
	go func() { d.done <- splash.Run(ctx, cfg) }()
	return d
}

// quit asks the daemon to quit over its socket, as `bootsplash ctl quit`
// does, and waits for Run to return.
func (d *daemon) quit(tb testing.TB) {
	tb.Helper()
	defer d.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := control.Dial(ctx, d.opts.Socket)
	if err == nil {
		err = cl.Do(ctx, control.Command{Kind: control.Quit})
		cl.Close()
	}
	if err != nil {
		tb.Errorf("ctl quit: %v", err)
		d.stop()
	}
	select {
	case err := <-d.done:
		if err != nil {
			tb.Errorf("splash.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		tb.Fatalf("splash.Run did not return within 10s of the quit request")
	}
}

// render draws st as `bootsplash render` would at the daemon's size.
func (d *daemon) render(tb testing.TB, st splash.State) image.Image {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "render.png")
	if err := splash.RenderFrame(path, splash.FrameOptions{Width: d.size.X, Height: d.size.Y, State: st}); err != nil {
		tb.Fatal(err)
	}
	img, err := readPNG(path)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// waitShows waits until the daemon's PNG is want, pixel for pixel, and
// returns how many pixels differ when it gives up after 10 s: the tail of
// psplash's FIFO, which nobody answers, may still be on its way.
func (d *daemon) waitShows(want image.Image) int {
	n := -1
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got, err := readPNG(d.out); err == nil {
			if n = testutil.DifferingPixels(got, want); n == 0 || time.Now().After(end) {
				return n
			}
		} else if time.Now().After(end) {
			return n
		}
	}
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// TestRun puts a small load on a daemon in this process and checks what
// a load must get right whatever the machine's speed: every request is
// answered, each front end carried its share, and the screen ends in the
// final state. The timing figures are the benchmark's business.
func TestRun(t *testing.T) {
	before := runtime.NumGoroutine()
	d := startDaemon(t, image.Pt(320, 240))
	opts := d.opts
	opts.Messages = 2000
	opts.PID = os.Getpid()
	samples := 0
	opts.Sample = func(int) { samples++ }
	rep, err := Run(context.Background(), opts)
	if err != nil {
		d.quit(t)
		t.Fatal(err)
	}
	if n := d.waitShows(d.render(t, rep.Final.State())); n != 0 {
		t.Errorf("the screen is not the final state %+v: %d pixels differ", rep.Final, n)
	}
	// The comparison sees a percent of progress.
	near := rep.Final
	near.Progress++
	if got, err := readPNG(d.out); err != nil {
		t.Error(err)
	} else if testutil.DifferingPixels(got, d.render(t, near.State())) == 0 {
		t.Errorf("the screen equals both %+v and %+v", rep.Final, near)
	}
	d.quit(t)
	goroutinesLeft(t, before)
	var table strings.Builder
	rep.WriteTable(&table)
	t.Logf("report:\n%s", table.String())

	if rep.Messages != opts.Messages {
		t.Errorf("%d requests sent, want %d", rep.Messages, opts.Messages)
	}
	for fe, want := range map[string]int{Psplash: 250, Plymouth: 250, Native: 1500} {
		if got := rep.ByFrontend[fe]; got != want {
			t.Errorf("%s carried %d requests, want %d", fe, got, want)
		}
	}
	if rep.Pings == 0 || rep.PingMax < rep.PingP99 || rep.PingP99 < rep.PingP50 || rep.PingP50 <= 0 {
		t.Errorf("ping figures out of order: %d pings, p50 %v, p99 %v, max %v", rep.Pings, rep.PingP50, rep.PingP99, rep.PingMax)
	}
	if m := rep.Memory; m == nil || m.Samples == 0 || m.RSSPeakFirst == 0 || m.HWM < m.RSSPeakFirst {
		t.Errorf("memory of this process not sampled: %+v", m)
	}
	if samples == 0 {
		t.Error("Options.Sample was never called")
	}
	if rep.Final != DefaultFinal(opts.Messages) {
		t.Errorf("final state %+v, want DefaultFinal", rep.Final)
	}
}

// TestRunFails checks that a load against no daemon fails, within the
// wait it was given.
func TestRunFails(t *testing.T) {
	opts := DefaultOptions()
	opts.Socket = filepath.Join(t.TempDir(), "none")
	opts.Wait = 100 * time.Millisecond
	start := time.Now()
	if _, err := Run(context.Background(), opts); err == nil {
		t.Fatal("Run without a daemon succeeded")
	} else if !strings.Contains(err.Error(), "no bootsplash daemon") {
		t.Errorf("Run without a daemon: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run without a daemon took %v with a 100ms wait", d)
	}
	opts.Clients = 1
	if _, err := Run(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Errorf("Run with 1 client, 1 on plymouth and 1 on psplash: %v", err)
	}
}

// TestRunRefused quits the daemon in the middle of the load: the requests
// it refuses from then on make Run fail, saying why.
func TestRunRefused(t *testing.T) {
	d := startDaemon(t, image.Pt(160, 120))
	opts := d.opts
	opts.Messages = 100000
	var once sync.Once
	opts.Sample = func(sent int) {
		if sent > 500 {
			once.Do(func() {
				go func() {
					cl, err := control.Dial(context.Background(), opts.Socket)
					if err != nil {
						t.Error(err)
						return
					}
					defer cl.Close()
					if err := cl.Do(context.Background(), control.Command{Kind: control.Quit}); err != nil {
						t.Error(err)
					}
				}()
			})
		}
	}
	_, err := Run(context.Background(), opts)
	if err == nil {
		t.Fatal("Run succeeded though the daemon quit in the middle")
	}
	t.Logf("Run: %v", err)
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("splash.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("splash.Run did not return after quit")
	}
	d.stop()
}

// TestRequestsAreValid reads every client's requests back with the
// daemon's own parsers.
func TestRequestsAreValid(t *testing.T) {
	n := &nativeClient{id: 3}
	p := &plymouthClient{id: 5}
	w := &psplashWriter{id: 0}
	kinds := map[string]bool{}
	for i := range 600 {
		line, err := control.FormatRequest(n.request(i))
		if err != nil {
			t.Fatalf("native request %d: %v", i, err)
		}
		c, err := control.ParseRequest(line)
		if err != nil {
			t.Fatalf("native request %q: %v", line, err)
		}
		kinds["native "+c.Kind.String()] = true

		req, err := plymouth.ReadRequest(bufio.NewReader(bytes.NewReader(p.request(i))))
		if err != nil || !req.HasArgument {
			t.Fatalf("plymouth request %q: %+v, %v", p.request(i), req, err)
		}
		kinds["plymouth "+string(req.Type)] = true

		cmd := w.command(i)
		if cmd[len(cmd)-1] != 0 {
			t.Fatalf("psplash command %q does not end with a NUL", cmd)
		}
		pc, err := psplash.ParseCommand(string(cmd[:len(cmd)-1]))
		if err != nil {
			t.Fatalf("psplash command %q: %v", cmd, err)
		}
		kinds["psplash "+pc.Kind.String()] = true
	}
	for _, k := range []string{"native progress", "native message", "native status", "native system-update",
		"plymouth u", "plymouth M", "plymouth U", "psplash progress", "psplash message"} {
		if !kinds[k] {
			t.Errorf("no %s request among the first 600", k)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range v {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	for _, tc := range []struct {
		ds   []time.Duration
		q    int
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 50, 3 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 99, 5 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	} {
		if got := percentile(tc.ds, tc.q); got != tc.want {
			t.Errorf("percentile(%v, %d) = %v, want %v", tc.ds, tc.q, got, tc.want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	st, err := parseStatus([]byte("Name:\tbootsplash\nVmPeak:\t  12345 kB\nVmHWM:\t    4000 kB\nVmRSS:\t    3500 kB\nThreads:\t5\n"))
	if err != nil || st["VmHWM"] != 4000 || st["VmRSS"] != 3500 || st["VmPeak"] != 12345 {
		t.Errorf("parseStatus = %v, %v", st, err)
	}
	if _, err := parseStatus([]byte("Name:\tkthreadd\n")); err == nil {
		t.Error("parseStatus accepted a status without VmRSS")
	}
	if _, err := parseStatus([]byte("VmRSS:\t12 MB\n")); err == nil {
		t.Error("parseStatus accepted a unit other than kB")
	}
}

// TestFindPID starts a program under a name of its own (the kernel names
// a process after the file it executed, a symbolic link's name included)
// and finds it.
func TestFindPID(t *testing.T) {
	if _, err := os.Stat("/proc/self/comm"); err != nil {
		testutil.Unavailable(t, "no /proc: %v", err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skipf("no sleep program: %v", err)
	}
	name := fmt.Sprintf("ld%d", os.Getpid()) // comm keeps 15 bytes
	link := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(sleep, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link, "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if pid, err := FindPID(name); err != nil || pid != cmd.Process.Pid {
		t.Errorf("FindPID(%q) = %d, %v; want %d", name, pid, err, cmd.Process.Pid)
	}
	if _, err := FindPID("no-such-process-name"); err == nil || !strings.Contains(err.Error(), "no process") {
		t.Errorf("FindPID of a missing name: %v", err)
	}
}
