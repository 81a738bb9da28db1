package splash

import (
	"fmt"
	"image"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// Typing at the prompt: each Update equals a Paint of the new State, and
// a key damages only the bullet it adds or takes away and the cursor.
func TestPromptUpdates(t *testing.T) {
	base := State{Progress: 0.3, Message: "Unlocking", Frame: 2}
	p := Prompt{Active: true, Password: true, Text: "Passphrase for /dev/sda3:"}
	with := func(f func(*Prompt)) State { s := base; s.Prompt = p; f(&s.Prompt); return s }
	seq := []State{
		base,
		with(func(*Prompt) {}),
		with(func(q *Prompt) { q.Bullets = 1 }),
		with(func(q *Prompt) { q.Bullets = 2 }),
		with(func(q *Prompt) { q.Bullets = 1 }),
		with(func(q *Prompt) { q.Bullets = 1; q.CapsLock = true }),
		with(func(q *Prompt) { q.Bullets = 40 }),
		with(func(q *Prompt) { q.Bullets = 41 }),
		with(func(q *Prompt) { q.Retry = true }),
		with(func(q *Prompt) { q.Password = false; q.Text = "Continue?"; q.Entry = "ye" }),
		with(func(q *Prompt) { q.Password = false; q.Text = "Continue?"; q.Entry = "yes" }),
		base,
	}
	for _, th := range []struct {
		name string
		th   *theme.Theme
	}{{"default", defaultTheme(t)}, {"test", loadTestTheme(t)}} {
		for _, sz := range []image.Point{{480, 272}, {1280, 720}} {
			t.Run(fmt.Sprintf("%s/%dx%d", th.name, sz.X, sz.Y), func(t *testing.T) {
				r := NewRenderer(th.th, 1)
				s := fbemu.NewSurface(sz.X, sz.Y, fbemu.XRGB8888)
				if err := r.Paint(s, seq[0]); err != nil {
					t.Fatal(err)
				}
				for i := 1; i < len(seq); i++ {
					d := fbemu.NewDamage(s.Bounds())
					s.SetDamage(d)
					if err := r.Update(s, seq[i-1], seq[i]); err != nil {
						t.Fatal(err)
					}
					if n := surfacesDiffer(s, paintOn(t, th.th, sz.X, sz.Y, seq[i])); n != 0 {
						t.Fatalf("step %d (%+v): Update differs from Paint in %d pixels", i, seq[i].Prompt, n)
					}
					a, b := seq[i-1].Prompt, seq[i].Prompt
					if a.Active && b.Active && a.Text == b.Text && a.Password && b.Password && a.Bullets != b.Bullets && a.CapsLock == b.CapsLock && a.Retry == b.Retry {
						pl := r.lay.prompt
						cell := pl.pitch * pl.bullet.Bounds().Dy()
						if pl.bullets(a) != pl.bullets(b) && d.Area() > 2*cell {
							t.Errorf("step %d: a key damaged %v (%d pixels), more than two bullet cells (%d)", i, d.Rects(), d.Area(), 2*cell)
						}
						if pl.bullets(a) == pl.bullets(b) && !d.Empty() {
							t.Errorf("step %d: past max_bullets a key damaged %v", i, d.Rects())
						}
					}
				}
			})
		}
	}
}

// The bullets are capped by max_bullets and by the entry's width.
func TestPromptBulletCap(t *testing.T) {
	th := defaultTheme(t)
	r := NewRenderer(th, 1)
	s := fbemu.NewSurface(1024, 768, fbemu.XRGB8888)
	st := State{Prompt: Prompt{Active: true, Password: true, Text: "p", Bullets: 1000}}
	if err := r.Paint(s, st); err != nil {
		t.Fatal(err)
	}
	pl := r.lay.prompt
	// 24 in the default theme, fewer as the 260-pixel entry holds fewer.
	if fit := (pl.entry.Dx() - 2*pl.pad - pl.cursorW) / pl.pitch; pl.maxBullets != min(24, fit) || pl.maxBullets < 12 {
		t.Errorf("max bullets %d, want min(24, %d)", pl.maxBullets, fit)
	}
	last := pl.cursorRect(pl.bullets(st.Prompt))
	if !last.In(pl.entry) {
		t.Errorf("the cursor after the last bullet %v leaves the entry %v", last, pl.entry)
	}
}

// One key typed at the prompt (a bullet more, then one less), against a
// full Paint of the same State: "x-paint" is the key's share of a frame.
func BenchmarkPromptKey(b *testing.B) {
	forBenchSizes(b, func(b *testing.B, w, h int) {
		th, err := theme.Default()
		if err != nil {
			b.Fatal(err)
		}
		r := NewRenderer(th, 1)
		s := fbemu.NewSurface(w, h, fbemu.XRGB8888)
		p := Prompt{Active: true, Password: true, Text: "Passphrase for cryptroot:", Bullets: 5}
		a, c := State{Progress: 0.4, Prompt: p}, State{Progress: 0.4, Prompt: p}
		c.Prompt.Bullets = 6
		if err := r.Paint(s, a); err != nil {
			b.Fatal(err)
		}
		i := 0
		versus(b, "x-paint", func() {
			if i%2 == 0 {
				r.Update(s, a, c)
			} else {
				r.Update(s, c, a)
			}
			i++
		}, func() {
			r.Paint(s, a)
		})
	})
}
