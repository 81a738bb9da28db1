package display

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/bootsplash/bootsplash/client"
)

func TestHeadGone(t *testing.T) {
	m := func(w, h int, hz uint32) client.Mode {
		return client.Mode{HDisplay: uint16(w), VDisplay: uint16(h), HTotal: uint16(w), VTotal: uint16(h), Clock: uint32(w) * uint32(h) * hz / 1000}
	}
	shown := m(1280, 800, 60)
	h := &head{out: &client.Output{Connector: &client.Connector{ID: 7, Name: "Virtual-2"}, Mode: shown}}
	for _, c := range []struct {
		name string
		conn *client.Connector
		want string
	}{
		{"still there", &client.Connector{ID: 7, Name: "Virtual-2", Status: client.Connected, Modes: []client.Mode{m(1920, 1080, 60), shown}}, ""},
		{"disconnected", &client.Connector{ID: 7, Name: "Virtual-2", Status: client.Disconnected, Modes: []client.Mode{shown}}, "Virtual-2 is disconnected"},
		{"no modes", &client.Connector{ID: 7, Name: "Virtual-2", Status: client.Connected}, "Virtual-2 is connected"},
		{"mode withdrawn", &client.Connector{ID: 7, Name: "Virtual-2", Status: client.Connected, Modes: []client.Mode{m(1024, 768, 60)}}, "no longer offers 1280x800"},
		{"other connector", &client.Connector{ID: 8, Name: "Virtual-3", Status: client.Connected, Modes: []client.Mode{shown}}, "its connector is gone"},
	} {
		got := headGone(&client.State{Connectors: []*client.Connector{c.conn}}, h)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: headGone = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestGone(t *testing.T) {
	if !gone(fmt.Errorf("commit: %w", syscall.ENODEV)) || gone(syscall.EBUSY) || !gone(errDeviceGone) {
		t.Error("gone does not tell ENODEV from EBUSY")
	}
	// Panics that are not memory faults are not hidden.
	defer func() {
		if r := recover(); r != "not a fault" {
			t.Errorf("recovered %v", r)
		}
	}()
	guard(func() error { panic("not a fault") })
}

// TestModeSet: a head's first frame sets no mode only on a CRTC lit in the
// same mode (the same timings to the kernel, whatever the name); anything
// else (no mode, another mode, ACTIVE off) is a modeset, after which the
// frame is painted once more.
func TestModeSet(t *testing.T) {
	mode := client.Mode{Clock: 65000, HDisplay: 1024, HSyncStart: 1048, HSyncEnd: 1184, HTotal: 1344,
		VDisplay: 768, VSyncStart: 771, VSyncEnd: 777, VTotal: 806, VRefresh: 60, Name: "1024x768"}
	other := mode
	other.Clock = 78750
	flags := mode
	flags.Flags = 1 << 4 // interlaced
	renamed := mode
	renamed.Name, renamed.Type = "console's", 0
	active := func(v uint64) client.Properties {
		return client.Properties{"ACTIVE": {Property: &client.Property{Name: "ACTIVE"}, Value: v}}
	}
	for _, c := range []struct {
		name string
		crtc *client.CRTC
		want bool
	}{
		{"lit in the mode", &client.CRTC{ModeValid: true, Mode: mode, Props: active(1)}, true},
		{"lit in the mode, legacy (no ACTIVE)", &client.CRTC{ModeValid: true, Mode: mode}, true},
		{"lit in the mode, another name", &client.CRTC{ModeValid: true, Mode: renamed, Props: active(1)}, true},
		{"off", &client.CRTC{}, false},
		{"the mode kept, ACTIVE off", &client.CRTC{ModeValid: true, Mode: mode, Props: active(0)}, false},
		{"another clock", &client.CRTC{ModeValid: true, Mode: other, Props: active(1)}, false},
		{"other flags", &client.CRTC{ModeValid: true, Mode: flags, Props: active(1)}, false},
		{"no CRTC", nil, false},
	} {
		if got := modeSet(&client.Output{CRTC: c.crtc, Mode: mode}); got != c.want {
			t.Errorf("%s: modeSet = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestEachFirstFrame: a head's first frame is drawn twice when it set the
// mode, once on a CRTC the console left lit in the mode; later frames once.
func TestEachFirstFrame(t *testing.T) {
	for _, set := range []bool{false, true} {
		h := &head{out: &client.Output{Connector: &client.Connector{Name: "VGA-1"}}, set: set}
		h.h = &Head{present: func() error { h.shown++; return nil }}
		ks := &kmsDisplay{heads: []*head{h}}
		draws := 0
		draw := func(hd *Head) error {
			draws++
			return hd.Present()
		}
		if err := ks.Each("draw", draw); err != nil {
			t.Fatal(err)
		}
		want := 2
		if set {
			want = 1
		}
		if draws != want {
			t.Errorf("mode already set %v: the first frame drawn %d times, want %d", set, draws, want)
		}
		draws = 0
		if err := ks.Each("draw", draw); err != nil {
			t.Fatal(err)
		}
		if draws != 1 {
			t.Errorf("mode already set %v: the second frame drawn %d times, want 1", set, draws)
		}
	}
}
