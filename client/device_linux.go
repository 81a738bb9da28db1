package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/devperm"
	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/kerror"
)

// Open opens the DRM device node at path (like "/dev/dri/card0"), or with
// path "" the first node under /dev/dri that does modesetting (render
// nodes are skipped). It reads the driver's name and turns on the
// universal planes and, unless opts.Legacy, atomic client caps (the
// device's capabilities are read when Caps is first called). A node this
// process may not open gives an error matching fs.ErrPermission
// that shows the node's mode and owner and says how access is granted.
func Open(path string, opts Options) (*Device, error) {
	if path != "" {
		return openPath(path, opts)
	}
	cards := Cards()
	sort.Slice(cards, func(i, j int) bool { return cardLess(cards[i], cards[j]) })
	if len(cards) == 0 {
		return nil, &kerror.Error{Op: "open DRM device", Device: CardPattern, Err: os.ErrNotExist, Hint: "no DRM card node"}
	}
	var errs []error
	for _, c := range cards {
		d, err := openPath(c, opts)
		if err == nil {
			return d, nil
		}
		errs = append(errs, err)
	}
	tried := make([]string, len(errs))
	for i, err := range errs {
		tried[i] = err.Error()
	}
	// A refused node is not an unsupported one: the error matches what
	// each node answered (fs.ErrPermission, ErrNotSupported).
	return nil, &openAllError{msg: "open DRM device: no modesetting node under /dev/dri: " + strings.Join(tried, "; "), errs: errs}
}

// openAllError is Open's error when no card node would do: each node's
// error, joined so that errors.Is sees every one.
type openAllError struct {
	msg  string
	errs []error
}

func (e *openAllError) Error() string   { return e.msg }
func (e *openAllError) Unwrap() []error { return e.errs }

// cardLess orders card2 before card10.
func cardLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func openPath(path string, opts Options) (*Device, error) {
	fd, err := uapi.Open(path, unix.O_RDWR, 0)
	if err != nil {
		return nil, openErr(path, err)
	}
	d := &Device{path: path, fd: fd, modeBlobs: map[CRTCID]BlobID{}, propIDs: map[uint32]propMap{},
		props: map[PropertyID]*Property{}}
	if err := d.init(opts); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return d, nil
}

// CheckAccess reports whether this process may open the DRM node at path
// the way Open does (read-write), by the kernel's own check (ACLs and
// capabilities included) and without opening it. A refusal reads like
// Open's and matches fs.ErrPermission.
func CheckAccess(path string) error {
	if err := devperm.Check(path, devperm.ReadWrite); err != nil {
		return openErr(path, err)
	}
	return nil
}

// openErr is the error of opening the card node at path; a refusal says
// why and what would grant access.
func openErr(path string, err error) error {
	e := &kerror.Error{Op: "open", Device: path, Err: err}
	if devperm.Denied(err) {
		e.Hint = devperm.Explain(path, cardNeed(path))
	}
	return e
}

// cardNeed says what showing a splash needs of the card node at path, and
// why its render node will not do.
func cardNeed(path string) devperm.Need {
	why := "mode setting, planes and DRM master are only on the primary node, not on render nodes (/dev/dri/renderD*), which a non-root user can usually open"
	if r := renderNodeOf(path); r != "" {
		why = "mode setting, planes and DRM master are only on the primary node, not on its render node " + r + ", which a non-root user can usually open"
	}
	return devperm.Need{
		Access: devperm.ReadWrite,
		For:    "showing a splash",
		Why:    why,
		Seat:   true,
		Rule:   `SUBSYSTEM=="drm", KERNEL=="card[0-9]*", GROUP="video", MODE="0660"`,
	}
}

// renderNodeOf finds the render node of the device whose primary node is
// path (through sysfs: /sys/dev/char/MAJ:MIN/device/drm/renderD*), or "".
func renderNodeOf(path string) string {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return ""
	}
	dir := fmt.Sprintf("/sys/dev/char/%d:%d/device/drm", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	nodes, _ := filepath.Glob(filepath.Join(dir, "renderD*"))
	if len(nodes) == 0 {
		return ""
	}
	sort.Slice(nodes, func(i, j int) bool { return cardLess(nodes[i], nodes[j]) })
	return "/dev/dri/" + filepath.Base(nodes[0])
}

func (d *Device) init(opts Options) error {
	v, err := d.version()
	if err != nil {
		return err
	}
	d.driver = v
	// A node that cannot list resources does no modesetting (a render
	// node, or a render-only driver like vgem).
	var res uapi.ModeCardRes
	if err := d.ioctl(uapi.DRM_IOCTL_MODE_GETRESOURCES, unsafe.Pointer(&res)); err != nil {
		return &kerror.Error{Op: "list KMS resources of", Device: d.path + " (" + v.Name + ")", Err: err,
			Hint: "not a modesetting device", Kind: ErrNotSupported}
	}
	if res.Count_crtcs == 0 || res.Count_connectors == 0 {
		return &kerror.Error{Op: "list KMS resources of", Device: d.path + " (" + v.Name + ")",
			Err: errors.New("no CRTCs or connectors"), Kind: ErrNotSupported}
	}
	d.universal = d.setClientCap(uapi.DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) == nil
	if !opts.Legacy && d.universal {
		d.atomic = d.setClientCap(uapi.DRM_CLIENT_CAP_ATOMIC, 1) == nil
	}
	return nil
}

func (d *Device) ioctl(req uint, arg unsafe.Pointer) error {
	return uapi.Ioctl(d.fd, req, arg)
}

// err makes a *kerror.Error naming the driver.
func (d *Device) err(op string, err error) *kerror.Error {
	return &kerror.Error{Op: op, Device: d.name(), Err: err}
}

func (d *Device) name() string {
	if d.driver.Name != "" {
		return d.driver.Name
	}
	return d.path
}

// versionGuess is how long a driver's name, date and description may be
// for the first DRM_IOCTL_VERSION to read them all ("virtio_gpu",
// "20180508"...); a longer one is asked again with its own lengths.
var versionGuess = 64

// version reads the driver's name and version: one DRM_IOCTL_VERSION,
// a second when a string outgrew versionGuess.
func (d *Device) version() (DriverInfo, error) {
	var v uapi.DrmVersion
	// The lengths are size_t, 32 bits on 32-bit machines: want keeps
	// them in their own type.
	var want uapi.DrmVersion
	setSize(&want.Name_len, versionGuess)
	want.Date_len, want.Desc_len = want.Name_len, want.Name_len
	for try := 0; try < maxRetries; try++ {
		name := make([]byte, want.Name_len+1)
		date := make([]byte, want.Date_len+1)
		desc := make([]byte, want.Desc_len+1)
		v = uapi.DrmVersion{Name_len: want.Name_len, Date_len: want.Date_len, Desc_len: want.Desc_len}
		// The fields are char *: *int8 on amd64 and 386, *uint8 on arm,
		// arm64 and riscv64.
		*(*unsafe.Pointer)(unsafe.Pointer(&v.Name)) = unsafe.Pointer(&name[0])
		*(*unsafe.Pointer)(unsafe.Pointer(&v.Date)) = unsafe.Pointer(&date[0])
		*(*unsafe.Pointer)(unsafe.Pointer(&v.Desc)) = unsafe.Pointer(&desc[0])
		err := d.ioctl(uapi.DRM_IOCTL_VERSION, unsafe.Pointer(&v))
		runtime.KeepAlive(name)
		runtime.KeepAlive(date)
		runtime.KeepAlive(desc)
		if err != nil {
			return DriverInfo{}, &kerror.Error{Op: "read driver version of", Device: d.path, Err: err}
		}
		if v.Name_len > want.Name_len || v.Date_len > want.Date_len || v.Desc_len > want.Desc_len {
			// Cut short: ask again with room for all.
			want.Name_len, want.Date_len, want.Desc_len = max(want.Name_len, v.Name_len), max(want.Date_len, v.Date_len), max(want.Desc_len, v.Desc_len)
			continue
		}
		return DriverInfo{
			Name:  cstr(name[:v.Name_len]),
			Date:  cstr(date[:v.Date_len]),
			Desc:  cstr(desc[:v.Desc_len]),
			Major: int(v.Version_major), Minor: int(v.Version_minor), Patch: int(v.Version_patchlevel),
		}, nil
	}
	return DriverInfo{}, &kerror.Error{Op: "read driver version of", Device: d.path, Err: errors.New("lengths kept changing")}
}

// setSize sets a size_t field, 64 or 32 bits by the machine.
func setSize[T ~uint32 | ~uint64](p *T, n int) { *p = T(n) }

// cstr converts a kernel char array, stopping at the first NUL.
// cchar is C's char as cgo -godefs writes it: int8 on amd64, uint8 on
// arm64, where char is unsigned.
type cchar interface{ ~int8 | ~uint8 }

// cstr reads a NUL-terminated C string from a char array.
func cstr[C cchar](b []C) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func (d *Device) getCap(c uint64) uint64 {
	g := uapi.DrmGetCap{Capability: c}
	if d.ioctl(uapi.DRM_IOCTL_GET_CAP, unsafe.Pointer(&g)) != nil {
		return 0
	}
	return g.Value
}

// readCaps asks the kernel for every capability in Caps.
func (d *Device) readCaps() Caps {
	prime := d.getCap(uapi.DRM_CAP_PRIME)
	return Caps{
		DumbBuffer:         d.getCap(uapi.DRM_CAP_DUMB_BUFFER) != 0,
		PrimeImport:        prime&uapi.DRM_PRIME_CAP_IMPORT != 0,
		PrimeExport:        prime&uapi.DRM_PRIME_CAP_EXPORT != 0,
		PreferredDepth:     d.getCap(uapi.DRM_CAP_DUMB_PREFERRED_DEPTH),
		PreferShadow:       d.getCap(uapi.DRM_CAP_DUMB_PREFER_SHADOW) != 0,
		AddFB2Modifiers:    d.getCap(uapi.DRM_CAP_ADDFB2_MODIFIERS) != 0,
		CRTCInVBlankEvent:  d.getCap(uapi.DRM_CAP_CRTC_IN_VBLANK_EVENT) != 0,
		AsyncPageFlip:      d.getCap(uapi.DRM_CAP_ASYNC_PAGE_FLIP) != 0,
		AtomicAsyncFlip:    d.getCap(uapi.DRM_CAP_ATOMIC_ASYNC_PAGE_FLIP) != 0,
		TimestampMonotonic: d.getCap(uapi.DRM_CAP_TIMESTAMP_MONOTONIC) != 0,
		CursorWidth:        d.getCap(uapi.DRM_CAP_CURSOR_WIDTH),
		CursorHeight:       d.getCap(uapi.DRM_CAP_CURSOR_HEIGHT),
	}
}

func (d *Device) setClientCap(c, v uint64) error {
	s := uapi.DrmSetClientCap{Capability: c, Value: v}
	return d.ioctl(uapi.DRM_IOCTL_SET_CLIENT_CAP, unsafe.Pointer(&s))
}

// Close destroys the mode blobs the Device created and closes the device
// file. Framebuffers and GEM handles still open go with the file, as the
// kernel releases them at close. Closing again does nothing.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	for crtc, b := range d.modeBlobs {
		d.destroyBlob(b)
		delete(d.modeBlobs, crtc)
	}
	if err := unix.Close(d.fd); err != nil {
		return d.err("close", err)
	}
	return nil
}

// SetMaster makes this file the DRM master, which modesetting needs. It
// fails with EBUSY while another process (a compositor, another splash) is
// master.
func (d *Device) SetMaster() error {
	if err := d.ioctl(uapi.DRM_IOCTL_SET_MASTER, nil); err != nil {
		return d.masterErr("set master on", err)
	}
	return nil
}

// DropMaster gives up DRM master, so another process can take the display.
func (d *Device) DropMaster() error {
	if err := d.ioctl(uapi.DRM_IOCTL_DROP_MASTER, nil); err != nil {
		return d.masterErr("drop master on", err)
	}
	return nil
}

func (d *Device) masterErr(op string, err error) error {
	e := &kerror.Error{Op: op, Device: d.path, Err: err}
	switch {
	case errors.Is(err, unix.EBUSY):
		e.Hint = "another process is DRM master"
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		e.Hint = "needs root or CAP_SYS_ADMIN, or to be the first opener"
	case errors.Is(err, unix.EINVAL):
		e.Hint = "not master"
	}
	return e
}
