package fbemu

import (
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
)

// KMS is a Framebuffer shown on one output of a KMS device, as
// drm_fbdev_generic shows its client buffer: the first frame sets the mode,
// later frames flip (double-buffered, on vblank) or flush damage in place
// (single buffer) with FB_DAMAGE_CLIPS on atomic devices and DIRTYFB on
// legacy ones. The connector's panel orientation is added to the requested
// rotation. The embedded *Framebuffer is what to draw on.
type KMS struct {
	*Framebuffer
	dev      *client.Device
	out      *client.Output
	scanouts []*client.Scanout
	timeout  time.Duration
	shown    int // scanout on screen (-1: none; the mode is not set yet)
	pending  int // scanout a flip waits for (-1: none)
	last     Present
	retain   bool // close with CloseRetained (CLOSEFB): the shown framebuffer stays up
}

// KMSOptions are the choices a KMS framebuffer is made with.
type KMSOptions struct {
	FramebufferOptions
	// Scanout says where buffer memory comes from (heap, udmabuf, dumb).
	Scanout client.ScanoutOptions
	// Format forces a pixel format; 0 takes the best one the plane offers.
	Format Format
	// IgnorePanelOrientation draws as if the panel were mounted upright.
	IgnorePanelOrientation bool
	// FlipTimeout bounds the wait for a flip-complete event; 0 means 1s.
	FlipTimeout time.Duration
}

// NewKMS makes a framebuffer for out at out.Mode on dev. The caller keeps
// owning dev and out; Close releases the buffers and framebuffers (the
// picture on screen stays until another master takes over).
func NewKMS(dev *client.Device, out *client.Output, opt KMSOptions) (*KMS, error) {
	f := opt.Format
	if f == 0 {
		var err error
		if f, err = ChooseFormat(out.Plane.Formats); err != nil {
			return nil, fmt.Errorf("fbemu: %s: %w", out, err)
		}
	} else if !out.Plane.SupportsFormat(f.FourCC()) {
		return nil, fmt.Errorf("fbemu: %s: plane %d does not scan out %v", out, out.Plane.ID, f)
	}
	if !opt.IgnorePanelOrientation {
		opt.Rotation = opt.Rotation.Add(PanelRotation(out.Connector.PanelOrientation))
	}
	n := opt.Buffers
	if n == 0 {
		n = 2
	}
	if n != 1 && n != 2 {
		return nil, fmt.Errorf("fbemu: %d buffers (want 1 or 2)", n)
	}
	opt.Buffers = n
	k := &KMS{dev: dev, out: out, timeout: opt.FlipTimeout, shown: -1, pending: -1}
	if k.timeout <= 0 {
		k.timeout = time.Second
	}
	w, h := out.Mode.Width(), out.Mode.Height()
	var bufs []*access.Buffer
	var strides []int
	for i := 0; i < n; i++ {
		s, err := client.NewScanout(dev, w, h, f.FourCC(), opt.Scanout)
		if err != nil {
			k.close()
			return nil, fmt.Errorf("fbemu: buffer %d for %s: %w", i, out, err)
		}
		k.scanouts = append(k.scanouts, s)
		bufs = append(bufs, s.Buffer)
		strides = append(strides, s.Pitch)
		// The next buffer goes straight to the source that worked, rather
		// than failing along the same fallbacks again.
		opt.Scanout = client.ScanoutOptions{Source: s.Source, Heap: s.Heap}
	}
	fb, err := newFramebuffer(bufs, strides, w, h, f, opt.FramebufferOptions, k)
	if err != nil {
		k.close()
		return nil, err
	}
	k.Framebuffer = fb
	return k, nil
}

// Output returns the output shown on.
func (k *KMS) Output() *client.Output { return k.out }

// Paths describes where each buffer's memory came from (client's
// Scanout.Path), for logs.
func (k *KMS) Paths() []string {
	p := make([]string, len(k.scanouts))
	for i, s := range k.scanouts {
		p[i] = s.Path
	}
	return p
}

// Fallbacks gives, for each buffer source tried and refused before the one
// taken, the reason it was refused (client's Scanout.Fallbacks).
func (k *KMS) Fallbacks() []string {
	if len(k.scanouts) == 0 {
		return nil
	}
	return k.scanouts[0].Fallbacks
}

// HeapRule says why the heaps were tried in the order they were (client's
// Scanout.Choice.Why), or "" when a heap was named or no heap was tried.
func (k *KMS) HeapRule() string {
	if len(k.scanouts) == 0 {
		return ""
	}
	return k.scanouts[0].Choice.Why
}

// LastPresent returns the last update sent to the device: the buffer, flip
// or damage flush, and the damage clips (panel coordinates).
func (k *KMS) LastPresent() Present { return k.last }

func (k *KMS) name() string { return k.dev.Driver().Name + "drmfb" }

func (k *KMS) present(i int, damage []image.Rectangle) error {
	fb := k.scanouts[i].FB
	p := Present{Buffer: i}
	p.N = copy(p.Damage[:], damage)
	switch {
	case k.shown < 0:
		// The first frame sets the mode; everything is new.
		if err := k.dev.Modeset(k.out, fb); err != nil {
			return err
		}
		k.shown = i
		p.N = copy(p.Damage[:], []image.Rectangle{fb.Bounds()})
	case len(k.scanouts) == 1 || k.shown == i:
		if err := k.dev.Damage(k.out, fb, damage); err != nil {
			return err
		}
	default:
		if err := k.dev.Flip(k.out, fb, damage, client.FlipEvent); err != nil {
			return err
		}
		p.Flip = true
		k.pending = i
	}
	k.last = p
	return nil
}

// waitIdle waits for the pending flip's completion event: the buffer it
// replaced is then free to draw in.
func (k *KMS) waitIdle() error {
	if k.pending < 0 {
		return nil
	}
	want := uint64(k.scanouts[k.pending].FB.ID())
	// The event for this flip only: another output's stays queued for it.
	if _, err := k.dev.WaitFlipFor(want, k.timeout); err != nil {
		return fmt.Errorf("fbemu: wait for the flip to buffer %d: %w", k.pending, err)
	}
	k.shown, k.pending = k.pending, -1
	return nil
}

// Wait blocks until a queued flip has completed (a no-op otherwise).
func (k *KMS) Wait() error { return k.waitIdle() }

func (k *KMS) close() error {
	var errs []error
	if k.pending >= 0 {
		errs = append(errs, k.waitIdle())
	}
	for i, s := range k.scanouts {
		if k.retain && i == k.shown {
			errs = append(errs, s.CloseRetained())
		} else {
			errs = append(errs, s.Close())
		}
	}
	k.scanouts = nil
	return errors.Join(errs...)
}

// Close waits for a pending flip, then releases the mappings, framebuffers
// and buffers.
func (k *KMS) Close() error {
	if k.Framebuffer == nil {
		return k.close()
	}
	return k.Framebuffer.Close()
}

// CloseRetained is Close, except that the framebuffer on screen is closed
// with CLOSEFB rather than removed: the plane keeps showing the last frame
// for whoever takes the device next. On kernels before 6.8 the error
// matches client.ErrNotSupported; everything is released all the same and
// the framebuffer goes when the device file is closed.
func (k *KMS) CloseRetained() error {
	k.retain = true
	return k.Close()
}

// Restore sets the mode again with the buffer on screen (the full commit of
// the first frame), for when another master may have changed the CRTC in
// the meantime; before the first frame it does nothing.
func (k *KMS) Restore() error {
	if err := k.waitIdle(); err != nil {
		return err
	}
	if k.shown < 0 {
		return nil
	}
	fb := k.scanouts[k.shown].FB
	if err := k.dev.Modeset(k.out, fb); err != nil {
		return err
	}
	k.last = Present{Buffer: k.shown, N: 1}
	k.last.Damage[0] = fb.Bounds()
	return nil
}
