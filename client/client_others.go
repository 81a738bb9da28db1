//go:build !linux

package client

import (
	"fmt"
	"image"
	"os"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/kerror"
)

// errNotLinux is what every kernel operation returns off Linux.
func errNotLinux(op string) error {
	return &kerror.Error{Op: op, Device: "DRM device", Err: fmt.Errorf("DRM/KMS needs Linux: %w", os.ErrNotExist)}
}

func formatName(uint32) string           { return "" }
func formatByName(string) (uint32, bool) { return 0, false }
func modifierName(m uint64) string {
	if m == 0 {
		return "LINEAR"
	}
	return ""
}
func modifierVendorName(uint8) string { return "" }

// Open fails off Linux with an error wrapping os.ErrNotExist.
func Open(path string, opts Options) (*Device, error) { return nil, errNotLinux("open") }

// CheckAccess fails off Linux with an error wrapping os.ErrNotExist.
func CheckAccess(path string) error { return errNotLinux("open") }

// Close does nothing off Linux.
func (d *Device) Close() error { return nil }

// SetMaster fails off Linux.
func (d *Device) SetMaster() error { return errNotLinux("set master on") }

// DropMaster fails off Linux.
func (d *Device) DropMaster() error { return errNotLinux("drop master on") }

// Resources fails off Linux.
func (d *Device) Resources() (*Resources, error) { return nil, errNotLinux("list resources of") }

// Property fails off Linux.
func (d *Device) Property(PropertyID) (*Property, error) { return nil, errNotLinux("read property of") }

// Properties fails off Linux.
func (d *Device) Properties(Object) (Properties, error) {
	return nil, errNotLinux("read properties of")
}

// Blob fails off Linux.
func (d *Device) Blob(BlobID) ([]byte, error) { return nil, errNotLinux("read blob of") }

// Connector fails off Linux.
func (d *Device) Connector(ConnectorID) (*Connector, error) {
	return nil, errNotLinux("read connector of")
}

// Encoder fails off Linux.
func (d *Device) Encoder(EncoderID) (*Encoder, error) { return nil, errNotLinux("read encoder of") }

// CRTC fails off Linux.
func (d *Device) CRTC(CRTCID, int) (*CRTC, error) { return nil, errNotLinux("read CRTC of") }

// PlaneIDs fails off Linux.
func (d *Device) PlaneIDs() ([]PlaneID, error) { return nil, errNotLinux("list planes of") }

// Plane fails off Linux.
func (d *Device) Plane(PlaneID) (*Plane, error) { return nil, errNotLinux("read plane of") }

// Probe fails off Linux.
func (d *Device) Probe() (*State, error) { return nil, errNotLinux("probe") }

// ParseEvents fails off Linux.
func ParseEvents([]byte) ([]Event, error) { return nil, errNotLinux("parse events of") }

// ParseInFormats fails off Linux.
func ParseInFormats([]byte) (map[Format][]Modifier, error) {
	return nil, errNotLinux("parse IN_FORMATS of")
}

// ConnectorName is "type<t>-<i>" off Linux.
func ConnectorName(t, i uint32) string { return fmt.Sprintf("type%d-%d", t, i) }

// ImportDmaBuf fails off Linux.
func (d *Device) ImportDmaBuf(int) (*GEM, error) { return nil, errNotLinux("import dma-buf into") }

// Close does nothing off Linux.
func (g *GEM) Close() error { return nil }

// CreateDumb fails off Linux.
func (d *Device) CreateDumb(int, int, int) (*Dumb, error) {
	return nil, errNotLinux("create dumb buffer on")
}

// MapOffset fails off Linux.
func (b *Dumb) MapOffset() (int64, error) { return 0, errNotLinux("map dumb buffer of") }

// Close does nothing off Linux.
func (b *Dumb) Close() error { return nil }

// Buffer fails off Linux.
func (b *Dumb) Buffer() (*access.Buffer, error) { return nil, errNotLinux("map dumb buffer of") }

// AddFB fails off Linux.
func (d *Device) AddFB(int, int, Format, Handle, uint32, uint32, Modifier) (*FB, error) {
	return nil, errNotLinux("add framebuffer on")
}

// Close does nothing off Linux.
func (fb *FB) Close() error { return nil }

// CloseRetained does nothing off Linux.
func (fb *FB) CloseRetained() error { return nil }

// GetFB2 fails off Linux.
func (d *Device) GetFB2(FBID) (*FBInfo, error) { return nil, errNotLinux("read framebuffer of") }

// Close does nothing off Linux.
func (i *FBInfo) Close() error { return nil }

// Modeset fails off Linux.
func (d *Device) Modeset(*Output, *FB) error { return errNotLinux("modeset on") }

// Flip fails off Linux.
func (d *Device) Flip(*Output, *FB, []image.Rectangle, FlipFlags) error {
	return errNotLinux("flip on")
}

// Damage fails off Linux.
func (d *Device) Damage(*Output, *FB, []image.Rectangle) error {
	return errNotLinux("damage on")
}

// DirtyFB fails off Linux.
func (d *Device) DirtyFB(*FB, []image.Rectangle) error { return errNotLinux("dirty on") }

// NeedsNoDirty is false off Linux.
func (d *Device) NeedsNoDirty() bool { return false }

// ReadEvents fails off Linux.
func (d *Device) ReadEvents(func(Event)) error { return errNotLinux("read events of") }

// WaitFlipFor fails off Linux.
func (d *Device) WaitFlipFor(uint64, time.Duration) (Event, error) {
	return Event{}, errNotLinux("wait for a flip on")
}

// WaitFlip fails off Linux.
func (d *Device) WaitFlip(time.Duration) (Event, error) {
	return Event{}, errNotLinux("wait for a flip on")
}

// NewScanout fails off Linux.
func NewScanout(dev *Device, w, h int, f Format, opts ScanoutOptions) (*Scanout, error) {
	return nil, errNotLinux("scanout on")
}

// Close does nothing off Linux.
func (s *Scanout) Close() error { return nil }

// CloseRetained does nothing off Linux.
func (s *Scanout) CloseRetained() error { return nil }

// commitScratch holds a Device's reusable commit memory on Linux.
type commitScratch struct{}

// ProbeCurrent fails off Linux.
func (d *Device) ProbeCurrent() (*State, error) { return nil, errNotLinux("probe") }

// ConnectorCurrent fails off Linux.
func (d *Device) ConnectorCurrent(ConnectorID) (*Connector, error) {
	return nil, errNotLinux("read connector")
}

// Class says nothing off Linux.
func (d *Device) Class() DeviceClass { return DeviceClass{Why: "no sysfs off Linux"} }

// HeapChoice lists no heap off Linux.
func (d *Device) HeapChoice() HeapChoice {
	_, err := access.Heaps()
	return chooseHeaps(d.Class(), nil, err)
}

// TryHeaps tries nothing off Linux.
func (d *Device) TryHeaps(HeapChoice, int) []HeapTrial { return nil }

// readCaps has nothing to read off Linux.
func (d *Device) readCaps() Caps { return Caps{} }

// EDID fails off Linux.
func (d *Device) EDID(c *Connector) ([]byte, error) { return nil, errNotLinux("read EDID of") }
