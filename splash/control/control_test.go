package control

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

// settleGoroutines waits until the goroutine count is back to want.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, want %d (leak)\n%s", runtime.NumGoroutine(), want, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	for _, c := range []Command{
		{Kind: Ping},
		{Kind: Progress, Value: 0.4},
		{Kind: Progress, Value: 0.125},
		{Kind: Progress, Value: 1},
		{Kind: SystemUpdate, Value: 0.07},
		{Kind: Message, Text: "Checking file systems… 1/3"},
		{Kind: Message, Text: ""},
		{Kind: HideMessage},
		{Kind: Status, Text: "fsck"},
		{Kind: Show}, {Kind: Hide}, {Kind: Deactivate}, {Kind: Reactivate},
		{Kind: Quit}, {Kind: Quit, Retain: true},
		{Kind: HasActiveVT},
	} {
		line, err := FormatRequest(c)
		if err != nil {
			t.Fatalf("FormatRequest(%v): %v", c, err)
		}
		got, err := ParseRequest(line)
		if err != nil {
			t.Fatalf("ParseRequest(%q): %v", line, err)
		}
		if got.Kind != c.Kind || got.Text != c.Text || got.Retain != c.Retain || math.Abs(got.Value-c.Value) > 1e-9 {
			t.Errorf("%q: got %+v, want %+v", line, got, c)
		}
	}
}

func TestParseRequestErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"", "unknown request"},
		{"bogus", "unknown request"},
		{"PING", "unknown request"},
		{"progress", "needs a percentage"},
		{"progress abc", "not a percentage"},
		{"progress 101", "not a percentage"},
		{"progress -1", "not a percentage"},
		{"progress NaN", "not a percentage"},
		{"ping now", "takes no argument"},
		{"quit now", "unknown argument"},
		{"message \xff\xfe", "not valid UTF-8"},
		{"status a\x00b", "NUL"},
	} {
		if _, err := ParseRequest(tc.line); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRequest(%q) = %v, want an error containing %q", tc.line, err, tc.want)
		}
	}
	for _, c := range []Command{
		{Kind: Message, Text: "two\nlines"},
		{Kind: Message, Text: strings.Repeat("x", MaxText+1)},
		{Kind: Progress, Value: 1.5},
		{Kind: Progress, Value: math.NaN()},
		{Kind: Kind(99)},
	} {
		if line, err := FormatRequest(c); err == nil {
			t.Errorf("FormatRequest(%+v) = %q, want an error", c, line)
		}
	}
}

// fakeDaemon answers commands and records them.
type fakeDaemon = testutil.FakeDaemon[Command]

// serve starts a server at a fresh path with a fake daemon; the returned
// func stops both and checks Serve's result.
func serve(t *testing.T, opts ServerOptions, d *fakeDaemon) (*Server, func()) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "control")
	s, err := Listen(path, opts)
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

func TestServerRequests(t *testing.T) {
	before := runtime.NumGoroutine()
	d := &fakeDaemon{Answer: func(c Command) error {
		if c.Kind == Reactivate {
			return ErrNotDeactivated
		}
		return nil
	}}
	s, stop := serve(t, ServerOptions{}, d)

	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(s.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %v, want 0700", di.Mode().Perm())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := Dial(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{
		{Kind: Ping},
		{Kind: Progress, Value: 0.4},
		{Kind: Message, Text: "Checking disks"},
		{Kind: Status, Text: "fsck /dev/sda1"},
		{Kind: Hide}, {Kind: Show},
		{Kind: Quit, Retain: true},
	}
	for _, c := range want {
		if err := cl.Do(ctx, c); err != nil {
			t.Fatalf("Do(%v): %v", c, err)
		}
	}
	err = cl.Do(ctx, Command{Kind: Reactivate})
	var re *ReplyError
	if !errors.As(err, &re) || re.Reason != ErrNotDeactivated.Error() {
		t.Errorf("reactivate: %v, want a ReplyError %q", err, ErrNotDeactivated)
	}
	cl.Close()
	stop()

	got := d.Commands()
	if len(got) != len(want)+1 {
		t.Fatalf("daemon got %d commands, want %d: %v", len(got), len(want)+1, got)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.Kind || g.Text != w.Text || g.Retain != w.Retain || math.Abs(g.Value-w.Value) > 1e-9 || g.Source != "native" {
			t.Errorf("command %d: got %+v, want %+v", i, g, w)
		}
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Errorf("socket still there after Serve returned: %v", err)
	}
	settleGoroutines(t, before)
}

// rawConn connects without the client and reads the greeting.
func rawConn(t *testing.T, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	g, err := r.ReadString('\n')
	if err != nil || g != "bootsplash-control 1\n" {
		t.Fatalf("greeting %q, %v", g, err)
	}
	return c, r
}

func TestServerMalformedKeepsConnection(t *testing.T) {
	d := &fakeDaemon{}
	s, stop := serve(t, ServerOptions{}, d)
	defer stop()
	c, r := rawConn(t, s.Path())
	defer c.Close()
	for _, tc := range []struct{ send, want string }{
		{"bogus\n", "err unknown request"},
		{"progress 250\n", "err progress: "},
		{"\n", "err unknown request"},
		{"ping\r\n", "ok"},
		{"message a\xffb\n", "err message: text is not valid UTF-8"},
		{"ping\n", "ok"},
	} {
		if _, err := io.WriteString(c, tc.send); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", tc.send, err)
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("reply to %q: %q, want %q…", tc.send, got, tc.want)
		}
	}
	if n := len(d.Commands()); n != 2 {
		t.Errorf("daemon got %d commands, want the 2 pings", n)
	}
}

func TestServerOversizedLine(t *testing.T) {
	d := &fakeDaemon{}
	s, stop := serve(t, ServerOptions{}, d)
	defer stop()
	c, r := rawConn(t, s.Path())
	defer c.Close()
	// More than MaxLine without a newline: refused, then closed, and
	// never handed to the daemon.
	go c.Write([]byte("message " + strings.Repeat("x", 3*MaxLine) + "\n"))
	got, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(got, "err line too long") {
		t.Fatalf("reply %q, %v; want err line too long", got, err)
	}
	// Closed: EOF, or a reset since the rest of the line was never read.
	if _, err := r.ReadString('\n'); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("connection not closed after an oversized line: %v", err)
	}
	if n := len(d.Commands()); n != 0 {
		t.Errorf("daemon got %d commands from an oversized line", n)
	}
	// A line of exactly MaxLine bytes is still fine.
	c2, r2 := rawConn(t, s.Path())
	defer c2.Close()
	line := "message " + strings.Repeat("y", MaxLine-len("message ")-1) + "\n"
	go c2.Write([]byte(line))
	if got, err := r2.ReadString('\n'); err != nil || got != "ok\n" {
		t.Errorf("a %d-byte line: %q, %v", len(line), got, err)
	}
}

func TestServerRefusesPeer(t *testing.T) {
	uid := uint32(os.Getuid()) + 4242
	d := &fakeDaemon{}
	s, stop := serve(t, ServerOptions{AllowUIDs: []uint32{uid}}, d)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, s.Path())
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Dial as a user not allowed: %v, want permission denied", err)
	}
	if n := len(d.Commands()); n != 0 {
		t.Errorf("daemon got %d commands", n)
	}
}

func TestDialNoDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control")
	_, err := Dial(context.Background(), path)
	want := "no bootsplash daemon at " + path + ": connect: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("Dial: %v\nwant: %s", err, want)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dial error %v does not match os.ErrNotExist", err)
	}
}

func TestListenRunningAndStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control")
	s, err := Listen(path, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path, ServerOptions{}); !errors.Is(err, ErrRunning) {
		t.Errorf("second Listen: %v, want ErrRunning", err)
	}
	s.Close()

	// A socket file nobody listens on is replaced.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	s, err = Listen(path, ServerOptions{})
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	s.Close()

	// Anything else in the way is left alone.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path, ServerOptions{}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a regular file: %v", err)
	}
}

func TestServerStopsWithIdleClients(t *testing.T) {
	before := runtime.NumGoroutine()
	d := &fakeDaemon{}
	s, stop := serve(t, ServerOptions{MaxConns: 3}, d)
	var conns []net.Conn
	var readers []*bufio.Reader
	for range 3 {
		c, r := rawConn(t, s.Path())
		conns, readers = append(conns, c), append(readers, r)
		time.Sleep(time.Millisecond) // an order by age
	}
	// A fourth client is over the limit: it takes the place of the one
	// that waited longest, which is told why.
	c4, _ := rawConn(t, s.Path())
	if line, err := readers[0].ReadString('\n'); err != nil || line != "err closed to make room for a new client\n" {
		t.Errorf("the oldest idle client read %q, %v; want the reason it is closed", line, err)
	}
	if b, err := io.ReadAll(readers[0]); err != nil || len(b) != 0 {
		t.Errorf("the oldest idle client read %q, %v; want EOF", b, err)
	}
	conns = append(conns[1:], c4)
	stop() // must return although three clients sit idle
	for _, c := range conns {
		if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
			t.Errorf("idle client read %q, %v after stop; want EOF", b, err)
		}
		c.Close()
	}
	settleGoroutines(t, before)
}
