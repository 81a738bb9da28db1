package splash

import (
	"errors"
	"fmt"
	"image/color"
	"log/slog"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// ScreenOptions are what a Screen over a display needs besides it.
type ScreenOptions struct {
	// Scale overrides every head's scale; 0 derives each from the
	// head's size and physical size.
	Scale float64
	// Log receives paint problems; nil discards them.
	Log *slog.Logger
	// Lang is the locale of the splash's own strings (Renderer.SetLocale);
	// "" is English.
	Lang string
}

// DisplayScreen is the Screen a Daemon drives on a display.Display: a
// renderer per head at that head's scale, painting in full where the head
// wants it (a new head, one whose mode was set again, the first frame and
// every one after Hide or a new theme) and otherwise only where the State
// differs from the one on screen. With no heads, while deactivated or
// while the VT is away, it only keeps the State for later. Events the
// display hands over are applied through Apply.
type DisplayScreen struct {
	disp  display.Display
	theme *theme.Theme
	opt   ScreenOptions
	heads []*headScreen

	state  State // the State last asked for
	hidden bool  // Hide came after the last Show
	asked  bool  // Show or Hide was called: new heads have something to draw
	// shown is called after each Show that reached at least one head.
	shown func()
}

// headScreen is one head and the renderer drawing on it.
type headScreen struct {
	h      *display.Head
	r      *Renderer
	shown  State
	drawn  bool // the head holds shown (false at first, after Hide and a new theme)
	warned bool // a paint error was logged
}

// NewScreen makes the Screen that draws th on every head of d.
func NewScreen(d display.Display, th *theme.Theme, opt ScreenOptions) *DisplayScreen {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &DisplayScreen{disp: d, theme: th, opt: opt}
}

// renderer draws the theme at h's scale (or the one asked for).
func (s *DisplayScreen) renderer(h *display.Head) *Renderer {
	scale := s.opt.Scale
	if scale <= 0 {
		scale = OutputScale(h.Size.X, h.Size.Y, h.SizeMM.X, h.SizeMM.Y)
	}
	r := NewRenderer(s.theme, scale)
	r.SetLocale(s.opt.Lang)
	return r
}

// SetLocale sets the locale of the splash's own strings on every head
// and the ones to come, for prompts drawn from now on.
func (s *DisplayScreen) SetLocale(loc string) {
	s.opt.Lang = loc
	for _, hs := range s.heads {
		hs.r.SetLocale(loc)
	}
}

// sync follows the display's heads: a renderer for each new one, none
// for the ones gone. It returns the new ones.
func (s *DisplayScreen) sync() []*headScreen {
	heads := s.disp.Heads()
	old := s.heads
	s.heads = make([]*headScreen, 0, len(heads))
	var added []*headScreen
	for _, h := range heads {
		var hs *headScreen
		for _, o := range old {
			if o.h == h {
				hs = o
			}
		}
		if hs == nil {
			hs = &headScreen{h: h, r: s.renderer(h)}
			added = append(added, hs)
		}
		s.heads = append(s.heads, hs)
	}
	return added
}

// find returns the screen of head h.
func (s *DisplayScreen) find(h *display.Head) *headScreen {
	for _, hs := range s.heads {
		if hs.h == h {
			return hs
		}
	}
	return nil
}

// Show draws st on every head.
func (s *DisplayScreen) Show(st State) error {
	s.state, s.hidden, s.asked = st, false, true
	if !s.disp.Active() {
		return nil
	}
	s.sync()
	err := s.disp.Each("show", func(h *display.Head) error { return s.find(h).show(st, s.opt.Log) })
	if err == nil && len(s.disp.Heads()) > 0 && s.shown != nil {
		s.shown()
	}
	return err
}

// Hide blanks every head.
func (s *DisplayScreen) Hide() error {
	s.hidden, s.asked = true, true
	if !s.disp.Active() {
		return nil
	}
	s.sync()
	return s.disp.Each("hide", func(h *display.Head) error { return s.find(h).hide() })
}

// Deactivate drops DRM master so another program (a display manager) can
// take the display; nothing is drawn until Reactivate.
func (s *DisplayScreen) Deactivate() error { return s.disp.Deactivate() }

// Reactivate takes master back and sets the heads' modes again (as
// Plymouth does: whoever had master may have changed the CRTC); the next
// Show repaints everything.
func (s *DisplayScreen) Reactivate() error { return s.follow(s.disp.Reactivate()) }

// Apply applies an event of the display, on the daemon's goroutine
// between frames: heads lit by it show black at once while the splash is
// hidden, and the State (on the daemon's next draw) otherwise.
func (s *DisplayScreen) Apply(ev display.Event) error { return s.follow(ev.Apply()) }

// follow takes up the heads a change of the display (err: its failure)
// lit: while the splash is hidden they show black at once.
func (s *DisplayScreen) follow(err error) error {
	added := s.sync()
	if !s.asked || !s.hidden || len(added) == 0 || !s.disp.Active() {
		return err
	}
	errs := []error{err}
	for _, hs := range added {
		e := s.disp.Each("hide", func(h *display.Head) error {
			if h != hs.h {
				return nil
			}
			return hs.hide()
		})
		if e != nil {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// SetTheme draws th from now on, on every head and the ones to come; the
// next Show paints in full.
func (s *DisplayScreen) SetTheme(th *theme.Theme) {
	s.theme = th
	for _, hs := range s.heads {
		hs.r, hs.drawn = s.renderer(hs.h), false
	}
}

// show draws st on the head: in full when the head wants it or holds
// something else, otherwise only what differs from the State on it.
func (hs *headScreen) show(st State, log *slog.Logger) error {
	full := !hs.drawn || hs.h.Full()
	var paintErr error
	err := hs.h.Framebuffer.Frame(func(surf *fbemu.Surface) error {
		if full {
			paintErr = hs.r.Paint(surf, st)
		} else {
			paintErr = hs.r.Update(surf, hs.shown, st)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if paintErr != nil && !hs.warned {
		// What could be drawn is on screen; say once what could not.
		log.Warn(fmt.Sprintf("theme: %v", paintErr))
		hs.warned = true
	}
	hs.shown, hs.drawn = st, true
	return hs.h.Present()
}

// hide blanks the head.
func (hs *headScreen) hide() error {
	err := hs.h.Framebuffer.Frame(func(surf *fbemu.Surface) error {
		surf.Clear(color.RGBA{A: 0xff})
		return nil
	})
	if err != nil {
		return err
	}
	hs.drawn = false
	return hs.h.Present()
}
