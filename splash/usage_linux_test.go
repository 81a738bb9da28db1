package splash

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestThreads: the count read from /proc/self/stat is the one
// /proc/self/status gives just before or just after (the runtime may start
// a thread in between).
func TestThreads(t *testing.T) {
	status := func() int {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^Threads:\s+(\d+)$`).FindSubmatch(b)
		if m == nil {
			t.Fatal("no Threads: line in /proc/self/status")
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	before := status()
	n, ok := threads()
	after := status()
	if !ok || n < 1 {
		t.Fatalf("threads() = %d, %v", n, ok)
	}
	if n < min(before, after) || n > max(before, after) {
		t.Errorf("threads() = %d, /proc/self/status says %d before and %d after", n, before, after)
	}
}
