package vmtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// The time to first visible frame on ARM boards: TestVMTTFF's programs
// and its measurement, with every guest program built for the board's
// architecture: bootsplash and the floor in Go by the Go toolchain, the C
// floor and the plymouthd launcher by Debian's cross compiler, and
// Debian's plymouthd from the architecture's own packages.

// ttffArmBoard is one ARM machine TestVMTTFFArm times on.
type ttffArmBoard struct {
	name   string
	board  Board
	device Device
	kernel func(t *testing.T, ctx context.Context, root string) *KernelTree
	append []string
	// buffer is what `run -v` must say of its scanout buffer there.
	buffer string
}

// ttffArmBoards are the ARM machines: arm64 `virt` with virtio-gpu on
// Debian's kernel (dumb buffers: the kernel has no heap), and the 32-bit
// vexpress-a9 whose pl111 scans out of the CMA heap on the kernel the
// suite builds for it.
func ttffArmBoards() []ttffArmBoard {
	return []ttffArmBoard{
		{
			name: "arm64-virt-virtio", board: Arm64Virt, device: Virtio, buffer: "buffer: dumb buffer of virtio_gpu",
			kernel: func(t *testing.T, ctx context.Context, root string) *KernelTree {
				return fetchKernel(t, ctx, root, KernelArm64)
			},
		},
		{
			name: "armhf-vexpress-a9-pl111", board: VexpressA9, device: PL111, append: []string{"cma=64M"},
			buffer: `buffer: heap "reserved", imported via PRIME`,
			kernel: func(t *testing.T, ctx context.Context, root string) *KernelTree {
				b, err := BuildKernel(ctx, CacheDir(root), ArmVexpressKernel())
				if err != nil {
					t.Fatal(err)
				}
				k, err := b.TreeWithDTB(DTBVexpressA9)
				if err != nil {
					t.Fatal(err)
				}
				return k
			},
		},
	}
}

// ttffArmSelected is BOOTSPLASH_TTFF_ARM_BOARDS: a comma-separated list of
// ttffArmBoards' names (all of them by default, or with "all").
func ttffArmSelected(t *testing.T) []ttffArmBoard {
	all := ttffArmBoards()
	s := os.Getenv("BOOTSPLASH_TTFF_ARM_BOARDS")
	switch s {
	case "", "all":
		return all
	}
	var out []ttffArmBoard
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		i := -1
		var names []string
		for j, b := range all {
			names = append(names, b.name)
			if b.name == f {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("BOOTSPLASH_TTFF_ARM_BOARDS: no board %q (want %s or all)", f, strings.Join(names, ", "))
		}
		out = append(out, all[i])
	}
	return out
}

// ttffArmRuns is BOOTSPLASH_TTFF_ARM_RUNS, the runs per program on each
// ARM board (2 by default: under TCG an ARM guest's run takes seconds).
func ttffArmRuns(t *testing.T) int {
	s := os.Getenv("BOOTSPLASH_TTFF_ARM_RUNS")
	if s == "" {
		return 2
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("BOOTSPLASH_TTFF_ARM_RUNS=%q: want a number of runs, 1 or more", s)
	}
	return n
}

// crossTools are Debian's tools for building and running programs of an
// architecture on the host: the multiarch triplet (the library directory's
// name), the cross C compiler with the packages that have it and its libc,
// and qemu-user's emulator.
type crossTools struct {
	triplet, cc, ccPkgs, qemuUser string
}

func crossToolsFor(a Arch) (crossTools, error) {
	switch a {
	case ARM64:
		return crossTools{"aarch64-linux-gnu", "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu libc6-dev-arm64-cross", "qemu-aarch64-static"}, nil
	case ARM:
		return crossTools{"arm-linux-gnueabihf", "arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross", "qemu-arm-static"}, nil
	}
	return crossTools{}, fmt.Errorf("no cross tools for %s", a)
}

// ttffPlymouthDebs are the packages plymouthd, its DRM renderer, the
// two-step plugin and the spinner theme come from, with the libraries
// they need (Debian bookworm's plymouth 22.02).
var ttffPlymouthDebs = []string{"plymouth", "plymouth-themes", "libplymouth5", "libdrm2", "libpng16-16", "libudev1", "zlib1g", "libc6"}

// ttffStraceDebs are the packages of strace and the libraries it needs,
// for BOOTSPLASH_TTFF_STRACE=1 on a board of another architecture.
var ttffStraceDebs = []string{"strace", "libunwind8", "liblzma5", "libc6"}

// TestVMTTFFArm is TestVMTTFF on ARM boards, arm64 virt with virtio-gpu
// and vexpress-a9 with pl111 (BOOTSPLASH_TTFF_ARM_BOARDS chooses):
// bootsplash, Debian's plymouthd and the C floor, all built for the
// board, take turns in one boot per board, and the medians, the spread
// and the ratios are reported. BOOTSPLASH_TTFF_ARM_RUNS sets the runs per
// program (2, to keep the suite's time: about 40 s a board).
func TestVMTTFFArm(t *testing.T) {
	vmEnabled(t)
	ctx := context.Background()
	runs := ttffArmRuns(t)
	dir := t.TempDir()
	for _, b := range ttffArmSelected(t) {
		t.Run(b.name, func(t *testing.T) {
			vmArchEnabled(t, b.board)
			start := time.Now()
			runTTFFArm(t, ctx, b, runs, filepath.Join(dir, b.name))
			t.Logf("%s: %v in all", b.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

func runTTFFArm(t *testing.T, ctx context.Context, b ttffArmBoard, runs int, dir string) {
	arch := b.board.Arch()
	tools, err := crossToolsFor(arch)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []struct{ bin, pkg string }{{tools.cc, tools.ccPkgs}, {tools.qemuUser, "qemu-user-static"}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			t.Fatalf("%s is needed to time the first frame on %s (apt-get install %s): %v", tool.bin, b.board, tool.pkg, err)
		}
	}
	a := archArtefacts(t, ctx, arch, dir)
	// The frames carry the build ID of the bootsplash that drew them: the
	// guest's, run on the host by qemu-user. Not for 32-bit guests: under
	// qemu-user /proc/self/status gives the emulator's VmSize, and
	// bootsplash finds no room left in a 32-bit address space for the
	// logo; there the guest draws them itself before the first run, as
	// the initramfs hook does on the device.
	var frames []File
	var before []proto.Step
	if arch != ARM {
		frames = prerenderFrames(t, ctx, []string{tools.qemuUser, a.bootsplash}, filepath.Join(dir, "frames"))
	} else {
		before = append(before, proto.Step{Name: "prerender", Cmd: []string{"/bin/bootsplash", "prerender", "--size", "1024x768,1280x800", "--out", "/usr/lib/bootsplash/frames"},
			Timeout: proto.Duration(2 * time.Minute)})
	}
	gofloor := filepath.Join(dir, "ttff-gofloor")
	if err := GoBuildFor(ctx, a.root, arch, "./internal/vmtest/cmd/ttff-gofloor", gofloor); err != nil {
		t.Fatal(err)
	}
	floor := filepath.Join(dir, "ttff_floor")
	buildCWith(t, ctx, tools.cc, tools.ccPkgs, a.root, "ttff_floor.c", floor)
	launcher := filepath.Join(dir, "ttff_plymouth")
	buildCWith(t, ctx, tools.cc, tools.ccPkgs, a.root, "ttff_plymouth.c", launcher)
	clock := guestClockFiles(t, ctx, a.root, arch, tools.cc, tools.ccPkgs, dir)
	trees := fetchForeignDebTrees(t, ctx, a.root, arch, ttffPlymouthDebs)
	libdirs := []string{"/lib/" + tools.triplet, "/usr/lib/" + tools.triplet, "/lib", "/usr/lib"}
	plymouth := plymouthdFilesFrom(t, trees["plymouth"], trees["plymouth-themes"], "/usr/lib/"+tools.triplet, func(tree, p string) ([]File, error) {
		return sysrootProgramFiles(trees, tree, p, libdirs)
	})
	files := []File{}
	base := noBase
	if rev := os.Getenv("BOOTSPLASH_TTFF_BASE"); rev != "" {
		bin := buildAt(t, ctx, a.root, arch, rev, filepath.Join(dir, "bootsplash-base"))
		files = append(files, File{Path: "/bin/bootsplash-base", HostPath: bin})
		base = ttffBaseKind(ctx, []string{tools.qemuUser, bin})
	}
	files = append(files, []File{
		{Path: "/bin/bootsplash", HostPath: a.bootsplash},
		{Path: "/bin/ttff_floor", HostPath: floor},
		{Path: "/bin/ttff-gofloor", HostPath: gofloor},
		{Path: "/bin/ttff_plymouth", HostPath: launcher},
	}...)
	files = append(files, clock...)
	files = append(files, plymouth...)
	files = append(files, frames...)
	tg := ttffTarget{name: "ttff-" + b.name, board: b.board, device: b.device, kernel: b.kernel(t, ctx, a.root),
		append: b.append, waitTimeout: 60 * time.Second, before: before, wantBuffer: b.buffer,
		strace: func(t *testing.T) []File {
			st := fetchForeignDebTrees(t, ctx, a.root, arch, ttffStraceDebs)
			fs, err := sysrootProgramFiles(st, st["strace"], "/usr/bin/strace", libdirs)
			if err != nil {
				t.Fatalf("strace cannot go into the guest: %v", err)
			}
			return fs
		}}
	runTTFF(t, ctx, a.root, a.guestInit, a.hostBootsplash, tg, runs, files, base)
}

// fetchForeignDebTrees returns the extracted trees of Debian bookworm's
// packages pkgs for arch, by package name. Each .deb is downloaded once
// into the cache's deb directory (at the archive's version of the day,
// through the suite's private apt configuration for arch) and extracted
// once into a directory named after the .deb; a .deb in the cache is used
// as it is.
func fetchForeignDebTrees(t *testing.T, ctx context.Context, root string, arch Arch, pkgs []string) map[string]string {
	t.Helper()
	cache := CacheDir(root)
	debDir := filepath.Join(cache, "deb")
	if err := os.MkdirAll(debDir, 0o755); err != nil {
		t.Fatal(err)
	}
	find := func(pkg string) string {
		m, _ := filepath.Glob(filepath.Join(debDir, pkg+"_*_"+arch.Debian()+".deb"))
		if len(m) == 0 {
			return ""
		}
		sort.Strings(m)
		return m[len(m)-1]
	}
	var missing []string
	for _, p := range pkgs {
		if find(p) == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		src := debSource{arch: arch, suites: bookwormSuites}
		var opts []string
		if os.Geteuid() == 0 {
			opts = append(opts, "-o", "APT::Sandbox::User=root")
		}
		aptOpts, err := foreignApt(ctx, cache, missing[0], src, opts)
		if err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{"download"}, opts...), aptOpts...)
		for _, p := range missing {
			args = append(args, p+":"+arch.Debian())
		}
		download := func() ([]byte, error) {
			cmd := exec.CommandContext(ctx, "apt-get", args...)
			cmd.Dir = debDir
			return cmd.CombinedOutput()
		}
		if _, err := download(); err != nil {
			// The lists may name a version the archive no longer has
			// (a security update since they were fetched): fetch them
			// again and retry once.
			update := append(append(append([]string{}, opts...), aptOpts...), "update")
			if out, err := exec.CommandContext(ctx, "apt-get", update...).CombinedOutput(); err != nil {
				t.Fatalf("apt-get %s: %v\n%s", strings.Join(update, " "), err, out)
			}
			if out, err := download(); err != nil {
				t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
	trees := map[string]string{}
	for _, p := range pkgs {
		deb := find(p)
		if deb == "" {
			t.Fatalf("no %s_*_%s.deb in %s after apt-get download", p, arch.Debian(), debDir)
		}
		tree := filepath.Join(cache, "debroot", strings.TrimSuffix(filepath.Base(deb), ".deb"))
		marker := filepath.Join(tree, ".extracted")
		if _, err := os.Stat(marker); err != nil {
			tmp, err := os.MkdirTemp(cache, "extract-")
			if err != nil {
				t.Fatal(err)
			}
			if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
				os.RemoveAll(tmp)
				t.Fatalf("dpkg-deb -x %s: %v\n%s", deb, err, out)
			}
			if err := os.MkdirAll(filepath.Dir(tree), 0o755); err != nil {
				t.Fatal(err)
			}
			_ = os.RemoveAll(tree)
			if err := os.Rename(tmp, tree); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(marker, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		trees[p] = tree
	}
	return trees
}

// sysrootProgramFiles is ProgramFiles for a program of another
// architecture: the program at guest path p of the extracted package tree,
// its ELF interpreter and every shared library its DT_NEEDED entries
// reach, transitively, each looked up (by its guest path: RUNPATH or
// RPATH, then libdirs) in all the extracted trees. Symbolic links are
// followed inside the tree they are in. A library found in no tree is an
// error that names it.
func sysrootProgramFiles(trees map[string]string, tree, p string, libdirs []string) ([]File, error) {
	names := make([]string, 0, len(trees))
	for n := range trees {
		names = append(names, n)
	}
	sort.Strings(names)
	lookup := func(guest string) (string, bool) {
		for _, n := range names {
			if h, ok := resolveInTree(trees[n], guest); ok {
				return h, true
			}
		}
		return "", false
	}
	host, ok := resolveInTree(tree, p)
	if !ok {
		return nil, fmt.Errorf("%s: not in %s", p, tree)
	}
	return elfWalk(p, host, libdirs, lookup, "in none of the packages "+strings.Join(names, ", "))
}

// resolveInTree returns the host path of the regular file at guest path p
// of the extracted tree, following symbolic links as the guest would,
// with the tree as its root; false when there is none.
func resolveInTree(tree, p string) (string, bool) {
	for range 16 {
		h := filepath.Join(tree, filepath.FromSlash(p))
		fi, err := os.Lstat(h)
		if err != nil {
			return "", false
		}
		if fi.Mode().IsRegular() {
			return h, true
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return "", false
		}
		target, err := os.Readlink(h)
		if err != nil {
			return "", false
		}
		if path.IsAbs(target) {
			p = target
		} else {
			p = path.Join(path.Dir(p), target)
		}
	}
	return "", false
}
