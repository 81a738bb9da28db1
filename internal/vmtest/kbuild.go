package vmtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Debian's kernel sources the suite builds its ARM kernels from. Debian's
// own ARM kernels have neither dma-buf heaps (DMABUF_HEAPS is off) nor
// pl111 (DRM_PL111 is off), so the suite builds small kernels of its own
// from the same 6.12 sources as the x86 kernel it boots (Kernel612), pinned
// here on purpose: a new version is a new cache key and a rebuild.
const (
	KernelSourcePackage = "linux-source-6.12"
	KernelSourceVersion = "6.12.107-1~deb12u1"
)

// kbuildVersion is part of every built kernel's cache key: raise it when
// the way kernels are built or their outputs laid out changes.
const kbuildVersion = 1

//go:embed kconfig/*.config
var kconfigFS embed.FS

// KernelSpec says which kernel to build: the architecture, the cross
// compiler, the config fragments (files of kconfig/, applied in order on
// top of allnoconfig) and the device trees to build and fix up.
type KernelSpec struct {
	// Name names the kernel in the cache and in messages: "armhf-vexpress".
	Name string
	// Arch is the kernel's ARCH: "arm" or "arm64".
	Arch string
	// CrossCompile is the tool prefix of Debian's cross compiler:
	// "arm-linux-gnueabihf-" (package gcc-arm-linux-gnueabihf).
	CrossCompile string
	// Image is the make target and file name under arch/ARCH/boot:
	// "zImage" or "Image".
	Image string
	// Fragments are the config fragments, file names under kconfig/.
	Fragments []string
	// DTBs are the device trees to build with the kernel.
	DTBs []DTBSpec
}

// DTBSpec is a device tree built from the kernel's sources and saved,
// after its fix-ups, under Name.
type DTBSpec struct {
	// Name is the output file name: "vexpress-v2p-ca9.dtb".
	Name string
	// Target is the kernel's make target: "arm/vexpress-v2p-ca9.dtb".
	Target string
	// Fixups are applied in order (see ApplyDTBFixups).
	Fixups []DTBFixup
}

// Board device trees, by the name they get in BuiltKernel.DTBs.
const (
	// DTBVexpressA9 is vexpress-v2p-ca9 for QEMU's -M vexpress-a9, fixed
	// so that the core tile's pl111 (10020000) drives the sii902x DVI
	// bridge: 6.12's sii902x reads the bridge's second input port as its
	// output and defers forever, so that port and the motherboard CLCD's
	// endpoint wired to it are deleted.
	DTBVexpressA9 = "vexpress-v2p-ca9.dtb"
	// DTBVexpressCA53VRAM is arm64's vexpress-v2f-1xv7-ca53x2 as Debian
	// ships it: the motherboard CLCD scans out of its 8 MiB VRAM
	// (memory-region) and refuses every PRIME import.
	DTBVexpressCA53VRAM = "vexpress-v2f-1xv7-ca53x2-vram.dtb"
	// DTBVexpressCA53CMA is the same tree without the CLCD's
	// memory-region: pl111 allocates from CMA and imports dma-bufs.
	DTBVexpressCA53CMA = "vexpress-v2f-1xv7-ca53x2-cma.dtb"
)

// ArmVexpressKernel is the armhf kernel for QEMU's -M vexpress-a9 (pl111,
// sii902x, virtio-mmio, both dma-buf heaps, udmabuf), booted with
// DTBVexpressA9.
func ArmVexpressKernel() KernelSpec {
	const mb = "/bus@40000000/motherboard-bus@40000000/iofpga@7,00000000"
	return KernelSpec{
		Name:         "armhf-vexpress",
		Arch:         "arm",
		CrossCompile: "arm-linux-gnueabihf-",
		Image:        "zImage",
		Fragments:    []string{"common.config", "arm.config"},
		DTBs: []DTBSpec{{
			Name:   DTBVexpressA9,
			Target: "arm/vexpress-v2p-ca9.dtb",
			Fixups: []DTBFixup{
				{Path: mb + "/i2c@16000/dvi-transmitter@39/ports/port@1",
					Why: "6.12's sii902x takes port@1 for its output; the second input makes it wait for a bridge forever"},
				{Path: mb + "/clcd@1f000/port",
					Why: "the motherboard CLCD's endpoint pointed at the deleted port"},
			},
		}},
	}
}

// Arm64VexpressKernel is the arm64 kernel for QEMU's -M
// vexpress-a15,secure=off -cpu cortex-a57, booted with DTBVexpressCA53CMA
// (pl111 from CMA, imports) or DTBVexpressCA53VRAM (pl111 from its VRAM,
// dumb buffers only). The same kernel boots on QEMU's virt board through
// UEFI (Arm64VirtUEFI, with no device tree: the firmware describes the
// board in ACPI), where simpledrm drives the framebuffer the firmware
// left.
func Arm64VexpressKernel() KernelSpec {
	const clcd = "/bus@8000000/motherboard-bus@8000000/iofpga-bus@300000000/clcd@1f0000"
	return KernelSpec{
		Name:         "arm64-vexpress",
		Arch:         "arm64",
		CrossCompile: "aarch64-linux-gnu-",
		Image:        "Image",
		Fragments:    []string{"common.config", "arm64.config"},
		DTBs: []DTBSpec{
			{Name: DTBVexpressCA53VRAM, Target: "arm/vexpress-v2f-1xv7-ca53x2.dtb"},
			{Name: DTBVexpressCA53CMA, Target: "arm/vexpress-v2f-1xv7-ca53x2.dtb",
				Fixups: []DTBFixup{{Path: clcd, Property: "memory-region",
					Why: "without its VRAM, pl111 allocates from CMA and can import dma-bufs"}}},
		},
	}
}

// BuiltKernel is a kernel built by BuildKernel, kept in the cache.
type BuiltKernel struct {
	// Spec is what was built.
	Spec KernelSpec
	// Dir is the cache directory holding the outputs.
	Dir string
	// Image is the bootable kernel image (QEMU's -kernel).
	Image string
	// DTBs maps each DTBSpec.Name to its fixed-up blob (QEMU's -dtb).
	DTBs map[string]string
	// Config is the kernel's .config.
	Config string
	// Release is the kernel release (uname -r).
	Release string
	// Key is the hash of the build's inputs, the cache key.
	Key string
}

// Tree returns the kernel as a KernelTree for Boot: no modules (everything
// is built in), the image as Vmlinuz, the architecture, and the device tree
// when the spec has exactly one (use TreeWithDTB to choose among several).
func (b *BuiltKernel) Tree() *KernelTree {
	t := &KernelTree{
		Package: fmt.Sprintf("%s %s (%s)", KernelSourcePackage, KernelSourceVersion, b.Spec.Name),
		Dir:     b.Dir,
		Vmlinuz: b.Image,
		Release: b.Release,
		Arch:    Arch(b.Spec.Arch), // the kernel's ARCH is GOARCH for arm and arm64
		index:   map[string]string{},
	}
	if len(b.Spec.DTBs) == 1 {
		t.DTB = b.DTBs[b.Spec.DTBs[0].Name]
	}
	return t
}

// TreeWithDTB is Tree with the device tree named dtb (a DTBSpec.Name such
// as DTBVexpressCA53CMA).
func (b *BuiltKernel) TreeWithDTB(dtb string) (*KernelTree, error) {
	p, ok := b.DTBs[dtb]
	if !ok {
		return nil, fmt.Errorf("kernel %s has no device tree %s", b.Spec.Name, dtb)
	}
	t := b.Tree()
	t.DTB = p
	return t, nil
}

// KernelBuildError says which step of a kernel build failed, with the end of
// its output and where the whole log is.
type KernelBuildError struct {
	Kernel string
	Step   string
	Err    error
	Output string
	Log    string
}

// Error says what failed and why.
func (e *KernelBuildError) Error() string {
	msg := fmt.Sprintf("kernel %s: %s: %v", e.Kernel, e.Step, e.Err)
	if e.Output != "" {
		msg += "\n" + strings.TrimSpace(e.Output)
	}
	if e.Log != "" {
		msg += "\n(full log: " + e.Log + ")"
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *KernelBuildError) Unwrap() error { return e.Err }

// BuildKernel returns the kernel spec describes, built from Debian's
// linux-source-6.12 (KernelSourceVersion) with Debian's cross compiler, and
// cached under cacheDir/kbuild keyed by the hash of its inputs: the source
// version, the fragments' bytes, the compiler's version, the device trees and
// their fix-ups, and this code's kbuildVersion. A second call with the same
// inputs returns the cached kernel at once (it runs the compiler's --version
// and nothing else).
//
// The first call downloads the source package with apt-get download into
// cacheDir/deb, unpacks it once per version, configures with make allnoconfig
// and the fragments, and fails, naming every option, when the .config lacks
// an option a fragment asks for (a missing dependency drops it silently).
// It then builds the image and the device trees with make -j(CPUs), in a
// build directory kept per kernel name so that a changed fragment rebuilds
// only what changed. It needs make, bc, bison, flex, gcc for the host and the
// cross compiler (Debian packages make, bc, bison, flex, gcc, libssl-dev,
// gcc-arm-linux-gnueabihf, gcc-aarch64-linux-gnu); a missing tool is an
// error. Concurrent callers for the same kernel wait for each other.
//
// Boot the result with Boot and Config{Board: VexpressA9 or
// VexpressA15Arm64, Kernel: Tree() or TreeWithDTB(...), Append: cma=64M},
// or by hand with a KernelBoard's QEMUArgs and CommandLine.
func BuildKernel(ctx context.Context, cacheDir string, spec KernelSpec) (*BuiltKernel, error) {
	fail := func(step string, err error, out string) error {
		return &KernelBuildError{Kernel: spec.Name, Step: step, Err: err, Output: out}
	}
	fragment, err := specFragment(spec)
	if err != nil {
		return nil, fail("read config fragments", err, "")
	}
	cc, err := compilerVersion(ctx, spec.CrossCompile+"gcc")
	if err != nil {
		return nil, fail("cross compiler", err, "")
	}
	key := kernelKey(spec, fragment, cc)
	root := filepath.Join(cacheDir, "kbuild")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fail("create cache", err, "")
	}
	outDir := filepath.Join(root, spec.Name+"-"+key[:16])
	if b, err := openBuiltKernel(spec, outDir, key); err == nil {
		return b, nil
	}
	unlock, err := lockFile(ctx, filepath.Join(root, spec.Name+".lock"))
	if err != nil {
		return nil, fail("lock the cache", err, "")
	}
	defer unlock()
	if b, err := openBuiltKernel(spec, outDir, key); err == nil {
		return b, nil // built by someone we waited for
	}
	src, err := kernelSource(ctx, cacheDir)
	if err != nil {
		return nil, fail("kernel source", err, "")
	}
	build := filepath.Join(root, "build-"+spec.Name)
	if err := os.MkdirAll(build, 0o755); err != nil {
		return nil, fail("create build directory", err, "")
	}
	fragPath := filepath.Join(build, "bootsplash.fragment")
	if err := os.WriteFile(fragPath, fragment, 0o644); err != nil {
		return nil, fail("write fragment", err, "")
	}
	logPath := filepath.Join(build, "build.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fail("create build log", err, "")
	}
	defer logf.Close()
	var cpu time.Duration
	mk := func(step string, args ...string) error {
		all := append([]string{"-C", src, "O=" + build, "ARCH=" + spec.Arch, "CROSS_COMPILE=" + spec.CrossCompile}, args...)
		fmt.Fprintf(logf, "\n$ make %s\n", strings.Join(all, " "))
		cmd := exec.CommandContext(ctx, "make", all...)
		killGroupOnCancel(cmd)
		cmd.Env = append(os.Environ(),
			"KCONFIG_ALLCONFIG="+fragPath,
			// Reproducible: the same inputs give the same image.
			"KBUILD_BUILD_TIMESTAMP=Thu Jan  1 00:00:00 UTC 1970",
			"KBUILD_BUILD_USER=bootsplash", "KBUILD_BUILD_HOST=vmtest",
			"LC_ALL=C")
		var tail tailBuffer
		w := io.MultiWriter(logf, &tail)
		cmd.Stdout, cmd.Stderr = w, w
		err := cmd.Run()
		if cmd.ProcessState != nil {
			// make's usage includes every compiler it waited for.
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		if err != nil {
			return &KernelBuildError{Kernel: spec.Name, Step: step, Err: err, Output: tail.String(), Log: logPath}
		}
		return nil
	}
	start := time.Now()
	if err := mk("make allnoconfig with "+strings.Join(spec.Fragments, ", "), "allnoconfig"); err != nil {
		return nil, err
	}
	config, err := os.ReadFile(filepath.Join(build, ".config"))
	if err != nil {
		return nil, fail("read .config", err, "")
	}
	if err := CheckKernelConfig(fragment, config); err != nil {
		return nil, &KernelBuildError{Kernel: spec.Name, Step: "check .config against " + strings.Join(spec.Fragments, ", "), Err: err, Log: filepath.Join(build, ".config")}
	}
	targets := []string{fmt.Sprintf("-j%d", runtime.NumCPU()), spec.Image}
	for _, d := range spec.DTBs {
		targets = append(targets, d.Target)
	}
	if err := mk("make "+strings.Join(targets[1:], " "), targets...); err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "\nbuilt in %s (CPU time %s, %d CPUs)\n", time.Since(start).Round(time.Second), cpu.Round(time.Second), runtime.NumCPU())

	tmp, err := os.MkdirTemp(root, "out-")
	if err != nil {
		return nil, fail("save outputs", err, "")
	}
	defer os.RemoveAll(tmp)
	copyOut := func(from, to string, edit func([]byte) ([]byte, error)) error {
		b, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		if edit != nil {
			if b, err = edit(b); err != nil {
				return err
			}
		}
		return os.WriteFile(filepath.Join(tmp, to), b, 0o644)
	}
	if err := copyOut(filepath.Join(build, "arch", spec.Arch, "boot", spec.Image), spec.Image, nil); err != nil {
		return nil, fail("save image", err, "")
	}
	for _, d := range spec.DTBs {
		fixups := d.Fixups
		edit := func(b []byte) ([]byte, error) { return ApplyDTBFixups(b, fixups) }
		if err := copyOut(filepath.Join(build, "arch", spec.Arch, "boot", "dts", d.Target), d.Name, edit); err != nil {
			return nil, fail("device tree "+d.Name, err, "")
		}
	}
	if err := copyOut(filepath.Join(build, ".config"), "config", nil); err != nil {
		return nil, fail("save .config", err, "")
	}
	if err := copyOut(filepath.Join(build, "include", "config", "kernel.release"), "release", nil); err != nil {
		return nil, fail("save kernel.release", err, "")
	}
	inputs := fmt.Sprintf("key %s\n%s", key, kernelKeyText(spec, fragment, cc))
	if err := os.WriteFile(filepath.Join(tmp, "inputs"), []byte(inputs), 0o644); err != nil {
		return nil, fail("save inputs", err, "")
	}
	if err := os.RemoveAll(outDir); err != nil {
		return nil, fail("replace old outputs", err, "")
	}
	if err := os.Rename(tmp, outDir); err != nil {
		return nil, fail("save outputs", err, "")
	}
	return openBuiltKernel(spec, outDir, key)
}

// openBuiltKernel returns the cached kernel in dir if it is complete.
func openBuiltKernel(spec KernelSpec, dir, key string) (*BuiltKernel, error) {
	inputs, err := os.ReadFile(filepath.Join(dir, "inputs"))
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(inputs, []byte("key "+key+"\n")) {
		return nil, fmt.Errorf("%s holds another build", dir)
	}
	rel, err := os.ReadFile(filepath.Join(dir, "release"))
	if err != nil {
		return nil, err
	}
	b := &BuiltKernel{Spec: spec, Dir: dir, Image: filepath.Join(dir, spec.Image), Config: filepath.Join(dir, "config"),
		Release: strings.TrimSpace(string(rel)), Key: key, DTBs: map[string]string{}}
	for _, p := range []string{b.Image, b.Config} {
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
	}
	for _, d := range spec.DTBs {
		p := filepath.Join(dir, d.Name)
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
		b.DTBs[d.Name] = p
	}
	return b, nil
}

// specFragment is the spec's fragments, concatenated in order.
func specFragment(spec KernelSpec) ([]byte, error) {
	if len(spec.Fragments) == 0 {
		return nil, errors.New("no config fragment")
	}
	var all []byte
	for _, f := range spec.Fragments {
		b, err := kconfigFS.ReadFile("kconfig/" + f)
		if err != nil {
			return nil, err
		}
		all = append(all, fmt.Sprintf("# --- kconfig/%s\n", f)...)
		all = append(all, b...)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			all = append(all, '\n')
		}
	}
	return all, nil
}

// compilerVersion is the first line of the compiler's --version.
func compilerVersion(ctx context.Context, gcc string) (string, error) {
	out, err := exec.CommandContext(ctx, gcc, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w (Debian package %s)", gcc, err, crossPackage(gcc))
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), nil
}

// crossPackage names the Debian package of a cross compiler.
func crossPackage(gcc string) string {
	return "gcc-" + strings.TrimSuffix(strings.TrimSuffix(gcc, "gcc"), "-")
}

// kernelKeyText lists everything a built kernel depends on, one item a line.
func kernelKeyText(spec KernelSpec, fragment []byte, compiler string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kbuild %d\n", kbuildVersion)
	fmt.Fprintf(&b, "source %s %s\n", KernelSourcePackage, KernelSourceVersion)
	fmt.Fprintf(&b, "arch %s\ncross %s\ncompiler %s\nimage %s\n", spec.Arch, spec.CrossCompile, compiler, spec.Image)
	fr := sha256.Sum256(fragment)
	fmt.Fprintf(&b, "fragments %s sha256 %s\n", strings.Join(spec.Fragments, " "), hex.EncodeToString(fr[:]))
	for _, d := range spec.DTBs {
		fmt.Fprintf(&b, "dtb %s from %s\n", d.Name, d.Target)
		for _, f := range d.Fixups {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	return b.String()
}

// kernelKey is the hex SHA-256 of kernelKeyText.
func kernelKey(spec KernelSpec, fragment []byte, compiler string) string {
	h := sha256.Sum256([]byte(kernelKeyText(spec, fragment, compiler)))
	return hex.EncodeToString(h[:])
}

// CheckKernelConfig checks that the .config has every option the fragment
// sets, with the fragment's value ("# CONFIG_X is not set" wants X off or
// absent). A later line for the same option overrides an earlier one, as in
// kconfig. The error names every option that differs and what it got.
func CheckKernelConfig(fragment, config []byte) error {
	want, order := parseKconfig(fragment)
	have, _ := parseKconfig(config)
	var bad []string
	for _, name := range order {
		w, h := want[name], have[name]
		if h == "" {
			h = "n"
		}
		if w != h {
			got := name + " is not set"
			if h != "n" {
				got = name + "=" + h
			}
			bad = append(bad, fmt.Sprintf("%s=%s (got: %s)", name, w, got))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d option(s) of the fragment missing from .config (a dependency is not met or the option does not exist): %s",
			len(bad), strings.Join(bad, "; "))
	}
	return nil
}

// parseKconfig reads CONFIG_X=v and "# CONFIG_X is not set" (as X=n) lines,
// returning the last value of each option and the options in first-seen
// order.
func parseKconfig(b []byte) (map[string]string, []string) {
	vals := map[string]string{}
	var order []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		var name, val string
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			n, ok := strings.CutSuffix(rest, " is not set")
			if !ok || !strings.HasPrefix(n, "CONFIG_") {
				continue
			}
			name, val = n, "n"
		} else if n, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(n, "CONFIG_") {
			name, val = n, v
		} else {
			continue
		}
		if _, seen := vals[name]; !seen {
			order = append(order, name)
		}
		vals[name] = val
	}
	return vals, order
}

// kernelSource returns the unpacked source tree of KernelSourcePackage at
// KernelSourceVersion, downloading and unpacking it the first time.
func kernelSource(ctx context.Context, cacheDir string) (string, error) {
	root := filepath.Join(cacheDir, "kbuild")
	dir := filepath.Join(root, "src-"+KernelSourceVersion)
	tree := filepath.Join(dir, "linux-source-6.12")
	marker := filepath.Join(dir, ".unpacked")
	if _, err := os.Stat(marker); err == nil {
		return tree, nil
	}
	pkg := KernelSourcePackage + "=" + KernelSourceVersion
	debDir := filepath.Join(cacheDir, "deb")
	if err := os.MkdirAll(debDir, 0o755); err != nil {
		return "", err
	}
	// apt-get download names the file PKG_VERSION_all.deb (an epoch's ':'
	// would be %3a; this version has none).
	deb := filepath.Join(debDir, KernelSourcePackage+"_"+KernelSourceVersion+"_all.deb")
	if _, err := os.Stat(deb); err != nil {
		args := []string{"download"}
		if os.Geteuid() == 0 {
			args = append(args, "-o", "APT::Sandbox::User=root")
		}
		args = append(args, pkg)
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Dir = debDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", &FetchError{Package: pkg, Step: "apt-get " + strings.Join(args, " "), Err: err, Output: string(out)}
		}
		if _, err := os.Stat(deb); err != nil {
			return "", &FetchError{Package: pkg, Step: "apt-get download", Err: err}
		}
	}
	tmp, err := os.MkdirTemp(root, "src-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, filepath.Join(tmp, "deb")).CombinedOutput(); err != nil {
		return "", &FetchError{Package: pkg, Step: "dpkg-deb -x " + deb, Err: err, Output: string(out)}
	}
	tarball := filepath.Join(tmp, "deb", "usr", "src", "linux-source-6.12.tar.xz")
	if out, err := exec.CommandContext(ctx, "tar", "-xJf", tarball, "-C", tmp).CombinedOutput(); err != nil {
		return "", &FetchError{Package: pkg, Step: "tar -xJf " + tarball, Err: err, Output: string(out)}
	}
	if err := os.RemoveAll(filepath.Join(tmp, "deb")); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".unpacked"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return tree, nil
}

// tailBuffer keeps the last lines written to it, for error messages.
type tailBuffer struct{ b []byte }

const tailMax = 4000

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2*tailMax {
		t.b = append([]byte(nil), t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	b := t.b
	if len(b) > tailMax {
		b = b[len(b)-tailMax:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// KernelBoard is how QEMU boots a kernel of BuildKernel on one emulated
// board by hand, for the kernel's own boot check; Boot takes a Board.
type KernelBoard struct {
	// Name names the board in messages: "vexpress-a9".
	Name string
	// QEMU is the emulator binary (Debian package qemu-system-arm has
	// both): "qemu-system-arm" or "qemu-system-aarch64".
	QEMU string
	// Machine and CPU are QEMU's -M and -cpu.
	Machine, CPU string
	// MemoryMB is QEMU's -m.
	MemoryMB int
	// DTB names the device tree in BuiltKernel.DTBs (QEMU's -dtb).
	DTB string
	// Console is the kernel console, the first UART; the second is
	// ttyAMA1.
	Console string
	// Append is the kernel command line the board needs besides
	// console= and the init: the CMA area the CMA heap ("reserved") and
	// pl111 allocate from.
	Append string
}

// BoardVexpressA9 is armhf on -M vexpress-a9: the core tile's pl111 behind
// the sii902x bridge, allocating from CMA; heaps "system" and "reserved".
func BoardVexpressA9() KernelBoard {
	return KernelBoard{Name: "vexpress-a9", QEMU: "qemu-system-arm", Machine: "vexpress-a9", CPU: "cortex-a9",
		MemoryMB: 1024, DTB: DTBVexpressA9, Console: "ttyAMA0", Append: "cma=64M"}
}

// BoardVexpressCA53CMA is arm64 on -M vexpress-a15,secure=off with a
// Cortex-A57: the motherboard pl111 allocating from CMA; heaps "system" and
// "reserved".
func BoardVexpressCA53CMA() KernelBoard {
	return KernelBoard{Name: "vexpress-ca53-cma", QEMU: "qemu-system-aarch64", Machine: "vexpress-a15,secure=off", CPU: "cortex-a57",
		MemoryMB: 1024, DTB: DTBVexpressCA53CMA, Console: "ttyAMA0", Append: "cma=64M"}
}

// BoardVexpressCA53VRAM is BoardVexpressCA53CMA with the motherboard
// pl111 scanning out of its own VRAM: it refuses every import.
func BoardVexpressCA53VRAM() KernelBoard {
	b := BoardVexpressCA53CMA()
	b.Name, b.DTB = "vexpress-ca53-vram", DTBVexpressCA53VRAM
	return b
}

// QEMUArgs returns the options that boot k on the board: machine, CPU,
// memory, kernel and device tree. The caller adds -initrd, -append (see
// CommandLine), the serial ports and the display options.
func (b KernelBoard) QEMUArgs(k *BuiltKernel) ([]string, error) {
	dtb, ok := k.DTBs[b.DTB]
	if !ok {
		return nil, fmt.Errorf("board %s: kernel %s has no device tree %s", b.Name, k.Spec.Name, b.DTB)
	}
	return []string{"-M", b.Machine, "-cpu", b.CPU, "-m", fmt.Sprint(b.MemoryMB), "-smp", "1",
		"-kernel", k.Image, "-dtb", dtb}, nil
}

// CommandLine returns the kernel command line for the board with extra
// appended: "console=ttyAMA0 cma=64M rdinit=/init panic=-1 extra".
func (b KernelBoard) CommandLine(extra string) string {
	s := "console=" + b.Console + " " + b.Append + " rdinit=/init panic=-1"
	if extra != "" {
		s += " " + extra
	}
	return s
}
