package plymouth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/control"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

func TestReadRequest(t *testing.T) {
	long := strings.Repeat("x", 254)
	for _, tc := range []struct {
		in   string
		want Request
		err  string
	}{
		{in: "P\x00", want: Request{Type: 'P'}},
		{in: "M\x02\x06Hello\x00", want: Request{Type: 'M', Argument: "Hello", HasArgument: true}},
		{in: "Q\x02\x01\x00", want: Request{Type: 'Q', Argument: "", HasArgument: true}},
		{in: "Q\x02\x02\x01\x00", want: Request{Type: 'Q', Argument: "\x01", HasArgument: true}},
		{in: "M\x02\xff" + long + "\x00", want: Request{Type: 'M', Argument: long, HasArgument: true}},
		{in: "", err: "EOF"},
		{in: "P", err: "truncated header"},
		{in: "PX", err: "byte 0x58 after the request letter"},
		{in: "M\x02", err: "no argument size"},
		{in: "M\x02\x00", err: "argument of size 0"},
		{in: "M\x02\x09Hel", err: "argument cut short after 3 of 9 bytes"},
		{in: "M\x02\x05Hello", err: "not NUL-terminated"},
		// Longer than the format allows: the size byte caps it, and
		// the rest is not a NUL.
		{in: "M\x02\xff" + strings.Repeat("y", 1000), err: "argument of 255 bytes not NUL-terminated"},
	} {
		r := bufio.NewReaderSize(strings.NewReader(tc.in), maxRequest)
		got, err := ReadRequest(r)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ReadRequest(%q) = %+v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ReadRequest(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// fakeDaemon answers commands and records them.
type fakeDaemon = testutil.FakeDaemon[control.Command]

// serve starts a server and a fake daemon; the returned func stops both.
func serve(t *testing.T, opts Options, d *fakeDaemon) (*Server, func()) {
	t.Helper()
	s, err := Listen(opts)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			testutil.Unavailable(t, "%v (is plymouthd running?)", err)
		}
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	commands := make(chan control.Command)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, commands) }()
	dctx, dcancel := context.WithCancel(context.Background())
	ddone := make(chan struct{})
	go func() { d.Run(dctx, commands); close(ddone) }()
	return s, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		dcancel()
		<-ddone
		s.Close()
	}
}

func testName(t *testing.T) string {
	return fmt.Sprintf("/bootsplash-test/%s/%d", t.Name(), os.Getpid())
}

func dialRaw(t *testing.T, name string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", "@"+name)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// withArg is a request with an argument as the plymouth client sends it.
func withArg(letter byte, arg string) string {
	return string(append([]byte{letter, 0x02, byte(len(arg) + 1)}, arg+"\x00"...))
}

func TestServerRawRequests(t *testing.T) {
	before := runtime.NumGoroutine()
	d := &fakeDaemon{Answer: func(c control.Command) error {
		if c.Kind == control.HasActiveVT {
			return control.ErrNotShowing
		}
		if c.Kind == control.Reactivate {
			return control.ErrNotDeactivated
		}
		return nil
	}}
	s, stop := serve(t, Options{Name: testName(t)}, d)
	c := dialRaw(t, s.Name())
	for _, tc := range []struct {
		send  string
		reply byte
		want  *control.Command
	}{
		{"P\x00", ack, &control.Command{Kind: control.Ping}},
		{withArg('U', "fsck"), ack, &control.Command{Kind: control.Status, Text: "fsck"}},
		{withArg('M', "Hello"), ack, &control.Command{Kind: control.Message, Text: "Hello"}},
		{withArg('M', "a\xffb"), ack, &control.Command{Kind: control.Message, Text: "a\uFFFDb"}},
		{withArg('m', "Hello"), ack, &control.Command{Kind: control.HideMessage, Text: "Hello"}},
		{withArg('u', "40"), ack, &control.Command{Kind: control.SystemUpdate, Value: 0.4}},
		{withArg('u', "101"), nak, nil},
		{withArg('u', "abc"), nak, nil},
		{"$\x00", ack, &control.Command{Kind: control.Show}},
		{"H\x00", ack, &control.Command{Kind: control.Hide}},
		{"V\x00", nak, &control.Command{Kind: control.HasActiveVT}},
		{"D\x00", ack, &control.Command{Kind: control.Deactivate}},
		{"r\x00", ack, &control.Command{Kind: control.Reactivate}},
		{withArg('C', "shutdown"), ack, nil},
		{"S\x00", ack, &control.Command{Kind: control.SystemInitialized}},
		{withArg('L', "y"), ack, &control.Command{Kind: control.IgnoreKeystroke}},
		{"A\x00", ack, &control.Command{Kind: control.PauseProgress}},
		{"a\x00", ack, &control.Command{Kind: control.UnpauseProgress}},
		{withArg('R', "/sysroot"), ack, nil},
		{"!\x00", ack, nil},
		{"Z\x00", nak, nil},
		{withArg('Q', "\x01"), ack, &control.Command{Kind: control.Quit, Retain: true}},
		{withArg('Q', ""), ack, &control.Command{Kind: control.Quit}},
	} {
		if _, err := io.WriteString(c, tc.send); err != nil {
			t.Fatal(err)
		}
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			t.Fatalf("reply to %q: %v", tc.send, err)
		}
		if b[0] != tc.reply {
			t.Errorf("reply to %q: %#x, want %#x", tc.send, b[0], tc.reply)
		}
		got := d.Take()
		switch {
		case tc.want == nil && len(got) != 0:
			t.Errorf("%q reached the daemon as %v", tc.send, got)
		case tc.want != nil && len(got) != 1:
			t.Errorf("%q reached the daemon as %v, want one %v", tc.send, got, *tc.want)
		case tc.want != nil:
			g, w := got[0], *tc.want
			if g.Kind != w.Kind || g.Text != w.Text || g.Retain != w.Retain || math.Abs(g.Value-w.Value) > 1e-9 || g.Source != "plymouth" {
				t.Errorf("%q reached the daemon as %+v, want %+v", tc.send, g, w)
			}
		}
	}
	c.Close()
	stop()
	settle(t, before)
}

// settle waits until the goroutine count is back to want.
func settle(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d, want %d (leak)\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerMalformedCloses(t *testing.T) {
	d := &fakeDaemon{}
	s, stop := serve(t, Options{Name: testName(t)}, d)
	defer stop()
	for _, bad := range []string{
		"PX",                                    // neither NUL nor 0x02 after the letter
		"M\x02\x00",                             // an argument of size 0
		"M\x02\x05Hello",                        // not NUL-terminated
		"M\x02\xff" + strings.Repeat("z", 4096), // longer than the format allows
	} {
		c := dialRaw(t, s.Name())
		go c.Write([]byte(bad))
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != nak {
			t.Errorf("reply to %q: %#x, %v; want NAK", bad, b[0], err)
		}
		// Then closed: EOF, or a reset when bytes were left unread.
		if n, err := c.Read(b[:]); err == nil {
			t.Errorf("after %q: read %d more bytes, want the connection closed", bad, n)
		}
		c.Close()
	}
	if got := d.Take(); len(got) != 0 {
		t.Errorf("malformed requests reached the daemon: %v", got)
	}
	// The server still serves.
	c := dialRaw(t, s.Name())
	defer c.Close()
	c.Write([]byte("P\x00"))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != ack {
		t.Errorf("ping after bad clients: %#x, %v", b[0], err)
	}
}

func TestServerRefusesPeer(t *testing.T) {
	d := &fakeDaemon{}
	s, stop := serve(t, Options{Name: testName(t), AllowUIDs: []uint32{uint32(os.Getuid()) + 4242}}, d)
	defer stop()
	c := dialRaw(t, s.Name())
	defer c.Close()
	c.Write([]byte("Q\x02\x01\x00"))
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatal(err)
	}
	if !bytes.Equal(b, []byte{nak}) {
		t.Errorf("a user not allowed read %q, want one NAK and the end", b)
	}
	if got := d.Take(); len(got) != 0 {
		t.Errorf("a refused peer reached the daemon: %v", got)
	}
}

func TestServerStopsWithWaitingClients(t *testing.T) {
	before := runtime.NumGoroutine()
	d := &fakeDaemon{}
	s, stop := serve(t, Options{Name: testName(t)}, d)
	// Like `plymouth --wait`: connected, sending nothing.
	c1 := dialRaw(t, s.Name())
	// Half a request.
	c2 := dialRaw(t, s.Name())
	c2.Write([]byte("M\x02\x20abc"))
	time.Sleep(20 * time.Millisecond)
	stop()
	for _, c := range []net.Conn{c1, c2} {
		if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
			t.Errorf("waiting client read %q, %v; want EOF once the server stops", b, err)
		}
		c.Close()
	}
	settle(t, before)
}

// plymouthClient finds Debian's plymouth command-line client.
func plymouthClient(t *testing.T) string {
	t.Helper()
	// Under CI scripts/test installs Debian's plymouth package; a missing
	// client there fails the test.
	return testutil.NeedCommand(t, "plymouth")
}

// TestPlymouthClient drives the server with the real `plymouth` client,
// which connects to the well-known abstract socket.
func TestPlymouthClient(t *testing.T) {
	bin := plymouthClient(t)
	before := runtime.NumGoroutine()
	showing := true
	var mu sync.Mutex
	d := &fakeDaemon{Answer: func(c control.Command) error {
		mu.Lock()
		defer mu.Unlock()
		switch c.Kind {
		case control.AskPassword, control.CachedPasswords:
			return control.ErrNoAnswer // as a daemon without a keyboard
		case control.HasActiveVT:
			if !showing {
				return control.ErrNotShowing
			}
		case control.Hide:
			showing = false
		case control.Show:
			showing = true
		}
		return nil
	}}
	_, stop := serve(t, Options{}, d)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()

	run := func(args ...string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("plymouth %s: timed out", strings.Join(args, " "))
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("plymouth %s: %v", strings.Join(args, " "), err)
		}
		return 0, string(out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want []control.Command
	}{
		{[]string{"--ping"}, 0, []control.Command{{Kind: control.Ping}}},
		{[]string{"message", "--text=Checking file systems"}, 0, []control.Command{{Kind: control.Message, Text: "Checking file systems"}}},
		{[]string{"display-message", "--text=Starting services"}, 0, []control.Command{{Kind: control.Message, Text: "Starting services"}}},
		{[]string{"hide-message", "--text=Starting services"}, 0, []control.Command{{Kind: control.HideMessage, Text: "Starting services"}}},
		{[]string{"update", "--status=fsck"}, 0, []control.Command{{Kind: control.Status, Text: "fsck"}}},
		{[]string{"--update=udev"}, 0, []control.Command{{Kind: control.Status, Text: "udev"}}},
		{[]string{"system-update", "--progress=40"}, 0, []control.Command{{Kind: control.SystemUpdate, Value: 0.4}}},
		{[]string{"--has-active-vt"}, 0, []control.Command{{Kind: control.HasActiveVT}}},
		{[]string{"hide-splash"}, 0, []control.Command{{Kind: control.Hide}}},
		{[]string{"--has-active-vt"}, 1, []control.Command{{Kind: control.HasActiveVT}}},
		{[]string{"show-splash"}, 0, []control.Command{{Kind: control.Show}}},
		{[]string{"deactivate"}, 0, []control.Command{{Kind: control.Deactivate}}},
		{[]string{"reactivate"}, 0, []control.Command{{Kind: control.Reactivate}}},
		{[]string{"change-mode", "--shutdown"}, 0, nil},
		{[]string{"pause-progress"}, 0, []control.Command{{Kind: control.PauseProgress}}},
		{[]string{"unpause-progress"}, 0, []control.Command{{Kind: control.UnpauseProgress}}},
		{[]string{"--sysinit"}, 0, []control.Command{{Kind: control.SystemInitialized}}},
		{[]string{"--newroot=/sysroot"}, 0, nil},
		{[]string{"report-error"}, 0, nil},
		{[]string{"quit", "--retain-splash"}, 0, []control.Command{{Kind: control.Quit, Retain: true}}},
		{[]string{"--quit"}, 0, []control.Command{{Kind: control.Quit}}},
	} {
		code, out := run(tc.args...)
		if code != tc.code {
			t.Errorf("plymouth %s: exit status %d, want %d; output: %s", strings.Join(tc.args, " "), code, tc.code, out)
		}
		got := d.Take()
		if len(got) != len(tc.want) {
			t.Errorf("plymouth %s: daemon got %v, want %v", strings.Join(tc.args, " "), got, tc.want)
			continue
		}
		for i, w := range tc.want {
			g := got[i]
			if g.Kind != w.Kind || g.Text != w.Text || g.Retain != w.Retain || math.Abs(g.Value-w.Value) > 1e-9 {
				t.Errorf("plymouth %s: daemon got %+v, want %+v", strings.Join(tc.args, " "), g, w)
			}
		}
	}

	// No keyboard: the daemon has no answer, so the client runs its
	// --command itself (with nothing on its standard input), as it does
	// when no daemon runs.
	ran := filepath.Join(t.TempDir(), "ran")
	if code, out := run("ask-for-password", "--prompt=Passphrase", "--command=touch "+ran); code != 0 {
		t.Errorf("plymouth ask-for-password --command: exit status %d; output: %s", code, out)
	}
	if _, err := os.Stat(ran); err != nil {
		t.Errorf("plymouth ask-for-password did not fall back to running its command: %v", err)
	}
	var kinds []control.Kind
	for _, c := range d.Take() {
		kinds = append(kinds, c.Kind)
	}
	// pause, the cached passwords (--command asks for them first), the
	// password; a client that got no answer does not unpause.
	if want := []control.Kind{control.PauseProgress, control.CachedPasswords, control.AskPassword}; !slices.Equal(kinds, want) {
		t.Errorf("ask-for-password reached the daemon as %v, want %v", kinds, want)
	}

	// `plymouth --wait` returns once the daemon goes away.
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	wait := exec.CommandContext(wctx, bin, "--wait")
	if err := wait.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	stop()
	stopped = true
	if err := wait.Wait(); err != nil || wctx.Err() != nil {
		t.Errorf("plymouth --wait after the server stopped: %v (context: %v)", err, wctx.Err())
	}
	if code, _ := run("--ping"); code == 0 {
		t.Errorf("plymouth --ping succeeded with no server")
	}
	settle(t, before)
}

// TestIdleClientsDoNotLockOutPlymouth: more clients than the server
// serves at once, connected and sending nothing (as `plymouth --wait`
// does), or stalled in the middle of a request, do not keep the real
// `plymouth --ping` out. (It used to return 2 for as long as they stayed.)
func TestIdleClientsDoNotLockOutPlymouth(t *testing.T) {
	bin := plymouthClient(t)
	d := &fakeDaemon{}
	s, stop := serve(t, Options{RequestTimeout: 300 * time.Millisecond}, d)
	defer stop()
	var conns []net.Conn
	for range control.DefaultMaxConns + 8 {
		conns = append(conns, dialRaw(t, s.Name()))
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	half := dialRaw(t, s.Name())
	defer half.Close()
	half.Write([]byte("M\x02\x20abc"))
	var worst time.Duration
	for range 5 {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, bin, "--ping").CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("plymouth --ping with %d idle clients: %v %s", len(conns), err, out)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("plymouth --ping with %d idle clients and a half-open one: at most %v", len(conns), worst)
	// The half-sent request was closed once its time was up (or to make
	// room), without reaching the daemon.
	half.SetReadDeadline(time.Now().Add(3 * time.Second))
	if b, err := io.ReadAll(half); err != nil || len(b) != 0 {
		t.Errorf("a stalled request read %q, %v; want the connection closed", b, err)
	}
	for _, c := range d.Take() {
		if c.Kind != control.Ping {
			t.Errorf("the daemon got %+v", c)
		}
	}
}

// TestBadRequestsLogBounded: every bad request used to write its own
// warning, so a client could flood the log. 10,000 bad requests (unknown
// letters, a progress that is no percentage, malformed ones that close
// the client) write at most a line at once and a line counting the rest
// per kind.
func TestBadRequestsLogBounded(t *testing.T) {
	var logs testutil.SyncBuffer
	d := &fakeDaemon{}
	s, stop := serve(t, Options{Name: testName(t), Log: slog.New(slog.NewTextHandler(&logs, nil))}, d)
	c := dialRaw(t, s.Name())
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var reqs []byte
	const n = 9_900
	for i := range n {
		if i%2 == 0 {
			reqs = append(reqs, "Z\x00"...)
		} else {
			reqs = append(reqs, withArg('u', "lots")...)
		}
	}
	go c.Write(reqs)
	replies := make([]byte, n)
	if _, err := io.ReadFull(c, replies); err != nil {
		t.Fatalf("after %d replies: %v", len(replies), err)
	}
	if bytes.Count(replies, []byte{nak}) != n {
		t.Errorf("not every bad request was refused")
	}
	c.Close()
	for range 100 {
		c := dialRaw(t, s.Name())
		c.Write([]byte("PX"))
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != nak {
			t.Errorf("reply to a malformed request: %#x, %v; want NAK", b[0], err)
		}
		c.Close()
	}
	stop()
	out := logs.String()
	if lines := strings.Count(out, "\n"); lines > 6 {
		t.Errorf("10,000 bad requests wrote %d log lines, want at most 6:\n%.2000s", lines, out)
	}
	for _, want := range []string{"unknown request (4949 times in", "not a percentage (4949 times in", "closing a client (99 times in"} {
		if !strings.Contains(out, want) {
			t.Errorf("no line says %q:\n%.2000s", want, out)
		}
	}
}
