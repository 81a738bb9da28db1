package display

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

// fbdevDisplay is the Display of a framebuffer device (/dev/fbN): the
// memory the firmware left lit (efifb, vesafb, simplefb) or an fbdev-only
// driver's (fbtft), mapped and drawn on directly, double-buffered by
// panning where the virtual height allows. There is no dma-buf and no
// DMA_BUF_IOCTL_SYNC on this path: the CPU writes the device's memory as
// fbcon does.
//
// When a DRM card appears (the real driver bound and the kernel removed
// the firmware framebuffer: "fb0: switching to bochs-drm from EFI VGA"),
// the display moves to the card: the framebuffer is released and the
// card's outputs become the heads, each wanting a full frame, as a KMS
// display's hotplug lights them. From then on everything is the card's.
type fbdevDisplay struct {
	// vtWas is the mode graphicsNow found the VT in before the first
	// frame (-1: it left the VT alone).
	vtWas int32
	ctx   context.Context
	why   string
	opt   Options
	log   *slog.Logger
	path  string

	fd   int // -1 once released
	geo  fbGeometry
	vinf uapi.FbVarScreeninfo
	fb   *fbemu.Framebuffer
	head *Head

	master bool // false while deactivated
	away   bool // the VT is switched away

	// ks is the DRM card the display moves to: no device until a card
	// appears; moved once its first output is lit.
	ks        *kmsDisplay
	moved     bool
	lastFrame time.Time // the last frame presented on the framebuffer
	movedAt   time.Time // when the card took over
	fbGone    time.Time // when the kernel removed the framebuffer (its uevent)
	gapLogged bool

	listening bool
	done      chan struct{}
	workers   sync.WaitGroup
	uevents   *client.UeventListener
	releaseVT func(text bool)
}

// openFbdev opens the framebuffer device at path and maps it for drawing.
func openFbdev(ctx context.Context, path string, opt Options, log *slog.Logger) (*fbdevDisplay, error) {
	step := opt.Step
	if step == nil {
		step = func(string) {}
	}
	d := &fbdevDisplay{ctx: ctx, opt: opt, log: log, path: path, fd: -1, vtWas: -1, master: true, done: make(chan struct{}), releaseVT: func(bool) {}}
	fd, err := openFbNode(path)
	if err != nil {
		return nil, err
	}
	d.fd = fd
	if err := d.setup(); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("display: %s: %w", path, err)
	}
	// fbcon draws in this memory too: the VT goes to graphics mode
	// before the first frame, or its cursor blinks on over the splash
	// (TestVMInitramfsToolsFirmware saw it at the top left). Listen takes
	// the VT over as on a card.
	if d.vtWas = graphicsNow(); d.vtWas >= 0 {
		// Closed before Listen takes the VT over: back as it was,
		// unless the splash is left up for a successor.
		was := d.vtWas
		d.releaseVT = func(text bool) {
			if text {
				vtModeBack(was)
			}
		}
	}
	step("open and map " + path)
	// The card the display moves to: none yet.
	kopt := opt
	kopt.Device = ""
	d.ks = &kmsDisplay{ctx: ctx, opt: kopt, log: log, step: func(string) {}, master: true, done: d.done, releaseVT: func(bool) {}}
	return d, nil
}

// openFbNode opens path read-write and checks it is a framebuffer device:
// a character device of fbdev's major. Anything else (a regular file, a
// FIFO, another device) is refused saying what it is.
func openFbNode(path string) (int, error) {
	fd, err := uapi.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return -1, fmt.Errorf("display: open %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("display: stat %s: %w", path, err)
	}
	if what := fbNodeKind(st.Mode, st.Rdev); what != "" {
		unix.Close(fd)
		return -1, fmt.Errorf("display: %s is %s, not a framebuffer device (character device %d:N)", path, what, uapi.FB_MAJOR)
	}
	return fd, nil
}

// fbNodeKind says what a file of mode and rdev is when it is not a
// framebuffer device, and "" when it is one.
func fbNodeKind(mode uint32, rdev uint64) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFCHR:
		if unix.Major(rdev) == uapi.FB_MAJOR {
			return ""
		}
		return fmt.Sprintf("character device %d:%d", unix.Major(rdev), unix.Minor(rdev))
	case unix.S_IFREG:
		return "a regular file"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFBLK:
		return fmt.Sprintf("block device %d:%d", unix.Major(rdev), unix.Minor(rdev))
	}
	return fmt.Sprintf("a file of mode %#o", mode)
}

// geometryOf reads fbdev's description of a framebuffer.
func geometryOf(v *uapi.FbVarScreeninfo, f *uapi.FbFixScreeninfo) fbGeometry {
	bf := func(b uapi.FbBitfield) fbemu.Bitfield {
		return fbemu.Bitfield{Offset: int(b.Offset), Length: int(b.Length)}
	}
	mm := func(n uint32) int {
		if int32(n) <= 0 || n > 100000 {
			return 0 // -1: unknown
		}
		return int(n)
	}
	var id []byte
	for _, c := range f.Id {
		if c == 0 {
			break
		}
		id = append(id, byte(c))
	}
	return fbGeometry{
		ID: string(id), XRes: int(v.Xres), YRes: int(v.Yres), XResVirtual: int(v.Xres_virtual), YResVirtual: int(v.Yres_virtual),
		XOffset: int(v.Xoffset), YOffset: int(v.Yoffset), BitsPerPixel: int(v.Bits_per_pixel), Grayscale: int(v.Grayscale),
		Nonstd: int(v.Nonstd), Red: bf(v.Red), Green: bf(v.Green), Blue: bf(v.Blue), Transp: bf(v.Transp),
		MSBRight: v.Red.Right|v.Green.Right|v.Blue.Right|v.Transp.Right != 0,
		WidthMM:  mm(v.Width), HeightMM: mm(v.Height),
		SmemLen: clampInt(f.Smem_len), LineLength: int(f.Line_length), Type: int(f.Type), Visual: int(f.Visual), YPanStep: int(f.Ypanstep),
	}
}

// setup reads the framebuffer's geometry, plans its buffers, maps them
// and makes the head.
func (d *fbdevDisplay) setup() error {
	var fix uapi.FbFixScreeninfo
	if err := uapi.Ioctl(d.fd, uapi.FBIOGET_FSCREENINFO, unsafe.Pointer(&fix)); err != nil {
		return fmt.Errorf("FBIOGET_FSCREENINFO: %w", err)
	}
	if err := uapi.Ioctl(d.fd, uapi.FBIOGET_VSCREENINFO, unsafe.Pointer(&d.vinf)); err != nil {
		return fmt.Errorf("FBIOGET_VSCREENINFO: %w", err)
	}
	d.geo = geometryOf(&d.vinf, &fix)
	p, err := d.geo.plan(d.opt.Buffers, os.Getpagesize())
	if err != nil {
		return fmt.Errorf("%s: %w", d.geo.ID, err)
	}
	if p.Single != "" {
		d.log.Info("fbdev: one buffer, drawn while on screen: " + p.Single)
	}
	if p.Buffers == 1 && (d.geo.XOffset != 0 || d.geo.YOffset != 0) {
		// The one buffer is the memory's start: show it.
		if err := d.pan(0); err != nil {
			return err
		}
	}
	var bufs []*access.Buffer
	var strides []int
	for i := range p.Buffers {
		origin := fmt.Sprintf("%s %s", d.geo.ID, d.path)
		bufs = append(bufs, access.NewExternal(d.fd, int64(i*p.Size), p.Size, access.KindMemfd, origin, nil))
		strides = append(strides, d.geo.LineLength)
	}
	sc := fbemu.Scanout{Name: d.geo.ID}
	if p.Buffers == 2 {
		sc.Present = func(i int, _ []image.Rectangle) error { return d.pan(i) }
	}
	fb, err := fbemu.NewOn(bufs, strides, d.geo.XRes, d.geo.YRes, p.Format,
		fbemu.FramebufferOptions{Buffers: p.Buffers, Strategy: access.NoSync, Rotation: d.opt.Rotation}, sc)
	if err != nil {
		return err
	}
	d.fb = fb
	name := strings.TrimPrefix(d.path, "/dev/")
	d.head = NewHead(name, fb, image.Pt(d.geo.WidthMM, d.geo.HeightMM), func() error {
		d.lastFrame = time.Now()
		return nil
	})
	d.head.Size = image.Pt(d.geo.XRes, d.geo.YRes)
	d.log.Info("output: "+name+" ("+d.geo.ID+")", "size", fmt.Sprintf("%dx%d", d.geo.XRes, d.geo.YRes), "format", p.Format.String())
	d.log.Info(fmt.Sprintf("buffer: the framebuffer's own memory (%s %v): no dma-buf and no DMA_BUF_IOCTL_SYNC on this path; the CPU writes it as fbcon does", d.geo.ID, d.geo),
		"buffers", p.Buffers)
	return nil
}

// pan shows buffer i (FBIOPAN_DISPLAY to its first line), at the next
// vertical blank where the driver can wait for one.
func (d *fbdevDisplay) pan(i int) error {
	v := d.vinf
	v.Xoffset, v.Yoffset = 0, uint32(i*d.geo.YRes)
	v.Activate = uapi.FB_ACTIVATE_VBL
	if err := uapi.Ioctl(d.fd, uapi.FBIOPAN_DISPLAY, unsafe.Pointer(&v)); err != nil {
		return fmt.Errorf("FBIOPAN_DISPLAY to line %d of %s: %w", v.Yoffset, d.path, err)
	}
	return nil
}

// Kind is Fbdev, and KMS once the display moved to a DRM card.
func (d *fbdevDisplay) Kind() Kind {
	if d.moved {
		return KMS
	}
	return Fbdev
}

// firmwareMode is the framebuffer's visible size, read when it was
// opened: the firmware's mode (FirmwareMode), still known after the move
// to the card.
func (d *fbdevDisplay) firmwareMode() image.Point {
	return image.Pt(d.geo.XRes, d.geo.YRes)
}

// Why says why Open took the framebuffer.
func (d *fbdevDisplay) Why() string { return d.why }

// Heads returns the framebuffer's head, or the card's once moved.
func (d *fbdevDisplay) Heads() []*Head {
	if d.moved {
		return d.ks.Heads()
	}
	if d.head == nil {
		return nil
	}
	return []*Head{d.head}
}

// Active says whether frames reach the screen.
func (d *fbdevDisplay) Active() bool {
	if d.moved {
		return d.ks.Active()
	}
	return d.master && !d.away
}

// Each runs f on the heads. The first frame on the card after the move
// logs how long the screen waited for it after the framebuffer's last.
func (d *fbdevDisplay) Each(op string, f func(*Head) error) error {
	if d.moved {
		err := d.ks.Each(op, f)
		if err == nil && !d.gapLogged && len(d.ks.heads) > 0 && !d.lastFrame.IsZero() {
			d.gapLogged = true
			ms := func(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
			gone := "its removal not seen"
			if !d.fbGone.IsZero() {
				gone = fmt.Sprintf("%.1fms after the kernel removed it", ms(d.fbGone))
			}
			d.log.Info(fmt.Sprintf("handover: first frame on %s %.1fms after the last frame on %s (%s; %.1fms after the card's event came)",
				d.ks.dev.Path(), ms(d.lastFrame), d.path, gone, ms(d.movedAt)))
		}
		return err
	}
	for _, h := range d.Heads() {
		if err := guard(func() error { return f(h) }); err != nil {
			return fmt.Errorf("%s %s: %w", op, h, err)
		}
	}
	return nil
}

// Listen puts the VT in graphics mode (fbcon stops drawing on the
// framebuffer) and follows the kernel's events about DRM cards: the first
// card with a connected output takes the display over.
func (d *fbdevDisplay) Listen(send func(Event) bool) {
	if d.listening {
		return
	}
	d.listening = true
	events := make(chan Event)
	d.workers.Add(1)
	go func() {
		defer d.workers.Done()
		for {
			select {
			case ev := <-events:
				apply := ev.apply
				ev.apply = func() error { return d.follow(apply) }
				if !send(ev) {
					return
				}
			case <-d.done:
				return
			}
		}
	}()
	d.releaseVT = takeVTWas(d.log, &vtSwitches{away: d.vtAway, back: d.vtBack, changes: events, done: d.done}, d.vtWas)
	l, err := client.ListenUevents()
	if err != nil {
		d.log.Warn(fmt.Sprintf("hotplug: %v: the splash stays on %s when a DRM driver binds", err, d.path))
		return
	}
	d.uevents = l
	d.ks.listening, d.ks.uevents = true, nil
	d.workers.Add(1)
	go func() {
		defer d.workers.Done()
		// A card that appeared between Open and now is looked for first.
		select {
		case events <- Event{Kind: Rescan, apply: d.ks.rescan}:
		case <-d.done:
			return
		}
		d.watch(l, events)
	}()
}

// watch hands on the kernel's events about DRM cards as a KMS display's
// watchUevents does, and the removal of the framebuffer (the driver that
// replaces it bound): the handover's gap is counted from it.
func (d *fbdevDisplay) watch(l *client.UeventListener, to chan<- Event) {
	node := strings.TrimPrefix(d.path, "/dev/")
	for {
		u, err := l.Next()
		var ev Event
		switch {
		case errors.Is(err, client.ErrUeventOverflow):
			d.log.Warn("hotplug: " + err.Error() + ": looking at the devices again")
			ev = Event{Kind: Rescan, apply: d.ks.rescan}
		case err != nil:
			select {
			case <-d.done:
			default:
				d.log.Warn(fmt.Sprintf("hotplug: %v: the splash stays on %s when a DRM driver binds", err, d.path))
			}
			return
		case u.Subsystem == "graphics" && u.Action == "remove" && u.DevName == node:
			at := time.Now()
			ev = Event{Kind: Outputs, apply: func() error {
				if d.moved {
					return nil
				}
				d.fbGone = at
				// The memory mapped is the new driver's now (its VRAM,
				// its buffers): not a pixel more is written there.
				d.log.Info("handover: the kernel removed " + d.path + " (" + d.geo.ID + "): a DRM driver bound; no more frames on it")
				return d.releaseFb()
			}}
		case u.Card() == "":
			continue
		default:
			d.log.Debug("uevent", "event", u.String())
			ev = Event{Kind: Outputs, apply: func() error { return d.ks.uevent(u) }}
		}
		select {
		case to <- ev:
		case <-d.done:
			return
		}
	}
}

// follow applies a change (a card's event, a VT switch) and moves the
// display to the card once the card lit an output.
func (d *fbdevDisplay) follow(apply func() error) error {
	var err error
	start := time.Now()
	if apply != nil {
		err = apply()
	}
	if !d.moved && len(d.ks.heads) > 0 {
		d.moveToCard(start)
	}
	return err
}

// moveToCard releases the framebuffer: the card's heads are the display
// from now on (the kernel already removed a firmware framebuffer when the
// card's driver bound). The card's event came at start.
func (d *fbdevDisplay) moveToCard(start time.Time) {
	d.log.Info("handover: "+d.ks.dev.Path()+" ("+d.ks.dev.Driver().Name+") takes the display over from "+d.path+" ("+d.geo.ID+")",
		"since_last_frame_ms", fmt.Sprintf("%.1f", float64(time.Since(d.lastFrame).Microseconds())/1000))
	if err := d.releaseFb(); err != nil {
		d.log.Debug("release the framebuffer", "err", err)
	}
	d.moved, d.movedAt = true, start
}

// releaseFb unmaps the framebuffer and closes its device.
func (d *fbdevDisplay) releaseFb() error {
	var errs []error
	if d.fb != nil {
		errs = append(errs, d.fb.Close())
		d.fb, d.head = nil, nil
	}
	if d.fd >= 0 {
		errs = append(errs, unix.Close(d.fd))
		d.fd = -1
	}
	return errors.Join(errs...)
}

// vtAway stops drawing until the VT is back.
func (d *fbdevDisplay) vtAway() error {
	if d.moved {
		return d.ks.vtAway()
	}
	d.ks.away = true
	d.away = true
	return nil
}

// vtBack draws again, in full: the console drew on the framebuffer.
func (d *fbdevDisplay) vtBack() error {
	if d.moved {
		return d.ks.vtBack()
	}
	d.ks.away = false
	d.away = false
	if d.head != nil {
		d.head.full = true
	}
	return nil
}

// Deactivate stops drawing, so another program can take the screen.
func (d *fbdevDisplay) Deactivate() error {
	if d.moved {
		return d.ks.Deactivate()
	}
	d.master, d.ks.master = false, false
	return nil
}

// Reactivate draws again, in full.
func (d *fbdevDisplay) Reactivate() error {
	if d.moved {
		return d.ks.Reactivate()
	}
	d.master, d.ks.master = true, true
	if d.head != nil {
		d.head.full = true
	}
	return nil
}

// Close puts the VT back in text mode (while the display is held) and
// releases the framebuffer or the card.
func (d *fbdevDisplay) Close() error { return d.close(false) }

// CloseRetained leaves the VT in graphics mode and the last frame in the
// framebuffer's memory (or on the card's planes) for a successor.
func (d *fbdevDisplay) CloseRetained() error { return d.close(true) }

func (d *fbdevDisplay) close(retain bool) error {
	d.releaseVT(!retain && d.master)
	d.releaseVT = func(bool) {}
	select {
	case <-d.done:
	default:
		close(d.done)
	}
	if d.uevents != nil {
		d.uevents.Close()
		d.uevents = nil
	}
	d.workers.Wait()
	err := d.releaseFb()
	if d.moved || d.ks.dev != nil {
		err = errors.Join(err, d.ks.release(retain))
	}
	return err
}

// clampInt is v as an int, or the largest int where v does not fit (a
// 32-bit machine): memory larger than the address space is no larger
// for us than the address space.
func clampInt(v uint32) int {
	if uint64(v) > uint64(math.MaxInt) {
		return math.MaxInt
	}
	return int(v)
}
