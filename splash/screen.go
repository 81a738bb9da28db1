package splash

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"os"
	"time"

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
	// BGRT is where the firmware's logo is read from for a theme that
	// takes it ([logo] firmware = true): "" is display.BGRTDir, except
	// on the emulated display, which has no firmware and so no logo.
	BGRT string
	// EFIVars is where the firmware's variables are read from for a
	// theme with a [secure_boot] line: "" is the system's efivarfs
	// (display.ReadSecureBoot), except on the emulated display, which
	// has no firmware and so says nothing.
	EFIVars string
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
	// The firmware's logo, read the first time a theme takes it.
	fwLogo *display.FirmwareLogo
	fwRead bool
	// What the firmware says of Secure Boot, read the first time a
	// theme has a line for it.
	secureBoot     display.SecureBoot
	secureBootRead bool
}

// headScreen is one head and the renderer drawing on it.
type headScreen struct {
	h      *display.Head
	r      *Renderer
	shown  State
	drawn  bool // the head holds shown (false at first, after Hide and a new theme)
	warned bool // a paint error was logged
	// lit says the head has shown a frame: only its first leaves text
	// out (a new theme's first frame does not, so nothing flickers).
	lit bool
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
	if takesFirmwareLogo(s.theme, h.Size) {
		if l := s.firmwareLogo(); l != nil {
			r.SetFirmwareLogo(l, display.FirmwareMode(s.disp))
		}
	}
	if warnsSecureBoot(s.theme, h.Size) {
		r.SetSecureBoot(s.readSecureBoot())
	}
	return r
}

// warnsSecureBoot says whether th has a [secure_boot] line on a screen
// of size.
func warnsSecureBoot(th *theme.Theme, size image.Point) bool {
	for _, sec := range []*theme.Sections{th.Base(), th.Resolve(size.X, size.Y), th.Resolve(size.Y, size.X)} {
		if sec.SecureBoot != nil {
			return true
		}
	}
	return false
}

// readSecureBoot reads once what the firmware says of Secure Boot,
// saying in the log what it is or why it is not known.
func (s *DisplayScreen) readSecureBoot() display.SecureBoot {
	if s.secureBootRead {
		return s.secureBoot
	}
	s.secureBootRead = true
	dir := s.opt.EFIVars
	if dir == "" && s.disp.Kind() == display.Emulated {
		s.opt.Log.Debug("secure boot: not known on the emulated display: no warning")
		return display.SecureBootUnknown
	}
	sb, err := display.ReadSecureBoot(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.opt.Log.Info(fmt.Sprintf("%v: no warning", err))
	case err != nil:
		s.opt.Log.Warn(fmt.Sprintf("%v: no warning", err))
	case sb == display.SecureBootOff:
		s.opt.Log.Info("secure boot: off, says the firmware: the theme's warning is drawn")
	default:
		s.opt.Log.Info("secure boot: " + sb.String() + ", says the firmware")
	}
	s.secureBoot = sb
	return sb
}

// SetLocale sets the locale of the splash's own strings on every head
// and the ones to come, for prompts drawn from now on.
func (s *DisplayScreen) SetLocale(loc string) {
	s.opt.Lang = loc
	for _, hs := range s.heads {
		hs.r.SetLocale(loc)
	}
}

// takesFirmwareLogo says whether th draws the firmware's logo on a screen
// of size.
func takesFirmwareLogo(th *theme.Theme, size image.Point) bool {
	for _, sec := range []*theme.Sections{th.Base(), th.Resolve(size.X, size.Y), th.Resolve(size.Y, size.X)} {
		if l := sec.Logo; l != nil && l.Firmware != nil && *l.Firmware {
			return true
		}
	}
	return false
}

// firmwareLogo reads the firmware's logo once, saying in the log what it
// is or why there is none.
func (s *DisplayScreen) firmwareLogo() *display.FirmwareLogo {
	if s.fwRead {
		return s.fwLogo
	}
	s.fwRead = true
	dir := s.opt.BGRT
	if dir == "" {
		if s.disp.Kind() == display.Emulated {
			s.opt.Log.Debug("firmware logo: none on the emulated display")
			return nil
		}
		dir = display.BGRTDir
	}
	l, err := display.ReadFirmwareLogo(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.opt.Log.Info("firmware logo: none (no ACPI BGRT): the theme's logo is drawn")
		return nil
	case err != nil:
		s.opt.Log.Warn(fmt.Sprintf("%v: the theme's logo is drawn", err))
		return nil
	}
	b := l.Image.Bounds().Size()
	mode := display.FirmwareMode(s.disp)
	on := "in a mode not known"
	if mode != (image.Point{}) {
		on = fmt.Sprintf("on the firmware's %dx%d", mode.X, mode.Y)
	}
	s.opt.Log.Info(fmt.Sprintf("firmware logo: ACPI BGRT %dx%d at %v %s", b.X, b.Y, l.Offset, on),
		"displayed", l.Displayed, "orientation", l.Orientation)
	s.fwLogo = l
	return l
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

// Show draws st on every head. A head's first frame goes up first
// without the text that needs fonts found, parsed and
// shaped (other scripts than the theme font's Latin), and a second frame
// right after it draws that text where it goes, so such text does not
// delay the whole picture.
func (s *DisplayScreen) Show(st State) error {
	s.state, s.hidden, s.asked = st, false, true
	if !s.disp.Active() {
		return nil
	}
	s.sync()
	var later []*headScreen
	err := s.disp.Each("show", func(h *display.Head) error {
		hs := s.find(h)
		cold, err := hs.show(st, true, s.opt.Log)
		if cold && err == nil {
			later = append(later, hs)
		}
		return err
	})
	if err == nil && len(s.disp.Heads()) > 0 && s.shown != nil {
		s.shown()
	}
	if len(later) == 0 {
		return err
	}
	start := time.Now()
	errs := []error{err}
	errs = append(errs, s.disp.Each("show text", func(h *display.Head) error {
		for _, hs := range later {
			if hs.h == h {
				_, err := hs.show(st, false, s.opt.Log)
				return err
			}
		}
		return nil
	}))
	s.opt.Log.Debug("text that needs shaping drawn after the frame without it", "ms", fmt.Sprintf("%.2f", float64(time.Since(start).Microseconds())/1000))
	return errors.Join(errs...)
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
// something else, otherwise only what differs from the State on it. With
// quick, the head's first frame leaves out the text a renderer would first have to
// find fonts for and shape (Renderer.withoutColdText); cold says it did,
// and st is still to be shown.
func (hs *headScreen) show(st State, quick bool, log *slog.Logger) (cold bool, err error) {
	full := !hs.drawn || hs.h.Full()
	drawn := st
	var paintErr error
	err = hs.h.Framebuffer.Frame(func(surf *fbemu.Surface) error {
		if full {
			if quick && !hs.lit {
				drawn, cold = hs.r.withoutColdText(surf, st)
			}
			paintErr = hs.r.Paint(surf, drawn)
		} else {
			paintErr = hs.r.Update(surf, hs.shown, st)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if paintErr != nil && !hs.warned {
		// What could be drawn is on screen; say once what could not.
		log.Warn(fmt.Sprintf("theme: %v", paintErr))
		hs.warned = true
	}
	hs.shown, hs.drawn, hs.lit = drawn, true, true
	return cold, hs.h.Present()
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

// DetailsRows is how many rows of the details view the smallest head
// shows (DetailsPager); 0 with no heads.
func (s *DisplayScreen) DetailsRows() int {
	n := 0
	for _, hs := range s.heads {
		sz := hs.h.Framebuffer.Bounds().Size()
		if r := hs.r.DetailsRows(sz.X, sz.Y); n == 0 || r < n {
			n = r
		}
	}
	return n
}
