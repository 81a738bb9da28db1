package soak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/load"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/control"
)

// The soak's bounds.
const (
	// answerBound is how long a valid request may wait for its answer (a
	// FIFO write for the pipe to take it, a SIGHUP for its log line)
	// before it counts as a hang.
	answerBound = 5 * time.Second
	// rssLimit bounds the daemon's resident memory over the whole run,
	// and rssGrowth the rise of the second half's peak over the first
	// half's: a leak grows, a cache levels off. In KiB.
	rssLimit  = 256 << 10
	rssGrowth = 32 << 10
	// The emulated display.
	width, height = 640, 480
)

// duration is the soak's length: $BOOTSPLASH_SOAK, 30s when unset.
func duration(t *testing.T) time.Duration {
	s := os.Getenv("BOOTSPLASH_SOAK")
	if s == "" {
		return 30 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 5*time.Second {
		t.Fatalf("BOOTSPLASH_SOAK=%q: want a Go duration of 5s or more", s)
	}
	return d
}

// tally counts events by name ("native valid ok", ...).
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *tally) add(k string) {
	t.mu.Lock()
	t.n[k]++
	t.mu.Unlock()
}

func (t *tally) get(k string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[k]
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.n))
	for k := range t.n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-40s %d\n", k, t.n[k])
	}
	return b.String()
}

// maxDur keeps the longest of the durations it is given.
type maxDur struct {
	mu  sync.Mutex
	max time.Duration
	n   int
}

func (m *maxDur) add(d time.Duration) {
	m.mu.Lock()
	m.n++
	m.max = max(m.max, d)
	m.mu.Unlock()
}

func (m *maxDur) get() (time.Duration, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max, m.n
}

// logWatch reads the daemon's log: it counts reload outcomes and keeps the
// last lines for a failure's message.
type logWatch struct {
	mu      sync.Mutex
	lines   []string
	panics  int
	reloads chan string // "ok" or "refused", one per reload line
	done    chan struct{}
}

func watchLog(r io.Reader) *logWatch {
	w := &logWatch{reloads: make(chan string, 64), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			w.mu.Lock()
			if len(w.lines) == 200 {
				w.lines = w.lines[1:]
			}
			w.lines = append(w.lines, line)
			if strings.Contains(line, "panic") || strings.Contains(line, "fatal error") {
				w.panics++
			}
			w.mu.Unlock()
			switch {
			case strings.Contains(line, "reloaded the theme"):
				w.reloads <- "ok"
			case strings.Contains(line, "reload the theme:"):
				w.reloads <- "refused"
			}
		}
	}()
	return w
}

func (w *logWatch) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// daemon is the bootsplash run under test.
type daemon struct {
	bin, dir             string
	sock, fifo, plymouth string
	theme, out           string
	cmd                  *exec.Cmd
	log                  *logWatch
	counts               *tally
	pings, answers       maxDur
	goodTheme            []byte
	brokenThemes         [][]byte
	brokenNames          []string
	rssMu                sync.Mutex
	rss                  []int64
	pid                  int
	fifoPath             string
	rnd                  func() *rand.Rand
	start                time.Time
	unexpected           []string
	unexpectedMu         sync.Mutex
}

func (d *daemon) unexpectedf(format string, args ...any) {
	d.unexpectedMu.Lock()
	defer d.unexpectedMu.Unlock()
	if len(d.unexpected) < 20 {
		d.unexpected = append(d.unexpected, fmt.Sprintf(format, args...))
	}
	d.counts.add("unexpected answers")
}

func TestSoak(t *testing.T) {
	length := duration(t)
	dir := t.TempDir()
	d := &daemon{dir: dir, counts: &tally{n: map[string]int{}}, start: time.Now()}
	d.bin = build(t, dir)
	d.themes(t)
	d.sock = filepath.Join(dir, "ctl", "control")
	d.fifo = filepath.Join(dir, "fifo")
	if err := os.Mkdir(d.fifo, 0o755); err != nil {
		t.Fatal(err)
	}
	d.fifoPath = filepath.Join(d.fifo, "psplash_fifo")
	d.plymouth = fmt.Sprintf("/org/bootsplash/soak/%d", os.Getpid())
	d.out = filepath.Join(dir, "frame.png")
	var seq uint64
	var seqMu sync.Mutex
	d.rnd = func() *rand.Rand {
		seqMu.Lock()
		defer seqMu.Unlock()
		seq++
		return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), seq))
	}

	d.cmd = exec.Command(d.bin, "run", "--backend", "emu", "--size", fmt.Sprintf("%dx%d", width, height), "--out", d.out,
		"--theme", d.theme, "--socket", d.sock, "--psplash-dir", d.fifo, "--plymouth-name", d.plymouth)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.pid = d.cmd.Process.Pid
	d.log = watchLog(stderr)
	exited := make(chan error, 1)
	go func() { <-d.log.done; exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-exited
		}
	})
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\n--- the daemon's last log lines:\n%s", fmt.Sprintf(format, args...), d.log.tail())
	}

	// Up: every front end answers; then the fds it holds idle.
	if err := waitNative(d.sock, 20*time.Second); err != nil {
		fail("the control socket never answered: %v", err)
	}
	fdsBefore, err := settledFDs(d.pid, -1, 5*time.Second)
	if err != nil {
		fail("%v", err)
	}
	rssStop := make(chan struct{})
	rssDone := make(chan struct{})
	go func() { defer close(rssDone); d.sampleRSS(rssStop) }()

	ctx, cancel := context.WithTimeout(context.Background(), length)
	defer cancel()
	var wg sync.WaitGroup
	spawn := func(n int, f func(context.Context, int)) {
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); f(ctx, i) }()
		}
	}
	var loadReports []*load.Report
	var loadMu sync.Mutex
	spawn(1, func(ctx context.Context, _ int) {
		for ctx.Err() == nil {
			rep, err := d.loadRound(2000, load.Final{})
			if err != nil {
				d.counts.add("load rounds failed")
				d.unexpectedf("load round: %v", err)
				continue
			}
			loadMu.Lock()
			loadReports = append(loadReports, rep)
			loadMu.Unlock()
		}
	})
	spawn(2, d.nativeRandom)
	spawn(2, d.plymouthRandom)
	spawn(1, d.psplashRandom)
	spawn(6, func(ctx context.Context, i int) { d.idle(ctx, "native") })
	spawn(6, func(ctx context.Context, i int) { d.idle(ctx, "plymouth") })
	spawn(2, func(ctx context.Context, i int) { d.halfOpen(ctx, "native", i) })
	spawn(2, func(ctx context.Context, i int) { d.halfOpen(ctx, "plymouth", i) })
	spawn(1, d.pinger)
	spawn(1, d.reloader)
	wg.Wait()

	// The last valid state: the good theme, shown, then a load whose
	// final state is known.
	if got := d.reload(d.goodTheme); got != "ok" {
		fail("the last reload, of the good theme: %s", got)
	}
	cl, err := control.Dial(context.Background(), d.sock)
	if err != nil {
		fail("dial for show: %v", err)
	}
	if err := cl.Do(context.Background(), control.Command{Kind: control.Show}); err != nil {
		fail("show: %v", err)
	}
	cl.Close()
	final := load.Final{Progress: 42, Message: fmt.Sprintf("Soak done after %v", length), Status: "the last valid state"}
	rep, err := d.loadRound(200, final)
	if err != nil {
		fail("the final load: %v", err)
	}
	loadReports = append(loadReports, rep)
	diff, err := d.screenMatches(final)
	if err != nil {
		fail("%v", err)
	}

	// Every client is gone: the daemon holds what it held before.
	fdsAfter, fdErr := settledFDs(d.pid, fdsBefore, 2*answerBound+10*time.Second)
	close(rssStop)
	<-rssDone

	// SIGTERM ends it, with status 0.
	t0 := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		fail("SIGTERM: %v", err)
	}
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(10 * time.Second):
		fail("still running 10 s after SIGTERM")
	}
	exitTook := time.Since(t0)
	status := d.cmd.ProcessState.ExitCode()

	// The figures.
	var loadByFE = map[string]int{}
	var loadPingMax time.Duration
	slowPings := 0
	for _, r := range loadReports {
		for fe, n := range r.ByFrontend {
			loadByFE[fe] += n
		}
		loadPingMax = max(loadPingMax, r.PingMax)
		slowPings += r.SlowPings
	}
	pingMax, pings := d.pings.get()
	answerMax, answers := d.answers.get()
	rssMin, rssMax, rssFirst, rssSecond := d.rssFigures()
	t.Logf("soak of %v (%v in all) on the emulated display %dx%d", length, time.Since(d.start).Round(time.Second), width, height)
	t.Logf("load rounds: %d, valid requests answered by front end: %v; load pings over %v: %d, longest %v", len(loadReports), loadByFE, answerBound, slowPings, loadPingMax)
	t.Logf("random requests, idle and half-open clients, reloads:\n%s", d.counts)
	t.Logf("pings: %d, longest %v; random valid requests answered: %d, longest %v", pings, pingMax, answers, answerMax)
	t.Logf("fds: %d before, %d after", fdsBefore, fdsAfter)
	t.Logf("RSS: min %d KiB, max %d KiB (first half peak %d, second half peak %d; bound %d KiB, growth bound %d KiB), %d samples", rssMin, rssMax, rssFirst, rssSecond, rssLimit, rssGrowth, len(d.rss))
	t.Logf("screen: %d pixels differ from bootsplash render of the last valid state", diff)
	t.Logf("SIGTERM: exit status %d after %v", status, exitTook.Round(time.Millisecond))

	// The verdict.
	for _, k := range []string{"native valid hang", "plymouth valid hang", "psplash write hang", "ping hang", "reload hang", "load rounds failed", "unexpected answers"} {
		if n := d.counts.get(k); n > 0 {
			t.Errorf("%s: %d", k, n)
		}
	}
	if slowPings > 0 {
		t.Errorf("%d load pings took longer than %v", slowPings, answerBound)
	}
	if pingMax > answerBound || answerMax > answerBound {
		t.Errorf("a valid request waited %v (ping) / %v (request), over %v", pingMax, answerMax, answerBound)
	}
	if d.counts.get("reload ok") == 0 || d.counts.get("reload refused") == 0 {
		t.Errorf("reloads: %d good taken, %d broken refused; want both", d.counts.get("reload ok"), d.counts.get("reload refused"))
	}
	if fdErr != nil {
		t.Errorf("fds leaked: %v", fdErr)
	}
	if rssMax > rssLimit {
		t.Errorf("RSS reached %d KiB, over %d KiB", rssMax, rssLimit)
	}
	if rssSecond > rssFirst+rssGrowth {
		t.Errorf("RSS grew: the second half's peak %d KiB is over the first half's %d KiB + %d KiB", rssSecond, rssFirst, rssGrowth)
	}
	if exitErr != nil || status != 0 {
		t.Errorf("after SIGTERM: %v (status %d)", exitErr, status)
	}
	if d.log.panics > 0 {
		t.Errorf("the daemon's log has %d panic lines", d.log.panics)
	}
	if len(d.unexpected) > 0 {
		t.Errorf("unexpected answers (first %d):\n%s", len(d.unexpected), strings.Join(d.unexpected, "\n"))
	}
	if t.Failed() {
		t.Logf("--- the daemon's last log lines:\n%s", d.log.tail())
	}
}

// build compiles bootsplash as it is shipped: static, cgo-free.
func build(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "bootsplash")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "../../cmd/bootsplash")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// themes copies the test theme and makes its broken variants: each
// refused by a reload, the good one taken.
func (d *daemon) themes(t *testing.T) {
	src := "../../splash/testdata/theme"
	dst := filepath.Join(d.dir, "theme")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dst, "test.toml"))
	if err != nil {
		t.Fatal(err)
	}
	d.goodTheme = good
	d.theme = filepath.Join(dst, "current.toml")
	if err := os.WriteFile(d.theme, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dst, "fifo.bmp"), 0o644); err != nil {
		t.Fatal(err)
	}
	spin, err := os.ReadFile(filepath.Join(dst, "spin-00.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "truncated.png"), spin[:len(spin)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("the test theme has no %q to break", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	d.brokenNames = []string{"syntax error", "type error", "FIFO as the logo", "truncated PNG as the logo", "missing font"}
	d.brokenThemes = [][]byte{
		append(slices.Clone(good), "\n[logo\n"...),
		replace("offset = [24, 24]", `offset = "far"`),
		replace("logo.bmp", "fifo.bmp"),
		replace("logo.bmp", "truncated.png"),
		replace("mono.ttf", "gone.ttf"),
	}
}

// reload puts theme in place and sends SIGHUP; it returns the outcome the
// log reports ("ok", "refused"), or "hang" when none comes in time.
func (d *daemon) reload(theme []byte) string {
	tmp := d.theme + ".new"
	if err := os.WriteFile(tmp, theme, 0o644); err != nil {
		return err.Error()
	}
	if err := os.Rename(tmp, d.theme); err != nil {
		return err.Error()
	}
	for len(d.log.reloads) > 0 {
		<-d.log.reloads // a late line of an earlier reload
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return err.Error()
	}
	select {
	case r := <-d.log.reloads:
		return r
	case <-time.After(answerBound):
		return "hang"
	}
}

// reloader alternates the good theme and a broken one, one reload every
// 1.5 s.
func (d *daemon) reloader(ctx context.Context, _ int) {
	for i := 0; ctx.Err() == nil; i++ {
		want, theme, name := "ok", d.goodTheme, "good"
		if i%2 == 1 {
			b := (i / 2) % len(d.brokenThemes)
			want, theme, name = "refused", d.brokenThemes[b], d.brokenNames[b]
		}
		got := d.reload(theme)
		switch {
		case got == "hang":
			d.counts.add("reload hang")
		case got != want:
			d.unexpectedf("reload of the %s theme: %s, want %s", name, got, want)
		default:
			d.counts.add("reload " + got)
		}
		sleep(ctx, 1500*time.Millisecond)
	}
}

// loadRound runs one round of internal/load's steady load: valid requests
// over all three front ends, pinged throughout, every one answered.
func (d *daemon) loadRound(n int, final load.Final) (*load.Report, error) {
	opts := load.DefaultOptions()
	opts.Socket, opts.PsplashDir, opts.PlymouthName = d.sock, d.fifo, d.plymouth
	opts.Clients, opts.Messages = 4, n
	opts.PingEvery, opts.PingLimit, opts.IdlePings = 20*time.Millisecond, answerBound, 5
	opts.SampleEvery = time.Second
	opts.Final = final
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return load.Run(ctx, opts)
}

// A request and what the daemon must answer to it.
type request struct {
	line  string
	valid bool
	// closes says the daemon closes the connection after answering.
	closes bool
}

func (d *daemon) nativeRequest(r *rand.Rand) request {
	p := r.Float64() * 100
	if r.IntN(2) == 0 {
		switch r.IntN(8) {
		case 0:
			return request{line: "ping", valid: true}
		case 1:
			return request{line: fmt.Sprintf("progress %.3f", p), valid: true}
		case 2:
			return request{line: fmt.Sprintf("system-update %.0f", p), valid: true}
		case 3:
			return request{line: "message soak " + strings.Repeat("x", r.IntN(200)), valid: true}
		case 4:
			return request{line: "status soak " + strconv.Itoa(r.IntN(1000)), valid: true}
		case 5:
			return request{line: "hide-message", valid: true}
		case 6:
			return request{line: "hide", valid: true}
		}
		return request{line: "show", valid: true}
	}
	switch r.IntN(9) {
	case 0:
		return request{line: fmt.Sprintf("progress %.1f", 100.5+p)}
	case 1:
		return request{line: "progress -3"}
	case 2:
		return request{line: "progress NaN"}
	case 3:
		return request{line: "progress"}
	case 4:
		return request{line: "frobnicate now"}
	case 5:
		return request{line: "quit now"}
	case 6:
		return request{line: "PING"}
	case 7:
		return request{line: "\x00\x01\x02 binary"}
	}
	return request{line: "message " + strings.Repeat("y", control.MaxLine+r.IntN(4096)), closes: true}
}

// dialRaw opens the native socket and reads the greeting.
func dialRaw(path string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("unix", path, answerBound)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(c)
	c.SetDeadline(time.Now().Add(answerBound))
	greet, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(greet, "bootsplash-control ") {
		c.Close()
		return nil, nil, fmt.Errorf("greeting %q: %v", greet, err)
	}
	return c, br, nil
}

// nativeRandom sends bursts of random valid and invalid requests on
// bootsplash's socket, one connection per burst.
func (d *daemon) nativeRandom(ctx context.Context, _ int) {
	r := d.rnd()
	for ctx.Err() == nil {
		c, br, err := dialRaw(d.sock)
		if err != nil {
			d.counts.add("native dial failed")
			d.unexpectedf("native dial: %v", err)
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		for range 1 + r.IntN(20) {
			req := d.nativeRequest(r)
			t0 := time.Now()
			c.SetDeadline(t0.Add(answerBound))
			_, err := io.WriteString(c, req.line+"\n")
			var reply string
			if err == nil {
				reply, err = br.ReadString('\n')
			}
			kind := "invalid"
			if req.valid {
				kind = "valid"
			}
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				d.counts.add("native " + kind + " hang")
			case err != nil:
				d.unexpectedf("native %.40q: %v", req.line, err)
			case req.valid && reply == "ok\n":
				d.answers.add(time.Since(t0))
				d.counts.add("native valid ok")
			case !req.valid && strings.HasPrefix(reply, "err "):
				d.counts.add("native invalid refused")
			default:
				d.unexpectedf("native %.40q: answered %q", req.line, reply)
			}
			if err != nil || req.closes {
				break
			}
		}
		c.Close()
	}
}

// Plymouth's reply bytes.
const (
	ack = 0x06
	nak = 0x15
)

func plymouthArg(letter byte, arg string) []byte {
	b := []byte{letter, 0x02, byte(len(arg) + 1)}
	return append(append(b, arg...), 0)
}

func (d *daemon) plymouthRequest(r *rand.Rand) (req []byte, valid, closes bool) {
	if r.IntN(2) == 0 {
		switch r.IntN(6) {
		case 0:
			return []byte("P\x00"), true, false
		case 1:
			return plymouthArg('u', strconv.Itoa(r.IntN(101))), true, false
		case 2:
			return plymouthArg('M', "soak "+strings.Repeat("m", r.IntN(100))), true, false
		case 3:
			return plymouthArg('U', "soak status "+strconv.Itoa(r.IntN(100))), true, false
		case 4:
			return []byte("H\x00"), true, false
		}
		return []byte("$\x00"), true, false
	}
	switch r.IntN(4) {
	case 0:
		return []byte("Z\x00"), false, false // unknown: NAK, kept
	case 1:
		return plymouthArg('u', strconv.Itoa(101+r.IntN(1000))), false, false
	case 2:
		return []byte{'u', 'x', 3, '4', '2', 0}, false, true // neither NUL nor 0x02
	}
	return []byte{'M', 0x02, 4, 'a', 'b', 'c', 'd'}, false, true // argument not NUL-terminated
}

func dialPlymouth(name string) (*net.UnixConn, error) {
	return net.DialUnix("unix", nil, &net.UnixAddr{Name: "@" + name, Net: "unix"})
}

// plymouthRandom does what nativeRandom does on plymouth's socket.
func (d *daemon) plymouthRandom(ctx context.Context, _ int) {
	r := d.rnd()
	for ctx.Err() == nil {
		c, err := dialPlymouth(d.plymouth)
		if err != nil {
			d.unexpectedf("plymouth dial: %v", err)
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		for range 1 + r.IntN(20) {
			req, valid, closes := d.plymouthRequest(r)
			t0 := time.Now()
			c.SetDeadline(t0.Add(answerBound))
			var reply [1]byte
			_, err := c.Write(req)
			if err == nil {
				_, err = io.ReadFull(c, reply[:])
			}
			kind := "invalid"
			if valid {
				kind = "valid"
			}
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				d.counts.add("plymouth " + kind + " hang")
			case err != nil:
				d.unexpectedf("plymouth %q: %v", req[:min(len(req), 8)], err)
			case valid && reply[0] == ack:
				d.answers.add(time.Since(t0))
				d.counts.add("plymouth valid ack")
			case !valid && reply[0] == nak:
				d.counts.add("plymouth invalid nak")
			default:
				d.unexpectedf("plymouth %q: answered 0x%02x", req[:min(len(req), 8)], reply[0])
			}
			if err != nil || closes {
				break
			}
		}
		c.Close()
	}
}

// psplashRandom writes random valid and invalid commands to psplash's
// FIFO, which answers nothing: a write the pipe does not take within the
// bound is a hang (the daemon stopped reading).
func (d *daemon) psplashRandom(ctx context.Context, _ int) {
	r := d.rnd()
	var f *os.File
	for ctx.Err() == nil {
		if f == nil {
			var err error
			if f, err = os.OpenFile(d.fifoPath, os.O_WRONLY|syscall.O_NONBLOCK, 0); err != nil {
				d.unexpectedf("psplash open: %v", err)
				sleep(ctx, 100*time.Millisecond)
				continue
			}
		}
		var cmd []byte
		kind := "valid"
		switch r.IntN(7) {
		case 0:
			cmd = fmt.Appendf(nil, "PROGRESS %d\x00", r.IntN(101))
		case 1:
			cmd = fmt.Appendf(nil, "MSG soak %d\x00", r.IntN(1000))
		case 2:
			cmd, kind = []byte("PROGRESS abc\x00"), "invalid"
		case 3:
			cmd, kind = []byte("BOGUS 1\x00"), "invalid"
		case 4:
			cmd, kind = fmt.Appendf(nil, "PROGRESS %d\x00", 101+r.IntN(100)), "invalid"
		case 5:
			cmd, kind = append([]byte("MSG "), bytes.Repeat([]byte("z"), 4096+r.IntN(8192))...), "invalid" // over the limit, no NUL
			cmd = append(cmd, 0)
		default:
			cmd, kind = []byte("\n\n\x00\x00"), "invalid"
		}
		f.SetWriteDeadline(time.Now().Add(answerBound))
		if _, err := f.Write(cmd); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				d.counts.add("psplash write hang")
			} else {
				d.unexpectedf("psplash write: %v", err)
			}
			f.Close()
			f = nil
			continue
		}
		d.counts.add("psplash " + kind + " written")
		sleep(ctx, time.Duration(r.IntN(5))*time.Millisecond)
	}
	if f != nil {
		f.Close()
	}
}

// idle connects and sends nothing, for a random while or until the daemon
// closes the connection, again and again.
func (d *daemon) idle(ctx context.Context, fe string) {
	r := d.rnd()
	for ctx.Err() == nil {
		var c net.Conn
		var err error
		if fe == "native" {
			c, err = net.DialTimeout("unix", d.sock, answerBound)
		} else {
			c, err = dialPlymouth(d.plymouth)
		}
		if err != nil {
			d.unexpectedf("%s idle dial: %v", fe, err)
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		hold := time.Duration(1+r.IntN(90)) * time.Second
		if d.holdOpen(ctx, c, hold) {
			d.counts.add(fe + " idle closed by the daemon")
		} else {
			d.counts.add(fe + " idle closed by the client")
		}
		c.Close()
	}
}

// holdOpen reads (and drops) what the daemon sends on c until it closes
// c (true), hold has passed or ctx ends (false).
func (d *daemon) holdOpen(ctx context.Context, c net.Conn, hold time.Duration) bool {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	c.SetReadDeadline(time.Now().Add(hold))
	_, err := io.Copy(io.Discard, c)
	return err == nil // EOF: the daemon closed it
}

// halfOpen leaves a request unfinished (the daemon must close the
// connection), or sends a whole one and shuts its write side (the daemon
// must still answer).
func (d *daemon) halfOpen(ctx context.Context, fe string, i int) {
	for n := i; ctx.Err() == nil; n++ {
		var c net.Conn
		var err error
		var partial, whole []byte
		if fe == "native" {
			c, _, err = dialRaw(d.sock)
			partial, whole = []byte("progress 5"), []byte("ping\n")
		} else {
			c, err = dialPlymouth(d.plymouth)
			partial, whole = []byte{'M', 0x02, 20, 'h', 'a'}, []byte("P\x00")
		}
		if err != nil {
			d.unexpectedf("%s half-open dial: %v", fe, err)
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		if n%2 == 0 {
			c.Write(partial)
			t0 := time.Now()
			if d.holdOpen(ctx, c, 2*time.Minute) {
				d.counts.add(fe + " unfinished request closed by the daemon")
				if took := time.Since(t0); took > 2*time.Minute-time.Second {
					d.unexpectedf("%s: an unfinished request kept open for %v", fe, took)
				}
			}
		} else {
			c.Write(whole)
			c.(interface{ CloseWrite() error }).CloseWrite()
			c.SetReadDeadline(time.Now().Add(answerBound))
			b, err := io.ReadAll(c)
			switch {
			case err != nil:
				d.unexpectedf("%s: a request with the write side shut: %v", fe, err)
			case fe == "native" && !bytes.HasPrefix(b, []byte("ok\n")), fe == "plymouth" && !bytes.HasPrefix(b, []byte{ack}):
				d.unexpectedf("%s: a request with the write side shut: answered %q", fe, b)
			default:
				d.counts.add(fe + " write side shut, answered")
			}
		}
		c.Close()
	}
}

// pinger pings over bootsplash's client every 100 ms.
func (d *daemon) pinger(ctx context.Context, _ int) {
	var cl *control.Client
	for ctx.Err() == nil {
		if cl == nil {
			var err error
			if cl, err = control.Dial(ctx, d.sock); err != nil {
				if ctx.Err() == nil {
					d.unexpectedf("pinger dial: %v", err)
				}
				sleep(ctx, 100*time.Millisecond)
				continue
			}
		}
		t0 := time.Now()
		pctx, cancel := context.WithTimeout(context.Background(), answerBound)
		err := cl.Do(pctx, control.Command{Kind: control.Ping})
		cancel()
		took := time.Since(t0)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			d.counts.add("ping hang")
		case err != nil:
			// Told to go (idle for a minute, or evicted): redial.
			d.counts.add("ping redials")
			cl.Close()
			cl = nil
			continue
		default:
			d.pings.add(took)
		}
		sleep(ctx, 100*time.Millisecond)
	}
	if cl != nil {
		cl.Close()
	}
}

// sampleRSS reads the daemon's VmRSS twice a second until stop.
func (d *daemon) sampleRSS(stop <-chan struct{}) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		if kb, err := rssKiB(d.pid); err == nil {
			d.rssMu.Lock()
			d.rss = append(d.rss, kb)
			d.rssMu.Unlock()
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (d *daemon) rssFigures() (lo, hi, firstPeak, secondPeak int64) {
	d.rssMu.Lock()
	defer d.rssMu.Unlock()
	if len(d.rss) == 0 {
		return
	}
	lo, hi = slices.Min(d.rss), slices.Max(d.rss)
	half := len(d.rss) / 2
	firstPeak = slices.Max(d.rss[:max(half, 1)])
	secondPeak = slices.Max(d.rss[half:])
	return
}

func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

func countFDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents), err
}

// settledFDs waits for the daemon's open fds to stop changing (want < 0)
// or to come back to want, and returns the count.
func settledFDs(pid, want int, wait time.Duration) (int, error) {
	deadline := time.Now().Add(wait)
	last := -1
	for {
		n, err := countFDs(pid)
		if err != nil {
			return 0, err
		}
		if want >= 0 && n == want || want < 0 && n == last {
			return n, nil
		}
		if time.Now().After(deadline) {
			if want < 0 {
				return n, nil
			}
			ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
			var links []string
			for _, e := range ents {
				l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
				links = append(links, e.Name()+"->"+l)
			}
			return n, fmt.Errorf("%d open fds %v after waiting %v, want %d", n, links, wait, want)
		}
		last = n
		time.Sleep(500 * time.Millisecond)
	}
}

// screenMatches waits for the emulated display's PNG to equal `bootsplash
// render` of the final state with the good theme at some spinner frame,
// and returns how many pixels differ from the closest render.
func (d *daemon) screenMatches(f load.Final) (int, error) {
	var renders []image.Image
	for frame := range 16 {
		out := filepath.Join(d.dir, fmt.Sprintf("render-%d.png", frame))
		args := []string{"render", "--size", fmt.Sprintf("%dx%d", width, height), "--theme", d.theme,
			"--progress", strconv.Itoa(f.Progress), "--message", f.Message, "--status", f.Status, "--frame", strconv.Itoa(frame), "--out", out}
		if b, err := exec.Command(d.bin, args...).CombinedOutput(); err != nil {
			return -1, fmt.Errorf("bootsplash %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		img, err := readPNG(out)
		if err != nil {
			return -1, err
		}
		renders = append(renders, img)
	}
	best := -1
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		screen, err := readPNG(d.out)
		if err == nil {
			for _, r := range renders {
				n := testutil.DifferingPixels(screen, r)
				if best < 0 || n < best {
					best = n
				}
				if n == 0 {
					return 0, nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return best, fmt.Errorf("the screen never showed the last valid state: %d pixels differ from the closest render", best)
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

func waitNative(path string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cl, err := control.Dial(ctx, path)
		if err == nil {
			err = cl.Do(ctx, control.Command{Kind: control.Ping})
			cl.Close()
		}
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
