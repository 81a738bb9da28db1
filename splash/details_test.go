package splash

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/image/font"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/input"
)

func TestParseKmsg(t *testing.T) {
	for rec, want := range map[string]string{
		"6,339,5140900,-;NET: Registered protocol family 10\n":                         "NET: Registered protocol family 10",
		"7,160,424069,-,caller=T1;pci_root PNP0A03:00: host bridge\n SUBSYSTEM=acpi\n": "pci_root PNP0A03:00: host bridge",
	} {
		if got, ok := parseKmsg(rec); !ok || got != want {
			t.Errorf("parseKmsg(%q) = %q, %v; want %q", rec, got, ok, want)
		}
	}
	if _, ok := parseKmsg("no separator"); ok {
		t.Error("a record without ';' was read")
	}
}

// TestReadKmsg reads the kernel's real log where this user may.
func TestReadKmsg(t *testing.T) {
	if _, err := os.Stat("/dev/kmsg"); err != nil {
		t.Skip("no /dev/kmsg")
	}
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- readKmsg(ctx, "/dev/kmsg", lines) }()
	select {
	case l := <-lines:
		if l == "" {
			t.Error("an empty line from the kernel's log")
		}
	case err := <-done:
		t.Skipf("cannot read /dev/kmsg here: %v", err)
	case <-time.After(5 * time.Second):
		t.Error("no line from /dev/kmsg in 5 s")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("readKmsg did not stop with its context")
	}
}

func TestWrapLine(t *testing.T) {
	r := NewRenderer(defaultTheme(t), 1)
	face, err := r.face("", detailsPx)
	if err != nil {
		t.Fatal(err)
	}
	text := "systemd[1]: Started Journal Service. A very long line that does not fit in the width given and goes on"
	lines := wrapLine(face, text, 200)
	if len(lines) < 3 || strings.Join(lines, " ") != text {
		t.Errorf("wrapped into %q", lines)
	}
	for _, l := range wrapLine(face, strings.Repeat("x", 100), 50) {
		if w := font.MeasureString(face, l).Ceil(); w > 50 {
			t.Errorf("a line of %d pixels in 50: %q", w, l)
		}
	}
}

// TestDaemonDetailsView: Escape and ctl details switch to the view of
// the kernel's log and the messages sent, and back.
func TestDaemonDetailsView(t *testing.T) {
	screen := &recordingScreen{}
	kb := &keyboard{}
	klog := make(chan string, 4)
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen, Input: kb, KernelLog: klog})
	defer func() { cancel(); wait() }()
	klog <- "Linux version 6.12"
	send(t, d, control.Command{Kind: control.Message, Text: "Checking file systems"})
	if err := send(t, d, control.Command{Kind: control.Details}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the details view", func() bool { return lastShown(screen).Details != nil })
	// The kernel's line and the message, in the order the daemon took
	// them (two channels).
	if got := slices.Sorted(slices.Values(lastShown(screen).Details.Lines)); strings.Join(got, "|") != "Checking file systems|Linux version 6.12" {
		t.Errorf("details lines %q", got)
	}
	klog <- "usb 1-1: new device"
	waitFor(t, "the new kernel line", func() bool {
		d := lastShown(screen).Details
		return d != nil && len(d.Lines) == 3
	})
	send(t, d, control.Command{Kind: control.Details})
	waitFor(t, "the splash back", func() bool { return lastShown(screen).Details == nil })

	// Escape while a question is open switches too, without answering.
	q := askAsync(d, control.Command{Kind: control.AskPassword, Text: "p"})
	waitFor(t, "the keyboard", kb.isOpen)
	kb.press(input.Escape)
	waitFor(t, "the details view by Escape", func() bool { return lastShown(screen).Details != nil })
	kb.press(input.Escape)
	kb.typeText(t, "ok", true)
	if a := answerOf(t, q); a.err != nil || string(a.res.Answer) != "ok" {
		t.Errorf("answer after Escape: %q, %v", a.res.Answer, a.err)
	}
}

// TestPaintDetails: the view shows the newest lines at the bottom, and
// Update to and from it equals Paint.
func TestPaintDetails(t *testing.T) {
	th := defaultTheme(t)
	r := NewRenderer(th, 1)
	s := fbemu.NewSurface(640, 480, fbemu.XRGB8888)
	base := State{Progress: 0.5, Message: "m"}
	if err := r.Paint(s, base); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 100 {
		lines = append(lines, strings.Repeat("kernel line ", i%7+1))
	}
	det := base
	det.Details = &Details{Lines: lines}
	for _, step := range []struct{ a, b State }{{base, det}, {det, base}} {
		if err := r.Update(s, step.a, step.b); err != nil {
			t.Fatal(err)
		}
		if n := surfacesDiffer(s, paintOn(t, th, 640, 480, step.b)); n != 0 {
			t.Errorf("Update differs from Paint in %d pixels", n)
		}
	}
	// The bottom rows hold text, the top of a short log none.
	short := State{Details: &Details{Lines: []string{"one line"}}}
	s2 := paintOn(t, th, 640, 480, short)
	ink := func(y0, y1 int) int {
		n := 0
		for y := y0; y < y1; y++ {
			for x := 0; x < 640; x++ {
				if s2.RGBAAt(x, y) != detailsBackground {
					n++
				}
			}
		}
		return n
	}
	if ink(440, 480) == 0 || ink(0, 400) != 0 {
		t.Errorf("one line: ink at the bottom %d, above %d; want it at the bottom only", ink(440, 480), ink(0, 400))
	}
}

// TestDaemonBootLog: once the root filesystem is writable the lines so
// far go to the boot log, and every later one after them; a FIFO or a
// symbolic link there is not written through.
func TestDaemonBootLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "boot.log")
	klog := make(chan string, 4)
	screen := &recordingScreen{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen, KernelLog: klog, BootLog: path})
	send(t, d, control.Command{Kind: control.Status, Text: "early"})
	if _, err := os.Stat(path); err == nil {
		t.Error("the boot log was written before the root filesystem was writable")
	}
	if err := send(t, d, control.Command{Kind: control.SystemInitialized}); err != nil {
		t.Fatal(err)
	}
	klog <- "late kernel line"
	waitFor(t, "the late line", func() bool { b, _ := os.ReadFile(path); return strings.Contains(string(b), "late kernel line") })
	send(t, d, control.Command{Kind: control.Message, Text: "later"})
	cancel()
	wait()
	b, _ := os.ReadFile(path)
	if string(b) != "early\nlate kernel line\nlater\n" {
		t.Errorf("boot log %q", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("boot log mode %v, want 0640", fi.Mode().Perm())
	}

	fifo, link := filepath.Join(dir, "fifo"), filepath.Join(dir, "link")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o600)
	os.Symlink(target, link)
	for _, p := range []string{fifo, link} {
		d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen, BootLog: p})
		send(t, d, control.Command{Kind: control.Message, Text: "x"})
		if err := send(t, d, control.Command{Kind: control.SystemInitialized}); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		cancel()
		wait()
	}
	if b, _ := os.ReadFile(target); len(b) != 0 {
		t.Errorf("written through a symbolic link: %q", b)
	}
}

// TestPaintDetailsShaped: lines in other scripts are shaped and wrapped
// by Unicode's rules in the details view: a long Chinese line without
// spaces on several rows from the left margin, an Arabic line ending at
// the right margin; a Latin line stays on the fast path.
func TestPaintDetailsShaped(t *testing.T) {
	th := defaultTheme(t)
	const w, h = 640, 480
	st := State{Details: &Details{Lines: []string{"kernel: ok", strings.Repeat("正在启动", 80), "مرحبا بالعالم"}}}
	s := paintOn(t, th, w, h, st)
	r := NewRenderer(th, 1)
	face, err := r.face("", detailsPx)
	if err != nil {
		t.Fatal(err)
	}
	lineH := (face.Metrics().Ascent + face.Metrics().Descent).Ceil()
	margin := 8
	// The ink of row i from the bottom (0 is the last): its leftmost and
	// rightmost x.
	row := func(i int) (lo, hi int) {
		lo, hi = w, -1
		y1 := h - margin - i*lineH
		for y := y1 - lineH; y < y1; y++ {
			for x := 0; x < w; x++ {
				if s.RGBAAt(x, y) != detailsBackground {
					lo, hi = min(lo, x), max(hi, x)
				}
			}
		}
		return lo, hi
	}
	if lo, hi := row(0); lo < w/2 || hi < w-margin-4 || hi >= w-margin+2 {
		t.Errorf("the Arabic line's ink spans x %d-%d; want it to end at the right margin (%d)", lo, hi, w-margin)
	}
	chinese := 0
	for i := 1; i < 14; i++ {
		if lo, hi := row(i); hi >= 0 {
			if lo > margin+2 {
				t.Errorf("row %d from the bottom starts at x %d, not at the left margin", i, lo)
			}
			chinese++
		}
	}
	// 320 characters: 3 rows or more even as boxes half an em wide where
	// no font has them (a guest without fonts), 9 as 13-pixel glyphs.
	if chinese < 4 || chinese > 11 {
		t.Errorf("the Chinese line and the Latin one take %d rows; want the Chinese wrapped onto 3 to 10", chinese)
	}
	ds, _, err := r.detailRows(face, "kernel: ok", w)
	if err != nil || len(ds) != 1 || ds[0].shaped != nil {
		t.Errorf("a Latin line: %+v, %v; want one row on the fast path", ds, err)
	}
}
