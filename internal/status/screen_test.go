package status

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	"github.com/bootsplash/bootsplash/fbemu"
)

// fake are sources whose values a test sets.
type fake struct {
	load [3]float64
	used uint64
}

func (f *fake) sources() Sources {
	return Sources{
		Hostname:  func() (string, error) { return "kiosk-7", nil },
		Addresses: func() ([]string, error) { return []string{"192.0.2.7", "2001:db8::7"}, nil },
		Uptime:    func() (time.Duration, error) { return 3*24*time.Hour + 4*time.Hour + 5*time.Minute, nil },
		Load:      func() ([3]float64, error) { return f.load, nil },
		Memory:    func() (uint64, uint64, error) { return f.used, 8 << 30, nil },
		Disk:      func(string) (uint64, uint64, error) { return 12 << 30, 50 << 30, nil },
	}
}

var t0 = time.Date(2026, 12, 2, 16, 32, 19, 0, time.UTC)

func emulatedSize(t testing.TB, w, h int) *fbemu.Emulated {
	t.Helper()
	e, err := fbemu.NewEmulatedWith(w, h, fbemu.XRGB8888, fbemu.EmulatedOptions{FramebufferOptions: fbemu.FramebufferOptions{Buffers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func emulated(t testing.TB, buffers int) *fbemu.Emulated {
	t.Helper()
	e, err := fbemu.NewEmulatedWith(640, 480, fbemu.XRGB8888, fbemu.EmulatedOptions{FramebufferOptions: fbemu.FramebufferOptions{Buffers: buffers}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func snapshot(t *testing.T, e *fbemu.Emulated) *image.RGBA {
	t.Helper()
	img, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// changed returns the bounding box of the pixels that differ, and how many.
func changed(a, b *image.RGBA) (image.Rectangle, int) {
	var box image.Rectangle
	n := 0
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		for x := a.Rect.Min.X; x < a.Rect.Max.X; x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return box, n
}

// The clock's region changes between two ticks and every other pixel
// stays as it was; the damage sent to the display is inside the clock's
// region; a tick where nothing changed sends nothing.
func TestClockOnlyChanges(t *testing.T) {
	for _, buffers := range []int{1, 2} {
		t.Run(map[int]string{1: "single", 2: "double"}[buffers], func(t *testing.T) {
			e := emulated(t, buffers)
			f := &fake{load: [3]float64{0.5, 0.4, 0.3}, used: 2 << 30}
			s, err := New(e.Framebuffer, Options{Fields: Standard(f.sources(), "/", "")})
			if err != nil {
				t.Fatal(err)
			}
			clock := s.values[len(s.values)-1].r

			u, err := s.Update(t0)
			if err != nil {
				t.Fatal(err)
			}
			if u.Pixels != 640*480 || u.Regions != 7 {
				t.Errorf("first update: %+v, want the whole 640x480 screen and 7 regions", u)
			}
			before := snapshot(t, e)

			u, err = s.Update(t0.Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			after := snapshot(t, e)
			box, n := changed(before, after)
			if n == 0 {
				t.Fatal("the clock did not change between two ticks")
			}
			if !box.In(clock) {
				t.Errorf("pixels changed in %v, outside the clock's region %v", box, clock)
			}
			if u.Regions != 1 || u.Pixels == 0 || u.Pixels > clock.Dx()*clock.Dy() {
				t.Errorf("second update %+v: want 1 region and at most the clock's %d pixels", u, clock.Dx()*clock.Dy())
			}
			p := e.LastPresent()
			for _, c := range p.Clips() {
				if !c.In(clock) {
					t.Errorf("damage clip %v sent to the display, outside the clock's region %v", c, clock)
				}
				if !box.In(c) && len(p.Clips()) == 1 {
					t.Errorf("damage clip %v does not cover the changed pixels %v", c, box)
				}
			}
			t.Logf("tick: %d regions, %d rects, %d pixels of damage (clock region %v, pixels changed %d in %v)", u.Regions, u.Rects, u.Pixels, clock, n, box)

			shown := e.Updates()
			u, err = s.Update(t0.Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if u.Regions != 0 || u.Pixels != 0 || e.Updates() != shown {
				t.Errorf("an update with nothing new: %+v and %d display updates, want none", u, e.Updates()-shown)
			}
		})
	}
}

// What updates draw, one after the other, is pixel for pixel what a
// screen drawn afresh shows: clearing the old text's ink leaves nothing
// behind, and the part of a text kept from the last update is where a
// full redraw puts it.
func TestIncrementalIsExact(t *testing.T) {
	f := &fake{load: [3]float64{0.5, 0.4, 0.3}, used: 2 << 30}
	path := filepath.Join(t.TempDir(), "messages")
	os.WriteFile(path, []byte("boot\n"), 0o644)
	tail := openTail(t, path, TailOptions{})
	inc := emulated(t, 2)
	s, err := New(inc.Framebuffer, Options{Fields: Standard(f.sources(), "/", ""), Log: tail})
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	for i := 0; i < 80; i++ {
		// Seconds, minutes, hours and days turn; values grow and
		// shrink; log lines come and scroll.
		now = now.Add(time.Duration(1+i*i*7) * time.Second)
		f.load = [3]float64{float64(i%13) / 3, float64(i % 2), 10 - float64(i)/9}
		f.used = uint64(i*i) << 24
		if i%3 == 0 {
			appendFile(t, path, strings.Repeat("line ", i%9)+"wj%@|\n")
		}
		if _, err := s.Update(now); err != nil {
			t.Fatal(err)
		}
		if i%10 != 9 {
			continue
		}
		fresh := emulated(t, 1)
		tl := openTail(t, path, TailOptions{})
		fs, err := New(fresh.Framebuffer, Options{Fields: Standard(f.sources(), "/", ""), Log: tl})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Update(now); err != nil {
			t.Fatal(err)
		}
		if box, n := changed(snapshot(t, inc), snapshot(t, fresh)); n > 0 {
			t.Fatalf("after %d updates (time %v), %d pixels in %v differ from a screen drawn afresh", i+1, now, n, box)
		}
	}
}

// A field whose value changes is redrawn with the clock, and nothing else.
func TestChangedFieldOnly(t *testing.T) {
	e := emulated(t, 2)
	f := &fake{load: [3]float64{0.5, 0.4, 0.3}, used: 2 << 30}
	s, err := New(e.Framebuffer, Options{Fields: Standard(f.sources(), "/", "")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(t0); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e)
	f.load[0] = 1.75
	u, err := s.Update(t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	box, _ := changed(before, snapshot(t, e))
	load, clock := s.values[3].r, s.values[6].r
	if u.Regions != 2 || !box.In(load.Union(clock)) || box.In(clock) {
		t.Errorf("load and clock changed: %+v, pixels changed in %v, want 2 regions inside %v and %v", u, box, load, clock)
	}
	// A change too small to show (1.1 GiB stays "2.0 GiB") draws nothing.
	f.used += 1 << 20
	if u, err = s.Update(t0.Add(time.Second)); err != nil || u.Regions != 0 {
		t.Errorf("an invisible change: %+v, %v; want no region redrawn", u, err)
	}
}

// New lines of the log redraw the log's lines and nothing above them.
func TestLogLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages")
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tail, err := OpenTail(path, TailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Close()
	e := emulated(t, 1)
	f := &fake{}
	s, err := New(e.Framebuffer, Options{Fields: Standard(f.sources(), "/", ""), Log: tail})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.logLines) < 5 {
		t.Fatalf("%d log lines on a 640x480 screen", len(s.logLines))
	}
	if _, err := s.Update(t0); err != nil {
		t.Fatal(err)
	}
	if got := s.logLines[0].text + "|" + s.logLines[1].text; got != "one|two" {
		t.Errorf("log lines %q, want one|two", got)
	}
	before := snapshot(t, e)
	appendFile(t, path, "three "+strings.Repeat("long ", 400)+"\n")
	u, err := s.Update(t0)
	if err != nil {
		t.Fatal(err)
	}
	box, _ := changed(before, snapshot(t, e))
	area := s.logLines[0].r.Union(s.logLines[len(s.logLines)-1].r)
	if u.Regions != 1 || !box.In(area) {
		t.Errorf("a line appended: %+v, pixels changed in %v, want 1 region in the log's area %v", u, box, area)
	}
	l := s.logLines[2]
	if ink := inkOf(l.face, l.text, image.Pt(l.r.Min.X, l.base)); !strings.HasPrefix(l.text, "three long") || !strings.HasSuffix(l.text, "…") || !ink.In(l.r) {
		t.Errorf("a long line shows as %q with ink %v, want it cut with an ellipsis inside %v", l.text, ink, l.r)
	}
}

// A disk path that does not exist shows as n/a with the reason.
func TestDiskMissingPath(t *testing.T) {
	src := System()
	fl := Standard(src, "/nonexistent/disk", "")
	got := fl[5].Value(t0)
	if !strings.HasPrefix(got, "n/a (") || !strings.Contains(got, "/nonexistent/disk") || !strings.Contains(got, "no such file") {
		t.Errorf("disk of a missing path shows %q, want n/a with the path and the reason", got)
	}
	if got := fl[5].Label; got != "disk /nonexistent/disk" {
		t.Errorf("label %q", got)
	}
}

// The real sources read this machine.
func TestSystemSources(t *testing.T) {
	src := System()
	if _, err := src.Uptime(); err != nil {
		t.Error(err)
	}
	if _, err := src.Load(); err != nil {
		t.Error(err)
	}
	if used, total, err := src.Memory(); err != nil || total == 0 || used > total {
		t.Errorf("memory %d of %d: %v", used, total, err)
	}
	if used, total, err := src.Disk("/"); err != nil || total == 0 || used > total {
		t.Errorf("disk %d of %d: %v", used, total, err)
	}
	if _, err := src.Addresses(); err != nil {
		t.Error(err)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{59 * time.Second, "0 min"},
		{5 * time.Minute, "5 min"},
		{3*time.Hour + 7*time.Minute + 59*time.Second, "3:07"},
		{26 * time.Hour, "1 day, 2:00"},
		{50*time.Hour + time.Minute, "2 days, 2:01"},
	} {
		if got := FormatUptime(c.d); got != c.want {
			t.Errorf("FormatUptime(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := FormatUsage(1288490189, 8<<30); got != "1.2 GiB of 8.0 GiB (15%)" {
		t.Errorf("FormatUsage = %q", got)
	}
	if got := FormatUsage(707572940, 252<<30); got != "675 MiB of 252 GiB (0%)" {
		t.Errorf("FormatUsage = %q", got)
	}
	if got := FormatUsage(0, 0); got != "0 B of 0 B (0%)" {
		t.Errorf("FormatUsage(0, 0) = %q", got)
	}
}

// A screen too small for the fields says so.
func TestTooSmall(t *testing.T) {
	e, err := fbemu.NewEmulatedWith(64, 40, fbemu.XRGB8888, fbemu.EmulatedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, err = New(e.Framebuffer, Options{Fields: Standard((&fake{}).sources(), "/", "")})
	if err == nil || !strings.Contains(err.Error(), "no room") {
		t.Errorf("New on 64x40: %v, want no room", err)
	}
}

func TestFit(t *testing.T) {
	e := emulated(t, 1)
	s, err := New(e.Framebuffer, Options{Fields: Standard((&fake{}).sources(), "/", "")})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 100000)
	got := fit(s.face, long, 200)
	if !strings.HasSuffix(got, "…") || len(got) > maxText+3 {
		t.Errorf("fit of a 200000-byte line: %d bytes", len(got))
	}
	if w := inkOf(s.face, got, image.Point{}).Dx(); w > 200 {
		t.Errorf("fit to 200 px: %d px wide", w)
	}
	if got := fit(s.face, "short", 200); got != "short" {
		t.Errorf("fit(short) = %q", got)
	}
	if got := fit(s.face, "short", 1); got != "" {
		t.Errorf("fit into 1 px = %q", got)
	}
}

var errBroken = errors.New("broken")

// A source that fails shows n/a and the reason in its field.
func TestSourceFails(t *testing.T) {
	src := (&fake{}).sources()
	src.Load = func() ([3]float64, error) { return [3]float64{}, errBroken }
	if got := Standard(src, "/", "")[3].Value(t0); got != "n/a (broken)" {
		t.Errorf("a failing load shows %q", got)
	}
}

// keep keeps nothing when the kept glyphs do not end on a whole pixel
// (an unhinted face), and what the texts share when they do.
func TestKeep(t *testing.T) {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		hinting  font.Hinting
		old, new string
		want     int
	}{
		{font.HintingFull, "12:34:56", "12:34:57", 7},
		{font.HintingFull, "12:34:59", "12:35:00", 4},
		{font.HintingFull, "99 days", "100 days", 0},
		{font.HintingFull, "abc", "ab", 2},
		{font.HintingNone, "12:34:56", "12:34:57", 0},
	} {
		face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 13.3, DPI: 72, Hinting: c.hinting})
		if err != nil {
			t.Fatal(err)
		}
		k, x := keep(face, c.old, c.new, image.Pt(10, 20))
		if k != c.want || (k == 0 && x != 10) || (k > 0 && x <= 10) {
			t.Errorf("keep(%q, %q) with hinting %v = %d at x %d, want %d", c.old, c.new, c.hinting, k, x, c.want)
		}
	}
}

// A statfs that does not return shows as n/a after the wait, and the
// answer shows once it comes.
func TestDiskHangs(t *testing.T) {
	release := make(chan struct{})
	calls := 0
	b := &bounded{wait: 50 * time.Millisecond, stat: func(string) (uint64, uint64, error) {
		calls++
		<-release
		return 1 << 30, 4 << 30, nil
	}}
	src := (&fake{}).sources()
	src.Disk = b.usage
	disk := Standard(src, "/mnt/nfs", "")[5]
	start := time.Now()
	if got := disk.Value(t0); got != "n/a (statfs /mnt/nfs: no answer after 50ms)" {
		t.Errorf("a hung statfs shows %q", got)
	}
	if got := disk.Value(t0); !strings.HasPrefix(got, "n/a") {
		t.Errorf("still hung: %q", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("two reads of a hung statfs took %v", d)
	}
	close(release)
	if got := disk.Value(t0); got != "1.0 GiB of 4.0 GiB (25%)" {
		t.Errorf("after statfs returned: %q", got)
	}
	if calls != 1 {
		t.Errorf("statfs called %d times while it hung, want once", calls)
	}
}

// After Redraw the next update paints every pixel, the same picture.
func TestRedraw(t *testing.T) {
	e := emulated(t, 2)
	s, err := New(e.Framebuffer, Options{Fields: Standard((&fake{}).sources(), "/", "")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(t0); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e)
	s.Redraw()
	u, err := s.Update(t0)
	if err != nil {
		t.Fatal(err)
	}
	if u.Pixels != 640*480 || u.Regions != 7 {
		t.Errorf("update after Redraw: %+v, want the whole screen", u)
	}
	if box, n := changed(before, snapshot(t, e)); n != 0 {
		t.Errorf("Redraw changed %d pixels in %v", n, box)
	}
}
