package vmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// guestPackage is a package whose tests run inside the VM.
type guestPackage struct {
	path string
	// deviceFree, when set, is a -test.skip pattern for the package's
	// tests that are slow under TCG and do not depend on the display
	// device (pure drawing, parsing): they run on the first device of the
	// matrix only, to keep the suite's time down. A renamed test only
	// runs more often.
	deviceFree string
	// hostOnly, when set, is a -test.skip pattern for the package's tests
	// that test what the host has and the guest does not, and no kernel
	// path: the fonts scripts/test installs, a pseudo-terminal standing in
	// for the VT, the repository's example themes (../themes, outside the
	// package's files the guest is given). They run in the unit tests on
	// the host; the guest is not asked to run them (a skip in the guest
	// would be a failure). TestHostOnlyNamesThemeReaders checks that every
	// test reading ../themes is named here.
	hostOnly string
}

// guestPackages are the packages whose tests run inside the VM, on every
// device of the matrix. Add a package here once it has kernel tests.
func guestPackages() []guestPackage {
	return []guestPackage{
		{path: "access"}, {path: "client"}, {path: "display"}, {path: "fbemu"}, {path: "internal/study"},
		{path: "splash", deviceFree: "^(TestGolden|TestUpdateEqualsPaint|FuzzParseTheme|FuzzImage)$",
			hostOnly: "^(TestTextGolden|TestThemeFontList|TestPassphraseSecrecy|" +
				"TestFirmwareLogoDrawn|TestScreenFirmwareLogo|" +
				"TestPromptFitsScreen|TestPromptFrameFits|TestPromptUpdatesSmall|TestPromptGolden|TestPromptHiddenStill)$"},
	}
}

// matrix is the display devices every guest package and the end-to-end
// test boot with, on the 6.12 kernel.
func matrix() []Device { return []Device{Cirrus, Bochs, Virtio} }

// e2eCase is one `bootsplash run` checked against `bootsplash render`.
type e2eCase struct {
	name string
	mode string // --mode, "" for the preferred mode
	// wantBuffer are texts the logged "buffer: " line must contain.
	wantBuffer []string
	// wantOutput are texts the whole log must contain (reasons).
	wantOutput []string
	// args are more options for run ("--heap", "system").
	args []string
	// before, during and after are plan steps around the case (used by
	// the non-x86 targets): during runs while run shows the splash, after
	// the screendump.
	before, during, after []proto.Step
}

func e2eCases(kernel string, d Device) []e2eCase {
	if kernel == Kernel61 {
		return []e2eCase{{name: "run", wantBuffer: []string{"dumb"}, wantOutput: []string{"heap", "udmabuf"}}}
	}
	switch d {
	case Cirrus:
		want := []string{"heap", "PRIME"}
		return []e2eCase{{name: "run", wantBuffer: want}, {name: "run-800x600", mode: "800x600", wantBuffer: want}}
	default:
		return []e2eCase{{name: "run", wantBuffer: []string{"dumb"}}}
	}
}

// vmEnabled skips the test unless the VM tests are asked for; when they
// are, a missing QEMU fails it.
func vmEnabled(t *testing.T) {
	t.Helper()
	if os.Getenv("BOOTSPLASH_VM") != "1" && os.Getenv("CI") != "true" {
		t.Skip("real-kernel VM tests are off: run with BOOTSPLASH_VM=1 (or CI=true); they need qemu-system-x86 and apt-get access to Debian's kernel packages")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Fatalf("qemu-system-x86_64 is needed for the VM tests (apt-get install qemu-system-x86): %v", err)
	}
}

// guestBase finds the repository, marks its sources for go test's cache,
// and builds the guest init into a temporary directory.
func guestBase(t *testing.T, ctx context.Context) (root, dir, guestInit string) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	noteSources(t, root)
	dir = t.TempDir()
	if guestInit, err = BuildGuestInit(ctx, root, dir); err != nil {
		t.Fatal(err)
	}
	return root, dir, guestInit
}

// freshOut empties and returns out/vmtest/NAME under the repository, where
// a test leaves its screendumps, renders and logs for a person to look at.
func freshOut(t *testing.T, root, name string) string {
	t.Helper()
	out := filepath.Join(root, "out", "vmtest", name)
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// buildGuestPrograms builds each package of bins (name: package path) into
// dir/name, as a static guest program.
func buildGuestPrograms(t *testing.T, ctx context.Context, root, dir string, bins map[string]string) {
	t.Helper()
	for name, pkg := range bins {
		if err := GoBuild(ctx, root, pkg, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// artefacts are the host-built programs a boot puts into the guest; a
// build that failed is kept as its error, for the tests that need it.
type artefacts struct {
	root          string
	out           string
	guestInit     string
	tests         map[string]string
	testErr       map[string]error
	bootsplash    string
	bootsplashErr error
	// hostBootsplash renders the expected frames when bootsplash is
	// built for another architecture than the host's.
	hostBootsplash string
	// arch is what the guest programs are built for, dir where.
	arch Arch
	dir  string
}

// renderer is the bootsplash binary that runs `render` on the host.
func (a *artefacts) renderer() string {
	if a.hostBootsplash != "" {
		return a.hostBootsplash
	}
	return a.bootsplash
}

// noteSources opens every Go source file of the module (and go.mod,
// go.sum) so that `go test` records them: the VM tests build other packages
// in subprocesses, which the test cache cannot see, and a cached pass must
// not outlive a change to the code it ran.
func noteSources(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "out" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && (strings.HasSuffix(p, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum") {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			f.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func buildArtefacts(t *testing.T, ctx context.Context) *artefacts {
	t.Helper()
	start := time.Now()
	root, dir, guestInit := guestBase(t, ctx)
	a := &artefacts{root: root, guestInit: guestInit, out: filepath.Join(root, "out", "vmtest"), tests: map[string]string{}, testErr: map[string]error{}}
	for _, gp := range guestPackages() {
		p := gp.path
		bin := filepath.Join(dir, p+".test")
		if err := GoTestBinary(ctx, root, "./"+p, bin); err != nil {
			a.testErr[p] = err
		} else {
			a.tests[p] = bin
		}
	}
	bin := filepath.Join(dir, "bootsplash")
	if err := GoBuild(ctx, root, "./cmd/bootsplash", bin); err != nil {
		a.bootsplashErr = err
	} else {
		a.bootsplash = bin
	}
	t.Logf("built guest init, %d test binaries and bootsplash in %v", len(a.tests), time.Since(start).Round(time.Millisecond))
	return a
}

func TestVM(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	a := buildArtefacts(t, ctx)
	suiteStart := time.Now()
	for i, d := range matrix() {
		pk := packagesAll
		if i > 0 {
			pk = packagesDeviceBound
		}
		t.Run(string(d), func(t *testing.T) { runBoot(t, ctx, a, Kernel612, d, pk) })
	}
	t.Run("linux-6.1", func(t *testing.T) {
		t.Run(string(Cirrus), func(t *testing.T) { runBoot(t, ctx, a, Kernel61, Cirrus, packagesNone) })
	})
	t.Logf("all boots: %v", time.Since(suiteStart).Round(time.Millisecond))
}

func fetchKernel(t *testing.T, ctx context.Context, root, pkg string) *KernelTree {
	t.Helper()
	k, err := FetchKernel(ctx, CacheDir(root), pkg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Which guest package tests a boot runs.
const (
	packagesNone        = iota
	packagesAll         // every test
	packagesDeviceBound // all but each package's deviceFree tests
)

// runBoot boots one kernel with one device, runs the guest packages' tests
// (as packages says) and the end-to-end cases, and reports each as a
// subtest.
func runBoot(t *testing.T, ctx context.Context, a *artefacts, kernel string, d Device, packages int) {
	withPackages := packages != packagesNone
	k := fetchKernel(t, ctx, a.root, kernel)
	name := k.Release + "-" + string(d)
	out := filepath.Join(a.out, name)
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Kernel:    k,
		Device:    d,
		GuestInit: a.guestInit,
		WorkDir:   out,
		Timeout:   6 * time.Minute,
		Logf:      t.Logf,
		Host:      map[string]HostFunc{},
		Plan:      proto.Plan{WaitPaths: []string{"/dev/dri/card0"}},
	}
	if withPackages {
		for _, gp := range guestPackages() {
			p := gp.path
			bin, ok := a.tests[p]
			if !ok {
				continue
			}
			guest := "/bin/" + p + ".test"
			cfg.Files = append(cfg.Files, File{Path: guest, HostPath: bin})
			dir := "/src/" + p
			data, err := PackageFiles(a.root, p, dir)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Files = append(cfg.Files, data...)
			cfg.Files = append(cfg.Files, File{Path: dir + "/.keep"}) // the working directory
			args := []string{guest, "-test.v=test2json", "-test.count=1", "-test.timeout=240s"}
			var skip []string
			if packages == packagesDeviceBound && gp.deviceFree != "" {
				skip = append(skip, gp.deviceFree)
			}
			if gp.hostOnly != "" {
				skip = append(skip, gp.hostOnly)
			}
			if len(skip) > 0 {
				args = append(args, "-test.skip="+strings.Join(skip, "|"))
			}
			cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{
				Name:    "test " + p,
				Cmd:     args,
				Env:     []string{"BOOTSPLASH_REQUIRE_DEVICES=1"},
				Dir:     dir,
				Timeout: proto.Duration(260 * time.Second),
			})
		}
	}
	// The plymouth client (Debian's), for the themed case and for guest
	// tests that drive it: at the same paths as on the host.
	plymouth := false
	if host, err := exec.LookPath("plymouth"); err == nil && (withPackages || themedDevices(kernel, d)) {
		files, err := ProgramFiles(host, plymouthBin)
		if err != nil {
			t.Errorf("the plymouth client cannot go into the guest: %v", err)
		} else {
			cfg.Files = append(cfg.Files, files...)
			plymouth = true
		}
	}
	cases := e2eCases(kernel, d)
	shots := map[string]*image.RGBA{}
	var themed *themedRun
	if a.bootsplash != "" {
		cfg.Files = append(cfg.Files, File{Path: "/bin/bootsplash", HostPath: a.bootsplash})
		for _, c := range cases {
			c := c
			args := []string{"/bin/bootsplash", "run", "-v"}
			if c.mode != "" {
				args = append(args, "--mode", c.mode)
			}
			cfg.Plan.Steps = append(cfg.Plan.Steps,
				proto.Step{Name: c.name, Cmd: args, Background: true, WaitFor: "first frame", Timeout: proto.Duration(60 * time.Second)},
				proto.Step{Name: c.name + " screendump", Host: true},
				proto.Step{Name: c.name + " stop", Stop: c.name},
			)
			cfg.Host[c.name+" screendump"] = func(ctx context.Context, m *Machine) error {
				img, stable, err := m.StableScreendump(c.name, -1, 200*time.Millisecond, 10)
				if err != nil {
					return err
				}
				if !stable {
					t.Logf("%s: the screen kept changing over 10 screendumps 200ms apart; comparing the last", c.name)
				}
				shots[c.name] = img
				return nil
			}
		}
		if themedDevices(kernel, d) {
			themed = addThemed(t, a, &cfg, out, plymouth)
		}
	}
	if len(cfg.Plan.Steps) == 0 {
		// Nothing built: still boot, to show the kernel and modules work.
		cfg.Plan.Steps = []proto.Step{{Name: "booted", Write: &proto.WriteFile{Path: "/tmp/booted", Data: []byte("1")}}}
	}

	rep, bootErr := Boot(ctx, cfg)
	if rep != nil {
		t.Logf("boot %s: ready after %v, wall time %v; console log and transcript in %s",
			name, rep.Ready.Round(time.Millisecond), rep.Wall.Round(time.Millisecond), out)
	}
	if bootErr != nil {
		t.Errorf("%v", bootErr)
	}
	if rep == nil {
		return
	}
	_ = os.Remove(filepath.Join(out, "initrd.cpio.gz"))
	if rep.Release != k.Release {
		t.Errorf("guest runs kernel %q, want %q", rep.Release, k.Release)
	}
	if withPackages {
		for _, gp := range guestPackages() {
			p := gp.path
			t.Run(p, func(t *testing.T) {
				if err := a.testErr[p]; err != nil {
					t.Fatal(err)
				}
				reportGuestTests(t, a.root, p, rep.Step("test "+p))
			})
		}
	}
	t.Run("e2e", func(t *testing.T) {
		if a.bootsplashErr != nil {
			t.Fatal(a.bootsplashErr)
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				checkE2E(t, ctx, a, out, c, rep, shots[c.name])
			})
		}
		if themed != nil {
			t.Run("themed", func(t *testing.T) { themed.report(t, rep, cases[0].wantBuffer) })
		}
	})
}

// testEvent is one line of `go tool test2json` output.
type testEvent struct {
	Action string
	Test   string
	Output string
}

// reportGuestTests turns one guest test binary's run into host subtests,
// one per top-level guest test. A guest skip is a failure here: in the VM
// every device the tests ask for exists.
func reportGuestTests(t *testing.T, root, pkg string, res *Result) {
	if !res.Started {
		t.Fatalf("the test binary never started in the guest (the boot failed before it)")
	}
	events, err := test2json(root, pkg, res.Output)
	if err != nil {
		t.Fatalf("decode test output: %v\n%s", err, res.Output)
	}
	tests, pkgOutput := groupGuestTests(events)
	for _, gt := range tests {
		t.Run(gt.name, func(t *testing.T) {
			t.Log("guest output:\n" + gt.output.String())
			switch gt.result {
			case "pass":
			case "skip":
				t.Errorf("skipped in the VM, where every device it needs must exist")
			case "fail":
				t.Errorf("failed in the guest")
			default:
				t.Errorf("did not finish in the guest (panic or timeout; see the package output)")
			}
			for _, p := range gt.problems {
				t.Errorf("%s (a skip counts as a failure in the VM)", p)
			}
		})
	}
	if !res.OK() || len(tests) == 0 {
		note := res.Note
		if !res.Exited {
			note = "never finished (the guest died or the boot timed out)"
		}
		t.Errorf("%s.test exited %d %s; %d tests reported; package output:\n%s", pkg, res.Code, note, len(tests), tail(pkgOutput, 60))
	}
}

// guestTest is one top-level guest test: its output (its subtests'
// included), its result ("pass", "fail", "skip", or "" when it never
// finished), and its subtests that did not pass.
type guestTest struct {
	name     string
	output   strings.Builder
	result   string
	problems []string
}

// groupGuestTests groups test2json events by top-level test, in the order
// the tests started, and returns them with the output that belongs to no
// test (the package's own).
func groupGuestTests(events []testEvent) ([]*guestTest, string) {
	byName := map[string]*guestTest{}
	var order []*guestTest
	var pkgOutput strings.Builder
	for _, e := range events {
		if e.Test == "" {
			if e.Action == "output" {
				pkgOutput.WriteString(e.Output)
			}
			continue
		}
		top, sub, isSub := strings.Cut(e.Test, "/")
		gt := byName[top]
		if gt == nil {
			gt = &guestTest{name: top}
			byName[top] = gt
			order = append(order, gt)
		}
		switch e.Action {
		case "output":
			gt.output.WriteString(e.Output)
		case "pass", "fail", "skip":
			if !isSub {
				gt.result = e.Action
			} else if e.Action != "pass" {
				gt.problems = append(gt.problems, fmt.Sprintf("subtest %s: %s", sub, e.Action))
			}
		}
	}
	return order, pkgOutput.String()
}

func tail(s string, n int) string { return tailLines([]byte(s), n) }

// test2json converts the output of a test binary run with -test.v=test2json
// into events, with the Go toolchain's own converter.
func test2json(root, pkg string, output []byte) ([]testEvent, error) {
	cmd := exec.Command("go", "tool", "test2json", "-p", pkg)
	cmd.Dir = root
	cmd.Stdin = strings.NewReader(string(output))
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go tool test2json: %w", err)
	}
	var events []testEvent
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var e testEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return nil, fmt.Errorf("test2json line %q: %w", line, err)
		}
		events = append(events, e)
	}
	return events, nil
}

// logLine returns the first line of out containing text.
func logLine(out []byte, text string) (string, bool) {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, text) {
			return strings.TrimSpace(l), true
		}
	}
	return "", false
}

func checkE2E(t *testing.T, ctx context.Context, a *artefacts, out string, c e2eCase, rep *Report, shot *image.RGBA) {
	res := rep.Step(c.name)
	t.Logf("bootsplash output:\n%s", res.Output)
	if !res.Waited {
		t.Fatalf("bootsplash run never logged \"first frame\" (exit %d %s)", res.Code, res.Note)
	}
	logTTFF(t, filepath.Base(out)+"/"+c.name, res.Output)
	if !res.OK() {
		t.Errorf("bootsplash run did not exit 0 on SIGTERM: exit %d %s", res.Code, res.Note)
	}
	buf, ok := logLine(res.Output, "buffer: ")
	if !ok {
		t.Errorf("bootsplash run logged no \"buffer: \" line")
	}
	for _, w := range c.wantBuffer {
		if !strings.Contains(buf, w) {
			t.Errorf("buffer path %q does not contain %q", buf, w)
		}
	}
	for _, w := range c.wantOutput {
		if !strings.Contains(string(res.Output), w) {
			t.Errorf("bootsplash run's log does not mention %q (the reason for its fallback)", w)
		}
	}
	if shot == nil {
		t.Fatalf("no screendump was taken")
	}
	size := shot.Bounds().Size()
	if c.mode != "" && fmt.Sprintf("%dx%d", size.X, size.Y) != c.mode {
		t.Errorf("screen is %dx%d, want --mode %s", size.X, size.Y, c.mode)
	}
	caseOut := filepath.Join(out, c.name)
	if err := os.MkdirAll(caseOut, 0o755); err != nil {
		t.Fatal(err)
	}
	screenPNG := filepath.Join(caseOut, "screen.png")
	if err := writePNG(screenPNG, shot); err != nil {
		t.Fatal(err)
	}
	renderPNG := filepath.Join(caseOut, "render.png")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.renderer(), "render", "--size", fmt.Sprintf("%dx%d", size.X, size.Y), "--out", renderPNG)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bootsplash render --size %dx%d: %v\n%s", size.X, size.Y, err, b)
	}
	want, err := readPNG(renderPNG)
	if err != nil {
		t.Fatal(err)
	}
	if n, first := comparePixels(shot, want); n != 0 {
		t.Errorf("screen and bootsplash render differ in %d pixels; first: %s\n(screen: %s, render: %s)", n, strings.Join(first, "; "), screenPNG, renderPNG)
	}
}

func writePNG(name string, img image.Image) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readPNG(name string) (image.Image, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return img, nil
}

// comparePixels counts the pixels whose RGB differ between the screen and
// the expected image, and describes the first few. A size mismatch counts
// every pixel.
func comparePixels(got *image.RGBA, want image.Image) (int, []string) {
	gb, wb := got.Bounds(), want.Bounds()
	if gb.Size() != wb.Size() {
		return gb.Dx() * gb.Dy(), []string{fmt.Sprintf("size %v, want %v", gb.Size(), wb.Size())}
	}
	n := 0
	var first []string
	for y := 0; y < gb.Dy(); y++ {
		for x := 0; x < gb.Dx(); x++ {
			g := got.RGBAAt(gb.Min.X+x, gb.Min.Y+y)
			r, gg, b, _ := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
			w := [3]uint8{uint8(r >> 8), uint8(gg >> 8), uint8(b >> 8)}
			if g.R != w[0] || g.G != w[1] || g.B != w[2] {
				n++
				if len(first) < 5 {
					first = append(first, fmt.Sprintf("(%d,%d) screen #%02x%02x%02x want #%02x%02x%02x", x, y, g.R, g.G, g.B, w[0], w[1], w[2]))
				}
			}
		}
	}
	return n, first
}

// bootChecked boots cfg and fails the test when the boot fails, or, with
// the end of its output, for every step of the plan that did not succeed
// but those named in mayFail.
func bootChecked(t *testing.T, ctx context.Context, cfg Config, mayFail ...string) *Report {
	t.Helper()
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Plan.Steps {
		if r := rep.Step(s.Name); !r.OK() && !slices.Contains(mayFail, s.Name) {
			t.Errorf("step %q: exit %d %s\n%s", s.Name, r.Code, r.Note, tail(string(r.Output), 30))
		}
	}
	return rep
}
