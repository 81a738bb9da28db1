package client

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// TestKernelUevents reads the events of card0 from a uevent socket
// opened by ListenUevents: a "change" the kernel broadcasts for the card
// when asked through its sysfs uevent file (what the hotplug VM test does,
// because forcing a connector of virtio-gpu, cirrus or bochs through sysfs
// changes its status without an event: none of them polls connectors), and
// a forced connector showing in the next probe. Close stops a blocked
// Next.
func TestKernelUevents(t *testing.T) {
	testutil.NeedPath(t, "/dev/dri/card0")
	conns, _ := filepath.Glob("/sys/class/drm/card0-*/status")
	if len(conns) == 0 {
		testutil.Unavailable(t, "card0 has no connector in sysfs")
	}
	l, err := ListenUevents()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	events := make(chan Uevent, 64)
	go func() {
		defer close(events)
		for {
			u, err := l.Next()
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if err != nil {
				t.Errorf("Next: %v", err)
				return
			}
			events <- u
		}
	}()

	// Force the last connector to the other state.
	status := conns[len(conns)-1]
	name := strings.TrimSuffix(strings.TrimPrefix(status, "/sys/class/drm/card0-"), "/status")
	defer os.WriteFile(status, []byte("detect"), 0)
	now, err := os.ReadFile(status)
	if err != nil {
		t.Fatal(err)
	}
	force, want := "off", Disconnected
	if strings.TrimSpace(string(now)) != "connected" {
		force, want = "on", Connected
	}
	if err := os.WriteFile(status, []byte(force), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/sys/class/drm/card0/uevent", []byte("change"), 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case u, ok := <-events:
			if !ok {
				t.Fatal("the listener stopped")
			}
			t.Logf("%v (card %q, seqnum %d)", u, u.Card(), u.Seqnum)
			got = u.Action == "change" && u.Card() == "/dev/dri/card0" && u.DevType == "drm_minor" && u.Seqnum > 0
		case <-deadline:
			t.Fatal("no change event on card0 within 10s")
		}
	}
	d := openCard(t, Options{})
	st, err := d.Probe()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range st.Connectors {
		if c.Name == name {
			found = true
			if c.Status != want {
				t.Errorf("%s forced %s probes %v", name, force, c.Status)
			}
		}
	}
	if !found {
		t.Errorf("no connector %s in the probe", name)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for range events {
	}
	if err := l.Close(); err == nil {
		t.Error("a second Close succeeded")
	}
}
