package splash

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestThreads: the count threadTimes reads from /proc/self/task is the one
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
	n, _ := threadTimes()
	after := status()
	if n < 1 {
		t.Fatalf("threadTimes() counted %d threads", n)
	}
	if n < min(before, after) || n > max(before, after) {
		t.Errorf("threadTimes() counted %d, /proc/self/status says %d before and %d after", n, before, after)
	}
}
