package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/internal/devperm"
)

// infoReport is what `bootsplash info` prints: what drm_info and modetest
// tell about the display devices, plus the buffer sources bootsplash uses.
type infoReport struct {
	Devices []deviceReport `json:"devices"`
	// Nodes are the DRM nodes: primary (card*) and render (renderD*).
	Nodes []nodeReport `json:"nodes"`
	// DeviceErrors are nodes that could not be opened or probed.
	DeviceErrors []string     `json:"device_errors,omitempty"`
	Heaps        []heapReport `json:"heaps"`
	HeapError    string       `json:"heap_error,omitempty"`
	Udmabuf      nodeReport   `json:"udmabuf"`
}

type deviceReport struct {
	Path       string            `json:"path"`
	Driver     client.DriverInfo `json:"driver"`
	Atomic     bool              `json:"atomic"`
	Universal  bool              `json:"universal_planes"`
	Caps       client.Caps       `json:"caps"`
	Connectors []connectorReport `json:"connectors"`
	CRTCs      []crtcReport      `json:"crtcs"`
	Planes     []planeReport     `json:"planes"`
	// Heap is the heap the device's scanout buffers would come from and
	// why, checked by offering it a small buffer from every heap.
	Heap heapChoiceReport `json:"heap"`
}

// heapChoiceReport is the heap rule's choice for one device and what the
// device answered to a small buffer from each heap.
type heapChoiceReport struct {
	client.HeapChoice
	Trials []heapTrialReport `json:"trials,omitempty"`
}

type heapTrialReport struct {
	Heap     string `json:"heap"`
	Type     string `json:"type"`
	Size     int    `json:"size"`
	Accepted bool   `json:"accepted"`
	Errno    string `json:"errno,omitempty"`
	Error    string `json:"error,omitempty"`
}

// heapTrialSize is the buffer offered from each heap: small, so that a
// CMA area is not strained; a scattered heap's buffer of this size is one
// chunk, so an acceptance of it proves little, a refusal a lot.
const heapTrialSize = 64 << 10

type connectorReport struct {
	ID               client.ConnectorID `json:"id"`
	Name             string             `json:"name"`
	Status           string             `json:"status"`
	WidthMM          int                `json:"width_mm"`
	HeightMM         int                `json:"height_mm"`
	PanelOrientation string             `json:"panel_orientation,omitempty"`
	EDIDBytes        int                `json:"edid_bytes"`
	Modes            []modeReport       `json:"modes"`
	Properties       []string           `json:"properties"`
}

type modeReport struct {
	Name      string `json:"name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	RefreshHz int    `json:"refresh_hz"`
	Preferred bool   `json:"preferred"`
}

type crtcReport struct {
	ID    client.CRTCID `json:"id"`
	Index int           `json:"index"`
	Mode  string        `json:"mode,omitempty"`
	FB    client.FBID   `json:"fb"`
}

type planeReport struct {
	ID            client.PlaneID      `json:"id"`
	Type          string              `json:"type"`
	PossibleCRTCs uint32              `json:"possible_crtcs"`
	CRTC          client.CRTCID       `json:"crtc"`
	FB            client.FBID         `json:"fb"`
	Formats       []string            `json:"formats"`
	Modifiers     map[string][]string `json:"modifiers,omitempty"`
	Rotations     uint64              `json:"rotations"`
	DamageClips   bool                `json:"damage_clips"`
	Properties    []string            `json:"properties"`
}

type heapReport struct {
	Name string `json:"name"`
	nodeReport
}

type nodeReport struct {
	Path    string `json:"path"`
	Kind    string `json:"kind,omitempty"` // DRM nodes: "primary", "render" or "not drm"
	Present bool   `json:"present"`
	Mode    string `json:"mode,omitempty"`
	Owner   string `json:"owner,omitempty"`
	// Ls is the mode and owner the way ls -l shows them.
	Ls string `json:"ls,omitempty"`
	// Accessible says whether this process may open the node the way
	// bootsplash does; Denied says why not.
	Accessible bool   `json:"accessible"`
	Denied     string `json:"denied,omitempty"`
}

func gatherInfo(devicePath string) *infoReport {
	r := &infoReport{}
	paths := []string{devicePath}
	if devicePath == "" {
		paths = client.Cards()
	}
	for _, p := range paths {
		if _, notDRM := drmKind(p); notDRM != "" {
			r.DeviceErrors = append(r.DeviceErrors, p+": "+notDRM)
			continue
		}
		d, err := probeDevice(p)
		if err != nil {
			r.DeviceErrors = append(r.DeviceErrors, err.Error())
			continue
		}
		r.Devices = append(r.Devices, *d)
	}
	heaps, err := access.Heaps()
	if err != nil {
		r.HeapError = err.Error()
	}
	for _, h := range heaps {
		r.Heaps = append(r.Heaps, heapReport{Name: h.Name, nodeReport: statNode(h.Path, access.CheckHeap(h.Name))})
	}
	r.Udmabuf = statNode("/dev/udmabuf", access.CheckUdmabuf())
	r.Nodes = drmNodes(paths)
	return r
}

// drmNodes reports the card nodes (as client.Open needs them) and the
// render nodes (which offer no mode setting).
func drmNodes(cards []string) []nodeReport {
	var nodes []nodeReport
	for _, p := range cards {
		kind, notDRM := drmKind(p)
		if notDRM != "" {
			// Whether it opens says nothing: it is no display.
			n := statNode(p, errors.New(notDRM))
			n.Kind = "not drm"
			nodes = append(nodes, n)
			continue
		}
		n := statNode(p, client.CheckAccess(p))
		n.Kind = kind
		nodes = append(nodes, n)
	}
	renders, _ := filepath.Glob("/dev/dri/renderD*")
	sort.Strings(renders)
	for _, p := range renders {
		n := statNode(p, devperm.Check(p, devperm.ReadWrite))
		n.Kind = "render"
		nodes = append(nodes, n)
	}
	return nodes
}

// drmMajor is the character device major of every DRM minor.
const drmMajor = 226

// drmKind says which DRM node path is, "primary" (card*, minors 0-127)
// or "render" (renderD*, 128 and up), or, when it is none, what it is
// instead. A path that cannot be stat'ed is left to the open's error.
func drmKind(path string) (kind, notDRM string) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&os.ModeCharDevice == 0:
		return "", fmt.Sprintf("not a DRM device: a %s, not a character device", fileKind(fi.Mode()))
	case !ok:
		return "", ""
	case unix.Major(uint64(st.Rdev)) != drmMajor:
		return "", fmt.Sprintf("not a DRM device: character device %d:%d, DRM devices have major %d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)), drmMajor)
	case unix.Minor(uint64(st.Rdev)) >= 128:
		return "render", ""
	}
	return "primary", ""
}

// fileKind names a file type the way a person would.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "regular file"
	case m&os.ModeDevice != 0:
		return "block device"
	case m&os.ModeNamedPipe != 0:
		return "FIFO"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// statNode describes the node at path; checkErr is why this process may
// not open it, or nil.
func statNode(path string, checkErr error) nodeReport {
	n := nodeReport{Path: path}
	st := devperm.Stat(path)
	if st.Err != nil {
		return n
	}
	n.Present = true
	n.Mode = fmt.Sprintf("%04o", st.Mode.Perm())
	n.Owner = fmt.Sprintf("%d:%d", st.UID, st.GID)
	n.Ls = st.String()
	n.Accessible = checkErr == nil
	if checkErr != nil {
		n.Denied = checkErr.Error()
	}
	return n
}

// access says whether the node may be opened, and why not.
func (n nodeReport) access() string {
	if n.Accessible {
		return "accessible"
	}
	return "not accessible: " + n.Denied
}

func probeDevice(path string) (*deviceReport, error) {
	dev, err := client.Open(path, client.Options{})
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	st, err := dev.Probe()
	if err != nil {
		return nil, err
	}
	d := &deviceReport{Path: dev.Path(), Driver: dev.Driver(), Atomic: dev.Atomic(), Universal: dev.UniversalPlanes(), Caps: dev.Caps()}
	d.Heap = heapChoiceOf(dev)
	for _, c := range st.Connectors {
		cr := connectorReport{ID: c.ID, Name: c.Name, Status: c.Status.String(), WidthMM: c.WidthMM, HeightMM: c.HeightMM,
			PanelOrientation: c.PanelOrientation, EDIDBytes: len(c.EDID), Properties: propNames(c.Props)}
		for _, m := range c.Modes {
			cr.Modes = append(cr.Modes, modeReport{Name: m.Name, Width: m.Width(), Height: m.Height(), RefreshHz: m.RefreshHz(), Preferred: m.Preferred()})
		}
		d.Connectors = append(d.Connectors, cr)
	}
	for _, c := range st.CRTCs {
		cr := crtcReport{ID: c.ID, Index: c.Index, FB: c.FB}
		if c.ModeValid {
			cr.Mode = c.Mode.String()
		}
		d.CRTCs = append(d.CRTCs, cr)
	}
	for _, p := range st.Planes {
		pr := planeReport{ID: p.ID, Type: p.Type.String(), PossibleCRTCs: p.PossibleCRTCs, CRTC: p.CRTC, FB: p.FB,
			Rotations: p.Rotations, DamageClips: p.DamageClips, Properties: propNames(p.Props)}
		for _, f := range p.Formats {
			pr.Formats = append(pr.Formats, f.String())
		}
		if len(p.Modifiers) > 0 {
			pr.Modifiers = map[string][]string{}
			for f, mods := range p.Modifiers {
				for _, m := range mods {
					pr.Modifiers[f.String()] = append(pr.Modifiers[f.String()], m.String())
				}
			}
		}
		d.Planes = append(d.Planes, pr)
	}
	return d, nil
}

// heapChoiceOf is the heap rule's choice for dev, each heap checked by
// importing a small buffer.
func heapChoiceOf(dev *client.Device) heapChoiceReport {
	r := heapChoiceReport{HeapChoice: dev.HeapChoice()}
	for _, t := range dev.TryHeaps(r.HeapChoice, heapTrialSize) {
		tr := heapTrialReport{Heap: t.Heap.Name, Type: t.Heap.Type.String(), Size: t.Size, Accepted: t.Accepted(), Errno: t.Errno}
		if t.Err != nil {
			tr.Error = t.Err.Error()
		}
		r.Trials = append(r.Trials, tr)
	}
	return r
}

// writeHeapChoice prints the heap section of one device.
func writeHeapChoice(b *strings.Builder, h heapChoiceReport) {
	fmt.Fprintf(b, "  heap: %s\n", h.Why)
	for _, t := range h.Trials {
		fmt.Fprintf(b, "    %q (%s): ", t.Heap, t.Type)
		switch {
		case t.Accepted && h.Class.Memory == client.MemoryContiguous && (t.Type == "system" || t.Type == "system-uncached"):
			fmt.Fprintf(b, "accepted a %d KiB buffer (by luck: scattered pages, adjacent this time)\n", t.Size>>10)
		case t.Accepted:
			fmt.Fprintf(b, "accepted a %d KiB buffer\n", t.Size>>10)
		case t.Errno != "":
			fmt.Fprintf(b, "refused a %d KiB buffer: %s (%s)\n", t.Size>>10, t.Errno, t.Error)
		default:
			fmt.Fprintf(b, "refused a %d KiB buffer: %s\n", t.Size>>10, t.Error)
		}
	}
}

func propNames(p client.Properties) []string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *infoReport) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *infoReport) writeText(w io.Writer) error {
	var b strings.Builder
	if len(r.Devices) == 0 && len(r.DeviceErrors) == 0 {
		b.WriteString("No DRM devices (/dev/dri/card* absent): `bootsplash run` would use the emulated display.\n")
	}
	for _, d := range r.Devices {
		api := "legacy"
		if d.Atomic {
			api = "atomic"
		}
		fmt.Fprintf(&b, "%s: %s, %s\n", d.Path, d.Driver, api)
		fmt.Fprintf(&b, "  caps: dumb=%v prime-import=%v prime-export=%v preferred-depth=%d prefer-shadow=%v addfb2-modifiers=%v async-flip=%v\n",
			d.Caps.DumbBuffer, d.Caps.PrimeImport, d.Caps.PrimeExport, d.Caps.PreferredDepth, d.Caps.PreferShadow, d.Caps.AddFB2Modifiers, d.Caps.AsyncPageFlip)
		writeHeapChoice(&b, d.Heap)
		for _, c := range d.Connectors {
			fmt.Fprintf(&b, "  connector %d %s: %s, %dx%d mm", c.ID, c.Name, c.Status, c.WidthMM, c.HeightMM)
			if c.PanelOrientation != "" {
				fmt.Fprintf(&b, ", panel orientation %s", c.PanelOrientation)
			}
			if c.EDIDBytes > 0 {
				fmt.Fprintf(&b, ", EDID %d bytes", c.EDIDBytes)
			}
			b.WriteString("\n")
			if len(c.Modes) > 0 {
				var ms []string
				for _, m := range c.Modes {
					s := fmt.Sprintf("%dx%d@%d", m.Width, m.Height, m.RefreshHz)
					if m.Preferred {
						s += "*"
					}
					ms = append(ms, s)
				}
				fmt.Fprintf(&b, "    modes (* preferred): %s\n", strings.Join(ms, " "))
			}
			fmt.Fprintf(&b, "    properties: %s\n", strings.Join(c.Properties, ", "))
		}
		for _, c := range d.CRTCs {
			mode := c.Mode
			if mode == "" {
				mode = "off"
			}
			fmt.Fprintf(&b, "  crtc %d (index %d): %s, fb %d\n", c.ID, c.Index, mode, c.FB)
		}
		for _, p := range d.Planes {
			fmt.Fprintf(&b, "  plane %d %s: crtcs %#x, on crtc %d fb %d, damage clips %v, rotations %#x\n",
				p.ID, p.Type, p.PossibleCRTCs, p.CRTC, p.FB, p.DamageClips, p.Rotations)
			fmt.Fprintf(&b, "    formats: %s\n", strings.Join(p.Formats, " "))
			fs := make([]string, 0, len(p.Modifiers))
			for f := range p.Modifiers {
				fs = append(fs, f)
			}
			sort.Strings(fs)
			for _, f := range fs {
				fmt.Fprintf(&b, "    modifiers %s: %s\n", f, strings.Join(p.Modifiers[f], " "))
			}
			fmt.Fprintf(&b, "    properties: %s\n", strings.Join(p.Properties, ", "))
		}
	}
	if len(r.Nodes) > 0 {
		b.WriteString("DRM nodes (as this process, uid " + strconv.Itoa(os.Geteuid()) + "):\n")
	}
	for _, n := range r.Nodes {
		switch {
		case n.Kind == "render":
			fmt.Fprintf(&b, "  %s (render node: no mode setting) %s, %s\n", n.Path, n.Ls, n.access())
		case !n.Present:
			fmt.Fprintf(&b, "  %s absent\n", n.Path)
		case n.Kind == "not drm":
			fmt.Fprintf(&b, "  %s %s, %s\n", n.Path, n.Ls, n.Denied)
		case n.Accessible:
			fmt.Fprintf(&b, "  %s (primary node) %s, accessible\n", n.Path, n.Ls)
		default:
			fmt.Fprintf(&b, "  %s (primary node) %s, not accessible (see the device error)\n", n.Path, n.Ls)
		}
	}
	for _, e := range r.DeviceErrors {
		fmt.Fprintf(&b, "device error: %s\n", e)
	}
	b.WriteString("dma-buf heaps:")
	if r.HeapError != "" {
		fmt.Fprintf(&b, " none (%s)\n", r.HeapError)
	} else {
		b.WriteString("\n")
	}
	for _, h := range r.Heaps {
		fmt.Fprintf(&b, "  %s: %s %s, %s\n", h.Name, h.Path, h.Ls, h.access())
	}
	if r.Udmabuf.Present {
		fmt.Fprintf(&b, "udmabuf: %s %s, %s\n", r.Udmabuf.Path, r.Udmabuf.Ls, r.Udmabuf.access())
	} else {
		fmt.Fprintf(&b, "udmabuf: %s absent (kernel without CONFIG_UDMABUF)\n", r.Udmabuf.Path)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
