package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// maxRetries bounds the two-pass reads that start over when the kernel's
// counts grew between the passes (hotplug).
const maxRetries = 8

// resGuess is how many ids of each kind (CRTCs, connectors, encoders,
// framebuffers, planes) the first GETRESOURCES or GETPLANERESOURCES makes
// room for, so that one call answers; a device with more is asked again
// with its own counts.
var resGuess uint32 = 16

// Resources lists the device's CRTCs, connectors, encoders and framebuffers
// (one GETRESOURCES, a second when one list outgrows resGuess).
func (d *Device) Resources() (*Resources, error) {
	var want uapi.ModeCardRes
	want.Count_fbs, want.Count_crtcs, want.Count_connectors, want.Count_encoders = resGuess, resGuess, resGuess, resGuess
	for try := 0; try < maxRetries; try++ {
		r := want
		fbs := make([]FBID, r.Count_fbs)
		crtcs := make([]CRTCID, r.Count_crtcs)
		conns := make([]ConnectorID, r.Count_connectors)
		encs := make([]EncoderID, r.Count_encoders)
		r.Fb_id_ptr = uapi.SlicePointer(fbs)
		r.Crtc_id_ptr = uapi.SlicePointer(crtcs)
		r.Connector_id_ptr = uapi.SlicePointer(conns)
		r.Encoder_id_ptr = uapi.SlicePointer(encs)
		err := d.ioctl(uapi.DRM_IOCTL_MODE_GETRESOURCES, unsafe.Pointer(&r))
		runtime.KeepAlive(fbs)
		runtime.KeepAlive(crtcs)
		runtime.KeepAlive(conns)
		runtime.KeepAlive(encs)
		if err != nil {
			return nil, d.err("list KMS resources of", err)
		}
		if r.Count_fbs > want.Count_fbs || r.Count_crtcs > want.Count_crtcs ||
			r.Count_connectors > want.Count_connectors || r.Count_encoders > want.Count_encoders {
			// A list copied in part: ask again with room for all.
			want.Count_fbs = max(want.Count_fbs, r.Count_fbs)
			want.Count_crtcs = max(want.Count_crtcs, r.Count_crtcs)
			want.Count_connectors = max(want.Count_connectors, r.Count_connectors)
			want.Count_encoders = max(want.Count_encoders, r.Count_encoders)
			continue
		}
		return &Resources{
			CRTCs: crtcs[:r.Count_crtcs], Connectors: conns[:r.Count_connectors],
			Encoders: encs[:r.Count_encoders], FBs: fbs[:r.Count_fbs],
			MinWidth: int(r.Min_width), MaxWidth: int(r.Max_width),
			MinHeight: int(r.Min_height), MaxHeight: int(r.Max_height),
		}, nil
	}
	return nil, d.err("list KMS resources of", errors.New("counts kept changing"))
}

// propGuess is how many values and enum entries the first GETPROPERTY
// makes room for. Most properties have fewer (a range has two values, an
// enum a handful), so one call answers them; a larger one is asked again
// with its own counts.
var propGuess uint32 = 8

// Property reads one property's description (GETPROPERTY, once for most
// properties, twice for one with more than propGuess values or enums).
func (d *Device) Property(id PropertyID) (*Property, error) {
	op := fmt.Sprintf("read property %d of", id)
	nv, ne := propGuess, propGuess
	for try := 0; try < maxRetries; try++ {
		values := make([]uint64, nv)
		enums := make([]uapi.ModePropertyEnum, ne)
		g := uapi.ModeGetProperty{Prop_id: uint32(id), Count_values: nv, Count_enum_blobs: ne,
			Values_ptr: uapi.SlicePointer(values), Enum_blob_ptr: uapi.SlicePointer(enums)}
		err := d.ioctl(uapi.DRM_IOCTL_MODE_GETPROPERTY, unsafe.Pointer(&g))
		runtime.KeepAlive(values)
		runtime.KeepAlive(enums)
		if err != nil {
			return nil, d.err(op, err)
		}
		if g.Count_values > nv || g.Count_enum_blobs > ne {
			// Copied in part: ask again with room for all.
			nv, ne = g.Count_values, g.Count_enum_blobs
			continue
		}
		return newProperty(id, g.Name[:], g.Flags, values[:g.Count_values], enums[:g.Count_enum_blobs]), nil
	}
	return nil, d.err(op, errors.New("counts kept changing"))
}

// newProperty interprets GETPROPERTY's answer.
func newProperty[C cchar](id PropertyID, name []C, flags uint32, values []uint64, enums []uapi.ModePropertyEnum) *Property {
	p := &Property{
		ID: id, Name: cstr(name), Flags: flags,
		Immutable: flags&uapi.DRM_MODE_PROP_IMMUTABLE != 0,
		Atomic:    flags&uapi.DRM_MODE_PROP_ATOMIC != 0,
	}
	switch {
	case flags&uapi.DRM_MODE_PROP_RANGE != 0:
		p.Kind = PropRange
	case flags&uapi.DRM_MODE_PROP_ENUM != 0:
		p.Kind = PropEnum
	case flags&uapi.DRM_MODE_PROP_BLOB != 0:
		p.Kind = PropBlob
	case flags&uapi.DRM_MODE_PROP_BITMASK != 0:
		p.Kind = PropBitmask
	default:
		switch flags & uapi.DRM_MODE_PROP_EXTENDED_TYPE {
		case uapi.DRM_MODE_PROP_OBJECT:
			p.Kind = PropObject
		case uapi.DRM_MODE_PROP_SIGNED_RANGE:
			p.Kind = PropSignedRange
		}
	}
	switch p.Kind {
	case PropRange, PropSignedRange:
		if len(values) >= 2 {
			p.Min, p.Max = values[0], values[1]
		}
	case PropObject:
		if len(values) >= 1 {
			p.ObjectType = uint32(values[0])
		}
	case PropEnum, PropBitmask:
		for _, e := range enums {
			p.Enums = append(p.Enums, EnumValue{Name: cstr(e.Name[:]), Value: e.Value})
		}
	}
	return p
}

func objectType(k ObjectType) uint32 {
	switch k {
	case ObjectCRTC:
		return uapi.DRM_MODE_OBJECT_CRTC
	case ObjectConnector:
		return uapi.DRM_MODE_OBJECT_CONNECTOR
	case ObjectEncoder:
		return uapi.DRM_MODE_OBJECT_ENCODER
	case ObjectPlane:
		return uapi.DRM_MODE_OBJECT_PLANE
	case ObjectFB:
		return uapi.DRM_MODE_OBJECT_FB
	}
	return uapi.DRM_MODE_OBJECT_ANY
}

// objPropGuess is how many properties the first OBJ_GETPROPERTIES makes
// room for. A plane, CRTC or connector has a dozen or two, so one call
// answers; an object with more is asked again with its own count.
var objPropGuess uint32 = 32

// Properties reads an object's properties and their current values: one
// OBJ_GETPROPERTIES (a second for an object with more than objPropGuess),
// and one GETPROPERTY for each property this Device has not described
// before. The *Property values are shared by every object that carries
// the property and must not be changed.
func (d *Device) Properties(obj Object) (Properties, error) {
	id, kind := obj.Object()
	op := fmt.Sprintf("read properties of object %d on", id)
	n := objPropGuess
	for try := 0; try < maxRetries; try++ {
		ids := make([]uint32, n)
		vals := make([]uint64, n)
		g := uapi.ModeObjGetProperties{Obj_id: id, Obj_type: objectType(kind), Count_props: n,
			Props_ptr: uapi.SlicePointer(ids), Prop_values_ptr: uapi.SlicePointer(vals)}
		err := d.ioctl(uapi.DRM_IOCTL_MODE_OBJ_GETPROPERTIES, unsafe.Pointer(&g))
		runtime.KeepAlive(ids)
		runtime.KeepAlive(vals)
		if err != nil {
			return nil, d.err(op, err)
		}
		if g.Count_props > n {
			// Copied in part: ask again with room for all.
			n = g.Count_props
			continue
		}
		return d.propsOf(id, ids[:g.Count_props], vals[:g.Count_props])
	}
	return nil, d.err(op, errors.New("property count kept changing"))
}

// propsOf makes object id's Properties from the property ids and values
// the kernel gave, describing each property this Device has not met.
func (d *Device) propsOf(id uint32, ids []uint32, vals []uint64) (Properties, error) {
	props := make(Properties, len(ids))
	names := make(propMap, len(ids))
	for i, pid := range ids {
		p, err := d.describe(PropertyID(pid))
		if err != nil {
			return nil, err
		}
		props[p.Name] = PropertyValue{Property: p, Value: vals[i]}
		names[p.Name] = p.ID
	}
	d.mu.Lock()
	d.propIDs[id] = names
	d.mu.Unlock()
	return props, nil
}

// describe is Property for a property this Device has described before:
// the description it read then.
func (d *Device) describe(id PropertyID) (*Property, error) {
	d.mu.Lock()
	p := d.props[id]
	d.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := d.Property(id)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.props == nil {
		d.props = map[PropertyID]*Property{}
	}
	d.props[id] = p
	d.mu.Unlock()
	return p, nil
}

// propID returns the id of obj's property name, reading the object's
// properties when they were not read before; 0 when the object lacks it.
func (d *Device) propID(obj Object, name string) (PropertyID, error) {
	id, _ := obj.Object()
	d.mu.Lock()
	m, ok := d.propIDs[id]
	d.mu.Unlock()
	if !ok {
		if _, err := d.Properties(obj); err != nil {
			return 0, err
		}
		d.mu.Lock()
		m = d.propIDs[id]
		d.mu.Unlock()
	}
	return m[name], nil
}

// Blob reads a property blob's bytes (two-pass GETPROPBLOB).
func (d *Device) Blob(id BlobID) ([]byte, error) {
	op := fmt.Sprintf("read blob %d of", id)
	for try := 0; try < maxRetries; try++ {
		g := uapi.ModeGetBlob{Id: uint32(id)}
		if err := d.ioctl(uapi.DRM_IOCTL_MODE_GETPROPBLOB, unsafe.Pointer(&g)); err != nil {
			return nil, d.err(op, err)
		}
		n := g.Length
		b := make([]byte, n)
		g.Data = uapi.SlicePointer(b)
		err := d.ioctl(uapi.DRM_IOCTL_MODE_GETPROPBLOB, unsafe.Pointer(&g))
		runtime.KeepAlive(b)
		if err != nil {
			return nil, d.err(op, err)
		}
		if g.Length > n {
			continue
		}
		return b[:g.Length], nil
	}
	return nil, d.err(op, errors.New("blob size kept changing"))
}

// createBlob makes a property blob holding data. The caller owns it and
// destroys it with destroyBlob: the Device keeps the mode blobs of the
// CRTCs it set until Close, a commit's damage blob goes right after it.
func (d *Device) createBlob(data []byte) (BlobID, error) {
	c := uapi.ModeCreateBlob{Data: uapi.SlicePointer(data), Length: uint32(len(data))}
	err := d.ioctl(uapi.DRM_IOCTL_MODE_CREATEPROPBLOB, unsafe.Pointer(&c))
	runtime.KeepAlive(data)
	if err != nil {
		return 0, d.err(fmt.Sprintf("create a %d-byte property blob on", len(data)), err)
	}
	return BlobID(c.Id), nil
}

func (d *Device) destroyBlob(id BlobID) error {
	if id == 0 {
		return nil
	}
	c := uapi.ModeDestroyBlob{Id: uint32(id)}
	return d.ioctl(uapi.DRM_IOCTL_MODE_DESTROYPROPBLOB, unsafe.Pointer(&c))
}

// connectorTypeNames are the kernel's names of connector types
// (drm_connector_enum_list), which make up connector names like "VGA-1".
var connectorTypeNames = [...]string{
	uapi.DRM_MODE_CONNECTOR_Unknown:     "Unknown",
	uapi.DRM_MODE_CONNECTOR_VGA:         "VGA",
	uapi.DRM_MODE_CONNECTOR_DVII:        "DVI-I",
	uapi.DRM_MODE_CONNECTOR_DVID:        "DVI-D",
	uapi.DRM_MODE_CONNECTOR_DVIA:        "DVI-A",
	uapi.DRM_MODE_CONNECTOR_Composite:   "Composite",
	uapi.DRM_MODE_CONNECTOR_SVIDEO:      "SVIDEO",
	uapi.DRM_MODE_CONNECTOR_LVDS:        "LVDS",
	uapi.DRM_MODE_CONNECTOR_Component:   "Component",
	uapi.DRM_MODE_CONNECTOR_9PinDIN:     "DIN",
	uapi.DRM_MODE_CONNECTOR_DisplayPort: "DP",
	uapi.DRM_MODE_CONNECTOR_HDMIA:       "HDMI-A",
	uapi.DRM_MODE_CONNECTOR_HDMIB:       "HDMI-B",
	uapi.DRM_MODE_CONNECTOR_TV:          "TV",
	uapi.DRM_MODE_CONNECTOR_eDP:         "eDP",
	uapi.DRM_MODE_CONNECTOR_VIRTUAL:     "Virtual",
	uapi.DRM_MODE_CONNECTOR_DSI:         "DSI",
	uapi.DRM_MODE_CONNECTOR_DPI:         "DPI",
	uapi.DRM_MODE_CONNECTOR_WRITEBACK:   "Writeback",
	uapi.DRM_MODE_CONNECTOR_SPI:         "SPI",
	uapi.DRM_MODE_CONNECTOR_USB:         "USB",
}

// ConnectorName is the kernel's name of a connector of type t (a
// DRM_MODE_CONNECTOR_* value) and index i: "VGA-1", "Virtual-2".
func ConnectorName(t, i uint32) string {
	n := fmt.Sprintf("type%d", t)
	if int(t) < len(connectorTypeNames) {
		n = connectorTypeNames[t]
	}
	return fmt.Sprintf("%s-%d", n, i)
}

func modeFromKernel(m *uapi.ModeModeinfo) Mode {
	return Mode{
		Clock: m.Clock, HDisplay: m.Hdisplay, HSyncStart: m.Hsync_start, HSyncEnd: m.Hsync_end,
		HTotal: m.Htotal, HSkew: m.Hskew, VDisplay: m.Vdisplay, VSyncStart: m.Vsync_start,
		VSyncEnd: m.Vsync_end, VTotal: m.Vtotal, VScan: m.Vscan, VRefresh: m.Vrefresh,
		Flags: m.Flags, Type: m.Type, Name: cstr(m.Name[:]),
	}
}

// putCstr writes s into a char array, cut to leave room for the NUL.
func putCstr[C cchar](dst []C, s string) {
	for i := 0; i < len(s) && i < len(dst)-1; i++ {
		dst[i] = C(s[i])
	}
}

func modeToKernel(m Mode) uapi.ModeModeinfo {
	k := uapi.ModeModeinfo{
		Clock: m.Clock, Hdisplay: m.HDisplay, Hsync_start: m.HSyncStart, Hsync_end: m.HSyncEnd,
		Htotal: m.HTotal, Hskew: m.HSkew, Vdisplay: m.VDisplay, Vsync_start: m.VSyncStart,
		Vsync_end: m.VSyncEnd, Vtotal: m.VTotal, Vscan: m.VScan, Vrefresh: m.VRefresh,
		Flags: m.Flags, Type: m.Type,
	}
	putCstr(k.Name[:], m.Name)
	return k
}

// Connector reads a connector: its state, modes, encoders and properties.
// Like GETCONNECTOR itself, it may probe the display (read its EDID).
func (d *Device) Connector(id ConnectorID) (*Connector, error) {
	return d.connector(id, true)
}

// ConnectorCurrent reads a connector as the kernel last probed it, without
// probing it again. A DRM master asking GETCONNECTOR for the mode count
// makes the kernel detect the display and read its EDID anew (tens of
// milliseconds over DDC); at boot the driver has just done that, so the
// first frame need not wait for it (libdrm's drmModeGetConnectorCurrent).
// Nor does the first frame need the EDID: it is left unread (Connector.EDID
// nil) for Device.EDID to read when asked.
func (d *Device) ConnectorCurrent(id ConnectorID) (*Connector, error) {
	return d.connector(id, false)
}

// EDID returns c's EDID blob: the one read with c, or, for a connector
// read with ConnectorCurrent, the blob its EDID property names now. A
// connector without an EDID gives nil.
func (d *Device) EDID(c *Connector) ([]byte, error) {
	if c.EDID != nil {
		return c.EDID, nil
	}
	p, ok := c.Props["EDID"]
	if !ok || p.Value == 0 {
		return nil, nil
	}
	b, err := d.Blob(BlobID(p.Value))
	if err != nil {
		return nil, fmt.Errorf("EDID of %s: %w", c.Name, err)
	}
	return b, nil
}

// modeGuess is how many modes the first GETCONNECTOR makes room for (an
// EDID lists a few dozen); a connector with more is asked again with its
// own count.
var modeGuess uint32 = 64

func (d *Device) connector(id ConnectorID, probe bool) (*Connector, error) {
	current := !probe
	op := fmt.Sprintf("read connector %d of", id)
	var g uapi.ModeGetConnector
	var modes []uapi.ModeModeinfo
	var encs, ids []uint32
	var vals []uint64
	// A zero mode count is what makes the kernel probe (for a DRM
	// master): with room for modeGuess, one call reads the connector as
	// it was last probed, with its modes, encoders and properties.
	nm, ne, np := modeGuess, resGuess, objPropGuess
	if probe {
		nm = 0
	}
	ok := false
	for try := 0; try < maxRetries && !ok; try++ {
		modes = make([]uapi.ModeModeinfo, nm)
		encs = make([]uint32, ne)
		ids = make([]uint32, np)
		vals = make([]uint64, np)
		g = uapi.ModeGetConnector{Connector_id: uint32(id),
			Count_modes: nm, Modes_ptr: uapi.SlicePointer(modes),
			Count_encoders: ne, Encoders_ptr: uapi.SlicePointer(encs),
			Count_props: np, Props_ptr: uapi.SlicePointer(ids), Prop_values_ptr: uapi.SlicePointer(vals)}
		err := d.ioctl(uapi.DRM_IOCTL_MODE_GETCONNECTOR, unsafe.Pointer(&g))
		runtime.KeepAlive(modes)
		runtime.KeepAlive(encs)
		runtime.KeepAlive(ids)
		runtime.KeepAlive(vals)
		if err != nil {
			return nil, d.err(op, err)
		}
		if !probe && g.Count_modes == 0 && ConnectorStatus(g.Connection) != Disconnected {
			// Never probed, or connected without modes: only a probe
			// can tell more.
			probe, nm = true, 0
			try--
			continue
		}
		// Modes and encoders are copied all or none; a count that
		// outgrew its room (or a probe's first answer) is asked again
		// with room for all, and a non-zero count, which does not
		// probe again.
		ok = g.Count_modes <= nm && g.Count_encoders <= ne
		nm, ne = max(nm, g.Count_modes, 1), max(ne, g.Count_encoders)
	}
	if !ok {
		return nil, d.err(op, errors.New("mode count kept changing"))
	}
	c := &Connector{
		ID: id, Type: g.Connector_type, TypeIndex: g.Connector_type_id,
		Name:    ConnectorName(g.Connector_type, g.Connector_type_id),
		Status:  ConnectorStatus(g.Connection),
		WidthMM: int(g.Mm_width), HeightMM: int(g.Mm_height), Subpixel: g.Subpixel,
		Encoder: EncoderID(g.Encoder_id),
	}
	for i := range g.Count_modes {
		c.Modes = append(c.Modes, modeFromKernel(&modes[i]))
	}
	for i := range g.Count_encoders {
		c.Encoders = append(c.Encoders, EncoderID(encs[i]))
	}
	// The properties came with the connector, copied up to np of them;
	// a connector with more has them read on their own.
	var props Properties
	var err error
	if g.Count_props <= np {
		props, err = d.propsOf(uint32(id), ids[:g.Count_props], vals[:g.Count_props])
	} else {
		props, err = d.Properties(id)
	}
	if err != nil {
		return nil, err
	}
	c.Props = props
	if p, ok := props["EDID"]; ok && p.Value != 0 && !current {
		if b, err := d.Blob(BlobID(p.Value)); err == nil {
			c.EDID = b
		}
	}
	if p, ok := props["panel orientation"]; ok {
		c.PanelOrientation = p.EnumName(p.Value)
	}
	return c, nil
}

// Encoder reads an encoder.
func (d *Device) Encoder(id EncoderID) (*Encoder, error) {
	g := uapi.ModeGetEncoder{Encoder_id: uint32(id)}
	if err := d.ioctl(uapi.DRM_IOCTL_MODE_GETENCODER, unsafe.Pointer(&g)); err != nil {
		return nil, d.err(fmt.Sprintf("read encoder %d of", id), err)
	}
	return &Encoder{ID: id, Type: g.Encoder_type, CRTC: CRTCID(g.Crtc_id),
		PossibleCRTCs: g.Possible_crtcs, PossibleClones: g.Possible_clones}, nil
}

// CRTC reads a CRTC's state; index is its position in Resources.CRTCs.
func (d *Device) CRTC(id CRTCID, index int) (*CRTC, error) {
	g := uapi.ModeCrtc{Crtc_id: uint32(id)}
	if err := d.ioctl(uapi.DRM_IOCTL_MODE_GETCRTC, unsafe.Pointer(&g)); err != nil {
		return nil, d.err(fmt.Sprintf("read CRTC %d of", id), err)
	}
	c := &CRTC{ID: id, Index: index, FB: FBID(g.Fb_id), X: int(g.X), Y: int(g.Y),
		ModeValid: g.Mode_valid != 0, GammaSize: int(g.Gamma_size)}
	if c.ModeValid {
		c.Mode = modeFromKernel(&g.Mode)
	}
	props, err := d.Properties(id)
	if err != nil {
		return nil, err
	}
	c.Props = props
	return c, nil
}

// PlaneIDs lists the planes (all of them once universal planes are on):
// one GETPLANERESOURCES, a second for more than resGuess planes.
func (d *Device) PlaneIDs() ([]PlaneID, error) {
	n := resGuess
	for try := 0; try < maxRetries; try++ {
		ids := make([]PlaneID, n)
		g := uapi.ModeGetPlaneRes{Count_planes: n, Plane_id_ptr: uapi.SlicePointer(ids)}
		err := d.ioctl(uapi.DRM_IOCTL_MODE_GETPLANERESOURCES, unsafe.Pointer(&g))
		runtime.KeepAlive(ids)
		if err != nil {
			return nil, d.err("list planes of", err)
		}
		if g.Count_planes <= n {
			return ids[:g.Count_planes], nil
		}
		n = g.Count_planes
	}
	return nil, d.err("list planes of", errors.New("plane count kept changing"))
}

// formatGuess is how many formats the first GETPLANE makes room for
// (a plane of a simple display has a handful, of a GPU a few dozen); a
// plane with more is asked again with its own count.
var formatGuess uint32 = 64

// Plane reads a plane: formats, modifiers, type, rotation and damage
// support (one GETPLANE, a second for more than formatGuess formats).
func (d *Device) Plane(id PlaneID) (*Plane, error) {
	op := fmt.Sprintf("read plane %d of", id)
	var g uapi.ModeGetPlane
	var formats []Format
	ok := false
	n := formatGuess
	for try := 0; try < maxRetries && !ok; try++ {
		formats = make([]Format, n)
		g = uapi.ModeGetPlane{Plane_id: uint32(id), Count_format_types: n, Format_type_ptr: uapi.SlicePointer(formats)}
		err := d.ioctl(uapi.DRM_IOCTL_MODE_GETPLANE, unsafe.Pointer(&g))
		runtime.KeepAlive(formats)
		if err != nil {
			return nil, d.err(op, err)
		}
		ok = g.Count_format_types <= n
		n = g.Count_format_types
	}
	if !ok {
		return nil, d.err(op, errors.New("format count kept changing"))
	}
	p := &Plane{ID: id, CRTC: CRTCID(g.Crtc_id), FB: FBID(g.Fb_id),
		PossibleCRTCs: g.Possible_crtcs, Formats: formats[:g.Count_format_types]}
	props, err := d.Properties(id)
	if err != nil {
		return nil, err
	}
	p.Props = props
	if t, ok := props["type"]; ok {
		switch t.EnumName(t.Value) {
		case "Primary":
			p.Type = PlanePrimary
		case "Cursor":
			p.Type = PlaneCursor
		}
	}
	if r, ok := props["rotation"]; ok {
		for _, e := range r.Enums {
			if e.Value < 64 {
				p.Rotations |= 1 << e.Value
			}
		}
	}
	_, p.DamageClips = props["FB_DAMAGE_CLIPS"]
	if f, ok := props["IN_FORMATS"]; ok && f.Value != 0 {
		b, err := d.Blob(BlobID(f.Value))
		if err != nil {
			return nil, err
		}
		if p.Modifiers, err = ParseInFormats(b); err != nil {
			return nil, d.err(op, err)
		}
	}
	return p, nil
}

// ParseInFormats decodes an IN_FORMATS blob (struct drm_format_modifier_blob
// followed by the format array and struct drm_format_modifier entries) into
// the modifiers each format supports.
func ParseInFormats(b []byte) (map[Format][]Modifier, error) {
	le := binary.LittleEndian
	var hdr uapi.FormatModifierBlob
	hsize := int(unsafe.Sizeof(hdr))
	if len(b) < hsize {
		return nil, fmt.Errorf("IN_FORMATS blob: %d bytes, shorter than its %d-byte header", len(b), hsize)
	}
	hdr.Version = le.Uint32(b[0:])
	hdr.Count_formats = le.Uint32(b[8:])
	hdr.Formats_offset = le.Uint32(b[12:])
	hdr.Count_modifiers = le.Uint32(b[16:])
	hdr.Modifiers_offset = le.Uint32(b[20:])
	if hdr.Version != 1 {
		return nil, fmt.Errorf("IN_FORMATS blob: version %d, want 1", hdr.Version)
	}
	fend := uint64(hdr.Formats_offset) + 4*uint64(hdr.Count_formats)
	msize := uint64(unsafe.Sizeof(uapi.FormatModifier{}))
	mend := uint64(hdr.Modifiers_offset) + msize*uint64(hdr.Count_modifiers)
	if fend > uint64(len(b)) || mend > uint64(len(b)) {
		return nil, fmt.Errorf("IN_FORMATS blob: %d formats at %d and %d modifiers at %d overrun its %d bytes",
			hdr.Count_formats, hdr.Formats_offset, hdr.Count_modifiers, hdr.Modifiers_offset, len(b))
	}
	formats := make([]Format, hdr.Count_formats)
	for i := range formats {
		formats[i] = Format(le.Uint32(b[hdr.Formats_offset+4*uint32(i):]))
	}
	out := make(map[Format][]Modifier, len(formats))
	for _, f := range formats {
		out[f] = nil
	}
	for i := range uint64(hdr.Count_modifiers) {
		e := b[uint64(hdr.Modifiers_offset)+i*msize:]
		mask := le.Uint64(e[0:])
		offset := le.Uint32(e[8:])
		mod := Modifier(le.Uint64(e[16:]))
		// Bit j of the mask stands for formats[offset+j].
		for j := uint32(0); j < 64; j++ {
			if mask&(1<<j) == 0 {
				continue
			}
			k := uint64(offset) + uint64(j)
			if k >= uint64(len(formats)) {
				return nil, fmt.Errorf("IN_FORMATS blob: modifier %s names format %d of %d", mod, k, len(formats))
			}
			out[formats[k]] = append(out[formats[k]], mod)
		}
	}
	return out, nil
}

// Probe reads all connectors, encoders, CRTCs and planes.
func (d *Device) Probe() (*State, error) { return d.probe(true) }

// ProbeCurrent is Probe reading the connectors as the kernel last probed
// them (see ConnectorCurrent): what the first frame needs, without waiting
// for displays to be detected again, and without their EDIDs.
func (d *Device) ProbeCurrent() (*State, error) { return d.probe(false) }

func (d *Device) probe(force bool) (*State, error) {
	res, err := d.Resources()
	if err != nil {
		return nil, err
	}
	s := &State{Resources: res}
	for _, id := range res.Connectors {
		c, err := d.connector(id, force)
		if err != nil {
			return nil, err
		}
		s.Connectors = append(s.Connectors, c)
	}
	for _, id := range res.Encoders {
		e, err := d.Encoder(id)
		if err != nil {
			return nil, err
		}
		s.Encoders = append(s.Encoders, e)
	}
	for i, id := range res.CRTCs {
		c, err := d.CRTC(id, i)
		if err != nil {
			return nil, err
		}
		s.CRTCs = append(s.CRTCs, c)
	}
	planes, err := d.PlaneIDs()
	if err != nil {
		return nil, err
	}
	for _, id := range planes {
		p, err := d.Plane(id)
		if err != nil {
			return nil, err
		}
		s.Planes = append(s.Planes, p)
	}
	return s, nil
}
