package splash

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// fitSizes are the panels the prompt must fit: small SPI and parallel
// panels, their portrait turns, and the common monitors up to 4K.
var fitSizes = []image.Point{
	{240, 240}, {240, 320}, {320, 240}, {272, 480}, {480, 272}, {320, 480}, {480, 320},
	{480, 800}, {800, 480}, {640, 480}, {480, 640}, {1024, 600}, {600, 1024},
	{1280, 720}, {720, 1280}, {1280, 800}, {1920, 1080}, {1080, 1920}, {3840, 2160}, {2160, 3840},
}

// fitScales are the output scales a renderer takes (MinScale to
// MaxScale) and the ones OutputScale picks.
var fitScales = []float64{MinScale, 0.5, 1, 1.5, 2, 3, 4, MaxScale}

// fitPrompts are the questions drawn: a long passphrase prompt after a
// wrong answer with Caps Lock on, the locale's prompt with nothing else,
// Caps Lock alone, a question with its typed answer, and long prompts in
// Arabic and in Chinese.
var fitPrompts = []State{
	{Progress: 0.4, Message: "Unlocking the disk", Status: "cryptsetup", Prompt: Prompt{Active: true, Password: true,
		Text:    "Please enter passphrase for disk cryptroot (/dev/mmcblk0p3) to unlock the root file system:",
		Bullets: 40, Retry: true, CapsLock: true}},
	{Progress: 0.4, Message: "Unlocking the disk", Prompt: Prompt{Active: true, Password: true, Bullets: 3}},
	{Progress: 0.4, Prompt: Prompt{Active: true, Password: true, Text: "Passphrase for data:", Bullets: 1, CapsLock: true}},
	{Progress: -1, Message: "Continue?", Prompt: Prompt{Active: true, Text: "Format /dev/sda2? Type yes to go on:", Entry: "yes"}},
	// Right to left, and Chinese, which breaks between characters.
	{Progress: 0.4, Prompt: Prompt{Active: true, Password: true, Bullets: 5, Retry: true,
		Text: "أدخل عبارة المرور لفك قفل القرص cryptroot على /dev/mmcblk0p3 لمتابعة الإقلاع:"}},
	{Progress: 0.4, Message: "正在解锁", Prompt: Prompt{Active: true, Password: true, Bullets: 5, CapsLock: true,
		Text: "请输入密码短语以解锁磁盘 cryptroot（/dev/mmcblk0p3），然后系统将继续启动并挂载根文件系统："}},
}

// fitThemes are the themes the prompt is checked with: the embedded
// default and every example theme.
func fitThemes(t *testing.T) map[string]*theme.Theme {
	out := map[string]*theme.Theme{"default": defaultTheme(t)}
	for _, name := range []string{"product", "small", "portrait", "firmware"} {
		th, err := theme.Load(filepath.Join("..", "themes", name, "theme.toml"), theme.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = th
	}
	return out
}

// TestPromptFitsScreen lays the prompt out with every theme on every
// size, turned both ways, at every scale, and checks the rectangles the
// layout draws: every row, every line's ink, the bullets and the cursor
// lie on the screen; no two rows and no two lines' ink overlap; the
// prompt, the entry and the retry and Caps Lock lines while they are on
// are drawn; and no element still drawn (the logo where it moved, the
// spinner, the bar, the message's and the status's ink) overlaps the
// block.
func TestPromptFitsScreen(t *testing.T) {
	for name, th := range fitThemes(t) {
		for _, sc := range fitScales {
			// One renderer for every size, as a display's heads share
			// fonts: the system's fonts are scanned once.
			r := NewRenderer(th, sc)
			for _, sz := range fitSizes {
				s := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
				l, err := r.layoutFor(s)
				if err != nil {
					t.Fatalf("%s %v scale %g: %v", name, sz, sc, err)
				}
				for i, st := range fitPrompts {
					where := fmt.Sprintf("%s %dx%d scale %g prompt %d", name, sz.X, sz.Y, sc, i)
					checkPromptFits(t, where, r, l, st)
				}
			}
		}
	}
}

func checkPromptFits(t *testing.T, where string, r *Renderer, l *layout, st State) {
	t.Helper()
	pl, err := r.promptFor(l, st.Prompt)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	screen := image.Rect(0, 0, l.w, l.h)
	p := st.Prompt
	lines := pl.lines(p)
	var rows, inks []image.Rectangle
	kinds := map[image.Rectangle]bool{}
	for _, ln := range lines {
		kinds[ln.row] = true
		if !ln.row.In(screen) {
			t.Errorf("%s: the row of %q, %v, leaves the screen", where, ln.text, ln.row)
		}
		ink, err := r.promptInk(pl, ln)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if !ink.In(screen) {
			t.Errorf("%s: the ink of %q, %v, leaves the screen", where, ln.text, ink)
		}
		if ln.row != pl.entry {
			rows = append(rows, ln.row)
		}
		inks = append(inks, ink)
	}
	rows = append(rows, pl.entry)
	if !pl.entry.In(screen) {
		t.Errorf("%s: the entry %v leaves the screen", where, pl.entry)
	}
	for i := range pl.bullets(p) + 1 {
		if b := pl.bulletRect(i).Union(pl.cursorRect(i)); i < pl.bullets(p) && !b.In(pl.entry) {
			t.Errorf("%s: bullet %d at %v leaves the entry %v", where, i, b, pl.entry)
		}
	}
	if p.Password && !pl.cursorRect(pl.bullets(p)).In(pl.entry) {
		t.Errorf("%s: the cursor %v leaves the entry %v", where, pl.cursorRect(pl.bullets(p)), pl.entry)
	}
	for i := range rows {
		for j := i + 1; j < len(rows); j++ {
			if rows[i].Overlaps(rows[j]) {
				t.Errorf("%s: rows %v and %v overlap", where, rows[i], rows[j])
			}
		}
	}
	for i := range inks {
		for j := i + 1; j < len(inks); j++ {
			if inks[i].Overlaps(inks[j]) {
				t.Errorf("%s: the ink of %q %v and of %q %v overlap", where, lines[i].text, inks[i], lines[j].text, inks[j])
			}
		}
	}
	// What must be seen is drawn.
	if len(pl.textFit) == 0 || !kinds[pl.textRows[0]] {
		t.Errorf("%s: no prompt line", where)
	}
	if p.Retry && (pl.retryRow.Empty() || !kinds[pl.retryRow]) {
		t.Errorf("%s: the retry line is not drawn", where)
	}
	if p.CapsLock && (pl.capsRow.Empty() || !kinds[pl.capsRow]) {
		t.Errorf("%s: the Caps Lock line is not drawn", where)
	}
	if !p.Password && p.Entry != "" && !kinds[pl.entry] {
		t.Errorf("%s: the typed answer is not drawn", where)
	}
	// Nothing drawn beside the block overlaps it.
	others := map[string]image.Rectangle{}
	if l.logo != nil && pl.hide&hideLogo == 0 {
		others["logo"] = l.logoRect
		if pl.logoMoved {
			others["logo"] = pl.logoRect
		}
		if !others["logo"].In(screen) && pl.logoMoved {
			t.Errorf("%s: the logo was moved off the screen to %v", where, pl.logoRect)
		}
	}
	if l.spinner != nil && pl.hide&hideSpinner == 0 {
		others["spinner"] = l.spinner.rect
	}
	if l.bar != nil && pl.hide&hideBar == 0 {
		others["bar"] = l.bar.rect
	}
	for _, tx := range []struct {
		name string
		tl   *textLayout
		text string
		h    hidden
	}{{"message", l.message, st.Message, hideMessage}, {"status", l.status, st.Status, hideStatus}} {
		if tx.tl != nil && tx.text != "" && pl.hide&tx.h == 0 {
			ink, err := r.textInk(l, tx.tl, tx.text)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			others[tx.name] = ink
		}
	}
	for name, b := range others {
		if b.Overlaps(pl.block) {
			t.Errorf("%s: the %s %v overlaps the prompt %v (hidden: %b)", where, name, b, pl.block, pl.hide)
		}
	}
}

// TestPromptFrameFits checks the painted frames: at every size the
// prompt is drawn inside the screen's margins: the top and bottom rows
// of the frame with the question open are those of the frame without
// it, or the background where an element was hidden for the question.
func TestPromptFrameFits(t *testing.T) {
	for name, th := range fitThemes(t) {
		for _, sc := range []float64{1, 2} {
			r := NewRenderer(th, sc)
			for _, sz := range fitSizes {
				if sz.X*sz.Y > 1280*800 {
					continue // the layout test covers them; painting them is slow
				}
				// The background alone: what an element hidden for the
				// question leaves.
				bg := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
				l, _ := r.layoutFor(bg)
				r.background(bg, l, bg.Bounds())
				for i, st := range fitPrompts {
					where := fmt.Sprintf("%s %dx%d scale %g prompt %d", name, sz.X, sz.Y, sc, i)
					with := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
					if err := r.Paint(with, st); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					without := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
					plain := st
					plain.Prompt = Prompt{}
					if err := r.Paint(without, plain); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					band := max(2, sz.Y/100)
					for _, y0 := range []int{0, sz.Y - band} {
						for y := y0; y < y0+band; y++ {
							for x := range sz.X {
								if c := with.RGBAAt(x, y); c != without.RGBAAt(x, y) && c != bg.RGBAAt(x, y) {
									t.Errorf("%s: the prompt reaches row %d (pixel %d,%d), at the screen's edge", where, y, x, y)
									x, y = sz.X, y0+band
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestPromptUpdatesSmall types at the prompt on small panels, where the
// block makes the rest of the splash give way: Caps Lock and a retry
// change the arrangement, and each Update still equals a Paint.
func TestPromptUpdatesSmall(t *testing.T) {
	base := State{Progress: 0.3, Message: "Unlocking", Status: "cryptroot"}
	p := Prompt{Active: true, Password: true, Text: "Please enter passphrase for disk cryptroot (/dev/mmcblk0p3):"}
	with := func(f func(*Prompt)) State { s := base; s.Prompt = p; f(&s.Prompt); return s }
	seq := []State{
		base,
		with(func(*Prompt) {}),
		with(func(q *Prompt) { q.Bullets = 1 }),
		with(func(q *Prompt) { q.Bullets = 2; q.CapsLock = true }),
		with(func(q *Prompt) { q.Bullets = 3; q.CapsLock = true }),
		with(func(q *Prompt) { q.Bullets = 3 }),
		with(func(q *Prompt) { q.Retry = true }),
		with(func(q *Prompt) { q.Retry = true; q.CapsLock = true; q.Bullets = 5 }),
		with(func(q *Prompt) { q.Password = false; q.Text = "Continue?"; q.Entry = "y" }),
		base,
	}
	// The message, the status and the progress change while the
	// question is open (hidden or not), and the spinner turns.
	busy := with(func(q *Prompt) { q.Bullets = 2 })
	busy.Message, busy.Status, busy.Progress, busy.Frame = "Still unlocking", "", 0.6, 3
	seq = append(seq[:len(seq)-1], busy, base)
	for name, th := range fitThemes(t) {
		for _, sz := range []image.Point{{240, 240}, {320, 240}, {480, 272}, {272, 480}, {640, 480}} {
			t.Run(fmt.Sprintf("%s/%dx%d", name, sz.X, sz.Y), func(t *testing.T) {
				r := NewRenderer(th, 1)
				s := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
				if err := r.Paint(s, seq[0]); err != nil {
					t.Fatal(err)
				}
				for i := 1; i < len(seq); i++ {
					if err := r.Update(s, seq[i-1], seq[i]); err != nil {
						t.Fatal(err)
					}
					if n := surfacesDiffer(s, paintOn(t, th, sz.X, sz.Y, seq[i])); n != 0 {
						t.Fatalf("step %d (%+v): Update differs from Paint in %d pixels", i, seq[i].Prompt, n)
					}
				}
			})
		}
	}
}

// TestPromptGolden draws a passphrase prompt after a wrong answer with
// Caps Lock on, on the small panels the splash is first shipped on,
// through RenderFrame (what bootsplash render draws), and compares every
// pixel with testdata/golden/prompt-*.png (looked at, then pinned; rerun
// with -update and look again when a change is meant).
func TestPromptGolden(t *testing.T) {
	themes := fitThemes(t)
	st := State{Progress: 0.4, Message: "Unlocking the disk", Prompt: Prompt{Active: true, Password: true,
		Text:    "Please enter passphrase for disk cryptroot (/dev/mmcblk0p3) to unlock the root file system:",
		Bullets: 9, Retry: true, CapsLock: true}}
	dir := t.TempDir()
	for _, c := range []struct {
		theme string
		size  image.Point
	}{
		{"default", image.Pt(480, 272)},
		{"default", image.Pt(320, 240)},
		{"small", image.Pt(320, 240)},
		{"small", image.Pt(480, 272)},
	} {
		name := fmt.Sprintf("prompt-%s-%dx%d", c.theme, c.size.X, c.size.Y)
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name+".png")
			if err := RenderFrame(out, FrameOptions{Width: c.size.X, Height: c.size.Y, Scale: 1, Theme: themes[c.theme], State: st}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name+".png")
			if *update {
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if n := testutil.DifferingPixels(readPNG(t, out), readPNG(t, golden)); n != 0 {
				t.Errorf("%d pixels differ from %s (rerun with -update and look at it if the change is meant)", n, golden)
			}
		})
	}
}

// TestPromptHiddenStill: a spinner or a pulsing bar hidden while a
// question is open damages nothing as the frames tick, and the frame
// stays what a full paint draws.
func TestPromptHiddenStill(t *testing.T) {
	themes := fitThemes(t)
	for _, c := range []struct {
		theme string
		size  image.Point
		h     hidden
	}{{"portrait", image.Pt(320, 240), hideSpinner}, {"default", image.Pt(480, 272), hideBar}} {
		th := themes[c.theme]
		r := NewRenderer(th, 1)
		s := fbemu.NewSurface(c.size.X, c.size.Y, fbemu.XRGB8888)
		st := State{Progress: -1, Message: "Unlocking", Prompt: Prompt{Active: true, Password: true, Bullets: 2}}
		if err := r.Paint(s, st); err != nil {
			t.Fatal(err)
		}
		if r.lay.prompt.hide&c.h == 0 {
			t.Fatalf("%s %v: the prompt hides %b, not %b", c.theme, c.size, r.lay.prompt.hide, c.h)
		}
		for range 5 {
			next := st
			next.Frame++
			d := fbemu.NewDamage(s.Bounds())
			s.SetDamage(d)
			if err := r.Update(s, st, next); err != nil {
				t.Fatal(err)
			}
			if !d.Empty() {
				t.Errorf("%s %v: frame %d damaged %v", c.theme, c.size, next.Frame, d.Rects())
			}
			st = next
		}
		if n := surfacesDiffer(s, paintOn(t, th, c.size.X, c.size.Y, st)); n != 0 {
			t.Errorf("%s %v: %d pixels differ from a full paint", c.theme, c.size, n)
		}
	}
}

// Laying out a question that does not fit (the first key of a new
// question pays it once; later keys find it cached), against a full
// paint of the same State with the arrangement cached: "x-paint".
func BenchmarkPromptArrange(b *testing.B) {
	th, err := theme.Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, sz := range []image.Point{{320, 240}, {480, 272}, {1920, 1080}} {
		b.Run(fmt.Sprintf("%dx%d", sz.X, sz.Y), func(b *testing.B) {
			r := NewRenderer(th, 1)
			s := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
			st := fitPrompts[0]
			if err := r.Paint(s, st); err != nil {
				b.Fatal(err)
			}
			l := r.lay
			versus(b, "x-paint", func() {
				l.prompts = nil
				r.promptFor(l, st.Prompt)
			}, func() {
				r.Paint(s, st)
			})
		})
	}
}

// TestPromptScreenIsRender: on the emulated display, with one buffer and
// with two, the screen run drives shows after each key exactly the frame
// RenderFrame (bootsplash render --prompt --bullets) draws for the same
// State, on small panels where the prompt rearranges the splash.
func TestPromptScreenIsRender(t *testing.T) {
	th := defaultTheme(t)
	p := Prompt{Active: true, Password: true, Text: "Please enter passphrase for disk cryptroot (/dev/mmcblk0p3):"}
	base := State{Progress: 0.5, Message: "Unlocking"}
	with := func(f func(*Prompt)) State { s := base; s.Prompt = p; f(&s.Prompt); return s }
	seq := []State{base, with(func(*Prompt) {}), with(func(q *Prompt) { q.Bullets = 1 }),
		with(func(q *Prompt) { q.Bullets = 2; q.CapsLock = true }), with(func(q *Prompt) { q.Retry = true }), base}
	dir := t.TempDir()
	for _, sz := range []image.Point{{320, 240}, {480, 272}} {
		for _, buffers := range []int{1, 2} {
			d, err := display.NewEmulated(display.EmulatedOptions{Size: sz, Buffers: buffers})
			if err != nil {
				t.Fatal(err)
			}
			scr := NewScreen(d, th, ScreenOptions{})
			for i, st := range seq {
				if err := scr.Show(st); err != nil {
					t.Fatal(err)
				}
				d.Emulated().Vblank()
				got, err := d.Emulated().Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				want := filepath.Join(dir, "want.png")
				if err := RenderFrame(want, FrameOptions{Width: sz.X, Height: sz.Y, Scale: 1, Theme: th, State: st}); err != nil {
					t.Fatal(err)
				}
				if n := testutil.DifferingPixels(got, readPNG(t, want)); n != 0 {
					t.Errorf("%v, %d buffers, step %d: the screen differs from render in %d pixels", sz, buffers, i, n)
				}
			}
			d.Close()
		}
	}
}
