package splash

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// kmsScreen is the Screen of a KMS device: one framebuffer and renderer per
// lit connector (a head), lit and put out as connectors come and go, as
// the kernel's fbdev client does on its hotplug callback
// (drm_fb_helper_hotplug_event). The device itself may go (the driver
// unbinds, the GPU is unplugged) and another come: in between, the screen
// keeps the State it was asked to show and draws it on the next device.
// The daemon calls it from one goroutine; hotplug reaches it as changes
// the daemon runs between frames (uevent).
type kmsScreen struct {
	// ctx is the run's: waits (for DRM master) end when it is done.
	ctx   context.Context
	cfg   Config
	log   *slog.Logger
	lap   func(string)
	theme *theme.Theme // nil until the theme is loaded

	dev   *client.Device // nil while no device is open
	heads []*head

	state  State // the State last asked for
	hidden bool  // Hide came after the last Show
	asked  bool  // Show or Hide was called: new heads have something to draw
	master bool  // false while deactivated: nothing is drawn or lit
	away   bool  // the VT is switched away: nothing is drawn or lit
	stale  bool  // a hotplug came while not holding: probe on taking back
	// first is when the first frame went up (since cfg.Start; 0: not
	// yet); loud says it is logged as it happens (see announce).
	first time.Duration
	loud  bool
}

// head is one lit output: its KMS framebuffer and the screen drawing on it.
type head struct {
	out *client.Output
	k   *fbemu.KMS
	s   *screen
}

// errDeviceGone marks the failures that mean the device went away.
var errDeviceGone = errors.New("the display device went away")

// gone says whether err means the device went away: the kernel answers
// ENODEV to every ioctl on an unplugged device.
func gone(err error) bool {
	return errors.Is(err, syscall.ENODEV) || errors.Is(err, errDeviceGone)
}

// openKMSScreen opens cfg.Device (or the first KMS card) and lights the
// output SelectOutput picks, for the first frame; the other connected
// outputs are lit by refresh once that frame is up. With no device yet,
// or no display connected, it returns a screen that waits for hotplug.
func openKMSScreen(ctx context.Context, cfg Config, lap func(string)) (*kmsScreen, error) {
	ks := &kmsScreen{ctx: ctx, cfg: cfg, log: cfg.Log, lap: lap, master: true}
	dev, err := client.Open(cfg.Device, client.Options{Legacy: cfg.Legacy})
	if errors.Is(err, os.ErrNotExist) {
		what := cfg.Device
		if what == "" {
			what = "a DRM card"
		}
		ks.log.Info(fmt.Sprintf("no display device yet (%v): waiting for %s to appear", err, what))
		return ks, nil
	}
	if err != nil {
		return nil, err
	}
	lap("open " + dev.Path())
	if err := takeMaster(ctx, dev, cfg.MasterWait, ks.log); err != nil {
		dev.Close()
		return nil, err
	}
	ks.dev = dev
	out, err := dev.SelectOutput(client.OutputRequest{Width: cfg.Mode.X, Height: cfg.Mode.Y})
	if errors.Is(err, client.ErrNoDisplay) {
		ks.log.Info(fmt.Sprintf("%s: %v: waiting for one to be connected", dev.Path(), err))
		return ks, nil
	}
	if err != nil {
		dev.Close()
		return nil, err
	}
	lap("probe and select output")
	if err := ks.light(out); err != nil {
		dev.Close()
		return nil, err
	}
	lap("allocate, import and map the scanout buffer")
	return ks, nil
}

// light makes a head for out, logging the output and the buffer path.
func (ks *kmsScreen) light(out *client.Output) error {
	dev := ks.dev
	api := "legacy"
	if dev.Atomic() {
		api = "atomic"
	}
	ks.log.Info("output: "+out.String(), "device", dev.Path(), "driver", dev.Driver().Name, "api", api)
	k, err := fbemu.NewKMS(dev, out, fbemu.KMSOptions{
		FramebufferOptions: fbemu.FramebufferOptions{Buffers: ks.cfg.Buffers, Strategy: ks.cfg.Access, Rotation: ks.cfg.Rotation},
		Scanout:            client.ScanoutOptions{Source: ks.cfg.Buffer, Heap: ks.cfg.Heap},
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
	ks.log.Info("buffer: "+k.Paths()[0], "buffers", len(k.Paths()), "access", ks.cfg.Access.String(), "format", k.Format().String())
	h := &head{out: out, k: k}
	h.s = NewScreen(k.Framebuffer, ks.renderer(out), ScreenOptions{After: k.Wait, Restore: k.Restore, Log: ks.log}).(*screen)
	ks.heads = append(ks.heads, h)
	return nil
}

// renderer draws the theme at out's scale (or the one asked for).
func (ks *kmsScreen) renderer(out *client.Output) *Renderer {
	scale := ks.cfg.Scale
	if scale <= 0 {
		scale = ScaleOf(out)
	}
	return NewRenderer(ks.theme, scale)
}

// setTheme draws th from now on, on every head and the ones to come.
func (ks *kmsScreen) setTheme(th *theme.Theme) {
	ks.theme = th
	for _, h := range ks.heads {
		h.s.setRenderer(ks.renderer(h.out))
	}
}

// each runs f on every head, with memory faults in the scanout buffers
// turned into errors. A failure that means the device went away releases
// it and is not an error: the screen waits for a device again.
func (ks *kmsScreen) each(op string, f func(*head) error) error {
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
// so releases it (lose): the screen then waits for a device to appear.
func (ks *kmsScreen) departed(op string, err error) bool {
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
func (ks *kmsScreen) vanished() bool {
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

// holding says whether the screen holds (or wants, with no device) the
// display: not deactivated, and its VT not switched away.
func (ks *kmsScreen) holding() bool { return ks.master && !ks.away }

// Show draws st on every head; with no device, while deactivated or while
// its VT is switched away, it only keeps st for later.
func (ks *kmsScreen) Show(st State) error {
	ks.state, ks.hidden, ks.asked = st, false, true
	if !ks.holding() {
		return nil
	}
	err := ks.each("show", func(h *head) error { return h.s.Show(st) })
	if err == nil && ks.first == 0 && len(ks.heads) > 0 {
		ks.first = time.Since(ks.cfg.Start)
		if ks.loud {
			logFirstFrame(ks.cfg, ks.first)
		}
	}
	return err
}

// announce returns when the first frame went up (0 if no device showed
// one yet) and has later first frames logged as they happen: Run logs
// the first one itself once its front ends serve.
func (ks *kmsScreen) announce() time.Duration {
	ks.loud = true
	return ks.first
}

// Hide blanks every head.
func (ks *kmsScreen) Hide() error {
	ks.hidden, ks.asked = true, true
	if !ks.holding() {
		return nil
	}
	return ks.each("hide", func(h *head) error { return h.s.Hide() })
}

// drop gives DRM master up, if the screen holds it.
func (ks *kmsScreen) drop() error {
	if ks.dev == nil || !ks.holding() {
		return nil
	}
	if err := ks.dev.DropMaster(); err != nil {
		if ks.departed("drop master", err) {
			return nil
		}
		return err
	}
	return nil
}

// take takes DRM master back once the screen holds the display again,
// looks at the connectors again if a hotplug came meanwhile, and sets
// every head's mode and plane again; the daemon's next Show repaints them.
func (ks *kmsScreen) take() error {
	if !ks.holding() {
		return nil
	}
	if ks.dev != nil {
		if err := ks.dev.SetMaster(); err != nil {
			if !ks.departed("set master", err) {
				return err
			}
		}
	}
	if ks.stale {
		ks.stale = false
		if err := ks.refresh(); err != nil {
			ks.log.Warn(fmt.Sprintf("hotplug: %v", err))
		}
	}
	return ks.each("restore", func(h *head) error { return h.s.Reactivate() })
}

// Deactivate drops DRM master.
func (ks *kmsScreen) Deactivate() error {
	if err := ks.drop(); err != nil {
		return err
	}
	ks.master = false
	return nil
}

// Reactivate takes master back (once the VT is back, if it was switched
// away) and sets the heads' modes again.
func (ks *kmsScreen) Reactivate() error {
	if ks.master {
		return nil
	}
	ks.master = true
	if err := ks.take(); err != nil {
		ks.master = false
		return err
	}
	return nil
}

// vtAway runs before the kernel switches to another VT (VT_PROCESS): the
// screen stops drawing and drops DRM master, so the console or whatever
// shows there can set its mode.
func (ks *kmsScreen) vtAway() error {
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
func (ks *kmsScreen) vtBack() error {
	if !ks.away {
		return nil
	}
	ks.away = false
	ks.log.Info("vt: back on the splash's VT")
	return ks.take()
}

// Quit does nothing: Run releases the screen after the daemon stopped.
func (ks *kmsScreen) Quit(retain bool) error { return nil }

// uevent reacts to a kernel event about a DRM card: a change on the card
// shown makes the screen probe its connectors again; its removal releases
// it; with no device, a card that appears (or changes) is opened. It runs
// on the daemon's goroutine.
func (ks *kmsScreen) uevent(u client.Uevent) error {
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
	if ks.cfg.Device != "" && ks.cfg.Device != card {
		return nil
	}
	return ks.attach(card)
}

// attach opens card as the display device after none was there.
func (ks *kmsScreen) attach(card string) error {
	dev, err := client.Open(card, client.Options{Legacy: ks.cfg.Legacy})
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
		if err := takeMaster(ks.ctx, dev, ks.cfg.MasterWait, ks.log); err != nil {
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
// heads show the current State (or black while hidden) on the daemon's
// next draw.
func (ks *kmsScreen) refresh() error {
	if ks.dev == nil {
		return nil
	}
	st, err := ks.dev.Probe()
	if err != nil {
		if ks.departed("probe", err) {
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
			continue
		}
		if ks.asked && ks.hidden {
			h := ks.heads[len(ks.heads)-1]
			if err := guard(h.s.Hide); err != nil {
				errs = append(errs, fmt.Errorf("hide on %s: %w", out, err))
			}
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
func (ks *kmsScreen) lose(why string) {
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

// release closes everything; with retain the heads' last frames stay on
// their planes (CLOSEFB) for a successor.
func (ks *kmsScreen) release(retain bool) {
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
		ks.log.Warn(fmt.Sprintf("release the display: %v", err))
	case retain:
		// With the kernel's fbdev emulation on, the last close of the
		// device still brings its console back: the frame stays for a
		// successor that already holds the device.
		ks.log.Info("left the last frame on the display (CLOSEFB); it stays while another process holds the device, or with fbdev emulation off")
	}
}

// rescan is what an overflow of the uevent socket calls for: events were
// lost, so anything may have changed.
func (ks *kmsScreen) rescan() error {
	if ks.dev != nil {
		if !ks.holding() {
			ks.stale = true
			return nil
		}
		return ks.refresh()
	}
	for _, c := range client.Cards() {
		if ks.cfg.Device != "" && ks.cfg.Device != c {
			continue
		}
		if err := ks.attach(c); err != nil || ks.dev != nil {
			return err
		}
	}
	return nil
}

// watchUevents hands the daemon, through to, the screen's reaction to
// each kernel event about a DRM card, until done closes or the listener
// fails.
func watchUevents(l *client.UeventListener, ks *kmsScreen, to chan<- func() error, done <-chan struct{}, log *slog.Logger) {
	for {
		u, err := l.Next()
		var f func() error
		switch {
		case errors.Is(err, client.ErrUeventOverflow):
			log.Warn("hotplug: " + err.Error() + ": looking at the devices again")
			f = ks.rescan
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
			f = func() error { return ks.uevent(u) }
		}
		select {
		case to <- f:
		case <-done:
			return
		}
	}
}
