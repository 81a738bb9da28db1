package splash

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/input"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// presented is one frame a photonScreen put on the emulated display:
// the State, the damage the display was given, and the prompt's entry.
type presented struct {
	st    State
	clips []image.Rectangle
	entry image.Rectangle
	at    time.Time
}

// photonScreen is a DisplayScreen on a single-buffered emulated display
// that hands over each frame once it is presented (the damage flushed).
type photonScreen struct {
	*DisplayScreen
	disp   *display.EmulatedDisplay
	frames chan presented
}

func (s *photonScreen) Show(st State) error {
	err := s.DisplayScreen.Show(st)
	p := presented{st: st, at: time.Now(), clips: s.disp.Emulated().LastPresent().Clips()}
	if len(s.heads) > 0 && s.heads[0].r.lay != nil && s.heads[0].r.lay.prompt != nil {
		p.entry = s.heads[0].r.lay.prompt.entry
	}
	s.frames <- p
	return err
}

// keyRig is the daemon on the emulated display with a password question
// open and five characters typed.
type keyRig struct {
	scr    *photonScreen
	kb     *keyboard
	q      <-chan asked
	last   presented
	stop   func()
	bullet int
}

func newKeyRig(tb testing.TB, sz image.Point) *keyRig {
	tb.Helper()
	th, err := theme.Default()
	if err != nil {
		tb.Fatal(err)
	}
	d, err := display.NewEmulated(display.EmulatedOptions{Size: sz, Buffers: 1})
	if err != nil {
		tb.Fatal(err)
	}
	scr := &photonScreen{DisplayScreen: NewScreen(d, th, ScreenOptions{}), disp: d, frames: make(chan presented, 64)}
	kb := &keyboard{}
	dm := NewDaemon(DaemonConfig{Screen: scr, Input: kb, Initial: State{Progress: 0.4, Message: "Unlocking"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dm.Run(ctx) }()
	rig := &keyRig{scr: scr, kb: kb}
	rig.stop = func() { cancel(); <-done; d.Close() }
	rig.q = askAsync(dm, control.Command{Kind: control.AskPassword, Text: "Passphrase for cryptroot:"})
	for rig.last.st.Prompt.Bullets != 5 || !rig.last.st.Prompt.Active {
		if kb.isOpen() && rig.last.st.Prompt.Active && rig.bullet == 0 {
			typeAsync(kb, "abcde")
			rig.bullet = 5
		}
		select {
		case rig.last = <-scr.frames:
		case <-time.After(10 * time.Millisecond):
		}
	}
	return rig
}

func typeAsync(kb *keyboard, s string) {
	kb.mu.Lock()
	ch := kb.ch
	kb.mu.Unlock()
	for _, r := range s {
		var ev input.Event
		ev.Len = copy(ev.Text[:], string(r))
		ch <- ev
	}
}

// key types a character (or Backspace, every other key, so the bullets
// stay in the entry) and returns the frame that shows it and the time
// from the key to that frame's presentation. It first waits out the
// daemon's frame pacing, as a person typing does (fewer than 60 keys a
// second), so the key is drawn at once.
func (r *keyRig) key(tb testing.TB, gap func(bool)) (presented, time.Duration) {
	tb.Helper()
	if w := minFrameGap - time.Since(r.last.at) + time.Millisecond; w > 0 {
		gap(true)
		time.Sleep(w)
		gap(false)
	}
	r.kb.mu.Lock()
	ch := r.kb.ch
	r.kb.mu.Unlock()
	want := r.bullet + 1
	ev := input.Event{Kind: input.Text, Text: [4]byte{'x'}, Len: 1}
	if r.bullet == 6 {
		want, ev = 5, input.Event{Kind: input.Backspace}
	}
	start := time.Now()
	ch <- ev
	for {
		select {
		case p := <-r.scr.frames:
			r.last = p
			if p.st.Prompt.Bullets == want {
				r.bullet = want
				return p, p.at.Sub(start)
			}
		case <-time.After(5 * time.Second):
			tb.Fatalf("no frame with %d bullets", want)
		}
	}
}

// TestKeyDamagesEntryOnly: on the emulated display, each key typed at an
// open password question presents a frame whose damage lies inside the
// prompt's entry (TestPromptUpdates bounds it further, to the bullet
// cells, for Renderer.Update alone).
func TestKeyDamagesEntryOnly(t *testing.T) {
	r := newKeyRig(t, image.Pt(800, 480))
	defer r.stop()
	for i := range 6 {
		p, _ := r.key(t, func(bool) {})
		if p.entry.Empty() || len(p.clips) == 0 {
			t.Fatalf("key %d: entry %v, damage %v", i, p.entry, p.clips)
		}
		for _, c := range p.clips {
			if !c.In(p.entry) {
				t.Errorf("key %d damaged %v, outside the entry %v", i, c, p.entry)
			}
		}
	}
}

// BenchmarkKeyToPhoton: a key fed to the daemon through its keyboard
// Source, with a password question open on the emulated display, until
// the frame with the new bullet is presented (damage only); "x-paint" is
// that time over a full Paint of the same screen, timed in the same run.
// Each key first waits out the daemon's frame pacing untimed, so run it
// with a count: -benchtime 200x.
func BenchmarkKeyToPhoton(b *testing.B) {
	forBenchSizes(b, func(b *testing.B, w, h int) {
		r := newKeyRig(b, image.Pt(w, h))
		defer r.stop()
		th, err := theme.Default()
		if err != nil {
			b.Fatal(err)
		}
		full := NewRenderer(th, 1)
		s := fbemu.NewSurface(w, h, fbemu.XRGB8888)
		st := r.last.st
		b.ResetTimer()
		var keys, paint time.Duration
		for i := 0; i < b.N; i++ {
			_, d := r.key(b, func(stop bool) {
				if stop {
					b.StopTimer()
				} else {
					b.StartTimer()
				}
			})
			keys += d
			b.StopTimer()
			start := time.Now()
			full.Paint(s, st)
			paint += time.Since(start)
			b.StartTimer()
		}
		b.StopTimer()
		b.ReportMetric(float64(keys)/float64(b.N)/1e3, "µs-key")
		b.ReportMetric(float64(paint)/float64(b.N)/1e3, "µs-paint")
		b.ReportMetric(float64(keys)/float64(paint), "x-paint")
	})
}
