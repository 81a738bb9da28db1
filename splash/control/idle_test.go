package control

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// lineLog is a logger whose lines a test can count.
type lineLog struct{ testutil.SyncBuffer }

func (l *lineLog) lines() []string {
	return strings.Split(strings.TrimSpace(l.String()), "\n")
}

func (l *lineLog) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// ping dials path and pings, as `bootsplash ctl ping` does, and says how
// long it took.
func ping(t *testing.T, path string) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := Dial(ctx, path)
	if err != nil {
		return time.Since(start), err
	}
	defer cl.Close()
	err = cl.Do(ctx, Command{Kind: Ping})
	return time.Since(start), err
}

// TestIdleClientsDoNotLockOut: clients that connect and send nothing,
// more of them than the server serves at once, do not keep a ping out:
// the one that waited longest makes room for it. (Every ping used to
// fail with "reading the reply: EOF" for as long as they stayed.)
func TestIdleClientsDoNotLockOut(t *testing.T) {
	d := &fakeDaemon{}
	s, stop := serve(t, ServerOptions{}, d)
	defer stop()
	var idle []net.Conn
	for range DefaultMaxConns + 8 {
		c, err := net.Dial("unix", s.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// Half-sent requests too.
	for range 4 {
		c, _ := rawConn(t, s.Path())
		defer c.Close()
		io.WriteString(c, "messa")
	}
	var worst time.Duration
	for i := range 10 {
		took, err := ping(t, s.Path())
		if err != nil {
			t.Fatalf("ping %d with %d idle clients: %v", i, len(idle), err)
		}
		worst = max(worst, took)
	}
	t.Logf("ping with %d idle and 4 half-open clients: at most %v", len(idle), worst)
	if n := len(d.Commands()); n != 10 {
		t.Errorf("daemon got %d commands, want 10 pings", n)
	}
}

// TestIdleTimeout: a client that sends nothing, or half a request, is
// closed after the idle or request timeout, and told why.
func TestIdleTimeout(t *testing.T) {
	d := &fakeDaemon{}
	s, stop := serve(t, ServerOptions{IdleTimeout: 300 * time.Millisecond, RequestTimeout: 200 * time.Millisecond}, d)
	defer stop()
	for _, tc := range []struct {
		name string
		send func(c net.Conn)
		want string
	}{
		{"idle", func(net.Conn) {}, "err closed: no request for too long\n"},
		{"half a request", func(c net.Conn) { io.WriteString(c, "progr") }, "err closed: request not finished in time\n"},
		// A byte now and then does not stretch the time a request may take.
		{"trickle", func(c net.Conn) {
			for _, b := range "progress 5" {
				time.Sleep(50 * time.Millisecond)
				if _, err := c.Write([]byte{byte(b)}); err != nil {
					return
				}
			}
		}, "err closed: request not finished in time\n"},
	} {
		c, r := rawConn(t, s.Path())
		start := time.Now()
		go tc.send(c)
		line, err := r.ReadString('\n')
		took := time.Since(start)
		if err != nil || line != tc.want {
			t.Errorf("%s: read %q, %v; want %q", tc.name, line, err, tc.want)
		}
		if _, err := r.ReadString('\n'); err == nil {
			t.Errorf("%s: connection still open", tc.name)
		}
		if took > 2*time.Second {
			t.Errorf("%s: closed after %v", tc.name, took)
		}
		c.Close()
	}
	// A client that keeps asking is not idle.
	c, r := rawConn(t, s.Path())
	defer c.Close()
	for range 8 {
		time.Sleep(100 * time.Millisecond)
		io.WriteString(c, "ping\n")
		if line, err := r.ReadString('\n'); err != nil || line != "ok\n" {
			t.Fatalf("a client asking every 100ms: %q, %v", line, err)
		}
	}
	// The Go client says why the daemon closed its idle connection.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := Dial(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	time.Sleep(500 * time.Millisecond)
	err = cl.Do(ctx, Command{Kind: Ping})
	if err == nil || !strings.Contains(err.Error(), "no request for too long") {
		t.Errorf("ping on a connection closed as idle: %v, want the reason", err)
	}
}

// blockingDaemon holds every command until release is closed.
func blockingDaemon(release <-chan struct{}) *fakeDaemon {
	return &fakeDaemon{Answer: func(Command) error {
		<-release
		return nil
	}}
}

// TestBusyRefusedAndLogBounded: with every place taken by a client in
// the middle of a request, a new client is told the daemon is busy (not
// an EOF), and a thousand of them write a bounded log; so do a thousand
// connections of a user not allowed.
func TestBusyRefusedAndLogBounded(t *testing.T) {
	var log lineLog
	release := make(chan struct{})
	d := blockingDaemon(release)
	s, stop := serve(t, ServerOptions{MaxConns: 2, Log: log.logger()}, d)
	released := false
	defer func() {
		if !released {
			close(release)
			stop()
		}
	}()
	for range 2 {
		c, _ := rawConn(t, s.Path())
		defer c.Close()
		io.WriteString(c, "ping\n") // held by the daemon: busy
	}
	time.Sleep(50 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, s.Path())
	if !errors.Is(err, ErrBusy) || !strings.HasPrefix(err.Error(), "the bootsplash daemon at "+s.Path()+" is busy: 2 clients are being served, none of them idle") {
		t.Errorf("Dial while busy: %v, want the daemon busy", err)
	}
	const n = 1000
	for range n {
		c, err := net.Dial("unix", s.Path())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		if !strings.HasPrefix(string(b), "err daemon busy") {
			t.Fatalf("a client while busy read %q", b)
		}
	}
	close(release)
	stop()
	released = true
	lines := log.lines()
	t.Logf("%d clients refused as busy: %d log lines:\n%s", n, len(lines), strings.Join(lines, "\n"))
	if len(lines) > 3 {
		t.Errorf("%d refusals wrote %d log lines, want at most 3", n, len(lines))
	}
	if !strings.Contains(lines[len(lines)-1], "times in") {
		t.Errorf("the last line %q does not count the refusals it stands for", lines[len(lines)-1])
	}

	// A user not allowed, a thousand times.
	var log2 lineLog
	s2, stop2 := serve(t, ServerOptions{AllowUIDs: []uint32{uint32(os.Getuid()) + 4242}, Log: log2.logger()}, &fakeDaemon{})
	for range n {
		c, err := net.Dial("unix", s2.Path())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.ReadAll(c)
		c.Close()
	}
	stop2()
	lines = log2.lines()
	t.Logf("%d refused peers: %d log lines:\n%s", n, len(lines), strings.Join(lines, "\n"))
	if len(lines) > 3 || !strings.Contains(lines[len(lines)-1], "times in") {
		t.Errorf("%d refused peers wrote %d log lines, want at most 3, the last with a count", n, len(lines))
	}
}

// TestFloodingClient: a client that sends requests without reading the
// replies is closed once its replies back up, and others are answered
// meanwhile.
func TestFloodingClient(t *testing.T) {
	d := &fakeDaemon{}
	s, stop := serve(t, ServerOptions{}, d)
	defer stop()
	flood, _ := rawConn(t, s.Path())
	defer flood.Close()
	flood.SetDeadline(time.Time{})
	flooded := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(flood)
		for {
			if _, err := w.WriteString("ping\n"); err != nil {
				flooded <- err
				return
			}
		}
	}()
	var worst time.Duration
	for range 20 {
		took, err := ping(t, s.Path())
		if err != nil {
			t.Fatalf("ping beside a flooding client: %v", err)
		}
		worst = max(worst, took)
	}
	t.Logf("ping beside a flooding client: at most %v", worst)
	select {
	case err := <-flooded:
		t.Logf("the flooding client: %v", err)
	case <-time.After(10 * time.Second):
		t.Errorf("a client that never reads its replies is still served after 10s")
	}
}
