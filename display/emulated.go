package display

import (
	"context"
	"fmt"
	"image"
	"log/slog"

	"github.com/bootsplash/bootsplash/fbemu"
)

// EmulatedDisplay is the Display with one head on fbemu's emulated
// display (memfd buffers): the package's fake boundary, for a machine
// with no display device, tests, and windows that show its frames.
type EmulatedDisplay struct {
	emu  *fbemu.Emulated
	head *Head
	why  string
}

// EmulatedOptions make an emulated display.
type EmulatedOptions struct {
	// Size is the display's size; zero means 1024x768.
	Size image.Point
	// Buffers, Access and Rotation are as in Options.
	Buffers  int
	Access   Strategy
	Rotation fbemu.Rotation
	// Present runs after every frame (Head.Present) with the emulated
	// display: write it to a file, hand its damage to a window. nil does
	// nothing.
	Present func(*fbemu.Emulated) error
}

// NewEmulated makes an emulated display.
func NewEmulated(opt EmulatedOptions) (*EmulatedDisplay, error) {
	w, h := opt.Size.X, opt.Size.Y
	if w <= 0 || h <= 0 {
		w, h = 1024, 768
	}
	e, err := fbemu.NewEmulatedWith(w, h, fbemu.XRGB8888, fbemu.EmulatedOptions{FramebufferOptions: fbemu.FramebufferOptions{
		Buffers: opt.Buffers, Strategy: opt.Access, Rotation: opt.Rotation,
	}})
	if err != nil {
		return nil, err
	}
	d := &EmulatedDisplay{emu: e}
	var present func() error
	if opt.Present != nil {
		present = func() error { return opt.Present(e) }
	}
	d.head = NewHead("emulated", e.Framebuffer, image.Point{}, present)
	d.head.Size = image.Pt(w, h)
	return d, nil
}

// openEmulated opens the emulated display Open takes: its frames are
// written to opt.Out, giving up when ctx is done.
func openEmulated(ctx context.Context, opt Options, log *slog.Logger) (*EmulatedDisplay, error) {
	eo := EmulatedOptions{Size: opt.EmuSize, Buffers: opt.Buffers, Access: opt.Access, Rotation: opt.Rotation}
	if opt.Out != "" {
		first := true
		eo.Present = func(e *fbemu.Emulated) error {
			if err := e.SavePNGContext(ctx, opt.Out); err != nil {
				return err
			}
			if first {
				size := e.Bounds().Size()
				log.Info("wrote "+opt.Out, "size", fmt.Sprintf("%dx%d", size.X, size.Y))
				first = false
			}
			return nil
		}
	}
	d, err := NewEmulated(eo)
	if err != nil {
		return nil, err
	}
	size := d.head.Size
	log.Info("output: emulated display", "size", fmt.Sprintf("%dx%d", size.X, size.Y), "format", d.emu.Format().String())
	log.Info("buffer: memfd (emulated display)", "buffers", d.emu.Buffers(), "access", opt.Access.String())
	return d, nil
}

// Emulated returns the emulated display under the head, to read its
// pixels back.
func (d *EmulatedDisplay) Emulated() *fbemu.Emulated { return d.emu }

// Kind is Emulated.
func (d *EmulatedDisplay) Kind() Kind { return Emulated }

// Why says why Open took the emulated display.
func (d *EmulatedDisplay) Why() string { return d.why }

// Heads returns the one head (none once closed).
func (d *EmulatedDisplay) Heads() []*Head {
	if d.head == nil {
		return nil
	}
	return []*Head{d.head}
}

// Active is true: nothing else takes an emulated display.
func (d *EmulatedDisplay) Active() bool { return true }

// Each runs f on the head.
func (d *EmulatedDisplay) Each(op string, f func(*Head) error) error {
	for _, h := range d.Heads() {
		if err := f(h); err != nil {
			return fmt.Errorf("%s %s: %w", op, h, err)
		}
	}
	return nil
}

// Listen does nothing: an emulated display does not change.
func (d *EmulatedDisplay) Listen(send func(Event) bool) {}

// Deactivate does nothing: there is no master to drop.
func (d *EmulatedDisplay) Deactivate() error { return nil }

// Reactivate does nothing but ask for a full frame, as on a real display.
func (d *EmulatedDisplay) Reactivate() error {
	if d.head != nil {
		d.head.full = true
	}
	return nil
}

// Close releases the buffers.
func (d *EmulatedDisplay) Close() error {
	if d.head == nil {
		return nil
	}
	d.head = nil
	return d.emu.Close()
}

// CloseRetained is Close: there is no screen to leave a frame on.
func (d *EmulatedDisplay) CloseRetained() error { return d.Close() }
