package client

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/kerror"
)

// commitScratch is a Device's reusable memory for steady-frame commits
// and event reads; its mutex serialises them.
type commitScratch struct {
	sync.Mutex
	req    atomicReq
	clips  []image.Rectangle
	rects  []uapi.ModeRect
	dirty  []uapi.DrmClipRect
	evbuf  [eventBufSize]byte
	events []Event
	// flips are flip-complete events read but not yet asked for (a read
	// returns every event queued, for any CRTC), oldest first.
	flips [maxQueuedFlips]Event
	nflip int
}

// maxQueuedFlips bounds the flip-complete events kept for later WaitFlip
// calls: one per CRTC in flight is what a caller can have outstanding.
const maxQueuedFlips = 16

// atomicReq collects property values per object for one atomic commit.
type atomicReq struct {
	dev    *Device
	objs   []uint32
	counts []uint32
	props  []uint32
	vals   []uint64
	err    error
}

// reset empties r for a new commit on dev, keeping its memory.
func (r *atomicReq) reset(dev *Device) {
	r.dev, r.err = dev, nil
	r.objs, r.counts, r.props, r.vals = r.objs[:0], r.counts[:0], r.props[:0], r.vals[:0]
}

// set adds obj.name = v; a missing property is remembered as the error.
func (r *atomicReq) set(obj Object, name string, v uint64) {
	if r.err != nil {
		return
	}
	prop, err := r.dev.propID(obj, name)
	if err != nil {
		r.err = err
		return
	}
	id, _ := obj.Object()
	if prop == 0 {
		r.err = fmt.Errorf("object %d has no %q property", id, name)
		return
	}
	// Objects are added in runs, so appending to the last run suffices;
	// a new object starts a new run.
	n := len(r.objs)
	if n == 0 || r.objs[n-1] != id {
		r.objs = append(r.objs, id)
		r.counts = append(r.counts, 0)
		n++
	}
	r.counts[n-1]++
	r.props = append(r.props, uint32(prop))
	r.vals = append(r.vals, v)
}

// commit sends the request with flags; userData comes back in events.
func (r *atomicReq) commit(flags uint32, userData uint64) error {
	if r.err != nil {
		return r.err
	}
	a := uapi.ModeAtomic{
		Flags:           flags,
		Count_objs:      uint32(len(r.objs)),
		Objs_ptr:        uapi.SlicePointer(r.objs),
		Count_props_ptr: uapi.SlicePointer(r.counts),
		Props_ptr:       uapi.SlicePointer(r.props),
		Prop_values_ptr: uapi.SlicePointer(r.vals),
		User_data:       userData,
	}
	err := r.dev.ioctl(uapi.DRM_IOCTL_MODE_ATOMIC, unsafe.Pointer(&a))
	runtime.KeepAlive(r)
	return err
}

// planeArea sets the plane's source (16.16 fixed point) and destination
// rectangles: the part of fb that fits the mode, at the top left.
func (r *atomicReq) planeArea(p PlaneID, fb *FB, m Mode) {
	w := uint64(min(fb.Width, m.Width()))
	h := uint64(min(fb.Height, m.Height()))
	r.set(p, "SRC_X", 0)
	r.set(p, "SRC_Y", 0)
	r.set(p, "SRC_W", w<<16)
	r.set(p, "SRC_H", h<<16)
	r.set(p, "CRTC_X", 0)
	r.set(p, "CRTC_Y", 0)
	r.set(p, "CRTC_W", w)
	r.set(p, "CRTC_H", h)
}

// Modeset shows fb on out with out.Mode: one atomic commit of the mode blob, the connector routing and the plane,
// or SETCRTC on legacy devices. It blocks until the mode is set.
func (d *Device) Modeset(out *Output, fb *FB) error {
	op := fmt.Sprintf("set %s on %s with framebuffer %d on", out.Mode, out.Connector.Name, fb.id)
	if !d.atomic {
		return d.setCRTC(op, out, fb)
	}
	mi := modeToKernel(out.Mode)
	blob, err := d.createBlob(unsafe.Slice((*byte)(unsafe.Pointer(&mi)), unsafe.Sizeof(mi)))
	if err != nil {
		return err
	}
	r := &atomicReq{dev: d}
	r.set(out.CRTC.ID, "MODE_ID", uint64(blob))
	r.set(out.CRTC.ID, "ACTIVE", 1)
	r.set(out.Connector.ID, "CRTC_ID", uint64(out.CRTC.ID))
	r.set(out.Plane.ID, "FB_ID", uint64(fb.id))
	r.set(out.Plane.ID, "CRTC_ID", uint64(out.CRTC.ID))
	r.planeArea(out.Plane.ID, fb, out.Mode)
	// No TEST_ONLY commit first: an atomic commit the kernel refuses
	// changes nothing, and it runs the same checks; one fewer atomic
	// check on the way to the first frame.
	if err := r.commit(uapi.DRM_MODE_ATOMIC_ALLOW_MODESET, 0); err != nil {
		d.destroyBlob(blob)
		return &kerror.Error{Op: op + " (atomic)", Device: d.name(), Err: err}
	}
	d.mu.Lock()
	old := d.modeBlobs[out.CRTC.ID]
	d.modeBlobs[out.CRTC.ID] = blob
	d.mu.Unlock()
	// The CRTC holds its own reference to the blob in use; ours to the
	// replaced one is dropped.
	d.destroyBlob(old)
	return nil
}

func (d *Device) setCRTC(op string, out *Output, fb *FB) error {
	conns := []uint32{uint32(out.Connector.ID)}
	c := uapi.ModeCrtc{
		Set_connectors_ptr: uapi.SlicePointer(conns),
		Count_connectors:   1,
		Crtc_id:            uint32(out.CRTC.ID),
		Fb_id:              uint32(fb.id),
		Mode_valid:         1,
		Mode:               modeToKernel(out.Mode),
	}
	err := d.ioctl(uapi.DRM_IOCTL_MODE_SETCRTC, unsafe.Pointer(&c))
	runtime.KeepAlive(conns)
	if err != nil {
		return &kerror.Error{Op: op + " (SETCRTC)", Device: d.name(), Err: err}
	}
	return nil
}

// Flip queues fb to replace what out shows at the next vblank, with damage
// clips (nil damage: the whole framebuffer changed). It does not wait:
// with FlipEvent a flip-complete event carrying fb's id as UserData arrives
// when it is done (WaitFlip, ReadEvents). A flip still pending makes it fail
// with EBUSY.
func (d *Device) Flip(out *Output, fb *FB, damage []image.Rectangle, flags FlipFlags) error {
	op := func() string { return fmt.Sprintf("flip %s to framebuffer %d on", out.Connector.Name, fb.id) }
	if !d.atomic {
		f := uint32(0)
		if flags&FlipEvent != 0 {
			f |= uapi.DRM_MODE_PAGE_FLIP_EVENT
		}
		if flags&FlipAsync != 0 {
			f |= uapi.DRM_MODE_PAGE_FLIP_ASYNC
		}
		p := uapi.ModeCrtcPageFlip{Crtc_id: uint32(out.CRTC.ID), Fb_id: uint32(fb.id), Flags: f, User_data: uint64(fb.id)}
		if err := d.ioctl(uapi.DRM_IOCTL_MODE_PAGE_FLIP, unsafe.Pointer(&p)); err != nil {
			return &kerror.Error{Op: op() + " (PAGE_FLIP)", Device: d.name(), Err: err}
		}
		return nil
	}
	f := uint32(uapi.DRM_MODE_ATOMIC_NONBLOCK)
	if flags&FlipEvent != 0 {
		f |= uapi.DRM_MODE_PAGE_FLIP_EVENT
	}
	if flags&FlipAsync != 0 {
		f |= uapi.DRM_MODE_PAGE_FLIP_ASYNC
	}
	if err := d.planeCommit(out, fb, damage, f); err != nil {
		return &kerror.Error{Op: op() + " (atomic)", Device: d.name(), Err: err}
	}
	return nil
}

// planeCommit commits FB_ID (and the plane's area) with a damage blob,
// in the device's scratch memory.
func (d *Device) planeCommit(out *Output, fb *FB, damage []image.Rectangle, flags uint32) error {
	sc := &d.scratch
	sc.Lock()
	defer sc.Unlock()
	r := &sc.req
	r.reset(d)
	r.set(out.Plane.ID, "FB_ID", uint64(fb.id))
	r.set(out.Plane.ID, "CRTC_ID", uint64(out.CRTC.ID))
	r.planeArea(out.Plane.ID, fb, out.Mode)
	if damage == nil || !out.Plane.DamageClips {
		return r.commit(flags, uint64(fb.id))
	}
	sc.clips = AppendDamageClips(sc.clips[:0], fb.Width, fb.Height, damage, 0)
	if len(sc.clips) == 0 {
		// Nothing inside the framebuffer: commit without clips, which
		// the kernel takes as full damage.
		return r.commit(flags, uint64(fb.id))
	}
	sc.rects = sc.rects[:0]
	for _, c := range sc.clips {
		sc.rects = append(sc.rects, uapi.ModeRect{X1: int32(c.Min.X), Y1: int32(c.Min.Y), X2: int32(c.Max.X), Y2: int32(c.Max.Y)})
	}
	blob, err := d.createBlob(unsafe.Slice((*byte)(unsafe.Pointer(&sc.rects[0])), len(sc.rects)*int(unsafe.Sizeof(sc.rects[0]))))
	if err != nil {
		return err
	}
	// The commit holds its own reference to the blob; ours goes right
	// after.
	defer d.destroyBlob(blob)
	r.set(out.Plane.ID, "FB_DAMAGE_CLIPS", uint64(blob))
	return r.commit(flags, uint64(fb.id))
}

// Damage tells the device which parts of fb, already shown on out, the CPU
// changed: an atomic commit of the same FB_ID with FB_DAMAGE_CLIPS, or
// DIRTYFB on legacy devices. A driver that needs no DIRTYFB (ENOSYS, like
// bochs) is remembered and later calls do nothing. Nil rects mean the
// whole framebuffer. It blocks until the update is committed.
func (d *Device) Damage(out *Output, fb *FB, rects []image.Rectangle) error {
	if rects != nil && !anyDamage(fb.Width, fb.Height, rects) {
		return nil
	}
	if d.atomic {
		if err := d.planeCommit(out, fb, rects, 0); err != nil {
			return &kerror.Error{Op: fmt.Sprintf("damage framebuffer %d on %s (atomic) on", fb.id, out.Connector.Name), Device: d.name(), Err: err}
		}
		return nil
	}
	return d.DirtyFB(fb, rects)
}

// DirtyFB flushes damaged rectangles of fb to the display (DIRTYFB), for
// drivers that upload or copy on demand. ENOSYS means the driver needs no
// flushing: it is remembered and later calls do nothing.
func (d *Device) DirtyFB(fb *FB, rects []image.Rectangle) error {
	d.mu.Lock()
	skip := d.noDirty
	d.mu.Unlock()
	if skip {
		return nil
	}
	sc := &d.scratch
	sc.Lock()
	defer sc.Unlock()
	c := uapi.ModeFbDirtyCmd{Fb_id: uint32(fb.id)}
	sc.dirty = sc.dirty[:0]
	if rects != nil {
		sc.clips = AppendDamageClips(sc.clips[:0], fb.Width, fb.Height, rects, uapi.DRM_MODE_FB_DIRTY_MAX_CLIPS)
		for _, r := range sc.clips {
			sc.dirty = append(sc.dirty, uapi.DrmClipRect{X1: uint16(r.Min.X), Y1: uint16(r.Min.Y), X2: uint16(r.Max.X), Y2: uint16(r.Max.Y)})
		}
		if len(sc.dirty) == 0 {
			return nil
		}
		c.Num_clips = uint32(len(sc.dirty))
		c.Clips_ptr = uapi.SlicePointer(sc.dirty)
	}
	err := d.ioctl(uapi.DRM_IOCTL_MODE_DIRTYFB, unsafe.Pointer(&c))
	if errors.Is(err, unix.ENOSYS) {
		d.mu.Lock()
		d.noDirty = true
		d.mu.Unlock()
		return nil
	}
	if err != nil {
		return &kerror.Error{Op: fmt.Sprintf("flush %d damage clips of framebuffer %d (DIRTYFB) on", len(sc.dirty), fb.id), Device: d.name(), Err: err}
	}
	return nil
}

// NeedsNoDirty reports whether DIRTYFB answered ENOSYS: the driver scans
// out the buffer directly and needs no flushing.
func (d *Device) NeedsNoDirty() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.noDirty
}
