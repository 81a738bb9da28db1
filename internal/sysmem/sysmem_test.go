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
