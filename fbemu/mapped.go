package fbemu

import (
	"fmt"
	"image"

	"github.com/bootsplash/bootsplash/access"
)

// Scanout is memory a display scans out that its owner maps for the CPU,
// with no dma-buf and no KMS object behind it: a firmware framebuffer's
// memory (efifb, vesafb, simplefb) or an fbdev-only driver's (fbtft), as
// the kernel's fbdev core hands it to user space through /dev/fbN.
type Scanout struct {
	// Name is what FixScreenInfo.ID says ("efifb").
	Name string
	// Present shows buffer i, which changed in damage (panel
	// coordinates): with two buffers a pan to it (FBIOPAN_DISPLAY); with
	// one, nil (the memory is on screen as it is written). nil shows
	// nothing.
	Present func(i int, damage []image.Rectangle) error
	// Close releases what the owner keeps besides the buffers, after
	// they are unmapped; nil: nothing.
	Close func() error
}

// NewOn makes a Framebuffer of a w x h panel in format f over bufs, each
// one buffer of h rows at its stride in strides, shown on s. It takes the
// buffers: they are closed with the Framebuffer, or at once if it cannot
// be made.
func NewOn(bufs []*access.Buffer, strides []int, w, h int, f Format, opt FramebufferOptions, s Scanout) (*Framebuffer, error) {
	closeAll := func() {
		for _, b := range bufs {
			b.Close()
		}
	}
	switch {
	case !f.Valid():
		closeAll()
		return nil, fmt.Errorf("fbemu: %s: format %v", s.Name, f)
	case len(bufs) != 1 && len(bufs) != 2:
		closeAll()
		return nil, fmt.Errorf("fbemu: %s: %d buffers (want 1 or 2)", s.Name, len(bufs))
	case len(strides) != len(bufs):
		closeAll()
		return nil, fmt.Errorf("fbemu: %s: %d strides for %d buffers", s.Name, len(strides), len(bufs))
	}
	if err := CheckSize(w, h, 0); err != nil {
		closeAll()
		return nil, fmt.Errorf("fbemu: %s: %w", s.Name, err)
	}
	for i, b := range bufs {
		if strides[i] < w*f.BytesPerPixel() || b.Size() < strides[i]*h {
			closeAll()
			return nil, fmt.Errorf("fbemu: %s: buffer %d holds %d bytes at a stride of %d, too little for %dx%d %v", s.Name, i, b.Size(), strides[i], w, h, f)
		}
	}
	return newFramebuffer(bufs, strides, w, h, f, opt, &scanout{s})
}

// scanout is a Scanout as a Framebuffer's display.
type scanout struct{ s Scanout }

func (m *scanout) name() string { return m.s.Name }

func (m *scanout) present(i int, damage []image.Rectangle) error {
	if m.s.Present == nil {
		return nil
	}
	return m.s.Present(i, damage)
}

// waitIdle has nothing to wait for: a pan is done when its ioctl returns.
func (m *scanout) waitIdle() error { return nil }

func (m *scanout) close() error {
	if m.s.Close == nil {
		return nil
	}
	err := m.s.Close()
	m.s.Close = nil
	return err
}
