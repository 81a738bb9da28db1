package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// eventBufSize is what one read takes; the kernel returns only whole
// events, and at least one fits.
const eventBufSize = 4096

// ParseEvents decodes what a read of the DRM device returned: a sequence
// of struct drm_event headers each followed by its payload. Vblank and
// flip-complete events are returned; other types are skipped. Truncated or
// malformed input is an error naming the offset.
func ParseEvents(b []byte) ([]Event, error) { return AppendEvents(nil, b) }

// AppendEvents is ParseEvents appending to out, so a reader with a buffer
// of its own allocates nothing.
func AppendEvents(out []Event, b []byte) ([]Event, error) {
	le := binary.LittleEndian
	hsize := int(unsafe.Sizeof(uapi.DrmEvent{}))
	vsize := int(unsafe.Sizeof(uapi.DrmEventVblank{}))
	for off := 0; off < len(b); {
		if len(b)-off < hsize {
			return out, fmt.Errorf("DRM events: %d stray bytes at offset %d, shorter than an event header", len(b)-off, off)
		}
		typ := le.Uint32(b[off:])
		length := int(le.Uint32(b[off+4:]))
		if length < hsize {
			return out, fmt.Errorf("DRM events: event type %d at offset %d has length %d, less than its header", typ, off, length)
		}
		if length > len(b)-off {
			return out, fmt.Errorf("DRM events: event type %d at offset %d has length %d, past the %d bytes read", typ, off, length, len(b))
		}
		e := b[off : off+length]
		switch typ {
		case uapi.DRM_EVENT_VBLANK, uapi.DRM_EVENT_FLIP_COMPLETE:
			if length < vsize {
				return out, fmt.Errorf("DRM events: %s event at offset %d has length %d, want %d", EventType(typ), off, length, vsize)
			}
			var v uapi.DrmEventVblank
			out = append(out, Event{
				Type:     EventType(typ),
				UserData: le.Uint64(e[unsafe.Offsetof(v.User_data):]),
				Sec:      le.Uint32(e[unsafe.Offsetof(v.Tv_sec):]),
				Usec:     le.Uint32(e[unsafe.Offsetof(v.Tv_usec):]),
				Sequence: le.Uint32(e[unsafe.Offsetof(v.Sequence):]),
				CRTC:     CRTCID(le.Uint32(e[unsafe.Offsetof(v.Crtc_id):])),
			})
		}
		off += length
	}
	return out, nil
}

// ReadEvents reads the events queued on the device (one read, which blocks
// until there is one) and calls handler for each vblank and flip-complete
// event.
func (d *Device) ReadEvents(handler func(Event)) error {
	sc := &d.scratch
	sc.Lock()
	evs, err := d.readEvents()
	sc.Unlock()
	for _, e := range evs {
		handler(e)
	}
	return err
}

// readEvents reads once into the scratch buffer; the events it returns are
// valid until the next read. The caller holds d.scratch.
func (d *Device) readEvents() ([]Event, error) {
	sc := &d.scratch
	n, err := uapi.Read(d.fd, sc.evbuf[:])
	if err != nil {
		return nil, d.err("read events of", err)
	}
	sc.events, err = AppendEvents(sc.events[:0], sc.evbuf[:n])
	if err != nil {
		return sc.events, d.err("read events of", err)
	}
	return sc.events, nil
}

// ErrTimeout is matched by WaitFlip's error when no event came in time.
var ErrTimeout = errors.New("timed out")

// WaitFlip waits up to timeout for a flip-complete event and returns the
// oldest one. Flip-complete events read with it (a read returns every
// event queued, whichever CRTC it is for) are kept for the next WaitFlip
// or WaitFlipFor; vblank events are dropped.
func (d *Device) WaitFlip(timeout time.Duration) (Event, error) {
	return d.waitFlip(func(Event) bool { return true }, timeout)
}

// WaitFlipFor waits up to timeout for the flip-complete event whose
// user data is data (Flip passes the framebuffer id), keeping the other
// flip-complete events read meanwhile for later calls: with flips in
// flight on several CRTCs, each waiter gets its own.
func (d *Device) WaitFlipFor(data uint64, timeout time.Duration) (Event, error) {
	return d.waitFlip(func(e Event) bool { return e.UserData == data }, timeout)
}

// takeFlip removes and returns the oldest queued flip event that match
// accepts. The caller holds d.scratch.
func (d *Device) takeFlip(match func(Event) bool) (Event, bool) {
	sc := &d.scratch
	for i := 0; i < sc.nflip; i++ {
		if e := sc.flips[i]; match(e) {
			copy(sc.flips[i:sc.nflip], sc.flips[i+1:sc.nflip])
			sc.nflip--
			return e, true
		}
	}
	return Event{}, false
}

// queueFlip keeps a flip event for a later wait, dropping the oldest when
// the queue is full. The caller holds d.scratch.
func (d *Device) queueFlip(e Event) {
	sc := &d.scratch
	if sc.nflip == len(sc.flips) {
		copy(sc.flips[:], sc.flips[1:])
		sc.nflip--
	}
	sc.flips[sc.nflip] = e
	sc.nflip++
}

func (d *Device) waitFlip(match func(Event) bool, timeout time.Duration) (Event, error) {
	d.scratch.Lock()
	e, ok := d.takeFlip(match)
	d.scratch.Unlock()
	if ok {
		return e, nil
	}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		fds := [1]unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds[:], int(left.Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return Event{}, d.err("wait for a flip on", err)
		}
		if n == 0 {
			return Event{}, d.err("wait for a flip on", fmt.Errorf("no flip-complete event in %v: %w", timeout, ErrTimeout))
		}
		d.scratch.Lock()
		evs, err := d.readEvents()
		for _, e := range evs {
			if e.Type == EventFlipComplete {
				d.queueFlip(e)
			}
		}
		e, ok := d.takeFlip(match)
		d.scratch.Unlock()
		if err != nil {
			return Event{}, err
		}
		if ok {
			return e, nil
		}
	}
}
