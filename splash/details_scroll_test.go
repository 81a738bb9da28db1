package splash

import (
	"fmt"
	"image"
	"image/color"
	"slices"
	"sync"
	"testing"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/input"
)

func numberedLines(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("line %03d", i))
	}
	return out
}

// detailsBand is the pixels of the details view's row j from the bottom.
func detailsBand(t *testing.T, r *Renderer, s *fbemu.Surface, j int) []color.RGBA {
	t.Helper()
	g, err := r.detailsGeometry(s.Width(), s.Height())
	if err != nil {
		t.Fatal(err)
	}
	y1 := s.Height() - g.margin - j*g.lineH
	var out []color.RGBA
	for y := y1 - g.lineH; y < y1; y++ {
		for x := 0; x < s.Width(); x++ {
			out = append(out, s.RGBAAt(x, y))
		}
	}
	return out
}

// TestPaintDetailsScroll: scrolled up by k lines the view shows the
// lines k above, each moved down by k rows, over a row saying how many
// are below; it clamps at both ends; Update between scroll positions
// equals Paint.
func TestPaintDetailsScroll(t *testing.T) {
	th := defaultTheme(t)
	const w, h = 640, 480
	r := NewRenderer(th, 1)
	lines := numberedLines(100)
	at := func(below int) *fbemu.Surface {
		return paintOn(t, th, w, h, State{Details: &Details{Lines: lines, Below: below}})
	}
	rows := r.DetailsRows(w, h)
	if rows < 10 {
		t.Fatalf("%d rows on 640×480", rows)
	}
	b1, b3 := at(1), at(3)
	for i := 1; i+2 < rows; i++ {
		if !slices.Equal(detailsBand(t, r, b3, i), detailsBand(t, r, b1, i+2)) {
			t.Errorf("3 lines up, row %d is not row %d of 1 line up: the text did not move by 2 rows", i, i+2)
		}
	}
	if slices.Equal(detailsBand(t, r, b3, 1), detailsBand(t, r, b1, 1)) {
		t.Error("1 and 3 lines up show the same row above the indicator")
	}
	// The last row says what is below; at the bottom it is the newest line.
	b0 := at(0)
	if slices.Equal(detailsBand(t, r, b0, 0), detailsBand(t, r, b1, 0)) {
		t.Error("no indicator row when scrolled up")
	}
	for i := 1; i < rows; i++ {
		if !slices.Equal(detailsBand(t, r, b0, i), detailsBand(t, r, b1, i)) {
			t.Errorf("1 line up, row %d is not the same line as at the bottom", i)
		}
	}
	if n := surfacesDiffer(at(-4), b0); n != 0 {
		t.Errorf("a negative offset differs from the bottom in %d pixels", n)
	}
	// Clamped at the top: the oldest line on the top row.
	top := at(1000)
	if n := surfacesDiffer(top, at(len(lines)-(rows-1))); n != 0 {
		t.Errorf("past the top differs from the top in %d pixels", n)
	}
	if n := surfacesDiffer(top, at(len(lines)-rows)); n == 0 {
		t.Error("one line below the top looks like the top")
	}
	first := paintOn(t, th, w, h, State{Details: &Details{Lines: lines[:1]}})
	if !slices.Equal(detailsBand(t, r, top, rows-1), detailsBand(t, r, first, 0)) {
		t.Error("at the top, the top row is not the oldest line")
	}
	// Update from one position to another equals Paint.
	s := at(0)
	prev := State{Details: &Details{Lines: lines}}
	for _, below := range []int{1, 5, 1000, 2, 0} {
		next := State{Details: &Details{Lines: lines, Below: below}}
		if err := r.Update(s, prev, next); err != nil {
			t.Fatal(err)
		}
		if n := surfacesDiffer(s, at(below)); n != 0 {
			t.Errorf("Update to %d lines up differs from Paint in %d pixels", below, n)
		}
		prev = next
	}
	// A line coming while scrolled up damages the indicator row only;
	// one coming at the bottom moves every row.
	g, err := r.detailsGeometry(w, h)
	if err != nil {
		t.Fatal(err)
	}
	indicator := image.Rect(0, h-g.margin-g.lineH, w, h-g.margin)
	more := append(slices.Clone(lines), "a new line")
	for _, c := range []struct {
		a, b       *Details
		onlyBottom bool
	}{
		{&Details{Lines: lines, Below: 5}, &Details{Lines: more, Below: 6}, true},
		{&Details{Lines: lines, Below: 1000}, &Details{Lines: more, Below: 1001}, true},
		{&Details{Lines: lines}, &Details{Lines: more}, false},
	} {
		s := paintOn(t, th, w, h, State{Details: c.a})
		d := fbemu.NewDamage(s.Bounds())
		s.SetDamage(d)
		if err := r.Update(s, State{Details: c.a}, State{Details: c.b}); err != nil {
			t.Fatal(err)
		}
		if n := surfacesDiffer(s, paintOn(t, th, w, h, State{Details: c.b})); n != 0 {
			t.Errorf("%d up, a line comes: Update differs from Paint in %d pixels", c.a.Below, n)
		}
		inside := true
		for _, rc := range d.Rects() {
			inside = inside && rc.In(indicator)
		}
		if d.Empty() || inside != c.onlyBottom {
			t.Errorf("%d up, a line comes: damage %v; want only the indicator row %v: %v", c.a.Below, d.Rects(), indicator, c.onlyBottom)
		}
	}
}

// shownScreen is a DisplayScreen that records the States it has drawn.
type shownScreen struct {
	*DisplayScreen
	mu    sync.Mutex
	shown []State
}

func (s *shownScreen) Show(st State) error {
	err := s.DisplayScreen.Show(st)
	s.mu.Lock()
	s.shown = append(s.shown, st)
	s.mu.Unlock()
	return err
}

func (s *shownScreen) last() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.shown) == 0 {
		return State{}
	}
	return s.shown[len(s.shown)-1]
}

func (k *watchingKeyboard) watchPress(kind input.Kind) {
	k.wmu.Lock()
	ch := k.esc
	k.wmu.Unlock()
	ch <- input.Event{Kind: kind}
}

// TestDaemonDetailsScroll drives the daemon on the emulated display: the
// keys the watch passes on outside questions (and a question's keys)
// move the view by a line, a page of the display's rows or to an end,
// clamped at both; a new line holds the view's place when scrolled up
// and keeps it at the bottom otherwise; every message and status is in
// the view; each frame equals Paint of the State shown.
func TestDaemonDetailsScroll(t *testing.T) {
	th := defaultTheme(t)
	sz := image.Pt(320, 240)
	d, err := display.NewEmulated(display.EmulatedOptions{Size: sz, Buffers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	scr := &shownScreen{DisplayScreen: NewScreen(d, th, ScreenOptions{})}
	// The screen's page, asked before the daemon draws on it (then only
	// the daemon's goroutine may).
	if err := scr.DisplayScreen.Show(State{}); err != nil {
		t.Fatal(err)
	}
	page := NewRenderer(th, 1).DetailsRows(sz.X, sz.Y)
	if got := scr.DetailsRows(); got != page {
		t.Fatalf("the screen's page is %d rows, the renderer's %d", got, page)
	}
	kb := &watchingKeyboard{}
	dm, cancel, wait := startDaemon(t, DaemonConfig{Screen: scr, Input: kb})
	defer func() { cancel(); wait() }()
	for i := range 40 {
		kind := control.Message
		if i%2 == 1 {
			kind = control.Status
		}
		if err := send(t, dm, control.Command{Kind: kind, Text: fmt.Sprintf("line %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(t, dm, control.Command{Kind: control.Details}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Escape watch", kb.watching)
	n := 40
	topBelow := n - (page - 1)
	check := func(what string, wantBelow, wantLines int) {
		t.Helper()
		waitFor(t, what, func() bool {
			d := scr.last().Details
			return d != nil && d.Below == wantBelow && len(d.Lines) == wantLines
		})
		st := scr.last()
		got, err := d.Emulated().Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if px := testutil.DifferingPixels(got, paintOn(t, th, sz.X, sz.Y, st)); px != 0 {
			t.Errorf("%s: the frame differs from Paint in %d pixels", what, px)
		}
	}
	check("the view at the bottom", 0, n)
	if got := scr.last().Details.Lines; !slices.Equal(got, numberedLines(n)) {
		t.Errorf("the view holds %q, want every message and status in order", got)
	}
	kb.watchPress(input.Up)
	check("one line up", 1, n)
	kb.watchPress(input.PageUp)
	check("a page up", page, n)
	send(t, dm, control.Command{Kind: control.Message, Text: "new while scrolled up"})
	n++
	topBelow++
	check("the place held as a line comes", page+1, n)
	kb.watchPress(input.Home)
	check("at the top", topBelow, n)
	kb.watchPress(input.Up) // clamped: nothing changes
	kb.watchPress(input.PageDown)
	check("a page down from the top", topBelow-(page-1), n)
	kb.watchPress(input.Down)
	check("one line down", topBelow-page, n)
	kb.watchPress(input.End)
	check("at the bottom again", 0, n)
	kb.watchPress(input.Down) // clamped
	send(t, dm, control.Command{Kind: control.Status, Text: "new at the bottom"})
	n++
	check("still at the bottom as a line comes", 0, n)

	// With a question open its keyboard scrolls the view too.
	q := askAsync(dm, control.Command{Kind: control.AskPassword, Text: "p"})
	waitFor(t, "the keyboard", kb.isOpen)
	kb.press(input.PageUp)
	check("a page up during a question", page-1, n)
	kb.typeText(t, "ok", true)
	if a := answerOf(t, q); a.err != nil || string(a.res.Answer) != "ok" {
		t.Errorf("answer after scrolling: %q, %v", a.res.Answer, a.err)
	}
}
