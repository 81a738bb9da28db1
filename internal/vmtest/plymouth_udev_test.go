package vmtest

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// initramfsUdevRules are the udev rules Debian's initramfs-tools puts into
// an initramfs (hooks/udev), from the udev and systemd packages: among
// them 71-seat.rules, which tags fb* and card* "seat", the tag plymouthd
// asks for before it takes a device.
var initramfsUdevRules = []string{
	"50-firmware.rules", "50-udev-default.rules", "60-block.rules", "60-persistent-storage.rules",
	"61-persistent-storage-android.rules", "71-seat.rules", "73-special-net-names.rules",
	"75-net-description.rules", "80-net-setup-link.rules", "80-drivers.rules",
}

// TestVMPlymouthUdevFirmware is TestVMFirmwareFirstFrame's comparison made
// fair to plymouthd: in the same boot through OVMF on bochs-display with
// the Debian 6.12 kernel and only efifb's fb0, Debian's systemd-udevd
// runs beside plymouthd, as in a real initramfs (started, the coldplug
// triggered and settled as initramfs-tools does it, with the rules it
// copies), and plymouthd runs with Debian's own configuration
// (plymouthd.defaults: DeviceTimeout=8) and the BGRT theme. With udev,
// plymouth 22.02 takes a DRM card as soon as udev has one, and enumerates
// the "graphics" subsystem (fb0, through its frame-buffer renderer) only
// once DeviceTimeout has passed without a DRM card.
//
// First `bootsplash run` is timed on fb0 as the other test does it, then
// udev is started and settled, then plymouthd: from its start to the
// first change on screen seen from the host. Then bochs is loaded with
// plymouthd still running, and the screen is followed (every screendump
// that differs from the one before in more than the spinner kept with its
// time, and the longest stretch with no change at all) until 5 s after
// card0 appeared with no such change: whether plymouthd moves to card0,
// when, and what was on screen in between. plymouthd's trace
// (plymouth.debug=stream:, off the console, which would show it) is
// printed: the device manager's lines.
func TestVMPlymouthUdevFirmware(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	// Debian's defaults but for the theme.
	g := newPlymouthGuest(t, ctx, "plymouth-udev", "[Daemon]\nTheme=bgrt\n")
	const gh = "/bin/guesthelper"
	root, k, out := g.root, g.k, g.out
	files := g.files

	// Debian's udevd (udevadm, which is systemd-udevd by its name) and
	// the rules initramfs-tools copies.
	udevTree := fetchDebTree(t, ctx, root, "udev")
	systemdTree := fetchDebTree(t, ctx, root, "systemd")
	udevadm := filepath.Join(udevTree, "bin/udevadm")
	uf, err := ProgramFiles(udevadm, "/bin/udevadm")
	if err != nil {
		t.Fatalf("udevadm cannot go into the guest: %v", err)
	}
	files = append(files, uf...)
	files = append(files, File{Path: "/lib/systemd/systemd-udevd", HostPath: udevadm},
		File{Path: "/etc/udev/udev.conf", HostPath: filepath.Join(udevTree, "etc/udev/udev.conf")})
	var rules []string
	for _, r := range initramfsUdevRules {
		for _, tree := range []string{udevTree, systemdTree} {
			p := filepath.Join(tree, "lib/udev/rules.d", r)
			if _, err := os.Stat(p); err == nil {
				files = append(files, File{Path: "/lib/udev/rules.d/" + r, HostPath: p})
				rules = append(rules, r)
				break
			}
		}
	}
	for _, must := range []string{"50-udev-default.rules", "71-seat.rules"} {
		found := false
		for _, r := range rules {
			found = found || r == must
		}
		if !found {
			t.Fatalf("%s is in neither Debian's udev nor its systemd package", must)
		}
	}

	long := proto.Duration(2 * time.Minute)
	changes := screenChanges{}
	var tl *screenTimeline
	steps := append(firstFrameSteps(long), []proto.Step{
		// As initramfs-tools' init-top/udev starts it.
		{Name: "udevd", Cmd: []string{"/lib/systemd/systemd-udevd", "--daemon", "--resolve-names=never"}, Timeout: long},
		{Name: "trigger subsystems", Cmd: []string{"/bin/udevadm", "trigger", "--type=subsystems", "--action=add"}, Timeout: long},
		{Name: "trigger devices", Cmd: []string{"/bin/udevadm", "trigger", "--type=devices", "--action=add"}, Timeout: long},
		{Name: "settle", Cmd: []string{"/bin/udevadm", "settle", "--timeout=60"}, Timeout: long},
		{Name: "udev fb0", Cmd: []string{"/bin/udevadm", "info", "/dev/fb0"}, Timeout: long},
		{Name: "arm plymouthd", Host: true},
		{Name: "plymouthd", Cmd: []string{"/bin/ttff_plymouth"}, Background: true, Timeout: proto.Duration(5 * time.Minute)},
		{Name: "seen plymouthd", Host: true, Timeout: long},
		{Name: "follow", Host: true},
		{Name: "load bochs", Cmd: g.insmod, Timeout: long},
		{Name: "card0", WaitPath: "/dev/dri/card0", Timeout: long},
		{Name: "still", Host: true, Timeout: long},
		{Name: "udev card0", Cmd: []string{"/bin/udevadm", "info", "/dev/dri/card0"}, Timeout: long},
	}...)
	steps = append(steps, plymouthdQuitSteps()...)
	steps = append(steps,
		proto.Step{Name: "debug", Cmd: []string{gh, "cat", "/run/plymouth.debug"}},
		proto.Step{Name: "dmesg", Cmd: []string{gh, "dmesg"}})
	cfg := g.ovmfConfig(t, BochsDisplay, 15*time.Minute, steps)
	cfg.Files = dedupFiles(files)
	cfg.Append = append(cfg.Append, "splash", "plymouth.ignore-serial-consoles", "plymouth.debug=stream:/run/plymouth.debug")
	// Nothing on screen from plymouthd is a result, said below from its
	// debug log.
	cfg.Host = changes.plymouthHost(35 * time.Second)
	cfg.Host["follow"] = func(ctx context.Context, m *Machine) error {
		tl = followScreen(m, out)
		return nil
	}
	cfg.Host["still"] = func(ctx context.Context, m *Machine) error { return tl.awaitStill(5*time.Second, time.Minute) }
	// How plymouthd exits after `plymouth quit` is not what is checked.
	rep := bootChecked(t, ctx, cfg, "plymouthd wait")
	debug := string(rep.Step("debug").Output)
	_ = os.WriteFile(filepath.Join(out, "plymouth.debug"), []byte(debug), 0o644)
	_ = os.WriteFile(filepath.Join(out, "dmesg.txt"), rep.Step("dmesg").Output, 0o644)
	if info := string(rep.Step("udev fb0").Output); !strings.Contains(info, "seat") {
		t.Errorf("udev did not tag fb0 \"seat\" (plymouthd takes no untagged device):\n%s", info)
	}

	kstart := kernelStartOffset(t, rep)
	atInit := func(d time.Duration) time.Duration {
		return (kstart + rep.Step("uptime").Start + d).Round(time.Millisecond)
	}
	udevTook := rep.Step("udev fb0").Start - rep.Step("udevd").Start
	var summary strings.Builder
	fmt.Fprintf(&summary, "first frame through OVMF on bochs-display (%s), efifb's fb0 only, plymouthd beside systemd-udevd:\n", k.Release)
	if w, r := changes["bootsplash"], rep.Step("bootsplash"); w != nil && !w.at.IsZero() {
		d := w.at.Sub(r.HostStart)
		fmt.Fprintf(&summary, "  bootsplash first change on screen %v after it started (screendumps every %v); as if started at init: %v after kernel start\n",
			d.Round(time.Millisecond), w.every().Round(time.Millisecond), atInit(d))
	} else {
		t.Error("bootsplash: no change on screen seen")
	}
	fmt.Fprintf(&summary, "  udev: systemd-udevd --daemon, trigger subsystems and devices, settle: %v (guest clock)\n", udevTook.Round(time.Millisecond))
	var plyFirst *image.RGBA
	if w, r := changes["plymouthd"], rep.Step("plymouthd"); w != nil && !w.at.IsZero() && r.Started {
		d := w.at.Sub(r.HostStart)
		if img, err := readPNG(filepath.Join(out, "changed-plymouthd.png")); err == nil {
			plyFirst = image.NewRGBA(img.Bounds())
			draw.Draw(plyFirst, img.Bounds(), img, img.Bounds().Min, draw.Src)
		}
		what := "not black"
		if plyFirst != nil && isBlack(plyFirst) {
			what = "all black"
		}
		fmt.Fprintf(&summary, "  plymouthd first change on screen (%s, kept as changed-plymouthd.png) %v after it started (screendumps every %v); as if started at init after udev settled: %v after kernel start\n",
			what, d.Round(time.Millisecond), w.every().Round(time.Millisecond), atInit(udevTook+d))
	} else {
		fmt.Fprintf(&summary, "  plymouthd nothing on screen within 35 s of its start (see plymouth.debug)\n")
		// With udev and 71-seat.rules it takes fb0 once DeviceTimeout
		// has passed: a piece is missing.
		t.Error("plymouthd: no change on screen seen")
	}
	if tl != nil {
		load := rep.Step("load bochs")
		fmt.Fprintf(&summary, "  after bochs's load began (host clock; card0 appeared %v after it by the guest's clock):\n",
			(rep.Step("card0").Start - load.Start).Round(time.Millisecond))
		cs := tl.changes()
		for i, c := range cs {
			if i+1 < len(cs) && !cs[i+1].at.After(load.HostStart) {
				continue // the last before the load is the screen then
			}
			desc := fmt.Sprintf("%dx%d", c.img.Bounds().Dx(), c.img.Bounds().Dy())
			switch {
			case isBlack(c.img):
				desc += ", all black"
			case plyFirst != nil && c.img.Bounds() == plyFirst.Bounds():
				if n, _ := comparePixels(c.img, plyFirst); n == 0 {
					desc += ", plymouthd's frame on fb0"
				} else {
					desc += fmt.Sprintf(", %d pixels differ from plymouthd's frame on fb0", n)
				}
			}
			if c.small > 0 {
				desc += fmt.Sprintf("; then %d smaller changes (the spinner)", c.small)
			}
			fmt.Fprintf(&summary, "    %8v  %s (%s)\n", c.at.Sub(load.HostStart).Round(time.Millisecond), desc, c.name)
		}
		fmt.Fprintf(&summary, "    (%d screendumps, every %v on average)\n", tl.shots, tl.every().Round(time.Millisecond))
		if from, to, ok := tl.longestStill(load.HostStart); ok {
			fmt.Fprintf(&summary, "  the screen did not change (the spinner stood still) for at most %v after the load began: from %v to %v after it\n",
				to.Sub(from).Round(time.Millisecond), from.Sub(load.HostStart).Round(time.Millisecond), to.Sub(load.HostStart).Round(time.Millisecond))
		}
		if plyFirst != nil && tl.final != nil && tl.final.Bounds() == plyFirst.Bounds() {
			n, _ := comparePixels(tl.final, plyFirst)
			fmt.Fprintf(&summary, "  the last screendump (plymouthd on card0) differs from its first frame on fb0 in %d pixels (the spinner)\n", n)
		}
	}
	for _, l := range strings.Split(string(rep.Step("dmesg").Output), "\n") {
		if strings.Contains(l, "bochs") || strings.Contains(l, "efifb") || strings.Contains(l, "switching to") {
			fmt.Fprintf(&summary, "  dmesg: %s\n", strings.TrimSpace(l))
		}
	}
	var plyLines []string
	for _, l := range strings.Split(debug, "\n") {
		for _, w := range []string{"Timeout elapsed", "found DRM device", "found frame buffer device", "creating devices for", "got add event", "got remove event", "got change event", "opened renderer plugin", "could not open", "ignoring", "doesn't have a devices tag", "not initialized", "Creating non-graphical", "showing splash", "show_splash"} {
			if strings.Contains(l, w) {
				plyLines = append(plyLines, strings.Join(strings.Fields(l), " "))
				break
			}
		}
	}
	if len(plyLines) > 0 {
		fmt.Fprintf(&summary, "  plymouth.debug, the device lines:\n    %s\n", strings.Join(plyLines, "\n    "))
	}
	t.Log("\n" + summary.String())
	_ = os.WriteFile(filepath.Join(out, "summary.txt"), []byte(summary.String()), 0o644)
	if debug == "" {
		t.Error("plymouthd wrote no debug log")
	}
}

// screenTimeline takes screendumps back to back and keeps each that
// differs from the one before in more than bigChange of its pixels (or
// in size, or in being all black), with the host's time it was asked
// for: a theme's animation (the BGRT theme's spinner) changes less.
type screenTimeline struct {
	dir  string
	mu   sync.Mutex
	list []screenChange
	// every is when each change was seen, small ones included.
	seen  []time.Time
	final *image.RGBA
	last  time.Time // when the screen last changed that much
	shots int
	start time.Time
	ended time.Time
	stop  chan struct{}
	done  chan struct{}
	err   error
}

// bigChange is the share of a screen's pixels a change must exceed to
// be kept.
const bigChange = 0.01

type screenChange struct {
	at   time.Time
	img  *image.RGBA
	name string
	// small counts the smaller changes seen after this one.
	small int
}

func followScreen(m *Machine, dir string) *screenTimeline {
	tl := &screenTimeline{dir: dir, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tl.done)
		var prev *image.RGBA
		for {
			select {
			case <-tl.stop:
				return
			default:
			}
			at := time.Now()
			shot, err := m.Screendump("follow", 0)
			if err != nil {
				tl.err = err
				return
			}
			tl.mu.Lock()
			tl.shots++
			big := prev == nil || shot.Bounds() != prev.Bounds() || isBlack(shot) != isBlack(prev)
			n := 0
			if !big {
				n, _ = comparePixels(shot, prev)
				big = float64(n) > bigChange*float64(shot.Bounds().Dx()*shot.Bounds().Dy())
			}
			if big || n != 0 {
				tl.seen = append(tl.seen, at)
			}
			tl.final = shot
			if big {
				name := "follow-" + strconv.Itoa(len(tl.list)) + ".png"
				_ = writePNG(filepath.Join(tl.dir, name), shot)
				tl.list = append(tl.list, screenChange{at: at, img: shot, name: name})
				tl.last = at
			} else if n != 0 {
				tl.list[len(tl.list)-1].small++
			}
			tl.mu.Unlock()
			prev = shot
		}
	}()
	return tl
}

// awaitStill waits until the screen has not changed much for still
// (counted from the call at the earliest), then stops following.
func (tl *screenTimeline) awaitStill(still, timeout time.Duration) error {
	if tl == nil {
		return fmt.Errorf("not following the screen")
	}
	defer tl.end()
	from := time.Now()
	for time.Since(from) < timeout {
		tl.mu.Lock()
		last := tl.last
		tl.mu.Unlock()
		if last.Before(from) {
			last = from
		}
		if time.Since(last) >= still {
			return nil
		}
		select {
		case <-tl.done:
			return tl.err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the screen still changed after %v", timeout)
}

func (tl *screenTimeline) end() {
	select {
	case <-tl.stop:
	default:
		close(tl.stop)
	}
	<-tl.done
	if tl.ended.IsZero() {
		tl.ended = time.Now()
	}
}

// longestStill is the longest stretch without a change seen after
// since, to the last change.
func (tl *screenTimeline) longestStill(since time.Time) (from, to time.Time, ok bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	prev := since
	for _, at := range tl.seen {
		if at.Before(since) {
			continue
		}
		if at.Sub(prev) > to.Sub(from) {
			from, to, ok = prev, at, true
		}
		prev = at
	}
	return from, to, ok
}

func (tl *screenTimeline) changes() []screenChange {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return append([]screenChange{}, tl.list...)
}

func (tl *screenTimeline) every() time.Duration {
	if tl.shots == 0 {
		return 0
	}
	return tl.ended.Sub(tl.start) / time.Duration(tl.shots)
}
