package client

import (
	"errors"
	"fmt"
	"image"
	"strconv"
	"strings"
	"sync"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/kerror"
)

// CRTCID identifies a CRTC (a scanout engine producing one video signal).
type CRTCID uint32

// PlaneID identifies a plane (a layer a CRTC composes from a framebuffer).
type PlaneID uint32

// ConnectorID identifies a connector (a display output such as VGA-1).
type ConnectorID uint32

// EncoderID identifies an encoder (what routes a CRTC to a connector).
type EncoderID uint32

// FBID identifies a framebuffer registered with ADDFB2.
type FBID uint32

// PropertyID identifies a KMS property.
type PropertyID uint32

// BlobID identifies a property blob.
type BlobID uint32

// Handle is a GEM handle: a buffer object's name within one open device file.
type Handle uint32

// ObjectType is the kind of a KMS mode object, for reading its properties.
type ObjectType int

// Mode object kinds.
const (
	ObjectCRTC ObjectType = iota + 1
	ObjectConnector
	ObjectEncoder
	ObjectPlane
	ObjectFB
)

// Object is a KMS mode object that carries properties: a CRTCID, PlaneID,
// ConnectorID, EncoderID or FBID.
type Object interface {
	// Object returns the object's id and kind.
	Object() (id uint32, kind ObjectType)
}

// Object returns the CRTC's id and kind.
func (id CRTCID) Object() (uint32, ObjectType) { return uint32(id), ObjectCRTC }

// Object returns the plane's id and kind.
func (id PlaneID) Object() (uint32, ObjectType) { return uint32(id), ObjectPlane }

// Object returns the connector's id and kind.
func (id ConnectorID) Object() (uint32, ObjectType) { return uint32(id), ObjectConnector }

// Object returns the encoder's id and kind.
func (id EncoderID) Object() (uint32, ObjectType) { return uint32(id), ObjectEncoder }

// Object returns the framebuffer's id and kind.
func (id FBID) Object() (uint32, ObjectType) { return uint32(id), ObjectFB }

// Format is a DRM fourcc pixel format code (DRM_FORMAT_*).
type Format uint32

// FormatXRGB8888 is the format every KMS driver scans out: 32 bits per
// pixel, B, G, R, X bytes in memory.
const FormatXRGB8888 Format = 'X' | 'R'<<8 | '2'<<16 | '4'<<24

// String names the format as the kernel header does ("XRGB8888"), else by
// its four characters, else in hex.
func (f Format) String() string {
	if n := formatName(uint32(f)); n != "" {
		return n
	}
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("0x%08x", uint32(f))
		}
	}
	return string(b)
}

// Fourcc returns the format's four characters ("XR24"), as drm_info prints them.
func (f Format) Fourcc() string {
	return string([]byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)})
}

// BytesPerPixel returns the size of one pixel of the single-plane RGB
// formats this project draws (8, 16, 24 or 32 bits), or 0 if unknown.
func (f Format) BytesPerPixel() int {
	switch f.Fourcc() {
	case "XR24", "AR24", "XB24", "AB24", "RX24", "BX24", "RA24", "BA24", "XR30", "AR30", "XB30", "AB30":
		return 4
	case "RG24", "BG24":
		return 3
	case "RG16", "BG16", "XR15", "AR15", "XB15", "AB15":
		return 2
	case "C8  ", "R8  ", "RGB8":
		return 1
	}
	return 0
}

// ParseFormat reads a format given by its kernel name ("XRGB8888",
// "DRM_FORMAT_XRGB8888", case-insensitive), its fourcc ("XR24") or a number
// ("0x34325258").
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return 0, errors.New("parse format: empty string")
	}
	if c, ok := formatByName(strings.ToUpper(s)); ok {
		return Format(c), nil
	}
	if len(s) == 4 {
		f := Format(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24)
		if formatName(uint32(f)) != "" {
			return f, nil
		}
	}
	if v, err := strconv.ParseUint(s, 0, 32); err == nil && (strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")) {
		return Format(v), nil
	}
	return 0, fmt.Errorf("parse format %q: not a DRM format name, fourcc or 0x number", s)
}

// Modifier is a DRM format modifier (DRM_FORMAT_MOD_*): the memory layout
// of a framebuffer beyond its format (linear, tiled, compressed).
type Modifier uint64

// Modifiers every driver understands.
const (
	// ModifierLinear is DRM_FORMAT_MOD_LINEAR: rows one after another.
	ModifierLinear Modifier = 0
	// ModifierInvalid is DRM_FORMAT_MOD_INVALID: "no modifier given", for
	// AddFB without DRM_MODE_FB_MODIFIERS.
	ModifierInvalid Modifier = 1<<56 - 1
)

// String names the modifier ("LINEAR", "INVALID", "I915_FORMAT_MOD_X_TILED"),
// else vendor and value in hex.
func (m Modifier) String() string {
	if m == ModifierInvalid {
		return "INVALID"
	}
	if n := modifierName(uint64(m)); n != "" {
		return n
	}
	vendor := modifierVendorName(uint8(m >> 56))
	if vendor == "" {
		vendor = fmt.Sprintf("vendor 0x%02x", uint8(m>>56))
	}
	return fmt.Sprintf("%s:0x%x", vendor, uint64(m)&(1<<56-1))
}

// DriverInfo is what DRM_IOCTL_VERSION says about the driver.
type DriverInfo struct {
	Name                string // "cirrus", "bochs-drm", "virtio_gpu"
	Desc                string
	Date                string
	Major, Minor, Patch int
}

// String is "name major.minor.patch (desc)".
func (d DriverInfo) String() string {
	return fmt.Sprintf("%s %d.%d.%d (%s)", d.Name, d.Major, d.Minor, d.Patch, d.Desc)
}

// Caps are the device capabilities read with DRM_IOCTL_GET_CAP. A
// capability the kernel does not know reads as zero.
type Caps struct {
	DumbBuffer         bool   // DRM_CAP_DUMB_BUFFER
	PrimeImport        bool   // DRM_CAP_PRIME & DRM_PRIME_CAP_IMPORT
	PrimeExport        bool   // DRM_CAP_PRIME & DRM_PRIME_CAP_EXPORT
	PreferredDepth     uint64 // DRM_CAP_DUMB_PREFERRED_DEPTH
	PreferShadow       bool   // DRM_CAP_DUMB_PREFER_SHADOW
	AddFB2Modifiers    bool   // DRM_CAP_ADDFB2_MODIFIERS
	CRTCInVBlankEvent  bool   // DRM_CAP_CRTC_IN_VBLANK_EVENT
	AsyncPageFlip      bool   // DRM_CAP_ASYNC_PAGE_FLIP
	AtomicAsyncFlip    bool   // DRM_CAP_ATOMIC_ASYNC_PAGE_FLIP
	TimestampMonotonic bool   // DRM_CAP_TIMESTAMP_MONOTONIC
	CursorWidth        uint64 // DRM_CAP_CURSOR_WIDTH
	CursorHeight       uint64 // DRM_CAP_CURSOR_HEIGHT
}

// Options tune Open.
type Options struct {
	// Legacy keeps the device on the legacy KMS ioctls (SETCRTC,
	// PAGE_FLIP, DIRTYFB) even when the driver supports atomic commits.
	Legacy bool
}

// Device is one open DRM device node, as an in-kernel client
// (drm_client_dev) holds it. It owns the device file; Close releases it
// and every mode blob the Device created.
type Device struct {
	path      string
	fd        int
	driver    DriverInfo
	caps      Caps // read at the first Caps call
	capsRead  bool
	universal bool
	atomic    bool

	mu      sync.Mutex
	closed  bool
	noDirty bool // DIRTYFB answered ENOSYS: the driver needs none

	// scratch holds what a steady frame's commit needs, reused so that
	// flips, damage flushes and event reads allocate nothing.
	scratch   commitScratch
	modeBlobs map[CRTCID]BlobID  // mode blob each CRTC was last set to by us
	propIDs   map[uint32]propMap // property ids by object id, cached
	// props are the descriptions of the properties read so far, by id:
	// a property is one device-wide object that every plane, CRTC or
	// connector carrying it shares (FB_ID, CRTC_ID, SRC_X, type), and
	// its name, flags, range and enums stay as they are for the
	// device's life. Values are read anew each time.
	props map[PropertyID]*Property
}

type propMap map[string]PropertyID

// Path returns the device node the Device was opened from.
func (d *Device) Path() string { return d.path }

// Fd returns the device file descriptor, owned by d; it is -1 after Close.
func (d *Device) Fd() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return -1
	}
	return d.fd
}

// Driver returns what the driver said about itself.
func (d *Device) Driver() DriverInfo { return d.driver }

// Caps returns the device capabilities. They are read from the kernel at
// the first call, not by Open: nothing on the way to a first frame asks
// for them. A Device closed before that call has none (all zero).
func (d *Device) Caps() Caps {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.capsRead && !d.closed {
		d.caps = d.readCaps()
		d.capsRead = true
	}
	return d.caps
}

// Atomic reports whether commits use the atomic API.
func (d *Device) Atomic() bool { return d.atomic }

// UniversalPlanes reports whether the DRM_CLIENT_CAP_UNIVERSAL_PLANES
// client capability was accepted (primary and cursor planes are listed).
func (d *Device) UniversalPlanes() bool { return d.universal }

// Resources are the mode objects GETRESOURCES lists. The order of CRTCs is
// their index in possible_crtcs bitmasks.
type Resources struct {
	CRTCs                []CRTCID
	Connectors           []ConnectorID
	Encoders             []EncoderID
	FBs                  []FBID
	MinWidth, MaxWidth   int
	MinHeight, MaxHeight int
}

// State is everything Probe read: the device's mode objects.
type State struct {
	Resources  *Resources
	Connectors []*Connector
	Encoders   []*Encoder
	CRTCs      []*CRTC
	Planes     []*Plane
}

// ConnectorStatus is whether a display is attached to a connector.
type ConnectorStatus int

// Connector states, as the kernel numbers them.
const (
	Connected         ConnectorStatus = 1
	Disconnected      ConnectorStatus = 2
	UnknownConnection ConnectorStatus = 3
)

// String is "connected", "disconnected" or "unknown".
func (s ConnectorStatus) String() string {
	switch s {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	}
	return "unknown"
}

// Mode is one display timing (struct drm_mode_modeinfo).
type Mode struct {
	Clock                                         uint32 // pixel clock in kHz
	HDisplay, HSyncStart, HSyncEnd, HTotal, HSkew uint16
	VDisplay, VSyncStart, VSyncEnd, VTotal, VScan uint16
	VRefresh                                      uint32 // Hz, as the kernel rounds it
	Flags                                         uint32 // DRM_MODE_FLAG_*
	Type                                          uint32 // DRM_MODE_TYPE_*
	Name                                          string
}

// Mode flags and types this package interprets (values of the kernel ABI).
const (
	modeFlagInterlace = 1 << 4 // DRM_MODE_FLAG_INTERLACE
	modeFlagDblScan   = 1 << 5 // DRM_MODE_FLAG_DBLSCAN
	modeTypePreferred = 1 << 3 // DRM_MODE_TYPE_PREFERRED
)

// Width is the number of visible pixels in a line.
func (m Mode) Width() int { return int(m.HDisplay) }

// Height is the number of visible lines.
func (m Mode) Height() int { return int(m.VDisplay) }

// Size is the visible area as a rectangle at the origin.
func (m Mode) Size() image.Rectangle { return image.Rect(0, 0, int(m.HDisplay), int(m.VDisplay)) }

// Preferred reports whether the display prefers this mode.
func (m Mode) Preferred() bool { return m.Type&modeTypePreferred != 0 }

// RefreshMilliHz is the refresh rate in thousandths of a hertz computed from
// the timings (as drm_mode_vrefresh does), or from VRefresh if they are
// incomplete.
func (m Mode) RefreshMilliHz() int {
	if m.HTotal == 0 || m.VTotal == 0 {
		return int(m.VRefresh) * 1000
	}
	num := uint64(m.Clock) * 1000 * 1000
	den := uint64(m.HTotal) * uint64(m.VTotal)
	if m.Flags&modeFlagInterlace != 0 {
		num *= 2
	}
	if m.Flags&modeFlagDblScan != 0 {
		den *= 2
	}
	if m.VScan > 1 {
		den *= uint64(m.VScan)
	}
	return int((num + den/2) / den)
}

// RefreshHz is the refresh rate rounded to whole hertz.
func (m Mode) RefreshHz() int { return (m.RefreshMilliHz() + 500) / 1000 }

// String is "1024x768@60.00" (with "i" after the height for interlaced).
func (m Mode) String() string {
	i := ""
	if m.Flags&modeFlagInterlace != 0 {
		i = "i"
	}
	r := m.RefreshMilliHz()
	return fmt.Sprintf("%dx%d%s@%d.%02d", m.HDisplay, m.VDisplay, i, r/1000, r%1000/10)
}

// ParseModeSize reads a "WxH" mode size, as given to the --mode flag.
func ParseModeSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w <= 0 || h <= 0 {
		return 0, 0, fmt.Errorf("parse mode %q: want WIDTHxHEIGHT, like 1024x768", s)
	}
	return w, h, nil
}

// PickMode chooses from modes: the first of size w×h when w and h are not
// zero (preferring a preferred one, then the highest refresh), else the
// preferred mode, else the first. It fails when modes is empty or no mode
// has the size asked for, listing the sizes there are.
func PickMode(modes []Mode, w, h int) (Mode, error) {
	if len(modes) == 0 {
		return Mode{}, errors.New("pick mode: the connector lists no modes")
	}
	if w == 0 && h == 0 {
		for _, m := range modes {
			if m.Preferred() {
				return m, nil
			}
		}
		return modes[0], nil
	}
	best := -1
	for i, m := range modes {
		if m.Width() != w || m.Height() != h {
			continue
		}
		switch {
		case best < 0:
			best = i
		case m.Preferred() && !modes[best].Preferred():
			best = i
		case m.Preferred() == modes[best].Preferred() && m.RefreshMilliHz() > modes[best].RefreshMilliHz():
			best = i
		}
	}
	if best >= 0 {
		return modes[best], nil
	}
	var have []string
	seen := map[string]bool{}
	for _, m := range modes {
		s := fmt.Sprintf("%dx%d", m.Width(), m.Height())
		if !seen[s] {
			seen[s] = true
			have = append(have, s)
		}
	}
	return Mode{}, fmt.Errorf("pick mode: no %dx%d mode (have %s)", w, h, strings.Join(have, ", "))
}

// PropertyKind is the type of a KMS property's value.
type PropertyKind int

// Property kinds (DRM_MODE_PROP_RANGE, _ENUM, ...).
const (
	PropRange PropertyKind = iota + 1
	PropSignedRange
	PropEnum
	PropBitmask
	PropBlob
	PropObject
)

// String names the kind as drm_info does.
func (k PropertyKind) String() string {
	switch k {
	case PropRange:
		return "range"
	case PropSignedRange:
		return "signed range"
	case PropEnum:
		return "enum"
	case PropBitmask:
		return "bitmask"
	case PropBlob:
		return "blob"
	case PropObject:
		return "object"
	}
	return "unknown"
}

// EnumValue is one named value of an enum or bitmask property. For a
// bitmask, Value is the bit number.
type EnumValue struct {
	Name  string
	Value uint64
}

// Property describes a KMS property (DRM_IOCTL_MODE_GETPROPERTY).
type Property struct {
	ID        PropertyID
	Name      string
	Kind      PropertyKind
	Immutable bool // only the kernel sets it
	Atomic    bool // only visible to atomic clients
	Flags     uint32
	// Min and Max bound a range (as int64 bits for a signed range).
	Min, Max uint64
	// Enums are the values of an enum or bitmask property.
	Enums []EnumValue
	// ObjectType is the object kind for an object property (a
	// DRM_MODE_OBJECT_* value).
	ObjectType uint32
}

// EnumName returns the name of an enum value, or "".
func (p *Property) EnumName(v uint64) string {
	for _, e := range p.Enums {
		if e.Value == v {
			return e.Name
		}
	}
	return ""
}

// EnumValue returns the value of an enum property's named value.
func (p *Property) EnumValue(name string) (uint64, bool) {
	for _, e := range p.Enums {
		if e.Name == name {
			return e.Value, true
		}
	}
	return 0, false
}

// PropertyValue is a property of an object together with its current value.
type PropertyValue struct {
	*Property
	Value uint64
}

// Properties are an object's properties by name.
type Properties map[string]PropertyValue

// ID returns the id of the named property, or 0 when the object lacks it.
func (p Properties) ID(name string) PropertyID {
	if v, ok := p[name]; ok {
		return v.Property.ID
	}
	return 0
}

// Connector is a display output and what is attached to it.
type Connector struct {
	ID ConnectorID
	// Name is the kernel's name: type and index, like "VGA-1" or "Virtual-1".
	Name      string
	Type      uint32 // DRM_MODE_CONNECTOR_*
	TypeIndex uint32
	Status    ConnectorStatus
	Modes     []Mode
	// WidthMM and HeightMM are the physical size of the display.
	WidthMM, HeightMM int
	Subpixel          uint32
	Encoder           EncoderID   // current encoder, or 0
	Encoders          []EncoderID // possible encoders
	// EDID is the display's EDID blob, or nil (also when the connector
	// was read with ConnectorCurrent: Device.EDID reads it then).
	EDID []byte
	// PanelOrientation is the "panel orientation" property's value name
	// ("Normal", "Upside Down", "Left Side Up", "Right Side Up"), or "".
	PanelOrientation string
	Props            Properties
}

// Encoder routes a CRTC to connectors.
type Encoder struct {
	ID             EncoderID
	Type           uint32 // DRM_MODE_ENCODER_*
	CRTC           CRTCID // current CRTC, or 0
	PossibleCRTCs  uint32 // bitmask of CRTC indices
	PossibleClones uint32
}

// CRTC is a scanout engine.
type CRTC struct {
	ID        CRTCID
	Index     int // position in GETRESOURCES, the bit in possible_crtcs masks
	FB        FBID
	X, Y      int
	Mode      Mode
	ModeValid bool
	GammaSize int
	Props     Properties
}

// PlaneType is whether a plane is a CRTC's primary plane, an overlay or a cursor.
type PlaneType int

// Plane types, as the "type" property names them.
const (
	PlaneOverlay PlaneType = iota
	PlanePrimary
	PlaneCursor
)

// String is "Overlay", "Primary" or "Cursor".
func (t PlaneType) String() string {
	switch t {
	case PlanePrimary:
		return "Primary"
	case PlaneCursor:
		return "Cursor"
	}
	return "Overlay"
}

// Plane is a layer a CRTC composes from a framebuffer.
type Plane struct {
	ID            PlaneID
	Type          PlaneType
	CRTC          CRTCID // current CRTC, or 0
	FB            FBID   // current framebuffer, or 0
	PossibleCRTCs uint32 // bitmask of CRTC indices
	Formats       []Format
	// Modifiers are the modifiers each format supports, from the
	// IN_FORMATS blob; nil when the plane has none.
	Modifiers map[Format][]Modifier
	// Rotations is the bitmask of supported DRM_MODE_ROTATE_* and
	// DRM_MODE_REFLECT_* values, or 0 without a "rotation" property.
	Rotations uint64
	// DamageClips reports whether the plane takes FB_DAMAGE_CLIPS.
	DamageClips bool
	Props       Properties
}

// SupportsFormat reports whether the plane scans out format f.
func (p *Plane) SupportsFormat(f Format) bool {
	for _, g := range p.Formats {
		if g == f {
			return true
		}
	}
	return false
}

// Output is a display path: a connector, the CRTC driving it, the CRTC's
// primary plane and the mode to set.
type Output struct {
	Connector *Connector
	CRTC      *CRTC
	Plane     *Plane
	Encoder   *Encoder
	Mode      Mode
}

// String is "VGA-1 1024x768@60.00 (crtc 35, plane 33)".
func (o *Output) String() string {
	return fmt.Sprintf("%s %s (crtc %d, plane %d)", o.Connector.Name, o.Mode, o.CRTC.ID, o.Plane.ID)
}

// OutputRequest says which output SelectOutput should choose. The zero
// value takes the first connected connector and its preferred mode.
type OutputRequest struct {
	// Connector names the connector ("VGA-1"); "" takes the first connected one.
	Connector string
	// Width and Height choose a mode by size; zero takes the preferred mode.
	Width, Height int
}

// FB owns a framebuffer id made by AddFB (a struct drm_framebuffer of the
// device, not fbemu's fbdev emulation). Close removes it (RMFB);
// CloseRetained lets go of it but leaves it on the plane showing it
// (CLOSEFB). Once either succeeded, both return nil and do nothing.
type FB struct {
	dev           *Device
	id            FBID
	Width, Height int
	Format        Format
	Modifier      Modifier
	Pitch         uint32
	mu            sync.Mutex
	gone          bool
}

// ID returns the framebuffer id, valid until Close or CloseRetained.
func (fb *FB) ID() FBID { return fb.id }

// Bounds is the framebuffer's area.
func (fb *FB) Bounds() image.Rectangle { return image.Rect(0, 0, fb.Width, fb.Height) }

// GEM owns one GEM handle of a Device: a buffer object imported with
// ImportDmaBuf. Close releases the handle (GEM_CLOSE); later calls return
// nil and do nothing. A framebuffer made from the handle holds its own
// reference to the buffer object and outlives the handle.
type GEM struct {
	dev    *Device
	handle Handle
	mu     sync.Mutex
	closed bool
}

// Handle returns the GEM handle, valid until Close; 0 after it.
func (g *GEM) Handle() Handle {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0
	}
	return g.handle
}

// Dumb owns a dumb buffer: a buffer object the driver allocates for CPU
// drawing (DRM_IOCTL_MODE_CREATE_DUMB). Close destroys it (DESTROY_DUMB);
// later calls return nil and do nothing.
type Dumb struct {
	dev    *Device
	Handle Handle
	Pitch  uint32
	Size   uint64
	Width  int
	Height int
	Bpp    int
	mu     sync.Mutex
	gone   bool
}

// FBInfo is what GETFB2 says about a framebuffer. Its Handles are GEM
// handles opened in the reading process, which the FBInfo owns: Close
// closes them, and later calls return nil and do nothing.
type FBInfo struct {
	ID            FBID
	Width, Height int
	Format        Format
	Flags         uint32
	Handles       [4]Handle
	Pitches       [4]uint32
	Offsets       [4]uint32
	Modifier      Modifier // ModifierInvalid without DRM_MODE_FB_MODIFIERS
	dev           *Device
	closed        bool
}

// FlipFlags tune Flip.
type FlipFlags uint32

// Flip flags.
const (
	// FlipEvent asks for a flip-complete event (see ReadEvents, WaitFlip).
	FlipEvent FlipFlags = 1 << iota
	// FlipAsync asks for a flip without waiting for vblank (tearing).
	FlipAsync
)

// EventType is the kind of a DRM event.
type EventType uint32

// DRM event kinds (DRM_EVENT_*).
const (
	EventVBlank       EventType = 1
	EventFlipComplete EventType = 2
)

// String is "vblank" or "flip complete".
func (t EventType) String() string {
	switch t {
	case EventVBlank:
		return "vblank"
	case EventFlipComplete:
		return "flip complete"
	}
	return fmt.Sprintf("event %d", uint32(t))
}

// Event is a vblank or flip-complete event read from the device.
type Event struct {
	Type     EventType
	Sequence uint32 // vblank counter
	// Sec and Usec are the vblank time (CLOCK_MONOTONIC when
	// Caps.TimestampMonotonic).
	Sec, Usec uint32
	CRTC      CRTCID // 0 without Caps.CRTCInVBlankEvent
	UserData  uint64 // for flips made by this package: the new framebuffer id
}

// Source is where NewScanout takes its buffer from.
type Source int

// Buffer sources.
const (
	// SourceAuto tries the heaps (in the heap rule's order for the
	// device), then udmabuf, then a dumb buffer.
	SourceAuto Source = iota
	// SourceHeap takes a DMA-BUF heap buffer imported over PRIME.
	SourceHeap
	// SourceUdmabuf takes a udmabuf (memfd pages) imported over PRIME.
	SourceUdmabuf
	// SourceDumb takes a dumb buffer of the KMS device.
	SourceDumb
)

// String is the name ParseSource reads.
func (s Source) String() string {
	switch s {
	case SourceAuto:
		return "auto"
	case SourceHeap:
		return "heap"
	case SourceUdmabuf:
		return "udmabuf"
	case SourceDumb:
		return "dumb"
	}
	return fmt.Sprintf("source %d", int(s))
}

// ParseSource reads the --buffer flag: auto, heap, udmabuf or dumb.
func ParseSource(s string) (Source, error) {
	for _, v := range []Source{SourceAuto, SourceHeap, SourceUdmabuf, SourceDumb} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("parse buffer source %q: want auto, heap, udmabuf or dumb", s)
}

// ScanoutOptions tune NewScanout.
type ScanoutOptions struct {
	Source Source
	// Heap names the DMA-BUF heap, the only one tried (--heap); "" tries
	// every heap in the order the heap rule gives for the device
	// (Device.HeapChoice).
	Heap string
}

// Scanout is a CPU-writable buffer wrapped in a framebuffer, ready to be
// shown: the userspace drm_client_buffer. Close releases the framebuffer,
// the GEM handle and the buffer.
type Scanout struct {
	Buffer *access.Buffer
	FB     *FB
	Width  int
	Height int
	Pitch  int
	Format Format
	// Source is the buffer source that worked (never SourceAuto), and
	// Heap the heap's name when it is SourceHeap: more buffers for the
	// same output can go straight there.
	Source Source
	Heap   string
	// Path says which path was taken, like `heap "system", imported via PRIME`.
	Path string
	// Fallbacks has one reason per path tried before and failed, like
	// `heap "system": import refused by pl111: invalid argument`.
	Fallbacks []string
	// Choice is the heap rule's order and reason (Choice.Why) when the
	// heaps were chosen for the device, i.e. no heap was named; its zero
	// value otherwise.
	Choice HeapChoice

	dev    *Device
	gem    *GEM // the imported buffer's handle, for heap and udmabuf
	dumb   *Dumb
	closed bool
}

// ErrNotSupported is matched (errors.Is) by errors for what this kernel,
// driver or device cannot do. It is kerror.ErrNotSupported, so errors of
// every package match it alike (and errors.ErrUnsupported too).
var ErrNotSupported = kerror.ErrNotSupported

// ErrNoDisplay is matched (errors.Is) by SelectOutput's error when no
// connector has a display attached.
var ErrNoDisplay = errors.New("no display connected")

// ErrImportUnsupported is matched by errors of ImportDmaBuf when the
// driver cannot import dma-bufs (EINVAL, ENODEV or EOPNOTSUPP from
// PRIME_FD_TO_HANDLE). It also matches ErrNotSupported.
var ErrImportUnsupported = fmt.Errorf("dma-buf import %w", ErrNotSupported)

// DamageClips prepares damage rectangles for a w×h framebuffer: each is
// clipped to the framebuffer (negative coordinates included), empty ones are
// dropped, and when more than max remain (max <= 0 means the kernel's
// DRM_MODE_FB_DIRTY_MAX_CLIPS, 256) they are merged into their bounding
// box. A nil result means nothing to update.
func DamageClips(w, h int, rects []image.Rectangle, max int) []image.Rectangle {
	return AppendDamageClips(nil, w, h, rects, max)
}

// AppendDamageClips is DamageClips appending to dst, so a caller with a
// buffer of its own allocates nothing.
func AppendDamageClips(dst []image.Rectangle, w, h int, rects []image.Rectangle, max int) []image.Rectangle {
	if max <= 0 {
		max = maxDirtyClips
	}
	bounds := image.Rect(0, 0, w, h)
	start := len(dst)
	for _, r := range rects {
		r = r.Canon().Intersect(bounds)
		if !r.Empty() {
			dst = append(dst, r)
		}
	}
	if len(dst)-start > max {
		u := dst[start]
		for _, r := range dst[start+1:] {
			u = u.Union(r)
		}
		dst = append(dst[:start], u)
	}
	return dst
}

// anyDamage reports whether any of rects covers part of a w x h
// framebuffer.
func anyDamage(w, h int, rects []image.Rectangle) bool {
	bounds := image.Rect(0, 0, w, h)
	for _, r := range rects {
		if !r.Canon().Intersect(bounds).Empty() {
			return true
		}
	}
	return false
}

// maxDirtyClips is DRM_MODE_FB_DIRTY_MAX_CLIPS; a Linux test checks it
// against internal/uapi.
const maxDirtyClips = 256
