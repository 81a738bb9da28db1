package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An error names the path it is about once: a symlink loop given as a
// theme read "X: open X: too many levels of symbolic links".
func TestErrorsSayPathOnce(t *testing.T) {
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "f.png")
	for _, args := range [][]string{
		{"render", "--theme", loop, "--out", out},
		{"theme", "check", loop},
		{"run", "--backend", "kms", "--device", loop, "--socket", "", "--psplash=false", "--plymouth=false"},
		{"info", "--device", loop},
		{"study", "--source", "memfd", "--sizes", "64x48", "--frames", "1", "--warmup", "0", "--workloads", "full", "--strategies", "cached", "--json", filepath.Join(loop, "r.json")},
	} {
		_, stderr, err := runArgs(t, args...)
		if err == nil {
			t.Errorf("%q: no error", args)
			continue
		}
		text := err.Error() + "\n" + stderr
		if !strings.Contains(text, "too many levels of symbolic links") {
			t.Errorf("%q: %q does not say why", args, text)
		}
		if n := strings.Count(text, loop); n != 1 {
			t.Errorf("%q names %s %d times:\n%s", args, loop, n, text)
		}
	}
}
