package client

import (
	"errors"
	"testing"
)

func TestSelectOutputsGivesEachItsOwnCRTC(t *testing.T) {
	mode := func(w, h int) Mode { return Mode{HDisplay: uint16(w), VDisplay: uint16(h)} }
	st := &State{
		Connectors: []*Connector{
			{ID: 1, Name: "Virtual-1", Status: Connected, Modes: []Mode{mode(1280, 800)}, Encoders: []EncoderID{10}, Encoder: 10},
			{ID: 2, Name: "Virtual-2", Status: Connected, Modes: []Mode{mode(1024, 768)}, Encoders: []EncoderID{11}},
			{ID: 3, Name: "Virtual-3", Status: Disconnected, Modes: []Mode{mode(640, 480)}, Encoders: []EncoderID{11}},
		},
		Encoders: []*Encoder{{ID: 10, PossibleCRTCs: 3, CRTC: 20}, {ID: 11, PossibleCRTCs: 3}},
		CRTCs:    []*CRTC{{ID: 20, Index: 0}, {ID: 21, Index: 1}},
		Planes: []*Plane{
			{ID: 30, Type: PlanePrimary, PossibleCRTCs: 1, CRTC: 20},
			{ID: 31, Type: PlanePrimary, PossibleCRTCs: 2},
			{ID: 32, Type: PlaneCursor, PossibleCRTCs: 3},
		},
	}
	outs, err := st.SelectOutputs(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Beside the first output (a hotplug keeping it), only the second is
	// new, on the CRTC and plane the first leaves free.
	more, err := st.SelectOutputs(outs[:1])
	if err != nil || len(more) != 1 || more[0].Connector.ID != 2 || more[0].CRTC.ID != 21 || more[0].Plane.ID != 31 {
		t.Errorf("beside %v: %v, %v; want Virtual-2 on CRTC 21, plane 31", outs[0], more, err)
	}
	if _, err := st.SelectOutputs(outs); !errors.Is(err, ErrNoDisplay) {
		t.Errorf("beside both outputs: %v, want ErrNoDisplay", err)
	}
	if len(outs) != 2 {
		t.Fatalf("%d outputs, want 2 (the disconnected one skipped)", len(outs))
	}
	if outs[0].CRTC.ID != 20 || outs[0].Plane.ID != 30 || outs[1].CRTC.ID != 21 || outs[1].Plane.ID != 31 {
		t.Errorf("routes %v / %v", outs[0], outs[1])
	}
	if outs[1].Mode.Width() != 1024 {
		t.Errorf("second output mode %v, want its own 1024x768", outs[1].Mode)
	}
	// With a single CRTC, the second connector has nowhere to go.
	st.CRTCs = st.CRTCs[:1]
	if outs, err := st.SelectOutputs(nil); err != nil || len(outs) != 1 {
		t.Errorf("one CRTC: %d outputs, %v", len(outs), err)
	}
	st.Connectors = st.Connectors[2:]
	if _, err := st.SelectOutputs(nil); !errors.Is(err, ErrNoDisplay) {
		t.Errorf("no connected display: %v, want ErrNoDisplay", err)
	}
}

// TestOneSelectionRule: the output SelectOutput takes for the first frame
// is the one SelectOutputs takes first, route and all, so lighting the
// other displays later never moves the first one.
func TestOneSelectionRule(t *testing.T) {
	mode := func(w, h int) Mode { return Mode{HDisplay: uint16(w), VDisplay: uint16(h)} }
	st := &State{
		Connectors: []*Connector{
			{ID: 1, Name: "Virtual-1", Status: Disconnected, Encoders: []EncoderID{10}},
			{ID: 2, Name: "Virtual-2", Status: Connected, Modes: []Mode{mode(1024, 768)}, Encoders: []EncoderID{10, 11}, Encoder: 11},
			{ID: 3, Name: "Virtual-3", Status: Connected, Modes: []Mode{mode(800, 600)}, Encoders: []EncoderID{10}},
		},
		// Encoder 11 drives CRTC 21 (the console's): the first output
		// keeps it rather than taking CRTC 20.
		Encoders: []*Encoder{{ID: 10, PossibleCRTCs: 3}, {ID: 11, PossibleCRTCs: 3, CRTC: 21}},
		CRTCs:    []*CRTC{{ID: 20, Index: 0}, {ID: 21, Index: 1}},
		Planes: []*Plane{
			{ID: 30, Type: PlanePrimary, PossibleCRTCs: 3},
			{ID: 31, Type: PlanePrimary, PossibleCRTCs: 3, CRTC: 21},
		},
	}
	first, err := st.SelectOutput(OutputRequest{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.SelectOutputs(nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("SelectOutputs: %v, %v; want two outputs", all, err)
	}
	if *all[0] != *first || first.CRTC.ID != 21 || first.Plane.ID != 31 {
		t.Errorf("first output %v on CRTC %d plane %d; SelectOutputs' first %v", first, first.CRTC.ID, first.Plane.ID, all[0])
	}
	if all[1].Connector.ID != 3 || all[1].CRTC.ID != 20 || all[1].Plane.ID != 30 {
		t.Errorf("second output %v on CRTC %d plane %d, want Virtual-3 on CRTC 20 plane 30", all[1], all[1].CRTC.ID, all[1].Plane.ID)
	}
	rest, err := st.SelectOutputs([]*Output{first})
	if err != nil || len(rest) != 1 || *rest[0] != *all[1] {
		t.Errorf("beside the first: %v, %v; want %v", rest, err, all[1])
	}
}
