package client

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/kerror"
)

// ImportDmaBuf turns a dma-buf fd into a GEM handle of this device
// (PRIME_FD_TO_HANDLE), owned by the returned GEM until its Close; the fd
// stays the caller's. When the driver cannot import dma-bufs (EINVAL,
// ENODEV, EOPNOTSUPP) the error matches ErrImportUnsupported.
//
// Importing the same dma-buf twice gives the same handle (the kernel
// keeps one per buffer object and file), so the second GEM's Close
// releases the handle both share: import a buffer once per Device.
func (d *Device) ImportDmaBuf(fd int) (*GEM, error) {
	p := uapi.DrmPrimeHandle{Fd: int32(fd)}
	if err := d.ioctl(uapi.DRM_IOCTL_PRIME_FD_TO_HANDLE, unsafe.Pointer(&p)); err != nil {
		return nil, classifyImport(d.name(), err)
	}
	return &GEM{dev: d, handle: Handle(p.Handle)}, nil
}

// Close releases the GEM handle (GEM_CLOSE). Later calls return nil and do
// nothing; if GEM_CLOSE fails the handle is still owned and Close may be
// tried again.
func (g *GEM) Close() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	if err := g.dev.closeHandle(g.handle); err != nil {
		return err
	}
	g.closed = true
	return nil
}

// classifyImport explains a PRIME_FD_TO_HANDLE failure.
func classifyImport(driver string, err error) *kerror.Error {
	e := &kerror.Error{Op: "import dma-buf into", Device: driver, Err: err}
	switch {
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENODEV), errors.Is(err, unix.EOPNOTSUPP):
		e.Hint = "driver cannot import"
		e.Kind = ErrImportUnsupported
	case errors.Is(err, unix.EBADF):
		e.Hint = "not an open file descriptor"
	case errors.Is(err, unix.ENOMEM), errors.Is(err, unix.ENOSPC):
		e.Hint = "no memory to map it"
	}
	return e
}

// closeHandle releases a GEM handle (GEM_CLOSE). Handle 0 is ignored.
func (d *Device) closeHandle(h Handle) error {
	if h == 0 {
		return nil
	}
	c := uapi.DrmGemClose{Handle: uint32(h)}
	if err := d.ioctl(uapi.DRM_IOCTL_GEM_CLOSE, unsafe.Pointer(&c)); err != nil {
		return d.err(fmt.Sprintf("close GEM handle %d on", h), err)
	}
	return nil
}

// CreateDumb allocates a dumb buffer of width×height pixels of bpp bits.
// The kernel chooses the pitch and size.
func (d *Device) CreateDumb(width, height, bpp int) (*Dumb, error) {
	if width <= 0 || height <= 0 || bpp <= 0 {
		return nil, d.err(fmt.Sprintf("create dumb buffer %dx%d@%d on", width, height, bpp), errors.New("bad size"))
	}
	c := uapi.ModeCreateDumb{Width: uint32(width), Height: uint32(height), Bpp: uint32(bpp)}
	if err := d.ioctl(uapi.DRM_IOCTL_MODE_CREATE_DUMB, unsafe.Pointer(&c)); err != nil {
		e := d.err(fmt.Sprintf("create %dx%d %d-bit dumb buffer on", width, height, bpp), err)
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
			e.Kind = ErrNotSupported
		}
		return nil, e
	}
	return &Dumb{dev: d, Handle: Handle(c.Handle), Pitch: c.Pitch, Size: c.Size,
		Width: width, Height: height, Bpp: bpp}, nil
}

// MapOffset returns the fake offset at which the device file maps the dumb
// buffer (MAP_DUMB).
func (b *Dumb) MapOffset() (int64, error) {
	m := uapi.ModeMapDumb{Handle: uint32(b.Handle)}
	if err := b.dev.ioctl(uapi.DRM_IOCTL_MODE_MAP_DUMB, unsafe.Pointer(&m)); err != nil {
		return 0, b.dev.err(fmt.Sprintf("map dumb buffer %d of", b.Handle), err)
	}
	return int64(m.Offset), nil
}

// Close frees the dumb buffer (DESTROY_DUMB). Calling it again does
// nothing.
func (b *Dumb) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gone {
		return nil
	}
	b.gone = true
	c := uapi.ModeDestroyDumb{Handle: uint32(b.Handle)}
	if err := b.dev.ioctl(uapi.DRM_IOCTL_MODE_DESTROY_DUMB, unsafe.Pointer(&c)); err != nil {
		return b.dev.err(fmt.Sprintf("destroy dumb buffer %d of", b.Handle), err)
	}
	return nil
}

// Buffer hands the dumb buffer over to an access.Buffer that maps it
// through the device file at its MAP_DUMB offset; closing that Buffer
// closes the Dumb. The Device must stay open as long.
func (b *Dumb) Buffer() (*access.Buffer, error) {
	if b.Size > math.MaxInt {
		return nil, b.dev.err(fmt.Sprintf("map dumb buffer %d of", b.Handle), fmt.Errorf("%d bytes do not fit this machine's address space", b.Size))
	}
	off, err := b.MapOffset()
	if err != nil {
		return nil, err
	}
	return access.NewExternal(b.dev.fd, off, int(b.Size), access.KindDumb,
		fmt.Sprintf("dumb (%s)", b.dev.name()), b.Close), nil
}

// AddFB wraps a buffer object in a framebuffer (ADDFB2) of one plane.
// mod is sent (DRM_MODE_FB_MODIFIERS) unless it is ModifierInvalid or the
// device lacks the ADDFB2_MODIFIERS cap.
func (d *Device) AddFB(w, h int, f Format, handle Handle, pitch, offset uint32, mod Modifier) (*FB, error) {
	c := uapi.ModeFbCmd2{Width: uint32(w), Height: uint32(h), Pixel_format: uint32(f)}
	c.Handles[0], c.Pitches[0], c.Offsets[0] = uint32(handle), pitch, offset
	used := ModifierInvalid
	if mod != ModifierInvalid && d.Caps().AddFB2Modifiers {
		c.Flags = uapi.DRM_MODE_FB_MODIFIERS
		c.Modifier[0] = uint64(mod)
		used = mod
	}
	if err := d.ioctl(uapi.DRM_IOCTL_MODE_ADDFB2, unsafe.Pointer(&c)); err != nil {
		return nil, d.err(fmt.Sprintf("add %dx%d %s framebuffer (handle %d, pitch %d, %s) on", w, h, f, handle, pitch, mod), err)
	}
	return &FB{dev: d, id: FBID(c.Fb_id), Width: w, Height: h, Format: f, Modifier: used, Pitch: pitch}, nil
}

// Close removes the framebuffer (RMFB); a plane showing it is turned off.
// Calling it again, or after CloseRetained, does nothing.
func (fb *FB) Close() error {
	return fb.release("remove", uapi.DRM_IOCTL_MODE_RMFB)
}

// CloseRetained releases the framebuffer id but leaves it on the plane
// showing it (DRM_IOCTL_MODE_CLOSEFB, Linux 6.8+), so the picture outlives
// this process's handle of it. On older kernels it fails with an error
// matching ErrNotSupported and the framebuffer is kept (Close it then).
// Calling it again, or after Close, does nothing.
func (fb *FB) CloseRetained() error {
	return fb.release("close", uapi.DRM_IOCTL_MODE_CLOSEFB)
}

func (fb *FB) release(verb string, req uint) error {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.gone {
		return nil
	}
	var err error
	if req == uapi.DRM_IOCTL_MODE_CLOSEFB {
		c := uapi.ModeCloseFb{Id: uint32(fb.id)}
		err = fb.dev.ioctl(req, unsafe.Pointer(&c))
	} else {
		id := uint32(fb.id)
		err = fb.dev.ioctl(req, unsafe.Pointer(&id))
	}
	if err != nil {
		e := fb.dev.err(fmt.Sprintf("%s framebuffer %d on", verb, fb.id), err)
		if req == uapi.DRM_IOCTL_MODE_CLOSEFB && (errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL)) {
			e.Hint, e.Kind = "CLOSEFB needs Linux 6.8", ErrNotSupported
			return e
		}
		if !errors.Is(err, unix.ENOENT) {
			return e
		}
		// ENOENT: already gone with the device file; nothing left to own.
	}
	fb.gone = true
	return nil
}

// GetFB2 reads back any framebuffer (GETFB2): size, format, pitches and,
// for DRM master or root, GEM handles of its buffers, which the returned
// FBInfo owns until its Close.
func (d *Device) GetFB2(id FBID) (*FBInfo, error) {
	c := uapi.ModeFbCmd2{Fb_id: uint32(id)}
	if err := d.ioctl(uapi.DRM_IOCTL_MODE_GETFB2, unsafe.Pointer(&c)); err != nil {
		e := d.err(fmt.Sprintf("read framebuffer %d of", id), err)
		if errors.Is(err, unix.ENOENT) {
			e.Hint = "no such framebuffer"
		}
		return nil, e
	}
	info := &FBInfo{ID: id, Width: int(c.Width), Height: int(c.Height), Format: Format(c.Pixel_format),
		Flags: c.Flags, Modifier: ModifierInvalid, dev: d}
	for i := range 4 {
		info.Handles[i] = Handle(c.Handles[i])
		info.Pitches[i] = c.Pitches[i]
		info.Offsets[i] = c.Offsets[i]
	}
	if c.Flags&uapi.DRM_MODE_FB_MODIFIERS != 0 {
		info.Modifier = Modifier(c.Modifier[0])
	}
	return info, nil
}

// Close closes the GEM handles GETFB2 opened (each distinct one once).
// Calling it again does nothing.
func (i *FBInfo) Close() error {
	if i.closed || i.dev == nil {
		return nil
	}
	i.closed = true
	var first error
	for k, h := range i.Handles {
		dup := false
		for _, g := range i.Handles[:k] {
			dup = dup || g == h
		}
		if h != 0 && !dup {
			if err := i.dev.closeHandle(h); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}
