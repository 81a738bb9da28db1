package vmtest

import (
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// archTarget is one machine of the non-x86 matrix: an architecture's
// board, display device and kernel, and what `bootsplash run` must do
// there.
type archTarget struct {
	name   string
	board  Board
	device Device
	// kernel returns the kernel to boot (fetched or built).
	kernel func(t *testing.T, ctx context.Context, root string) *KernelTree
	// append is added to the kernel command line.
	append []string
	cases  []e2eCase
	// setup, when set, adds steps of its own to the plan before the
	// end-to-end cases (and files, host steps); report checks them after
	// the boot.
	setup  func(t *testing.T, a *artefacts, cfg *Config)
	report func(t *testing.T, a *artefacts, rep *Report)
}

// archTargets are the machines TestVMArch boots: the ARM and RISC-V ones,
// and one PC with the same display device as the virt boards, for time to
// first frame under the same emulator.
func archTargets() []archTarget {
	debian := func(pkg string) func(*testing.T, context.Context, string) *KernelTree {
		return func(t *testing.T, ctx context.Context, root string) *KernelTree {
			return fetchKernel(t, ctx, root, pkg)
		}
	}
	built := func(spec func() KernelSpec, dtb string) func(*testing.T, context.Context, string) *KernelTree {
		return func(t *testing.T, ctx context.Context, root string) *KernelTree {
			start := time.Now()
			b, err := BuildKernel(ctx, CacheDir(root), spec())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("kernel %s (%s, key %.16s) ready in %v", b.Spec.Name, b.Release, b.Key, time.Since(start).Round(time.Millisecond))
			k, err := b.TreeWithDTB(dtb)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
	// pl111 allocating from CMA, with both heaps ("system" and the CMA
	// heap "reserved"): the rule picks the CMA heap, and the import goes
	// through the GEM DMA helper (its PRIME debug line names a DMA
	// address inside the CMA area); a system-heap buffer forced after
	// memory was fragmented is refused, and run falls back to a dumb
	// buffer, leaving no dma-buf of its own behind.
	pl111CMA := func(name string, board Board, k func(*testing.T, context.Context, string) *KernelTree, sweep bool) archTarget {
		return archTarget{
			name: name, board: board, device: PL111, kernel: k, append: []string{"cma=64M", "drm.debug=0x08"},
			cases: []e2eCase{
				{name: "run", wantBuffer: []string{`heap "reserved"`, "imported via PRIME"},
					wantOutput: []string{"contiguous", "GEM DMA helper"},
					during:     []proto.Step{guestHelperStep("run dmesg", "dmesg")}},
				{name: "run-system-fragmented", args: []string{"--heap", "system"},
					wantBuffer: []string{"dumb"},
					wantOutput: []string{`heap "system": import refused by pl111`, "udmabuf"},
					before: []proto.Step{{Name: "fragment", Cmd: []string{"/bin/guesthelper", "fragment", "48"},
						Background: true, WaitFor: "fragmented", Timeout: proto.Duration(4 * time.Minute)}},
					during: []proto.Step{guestHelperStep("run-system-fragmented bufinfo", "cat", "/sys/kernel/debug/dma_buf/bufinfo")},
					after:  []proto.Step{{Name: "fragment stop", Stop: "fragment"}}},
			},
			setup: func(t *testing.T, a *artefacts, cfg *Config) {
				addGuestHelper(t, a, cfg)
				if sweep {
					addFaultSweep(t, a, cfg)
				}
			},
			report: func(t *testing.T, a *artefacts, rep *Report) {
				t.Run("gem-dma-import", func(t *testing.T) { checkDMAImport(t, rep.Step("run dmesg")) })
				t.Run("fragmented-no-leak", func(t *testing.T) {
					checkHeapBuffers(t, rep.Step("run-system-fragmented bufinfo"), map[string]int{"system": 24, "udmabuf": 0, "reserved": 0})
				})
				if sweep {
					t.Run("fault-sweep", func(t *testing.T) { reportGuestTests(t, a.root, "splash", rep.Step("test splash")) })
				}
			},
		}
	}
	return []archTarget{
		{
			// The x86 reference for time to first frame: the same
			// display device as the virt boards, the same emulator.
			name: "amd64-pc-virtio", board: PC, device: Virtio, kernel: debian(Kernel612),
			cases: []e2eCase{{name: "run", wantBuffer: []string{"dumb"}, wantOutput: []string{"import refused by virtio_gpu"}}},
		},
		{
			// Trixie's riscv64 kernel has neither heaps nor udmabuf.
			name: "riscv64-virt-virtio", board: RISCV64Virt, device: Virtio, kernel: debian(KernelRISCV64),
			cases: []e2eCase{{name: "run", wantBuffer: []string{"dumb"}, wantOutput: []string{"no dma-buf heaps", "no /dev/udmabuf"}}},
		},
		pl111CMA("armhf-vexpress-a9-pl111-cma", VexpressA9, built(ArmVexpressKernel, DTBVexpressA9), false),
		// The arm64 kernel has no VT: a password is typed on the
		// motherboard's KMI keyboard and read through evdev.
		withNoVTKeyboard(pl111CMA("arm64-vexpress-a15-pl111-cma", VexpressA15Arm64, built(Arm64VexpressKernel, DTBVexpressCA53CMA), true)),
		{
			// pl111 scanning out of its own VRAM (the device tree's
			// memory-region) refuses every import: a page of the CMA
			// heap is refused, and then neither heap's buffer nor a
			// udmabuf is tried. run must end on a dumb buffer and say
			// why.
			name: "arm64-vexpress-a15-pl111-vram", board: VexpressA15Arm64, device: PL111,
			kernel: built(Arm64VexpressKernel, DTBVexpressCA53VRAM), append: []string{"cma=64M"},
			cases: []e2eCase{{name: "run", wantBuffer: []string{"dumb"},
				wantOutput: []string{`heap "reserved": not tried: a page of heap "reserved" was refused (import refused by pl111`,
					`heap "system": not tried: a page of heap "reserved" was refused`, `udmabuf: not tried: a page of heap "reserved" was refused`}}},
		},
		{
			// Debian's arm64 kernel has no dma-buf heap; udmabuf is
			// there, but virtio-gpu refuses every import (ENODEV): a
			// page of a udmabuf says so, and the frame's is not made.
			name: "arm64-virt-virtio", board: Arm64Virt, device: Virtio, kernel: debian(KernelArm64),
			cases: []e2eCase{{name: "run", wantBuffer: []string{"dumb"}, wantOutput: []string{"no dma-buf heaps", "udmabuf: not tried: a page of udmabuf was refused (import refused by virtio_gpu"}}},
		},
	}
}

// archArtefacts are the programs a boot on arch needs: the guest init and
// bootsplash built for arch, and bootsplash for the host, which renders
// the expected frames.
// They are built into dir, which must outlive every boot that uses them.
func archArtefacts(t *testing.T, ctx context.Context, arch Arch, dir string) *artefacts {
	t.Helper()
	start := time.Now()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	noteSources(t, root)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := &artefacts{root: root, out: filepath.Join(root, "out", "vmtest"), tests: map[string]string{}, testErr: map[string]error{}, arch: arch, dir: dir}
	if a.guestInit, err = BuildGuestInitFor(ctx, root, arch, dir); err != nil {
		t.Fatal(err)
	}
	a.bootsplash = filepath.Join(dir, "bootsplash-"+string(arch))
	if err := GoBuildFor(ctx, root, arch, "./cmd/bootsplash", a.bootsplash); err != nil {
		t.Fatal(err)
	}
	a.hostBootsplash = filepath.Join(dir, "bootsplash-host")
	if err := GoBuildFor(ctx, root, HostArch, "./cmd/bootsplash", a.hostBootsplash); err != nil {
		t.Fatal(err)
	}
	t.Logf("built the %s guest init and bootsplash in %v", arch, time.Since(start).Round(time.Millisecond))
	return a
}

// vmArchEnabled is vmEnabled for a board of another architecture: its
// QEMU must be there when the VM tests are asked for.
func vmArchEnabled(t *testing.T, b Board) {
	t.Helper()
	vmEnabled(t)
	bin, pkg := b.Arch().QEMU()
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("%s is needed for the %s VM tests (apt-get install %s): %v", bin, b, pkg, err)
	}
}

// TestVMArch boots the machines of archTargets: each runs `bootsplash run`
// built for its architecture and compares the screen with `bootsplash
// render` pixel for pixel, checking the buffer path the device must take
// and the reasons run gives for it.
func TestVMArch(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	arts := map[Arch]*artefacts{}
	dir := t.TempDir()
	for _, tg := range archTargets() {
		t.Run(tg.name, func(t *testing.T) {
			vmArchEnabled(t, tg.board)
			start := time.Now()
			arch := tg.board.Arch()
			if arts[arch] == nil {
				arts[arch] = archArtefacts(t, ctx, arch, filepath.Join(dir, string(arch)))
			}
			runArchBoot(t, ctx, arts[arch], tg)
			t.Logf("%s: %v in all", tg.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// runArchBoot boots one target and checks its end-to-end cases.
func runArchBoot(t *testing.T, ctx context.Context, a *artefacts, tg archTarget) {
	k := tg.kernel(t, ctx, a.root)
	out := freshOut(t, a.root, tg.name)
	cfg := Config{
		Kernel:    k,
		Board:     tg.board,
		Device:    tg.device,
		GuestInit: a.guestInit,
		WorkDir:   out,
		Timeout:   8 * time.Minute,
		Logf:      t.Logf,
		Host:      map[string]HostFunc{},
		Append:    tg.append,
		Plan:      proto.Plan{WaitPaths: []string{"/dev/dri/card0"}, WaitTimeout: proto.Duration(60 * time.Second)},
		Files:     []File{{Path: "/bin/bootsplash", HostPath: a.bootsplash}},
	}
	if tg.setup != nil {
		tg.setup(t, a, &cfg)
	}
	shots := map[string]*image.RGBA{}
	for _, c := range tg.cases {
		args := append([]string{"/bin/bootsplash", "run", "-v"}, c.args...)
		if c.mode != "" {
			args = append(args, "--mode", c.mode)
		}
		cfg.Plan.Steps = append(cfg.Plan.Steps, c.before...)
		cfg.Plan.Steps = append(cfg.Plan.Steps,
			proto.Step{Name: c.name, Cmd: args, Background: true, WaitFor: "first frame", Timeout: proto.Duration(2 * time.Minute)},
			proto.Step{Name: c.name + " screendump", Host: true},
		)
		cfg.Plan.Steps = append(cfg.Plan.Steps, c.during...)
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: c.name + " stop", Stop: c.name})
		cfg.Plan.Steps = append(cfg.Plan.Steps, c.after...)
		cfg.Host[c.name+" screendump"] = func(ctx context.Context, m *Machine) error {
			img, stable, err := m.StableScreendump(c.name, -1, 300*time.Millisecond, 10)
			if err != nil {
				return err
			}
			if !stable {
				t.Logf("%s: the screen kept changing over 10 screendumps 300ms apart; comparing the last", c.name)
			}
			shots[c.name] = img
			return nil
		}
	}
	rep, bootErr := Boot(ctx, cfg)
	if rep != nil {
		t.Logf("boot %s (%s): ready after %v, wall time %v; console log and transcript in %s",
			tg.name, k.Release, rep.Ready.Round(time.Millisecond), rep.Wall.Round(time.Millisecond), out)
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
	if tg.report != nil {
		tg.report(t, a, rep)
	}
	for _, c := range tg.cases {
		t.Run(c.name, func(t *testing.T) {
			checkE2E(t, ctx, a, out, c, rep, shots[c.name])
		})
	}
}

// ttffStep is one line of the breakdown `bootsplash run -v` logs on its
// way to the first frame: "bootsplash: STEP ms=1.23".
var ttffStep = regexp.MustCompile(`^bootsplash: (.+?) ms=([0-9.]+)$`)

// ttffTotal is its last line: "bootsplash: first frame after 12.3ms".
var ttffTotal = regexp.MustCompile(`first frame after ([0-9.]+)ms`)

// parseTTFF returns the time to first frame `bootsplash run -v` logged,
// and its breakdown in order.
func parseTTFF(out []byte) (total float64, steps []string, ok bool) {
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if m := ttffStep.FindStringSubmatch(l); m != nil {
			steps = append(steps, m[1]+" "+m[2])
			continue
		}
		if m := ttffTotal.FindStringSubmatch(l); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			if err == nil {
				return v, steps, true
			}
		}
	}
	return 0, steps, false
}

// logTTFF logs the time to first frame of one run with its breakdown, as
// one line a person can grep from the test log ("TTFF target: ...").
func logTTFF(t *testing.T, target string, out []byte) {
	total, steps, ok := parseTTFF(out)
	if !ok {
		t.Errorf("bootsplash run -v logged no \"first frame after\" line")
		return
	}
	t.Logf("TTFF %s: %.1fms (%s)", target, total, strings.Join(steps, ", "))
	line := fmt.Sprintf("%s\t%.1f\t%s\n", target, total, strings.Join(steps, ", "))
	root, err := RepoRoot()
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(root, "out", "vmtest", "ttff.tsv"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(line)
}

// guestHelperStep runs the guest helper (see addGuestHelper).
func guestHelperStep(name string, args ...string) proto.Step {
	return proto.Step{Name: name, Cmd: append([]string{"/bin/guesthelper"}, args...), Timeout: proto.Duration(time.Minute)}
}

// addGuestHelper puts internal/guesthelper, built for the target, into
// the guest as /bin/guesthelper.
func addGuestHelper(t *testing.T, a *artefacts, cfg *Config) {
	t.Helper()
	bin := filepath.Join(a.dir, "guesthelper-"+string(a.arch))
	if err := GoBuildFor(context.Background(), a.root, a.arch, "./internal/vmtest/internal/guesthelper", bin); err != nil {
		t.Fatal(err)
	}
	cfg.Files = append(cfg.Files, File{Path: "/bin/guesthelper", HostPath: bin})
}

// addFaultSweep runs splash's TestFaultSweep in the guest (every kernel
// call on run's way to the first frame failed in turn), as step "test
// splash".
func addFaultSweep(t *testing.T, a *artefacts, cfg *Config) {
	t.Helper()
	bin := filepath.Join(a.dir, "splash-"+string(a.arch)+".test")
	if err := GoTestBinaryFor(context.Background(), a.root, a.arch, "./splash", bin); err != nil {
		t.Fatal(err)
	}
	dir := "/src/splash"
	files, err := PackageFiles(a.root, "splash", dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Files = append(cfg.Files, File{Path: "/bin/splash.test", HostPath: bin}, File{Path: dir + "/.keep"})
	cfg.Files = append(cfg.Files, files...)
	cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{
		Name:    "test splash",
		Cmd:     []string{"/bin/splash.test", "-test.v=test2json", "-test.count=1", "-test.run=^TestFaultSweep$", "-test.timeout=600s"},
		Env:     []string{"BOOTSPLASH_REQUIRE_DEVICES=1"},
		Dir:     dir,
		Timeout: proto.Duration(620 * time.Second),
	})
}

// cmaArea is the kernel's line about the CMA area cma= reserved:
// "cma: Reserved 64 MiB at 0x000000009c000000 on node -1".
var cmaArea = regexp.MustCompile(`cma: Reserved (\d+) MiB at 0x([0-9a-f]+)`)

// dmaImport is the GEM DMA helper's PRIME debug line (drm.debug=0x08):
// "[drm:drm_gem_dma_prime_import_sg_table] dma_addr = 0x9d000000, size = 3145728".
var dmaImport = regexp.MustCompile(`drm_gem_dma_prime_import_sg_table\] dma_addr = 0x([0-9a-f]+), size = (\d+)`)

// checkDMAImport checks, from the kernel log taken while run showed its
// splash, that the scanout buffer was imported by the GEM DMA helper at a
// DMA address inside the CMA area.
func checkDMAImport(t *testing.T, res *Result) {
	if !res.OK() {
		t.Fatalf("reading the kernel log failed: exit %d %s\n%s", res.Code, res.Note, res.Output)
	}
	notes, problems := dmaImportProblems(string(res.Output))
	for _, n := range notes {
		t.Log(n)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// dmaImportProblems reads a kernel log for the CMA area and the GEM DMA
// helper's imports: notes say where each import landed, problems what is
// missing or outside the area.
func dmaImportProblems(log string) (notes, problems []string) {
	m := cmaArea.FindStringSubmatch(log)
	if m == nil {
		return nil, []string{"the kernel log does not say where the CMA area is:\n" + tail(log, 40)}
	}
	mib, _ := strconv.ParseUint(m[1], 10, 64)
	base, _ := strconv.ParseUint(m[2], 16, 64)
	end := base + mib<<20
	imports := dmaImport.FindAllStringSubmatch(log, -1)
	if len(imports) == 0 {
		return nil, []string{"no import through drm_gem_dma_prime_import_sg_table in the kernel log:\n" + tail(log, 40)}
	}
	for _, im := range imports {
		addr, _ := strconv.ParseUint(im[1], 16, 64)
		size, _ := strconv.ParseUint(im[2], 10, 64)
		if addr < base || addr+size > end {
			problems = append(problems, fmt.Sprintf("GEM DMA import at %#x+%d lies outside the CMA area %#x-%#x", addr, size, base, end))
		} else {
			notes = append(notes, fmt.Sprintf("GEM DMA helper imported %d bytes at %#x, inside the CMA area %#x-%#x", size, addr, base, end))
		}
	}
	return notes, problems
}

// checkHeapBuffers checks the dma-bufs the kernel lists
// (/sys/kernel/debug/dma_buf/bufinfo, read while run showed its splash) by
// exporter: want gives how many each must have.
func checkHeapBuffers(t *testing.T, res *Result, want map[string]int) {
	if !res.OK() {
		t.Fatalf("reading bufinfo failed: exit %d %s\n%s", res.Code, res.Note, res.Output)
	}
	got := dmaBufsByExporter(string(res.Output))
	for exp, n := range want {
		if got[exp] != n {
			t.Errorf("%d dma-bufs exported by %q, want %d (all: %v)\n%s", got[exp], exp, n, got, res.Output)
		}
	}
	t.Logf("dma-bufs by exporter while run showed its splash: %v", got)
}

// dmaBufsByExporter counts the objects of a bufinfo listing by exporter.
func dmaBufsByExporter(bufinfo string) map[string]int {
	got := map[string]int{}
	for _, l := range strings.Split(bufinfo, "\n") {
		f := strings.Fields(l)
		// size flags mode count exp_name ino name
		if len(f) >= 5 && len(f[0]) >= 8 && strings.Trim(f[0], "0123456789") == "" {
			got[f[4]]++
		}
	}
	return got
}
