package status

import (
	"context"
	"errors"
	"time"

	"github.com/bootsplash/bootsplash/display"
)

// Show runs a status screen on every head of d until ctx is done: an
// update at each turn of the clock's second, and the display's events
// (hotplug, VT switches, the device going and coming back) applied
// between updates. A new head gets a Screen of its own; a head that wants
// a full frame (its mode was set again) is drawn whole; a head is
// presented only when its update damaged something. after, when not nil,
// sees each head's update. Show returns nil when ctx ends it, else the
// first error; the caller closes d.
func Show(ctx context.Context, d display.Display, opt Options, after func(*display.Head, Update)) error {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	screens := make(map[*display.Head]*Screen)
	update := func(now time.Time) error {
		if !d.Active() {
			return nil // another program or VT has the display
		}
		err := d.Each("status", func(h *display.Head) error {
			s := screens[h]
			if s == nil {
				var err error
				if s, err = New(h.Framebuffer, opt); err != nil {
					return err
				}
				screens[h] = s
			} else if h.Full() {
				s.Redraw()
			}
			u, err := s.Update(now)
			if err != nil {
				return err
			}
			if after != nil {
				after(h, u)
			}
			if u.Rects == 0 && !h.Full() {
				return nil
			}
			return h.Present()
		})
		// Forget the screens of heads that went.
		lit := make(map[*display.Head]bool)
		for _, h := range d.Heads() {
			lit[h] = true
		}
		for h := range screens {
			if !lit[h] {
				delete(screens, h)
			}
		}
		return err
	}
	canceled := func(err error) bool { return ctx.Err() != nil && errors.Is(err, ctx.Err()) }

	now := opt.Now()
	if err := update(now); err != nil {
		if canceled(err) {
			return nil
		}
		return err
	}
	events := make(chan display.Event)
	done := make(chan struct{})
	defer close(done)
	d.Listen(func(ev display.Event) bool {
		select {
		case events <- ev:
			return true
		case <-done:
			return false
		}
	})
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for {
		// Wake on the next whole second, so the clock turns with it.
		t.Reset(now.Truncate(time.Second).Add(time.Second).Sub(opt.Now()))
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			if err := ev.Apply(); err != nil {
				return err
			}
			t.Stop()
		case <-t.C:
		}
		now = opt.Now()
		if err := update(now); err != nil {
			if canceled(err) {
				return nil
			}
			return err
		}
	}
}
