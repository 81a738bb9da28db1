package splash

import (
	"image"
	"testing"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// TestScreenPaintsInFullWhenTheHeadWantsIt: a progress step is drawn as a
// small damage clip, but after Reactivate (another program may have drawn
// meanwhile) the head wants a full frame and the whole screen is damaged;
// the frame after that is small again.
func TestScreenPaintsInFullWhenTheHeadWantsIt(t *testing.T) {
	th, err := theme.Default()
	if err != nil {
		t.Fatal(err)
	}
	d, err := display.NewEmulated(display.EmulatedOptions{Size: image.Pt(320, 200), Buffers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	damaged := func() int {
		n := 0
		for _, r := range d.Emulated().LastPresent().Clips() {
			n += r.Dx() * r.Dy()
		}
		return n
	}
	full := 320 * 200
	scr := NewScreen(d, th, ScreenOptions{})
	steps := []struct {
		what     string
		do       func() error
		wantFull bool
	}{
		{"first frame", func() error { return scr.Show(State{Progress: 0.1}) }, true},
		{"a progress step", func() error { return scr.Show(State{Progress: 0.2}) }, false},
		{"after reactivate", func() error {
			if err := scr.Reactivate(); err != nil {
				return err
			}
			return scr.Show(State{Progress: 0.3})
		}, true},
		{"the next step", func() error { return scr.Show(State{Progress: 0.4}) }, false},
		{"after a new theme", func() error {
			scr.SetTheme(th)
			return scr.Show(State{Progress: 0.5})
		}, true},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		got := damaged()
		if s.wantFull != (got == full) || got == 0 {
			t.Errorf("%s: %d of %d pixels damaged, want full=%v", s.what, got, full, s.wantFull)
		}
	}
	if h := d.Heads()[0]; h.Full() {
		t.Error("the head still wants a full frame after one was presented")
	}
}

// TestScreenLeavesTextOutOfTheFirstFrameOnly: a head's first frame with
// non-Latin text goes up without it and a small frame after it adds it;
// the first frame of a new theme draws it at once, so it does not
// flicker.
func TestScreenLeavesTextOutOfTheFirstFrameOnly(t *testing.T) {
	th, err := theme.Default()
	if err != nil {
		t.Fatal(err)
	}
	d, err := display.NewEmulated(display.EmulatedOptions{Size: image.Pt(320, 200), Buffers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	damaged := func() int {
		n := 0
		for _, r := range d.Emulated().LastPresent().Clips() {
			n += r.Dx() * r.Dy()
		}
		return n
	}
	var shown []State
	scr := NewScreen(d, th, ScreenOptions{})
	st := State{Progress: 0.1, Message: nonLatinMessage}
	if err := scr.Show(st); err != nil {
		t.Fatal(err)
	}
	hs := scr.heads[0]
	if hs.shown != st || damaged() == 0 || damaged() >= 320*200/4 {
		t.Errorf("after the first Show: the head shows %+v, the last frame damaged %d pixels; want the message in a small frame", hs.shown, damaged())
	}
	scr.shown = func() { shown = append(shown, hs.shown) }
	scr.SetTheme(th)
	if err := scr.Show(st); err != nil {
		t.Fatal(err)
	}
	if len(shown) != 1 || shown[0] != st || damaged() != 320*200 {
		t.Errorf("a new theme's frame showed %+v and damaged %d pixels; want the message in one full frame", shown, damaged())
	}
}
