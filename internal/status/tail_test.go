package status

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func lines(t *testing.T, tl *Tail) string {
	t.Helper()
	if err := tl.Poll(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(tl.Lines(nil), "|")
}

func openTail(t *testing.T, path string, opt TailOptions) *Tail {
	t.Helper()
	tl, err := OpenTail(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	return tl
}

func TestTailFollows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte("a\nb\nc\nd\n"), 0o644)
	tl := openTail(t, path, TailOptions{Lines: 3})
	if got := lines(t, tl); got != "b|c|d" {
		t.Errorf("last 3 lines %q", got)
	}
	appendFile(t, path, "e\nhalf")
	if got := lines(t, tl); got != "c|d|e|half" {
		t.Errorf("after an append %q, want c|d|e and the line being written", got)
	}
	appendFile(t, path, " done\r\n\tx\x1b[1m\xff\n")
	if got := lines(t, tl); got != "e|half done| x\uFFFD[1m\uFFFD" {
		t.Errorf("after the line ends %q", got)
	}
}

func TestTailTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte("old 1\nold 2\nold 3\n"), 0o644)
	tl := openTail(t, path, TailOptions{})
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "new\n")
	if got := lines(t, tl); got != "old 1|old 2|old 3|new" {
		t.Errorf("after truncation %q, want the new line read from the start", got)
	}
}

func TestTailRotated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	os.WriteFile(path, []byte("1\n"), 0o644)
	tl := openTail(t, path, TailOptions{})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", "2 (before the new file)\n")
	if got := lines(t, tl); got != "1|2 (before the new file)" || !strings.Contains(tl.Status(), "no such file") {
		t.Errorf("while the path is gone: %q, status %q", got, tl.Status())
	}
	appendFile(t, path, "3 (new file)\n")
	if got := lines(t, tl); got != "1|2 (before the new file)|3 (new file)" || tl.Status() != "" {
		t.Errorf("after rotation: %q, status %q", got, tl.Status())
	}
	appendFile(t, path, "4\n")
	if got := lines(t, tl); !strings.HasSuffix(got, "|4") {
		t.Errorf("the new file is followed: %q", got)
	}
	// A FIFO put where the log was is not opened.
	os.Rename(path, path+".2")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := lines(t, tl); !strings.HasSuffix(got, "|4") || !strings.Contains(tl.Status(), "FIFO") {
		t.Errorf("a FIFO in place of the log: %q, status %q", got, tl.Status())
	}
}

// A huge line is kept cut to MaxLine; a huge file is read only from the
// window of its last lines; memory stays bounded either way.
func TestTailHuge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	big := strings.Repeat("x", 8<<20)
	os.WriteFile(path, []byte("first\n"+big+"\nlast\n"), 0o644)
	tl := openTail(t, path, TailOptions{Lines: 4, MaxLine: 100})
	if got := lines(t, tl); got != "last" {
		t.Errorf("a file of one huge line and a short one: %q, want only the last line", got)
	}
	// More than the window at once: only the window is read.
	appendFile(t, path, big+"\nafter\n")
	if got := lines(t, tl); got != "last|after" {
		t.Errorf("after 8 MiB appended at once: %q, want the lines of the last window", got)
	}
	// A line longer than MaxLine, inside the window: kept, cut.
	long := strings.Repeat("y", 300)
	appendFile(t, path, long+"\nend\n")
	if err := tl.Poll(); err != nil {
		t.Fatal(err)
	}
	got := tl.Lines(nil)
	if len(got) != 4 || got[2] != long[:100] || got[3] != "end" {
		t.Errorf("after a 300-byte line: %q", got)
	}
	if cap(tl.partial) != 100 || len(tl.buf) != readChunk {
		t.Errorf("buffers grew: partial %d, read %d", cap(tl.partial), len(tl.buf))
	}
}

func TestTailRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct{ path, want string }{
		{fifo, "is a FIFO, not a regular file"},
		{dir, "is a directory, not a regular file"},
		{"/dev/null", "is a character device, not a regular file"},
		{filepath.Join(dir, "missing"), "no such file or directory"},
		{filepath.Join(file, "below"), "not a directory"},
	} {
		done := make(chan error, 1)
		go func() {
			tl, err := OpenTail(c.path, TailOptions{})
			if err == nil {
				tl.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("OpenTail(%s): %v, want %q with the path", c.path, err, c.want)
			}
			var nr *NotRegularError
			if strings.HasPrefix(c.want, "is a") && !errors.As(err, &nr) {
				t.Errorf("OpenTail(%s): %T is not a *NotRegularError", c.path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("OpenTail(%s) hangs", c.path)
		}
	}
}
