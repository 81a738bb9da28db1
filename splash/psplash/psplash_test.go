package psplash

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/control"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

func TestReader(t *testing.T) {
	var r Reader
	var got []string
	for _, piece := range []string{
		"PROGRESS 1", "0\x00MSG hello world\n", "\x00\x00\n", "QUIT\x00MSG a", "b\x00",
	} {
		got = append(got, r.Feed([]byte(piece))...)
	}
	want := []string{"PROGRESS 10", "MSG hello world", "QUIT", "MSG ab"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("commands %q, want %q", got, want)
	}

	// Overlong: dropped up to its terminator, in one piece or several;
	// what follows is read normally.
	long := strings.Repeat("x", MaxCommand+1)
	got = r.Feed([]byte("MSG " + long[:100]))
	got = append(got, r.Feed([]byte(long+"\x00PROGRESS 5\x00"))...)
	if !reflect.DeepEqual(got, []string{"PROGRESS 5"}) {
		t.Errorf("after an overlong command: %q, want only PROGRESS 5", got)
	}
	if d := r.TakeDropped(); len(d) != 1 || d[0] != 4+100+len(long) {
		t.Errorf("dropped %v, want one command of %d bytes", d, 4+100+len(long))
	}
	// Exactly MaxCommand bytes is fine.
	exact := "MSG " + strings.Repeat("y", MaxCommand-4)
	if got := r.Feed([]byte(exact + "\x00")); len(got) != 1 || got[0] != exact {
		t.Errorf("a command of MaxCommand bytes was not read whole")
	}
	if len(r.pending) != 0 || cap(r.pending) > 2*MaxCommand {
		t.Errorf("reader holds %d bytes (cap %d) between commands", len(r.pending), cap(r.pending))
	}
}

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want control.Command
		err  string
	}{
		{in: "QUIT", want: control.Command{Kind: control.Quit}},
		{in: "PROGRESS 40", want: control.Command{Kind: control.Progress, Value: 0.4}},
		{in: "PROGRESS 0", want: control.Command{Kind: control.Progress, Value: 0}},
		{in: "PROGRESS 250", want: control.Command{Kind: control.Progress, Value: 1}},
		{in: "PROGRESS -30", want: control.Command{Kind: control.Progress, Value: 0}},
		{in: "MSG Starting network", want: control.Command{Kind: control.Message, Text: "Starting network"}},
		{in: "MSG  two  spaces", want: control.Command{Kind: control.Message, Text: " two  spaces"}},
		{in: "MSG bad\xff", want: control.Command{Kind: control.Message, Text: "bad\uFFFD"}},
		{in: "PROGRESS", err: "whole number"},
		{in: "PROGRESS ten", err: "whole number"},
		{in: "MSG", err: "without text"},
		{in: "CLEAR", err: "unknown command"},
		{in: "progress 10", err: "unknown command"},
	} {
		got, err := ParseCommand(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseCommand(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		tc.want.Source = "psplash"
		if err != nil || got.Kind != tc.want.Kind || got.Text != tc.want.Text || got.Value != tc.want.Value || got.Source != "psplash" {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestDir(t *testing.T) {
	t.Setenv("PSPLASH_FIFO_DIR", "")
	if d := Dir(); d != "/run" {
		t.Errorf("Dir() = %q with PSPLASH_FIFO_DIR unset, want /run", d)
	}
	t.Setenv("PSPLASH_FIFO_DIR", "/mnt/.psplash")
	if d := Dir(); d != "/mnt/.psplash" {
		t.Errorf("Dir() = %q, want $PSPLASH_FIFO_DIR", d)
	}
}

// psplashWrite does what psplash-write does: open the FIFO write-only
// without blocking, write the command and its NUL, close.
func psplashWrite(t *testing.T, path, cmd string) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("psplash-write %q: open: %v", cmd, err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, append([]byte(cmd), 0)); err != nil {
		t.Fatalf("psplash-write %q: write: %v", cmd, err)
	}
}

func TestFIFO(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	p, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Path() != filepath.Join(dir, "psplash_fifo") {
		t.Errorf("Path() = %q", p.Path())
	}
	fi, err := os.Lstat(p.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeNamedPipe || fi.Mode().Perm() != 0o600 {
		t.Errorf("FIFO mode %v, want a named pipe with 0600", fi.Mode())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	commands := make(chan control.Command, 64)
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, commands) }()

	psplashWrite(t, p.Path(), "PROGRESS 10")
	psplashWrite(t, p.Path(), "MSG Mounting local filesystems")
	psplashWrite(t, p.Path(), "BOGUS command")
	psplashWrite(t, p.Path(), "MSG "+strings.Repeat("z", MaxCommand)) // too long: dropped
	// A shell script's way, newline-terminated, through a FIFO the
	// writer opens blocking (it does not block: the daemon holds it open).
	script := `echo "PROGRESS 60" > "$1"; printf 'MSG from sh\0QUIT\0' > "$1"`
	if out, err := exec.Command("sh", "-c", script, "sh", p.Path()).CombinedOutput(); err != nil {
		t.Fatalf("sh: %v: %s", err, out)
	}
	want := []control.Command{
		{Kind: control.Progress, Value: 0.1},
		{Kind: control.Message, Text: "Mounting local filesystems"},
		{Kind: control.Progress, Value: 0.6},
		{Kind: control.Message, Text: "from sh"},
		{Kind: control.Quit},
	}
	for i, w := range want {
		select {
		case g := <-commands:
			if g.Kind != w.Kind || g.Text != w.Text || g.Value != w.Value || g.Source != "psplash" || g.Reply != nil {
				t.Errorf("command %d: %+v, want %+v", i, g, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("command %d (%v) never came", i, w)
		}
	}
	select {
	case g := <-commands:
		t.Errorf("unexpected command %+v", g)
	case <-time.After(20 * time.Millisecond):
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := os.Lstat(p.Path()); !os.IsNotExist(err) {
		t.Errorf("FIFO still there after Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d after, %d before", n, before)
	}
}

func TestFIFOStopsWhileDaemonBusy(t *testing.T) {
	p, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	commands := make(chan control.Command) // nobody receives
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, commands) }()
	psplashWrite(t, p.Path(), "PROGRESS 1")
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve blocked on a daemon that does not receive")
	}
}

func TestOpenExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FIFOName)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open over an existing FIFO: %v", err)
	}
	p.Close()

	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "not a FIFO") {
		t.Errorf("Open over a regular file: %v", err)
	}
	if _, err := Open(Options{Dir: filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "use directory "+filepath.Join(dir, "missing")+": no such file or directory") {
		t.Errorf("Open in a missing directory: %v", err)
	}
}

// TestOpenReplacesLooseFIFO finds a FIFO others may write to, and one of
// another user's: either could let them drive the splash, so Open makes
// its own (0600, this user's) in its place.
func TestOpenReplacesLooseFIFO(t *testing.T) {
	for _, c := range []struct {
		name string
		mode uint32
		uid  int
	}{
		{"world-writable", 0o622, os.Geteuid()},
		{"another user's", 0o600, 65534},
	} {
		if c.uid != os.Geteuid() && os.Geteuid() != 0 {
			continue // only root can make another user's FIFO
		}
		dir := t.TempDir()
		path := filepath.Join(dir, FIFOName)
		if err := unix.Mkfifo(path, c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, os.FileMode(c.mode)); err != nil { // past the umask
			t.Fatal(err)
		}
		if err := os.Lchown(path, c.uid, -1); err != nil {
			t.Fatal(err)
		}
		p, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		if int(st.Uid) != os.Geteuid() || st.Mode&0o777 != 0o600 {
			t.Errorf("%s: the FIFO is now uid %d mode %#o, want this user's, 0600", c.name, st.Uid, st.Mode&0o777)
		}
		p.Close()
	}
}

// TestFIFOOverlongCutShort: a psplash-write of a message larger than the
// pipe takes only part of it, so the message never gets its NUL. It is
// refused with a log line, and the valid command written after it is
// still carried out (it used to be dropped along with the message).
func TestFIFOOverlongCutShort(t *testing.T) {
	var logs testutil.SyncBuffer
	p, err := Open(Options{Dir: t.TempDir(), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	commands := make(chan control.Command, 4)
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, commands) }()

	fd, err := unix.Open(p.Path(), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	msg := append([]byte("MSG "+strings.Repeat("x", 1<<20)), 0)
	n, err := unix.Write(fd, msg)
	unix.Close(fd)
	if err != nil || n >= len(msg) {
		t.Fatalf("write of %d bytes: %d, %v; want a partial write", len(msg), n, err)
	}
	// The reader ends the cut-short command where the pipe runs empty,
	// and says so. Written before that, the next command would follow
	// the cut-short bytes in the pipe with no boundary between them (on
	// a loaded machine the write gets room as soon as the reader has
	// taken one page): wait for the refusal, as the next psplash-write of
	// a boot script comes after the last has returned.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "command too long, refused") {
		if time.Now().After(deadline) {
			t.Fatalf("the command cut short was not refused within 5 s; log:\n%s", logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	// The next psplash-write, once the pipe has room again.
	deadline = time.Now().Add(5 * time.Second)
	for {
		fd, err := unix.Open(p.Path(), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = unix.Write(fd, []byte("PROGRESS 42\x00"))
		unix.Close(fd)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EAGAIN) || time.Now().After(deadline) {
			t.Fatalf("psplash-write PROGRESS 42: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case c := <-commands:
		if c.Kind != control.Progress || c.Value != 0.42 {
			t.Errorf("command %+v, want progress 42%%", c)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("PROGRESS 42 after a message cut short never came")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if !strings.Contains(logs.String(), "command too long") || !strings.Contains(logs.String(), fmt.Sprintf("bytes=%d", n)) {
		t.Errorf("log %q lacks the refusal of %d bytes", logs.String(), n)
	}
}

// TestOpenChecksDirectory: the FIFO's directory is given, not made: one
// others may write to without the sticky bit, or a symbolic link, is
// refused and left as it was.
func TestOpenChecksDirectory(t *testing.T) {
	top := t.TempDir()
	open := filepath.Join(top, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(top, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		open: "writable by others without the sticky bit",
		link: "is a symbolic link",
	} {
		p, err := Open(Options{Dir: dir})
		if err == nil {
			p.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "psplash FIFO: use directory "+dir+": "+want) {
			t.Errorf("Open in %s: %v, want %q", dir, err, want)
		}
		if _, err := os.Lstat(filepath.Join(dir, FIFOName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a FIFO was made in %s: %v", dir, err)
		}
	}
	if fi, _ := os.Lstat(open); fi.Mode().Perm() != 0o777 {
		t.Errorf("the given directory is now %v", fi.Mode())
	}
	// A sticky directory anyone may write to (as /tmp is) is fine.
	sticky := filepath.Join(top, "sticky")
	if err := os.Mkdir(sticky, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	p, err := Open(Options{Dir: sticky})
	if err != nil {
		t.Fatalf("Open in a sticky directory: %v", err)
	}
	p.Close()
	if fi, _ := os.Lstat(sticky); fi.Mode() != os.ModeDir|os.ModeSticky|0o777 {
		t.Errorf("the sticky directory is now %v", fi.Mode())
	}
}

// TestOpenInUse: a second daemon on the FIFO of a running one is refused
// (both would read the commands, and the first to quit would remove the
// other's FIFO), and the running one keeps its FIFO.
func TestOpenInUse(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Open(Options{Dir: dir})
	if err == nil {
		second.Close()
	}
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "psplash FIFO: open "+first.Path()+": in use") {
		t.Errorf("second Open: %v, want ErrInUse", err)
	}
	if _, err := os.Lstat(first.Path()); err != nil {
		t.Errorf("the running daemon's FIFO: %v", err)
	}
	// Replaced under the daemon: Close leaves the new one alone.
	if err := os.Remove(first.Path()); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(first.Path(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := os.Lstat(first.Path()); err != nil {
		t.Errorf("Close removed a FIFO it did not make: %v", err)
	}
}

// TestBadCommandsLogBounded: every bad command used to write its own
// warning, so a writer could flood the log (the soak wrote hundreds of
// thousands of lines). 10,000 bad commands, and 100 too long, write at
// most a line at once and a line counting the rest per kind.
func TestBadCommandsLogBounded(t *testing.T) {
	var logs testutil.SyncBuffer
	p, err := Open(Options{Dir: t.TempDir(), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	commands := make(chan control.Command, 4)
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, commands) }()

	w, err := os.OpenFile(p.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	long := "MSG " + strings.Repeat("x", MaxCommand+10) + "\x00"
	for i := range 10_000 {
		cmd := fmt.Sprintf("FROB %d\x00", i)
		if i%2 == 1 {
			cmd = "PROGRESS many\x00"
		}
		if i%100 == 0 {
			cmd += long
		}
		if _, err := w.WriteString(cmd); err != nil {
			t.Fatal(err)
		}
	}
	w.WriteString("PROGRESS 42\x00")
	w.Close()
	select {
	case c := <-commands:
		if c.Kind != control.Progress || c.Value != 0.42 {
			t.Errorf("command %+v, want progress 42%%", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("PROGRESS 42 after the bad commands never came")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	out := logs.String()
	lines := strings.Count(out, "\n")
	if lines > 4 {
		t.Errorf("10,100 bad commands wrote %d log lines, want at most 4:\n%.2000s", lines, out)
	}
	if !strings.Contains(out, "command ignored (9999 times in") {
		t.Errorf("no line counts the 9,999 ignored commands held back:\n%.2000s", out)
	}
	if !strings.Contains(out, "command too long, refused (99 times in") {
		t.Errorf("no line counts the 99 long commands held back:\n%.2000s", out)
	}
}
