package ratelog

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// 10,000 lines of two kinds from 4 goroutines write the first of each at
// once, one per interval after it counting the ones held, and the rest
// at Stop.
func TestLimiter(t *testing.T) {
	var out testutil.SyncBuffer
	l := New(slog.New(slog.NewTextHandler(&out, nil)), 50*time.Millisecond)
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2500 {
				if (g+i)%2 == 0 {
					l.Warn("bad request", "i", i)
				} else {
					l.Error("bad command", "i", i)
				}
				if i%500 == 0 {
					time.Sleep(30 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	l.Stop()
	elapsed := time.Since(start)
	s := out.String()
	lines := strings.Count(s, "\n")
	// Per kind: the first line, at most one per interval, one at Stop.
	if max := 2 * (2 + int(elapsed/(50*time.Millisecond))); lines > max || lines < 4 {
		t.Errorf("%d lines in %v, want 4 to %d:\n%s", lines, elapsed, max, s)
	}
	total := 0
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		n := 1
		if i := strings.Index(line, " ("); i >= 0 {
			var k int
			if _, err := fmt.Sscan(line[i+2:], &k); err == nil {
				n = k
			}
		}
		total += n
	}
	if total != 10_000 {
		t.Errorf("the lines stand for %d, want 10000:\n%s", total, s)
	}
	if !strings.Contains(s, "level=ERROR msg=\"bad command") || !strings.Contains(s, "level=WARN msg=\"bad request") {
		t.Errorf("levels not kept:\n%s", s)
	}
}
