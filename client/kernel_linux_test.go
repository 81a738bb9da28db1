package client

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

// The kernel tests run on /dev/dri/card0 of the test VM (cirrus, bochs or
// virtio-gpu under a 6.12 kernel) and expect what each driver does there
// (see the project's notes on the test kernel).

// openCard opens the first modesetting device, closed at the test's end.
func openCard(t *testing.T, opts Options) *Device {
	t.Helper()
	testutil.NeedPath(t, "/dev/dri/card0")
	d, err := Open("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// driver names the emulated device behind d: "cirrus", "bochs" or "virtio".
func driver(t *testing.T, d *Device) string {
	t.Helper()
	switch n := d.Driver().Name; {
	case n == "cirrus":
		return "cirrus"
	case strings.HasPrefix(n, "bochs"):
		return "bochs"
	case n == "virtio_gpu":
		return "virtio"
	default:
		if testutil.InVM() {
			t.Fatalf("unexpected driver %q in the VM", n)
		}
		return n
	}
}

func output(t *testing.T, d *Device) *Output {
	t.Helper()
	out, err := d.SelectOutput(OutputRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fbGone checks that GETFB2 no longer finds id.
func fbGone(t *testing.T, d *Device, id FBID) {
	t.Helper()
	info, err := d.GetFB2(id)
	if err == nil {
		info.Close()
		t.Errorf("framebuffer %d still exists", id)
	} else if !errors.Is(err, unix.ENOENT) {
		t.Errorf("GETFB2 of removed framebuffer %d: %v, want ENOENT", id, err)
	}
}

func TestKernelOpenProbe(t *testing.T) {
	d := openCard(t, Options{})
	drv := driver(t, d)
	t.Logf("%s: %v, caps %+v, atomic %v", d.Path(), d.Driver(), d.Caps(), d.Atomic())
	if !d.Caps().DumbBuffer || !d.UniversalPlanes() || !d.Atomic() {
		t.Errorf("%s: dumb %v universal %v atomic %v, want all three", drv, d.Caps().DumbBuffer, d.UniversalPlanes(), d.Atomic())
	}
	if d.Caps().PreferredDepth > 32 {
		t.Errorf("preferred depth %d", d.Caps().PreferredDepth)
	}
	s, err := d.Probe()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Connectors {
		t.Logf("connector %d %s %s, %d modes, %dx%d mm, EDID %d bytes, encoders %v", c.ID, c.Name, c.Status, len(c.Modes), c.WidthMM, c.HeightMM, len(c.EDID), c.Encoders)
	}
	for _, p := range s.Planes {
		t.Logf("plane %d %s crtcs %#x formats %v damage %v modifiers %v", p.ID, p.Type, p.PossibleCRTCs, p.Formats, p.DamageClips, p.Modifiers)
	}
	out, err := s.SelectOutput(OutputRequest{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("output %v", out)
	if out.Connector.Status != Connected || len(out.Connector.Modes) == 0 || out.Connector.Props.ID("CRTC_ID") == 0 {
		t.Errorf("output connector %+v", out.Connector)
	}
	if out.CRTC.Props.ID("MODE_ID") == 0 || out.CRTC.Props["ACTIVE"].Property == nil {
		t.Errorf("CRTC %d lacks MODE_ID/ACTIVE", out.CRTC.ID)
	}
	if p := out.Plane.Props["type"]; p.Property == nil || p.Kind != PropEnum || !p.Immutable {
		t.Errorf("plane type property %+v", p)
	}
	if !out.Plane.SupportsFormat(FormatXRGB8888) {
		t.Errorf("primary plane formats %v, want XR24", out.Plane.Formats)
	}
	// bochs scans out of VRAM directly and takes no damage clips.
	if want := drv != "bochs"; out.Plane.DamageClips != want {
		t.Errorf("%s: primary plane damage clips %v, want %v", drv, out.Plane.DamageClips, want)
	}
	primaries := 0
	for _, p := range s.Planes {
		if p.Type == PlanePrimary {
			primaries++
		}
	}
	switch drv {
	case "cirrus":
		if out.Connector.Name != "VGA-1" || out.Mode.Width() != 1024 || out.Mode.Height() != 768 || !out.Mode.Preferred() {
			t.Errorf("cirrus: output %v, want VGA-1 with 1024x768 preferred", out)
		}
		if primaries != 1 || len(s.Planes) != 1 {
			t.Errorf("cirrus: %d planes, %d primary; want one primary", len(s.Planes), primaries)
		}
		if mods, ok := out.Plane.Modifiers[FormatXRGB8888]; !ok || len(mods) == 0 || mods[0] != ModifierLinear {
			t.Errorf("cirrus: IN_FORMATS for XR24: %v", out.Plane.Modifiers)
		}
	case "bochs", "virtio":
		if out.Connector.Name != "Virtual-1" || len(out.Connector.EDID) < 128 {
			t.Errorf("%s: output on %s with %d bytes of EDID, want Virtual-1 with QEMU's EDID", drv, out.Connector.Name, len(out.Connector.EDID))
		}
		if len(out.Connector.EDID) >= 8 && string(out.Connector.EDID[:8]) != "\x00\xff\xff\xff\xff\xff\xff\x00" {
			t.Errorf("%s: EDID does not start with the EDID header: % x", drv, out.Connector.EDID[:8])
		}
	}
	// An output of a size the connector lists, and a clear error for one
	// it does not.
	m := out.Connector.Modes[len(out.Connector.Modes)-1]
	if o, err := s.SelectOutput(OutputRequest{Width: m.Width(), Height: m.Height()}); err != nil || o.Mode.Width() != m.Width() {
		t.Errorf("select %dx%d: %v, %v", m.Width(), m.Height(), o, err)
	}
	if _, err := s.SelectOutput(OutputRequest{Width: 1234, Height: 567}); err == nil || !strings.Contains(err.Error(), "no 1234x567 mode") {
		t.Errorf("select 1234x567: %v", err)
	}
}

func TestKernelDumb(t *testing.T) {
	d := openCard(t, Options{})
	db, err := d.CreateDumb(100, 30, 32)
	if err != nil {
		t.Fatal(err)
	}
	if db.Pitch < 400 || db.Size < uint64(db.Pitch)*30 {
		t.Errorf("dumb 100x30x32: pitch %d size %d", db.Pitch, db.Size)
	}
	buf, err := db.Buffer()
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	if buf.Kind() != access.KindDumb || !strings.HasPrefix(buf.Origin(), "dumb (") {
		t.Errorf("buffer kind %v origin %q", buf.Kind(), buf.Origin())
	}
	mem, err := uapi.Mmap(buf.Fd(), buf.Offset(), buf.Size(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		buf.Close()
		t.Fatal(err)
	}
	for i := range mem {
		mem[i] = byte(i)
	}
	if mem[db.Size-1] != byte(db.Size-1) {
		t.Error("dumb buffer memory did not keep what was written")
	}
	if err := uapi.Munmap(mem); err != nil {
		t.Error(err)
	}
	if err := buf.Close(); err != nil {
		t.Error(err)
	}
	if err := buf.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	// The handle is gone: closing it again is refused.
	if err := d.closeHandle(db.Handle); err == nil {
		t.Errorf("GEM handle %d still open after the dumb buffer was destroyed", db.Handle)
	}
}

func TestKernelAddFB(t *testing.T) {
	d := openCard(t, Options{})
	db, err := d.CreateDumb(64, 48, 32)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fb, err := d.AddFB(64, 48, FormatXRGB8888, db.Handle, db.Pitch, 0, ModifierInvalid)
	if err != nil {
		t.Fatal(err)
	}
	info, err := d.GetFB2(fb.ID())
	if err != nil {
		fb.Close()
		t.Fatal(err)
	}
	if info.Width != 64 || info.Height != 48 || info.Format != FormatXRGB8888 || info.Pitches[0] != db.Pitch || info.Handles[0] == 0 {
		t.Errorf("GETFB2: %+v", info)
	}
	if err := info.Close(); err != nil {
		t.Error(err)
	}
	if err := fb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fb.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	fbGone(t, d, fb.ID())
	// A bad pitch says what was tried.
	_, err = d.AddFB(64, 48, FormatXRGB8888, db.Handle, 3, 0, ModifierInvalid)
	if err == nil || !strings.Contains(err.Error(), "add 64x48 XRGB8888 framebuffer (handle") {
		t.Errorf("AddFB with pitch 3: %v", err)
	}
}

func TestKernelImport(t *testing.T) {
	d := openCard(t, Options{})
	testutil.NeedPath(t, "/dev/dma_heap/system")
	h, err := access.OpenHeap("")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	buf, err := h.Alloc(64 * 64 * 4)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	handle, err := d.ImportDmaBuf(buf.Fd())
	switch drv := driver(t, d); drv {
	case "cirrus":
		if err != nil {
			t.Fatalf("cirrus: %v", err)
		}
		h := handle.Handle()
		fb, err := d.AddFB(64, 64, FormatXRGB8888, h, 256, 0, ModifierInvalid)
		if err != nil {
			t.Error(err)
		} else if err := fb.Close(); err != nil {
			t.Error(err)
		}
		if err := handle.Close(); err != nil {
			t.Error(err)
		}
		if err := handle.Close(); err != nil {
			t.Errorf("second Close of the imported handle: %v", err)
		}
		if handle.Handle() != 0 {
			t.Errorf("imported handle reads %d after Close, want 0", handle.Handle())
		}
		// The handle is gone: closing it behind the GEM's back is refused.
		if err := d.closeHandle(h); err == nil {
			t.Errorf("GEM handle %d still open after Close", h)
		}
	case "bochs", "virtio":
		want := map[string]unix.Errno{"bochs": unix.EINVAL, "virtio": unix.ENODEV}[drv]
		if err == nil {
			handle.Close()
			t.Fatalf("%s imported a heap buffer; expected %v", drv, want)
		}
		if !errors.Is(err, ErrImportUnsupported) || !errors.Is(err, want) ||
			!strings.Contains(err.Error(), "import dma-buf into "+d.Driver().Name) || !strings.Contains(err.Error(), "driver cannot import") {
			t.Errorf("%s: %v, want ErrImportUnsupported wrapping %v", drv, err, want)
		}
		t.Log(err)
	default:
		t.Logf("%s: import: %v", drv, err)
	}
	// A closed fd is not "unsupported".
	if _, err := d.ImportDmaBuf(-1); err == nil || errors.Is(err, ErrImportUnsupported) {
		t.Errorf("import of fd -1: %v", err)
	}
}

// scanout makes a scanout of the output's size, closed at the test's end.
func scanout(t *testing.T, d *Device, out *Output, src Source) *Scanout {
	t.Helper()
	s, err := NewScanout(d, out.Mode.Width(), out.Mode.Height(), FormatXRGB8888, ScanoutOptions{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		id := s.FB.ID()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
		fbGone(t, d, id)
	})
	return s
}

func TestKernelScanoutAuto(t *testing.T) {
	d := openCard(t, Options{})
	out := output(t, d)
	s := scanout(t, d, out, SourceAuto)
	t.Logf("path %s; fallbacks %q", s.Path, s.Fallbacks)
	switch drv := driver(t, d); drv {
	case "cirrus":
		if s.Path != `heap "system", imported via PRIME` || len(s.Fallbacks) != 0 || s.Pitch != out.Mode.Width()*4 {
			t.Errorf("cirrus: path %q fallbacks %q pitch %d", s.Path, s.Fallbacks, s.Pitch)
		}
		if s.Source != SourceHeap || s.Heap != "system" {
			t.Errorf("cirrus: source %v heap %q, want the system heap", s.Source, s.Heap)
		}
		// The guest has the system heap alone: nothing to order, and
		// the scanout does not look the card up in sysfs.
		if s.Choice.First() != "system" || !strings.Contains(s.Choice.Why, "cirrus not looked up in sysfs") {
			t.Errorf("cirrus: heap choice %q %q, want the system heap, the only one, without a look in sysfs", s.Choice.First(), s.Choice.Why)
		}
		// The whole rule, as bootsplash info gives it, still classifies
		// the card.
		if ch := d.HeapChoice(); ch.First() != "system" || ch.Class.Memory != MemoryScattered || !strings.HasPrefix(ch.Why, "cirrus at ") {
			t.Errorf("cirrus: heap rule %q %v %q, want the system heap for a scattered-page device", ch.First(), ch.Class.Memory, ch.Why)
		}
	case "bochs", "virtio":
		if s.Buffer.Kind() != access.KindDumb || !strings.HasPrefix(s.Path, "dumb buffer") || s.Source != SourceDumb {
			t.Errorf("%s: path %q source %v, want a dumb buffer", drv, s.Path, s.Source)
		}
		// A page of the heap is refused: neither the heap's buffer
		// nor a udmabuf, imported the same way, is then tried.
		refused := `a page of heap "system" was refused (import refused by ` + d.Driver().Name
		if len(s.Fallbacks) != 2 || !strings.HasPrefix(s.Fallbacks[0], `heap "system": not tried: `+refused) ||
			!strings.HasPrefix(s.Fallbacks[1], "udmabuf: not tried: "+refused) {
			t.Errorf("%s: fallbacks %q, want a page of the heap refused and neither the heap's buffer nor a udmabuf tried", drv, s.Fallbacks)
		}
	}
	if s.FB.Width != out.Mode.Width() || s.Buffer.Size() < s.Pitch*s.Height {
		t.Errorf("scanout %dx%d pitch %d size %d", s.FB.Width, s.Height, s.Pitch, s.Buffer.Size())
	}
	// Each source can be asked for; the dumb one always works.
	dumb := scanout(t, d, out, SourceDumb)
	if dumb.Buffer.Kind() != access.KindDumb || len(dumb.Fallbacks) != 0 {
		t.Errorf("dumb: %q %q", dumb.Path, dumb.Fallbacks)
	}
}

func TestKernelScanoutFaults(t *testing.T) {
	d := openCard(t, Options{})
	restore := uapi.SetFaultHook(func(s uapi.Site) error {
		if s.Call == "ioctl" && s.Req == uapi.DRM_IOCTL_MODE_ADDFB2 {
			return unix.ENOSPC
		}
		return nil
	})
	s, err := NewScanout(d, 320, 200, FormatXRGB8888, ScanoutOptions{})
	restore()
	if err == nil {
		s.Close()
		t.Fatal("NewScanout succeeded with ADDFB2 failing")
	}
	if !errors.Is(err, unix.ENOSPC) || !strings.Contains(err.Error(), "every buffer source failed") {
		t.Errorf("error %v", err)
	}
	// The dumb buffers of the failed tries were destroyed: a fresh one
	// gets the lowest handle again.
	db, err := d.CreateDumb(8, 8, 32)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Handle != 1 {
		t.Errorf("new dumb buffer got handle %d: earlier handles leaked", db.Handle)
	}
}

func TestKernelModesetFlipDamage(t *testing.T) {
	d := openCard(t, Options{})
	out := output(t, d)
	a := scanout(t, d, out, SourceAuto)
	b := scanout(t, d, out, SourceDumb)
	if err := d.Modeset(out, a.FB); err != nil {
		t.Fatal(err)
	}
	p, err := d.Plane(out.Plane.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.FB != a.FB.ID() || p.CRTC != out.CRTC.ID {
		t.Errorf("after modeset the plane shows fb %d on crtc %d, want %d on %d", p.FB, p.CRTC, a.FB.ID(), out.CRTC.ID)
	}
	blob := d.modeBlobs[out.CRTC.ID]
	if err := d.Modeset(out, a.FB); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Blob(blob); !errors.Is(err, unix.ENOENT) {
		t.Errorf("replaced mode blob %d: %v, want it destroyed", blob, err)
	}

	start := time.Now()
	if err := d.Flip(out, b.FB, []image.Rectangle{image.Rect(0, 0, 10, 10)}, FlipEvent); err != nil {
		t.Fatal(err)
	}
	ev, err := d.WaitFlip(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flip event %+v after %v", ev, time.Since(start))
	if ev.Type != EventFlipComplete || ev.UserData != uint64(b.FB.ID()) {
		t.Errorf("event %+v, want a flip to fb %d", ev, b.FB.ID())
	}
	if d.Caps().CRTCInVBlankEvent && ev.CRTC != out.CRTC.ID {
		t.Errorf("event on crtc %d, want %d", ev.CRTC, out.CRTC.ID)
	}
	if _, err := d.WaitFlip(10 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("WaitFlip with nothing pending: %v", err)
	}

	clips := []image.Rectangle{image.Rect(0, 0, 16, 16), image.Rect(-5, 100, 50, 120), image.Rect(5000, 5000, 6000, 6000)}
	var created, destroyed int
	restore := uapi.SetFaultHook(func(s uapi.Site) error {
		switch s.Req {
		case uapi.DRM_IOCTL_MODE_CREATEPROPBLOB:
			created++
		case uapi.DRM_IOCTL_MODE_DESTROYPROPBLOB:
			destroyed++
		}
		return nil
	})
	err = d.Damage(out, b.FB, clips)
	restore()
	if err != nil {
		t.Error(err)
	}
	// The damage blob is made only where the plane takes clips, and
	// always destroyed.
	if want := map[bool]int{true: 1, false: 0}[out.Plane.DamageClips && d.Atomic()]; created != want || destroyed != want {
		t.Errorf("damage: %d blobs created, %d destroyed; want %d of each", created, destroyed, want)
	}
	if err := d.Damage(out, b.FB, nil); err != nil {
		t.Error(err)
	}
	if err := d.Damage(out, b.FB, []image.Rectangle{image.Rect(-9, -9, -1, -1)}); err != nil {
		t.Error(err)
	}
}

func TestKernelLegacy(t *testing.T) {
	d := openCard(t, Options{Legacy: true})
	if d.Atomic() {
		t.Fatal("Legacy option ignored")
	}
	out := output(t, d)
	a := scanout(t, d, out, SourceDumb)
	b := scanout(t, d, out, SourceDumb)
	if err := d.Modeset(out, a.FB); err != nil {
		t.Fatal(err)
	}
	c, err := d.CRTC(out.CRTC.ID, out.CRTC.Index)
	if err != nil {
		t.Fatal(err)
	}
	if c.FB != a.FB.ID() || !c.ModeValid || c.Mode.Width() != out.Mode.Width() {
		t.Errorf("after SETCRTC: crtc fb %d mode %v", c.FB, c.Mode)
	}
	if err := d.Flip(out, b.FB, nil, FlipEvent); err != nil {
		t.Fatal(err)
	}
	if ev, err := d.WaitFlip(time.Second); err != nil || ev.UserData != uint64(b.FB.ID()) {
		t.Errorf("legacy flip: %+v %v", ev, err)
	}
	if err := d.Damage(out, b.FB, []image.Rectangle{image.Rect(1, 1, 20, 20)}); err != nil {
		t.Error(err)
	}
	switch drv := driver(t, d); drv {
	case "bochs":
		if !d.NeedsNoDirty() {
			t.Error("bochs: DIRTYFB's ENOSYS was not remembered")
		}
	case "cirrus", "virtio":
		if d.NeedsNoDirty() {
			t.Errorf("%s: DIRTYFB taken as unneeded", drv)
		}
	}
	if err := d.Damage(out, b.FB, nil); err != nil {
		t.Error(err)
	}
}

func TestKernelCloseFB(t *testing.T) {
	d := openCard(t, Options{})
	out := output(t, d)
	db, err := d.CreateDumb(out.Mode.Width(), out.Mode.Height(), 32)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fb, err := d.AddFB(out.Mode.Width(), out.Mode.Height(), FormatXRGB8888, db.Handle, db.Pitch, 0, ModifierInvalid)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	if err := d.Modeset(out, fb); err != nil {
		t.Fatal(err)
	}
	if err := fb.CloseRetained(); err != nil {
		if !kernelAtLeast(t, 6, 8) && errors.Is(err, ErrNotSupported) {
			t.Logf("kernel before 6.8: %v", err)
			return
		}
		t.Fatalf("CLOSEFB: %v", err)
	}
	if !kernelAtLeast(t, 6, 8) {
		t.Error("CLOSEFB accepted by a kernel before 6.8")
	}
	// The plane keeps showing it, and GETFB2 still finds it.
	p, err := d.Plane(out.Plane.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.FB != fb.ID() {
		t.Errorf("after CLOSEFB the plane shows fb %d, want %d", p.FB, fb.ID())
	}
	info, err := d.GetFB2(fb.ID())
	if err != nil {
		t.Fatalf("GETFB2 after CLOSEFB: %v", err)
	}
	info.Close()
	// Showing another framebuffer drops the last reference.
	s := scanout(t, d, out, SourceDumb)
	if err := d.Modeset(out, s.FB); err != nil {
		t.Fatal(err)
	}
	fbGone(t, d, fb.ID())
}

// kernelAtLeast reports whether the running kernel is major.minor or newer.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		t.Fatalf("kernel release %q: %v", u.Release[:], err)
	}
	return ma > major || ma == major && mi >= minor
}

func TestKernelMaster(t *testing.T) {
	d := openCard(t, Options{})
	if err := d.SetMaster(); err != nil {
		t.Fatalf("first opener: %v", err)
	}
	other, err := Open(d.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = other.SetMaster()
	if !errors.Is(err, unix.EBUSY) || !strings.Contains(err.Error(), "set master on "+d.Path()) || !strings.Contains(err.Error(), "another process is DRM master") {
		t.Errorf("second SetMaster: %v", err)
	}
	if err := d.DropMaster(); err != nil {
		t.Fatal(err)
	}
	if err := other.SetMaster(); err != nil {
		t.Errorf("SetMaster after the first dropped it: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Error(err)
	}
	if err := other.Close(); err != nil || other.Fd() != -1 {
		t.Errorf("second Close: %v, fd %d", err, other.Fd())
	}
}

func TestKernelFaults(t *testing.T) {
	d := openCard(t, Options{})
	out := output(t, d)
	s := scanout(t, d, out, SourceDumb)
	restore := uapi.SetFaultHook(func(st uapi.Site) error {
		if st.Call == "ioctl" && (st.Req == uapi.DRM_IOCTL_MODE_ATOMIC || st.Req == uapi.DRM_IOCTL_MODE_SETCRTC) {
			return unix.EINVAL
		}
		return nil
	})
	before := d.modeBlobs[out.CRTC.ID]
	err := d.Modeset(out, s.FB)
	restore()
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "set "+out.Mode.String()+" on "+out.Connector.Name) {
		t.Errorf("failing modeset: %v", err)
	}
	if d.modeBlobs[out.CRTC.ID] != before {
		t.Error("a failed modeset replaced the mode blob")
	}
	restore = uapi.SetFaultHook(func(st uapi.Site) error {
		if st.Call == "read" {
			return unix.EIO
		}
		return nil
	})
	defer restore()
	if err := d.ReadEvents(func(Event) {}); !errors.Is(err, unix.EIO) {
		t.Errorf("ReadEvents with a failing read: %v", err)
	}
}

// TestKernelProbeCurrent checks that reading connectors as the kernel last
// probed them (what the first frame uses, to skip a new detect and EDID
// read) finds what a full probe finds but the EDID, and picks the same
// output.
func TestKernelProbeCurrent(t *testing.T) {
	d := openCard(t, Options{})
	full, err := d.Probe()
	if err != nil {
		t.Fatal(err)
	}
	cur, err := d.ProbeCurrent()
	if err != nil {
		t.Fatal(err)
	}
	if len(cur.Connectors) != len(full.Connectors) {
		t.Fatalf("%d connectors, a full probe found %d", len(cur.Connectors), len(full.Connectors))
	}
	for i, c := range cur.Connectors {
		f := full.Connectors[i]
		if c.Name != f.Name || c.Status != f.Status || len(c.Modes) != len(f.Modes) || c.WidthMM != f.WidthMM || c.EDID != nil {
			t.Errorf("%s: current %v with %d modes, probed %v with %d modes", c.Name, c.Status, len(c.Modes), f.Status, len(f.Modes))
			continue
		}
		for j := range c.Modes {
			if c.Modes[j] != f.Modes[j] {
				t.Errorf("%s mode %d: current %v, probed %v", c.Name, j, c.Modes[j], f.Modes[j])
			}
		}
	}
	want, err := full.SelectOutput(OutputRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.SelectOutput(OutputRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("SelectOutput chose %v, a full probe chooses %v", got, want)
	}
}

// TestKernelPropertyOneCall: reading a property with room for propGuess
// values and enums in the first GETPROPERTY gives what reading it with
// room for one gives (every property with more asked again with its own
// counts), for every property of every connector, CRTC and plane.
func TestKernelPropertyOneCall(t *testing.T) {
	d := openCard(t, Options{})
	s, err := d.Probe()
	if err != nil {
		t.Fatal(err)
	}
	var objs []Object
	for _, c := range s.Connectors {
		objs = append(objs, c.ID)
	}
	for _, c := range s.CRTCs {
		objs = append(objs, c.ID)
	}
	for _, p := range s.Planes {
		objs = append(objs, p.ID)
	}
	read := func(guess uint32) []Properties {
		old := propGuess
		propGuess = guess
		defer func() { propGuess = old }()
		var all []Properties
		for _, o := range objs {
			p, err := d.Properties(o)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p)
		}
		return all
	}
	wide, narrow := read(propGuess), read(1)
	asked := 0
	for i, o := range objs {
		if !reflect.DeepEqual(wide[i], narrow[i]) {
			t.Errorf("object %v: properties read with room for %d differ from those read with room for 1", o, propGuess)
		}
		for name, p := range wide[i] {
			if len(p.Enums) > 1 || p.Kind == PropRange {
				asked++
			}
			if p.Name != name || p.ID == 0 {
				t.Errorf("object %v: property %q read as %+v", o, name, p.Property)
			}
		}
	}
	if asked == 0 {
		t.Errorf("no property with more than one value or enum among %d objects: the second GETPROPERTY was never taken", len(objs))
	}
	t.Logf("%d objects, %d properties with more than one value or enum", len(objs), asked)
}

// countIoctls runs f and counts the ioctls it makes, by request.
func countIoctls(f func()) map[uint]int {
	var mu sync.Mutex
	n := map[uint]int{}
	restore := uapi.SetFaultHook(func(s uapi.Site) error {
		if s.Call == "ioctl" {
			mu.Lock()
			n[s.Req]++
			mu.Unlock()
		}
		return nil
	})
	defer restore()
	f()
	return n
}

// TestKernelProbeCalls counts the ioctls of Open and of ProbeCurrent (the
// way to the first frame): one VERSION and one GETRESOURCES to open, no
// capability read; one call for each list that fits its first room, one
// GETCONNECTOR for each connector (its modes, encoders and properties),
// one OBJ_GETPROPERTIES for each CRTC and plane, and one GETPROPERTY for
// each property however many objects carry it, none the second time. What
// it reads is what the properties read one by one and anew say.
func TestKernelProbeCalls(t *testing.T) {
	var d *Device
	open := countIoctls(func() { d = openCard(t, Options{}) })
	t.Logf("Open: %s", ioctlCounts(open))
	for req, want := range map[uint]int{uapi.DRM_IOCTL_VERSION: 1, uapi.DRM_IOCTL_MODE_GETRESOURCES: 1, uapi.DRM_IOCTL_GET_CAP: 0} {
		if open[req] != want {
			t.Errorf("Open: %d %s, want %d", open[req], uapi.IoctlName(req), want)
		}
	}
	var s *State
	var err error
	first := countIoctls(func() { s, err = d.ProbeCurrent() })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ProbeCurrent: %s", ioctlCounts(first))
	described := map[PropertyID]bool{}
	objs := 0
	check := func(what string, props Properties) {
		objs++
		if len(props) > int(objPropGuess) {
			t.Errorf("%s: %d properties, more than the first call's room for %d", what, len(props), objPropGuess)
		}
		for name, v := range props {
			described[v.Property.ID] = true
			p, err := d.Property(v.Property.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, v.Property) {
				t.Errorf("%s: property %q read as %+v, alone it reads %+v", what, name, v.Property, p)
			}
		}
	}
	blobs := 0
	for _, c := range s.Connectors {
		if c.EDID != nil {
			t.Errorf("connector %s: EDID read on the way to the first frame", c.Name)
		}
		if len(c.Modes) > int(modeGuess) {
			t.Errorf("connector %s: %d modes, more than the first call's room for %d", c.Name, len(c.Modes), modeGuess)
		}
		check("connector "+c.Name, c.Props)
		alone, err := d.Properties(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(alone, c.Props) {
			t.Errorf("connector %s: properties read with it differ from those read alone", c.Name)
		}
	}
	for _, c := range s.CRTCs {
		check(fmt.Sprintf("CRTC %d", c.ID), c.Props)
	}
	for _, p := range s.Planes {
		check(fmt.Sprintf("plane %d", p.ID), p.Props)
		if f, ok := p.Props["IN_FORMATS"]; ok && f.Value != 0 {
			blobs += 2
		}
	}
	want := map[uint]int{
		uapi.DRM_IOCTL_MODE_GETRESOURCES:      1,
		uapi.DRM_IOCTL_MODE_GETPLANERESOURCES: 1,
		uapi.DRM_IOCTL_MODE_GETCONNECTOR:      len(s.Connectors),
		uapi.DRM_IOCTL_MODE_GETENCODER:        len(s.Encoders),
		uapi.DRM_IOCTL_MODE_GETCRTC:           len(s.CRTCs),
		uapi.DRM_IOCTL_MODE_GETPLANE:          len(s.Planes),
		uapi.DRM_IOCTL_MODE_OBJ_GETPROPERTIES: len(s.CRTCs) + len(s.Planes),
		uapi.DRM_IOCTL_MODE_GETPROPERTY:       len(described),
		uapi.DRM_IOCTL_MODE_GETPROPBLOB:       blobs,
	}
	for req, n := range want {
		if first[req] != n {
			t.Errorf("ProbeCurrent: %d %s, want %d", first[req], uapi.IoctlName(req), n)
		}
	}
	t.Logf("%d objects carry %d distinct properties", objs, len(described))
	again := countIoctls(func() { _, err = d.ProbeCurrent() })
	if err != nil {
		t.Fatal(err)
	}
	if n := again[uapi.DRM_IOCTL_MODE_GETPROPERTY]; n != 0 {
		t.Errorf("ProbeCurrent again: %d GETPROPERTY, want none: the descriptions are the Device's", n)
	}
	// The EDID is read when asked, as a full probe reads it.
	full, err := d.Probe()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range s.Connectors {
		e, err := d.EDID(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e, full.Connectors[i].EDID) {
			t.Errorf("connector %s: EDID read when asked is %d bytes, a full probe's %d", c.Name, len(e), len(full.Connectors[i].EDID))
		}
	}
}

// ioctlCounts is "GETCONNECTOR×2 ..." in a stable order.
func ioctlCounts(n map[uint]int) string {
	var parts []string
	for req, c := range n {
		parts = append(parts, fmt.Sprintf("%s×%d", strings.TrimPrefix(uapi.IoctlName(req), "DRM_IOCTL_"), c))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// TestKernelOneCallRoom: the lists read in one call with room for a guess
// (resources, planes, formats, a connector's modes, encoders and
// properties, an object's properties, the driver's strings) read the same
// when the room is one and each is asked again with its own count.
func TestKernelOneCallRoom(t *testing.T) {
	read := func(guess int) (DriverInfo, *State) {
		oldRes, oldFmt, oldMode, oldProp, oldVer := resGuess, formatGuess, modeGuess, objPropGuess, versionGuess
		resGuess, formatGuess, modeGuess, objPropGuess, versionGuess = uint32(guess), uint32(guess), uint32(guess), uint32(guess), guess
		defer func() {
			resGuess, formatGuess, modeGuess, objPropGuess, versionGuess = oldRes, oldFmt, oldMode, oldProp, oldVer
		}()
		d, err := Open("", Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		s, err := d.ProbeCurrent()
		if err != nil {
			t.Fatal(err)
		}
		return d.Driver(), s
	}
	testutil.NeedPath(t, "/dev/dri/card0")
	wideDrv, wide := read(int(resGuess))
	var narrowDrv DriverInfo
	var narrow *State
	calls := countIoctls(func() { narrowDrv, narrow = read(1) })
	if wideDrv != narrowDrv {
		t.Errorf("driver read with room for 1: %+v, with room: %+v", narrowDrv, wideDrv)
	}
	if !reflect.DeepEqual(wide, narrow) {
		t.Errorf("state read with room for 1 differs from the state read with room")
	}
	// Room for one is too little for something: a second call was made.
	if calls[uapi.DRM_IOCTL_VERSION] < 2 || calls[uapi.DRM_IOCTL_MODE_GETCONNECTOR] <= len(narrow.Connectors) ||
		calls[uapi.DRM_IOCTL_MODE_OBJ_GETPROPERTIES] <= len(narrow.CRTCs)+len(narrow.Planes) {
		t.Errorf("room for one asked nothing again: %s", ioctlCounts(calls))
	}
}
