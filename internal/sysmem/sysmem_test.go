package sysmem

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAvailable(t *testing.T) {
	l, err := Available()
	if err != nil {
		t.Fatal(err)
	}
	if l.Bytes == 0 || l.By == "" {
		t.Fatalf("Available() = %+v", l)
	}
	t.Logf("available: %d bytes (%s)", l.Bytes, l.By)
	err = Check(l.Bytes + 1<<30)
	var se *ShortError
	if !errors.As(err, &se) || se.Need != l.Bytes+1<<30 {
		t.Fatalf("Check(more than available) = %v", err)
	}
	if !strings.Contains(err.Error(), "bytes") || !strings.Contains(err.Error(), "available") {
		t.Errorf("error %q does not name the bytes needed and available", err)
	}
	if err := Check(1 << 20); err != nil {
		t.Errorf("Check(1 MiB) = %v", err)
	}
}

// TestMeminfo reads MemAvailable from a made-up /proc: the limit is never
// more than it says.
func TestMeminfo(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "meminfo"), []byte("MemTotal: 100 kB\nMemAvailable:   2048 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := available(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Bytes > 2048*1024 || l.By == "" {
		t.Errorf("available = %+v, want at most 2 MiB", l)
	}
}

// TestCheckNothing: a size checked only for its bounds (run's --mode, the
// default --size) reads no /proc file on the way to the first frame. Each
// read allocates, so none may happen.
func TestCheckNothing(t *testing.T) {
	if err := Check(0); err != nil {
		t.Fatalf("Check(0) = %v", err)
	}
	if n := testing.AllocsPerRun(10, func() { _ = Check(0) }); n != 0 {
		t.Errorf("Check(0) allocated %v times a call: it read the machine's memory", n)
	}
	if n := testing.AllocsPerRun(3, func() { _ = Check(1) }); n == 0 {
		t.Errorf("Check(1) allocated nothing: this test no longer sees /proc being read")
	}
}
