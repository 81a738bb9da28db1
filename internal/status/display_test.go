package status

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
)

// Show draws the whole screen first, then each second only what changed,
// presents a head only when something changed, and returns nil as soon
// as ctx is done.
func TestShow(t *testing.T) {
	presents := 0
	d, err := display.NewEmulated(display.EmulatedOptions{Size: image.Pt(320, 240),
		Present: func(*fbemu.Emulated) error { presents++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := &fake{}
	clock := t0
	ctx, cancel := context.WithCancel(context.Background())
	var updates []Update
	done := make(chan error, 1)
	go func() {
		done <- Show(ctx, d, Options{Fields: Standard(f.sources(), "/", ""), Now: func() time.Time { return clock }},
			func(h *display.Head, u Update) {
				updates = append(updates, u)
				if len(updates) == 1 {
					clock = clock.Add(time.Second) // the clock turns once
				}
				if len(updates) == 3 {
					cancel()
				}
			})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Show did not end")
	}
	if len(updates) != 3 || updates[0].Pixels != 320*240 || updates[1].Regions != 1 || updates[2].Pixels != 0 {
		t.Errorf("updates %+v: want the whole screen, then the clock, then nothing", updates)
	}
	if presents != 2 {
		t.Errorf("%d presents, want 2 (an update with no damage presents nothing)", presents)
	}
}
