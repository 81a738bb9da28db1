package display

import (
	"fmt"
	"image"
	"log/slog"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
)

// Display is a device a program draws on, seen as the kernel's in-kernel
// clients see theirs through drm_client and drm_fb_helper: a set of heads
// that come and go, each with a framebuffer to draw frames on, and the
// events that change them. Its methods are called from one goroutine, the
// one that draws; the events Listen delivers are applied on it too,
// between frames.
type Display interface {
	// Kind says which backend this is.
	Kind() Kind
	// Why says why Open took this backend ("" for a display made
	// directly).
	Why() string
	// Heads returns the outputs lit now, in the order they were lit; none
	// while no device is there or none is connected.
	Heads() []*Head
	// Active says whether frames reach the screen now: false while
	// deactivated (master dropped) or while the VT is switched away.
	Active() bool
	// Each runs f on every head, the way a frame on all of them is drawn:
	// a failure that means the device went away releases it (the display
	// then waits for one to come back) and is not an error. op names the
	// work in errors and logs.
	Each(op string, f func(*Head) error) error
	// Listen starts following the display (hotplug, the device going
	// and coming back, VT switches) and hands each change to send, which
	// blocks until the consumer takes it and returns false once the
	// consumer no longer listens. The consumer runs Event.Apply on its
	// drawing goroutine between frames. The first event lights the
	// connected outputs the first frame left dark. Listen is called once,
	// after the first frame.
	Listen(send func(Event) bool)
	// Deactivate drops DRM master so another program can take the
	// display; nothing reaches the screen until Reactivate.
	Deactivate() error
	// Reactivate takes master back and sets every head's mode again;
	// each head then wants a full frame (Head.Full).
	Reactivate() error
	// Close releases everything: heads, device and VT (back in text mode
	// while the display was held).
	Close() error
	// CloseRetained is Close, except that the last frame stays on each
	// head's plane (CLOSEFB) and the VT stays in graphics mode, for a
	// successor.
	CloseRetained() error
}

// Kind is a Display's backend.
type Kind int

// Backends.
const (
	// KMS is a DRM/KMS device: /dev/dri/card*.
	KMS Kind = iota + 1
	// Emulated is the emulated display: memfd buffers, frames written
	// to a PNG file.
	Emulated
	// Fbdev is a framebuffer device (/dev/fbN): the firmware's (efifb,
	// vesafb, simplefb) or an fbdev-only driver's (fbtft).
	Fbdev
)

// String is "kms", "emu" or "fbdev".
func (k Kind) String() string {
	switch k {
	case KMS:
		return "kms"
	case Emulated:
		return "emu"
	case Fbdev:
		return "fbdev"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Head is one lit output: a framebuffer on it, its size and its physical
// size. A frame is Framebuffer.Frame (begin access, draw, end with
// damage) followed by Present.
type Head struct {
	// Name names the output ("Virtual-1", "emulated").
	Name string
	// Size is the output's mode in pixels, before any rotation.
	Size image.Point
	// SizeMM is the output's physical size in millimetres (zero where
	// unknown): the hint a renderer scales by.
	SizeMM image.Point
	// Framebuffer is what frames are drawn on.
	Framebuffer *fbemu.Framebuffer

	present func() error
	full    bool
}

// NewHead makes a Head over fb for a backend: present runs after every
// frame (wait for the flip, write the file; nil: nothing). A new head
// wants a full frame first.
func NewHead(name string, fb *fbemu.Framebuffer, sizeMM image.Point, present func() error) *Head {
	if present == nil {
		present = func() error { return nil }
	}
	return &Head{Name: name, Size: fb.Bounds().Size(), SizeMM: sizeMM, Framebuffer: fb, present: present, full: true}
}

// Present completes the frame just drawn: it waits for the flip on KMS
// and writes the file on the emulated display. After it the head no longer
// wants a full frame.
func (h *Head) Present() error {
	if err := h.present(); err != nil {
		return err
	}
	h.full = false
	return nil
}

// Full says the next frame must paint every pixel: the head is new, or
// its mode was set again after another program held the display.
func (h *Head) Full() bool { return h.full }

// String is the head's name.
func (h *Head) String() string { return h.Name }

// Event is a change to the display that Listen hands the consumer.
type Event struct {
	// Kind says what happened.
	Kind  EventKind
	apply func() error
}

// Apply makes the display follow the event: heads lit or put out, the
// device released or opened, master dropped or taken. Run it on the
// goroutine that draws, between frames; afterwards Heads may differ and
// heads may want full frames.
func (e Event) Apply() error {
	if e.apply == nil {
		return nil
	}
	return e.apply()
}

// EventKind says what an Event is about.
type EventKind int

// Events.
const (
	// Outputs: the connected outputs may have changed (the first event,
	// a hotplug, a card that appeared or went).
	Outputs EventKind = iota + 1
	// Rescan: events were lost; everything is looked at again.
	Rescan
	// VTAway: the kernel is about to switch to another VT.
	VTAway
	// VTBack: the kernel switched back to the display's VT.
	VTBack
)

var eventNames = [...]string{Outputs: "outputs", Rescan: "rescan", VTAway: "vt away", VTBack: "vt back"}

// String names the event kind.
func (k EventKind) String() string {
	if k <= 0 || int(k) >= len(eventNames) {
		return fmt.Sprintf("EventKind(%d)", int(k))
	}
	return eventNames[k]
}

// Source is where a KMS scanout buffer's memory comes from (heap,
// udmabuf, dumb).
type Source = client.Source

// Strategy is how the CPU reaches a buffer's pixels.
type Strategy = access.Strategy

// Backend is the display Open takes.
type Backend int

// Backends Open takes. BackendAuto takes KMS when a display device exists,
// else the firmware framebuffer when there is one, else (as a boot splash)
// waits for the first display, else the emulated display; see Open.
const (
	BackendAuto Backend = iota
	BackendKMS
	BackendEmu
	// BackendFbdev is a framebuffer device: Options.Device, or /dev/fb0.
	BackendFbdev
)

var backendNames = [...]string{"auto", "kms", "emu", "fbdev"}

// String is "auto", "kms", "emu" or "fbdev".
func (b Backend) String() string {
	if b < 0 || int(b) >= len(backendNames) {
		return fmt.Sprintf("Backend(%d)", int(b))
	}
	return backendNames[b]
}

// ParseBackend reads a backend name as String writes it.
func ParseBackend(s string) (Backend, error) {
	for i, n := range backendNames {
		if s == n {
			return Backend(i), nil
		}
	}
	return 0, fmt.Errorf("unknown backend %q (want auto, kms, emu or fbdev)", s)
}

// Options say which display Open takes and how.
type Options struct {
	// Backend chooses KMS, a framebuffer device or the emulated display.
	Backend Backend
	// Device is the DRM node; "" takes the first KMS-capable one. With
	// BackendFbdev it is the framebuffer device ("" is /dev/fb0).
	Device string
	// Boot says the program is the boot splash: BackendAuto then never
	// takes the emulated display, and with no display yet waits for the
	// first to appear. Open also takes a process that is init, a child of
	// init (an initramfs's init, systemd), or runs with BOOTSPLASH_BOOT=1
	// in its environment for a boot splash; see Open.
	Boot bool
	// Mode chooses the first output's mode by size; zero takes its
	// preferred mode.
	Mode image.Point
	// Heap names the dma-buf heap; "" takes them in the device's order.
	Heap string
	// Buffer is where scanout buffers come from (client.SourceAuto falls
	// back from heap to udmabuf to dumb).
	Buffer Source
	// Access is how the CPU reaches the pixels.
	Access Strategy
	// Buffers is 1 (draw in place) or 2 (double-buffered, flipped on
	// vblank); 0 means 1.
	Buffers int
	// Legacy keeps KMS on the legacy ioctls even where atomic works.
	Legacy bool
	// Rotation turns frames on their way to the panel, on top of the
	// panel's own orientation.
	Rotation fbemu.Rotation
	// MasterWait bounds the wait for DRM master while another process
	// holds it (KMS only); 0 tries once.
	MasterWait time.Duration
	// Out is the PNG the emulated display rewrites after every frame;
	// "" writes none.
	Out string
	// EmuSize is the emulated display's size; zero means 1024x768.
	EmuSize image.Point
	// Step, if set, is called after each step of the way to the first
	// frame (open, probe, allocate), for timing it.
	Step func(step string)
	// Log receives what the display does; nil discards it.
	Log *slog.Logger
}
