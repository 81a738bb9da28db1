package client

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Uevent is one kernel object event as lib/kobject_uevent.c broadcasts it
// on NETLINK_KOBJECT_UEVENT: a header "ACTION@DEVPATH" followed by
// NUL-terminated KEY=VALUE pairs. For DRM, drm_sysfs_hotplug_event sends
// "change" with HOTPLUG=1 on the card when connectors changed (with
// CONNECTOR=id when the kernel knows which), and the card's minor device
// sends "add" and "remove" when the driver binds and when the device goes.
type Uevent struct {
	// Action is "add", "remove", "change", "bind", "unbind", "move",
	// "online" or "offline".
	Action string
	// DevPath is the device's sysfs path below /sys.
	DevPath string
	// Subsystem is the device's subsystem ("drm" for cards and connectors).
	Subsystem string
	// DevName is the device node below /dev ("dri/card0"); "" for devices
	// without one, such as connectors.
	DevName string
	// DevType is "drm_minor" for DRM nodes, "drm_connector" for connectors.
	DevType string
	// Hotplug is set by the HOTPLUG=1 key of a DRM change event.
	Hotplug bool
	// Connector is the connector a DRM hotplug event names, 0 if none.
	Connector ConnectorID
	// Seqnum is the kernel's event sequence number.
	Seqnum uint64
	// Env holds every KEY=VALUE pair of the event.
	Env map[string]string
}

// maxUevent bounds one event: the kernel sends at most its 2048-byte
// environment (UEVENT_BUFFER_SIZE) after the ACTION@DEVPATH header.
const maxUevent = 8192

// ParseUevent decodes one datagram from the kernel's uevent socket. It
// refuses udev's re-broadcasts (which begin "libudev"), a missing or
// malformed header, pairs without '=', and an ACTION or DEVPATH key that
// contradicts the header, naming the offset of what is wrong.
func ParseUevent(b []byte) (Uevent, error) {
	if len(b) > maxUevent {
		return Uevent{}, fmt.Errorf("uevent: %d bytes, more than an event can be (%d)", len(b), maxUevent)
	}
	if bytes.HasPrefix(b, []byte("libudev")) {
		return Uevent{}, errors.New("uevent: a udev re-broadcast, not a kernel event")
	}
	head, rest, _ := bytes.Cut(b, []byte{0})
	action, devpath, ok := strings.Cut(string(head), "@")
	if !ok || action == "" || !strings.HasPrefix(devpath, "/") {
		return Uevent{}, fmt.Errorf("uevent: header %q is not ACTION@DEVPATH", clip(head))
	}
	u := Uevent{Action: action, DevPath: devpath, Env: map[string]string{}}
	off := len(head) + 1
	for len(rest) > 0 {
		kv, next, _ := bytes.Cut(rest, []byte{0})
		if len(kv) > 0 {
			k, v, ok := strings.Cut(string(kv), "=")
			if !ok || k == "" {
				return Uevent{}, fmt.Errorf("uevent: at byte %d: %q is not KEY=VALUE", off, clip(kv))
			}
			u.Env[k] = v
		}
		off += len(kv) + 1
		rest = next
	}
	if a, ok := u.Env["ACTION"]; ok && a != action {
		return Uevent{}, fmt.Errorf("uevent: ACTION=%s contradicts the header's %q", a, action)
	}
	if p, ok := u.Env["DEVPATH"]; ok && p != devpath {
		return Uevent{}, fmt.Errorf("uevent: DEVPATH=%s contradicts the header's %q", p, devpath)
	}
	u.Subsystem, u.DevName, u.DevType = u.Env["SUBSYSTEM"], u.Env["DEVNAME"], u.Env["DEVTYPE"]
	u.Hotplug = u.Env["HOTPLUG"] == "1"
	if c, ok := u.Env["CONNECTOR"]; ok {
		id, err := strconv.ParseUint(c, 10, 32)
		if err != nil {
			return Uevent{}, fmt.Errorf("uevent: CONNECTOR=%s: not a connector id", c)
		}
		u.Connector = ConnectorID(id)
	}
	if s, ok := u.Env["SEQNUM"]; ok {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return Uevent{}, fmt.Errorf("uevent: SEQNUM=%s: not a number", s)
		}
		u.Seqnum = n
	}
	return u, nil
}

// clip shortens what an error quotes.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// Card returns the card node the event is about ("/dev/dri/card0"), or ""
// when it is not about a DRM card (a render node, a connector, another
// subsystem).
func (u Uevent) Card() string {
	if u.Subsystem != "drm" || !strings.HasPrefix(u.DevName, "dri/card") {
		return ""
	}
	return "/dev/" + u.DevName
}

// String is the header and the keys that matter for DRM, for logs.
func (u Uevent) String() string {
	s := u.Action + "@" + u.DevPath
	if u.Hotplug {
		s += " HOTPLUG=1"
	}
	if u.Connector != 0 {
		s += fmt.Sprintf(" CONNECTOR=%d", u.Connector)
	}
	return s
}

// ErrUeventOverflow is what UeventListener.Next returns when the kernel
// dropped events because the socket's buffer was full (ENOBUFS): whoever
// listens must assume anything changed and look again.
var ErrUeventOverflow = errors.New("uevents were lost (socket buffer overflow)")
