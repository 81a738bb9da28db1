//go:build preview

package preview

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"

	bsdisplay "github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// update is what the daemon's side hands the GL thread after a frame: the
// picture on the emulated display and the clips of it that changed.
type update struct {
	// pix is what the display shows; it is not written after it is sent.
	pix *image.RGBA
	// clips are the damaged rectangles, in pix's coordinates.
	clips []image.Rectangle
	// full asks for a new texture of pix's size (a new emulated display).
	full bool
}

// display is the splash.Screen the daemon drives: a splash Screen over an
// emulated display, replaced by a new one of another size when the window
// is resized, with the State on screen carried over.
type display struct {
	theme *theme.Theme
	scale float64 // 0 derives it from each size
	log   *slog.Logger
	send  func(update)

	mu     sync.Mutex // the daemon and resizes take turns
	disp   *bsdisplay.EmulatedDisplay
	emu    *fbemu.Emulated
	scr    *splash.DisplayScreen
	state  splash.State // last State shown
	hidden bool
}

// open makes the emulated display of size and a Screen over it; the
// previous one, if any, is closed once the new one works.
func (d *display) open(size image.Point) error {
	first := true
	var disp *bsdisplay.EmulatedDisplay
	present := func(e *fbemu.Emulated) error {
		// Only the damage is converted (and later uploaded); the rest
		// of the image is never read.
		pix := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
		u := update{pix: pix, full: first}
		if first {
			u.clips = []image.Rectangle{pix.Bounds()}
		} else {
			u.clips = append(u.clips, e.LastPresent().Clips()...)
		}
		if err := e.SnapshotInto(pix, u.clips...); err != nil {
			return err
		}
		first = false
		d.send(u)
		return nil
	}
	disp, err := bsdisplay.NewEmulated(bsdisplay.EmulatedOptions{Size: size, Buffers: 1, Present: present})
	if err != nil {
		return err
	}
	old := d.disp
	d.disp, d.emu = disp, disp.Emulated()
	d.scr = splash.NewScreen(disp, d.theme, splash.ScreenOptions{Scale: d.scale, Log: d.log})
	if old != nil {
		return old.Close()
	}
	return nil
}

// resize moves the splash to a new emulated display of size, laid out
// again for it, showing the same State.
func (d *display) resize(size image.Point) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.emu != nil && d.emu.Bounds().Size() == size {
		return nil
	}
	if err := d.open(size); err != nil {
		return fmt.Errorf("preview: resize to %dx%d: %w", size.X, size.Y, err)
	}
	if d.hidden {
		return d.scr.Hide()
	}
	return d.scr.Show(d.state)
}

func (d *display) Show(st splash.State) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.scr.Show(st); err != nil {
		return err
	}
	d.state, d.hidden = st, false
	return nil
}

func (d *display) Hide() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hidden = true
	return d.scr.Hide()
}

func (d *display) Deactivate() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.scr.Deactivate()
}

func (d *display) Reactivate() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.scr.Reactivate()
}

// shown returns the State on the display and the display's size.
func (d *display) shown() (splash.State, image.Point) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.emu == nil {
		return d.state, image.Point{}
	}
	return d.state, d.emu.Bounds().Size()
}

// snapshot returns what the emulated display shows.
func (d *display) snapshot() (*image.RGBA, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.emu == nil {
		return nil, errors.New("preview: snapshot of a closed display")
	}
	return d.emu.Snapshot()
}

func (d *display) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.emu == nil {
		return nil
	}
	err := d.disp.Close()
	d.disp, d.emu = nil, nil
	return err
}
