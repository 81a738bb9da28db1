package client

import (
	"errors"
	"image"
	"reflect"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/kerror"
)

func TestFormatString(t *testing.T) {
	for _, c := range []struct {
		f    Format
		want string
	}{
		{FormatXRGB8888, "XRGB8888"},
		{Format('R' | 'G'<<8 | '1'<<16 | '6'<<24), "RGB565"},
		{Format('Z' | 'Z'<<8 | 'Z'<<16 | 'Z'<<24), "ZZZZ"},
		{Format(0x01020304), "0x01020304"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("Format(%#x).String() = %q, want %q", uint32(c.f), got, c.want)
		}
	}
	if got := FormatXRGB8888.Fourcc(); got != "XR24" {
		t.Errorf("Fourcc = %q, want XR24", got)
	}
	if got := FormatXRGB8888.BytesPerPixel(); got != 4 {
		t.Errorf("BytesPerPixel = %d, want 4", got)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"XRGB8888", "xrgb8888", "DRM_FORMAT_XRGB8888", "XR24", "0x34325258"} {
		f, err := ParseFormat(s)
		if err != nil || f != FormatXRGB8888 {
			t.Errorf("ParseFormat(%q) = %v, %v; want XRGB8888", s, f, err)
		}
	}
	for _, s := range []string{"", "NOPE", "1234", "ZZZZ"} {
		if f, err := ParseFormat(s); err == nil {
			t.Errorf("ParseFormat(%q) = %v, want an error", s, f)
		} else if !strings.Contains(err.Error(), "format") {
			t.Errorf("ParseFormat(%q) error %q does not say what failed", s, err)
		}
	}
}

func TestModifierString(t *testing.T) {
	for _, c := range []struct {
		m    Modifier
		want string
	}{
		{ModifierLinear, "LINEAR"},
		{ModifierInvalid, "INVALID"},
		{Modifier(1<<56 | 1), "I915_FORMAT_MOD_X_TILED"},
		{Modifier(1<<56 | 0xabcdef), "INTEL:0xabcdef"},
		{Modifier(0xee<<56 | 5), "vendor 0xee:0x5"},
	} {
		if got := c.m.String(); got != c.want {
			t.Errorf("Modifier(%#x).String() = %q, want %q", uint64(c.m), got, c.want)
		}
	}
}

func TestDamageClips(t *testing.T) {
	r := image.Rect
	cases := []struct {
		name string
		in   []image.Rectangle
		max  int
		want []image.Rectangle
	}{
		{"inside", []image.Rectangle{r(1, 2, 3, 4)}, 0, []image.Rectangle{r(1, 2, 3, 4)}},
		{"clipped", []image.Rectangle{r(90, 40, 200, 70)}, 0, []image.Rectangle{r(90, 40, 100, 50)}},
		{"negative", []image.Rectangle{r(-10, -5, 5, 5)}, 0, []image.Rectangle{r(0, 0, 5, 5)}},
		{"reversed", []image.Rectangle{{image.Pt(5, 5), image.Pt(1, 1)}}, 0, []image.Rectangle{r(1, 1, 5, 5)}},
		{"empty dropped", []image.Rectangle{{}, r(3, 3, 3, 9), r(200, 200, 300, 300), r(0, 0, 1, 1)}, 0, []image.Rectangle{r(0, 0, 1, 1)}},
		{"all empty", []image.Rectangle{r(-5, -5, -1, -1)}, 0, nil},
		{"merged", []image.Rectangle{r(0, 0, 1, 1), r(10, 20, 11, 21), r(5, 5, 6, 6)}, 2, []image.Rectangle{r(0, 0, 11, 21)}},
		{"at the limit", []image.Rectangle{r(0, 0, 1, 1), r(10, 20, 11, 21)}, 2, []image.Rectangle{r(0, 0, 1, 1), r(10, 20, 11, 21)}},
	}
	for _, c := range cases {
		if got := DamageClips(100, 50, c.in, c.max); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: DamageClips = %v, want %v", c.name, got, c.want)
		}
	}
	// The kernel's limit applies when max is not given.
	many := make([]image.Rectangle, maxDirtyClips+1)
	for i := range many {
		many[i] = r(i%100, i/100, i%100+1, i/100+1)
	}
	if got := DamageClips(100, 50, many, 0); len(got) != 1 || got[0] != r(0, 0, 100, 3) {
		t.Errorf("%d clips: got %v, want one bounding box (0,0)-(100,3)", len(many), got)
	}
	if got := DamageClips(100, 50, many[:maxDirtyClips], 0); len(got) != maxDirtyClips {
		t.Errorf("%d clips: got %d, want them kept", maxDirtyClips, len(got))
	}
}

// mode1024 is the timing QEMU's cirrus and bochs list for 1024x768@60.
func mode1024(typ uint32) Mode {
	return Mode{Clock: 65000, HDisplay: 1024, HSyncStart: 1048, HSyncEnd: 1184, HTotal: 1344,
		VDisplay: 768, VSyncStart: 771, VSyncEnd: 777, VTotal: 806, VRefresh: 60, Type: typ, Name: "1024x768"}
}

func TestModeHelpers(t *testing.T) {
	m := mode1024(modeTypePreferred)
	if got := m.RefreshMilliHz(); got != 60004 {
		t.Errorf("RefreshMilliHz = %d, want 60004", got)
	}
	if got := m.RefreshHz(); got != 60 {
		t.Errorf("RefreshHz = %d, want 60", got)
	}
	if got := m.String(); got != "1024x768@60.00" {
		t.Errorf("String = %q", got)
	}
	if !m.Preferred() || m.Width() != 1024 || m.Height() != 768 || m.Size() != image.Rect(0, 0, 1024, 768) {
		t.Errorf("Preferred/Width/Height/Size wrong for %v", m)
	}
	il := m
	il.Flags = modeFlagInterlace
	if got := il.RefreshMilliHz(); got != 120008 {
		t.Errorf("interlaced RefreshMilliHz = %d, want 120008", got)
	}
	if got := (Mode{VRefresh: 75}).RefreshMilliHz(); got != 75000 {
		t.Errorf("no timings: RefreshMilliHz = %d, want 75000", got)
	}
}

func TestPickMode(t *testing.T) {
	small := Mode{HDisplay: 640, VDisplay: 480, Clock: 25175, HTotal: 800, VTotal: 525}
	fast := mode1024(0)
	fast.Clock = 78750 // 73 Hz
	pref := mode1024(modeTypePreferred)
	modes := []Mode{small, fast, pref}

	if m, err := PickMode(modes, 0, 0); err != nil || m != pref {
		t.Errorf("preferred: got %v, %v", m, err)
	}
	if m, err := PickMode([]Mode{small, fast}, 0, 0); err != nil || m != small {
		t.Errorf("no preferred: got %v, %v, want the first", m, err)
	}
	if m, err := PickMode(modes, 1024, 768); err != nil || m != pref {
		t.Errorf("by size: got %v, %v, want the preferred one", m, err)
	}
	if m, err := PickMode([]Mode{small, mode1024(0), fast}, 1024, 768); err != nil || m != fast {
		t.Errorf("by size, no preferred: got %v, %v, want the fastest", m, err)
	}
	_, err := PickMode(modes, 800, 600)
	if err == nil || !strings.Contains(err.Error(), "no 800x600 mode (have 640x480, 1024x768)") {
		t.Errorf("missing size: error %v", err)
	}
	if _, err := PickMode(nil, 0, 0); err == nil {
		t.Error("no modes: no error")
	}
}

func TestParseModeSize(t *testing.T) {
	if w, h, err := ParseModeSize("1024x768"); err != nil || w != 1024 || h != 768 {
		t.Errorf("1024x768: %d %d %v", w, h, err)
	}
	if w, h, err := ParseModeSize(" 800X600 "); err != nil || w != 800 || h != 600 {
		t.Errorf("800X600: %d %d %v", w, h, err)
	}
	for _, s := range []string{"", "1024", "x768", "0x0", "-1x5", "axb", "1024x768x2"} {
		if _, _, err := ParseModeSize(s); err == nil {
			t.Errorf("ParseModeSize(%q): no error", s)
		}
	}
}

func TestParseSource(t *testing.T) {
	for _, s := range []Source{SourceAuto, SourceHeap, SourceUdmabuf, SourceDumb} {
		got, err := ParseSource(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSource(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseSource("vram"); err == nil || !strings.Contains(err.Error(), "auto, heap, udmabuf or dumb") {
		t.Errorf("ParseSource(vram): %v", err)
	}
}

func TestErrorWrapping(t *testing.T) {
	base := errors.New("boom")
	e := &kerror.Error{Op: "import dma-buf into", Device: "bochs", Err: base, Hint: "driver cannot import", Kind: ErrImportUnsupported}
	if got, want := e.Error(), "import dma-buf into bochs: boom (driver cannot import)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, base) || !errors.Is(e, ErrImportUnsupported) || !errors.Is(e, ErrNotSupported) {
		t.Error("error does not match its cause and kinds")
	}
	plain := &kerror.Error{Op: "x", Err: base}
	if errors.Is(plain, ErrNotSupported) {
		t.Error("an error without kind matches ErrNotSupported")
	}
}

func TestSelectOutput(t *testing.T) {
	pref := mode1024(modeTypePreferred)
	s := &State{
		Connectors: []*Connector{
			{ID: 40, Name: "Virtual-1", Status: Disconnected, Encoders: []EncoderID{39}},
			{ID: 42, Name: "Virtual-2", Status: Connected, Modes: []Mode{{HDisplay: 640, VDisplay: 480}, pref}, Encoders: []EncoderID{41}},
		},
		Encoders: []*Encoder{{ID: 39, PossibleCRTCs: 1}, {ID: 41, PossibleCRTCs: 2}},
		CRTCs:    []*CRTC{{ID: 35, Index: 0}, {ID: 36, Index: 1}},
		Planes: []*Plane{
			{ID: 30, Type: PlanePrimary, PossibleCRTCs: 1},
			{ID: 31, Type: PlaneCursor, PossibleCRTCs: 2},
			{ID: 32, Type: PlanePrimary, PossibleCRTCs: 2},
		},
	}
	out, err := s.SelectOutput(OutputRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Connector.ID != 42 || out.CRTC.ID != 36 || out.Plane.ID != 32 || out.Mode != pref {
		t.Errorf("got %v", out)
	}
	if out, err := s.SelectOutput(OutputRequest{Width: 640, Height: 480}); err != nil || out.Mode.Width() != 640 {
		t.Errorf("640x480: %v %v", out, err)
	}
	if _, err := s.SelectOutput(OutputRequest{Connector: "Virtual-1"}); err == nil || !errors.Is(err, ErrNoDisplay) {
		t.Errorf("disconnected by name: %v", err)
	}
	if _, err := s.SelectOutput(OutputRequest{Connector: "HDMI-A-1"}); err == nil || !strings.Contains(err.Error(), "have Virtual-1 disconnected, Virtual-2 connected") {
		t.Errorf("unknown name: %v", err)
	}
	s.Connectors[1].Status = Disconnected
	if _, err := s.SelectOutput(OutputRequest{}); !errors.Is(err, ErrNoDisplay) {
		t.Errorf("nothing connected: %v", err)
	}
	s.Connectors[1].Status = Connected
	s.Planes = s.Planes[:2]
	if _, err := s.SelectOutput(OutputRequest{}); err == nil || !strings.Contains(err.Error(), "no CRTC with a primary plane") {
		t.Errorf("no primary plane: %v", err)
	}
}
