package display

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
)

// kmsDisplay is the Display of a KMS device: one framebuffer per lit
// connector (a head), lit and put out as connectors come and go, as the
// kernel's fbdev client does on its hotplug callback
// (drm_fb_helper_hotplug_event). The device itself may go (the driver
// unbinds, the GPU is unplugged) and another come: in between it has no
// heads and waits for one. It is called from one goroutine; hotplug and
// VT switches reach it as Events applied on that goroutine.
type kmsDisplay struct {
	// ctx is the run's: waits (for DRM master) end when it is done.
	ctx  context.Context
	why  string
	opt  Options
	log  *slog.Logger
	step func(string)

	dev   *client.Device // nil while no device is open
	heads []*head

	master bool // false while deactivated: nothing is drawn or lit
	away   bool // the VT is switched away: nothing is drawn or lit
	stale  bool // a hotplug came while not holding: probe on taking back

	listening bool
	done      chan struct{} // closed by Close: the watchers stop
	workers   sync.WaitGroup
	uevents   *client.UeventListener
	releaseVT func(text bool)
}

// head is one lit output: its KMS framebuffer and the Head drawn on.
type head struct {
	out   *client.Output
	k     *fbemu.KMS
	h     *Head
	shown int // frames presented
	// set: the CRTC already showed the head's mode when the head was
	// made (the console lit it), so its first frame sets no mode.
	set bool
}

// errDeviceGone marks the failures that mean the device went away.
var errDeviceGone = errors.New("the display device went away")

// gone says whether err means the device went away: the kernel answers
// ENODEV to every ioctl on an unplugged device.
func gone(err error) bool {
	return errors.Is(err, syscall.ENODEV) || errors.Is(err, errDeviceGone)
}

// openKMS opens opt.Device (or the first KMS card) and lights the output
// the selection rule picks first, for the first frame; the other connected
// outputs are lit by the first Event Listen hands over, once that frame is
// up. With no device yet, or no display connected, it returns a display
// with no heads that waits for hotplug.
func openKMS(ctx context.Context, opt Options, log *slog.Logger) (*kmsDisplay, error) {
	step := opt.Step
	if step == nil {
		step = func(string) {}
	}
	// What came before the device (the flags, the signals, the choice of
	// display) is a lap of its own.
	step("up to the device: flags, signals, the display's choice")
	ks := &kmsDisplay{ctx: ctx, opt: opt, log: log, step: step, master: true, done: make(chan struct{}), releaseVT: func(bool) {}}
	var dev *client.Device
	var err error
	if opt.Device == "" && len(autoCards()) == 0 {
		err = fmt.Errorf("%s: %w", client.CardPattern, os.ErrNotExist)
	} else {
		dev, err = client.Open(opt.Device, client.Options{Legacy: opt.Legacy})
	}
	if errors.Is(err, os.ErrNotExist) {
		what := opt.Device
		if what == "" {
			what = "a DRM card"
		}
		ks.log.Info(fmt.Sprintf("no display device yet (%v): waiting for %s to appear", err, what))
		return ks, nil
	}
	if err != nil {
		return nil, err
	}
	step("open " + dev.Path())
	if err := takeMaster(ctx, dev, opt.MasterWait, ks.log); err != nil {
		dev.Close()
		return nil, err
	}
	ks.dev = dev
	out, err := dev.SelectOutput(client.OutputRequest{Width: opt.Mode.X, Height: opt.Mode.Y})
	if errors.Is(err, client.ErrNoDisplay) {
		ks.log.Info(fmt.Sprintf("%s: %v: waiting for one to be connected", dev.Path(), err))
		return ks, nil
	}
	if err != nil {
		dev.Close()
		return nil, err
	}
	step("probe and select output")
	if err := ks.light(out); err != nil {
		dev.Close()
		return nil, err
	}
	step("allocate, import and map the scanout buffer")
	return ks, nil
}

// light makes a head for out, logging the output and the buffer path.
func (ks *kmsDisplay) light(out *client.Output) error {
	dev := ks.dev
	api := "legacy"
	if dev.Atomic() {
		api = "atomic"
	}
	ks.log.Info("output: "+out.String(), "device", dev.Path(), "driver", dev.Driver().Name, "api", api)
	k, err := fbemu.NewKMS(dev, out, fbemu.KMSOptions{
		FramebufferOptions: fbemu.FramebufferOptions{Buffers: ks.opt.Buffers, Strategy: ks.opt.Access, Rotation: ks.opt.Rotation},
		Scanout:            client.ScanoutOptions{Source: ks.opt.Buffer, Heap: ks.opt.Heap},
	})
	if err != nil {
		return err
	}
	if r := k.HeapRule(); r != "" {
		ks.log.Info("heap: " + r)
	}
	for _, f := range k.Fallbacks() {
		ks.log.Info("fallback: " + f)
	}
	// Every buffer takes the path the first one found.
	ks.log.Info("buffer: "+k.Paths()[0], "buffers", len(k.Paths()), "access", ks.opt.Access.String(), "format", k.Format().String())
	h := &head{out: out, k: k, set: modeSet(out)}
	h.h = NewHead(out.Connector.Name, k.Framebuffer, image.Pt(out.Connector.WidthMM, out.Connector.HeightMM), func() error {
		h.shown++
		return k.Wait()
	})
	h.h.Size = image.Pt(out.Mode.Width(), out.Mode.Height())
	ks.heads = append(ks.heads, h)
	return nil
}

// modeSet says whether out's CRTC already shows out's mode, lit (by the
// console, say): the first frame's commit then enables nothing and sets
// no mode (the kernel finds no change to make), and the memory the frame
// was drawn in is not cleared under it.
func modeSet(out *client.Output) bool {
	c := out.CRTC
	if c == nil || !c.ModeValid || !sameTimings(c.Mode, out.Mode) {
		return false
	}
	if p, ok := c.Props["ACTIVE"]; ok && p.Value == 0 {
		return false
	}
	return true
}

// sameTimings says whether two modes are the same to the kernel
// (drm_mode_equal): the clock, the timings and the flags, not the name,
// the type or the rounded refresh.
func sameTimings(a, b client.Mode) bool {
	a.Name, a.Type, a.VRefresh = b.Name, b.Type, b.VRefresh
	return a == b
}

// each runs f on every head, with memory faults in the scanout buffers
// turned into errors. A failure that means the device went away releases
// it and is not an error: the display waits for a device again.
func (ks *kmsDisplay) each(op string, f func(*head) error) error {
	var errs []error
	for _, h := range ks.heads {
		err := guard(func() error { return f(h) })
		if err == nil {
			continue
		}
		if ks.departed(fmt.Sprintf("%s %s", op, h.out), err) {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", h.out, err))
	}
	return errors.Join(errs...)
}

// departed says whether err, from op, means the device went away, and if
// so releases it (lose): the display then waits for a device to appear.
func (ks *kmsDisplay) departed(op string, err error) bool {
	if !gone(err) || !ks.vanished() {
		return false
	}
	ks.lose(fmt.Sprintf("%s: %v", op, err))
	return true
}

// vanishWait bounds how long vanished waits for the node of a device
// that answered ENODEV to go: the kernel marks the device unplugged before
// it unregisters the node.
const vanishWait = 500 * time.Millisecond

// vanished says whether the device file open is no longer the device at
// its path (the node is gone, or another device has it): an ENODEV from a
// device that is still there is an error, not a departure.
func (ks *kmsDisplay) vanished() bool {
	var st unix.Stat_t
	if err := unix.Fstat(ks.dev.Fd(), &st); err != nil {
		return true
	}
	deadline := time.Now().Add(vanishWait)
	for {
		var node unix.Stat_t
		if err := unix.Stat(ks.dev.Path(), &node); err != nil || node.Rdev != st.Rdev {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// guard runs f and turns a memory fault in it (a buffer mapping the kernel
// took away with its device) into an error rather than a crash.
func guard(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			fault, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%w: memory fault at %#x", errDeviceGone, fault.Addr())
		}
	}()
	return f()
}

// holding says whether the display holds (or wants, with no device) the
// display: not deactivated, and its VT not switched away.
func (ks *kmsDisplay) holding() bool { return ks.master && !ks.away }

// Kind is KMS.
func (ks *kmsDisplay) Kind() Kind { return KMS }

// Why says why Open took KMS.
func (ks *kmsDisplay) Why() string { return ks.why }

// Heads returns the lit outputs.
func (ks *kmsDisplay) Heads() []*Head {
	hs := make([]*Head, len(ks.heads))
	for i, h := range ks.heads {
		hs[i] = h.h
	}
	return hs
}

// Active says whether the display is held: not deactivated, its VT not
// switched away.
func (ks *kmsDisplay) Active() bool { return ks.holding() }

// Each runs f on every head (see Display).
func (ks *kmsDisplay) Each(op string, f func(*Head) error) error {
	return ks.each(op, func(h *head) error {
		before := h.shown
		if err := f(h.h); err != nil || before > 0 || h.shown == 0 || h.set {
			return err
		}
		// That frame was the head's first, and it set the mode: a
		// modeset may clear the scanout memory the frame was drawn in
		// (QEMU's standard VGA clears its VRAM when bochs-drm enables a
		// CRTC nothing lit before: a driver bound after the splash
		// started). Painted once more, in full, now that the mode is set.
		h.h.full = true
		return f(h.h)
	})
}

// vtAway runs before the kernel switches to another VT (VT_PROCESS): the
// display stops drawing and drops DRM master, so the console or whatever
// shows there can set its mode.
func (ks *kmsDisplay) vtAway() error {
	if ks.away {
		return nil
	}
	err := ks.drop()
	ks.away = true
	if err == nil {
		ks.log.Info("vt: switched away: not drawing until the splash's VT is back")
	}
	return err
}

// vtBack runs after the kernel switched back to the splash's VT: master
// and the heads' modes come back (unless deactivated meanwhile).
func (ks *kmsDisplay) vtBack() error {
	if !ks.away {
		return nil
	}
	ks.away = false
	ks.log.Info("vt: back on the splash's VT")
	return ks.take()
}

// uevent reacts to a kernel event about a DRM card: a change on the card
// shown makes the display probe its connectors again; its removal releases
// it; with no device, a card that appears (or changes) is opened. It runs
// on the drawing goroutine (an Event).
func (ks *kmsDisplay) uevent(u client.Uevent) error {
	card := u.Card()
	if card == "" {
		return nil
	}
	if ks.dev != nil {
		if card != ks.dev.Path() {
			return nil
		}
		switch u.Action {
		case "remove":
			ks.lose("the kernel removed " + card)
		case "change":
			if !ks.holding() {
				ks.stale = true
				return nil
			}
			return ks.refresh()
		}
		return nil
	}
	if u.Action != "add" && u.Action != "change" {
		return nil
	}
	if ks.opt.Device != "" && ks.opt.Device != card {
		return nil
	}
	return ks.attach(card)
}

// attach opens card as the display device after none was there.
func (ks *kmsDisplay) attach(card string) error {
	dev, err := client.Open(card, client.Options{Legacy: ks.opt.Legacy})
	if errors.Is(err, client.ErrNotSupported) {
		ks.log.Debug("hotplug: not a display device", "device", card, "err", err)
		return nil
	}
	if errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO) || errors.Is(err, os.ErrNotExist) {
		// The node comes before the driver finished registering; the
		// kernel's hotplug event once it has comes next.
		ks.log.Debug("hotplug: not ready yet; waiting for its next event", "device", card, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("hotplug: %w", err)
	}
	if ks.holding() {
		if err := takeMaster(ks.ctx, dev, ks.opt.MasterWait, ks.log); err != nil {
			dev.Close()
			return fmt.Errorf("hotplug: %w", err)
		}
	} else {
		ks.stale = true
	}
	ks.dev = dev
	ks.log.Info("display device "+card+" appeared", "driver", dev.Driver().Name)
	if !ks.holding() {
		return nil
	}
	return ks.refresh()
}

// refresh probes the connectors and makes the heads follow: a head whose
// connector went away, or whose preferred mode changed, is put out (its
// framebuffers removed, which turns its CRTC off); every connected
// connector without a head gets one. Heads that stay are not touched. New
// heads want a full frame (Head.Full).
func (ks *kmsDisplay) refresh() error {
	if ks.dev == nil {
		return nil
	}
	st, err := ks.dev.Probe()
	if err != nil {
		if ks.departed("probe", err) {
			return nil
		}
		if errors.Is(err, syscall.ENOENT) {
			// GETRESOURCES lists every connector of the device, GETCONNECTOR
			// finds only registered ones: a driver still binding (the card's
			// node is there, its connectors not yet) or a connector being
			// removed. The kernel's hotplug event follows either, and the
			// heads follow then.
			ks.log.Debug("hotplug: a connector is not registered (yet); waiting for the next event", "err", err)
			return nil
		}
		return fmt.Errorf("hotplug: %w", err)
	}
	var keep []*head
	var errs []error
	for _, h := range ks.heads {
		why := headGone(st, h)
		if why == "" {
			keep = append(keep, h)
			continue
		}
		ks.log.Info("output "+h.out.String()+" goes: "+why, "device", ks.dev.Path())
		if err := h.k.Close(); err != nil && !gone(err) {
			errs = append(errs, fmt.Errorf("put out %s: %w", h.out, err))
		}
	}
	ks.heads = keep
	busy := make([]*client.Output, len(keep))
	for i, h := range keep {
		busy[i] = h.out
	}
	outs, err := st.SelectOutputs(busy)
	if err != nil && !errors.Is(err, client.ErrNoDisplay) {
		errs = append(errs, err)
	}
	for _, out := range outs {
		if err := ks.light(out); err != nil {
			if ks.departed(fmt.Sprintf("light %s", out), err) {
				return nil
			}
			errs = append(errs, fmt.Errorf("light %s: %w", out, err))
		}
	}
	if len(ks.heads) == 0 {
		ks.log.Info(ks.dev.Path() + ": no display connected: waiting for one")
	}
	return errors.Join(errs...)
}

// headGone says why h can no longer show on the probed state st, or "" if
// it can. A head whose mode the connector still lists stays as it is,
// even if the connector now prefers another: what is on screen is not
// disturbed.
func headGone(st *client.State, h *head) string {
	for _, c := range st.Connectors {
		if c.ID != h.out.Connector.ID {
			continue
		}
		if c.Status != client.Connected || len(c.Modes) == 0 {
			return c.Name + " is " + c.Status.String()
		}
		m := h.out.Mode
		for _, n := range c.Modes {
			if n.Width() == m.Width() && n.Height() == m.Height() && n.RefreshMilliHz() == m.RefreshMilliHz() {
				return ""
			}
		}
		return fmt.Sprintf("%s no longer offers %dx%d", c.Name, m.Width(), m.Height())
	}
	return "its connector is gone"
}

// lose releases the device after it went away and waits for a display
// device to come back. Everything is closed: what the kernel refuses for
// a dead device goes with the device file.
func (ks *kmsDisplay) lose(why string) {
	if ks.dev == nil {
		return
	}
	ks.log.Warn(fmt.Sprintf("display device %s lost (%s): waiting for a display device to appear", ks.dev.Path(), why))
	for _, h := range ks.heads {
		if err := h.k.Close(); err != nil {
			ks.log.Debug("release a lost head", "output", h.out.String(), "err", err)
		}
	}
	ks.heads = nil
	if err := ks.dev.Close(); err != nil {
		ks.log.Debug("close a lost device", "err", err)
	}
	ks.dev, ks.stale = nil, false
}

// Close puts the VT back in text mode (while the display is held), stops
// following the device and releases the heads and the device.
func (ks *kmsDisplay) Close() error { return ks.close(false) }

// CloseRetained leaves the VT in graphics mode and the heads' last frames
// on their planes (CLOSEFB) for a successor.
func (ks *kmsDisplay) CloseRetained() error { return ks.close(true) }

func (ks *kmsDisplay) close(retain bool) error {
	// The VT goes back to text mode only on a plain close while the
	// display is still ours: after deactivate the VT belongs to the
	// successor, as in Plymouth. It comes before the device closes (see
	// takeVT).
	ks.releaseVT(!retain && ks.master)
	ks.releaseVT = func(bool) {}
	select {
	case <-ks.done:
	default:
		close(ks.done)
	}
	if ks.uevents != nil {
		ks.uevents.Close()
		ks.uevents = nil
	}
	ks.workers.Wait()
	return ks.release(retain)
}

// release closes the heads and the device; with retain the heads' last
// frames stay on their planes (CLOSEFB) for a successor.
func (ks *kmsDisplay) release(retain bool) error {
	var errs []error
	var unsupported error
	for _, h := range ks.heads {
		var err error
		if retain {
			err = h.k.CloseRetained()
		} else {
			err = h.k.Close()
		}
		if retain && errors.Is(err, client.ErrNotSupported) {
			unsupported = err
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if ks.dev != nil {
		errs = append(errs, ks.dev.Close())
	}
	ks.heads, ks.dev = nil, nil
	err := errors.Join(errs...)
	switch {
	case unsupported != nil:
		ks.log.Warn(fmt.Sprintf("retain the splash: %v: the framebuffer goes when the device is closed, so the splash stays only on kernels with CLOSEFB (6.8+)", unsupported))
	case err != nil:
		return err
	case retain:
		// With the kernel's fbdev emulation on, the last close of the
		// device still brings its console back: the frame stays for a
		// successor that already holds the device.
		ks.log.Info("left the last frame on the display (CLOSEFB); it stays while another process holds the device, or with fbdev emulation off")
	}
	return nil
}

// rescan is what an overflow of the uevent socket calls for: events were
// lost, so anything may have changed.
func (ks *kmsDisplay) rescan() error {
	if ks.dev != nil {
		if !ks.holding() {
			ks.stale = true
			return nil
		}
		return ks.refresh()
	}
	for _, c := range client.Cards() {
		if ks.opt.Device != "" && ks.opt.Device != c {
			continue
		}
		if err := ks.attach(c); err != nil || ks.dev != nil {
			return err
		}
	}
	return nil
}

// Listen takes the VT (graphics mode, switches under VT_PROCESS control)
// and starts following the kernel's events about DRM cards; see Display.
func (ks *kmsDisplay) Listen(send func(Event) bool) {
	if ks.listening {
		return
	}
	ks.listening = true
	events := make(chan Event)
	ks.workers.Add(1)
	go func() {
		defer ks.workers.Done()
		// The first change lights the other connected outputs, the way
		// hotplug does (listening starts before it runs: nothing is
		// missed in between).
		if !send(Event{Kind: Outputs, apply: ks.refresh}) {
			return
		}
		for {
			select {
			case ev := <-events:
				if !send(ev) {
					return
				}
			case <-ks.done:
				return
			}
		}
	}()
	ks.releaseVT = takeVT(ks.log, &vtSwitches{away: ks.vtAway, back: ks.vtBack, changes: events, done: ks.done})
	l, err := client.ListenUevents()
	if err != nil {
		ks.log.Warn(fmt.Sprintf("hotplug: %v: outputs will not follow the connectors", err))
		return
	}
	ks.uevents = l
	ks.workers.Add(1)
	go func() {
		defer ks.workers.Done()
		watchUevents(l, ks, events, ks.done, ks.log)
	}()
}

// watchUevents hands on, through to, the display's reaction to each
// kernel event about a DRM card, until done closes or the listener fails.
func watchUevents(l *client.UeventListener, ks *kmsDisplay, to chan<- Event, done <-chan struct{}, log *slog.Logger) {
	for {
		u, err := l.Next()
		var ev Event
		switch {
		case errors.Is(err, client.ErrUeventOverflow):
			log.Warn("hotplug: " + err.Error() + ": looking at the devices again")
			ev = Event{Kind: Rescan, apply: ks.rescan}
		case err != nil:
			select {
			case <-done:
			default:
				log.Warn(fmt.Sprintf("hotplug: %v: outputs no longer follow the connectors", err))
			}
			return
		case u.Card() == "":
			continue
		default:
			log.Debug("uevent", "event", u.String())
			ev = Event{Kind: Outputs, apply: func() error { return ks.uevent(u) }}
		}
		select {
		case to <- ev:
		case <-done:
			return
		}
	}
}

// firmwareDrivers are the DRM drivers of a framebuffer the firmware left
// lit: simpledrm (a simple-framebuffer, or EFI's or VESA's mode handed
// over as one), efidrm, vesadrm and ofdrm. Their one mode is the
// firmware's.
var firmwareDrivers = map[string]bool{"simpledrm": true, "efidrm": true, "vesadrm": true, "ofdrm": true}

// firmwareMode is the firmware's mode (FirmwareMode) on a card whose
// driver drives the framebuffer the firmware left: the mode of its one
// output. On any other card the firmware's mode is not known.
func (ks *kmsDisplay) firmwareMode() image.Point {
	if ks.dev == nil || !firmwareDrivers[ks.dev.Driver().Name] || len(ks.heads) == 0 {
		return image.Point{}
	}
	return ks.heads[0].h.Size
}
