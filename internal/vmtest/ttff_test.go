package vmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// The time to first visible frame, measured the way a person sees it: from
// the guest's word that it is about to exec a program (the host's time when
// the step's start message arrives on the control line) to the first QMP
// screendump that is not black, with screendumps taken as fast as QEMU
// gives them (about every ttffPollEvery). bootsplash, Debian's plymouthd
// and a minimal C program (the floor) take turns in one boot, so that the
// ratios between them hold even on a loaded machine.

// clearConsole hides the console's cursor and clears it, and what the
// firmware left in VGA text mode (fbcon takes it over), so that the screen
// is black between runs.
const clearConsole = "\x1b[?25l\x1b[H\x1b[2J\x1b[3J"

// ttffPollEvery is the aim for the interval between screendumps.
const ttffPollEvery = 30 * time.Millisecond

// ttffSettle is how long the screen must show one picture for it to be
// the frame a program settled on: on a loaded host the vCPU can stop for
// tens of milliseconds in the middle of cirrus's copy into VRAM, and two
// screendumps in a row then show the same half frame.
const ttffSettle = 150 * time.Millisecond

// ttffFloorColour is the colour testdata/ttff_floor.c fills the screen with.
var ttffFloorColour = [3]uint8{0x33, 0x66, 0x99}

// ttffPoll takes screendumps until stopped and notes when the screen
// first shows anything but black.
type ttffPoll struct {
	stop, done chan struct{}
	seen       chan struct{} // closed at the first screendump that is not black

	mu      sync.Mutex
	samples []ttffSample
	first   bool // a screendump was not black
	stable  chan struct{}
	last    *image.RGBA // the frame once the screendumps agree for ttffSettle
	since   time.Time   // the first of the screendumps in a row that agree with the last
	err     error
}

// ttffSample is one screendump: the host's time halfway through the
// command, and whether anything but black was on screen.
type ttffSample struct {
	at       time.Time
	nonBlack bool
	sum      uint64 // FNV-1a of the pixels
}

func startTTFFPoll(m *Machine, dir string) *ttffPoll {
	p := &ttffPoll{stop: make(chan struct{}), done: make(chan struct{}), seen: make(chan struct{}), stable: make(chan struct{})}
	shot := filepath.Join(dir, "poll.ppm")
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			t0 := time.Now()
			err := m.QMP().Screendump(shot, "", -1)
			t1 := time.Now()
			var s ttffSample
			if err == nil {
				s.nonBlack, s.sum, err = ppmNonBlack(shot)
			}
			s.at = t0.Add(t1.Sub(t0) / 2)
			p.mu.Lock()
			n := len(p.samples)
			var last *image.RGBA
			if n == 0 || p.samples[n-1].sum != s.sum {
				p.since = s.at
			}
			if err == nil && s.nonBlack && s.at.Sub(p.since) >= ttffSettle && p.last == nil {
				last, err = ReadPPM(shot)
			}
			if err != nil {
				p.err = err
				p.mu.Unlock()
				return
			}
			p.samples = append(p.samples, s)
			if s.nonBlack && !p.first {
				p.first = true
				close(p.seen)
			}
			if last != nil {
				p.last = last
				close(p.stable)
			}
			p.mu.Unlock()
			time.Sleep(time.Until(t0.Add(ttffPollEvery)))
		}
	}()
	return p
}

// end stops the polling and returns its error, if any.
func (p *ttffPoll) end() error {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// firstAfter returns the first non-black sample after t and the sample
// before it (the frame appeared between the two), and the first sample
// that shows the frame the screen settled on (zero when it did not).
func (p *ttffPoll) firstAfter(t time.Time) (first, before, complete ttffSample, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.samples)
	for i, s := range p.samples {
		if s.nonBlack && s.at.After(t) && !ok {
			if i > 0 {
				before = p.samples[i-1]
			}
			first, ok = s, true
		}
		if ok && p.last != nil && s.sum == p.samples[n-1].sum {
			return first, before, s, true
		}
	}
	return first, before, ttffSample{}, ok
}

// ppmNonBlack says whether the binary PPM in name has any pixel that is
// not black, without decoding it into an image, and returns the FNV-1a
// hash of its pixels.
func ppmNonBlack(name string) (bool, uint64, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return false, 0, err
	}
	// "P6", width, height, maxval, each followed by one whitespace byte.
	off := 0
	for tok := 0; tok < 4; tok++ {
		for off < len(b) && (b[off] == ' ' || b[off] == '\n' || b[off] == '\t' || b[off] == '\r') {
			off++
		}
		for off < len(b) && !(b[off] == ' ' || b[off] == '\n' || b[off] == '\t' || b[off] == '\r') {
			off++
		}
	}
	if off >= len(b) || !bytes.HasPrefix(b, []byte("P6")) {
		return false, 0, fmt.Errorf("%s: %w: no P6 header", name, ErrBadPPM)
	}
	h := fnv.New64a()
	h.Write(b[off+1:])
	for _, v := range b[off+1:] {
		if v != 0 {
			return true, h.Sum64(), nil
		}
	}
	return false, h.Sum64(), nil
}

// waitBlack takes screendumps until the screen is all black, so that the
// next program's frame is the first thing to show.
func waitBlack(m *Machine, dir string, timeout time.Duration) error {
	shot := filepath.Join(dir, "black.ppm")
	deadline := time.Now().Add(timeout)
	for {
		if err := m.QMP().Screendump(shot, "", -1); err != nil {
			return err
		}
		nb, _, err := ppmNonBlack(shot)
		if err != nil {
			return err
		}
		if !nb {
			return nil
		}
		if time.Now().After(deadline) {
			kept := filepath.Join(dir, fmt.Sprintf("not-black-%d.ppm", time.Now().UnixNano()))
			_ = os.Rename(shot, kept)
			return fmt.Errorf("the screen did not go black within %v before the next program (last screendump: %s)", timeout, kept)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ttffProgram is one program whose first frame is timed.
type ttffProgram struct {
	name string
	// run returns the plan steps of run i: start (the first step's start
	// is the marker) and stop.
	run func(i int) (start, stop []proto.Step)
	// check says whether the first non-black screendump is this
	// program's frame.
	check func(img *image.RGBA) error
}

// ttffRun is one timed run of one program.
type ttffRun struct {
	program string
	i       int
	marker  string // the step whose start is the marker
	poll    *ttffPoll
	armErr  error
	seenErr error
}

func (r *ttffRun) key() string { return fmt.Sprintf("%s %d", r.program, r.i) }

// ttffRuns is BOOTSPLASH_TTFF_RUNS, the runs per program (3 by default).
func ttffRuns(t *testing.T) int {
	s := os.Getenv("BOOTSPLASH_TTFF_RUNS")
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("BOOTSPLASH_TTFF_RUNS=%q: want a number of runs, 1 or more", s)
	}
	return n
}

// ttffDevices is BOOTSPLASH_TTFF_DEVICES, a comma-separated list of the
// devices to time on (cirrus by default; "all" for cirrus, bochs and
// virtio).
func ttffDevices(t *testing.T) []Device {
	s := os.Getenv("BOOTSPLASH_TTFF_DEVICES")
	switch s {
	case "":
		return []Device{Cirrus}
	case "all":
		return matrix()
	}
	var ds []Device
	for _, f := range strings.Split(s, ",") {
		d := Device(strings.TrimSpace(f))
		if _, err := d.QEMUArgs(); err != nil {
			t.Fatalf("BOOTSPLASH_TTFF_DEVICES: %v", err)
		}
		ds = append(ds, d)
	}
	return ds
}

// fetchDebTree returns the extracted tree of the Debian package pkg of the
// host's architecture, downloaded and extracted into the cache once.
func fetchDebTree(t *testing.T, ctx context.Context, root, pkg string) string {
	t.Helper()
	cache := CacheDir(root)
	tree := filepath.Join(cache, pkg)
	marker := filepath.Join(tree, ".extracted")
	if _, err := os.Stat(marker); err != nil {
		if err := extractKernel(ctx, cache, pkg, tree); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

// plymouthdFiles are Debian's plymouthd, its DRM renderer, the two-step
// plugin and the spinner theme, from the plymouth and plymouth-themes
// packages, with the libraries they need, and a plymouthd.conf that shows
// the splash at once.
func plymouthdFiles(t *testing.T, ctx context.Context, root string) []File {
	t.Helper()
	base := fetchDebTree(t, ctx, root, "plymouth")
	themes := fetchDebTree(t, ctx, root, "plymouth-themes")
	return plymouthdFilesFrom(t, base, themes, "/usr/lib/x86_64-linux-gnu", func(tree, p string) ([]File, error) {
		return ProgramFiles(filepath.Join(tree, p), p)
	})
}

// plymouthdFilesFrom are plymouthdFiles from the extracted plymouth and
// plymouth-themes packages base and themes, whose plugins are under
// libdir/plymouth; programFiles returns a program of a tree with what it
// needs to run.
func plymouthdFilesFrom(t *testing.T, base, themes, libdir string, programFiles func(tree, p string) ([]File, error)) []File {
	t.Helper()
	var files []File
	add := func(tree, p string) {
		fs, err := programFiles(tree, p)
		if err != nil {
			t.Fatalf("plymouthd cannot go into the guest: %v", err)
		}
		files = append(files, fs...)
	}
	add(base, "/usr/sbin/plymouthd")
	add(base, "/usr/bin/plymouth")
	plugins := libdir + "/plymouth"
	add(base, plugins+"/renderers/drm.so")
	add(base, plugins+"/details.so")
	add(base, plugins+"/text.so")
	add(themes, plugins+"/two-step.so")
	files = append(files, File{Path: "/usr/share/plymouth/plymouthd.defaults", HostPath: filepath.Join(base, "usr/share/plymouth/plymouthd.defaults")})
	theme := "/usr/share/plymouth/themes/spinner"
	entries, err := os.ReadDir(filepath.Join(themes, theme))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files = append(files, File{Path: theme + "/" + e.Name(), HostPath: filepath.Join(themes, theme, e.Name())})
	}
	files = append(files, File{Path: "/etc/plymouth/plymouthd.conf", Data: []byte("[Daemon]\nTheme=spinner\nShowDelay=0\nDeviceTimeout=1\n")})
	return dedupFiles(files)
}

// dedupFiles keeps the first File of each guest path.
func dedupFiles(files []File) []File {
	seen := map[string]bool{}
	var out []File
	for _, f := range files {
		if !seen[f.Path] {
			seen[f.Path] = true
			out = append(out, f)
		}
	}
	return out
}

// buildAt builds cmd/bootsplash for arch as it was at the git revision
// rev into out, from a copy of that revision's tree.
func buildAt(t *testing.T, ctx context.Context, root string, arch Arch, rev, out string) string {
	t.Helper()
	tree := t.TempDir()
	archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, rev, tree)
	if b, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("BOOTSPLASH_TTFF_BASE=%s: git archive: %v\n%s", rev, err, b)
	}
	if err := GoBuildFor(ctx, tree, arch, "./cmd/bootsplash", out); err != nil {
		t.Fatalf("BOOTSPLASH_TTFF_BASE=%s: %v", rev, err)
	}
	return out
}

// buildC compiles a C program of testdata statically with the host's gcc.
func buildC(t *testing.T, ctx context.Context, root, src, out string) {
	t.Helper()
	buildCWith(t, ctx, "gcc", "gcc libc6-dev", root, src, out)
}

// buildCWith compiles a C program of testdata statically with the C
// compiler cc, which the Debian packages pkgs install.
func buildCWith(t *testing.T, ctx context.Context, cc, pkgs, root, src, out string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, cc, "-static", "-O2", "-Wall", "-o", out, filepath.Join(root, "internal", "vmtest", "testdata", src))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s -static %s (apt-get install %s): %v\n%s", cc, src, pkgs, err, b)
	}
}

// TestVMTTFF times the first visible frame of bootsplash run, Debian's
// plymouthd (spinner theme, ShowDelay=0) and a minimal C program, in
// alternating runs in one boot per device, and reports the medians, the
// spread and the ratios. It asserts only what cannot be noise: every
// program's frame was seen (bootsplash's pixel-exact as render draws it,
// the floor's in its colour), and bootsplash is not slower than plymouthd.
// BOOTSPLASH_TTFF_RUNS sets the runs per program, BOOTSPLASH_TTFF_DEVICES
// the devices.
func TestVMTTFF(t *testing.T) {
	vmEnabled(t)
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed to build the C floor program (apt-get install gcc libc6-dev): %v", err)
	}
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	bin := filepath.Join(dir, "bootsplash")
	if err := GoBuild(ctx, root, "./cmd/bootsplash", bin); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(bin); err == nil {
		t.Logf("bootsplash binary: %d bytes", st.Size())
	}
	frameFiles := prerenderFrames(t, ctx, []string{bin}, filepath.Join(dir, "frames"))
	// The floor in Go, on bootsplash's kernel layers alone.
	gofloor := filepath.Join(dir, "ttff-gofloor")
	if err := GoBuild(ctx, root, "./internal/vmtest/cmd/ttff-gofloor", gofloor); err != nil {
		t.Fatal(err)
	}
	floor := filepath.Join(dir, "ttff_floor")
	buildC(t, ctx, root, "ttff_floor.c", floor)
	launcher := filepath.Join(dir, "ttff_plymouth")
	buildC(t, ctx, root, "ttff_plymouth.c", launcher)
	clock := guestClockFiles(t, ctx, root, AMD64, "gcc", "gcc libc6-dev", dir)
	plymouth := plymouthdFiles(t, ctx, root)
	// BOOTSPLASH_TTFF_BASE=REV: bootsplash built from that revision runs
	// too, in the same boot, as the baseline a change is judged by.
	baseRev := os.Getenv("BOOTSPLASH_TTFF_BASE")
	var base string
	baseKind := noBase
	if baseRev != "" {
		base = buildAt(t, ctx, root, AMD64, baseRev, filepath.Join(dir, "bootsplash-base"))
		baseKind = ttffBaseKind(ctx, []string{base})
	}
	runs := ttffRuns(t)
	for _, d := range ttffDevices(t) {
		t.Run(string(d), func(t *testing.T) {
			files := []File{}
			if base != "" {
				files = append(files, File{Path: "/bin/bootsplash-base", HostPath: base})
			}
			files = append(files, []File{
				{Path: "/bin/bootsplash", HostPath: bin},
				{Path: "/bin/ttff_floor", HostPath: floor},
				{Path: "/bin/ttff-gofloor", HostPath: gofloor},
				{Path: "/bin/ttff_plymouth", HostPath: launcher},
			}...)
			files = append(files, clock...)
			files = append(files, plymouth...)
			files = append(files, frameFiles...)
			tg := ttffTarget{name: "ttff-" + string(d), board: PC, device: d, kernel: fetchKernel(t, ctx, root, Kernel612)}
			runTTFF(t, ctx, root, guestInit, bin, tg, runs, files, baseKind)
		})
	}
}

// ttffBase says whether a base build runs beside bootsplash, and how it
// gets to its first frame.
type ttffBase int

const (
	noBase      ttffBase = iota
	baseFrames           // it has prerender: it shows the frames it drew in the guest
	baseRenders          // a revision from before prerender: it renders
)

// baseFramesDir is where the base's own first frames are drawn in the guest.
const baseFramesDir = "/usr/lib/bootsplash/frames-base"

// ttffBaseKind asks the base build (cmd: the binary, or an emulator
// running it) whether it has a prerender command.
func ttffBaseKind(ctx context.Context, cmd []string) ttffBase {
	args := append(append([]string{}, cmd[1:]...), "prerender", "--help")
	if exec.CommandContext(ctx, cmd[0], args...).Run() == nil {
		return baseFrames
	}
	return baseRenders
}

// prerenderFrames has bootsplash prerender (the command line cmd, the
// guest's bootsplash or an emulator running it: the frames carry its build
// ID) draw the first frames run copies to the screen before it renders,
// into dir, as the initramfs hook writes them: one per size the devices
// come up at. It returns them as guest files.
func prerenderFrames(t *testing.T, ctx context.Context, cmd []string, dir string) []File {
	t.Helper()
	args := append(append([]string{}, cmd[1:]...), "prerender", "--size", "1024x768,1280x800", "--out", dir)
	if b, err := exec.CommandContext(ctx, cmd[0], args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(append(cmd[:1:1], args...), " "), err, b)
	}
	var files []File
	for _, size := range []string{"1024x768", "1280x800"} {
		name := size + "-XRGB8888.frame"
		files = append(files, File{Path: "/usr/lib/bootsplash/frames/" + name, HostPath: filepath.Join(dir, name)})
	}
	return files
}

// ttffTarget is the machine one TTFF boot runs on.
type ttffTarget struct {
	// name is the boot's directory under out/vmtest.
	name   string
	board  Board
	device Device
	kernel *KernelTree
	// append is added to the kernel command line.
	append []string
	// waitTimeout bounds the wait for the display device (0: the plan's
	// default).
	waitTimeout time.Duration
	// before are steps the guest runs before the first timed run.
	before []proto.Step
	// strace, when set, returns strace for the guest, with what it needs
	// (BOOTSPLASH_TTFF_STRACE=1); the host's is used when it is not.
	strace func(t *testing.T) []File
	// wantBuffer, when set, is what `run -v` must say of the scanout
	// buffer it took ("buffer: dumb buffer"): the path being timed.
	wantBuffer string
}

func ttffPrograms(renderer string, out string) []ttffProgram {
	var renders sync.Map // size → *image.RGBA
	bg := func(name string, cmd ...string) func(int) ([]proto.Step, []proto.Step) {
		return func(i int) ([]proto.Step, []proto.Step) {
			n := fmt.Sprintf("%s %d", name, i)
			return []proto.Step{{Name: n, Cmd: cmd, Background: true, Timeout: proto.Duration(time.Minute)}},
				[]proto.Step{{Name: n + " stop", Stop: n}}
		}
	}
	return []ttffProgram{
		{
			name: "bootsplash",
			run:  bg("bootsplash", "/bin/bootsplash", "run"),
			check: func(img *image.RGBA) error {
				size := img.Bounds().Size()
				key := fmt.Sprintf("%dx%d", size.X, size.Y)
				want, ok := renders.Load(key)
				if !ok {
					png := filepath.Join(out, "render-"+key+".png")
					if b, err := exec.Command(renderer, "render", "--size", key, "--out", png).CombinedOutput(); err != nil {
						return fmt.Errorf("bootsplash render --size %s: %v\n%s", key, err, b)
					}
					w, err := readPNG(png)
					if err != nil {
						return err
					}
					want, _ = renders.LoadOrStore(key, w)
				}
				if n, first := comparePixels(img, want.(image.Image)); n != 0 {
					return fmt.Errorf("the first visible frame differs from bootsplash render in %d pixels; first: %s", n, strings.Join(first, "; "))
				}
				return nil
			},
		},
		{
			name: "plymouthd",
			run: func(i int) ([]proto.Step, []proto.Step) {
				n := fmt.Sprintf("plymouthd %d", i)
				cmd := []string{"/bin/ttff_plymouth"}
				if plymouthDebug() {
					cmd = append(cmd, "--debug")
				}
				return []proto.Step{{Name: n, Cmd: cmd, Background: true, Timeout: proto.Duration(time.Minute)}},
					[]proto.Step{
						{Name: n + " quit", Cmd: []string{"/usr/bin/plymouth", "quit"}, Timeout: proto.Duration(20 * time.Second)},
						{Name: n + " wait", Wait: n, Timeout: proto.Duration(10 * time.Second)},
					}
			},
			check: func(img *image.RGBA) error { return nil }, // not black is all plymouth's spinner promises
		},
		{
			name: "floor",
			run:  bg("floor", "/bin/ttff_floor"),
			check: func(img *image.RGBA) error {
				n := 0
				for i := 0; i < len(img.Pix); i += 4 {
					if [3]uint8(img.Pix[i:i+3]) != ttffFloorColour {
						n++
					}
				}
				if n != 0 {
					return fmt.Errorf("%d pixels of the floor's first visible frame are not #%02x%02x%02x", n, ttffFloorColour[0], ttffFloorColour[1], ttffFloorColour[2])
				}
				return nil
			},
		},
	}
}

func runTTFF(t *testing.T, ctx context.Context, root, guestInit, renderer string, tg ttffTarget, runs int, files []File, base ttffBase) {
	k, d := tg.kernel, tg.device
	out := freshOut(t, root, tg.name)
	pollDir, err := os.MkdirTemp("/dev/shm", "ttff-")
	if err != nil {
		pollDir = t.TempDir()
	} else {
		defer os.RemoveAll(pollDir)
	}
	cfg := Config{
		Kernel:    k,
		Board:     tg.board,
		Device:    d,
		GuestInit: guestInit,
		WorkDir:   out,
		Timeout:   8 * time.Minute,
		Logf:      t.Logf,
		Host:      map[string]HostFunc{},
		Plan:      proto.Plan{WaitPaths: []string{"/dev/dri/card0"}, WaitTimeout: proto.Duration(tg.waitTimeout)},
		Files:     files,
		// No cursor on the console: between runs the screen is black.
		// plymouthd shows its theme only with "splash" on the command
		// line, and only text on a serial console; there is no udev in
		// the guest: it takes card0 directly.
		Append: append([]string{"vt.global_cursor_default=0", "splash", "plymouth.ignore-udev", "plymouth.ignore-serial-consoles"}, tg.append...),
	}
	if plymouthDebug() {
		cfg.Append = append(cfg.Append, "plymouth.debug=stream:/dev/stderr")
	}
	cfg.Plan.Steps = append(cfg.Plan.Steps, tg.before...)
	if base == baseFrames {
		// The base's own first frames, drawn in the guest by the base
		// (they carry its build ID), as its initramfs hook would.
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: "prerender base", Cmd: []string{"/bin/bootsplash-base", "prerender", "--size", "1024x768,1280x800", "--out", baseFramesDir},
			Timeout: proto.Duration(2 * time.Minute)})
	}
	programs := ttffPrograms(renderer, out)
	// The same bootsplash with no pre-rendered frame: what the frame buys,
	// in the same boot.
	nf := programs[0]
	nf.name = "bootsplash-noframe"
	nf.run = func(i int) ([]proto.Step, []proto.Step) {
		n := fmt.Sprintf("bootsplash-noframe %d", i)
		return []proto.Step{{Name: n, Cmd: []string{"/bin/bootsplash", "run", "--frames", ""}, Background: true, Timeout: proto.Duration(time.Minute)}},
			[]proto.Step{{Name: n + " stop", Stop: n}}
	}
	programs = append(programs, nf)
	// The floor in Go: the runtime and the client and access packages,
	// nothing else.
	gf := programs[2]
	gf.name = "floor-go"
	gf.run = func(i int) ([]proto.Step, []proto.Step) {
		n := fmt.Sprintf("floor-go %d", i)
		return []proto.Step{{Name: n, Cmd: []string{"/bin/ttff-gofloor"}, Background: true, Timeout: proto.Duration(time.Minute)}},
			[]proto.Step{{Name: n + " stop", Stop: n}}
	}
	programs = append(programs, gf)
	if base != noBase {
		b := programs[0]
		b.name = "bootsplash-base"
		cmd := []string{"/bin/bootsplash-base", "run"}
		if base == baseFrames {
			cmd = append(cmd, "--frames", baseFramesDir)
		}
		b.run = func(i int) ([]proto.Step, []proto.Step) {
			n := fmt.Sprintf("bootsplash-base %d", i)
			return []proto.Step{{Name: n, Cmd: cmd, Background: true, Timeout: proto.Duration(time.Minute)}},
				[]proto.Step{{Name: n + " stop", Stop: n}}
		}
		programs = append(programs, b)
	}
	var all []*ttffRun
	addRun := func(p ttffProgram, i int, start, stop []proto.Step) *ttffRun {
		r := &ttffRun{program: p.name, i: i, marker: start[0].Name}
		all = append(all, r)
		arm, seen := "arm "+r.key(), "seen "+r.key()
		// A program that leaves (plymouthd, for one) may turn the
		// console's cursor back on: off again, and the console cleared,
		// before each run.
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: "clear " + r.key(), Write: &proto.WriteFile{Path: "/dev/tty1", Data: []byte(clearConsole)}})
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: arm, Host: true})
		cfg.Plan.Steps = append(cfg.Plan.Steps, start...)
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: seen, Host: true, Timeout: proto.Duration(40 * time.Second)})
		cfg.Plan.Steps = append(cfg.Plan.Steps, stop...)
		cfg.Host[arm] = func(ctx context.Context, m *Machine) error {
			if err := waitBlack(m, out, 15*time.Second); err != nil {
				r.armErr = err
				return err
			}
			r.poll = startTTFFPoll(m, pollDir)
			return nil
		}
		cfg.Host[seen] = func(ctx context.Context, m *Machine) error {
			if r.poll == nil {
				return errors.New("no polling (arm failed)")
			}
			select {
			case <-r.poll.seen:
				// The frame settles: an animation never does, so
				// this wait is short.
				select {
				case <-r.poll.stable:
				case <-r.poll.done:
				case <-time.After(3 * time.Second):
				}
			case <-time.After(20 * time.Second):
				r.seenErr = errors.New("nothing but black on screen within 20s")
			case <-r.poll.done:
			}
			if err := r.poll.end(); err != nil && r.seenErr == nil {
				r.seenErr = err
			}
			return r.seenErr
		}
		return r
	}
	// The first program after boot pays for what the kernel does once
	// (the first DRM master, the heap's first pages): a run of the floor,
	// not counted, takes that.
	warm := programs[2] // the floor
	start, stop := warm.run(-1)
	warmup := addRun(ttffProgram{name: "warm-up"}, -1, start, stop)
	// The first bootsplash after boot, with -v: what a boot sees (the
	// runs below come after it and after each other).
	cold := addRun(ttffProgram{name: "bootsplash-first -v"}, 0,
		[]proto.Step{{Name: "bootsplash-first -v", Cmd: []string{"/bin/bootsplash", "run", "-v"}, Background: true, Timeout: proto.Duration(time.Minute)}},
		[]proto.Step{{Name: "bootsplash-first -v stop", Stop: "bootsplash-first -v"}})
	for i := 0; i < runs; i++ {
		for j := range programs {
			p := programs[(i+j)%len(programs)] // each goes first in turn
			start, stop := p.run(i)
			addRun(p, i, start, stop)
		}
	}
	// One more bootsplash run with -v, for its own account of the way to
	// the first frame beside the one seen from outside.
	verbose := addRun(ttffProgram{name: "bootsplash -v"}, 0,
		[]proto.Step{{Name: "bootsplash -v", Cmd: []string{"/bin/bootsplash", "run", "-v"}, Background: true, Timeout: proto.Duration(time.Minute)}},
		[]proto.Step{{Name: "bootsplash -v stop", Stop: "bootsplash -v"}})
	verboseNF := addRun(ttffProgram{name: "bootsplash-noframe -v"}, 0,
		[]proto.Step{{Name: "bootsplash-noframe -v", Cmd: []string{"/bin/bootsplash", "run", "-v", "--frames", ""}, Background: true, Timeout: proto.Duration(time.Minute)}},
		[]proto.Step{{Name: "bootsplash-noframe -v stop", Stop: "bootsplash-noframe -v"}})

	// The same programs (and an empty one in C and in Go) on the
	// in-guest clock.
	clockRuns := guestClockRuns(runs)
	cfg.Plan.Steps = append(cfg.Plan.Steps, guestClockStep(clockRuns, base))
	// What the runtime and each package's init cost before main, once.
	cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: "inittrace", Cmd: []string{"/bin/bootsplash", "help"}, Env: []string{"GODEBUG=inittrace=1"}})
	// BOOTSPLASH_TTFF_STRACE=1: one more run under strace (the host's,
	// or the board's own), each system call with its time, to see where
	// the kernel's time goes.
	if os.Getenv("BOOTSPLASH_TTFF_STRACE") == "1" {
		var fs []File
		if tg.strace != nil {
			fs = tg.strace(t)
		} else if arch := tg.board.Arch(); arch != HostArch {
			t.Errorf("BOOTSPLASH_TTFF_STRACE=1 puts the host's strace into the guest: not on %s (%s)", tg.board, arch)
		} else if host, err := exec.LookPath("strace"); err != nil {
			t.Errorf("BOOTSPLASH_TTFF_STRACE=1 needs strace: %v", err)
		} else if fs, err = ProgramFiles(host, "/usr/bin/strace"); err != nil {
			t.Errorf("strace cannot go into the guest: %v", err)
			fs = nil
		}
		if fs != nil {
			cfg.Files = dedupFiles(append(cfg.Files, fs...))
			cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: "strace", Cmd: []string{"/usr/bin/strace", "-f", "-r", "-T", "/bin/bootsplash", "run", "-v", "--for", "3s"}})
		}
	}

	rep, bootErr := Boot(ctx, cfg)
	if rep != nil {
		t.Logf("boot %s %s: ready after %v, wall time %v; console log and transcript in %s",
			tg.board, d, rep.Ready.Round(time.Millisecond), rep.Wall.Round(time.Millisecond), out)
	}
	if bootErr != nil {
		t.Errorf("%v", bootErr)
	}
	if rep == nil {
		return
	}
	_ = os.Remove(filepath.Join(out, "initrd.cpio.gz"))
	for _, st := range tg.before {
		if res := rep.Step(st.Name); !res.OK() {
			t.Errorf("%s: exit %d %s\n%s", st.Name, res.Code, res.Note, res.Output)
		}
	}

	times := map[string][]time.Duration{} // first not black
	whole := map[string][]time.Duration{} // first showing the frame the screen settled on
	check := map[string]func(*image.RGBA) error{}
	for _, p := range programs {
		check[p.name] = p.check
	}
	check[verbose.program] = check["bootsplash"]
	check[verboseNF.program] = check["bootsplash"]
	check[cold.program] = check["bootsplash"]
	check[warmup.program] = warm.check
	for _, r := range all {
		res := rep.Step(r.marker)
		switch {
		case r.armErr != nil:
			t.Errorf("%s: %v", r.key(), r.armErr)
			continue
		case r.poll == nil || !res.Started:
			t.Errorf("%s: never started", r.key())
			continue
		case r.seenErr != nil:
			t.Errorf("%s: %v\n%s", r.key(), r.seenErr, res.Output)
			continue
		}
		first, before, complete, ok := r.poll.firstAfter(res.HostStart)
		if !ok {
			t.Errorf("%s: the frame was on screen before the program started", r.key())
			continue
		}
		d := first.at.Sub(res.HostStart)
		times[r.program] = append(times[r.program], d)
		note := "the screen kept changing (animated)"
		if r.poll.last != nil {
			if err := check[r.program](r.poll.last); err != nil {
				t.Errorf("%s: %v", r.key(), err)
				_ = writePNG(filepath.Join(out, strings.ReplaceAll(r.key(), " ", "-")+"-frame.png"), r.poll.last)
			}
			c := complete.at.Sub(res.HostStart)
			whole[r.program] = append(whole[r.program], c)
			note = fmt.Sprintf("the whole frame at %v", c.Round(time.Millisecond))
		} else if r.program != "plymouthd" {
			t.Errorf("%s: the screen did not settle on one frame within 3s", r.key())
		}
		t.Logf("%s: first visible frame %v after the marker (the screendump before, still black, at %v); %s",
			r.key(), d.Round(time.Millisecond), before.at.Sub(res.HostStart).Round(time.Millisecond), note)
	}
	if out := rep.Step("bootsplash -v").Output; len(out) > 0 {
		t.Logf("bootsplash run -v, seen after %v:\n%s", durs(times[verbose.program]), out)
		// The frame prerender drew is in the guest for this size: run
		// must have put it up, not rendered its first frame.
		if !bytes.Contains(out, []byte("pre-rendered frame up after")) {
			t.Errorf("bootsplash run -v did not show the pre-rendered first frame")
		}
		if tg.wantBuffer != "" && !bytes.Contains(out, []byte(tg.wantBuffer)) {
			t.Errorf("bootsplash run -v does not say %q: not the buffer path this board is timed on", tg.wantBuffer)
		}
	}
	if out := rep.Step("bootsplash-first -v").Output; len(out) > 0 {
		t.Logf("bootsplash run -v, the first after boot, seen after %v:\n%s", durs(times[cold.program]), out)
	}
	if out := rep.Step("bootsplash-noframe -v").Output; len(out) > 0 {
		t.Logf("bootsplash run -v --frames '', seen after %v:\n%s", durs(times[verboseNF.program]), out)
	}

	if res := rep.Step("inittrace"); res.OK() {
		t.Logf("GODEBUG=inittrace=1 bootsplash help:\n%s", res.Output)
	}
	if res := rep.Step("strace"); res.Started {
		_ = os.WriteFile(filepath.Join(out, "strace.txt"), res.Output, 0o644)
		t.Logf("strace of bootsplash run -v: %s", filepath.Join(out, "strace.txt"))
	}
	var summary strings.Builder
	fmt.Fprintf(&summary, "time to first visible frame on %s (%s), %d runs each; median [min, max]; then the same to the whole frame\n", ttffMachine(tg), k.Release, runs)
	med := map[string]time.Duration{}
	for _, p := range append(programs, ttffProgram{name: cold.program}, ttffProgram{name: verbose.program}, ttffProgram{name: verboseNF.program}) {
		ts := times[p.name]
		if len(ts) == 0 {
			continue
		}
		slices.Sort(ts)
		med[p.name] = median(ts)
		fmt.Fprintf(&summary, "  %-14s %7.3fs [%.3f, %.3f]  runs: %s", p.name, med[p.name].Seconds(), ts[0].Seconds(), ts[len(ts)-1].Seconds(), durs(ts))
		if ws := whole[p.name]; len(ws) > 0 {
			slices.Sort(ws)
			fmt.Fprintf(&summary, "  | whole %.3fs [%.3f, %.3f]", median(ws).Seconds(), ws[0].Seconds(), ws[len(ws)-1].Seconds())
		}
		summary.WriteString("\n")
	}
	ratio := func(a, b string) {
		if med[a] > 0 && med[b] > 0 {
			fmt.Fprintf(&summary, "  %s/%s = %.2f\n", a, b, float64(med[a])/float64(med[b]))
		}
	}
	ratio("bootsplash", "floor")
	ratio("bootsplash", "plymouthd")
	ratio("plymouthd", "floor")
	ratio("bootsplash", "floor-go")
	ratio("floor-go", "floor")
	ratio("bootsplash", "bootsplash-noframe")
	ratio("bootsplash-noframe", "floor")
	switch base {
	case baseFrames:
		// The base shows the first frames it drew itself.
		fmt.Fprintf(&summary, "  (bootsplash-base shows the first frames it pre-rendered)\n")
		ratio("bootsplash", "bootsplash-base")
	case baseRenders:
		// A base from before prerender renders its first frame:
		// rendering against rendering.
		fmt.Fprintf(&summary, "  (bootsplash-base has no prerender: it renders its first frame)\n")
		ratio("bootsplash-noframe", "bootsplash-base")
	}
	summary.WriteString(guestClockReport(t, rep.Step("in-guest clock"), clockRuns, base))
	t.Log("\n" + summary.String())
	_ = os.WriteFile(filepath.Join(out, "summary.txt"), []byte(summary.String()), 0o644)
	// On a loaded machine single runs vary several-fold: a slower median
	// is said, a bootsplash slower in every run than plymouthd in any is
	// a failure.
	bs, pd := times["bootsplash"], times["plymouthd"]
	if len(bs) == runs && len(pd) == runs {
		if med["bootsplash"] > med["plymouthd"] {
			t.Logf("NOTE: bootsplash's median first frame (%v) comes later than plymouthd's (%v)", med["bootsplash"].Round(time.Millisecond), med["plymouthd"].Round(time.Millisecond))
		}
		if bs[0] > pd[len(pd)-1] {
			t.Errorf("bootsplash's first frame comes later than plymouthd's in every run: bootsplash %s, plymouthd %s", durs(bs), durs(pd))
		}
	}
}

// plymouthDebug is BOOTSPLASH_TTFF_PLYMOUTH_DEBUG=1: plymouthd traces
// what it does into the test's transcript (which slows it down).
func plymouthDebug() bool { return os.Getenv("BOOTSPLASH_TTFF_PLYMOUTH_DEBUG") == "1" }

// median is the median of sorted, which is not empty.
func median[T time.Duration | float64](sorted []T) T {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func durs(ts []time.Duration) string {
	var s []string
	for _, d := range ts {
		s = append(s, fmt.Sprintf("%.3f", d.Seconds()))
	}
	return strings.Join(s, " ")
}

// ttffMachine names the board and device of a TTFF boot as the summary
// says it: the device alone on the PC, as before there were other boards.
func ttffMachine(tg ttffTarget) string {
	if tg.board == PC || tg.board == "" {
		return string(tg.device)
	}
	return string(tg.board) + " " + string(tg.device)
}
