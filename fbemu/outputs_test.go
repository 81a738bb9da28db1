package fbemu

import (
	"errors"
	"testing"

	"github.com/bootsplash/bootsplash/client"
)

func TestSelectOutputsGivesEachItsOwnCRTC(t *testing.T) {
	mode := func(w, h int) client.Mode { return client.Mode{HDisplay: uint16(w), VDisplay: uint16(h)} }
	st := &client.State{
		Connectors: []*client.Connector{
			{ID: 1, Name: "Virtual-1", Status: client.Connected, Modes: []client.Mode{mode(1280, 800)}, Encoders: []client.EncoderID{10}, Encoder: 10},
			{ID: 2, Name: "Virtual-2", Status: client.Connected, Modes: []client.Mode{mode(1024, 768)}, Encoders: []client.EncoderID{11}},
			{ID: 3, Name: "Virtual-3", Status: client.Disconnected, Modes: []client.Mode{mode(640, 480)}, Encoders: []client.EncoderID{11}},
		},
		Encoders: []*client.Encoder{{ID: 10, PossibleCRTCs: 3, CRTC: 20}, {ID: 11, PossibleCRTCs: 3}},
		CRTCs:    []*client.CRTC{{ID: 20, Index: 0}, {ID: 21, Index: 1}},
		Planes: []*client.Plane{
			{ID: 30, Type: client.PlanePrimary, PossibleCRTCs: 1, CRTC: 20},
			{ID: 31, Type: client.PlanePrimary, PossibleCRTCs: 2},
			{ID: 32, Type: client.PlaneCursor, PossibleCRTCs: 3},
		},
	}
	outs, err := SelectOutputs(st)
	if err != nil {
		t.Fatal(err)
	}
	// Beside the first output (a hotplug keeping it), only the second is
	// new, on the CRTC and plane the first leaves free.
	more, err := SelectOutputsWith(st, OutputsRequest{Busy: outs[:1]})
	if err != nil || len(more) != 1 || more[0].Connector.ID != 2 || more[0].CRTC.ID != 21 || more[0].Plane.ID != 31 {
		t.Errorf("beside %v: %v, %v; want Virtual-2 on CRTC 21, plane 31", outs[0], more, err)
	}
	if _, err := SelectOutputsWith(st, OutputsRequest{Busy: outs}); !errors.Is(err, client.ErrNoDisplay) {
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
	if outs, err := SelectOutputs(st); err != nil || len(outs) != 1 {
		t.Errorf("one CRTC: %d outputs, %v", len(outs), err)
	}
	st.Connectors = st.Connectors[2:]
	if _, err := SelectOutputs(st); !errors.Is(err, client.ErrNoDisplay) {
		t.Errorf("no connected display: %v, want ErrNoDisplay", err)
	}
}
