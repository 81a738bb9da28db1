package vmtest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuestClock runs the in-guest clock on the host: ttff_time.c built as
// the VM suite builds it, timing the empty C program, a program that
// writes its main line, waits 200 ms and writes its frame line, and one
// that exits before its frame. The times must be read back in order (main
// before frame, the frame no sooner than the wait), and the failure
// reported with what the program wrote.
func TestGuestClock(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed to build the in-guest clock (apt-get install gcc libc6-dev): %v", err)
	}
	ctx := context.Background()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clock, start := filepath.Join(dir, "ttff_time"), filepath.Join(dir, "ttff_start")
	buildC(t, ctx, root, "ttff_time.c", clock)
	buildC(t, ctx, root, "ttff_start.c", start)
	const runs = 3
	out, err := exec.CommandContext(ctx, clock, "3",
		"start-c", "ttff-start: main", "", start, "--",
		"slow", "slow: shown", "slow: main", "/bin/sh", "-c", "echo slow: main; sleep 0.2; echo slow: shown; exec sleep 100", "--",
		"quits", "quits: shown", "", "/bin/sh", "-c", "echo quits: leaving >&2; exit 3").Output()
	if err != nil {
		t.Fatalf("ttff_time: %v\n%s", err, out)
	}
	times, failed := parseGuestClock(out)
	if n := len(times["start-c"].frame); n != runs {
		t.Errorf("start-c: %d runs read, want %d\n%s", n, runs, out)
	}
	slow := times["slow"]
	if slow == nil || len(slow.frame) != runs || len(slow.main) != runs {
		t.Fatalf("slow: runs not read\n%s", out)
	}
	for i := range runs {
		if slow.frame[i] < 200 || slow.main[i] >= slow.frame[i] {
			t.Errorf("slow run %d: main %.1f ms, frame %.1f ms: want main first and the frame after the 200 ms wait", i, slow.main[i], slow.frame[i])
		}
	}
	if times["quits"] != nil {
		t.Errorf("quits: times read for a program that never showed its frame\n%s", out)
	}
	if len(failed) != runs {
		t.Fatalf("%d failures read, want %d (quits, each run): %q", len(failed), runs, failed)
	}
	for _, f := range failed {
		if !strings.HasPrefix(f, "quits ") || !strings.Contains(f, "exited before its frame") || !strings.Contains(f, "quits: leaving") {
			t.Errorf("failure %q: want quits, why and its output", f)
		}
	}
	sum := guestClockSummary(map[string]*guestClockTimes{
		"start-c":  {frame: []float64{5, 6, 7}},
		"start-go": {frame: []float64{13, 14, 12}},
		"floor":    {frame: []float64{24, 25, 23}, main: []float64{1, 1, 1}},
		"floor-go": {frame: []float64{38, 39, 40}, main: []float64{15, 16, 14}},
	}, 3)
	for _, want := range []string{"floor-go/floor = 1.62", "start-go - start-c) = 7.0 ms = 0.29 of the floor's frame", "after main: floor-go 24.0 ms, floor 23.0 ms"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary does not say %q:\n%s", want, sum)
		}
	}
}
