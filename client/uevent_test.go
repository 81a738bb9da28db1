package client

import (
	"strings"
	"testing"
)

func TestParseUevent(t *testing.T) {
	ev := "change@/devices/pci0000:00/0000:00:02.0/drm/card0\x00ACTION=change\x00DEVPATH=/devices/pci0000:00/0000:00:02.0/drm/card0\x00SUBSYSTEM=drm\x00HOTPLUG=1\x00CONNECTOR=37\x00DEVNAME=dri/card0\x00DEVTYPE=drm_minor\x00SEQNUM=2412\x00MAJOR=226\x00MINOR=0\x00"
	u, err := ParseUevent([]byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	if u.Action != "change" || u.Card() != "/dev/dri/card0" || !u.Hotplug || u.Connector != 37 || u.Seqnum != 2412 || u.DevType != "drm_minor" || u.Env["MAJOR"] != "226" {
		t.Errorf("parsed %+v", u)
	}
	if s := u.String(); s != "change@/devices/pci0000:00/0000:00:02.0/drm/card0 HOTPLUG=1 CONNECTOR=37" {
		t.Errorf("String: %q", s)
	}
	for in, want := range map[string]string{
		"remove@/devices/x/drm/renderD128\x00SUBSYSTEM=drm\x00DEVNAME=dri/renderD128\x00": "",
		"add@/devices/x/drm/card1\x00SUBSYSTEM=drm\x00DEVNAME=dri/card1\x00":              "/dev/dri/card1",
		"change@/devices/x/drm/card0/card0-VGA-1\x00SUBSYSTEM=drm\x00":                    "",
		"add@/devices/x/input/event3\x00SUBSYSTEM=input\x00DEVNAME=dri/card9\x00":         "",
	} {
		u, err := ParseUevent([]byte(in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
		} else if u.Card() != want {
			t.Errorf("%q: Card() = %q, want %q", in, u.Card(), want)
		}
	}
}

func TestParseUeventRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"":                                          "not ACTION@DEVPATH",
		"change":                                    "not ACTION@DEVPATH",
		"@/devices/x\x00":                           "not ACTION@DEVPATH",
		"change@devices\x00":                        "not ACTION@DEVPATH",
		"libudev\x00\xfe\xed\xca\xfe":               "udev re-broadcast",
		"change@/d\x00SUBSYSTEM\x00":                "at byte 10",
		"change@/d\x00=x\x00":                       "is not KEY=VALUE",
		"change@/d\x00ACTION=add\x00":               "contradicts",
		"change@/d\x00DEVPATH=/e\x00":               "contradicts",
		"change@/d\x00CONNECTOR=-1\x00":             "not a connector id",
		"change@/d\x00SEQNUM=x\x00":                 "SEQNUM=x",
		"change@/d\x00" + strings.Repeat("A", 9000): "more than an event can be",
	} {
		_, err := ParseUevent([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", in, err, want)
		}
	}
}

func FuzzParseUevent(f *testing.F) {
	f.Add([]byte("change@/devices/pci0000:00/0000:00:02.0/drm/card0\x00ACTION=change\x00SUBSYSTEM=drm\x00HOTPLUG=1\x00CONNECTOR=37\x00DEVNAME=dri/card0\x00SEQNUM=1\x00"))
	f.Add([]byte("remove@/devices/pci0000:00/0000:00:02.0/drm/card0\x00SUBSYSTEM=drm\x00DEVNAME=dri/card0\x00DEVTYPE=drm_minor\x00"))
	f.Add([]byte("libudev\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUevent(b)
		if err != nil {
			return
		}
		if u.Action == "" || !strings.HasPrefix(u.DevPath, "/") || u.Env == nil {
			t.Fatalf("accepted %q as %+v", b, u)
		}
		if c := u.Card(); c != "" && (u.Subsystem != "drm" || !strings.HasPrefix(c, "/dev/dri/card")) {
			t.Fatalf("Card() = %q for %+v", c, u)
		}
	})
}
