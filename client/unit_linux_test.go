package client

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

func TestConstantsMatchKernel(t *testing.T) {
	if FormatXRGB8888 != uapi.DRM_FORMAT_XRGB8888 {
		t.Errorf("FormatXRGB8888 = %#x, kernel %#x", uint32(FormatXRGB8888), uapi.DRM_FORMAT_XRGB8888)
	}
	if ModifierInvalid != uapi.DRM_FORMAT_MOD_INVALID || ModifierLinear != uapi.DRM_FORMAT_MOD_LINEAR {
		t.Error("modifier constants differ from the kernel's")
	}
	if maxDirtyClips != uapi.DRM_MODE_FB_DIRTY_MAX_CLIPS {
		t.Errorf("maxDirtyClips = %d, kernel %d", maxDirtyClips, uapi.DRM_MODE_FB_DIRTY_MAX_CLIPS)
	}
	if modeFlagInterlace != uapi.DRM_MODE_FLAG_INTERLACE || modeFlagDblScan != uapi.DRM_MODE_FLAG_DBLSCAN ||
		modeTypePreferred != uapi.DRM_MODE_TYPE_PREFERRED {
		t.Error("mode flag constants differ from the kernel's")
	}
	if EventVBlank != uapi.DRM_EVENT_VBLANK || EventFlipComplete != uapi.DRM_EVENT_FLIP_COMPLETE {
		t.Error("event types differ from the kernel's")
	}
}

func TestConnectorName(t *testing.T) {
	for _, c := range []struct {
		t, i uint32
		want string
	}{
		{uapi.DRM_MODE_CONNECTOR_VGA, 1, "VGA-1"},
		{uapi.DRM_MODE_CONNECTOR_VIRTUAL, 2, "Virtual-2"},
		{uapi.DRM_MODE_CONNECTOR_HDMIA, 1, "HDMI-A-1"},
		{99, 1, "type99-1"},
	} {
		if got := ConnectorName(c.t, c.i); got != c.want {
			t.Errorf("ConnectorName(%d, %d) = %q, want %q", c.t, c.i, got, c.want)
		}
	}
}

func TestModeRoundTrip(t *testing.T) {
	m := mode1024(modeTypePreferred)
	m.Flags = uapi.DRM_MODE_FLAG_NHSYNC | uapi.DRM_MODE_FLAG_NVSYNC
	k := modeToKernel(m)
	if got := modeFromKernel(&k); got != m {
		t.Errorf("round trip: %+v, want %+v", got, m)
	}
	long := m
	long.Name = strings.Repeat("x", 40)
	k = modeToKernel(long)
	if got := modeFromKernel(&k).Name; got != strings.Repeat("x", 31) {
		t.Errorf("long name kept as %q, want it cut to 31 bytes", got)
	}
}

// event builds a drm_event_vblank of type typ.
func event(typ uint32, seq, crtc uint32, user uint64) []byte {
	b := make([]byte, unsafe.Sizeof(uapi.DrmEventVblank{}))
	le := binary.LittleEndian
	le.PutUint32(b[0:], typ)
	le.PutUint32(b[4:], uint32(len(b)))
	le.PutUint64(b[8:], user)
	le.PutUint32(b[16:], 1000) // tv_sec
	le.PutUint32(b[20:], 250)  // tv_usec
	le.PutUint32(b[24:], seq)
	le.PutUint32(b[28:], crtc)
	return b
}

func TestParseEvents(t *testing.T) {
	var in []byte
	in = append(in, event(uapi.DRM_EVENT_VBLANK, 7, 35, 1)...)
	// A crtc_sequence event (type 3, 32 bytes) and a future one of 12
	// bytes are skipped.
	seq := make([]byte, unsafe.Sizeof(uapi.DrmEventCrtcSequence{}))
	binary.LittleEndian.PutUint32(seq, uapi.DRM_EVENT_CRTC_SEQUENCE)
	binary.LittleEndian.PutUint32(seq[4:], uint32(len(seq)))
	in = append(in, seq...)
	in = append(in, 0x99, 0, 0, 0, 12, 0, 0, 0, 1, 2, 3, 4)
	in = append(in, event(uapi.DRM_EVENT_FLIP_COMPLETE, 8, 35, 77)...)

	evs, err := ParseEvents(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Type: EventVBlank, Sequence: 7, Sec: 1000, Usec: 250, CRTC: 35, UserData: 1},
		{Type: EventFlipComplete, Sequence: 8, Sec: 1000, Usec: 250, CRTC: 35, UserData: 77},
	}
	if len(evs) != len(want) || evs[0] != want[0] || evs[1] != want[1] {
		t.Errorf("ParseEvents = %+v, want %+v", evs, want)
	}
	if evs, err := ParseEvents(nil); err != nil || len(evs) != 0 {
		t.Errorf("empty input: %v %v", evs, err)
	}

	flip := event(uapi.DRM_EVENT_FLIP_COMPLETE, 1, 1, 1)
	short := append([]byte{}, flip...)
	binary.LittleEndian.PutUint32(short[4:], 16)
	bad := []struct {
		name string
		in   []byte
		want string
	}{
		{"stray bytes", append(append([]byte{}, flip...), 1, 2, 3), "3 stray bytes at offset 32"},
		{"truncated", flip[:20], "past the 20 bytes read"},
		{"length below header", []byte{1, 0, 0, 0, 4, 0, 0, 0}, "less than its header"},
		{"flip too short", short[:16], "flip complete event at offset 0 has length 16, want 32"},
	}
	for _, c := range bad {
		_, err := ParseEvents(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
	// Events before the bad one are still returned.
	evs, err = ParseEvents(append(append([]byte{}, flip...), flip[:10]...))
	if err == nil || len(evs) != 1 {
		t.Errorf("good then truncated: %v, %v", evs, err)
	}
}

// inFormats builds an IN_FORMATS blob as the kernel lays it out.
func inFormats(formats []Format, mods []uapi.FormatModifier) []byte {
	le := binary.LittleEndian
	hsize := int(unsafe.Sizeof(uapi.FormatModifierBlob{}))
	foff := hsize
	moff := (foff + 4*len(formats) + 7) &^ 7
	b := make([]byte, moff+len(mods)*int(unsafe.Sizeof(uapi.FormatModifier{})))
	le.PutUint32(b[0:], 1)
	le.PutUint32(b[8:], uint32(len(formats)))
	le.PutUint32(b[12:], uint32(foff))
	le.PutUint32(b[16:], uint32(len(mods)))
	le.PutUint32(b[20:], uint32(moff))
	for i, f := range formats {
		le.PutUint32(b[foff+4*i:], uint32(f))
	}
	for i, m := range mods {
		e := b[moff+24*i:]
		le.PutUint64(e[0:], m.Formats)
		le.PutUint32(e[8:], m.Offset)
		le.PutUint64(e[16:], m.Modifier)
	}
	return b
}

func TestParseInFormats(t *testing.T) {
	rg16, _ := ParseFormat("RGB565")
	rg24, _ := ParseFormat("RGB888")
	xr24 := FormatXRGB8888
	tiled := Modifier(1<<56 | 1)
	b := inFormats([]Format{rg16, rg24, xr24}, []uapi.FormatModifier{
		{Formats: 0b111, Modifier: uint64(ModifierLinear)},
		{Formats: 0b10, Offset: 1, Modifier: uint64(tiled)}, // bit 1 from offset 1: formats[2]
	})
	got, err := ParseInFormats(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(got[rg16]) != 1 || len(got[rg24]) != 1 || len(got[xr24]) != 2 || got[xr24][1] != tiled {
		t.Errorf("ParseInFormats = %v", got)
	}

	bad := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", b[:10], "shorter than its 24-byte header"},
		{"cut", b[:len(b)-1], "overrun"},
		{"version", func() []byte { c := append([]byte{}, b...); c[0] = 2; return c }(), "version 2"},
		{"bad bit", inFormats([]Format{xr24}, []uapi.FormatModifier{{Formats: 0b100}}), "names format 2 of 1"},
	}
	for _, c := range bad {
		if _, err := ParseInFormats(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

func TestClassifyImport(t *testing.T) {
	for _, c := range []struct {
		errno       unix.Errno
		unsupported bool
	}{
		{unix.EINVAL, true}, {unix.ENODEV, true}, {unix.EOPNOTSUPP, true},
		{unix.EACCES, false}, {unix.EBADF, false}, {unix.ENOMEM, false},
	} {
		err := classifyImport("bochs", c.errno)
		if errors.Is(err, ErrImportUnsupported) != c.unsupported || !errors.Is(err, c.errno) {
			t.Errorf("%v: Is(ErrImportUnsupported) = %v, want %v; wraps errno: %v",
				c.errno, errors.Is(err, ErrImportUnsupported), c.unsupported, errors.Is(err, c.errno))
		}
	}
	want := "import dma-buf into bochs: invalid argument (driver cannot import)"
	if got := classifyImport("bochs", unix.EINVAL).Error(); got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestOpenFaults(t *testing.T) {
	restore := uapi.SetFaultHook(func(s uapi.Site) error {
		if s.Call == "open" {
			return unix.EACCES
		}
		return nil
	})
	defer restore()
	_, err := Open("/dev/dri/card0", Options{})
	if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), "open /dev/dri/card0") {
		t.Errorf("Open with a failing open: %v", err)
	}
}

func TestOpenNotDRM(t *testing.T) {
	_, err := Open("/dev/null", Options{})
	if err == nil || !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "read driver version of /dev/null") {
		t.Errorf("Open(/dev/null): %v", err)
	}
	_, err = Open("/nonexistent/card0", Options{})
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("Open of a missing node: %v", err)
	}
}
