package fbemu

import (
	"errors"
	"fmt"
	"image"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/kerror"
)

// VarScreenInfo is the variable part of a framebuffer's description, after
// fbdev's struct fb_var_screeninfo.
type VarScreenInfo struct {
	// XRes and YRes are the visible size in pixels, as drawn (after
	// rotation).
	XRes, YRes int
	// XResVirtual and YResVirtual are the size of all buffers stacked, as
	// fbdev's double buffering by panning shows them (YRes times the number
	// of buffers).
	XResVirtual, YResVirtual int
	// XOffset and YOffset are the pan position of the buffer shown.
	XOffset, YOffset int
	// BitsPerPixel is the pixel size.
	BitsPerPixel int
	// Red, Green, Blue and Transp place the channels in a pixel.
	Red, Green, Blue, Transp Bitfield
	// Rotate is the rotation applied on the way to the panel, in degrees.
	Rotate int
}

// FixScreenInfo is the fixed part of a framebuffer's description, after
// fbdev's struct fb_fix_screeninfo.
type FixScreenInfo struct {
	// ID names the driver ("fbemu-emulated", "cirrusdrmfb").
	ID string
	// SmemLen is the size of the framebuffer memory (all buffers).
	SmemLen int
	// LineLength is the stride of one buffer in bytes.
	LineLength int
	// FourCC is the DRM format code of the pixels.
	FourCC client.Format
}

// ErrFlipPending means a frame was started while the previous one is still
// queued for the next vblank and no buffer is free to draw in.
var ErrFlipPending = errors.New("fbemu: a page flip is pending (no free buffer until vblank)")

// display is what a Framebuffer shows its buffers on: the emulated display
// or a KMS output. It is not a seam for faking client or access; each
// implementation is real.
type display interface {
	// name is FixScreenInfo.ID.
	name() string
	// present shows buffer i, which changed in damage (panel coordinates).
	// With one buffer it flushes damage (DIRTYFB or FB_DAMAGE_CLIPS);
	// with two it queues a flip to i for the next vblank.
	present(i int, damage []image.Rectangle) error
	// waitIdle returns once no flip is pending, or ErrFlipPending if the
	// display cannot wait (a scripted clock).
	waitIdle() error
	// close releases what the display owns besides the buffers.
	close() error
}

// buffer is one of a Framebuffer's buffers with its CPU mapping.
type buffer struct {
	buf    *access.Buffer
	m      *access.Mapping
	valid  uint64 // the frame whose picture it holds (0: the zero-filled start)
	surf   Surface
	stride int
}

// maxAge is how many frames of damage history are kept for buffer age.
const maxAge = 4

// Framebuffer is an emulated fbdev framebuffer: a fixed geometry and
// format, one or two buffers shown on a display, and a frame API that opens
// one CPU access bracket per frame and flushes the damage at its end. It is
// not safe for concurrent use: one goroutine draws frames.
type Framebuffer struct {
	w, h     int // logical size, as drawn
	pw, ph   int // panel size, as scanned out
	format   Format
	rotation Rotation
	bufs     []*buffer
	back     int    // buffer the next frame draws into
	front    int    // buffer shown (-1 before the first frame)
	seq      uint64 // frames presented so far
	history  [maxAge]Damage
	damage   Damage // the current frame's damage, logical coordinates
	panelDmg Damage // the same in panel coordinates
	catchUp  Damage // what the back buffer misses, logical coordinates
	logical  *Surface
	disp     display
	closed   bool
	deferred bool  // the back buffer's catch-up copy has not happened yet
	deferErr error // what a deferred catch-up copy failed with
}

// FramebufferOptions are the choices a Framebuffer is made with.
type FramebufferOptions struct {
	// Buffers is 2 for double buffering (flip on vblank) or 1 for a single
	// buffer updated in place (memory-tight devices). 0 means 2.
	Buffers int
	// Rotation turns the picture on its way to the panel (add
	// PanelRotation of the connector's orientation). Rotations other than
	// Rotate0 are done in software at flush unless the display rotates.
	Rotation Rotation
	// Strategy is how the CPU accesses the buffers (package access).
	Strategy access.Strategy
}

// newFramebuffer maps bufs (each pw x ph panel pixels at strides) and
// takes ownership of them.
func newFramebuffer(bufs []*access.Buffer, strides []int, pw, ph int, f Format, opt FramebufferOptions, disp display) (*Framebuffer, error) {
	fb := &Framebuffer{pw: pw, ph: ph, w: pw, h: ph, format: f, rotation: opt.Rotation % 4, front: -1, disp: disp}
	if fb.rotation.Swaps() {
		fb.w, fb.h = ph, pw
	}
	for i, b := range bufs {
		m, err := access.Map(b, opt.Strategy)
		if err != nil {
			fb.Close()
			for _, b := range bufs[i:] {
				b.Close()
			}
			return nil, kernelErr(fmt.Sprintf("map buffer %d", i), err)
		}
		fb.bufs = append(fb.bufs, &buffer{buf: b, m: m, stride: strides[i]})
	}
	lb := image.Rect(0, 0, fb.w, fb.h)
	fb.damage.SetBounds(lb)
	fb.catchUp.SetBounds(lb)
	fb.panelDmg.SetBounds(image.Rect(0, 0, pw, ph))
	for i := range fb.history {
		fb.history[i].SetBounds(lb)
	}
	if fb.rotation != Rotate0 {
		// The upright picture lives in memory; flush turns the damaged
		// parts into the panel's buffer, as drm_fbdev_generic's shadow
		// buffer is blitted by its damage worker.
		fb.logical = NewSurface(fb.w, fb.h, f)
	}
	return fb, nil
}

// Width returns the width drawn in (after rotation).
func (fb *Framebuffer) Width() int { return fb.w }

// Height returns the height drawn in (after rotation).
func (fb *Framebuffer) Height() int { return fb.h }

// Bounds returns (0,0)-(Width,Height).
func (fb *Framebuffer) Bounds() image.Rectangle { return image.Rect(0, 0, fb.w, fb.h) }

// Format returns the pixel format.
func (fb *Framebuffer) Format() Format { return fb.format }

// Rotation returns the rotation applied on the way to the panel.
func (fb *Framebuffer) Rotation() Rotation { return fb.rotation }

// Buffers returns 1 (single-buffered) or 2 (double-buffered).
func (fb *Framebuffer) Buffers() int { return len(fb.bufs) }

// Frames returns how many frames have been presented.
func (fb *Framebuffer) Frames() uint64 { return fb.seq }

// Var describes the framebuffer as fb_var_screeninfo does.
func (fb *Framebuffer) Var() VarScreenInfo {
	r, g, b, t := fb.format.Channels()
	v := VarScreenInfo{XRes: fb.w, YRes: fb.h, XResVirtual: fb.w, YResVirtual: fb.h * len(fb.bufs),
		BitsPerPixel: fb.format.BitsPerPixel(), Red: r, Green: g, Blue: b, Transp: t, Rotate: int(fb.rotation) * 90}
	if fb.front > 0 {
		v.YOffset = fb.front * fb.h
	}
	return v
}

// Fix describes the framebuffer as fb_fix_screeninfo does.
func (fb *Framebuffer) Fix() FixScreenInfo {
	f := FixScreenInfo{ID: fb.disp.name(), FourCC: fb.format.FourCC()}
	if len(fb.bufs) > 0 {
		f.LineLength = fb.bufs[0].stride
	}
	for _, b := range fb.bufs {
		f.SmemLen += b.buf.Size()
	}
	return f
}

// Age returns the buffer age of the buffer the next frame draws into: how
// many frames old its picture is (1: it shows the last frame; buffers start
// zero-filled, as frame 0). Frame repaints what the buffer misses by
// itself, so callers only draw what changed since the last frame.
func (fb *Framebuffer) Age() int {
	if len(fb.bufs) == 0 {
		return 0
	}
	return int(fb.seq + 1 - fb.bufs[fb.back].valid)
}

// missing fills fb.catchUp with what the back buffer misses: the damage of
// the frames after the one it holds, or everything if that is too long ago.
func (fb *Framebuffer) missing() {
	fb.catchUp.Reset()
	age := fb.Age()
	if age <= 1 {
		return
	}
	if age > maxAge {
		fb.catchUp.AddAll()
		return
	}
	for i := 1; i < age; i++ {
		fb.catchUp.AddList(&fb.history[(fb.seq+1-uint64(i))%maxAge])
	}
}

// Frame draws one frame: draw is called with a Surface valid only during
// the call, inside one CPU access bracket (or, when rotating in software,
// on the upright copy, with the bracket around the flush). Everything
// draw changes is recorded as damage; at the end the damaged byte regions
// are given to the mapping and the damage is presented (a flip when
// double-buffered, a damage flush otherwise). A frame that damages nothing
// presents nothing. An error from draw is returned after the frame is
// finished with what it drew.
func (fb *Framebuffer) Frame(draw func(*Surface) error) error {
	if fb.closed {
		return errors.New("fbemu: frame on a closed framebuffer")
	}
	if len(fb.bufs) > 1 {
		if err := fb.disp.waitIdle(); err != nil {
			return err
		}
	}
	fb.damage.Reset()
	if fb.logical != nil {
		return fb.rotatedFrame(draw)
	}
	b := fb.bufs[fb.back]
	pix, err := b.m.Begin(access.ReadWrite)
	if err != nil {
		return kernelErr("begin frame", err)
	}
	if err := b.surf.reset(pix, fb.w, fb.h, b.stride, fb.format); err != nil {
		b.m.End()
		return err
	}
	b.surf.damage = &fb.damage
	fb.missing()
	if fb.front >= 0 && fb.front != fb.back && !fb.catchUp.Empty() {
		fb.deferred, fb.deferErr = true, nil
		b.surf.fb = fb
	}
	derr := draw(&b.surf)
	if fb.deferred {
		// Nothing drew: the buffer still has to become current.
		fb.resolve(image.Rectangle{}, false)
	}
	derr = errors.Join(derr, fb.deferErr)
	b.surf.invalidate()
	b.surf.damage, b.surf.fb = nil, nil
	fb.tellMapping(b, &fb.damage)
	fb.tellMapping(b, &fb.catchUp)
	if err := b.m.End(); err != nil {
		return errors.Join(derr, kernelErr("end frame", err))
	}
	if fb.damage.Empty() {
		// Nothing new to show; the buffer now holds the last frame.
		b.valid = fb.seq
		return derr
	}
	return errors.Join(derr, fb.presentBack())
}

// resolve does the back buffer's deferred catch-up before the first
// operation of a frame touches r: if that operation overwrites r and r
// covers everything the buffer misses, the copy is not needed at all;
// otherwise what the buffer misses (the union of the damage of the frames
// since it was last drawn) is copied now from the buffer shown.
func (fb *Framebuffer) resolve(r image.Rectangle, overwrite bool) {
	fb.deferred = false
	b := fb.bufs[fb.back]
	b.surf.fb = nil
	if overwrite {
		covered := true
		for _, c := range fb.catchUp.Rects() {
			covered = covered && c.In(r)
		}
		if covered {
			fb.catchUp.Reset()
			return
		}
	}
	f := fb.bufs[fb.front]
	pix, err := f.m.Begin(access.Read)
	if err != nil {
		fb.deferErr = kernelErr("read the shown buffer", err)
		return
	}
	err = f.surf.reset(pix, fb.w, fb.h, f.stride, fb.format)
	if err == nil {
		for _, c := range fb.catchUp.Rects() {
			rotateCopy(&b.surf, &f.surf, c, Rotate0)
		}
	}
	f.surf.invalidate()
	if eerr := f.m.End(); err == nil && eerr != nil {
		err = eerr
	}
	if err != nil {
		fb.deferErr = kernelErr("read the shown buffer", err)
	}
}

// rotatedFrame draws on the upright copy and turns the damaged rectangles
// (plus what the back buffer misses) into the panel's buffer in one write
// bracket.
func (fb *Framebuffer) rotatedFrame(draw func(*Surface) error) error {
	fb.logical.damage = &fb.damage
	derr := draw(fb.logical)
	fb.logical.damage = nil
	b := fb.bufs[fb.back]
	fb.missing()
	if fb.damage.Empty() && fb.catchUp.Empty() {
		return derr
	}
	pix, err := b.m.Begin(access.Write)
	if err != nil {
		return errors.Join(derr, kernelErr("begin flush", err))
	}
	if err := b.surf.reset(pix, fb.pw, fb.ph, b.stride, fb.format); err != nil {
		b.m.End()
		return errors.Join(derr, err)
	}
	for _, r := range fb.damage.Rects() {
		rotateCopy(&b.surf, fb.logical, r, fb.rotation)
	}
	for _, r := range fb.catchUp.Rects() {
		if !coveredBy(r, &fb.damage) {
			rotateCopy(&b.surf, fb.logical, r, fb.rotation)
		}
	}
	b.surf.invalidate()
	fb.tellMapping(b, &fb.damage)
	fb.tellMapping(b, &fb.catchUp)
	if err := b.m.End(); err != nil {
		return errors.Join(derr, kernelErr("end flush", err))
	}
	if fb.damage.Empty() {
		// Nothing new to show; the buffer now holds the last frame.
		b.valid = fb.seq
		return derr
	}
	return errors.Join(derr, fb.presentBack())
}

// coveredBy reports whether one rectangle of d contains r.
func coveredBy(r image.Rectangle, d *Damage) bool {
	for _, o := range d.Rects() {
		if r.In(o) {
			return true
		}
	}
	return false
}

// tellMapping records the logical rectangles of d as damaged byte regions
// of b's buffer, so the Shadow strategy writes back only those.
func (fb *Framebuffer) tellMapping(b *buffer, d *Damage) {
	bpp := fb.format.BytesPerPixel()
	for _, lr := range d.Rects() {
		r := fb.rotation.toPanel(lr, fb.w, fb.h)
		b.m.Damage(access.Region{Off: r.Min.Y*b.stride + r.Min.X*bpp, Len: r.Dx() * bpp, Stride: b.stride, Rows: r.Dy()})
	}
}

// presentBack shows the back buffer with this frame's damage, remembers
// the damage for buffer age and moves on to the next buffer.
func (fb *Framebuffer) presentBack() error {
	fb.panelDmg.Reset()
	for _, r := range fb.damage.Rects() {
		fb.panelDmg.Add(fb.rotation.toPanel(r, fb.w, fb.h))
	}
	if err := fb.disp.present(fb.back, fb.panelDmg.Rects()); err != nil {
		return kernelErr("present", err)
	}
	fb.seq++
	h := &fb.history[fb.seq%maxAge]
	h.Reset()
	h.AddList(&fb.damage)
	fb.bufs[fb.back].valid = fb.seq
	fb.front = fb.back
	fb.back = (fb.back + 1) % len(fb.bufs)
	return nil
}

// Close unmaps and closes the buffers and the display's resources. It
// fails inside a frame; later calls return nil.
func (fb *Framebuffer) Close() error {
	if fb.closed {
		return nil
	}
	fb.closed = true
	var errs []error
	for _, b := range fb.bufs {
		errs = append(errs, b.m.Close())
	}
	if fb.disp != nil {
		errs = append(errs, fb.disp.close())
	}
	for _, b := range fb.bufs {
		errs = append(errs, b.buf.Close())
	}
	return errors.Join(errs...)
}

// kernelErr is fbemu's error for a failed kernel operation (a mapping, an
// access bracket, a page flip): the shape packages access and client use,
// whose cause errors.Is and errors.As see through.
func kernelErr(op string, err error) error {
	return &kerror.Error{Pkg: "fbemu", Op: op, Err: err}
}
