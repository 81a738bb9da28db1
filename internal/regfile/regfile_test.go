package regfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRefuses opens a FIFO, a directory, a device and a file over the cap:
// each is refused at once with an error naming the path and what it is.
func TestRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 101), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fifo, "is a FIFO, not a regular file"},
		{dir, "is a directory, not a regular file"},
		{"/dev/null", "is a device (character), not a regular file"},
		{big, "is 101 bytes, over the 100-byte (100 bytes) cap on an image"},
	} {
		start := time.Now()
		_, err := ReadFile(c.path, 100, "image")
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: took %v", c.path, took)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != c.path {
			t.Errorf("%s: %v, want a PathError naming it", c.path, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || strings.Count(err.Error(), c.path) != 1 {
			t.Errorf("%s: %q, want %q, the path once", c.path, err, c.want)
		}
	}
	if b, err := ReadFile(big, 101, "image"); err != nil || len(b) != 101 {
		t.Errorf("a file at the cap: %d bytes, %v", len(b), err)
	}
}

// TestGrown: a file that grows past the cap after the check is cut off.
func TestGrown(t *testing.T) {
	r := strings.NewReader(strings.Repeat("x", 50))
	_, err := ReadAll(r, "f", 10, "font")
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Max != 10 {
		t.Errorf("ReadAll of 50 bytes capped at 10: %v", err)
	}
}
