package vmtest

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// The in-guest clock: beside the screendumps, which see a frame to within
// one screendump (about 30 ms), testdata/ttff_time.c times each program
// inside the guest, from just before fork to the line it writes when its
// frame is up, to a fraction of a millisecond. Two programs that draw
// nothing bound what any program pays before its main: ttff_start.c and
// cmd/ttff-start, the same empty program in C and in Go.

// guestClockProgram is one program the in-guest clock times.
type guestClockProgram struct {
	name string
	// frame is text of the line the program writes when its frame is up
	// (for the start programs: at main); main, of the one at main ("":
	// it writes none).
	frame, main string
	cmd         []string
}

// guestClockPrograms are the programs of the in-guest clock, in the order
// the summary gives them.
var guestClockPrograms = []guestClockProgram{
	{name: "start-c", frame: "ttff-start: main", cmd: []string{"/bin/ttff_start"}},
	{name: "start-go", frame: "ttff-start: main", cmd: []string{"/bin/ttff-start"}},
	{name: "floor", frame: "ttff_floor: shown", main: "ttff_floor: main", cmd: []string{"/bin/ttff_floor"}},
	{name: "floor-go", frame: "ttff-gofloor: shown", main: "ttff-gofloor: main", cmd: []string{"/bin/ttff-gofloor"}},
	{name: "bootsplash", frame: "pre-rendered frame up after", cmd: []string{"/bin/bootsplash", "run"}},
	// Said once the control front ends serve, a little after the frame.
	{name: "bootsplash-noframe", frame: "first frame after", cmd: []string{"/bin/bootsplash", "run", "--frames", ""}},
}

// guestClockRuns is how many times the in-guest clock runs each program:
// its runs are short, and more of them steady the median.
func guestClockRuns(runs int) int { return max(2*runs+1, 5) }

// guestClockFiles builds the in-guest clock and the two start programs
// for arch (cc and pkgs: the C compiler and the packages that install it)
// into dir, as guest files.
func guestClockFiles(t *testing.T, ctx context.Context, root string, arch Arch, cc, pkgs, dir string) []File {
	t.Helper()
	clock := filepath.Join(dir, "ttff_time")
	buildCWith(t, ctx, cc, pkgs, root, "ttff_time.c", clock)
	startC := filepath.Join(dir, "ttff_start")
	buildCWith(t, ctx, cc, pkgs, root, "ttff_start.c", startC)
	startGo := filepath.Join(dir, "ttff-start")
	if err := GoBuildFor(ctx, root, arch, "./internal/vmtest/cmd/ttff-start", startGo); err != nil {
		t.Fatal(err)
	}
	return []File{
		{Path: "/bin/ttff_time", HostPath: clock},
		{Path: "/bin/ttff_start", HostPath: startC},
		{Path: "/bin/ttff-start", HostPath: startGo},
	}
}

// guestClockBase is the base build on the in-guest clock, when it shows
// the first frames it drew (BOOTSPLASH_TTFF_BASE of a revision with
// prerender).
var guestClockBase = guestClockProgram{name: "bootsplash-base", frame: "pre-rendered frame up after", cmd: []string{"/bin/bootsplash-base", "run", "--frames", baseFramesDir}}

// guestClockTimed are the programs the in-guest clock runs: the base build
// too when it shows its own first frames.
func guestClockTimed(base ttffBase) []guestClockProgram {
	if base == baseFrames {
		return append(slices.Clip(guestClockPrograms), guestClockBase)
	}
	return guestClockPrograms
}

// guestClockStep is the plan step that runs the in-guest clock.
func guestClockStep(runs int, base ttffBase) proto.Step {
	cmd := []string{"/bin/ttff_time", strconv.Itoa(runs)}
	for i, p := range guestClockTimed(base) {
		if i > 0 {
			cmd = append(cmd, "--")
		}
		cmd = append(append(cmd, p.name, p.frame, p.main), p.cmd...)
	}
	// Each run takes well under a second; a program that never shows
	// its frame costs the clock 30 s.
	return proto.Step{Name: "in-guest clock", Cmd: cmd, Timeout: proto.Duration(10 * time.Minute)}
}

// guestClockTimes are one program's runs on the in-guest clock, in ms.
type guestClockTimes struct {
	main, frame []float64
}

// parseGuestClock reads ttff_time's output: each program's times, and
// every run that failed, with what the program wrote.
func parseGuestClock(out []byte) (map[string]*guestClockTimes, []string) {
	times := map[string]*guestClockTimes{}
	var failed []string
	lines := strings.Split(string(out), "\n")
	for i := 0; i < len(lines); i++ {
		rest, ok := strings.CutPrefix(lines[i], "ttff_time: ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) >= 3 && f[2] == "failed:" {
			// The program's output follows, up to the next line of
			// the clock's own.
			msg := rest
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "ttff_time: ") {
				i++
				msg += "\n" + lines[i]
			}
			failed = append(failed, strings.TrimSpace(msg))
			continue
		}
		if len(f) != 4 {
			failed = append(failed, "unreadable: "+lines[i])
			continue
		}
		mainMS, err1 := strconv.ParseFloat(strings.TrimPrefix(f[2], "main_ms="), 64)
		frameMS, err2 := strconv.ParseFloat(strings.TrimPrefix(f[3], "frame_ms="), 64)
		if err1 != nil || err2 != nil || !strings.HasPrefix(f[2], "main_ms=") || !strings.HasPrefix(f[3], "frame_ms=") {
			failed = append(failed, "unreadable: "+lines[i])
			continue
		}
		tt := times[f[0]]
		if tt == nil {
			tt = &guestClockTimes{}
			times[f[0]] = tt
		}
		tt.frame = append(tt.frame, frameMS)
		if mainMS >= 0 {
			tt.main = append(tt.main, mainMS)
		}
	}
	return times, failed
}

// guestClockSummary is the in-guest clock's part of a TTFF summary: each
// program's median and spread, the ratios, and what the Go runtime's
// start is against the C floor's whole way to its frame.
func guestClockSummary(times map[string]*guestClockTimes, runs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "in the guest: exec to the line a program writes when its frame is up (start-c, start-go: at main, then they exit), %d runs each, after the runs above; median [min, max] in ms; main: exec to the line at main\n", runs)
	med := map[string]float64{}
	mainMed := map[string]float64{}
	for _, p := range guestClockTimed(baseFrames) {
		tt := times[p.name]
		if tt == nil || len(tt.frame) == 0 {
			continue
		}
		slices.Sort(tt.frame)
		med[p.name] = median(tt.frame)
		fmt.Fprintf(&b, "  %-18s %7.1f [%.1f, %.1f]", p.name, med[p.name], tt.frame[0], tt.frame[len(tt.frame)-1])
		if len(tt.main) > 0 {
			slices.Sort(tt.main)
			mainMed[p.name] = median(tt.main)
			fmt.Fprintf(&b, "  main %.1f [%.1f, %.1f]", mainMed[p.name], tt.main[0], tt.main[len(tt.main)-1])
		}
		b.WriteString("\n")
	}
	ratio := func(a, c string) {
		if med[a] > 0 && med[c] > 0 {
			fmt.Fprintf(&b, "  %s/%s = %.2f\n", a, c, med[a]/med[c])
		}
	}
	ratio("floor-go", "floor")
	ratio("bootsplash", "floor")
	ratio("bootsplash", "floor-go")
	ratio("start-go", "start-c")
	ratio("bootsplash", "bootsplash-base")
	if med["start-go"] > 0 && med["start-c"] > 0 && med["floor"] > 0 {
		goStart := med["start-go"] - med["start-c"]
		fmt.Fprintf(&b, "  the Go runtime's start (start-go - start-c) = %.1f ms = %.2f of the floor's frame\n", goStart, goStart/med["floor"])
	}
	if _, ok := mainMed["floor-go"]; ok && med["floor"] > 0 {
		fmt.Fprintf(&b, "  after main: floor-go %.1f ms, floor %.1f ms\n", med["floor-go"]-mainMed["floor-go"], med["floor"]-mainMed["floor"])
	}
	return b.String()
}

// guestClockReport checks the in-guest clock's step and returns its
// summary: a program that did not reach its frame in a run is a failure.
func guestClockReport(t *testing.T, res *Result, runs int, base ttffBase) string {
	t.Helper()
	if res == nil {
		t.Errorf("in-guest clock: did not run")
		return ""
	}
	if !res.OK() {
		t.Errorf("in-guest clock: exit %d %s\n%s", res.Code, res.Note, res.Output)
	}
	times, failed := parseGuestClock(res.Output)
	for _, f := range failed {
		t.Errorf("in-guest clock: %s", f)
	}
	for _, p := range guestClockTimed(base) {
		if tt := times[p.name]; tt == nil || len(tt.frame) != runs {
			n := 0
			if tt != nil {
				n = len(tt.frame)
			}
			t.Errorf("in-guest clock: %s reached its frame in %d of %d runs", p.name, n, runs)
		}
	}
	return guestClockSummary(times, runs)
}
