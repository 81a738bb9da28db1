package vmtest

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ulikunitz/xz"
)

// The Debian kernel packages the suite is pinned to. The package name carries
// the kernel's ABI; a newer ABI is a new package name, so a change of kernel
// is a change here, on purpose.
const (
	// Kernel612 is Debian bookworm's 6.12 backport: dma-buf heaps, udmabuf,
	// modules compressed as .ko.xz.
	Kernel612 = "linux-image-6.12.107+deb12-amd64-unsigned"
	// Kernel61 is Debian bookworm's own 6.1 kernel: no dma-buf heaps, no
	// udmabuf, plain .ko modules. The "old kernel" case for fallbacks.
	Kernel61 = "linux-image-6.1.0-56-amd64-unsigned"
	// KernelArm64 is bookworm's 6.12 backport for arm64: no dma-buf heaps,
	// udmabuf built in, virtio-gpu a module, no pl111; an uncompressed
	// Image as vmlinuz.
	KernelArm64 = "linux-image-6.12.107+deb12-arm64-unsigned"
	// KernelRISCV64 is trixie's 6.12 for riscv64 (bookworm has no riscv64):
	// no dma-buf heaps, no udmabuf, virtio-gpu a module; the image is
	// boot/vmlinux-*, the modules under usr/lib/modules (merged /usr).
	KernelRISCV64 = "linux-image-6.12.107+deb13-riscv64"
)

// debSource says where a pinned kernel package comes from: packages of
// the host's architecture from the host's own apt sources, packages of
// other architectures from a private apt configuration under the cache
// (sources, lists, cache and status of its own: the machine's apt state is
// left as it is, no dpkg --add-architecture).
type debSource struct {
	arch Arch
	// version pins a foreign package ("" for host packages, whose name
	// pins the ABI and whose version is the host archive's, and for
	// foreign packages taken at the archive's current version).
	version string
	// suites are Debian archive lines: "URI SUITE".
	suites []string
}

// bookwormSuites are the archive lines of Debian bookworm and its
// security updates.
var bookwormSuites = []string{"http://deb.debian.org/debian bookworm", "http://deb.debian.org/debian-security bookworm-security"}

func debSourceOf(pkg string) debSource {
	switch pkg {
	case KernelArm64:
		return debSource{arch: ARM64, version: "6.12.107-1~deb12u1", suites: bookwormSuites}
	case KernelRISCV64:
		return debSource{arch: RISCV64, version: "6.12.107-1", suites: []string{"http://deb.debian.org/debian trixie"}}
	}
	return debSource{arch: HostArch}
}

// CacheDir is where kernel packages, their extracted trees and the kernels
// the suite builds are kept: $BOOTSPLASH_VM_CACHE, else bootsplash/vm in
// the user's cache directory ($XDG_CACHE_HOME or ~/.cache), so that every
// checkout on a machine shares one cache, else .cache/vm under the
// repository root. Entries are keyed by their inputs (package name and
// version, or the hash of a kernel build's inputs), so a shared cache never
// serves a stale one.
func CacheDir(repoRoot string) string {
	if d := os.Getenv("BOOTSPLASH_VM_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "bootsplash", "vm")
	}
	return filepath.Join(repoRoot, ".cache", "vm")
}

// KernelTree is an extracted kernel package: the kernel image and its
// modules, ready to be booted.
type KernelTree struct {
	// Package is the Debian package it came from.
	Package string
	// Dir is the package's extracted root.
	Dir string
	// Vmlinuz is the kernel image.
	Vmlinuz string
	// Release is the kernel release (uname -r), the name of its
	// lib/modules directory.
	Release string
	// Arch is the architecture the kernel runs on.
	Arch Arch
	// DTB is the device tree QEMU passes to the kernel (-dtb); empty on
	// boards whose device tree QEMU makes itself.
	DTB string

	index map[string]string // module name (with '_') → file
}

// FetchError says that a kernel package could not be had and how to get it.
type FetchError struct {
	Package string
	Step    string
	Err     error
	Output  string
}

// Error says what failed and why.
func (e *FetchError) Error() string {
	msg := fmt.Sprintf("kernel package %s: %s: %v", e.Package, e.Step, e.Err)
	if e.Output != "" {
		msg += "\n" + strings.TrimSpace(e.Output)
	}
	return msg + fmt.Sprintf("\n(the VM tests need it: `apt-get update && apt-get download %s` must work; "+
		"set BOOTSPLASH_VM_CACHE to a directory holding its .deb to work offline)", e.Package)
}

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.Err }

// FetchKernel returns the extracted tree of the Debian package pkg, downloading
// it with apt-get and extracting it with dpkg-deb into cacheDir the first time.
func FetchKernel(ctx context.Context, cacheDir, pkg string) (*KernelTree, error) {
	tree := filepath.Join(cacheDir, pkg)
	marker := filepath.Join(tree, ".extracted")
	if _, err := os.Stat(marker); err != nil {
		if err := extractKernel(ctx, cacheDir, pkg, tree); err != nil {
			return nil, err
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return nil, &FetchError{Package: pkg, Step: "mark extracted", Err: err}
		}
	}
	return openKernelTree(pkg, tree)
}

func extractKernel(ctx context.Context, cacheDir, pkg, tree string) error {
	debDir := filepath.Join(cacheDir, "deb")
	if err := os.MkdirAll(debDir, 0o755); err != nil {
		return &FetchError{Package: pkg, Step: "create cache", Err: err}
	}
	deb, err := findDeb(debDir, pkg)
	if err != nil {
		src := debSourceOf(pkg)
		var opts []string
		if os.Geteuid() == 0 {
			// apt drops to the _apt user to download; as root into a
			// directory _apt cannot write, it warns and fails.
			opts = append(opts, "-o", "APT::Sandbox::User=root")
		}
		want := pkg
		if src.arch != HostArch {
			aptOpts, err := foreignApt(ctx, cacheDir, pkg, src, opts)
			if err != nil {
				return err
			}
			opts = append(opts, aptOpts...)
			want = pkg + ":" + src.arch.Debian() + "=" + src.version
		}
		args := append(append([]string{"download"}, opts...), want)
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Dir = debDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &FetchError{Package: pkg, Step: "apt-get " + strings.Join(args, " "), Err: err, Output: string(out)}
		}
		if deb, err = findDeb(debDir, pkg); err != nil {
			return &FetchError{Package: pkg, Step: "apt-get download", Err: err, Output: string(out)}
		}
	}
	tmp, err := os.MkdirTemp(cacheDir, "extract-")
	if err != nil {
		return &FetchError{Package: pkg, Step: "extract", Err: err}
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
		return &FetchError{Package: pkg, Step: "dpkg-deb -x " + deb, Err: err, Output: string(out)}
	}
	if err := os.RemoveAll(tree); err != nil {
		return &FetchError{Package: pkg, Step: "replace old tree", Err: err}
	}
	if err := os.Rename(tmp, tree); err != nil {
		return &FetchError{Package: pkg, Step: "extract", Err: err}
	}
	return nil
}

func findDeb(dir, pkg string) (string, error) {
	m, err := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if err != nil {
		return "", err
	}
	if len(m) == 0 {
		return "", fmt.Errorf("no %s_*.deb in %s", pkg, dir)
	}
	sort.Strings(m)
	return m[len(m)-1], nil
}

// foreignApt returns the apt-get options that read Debian's archive for
// src's architecture from a configuration of its own under cacheDir, and
// makes sure its package lists are there (apt-get update the first time).
// opts are options every apt-get call takes.
func foreignApt(ctx context.Context, cacheDir, pkg string, src debSource, opts []string) ([]string, error) {
	dir := filepath.Join(cacheDir, "apt", src.arch.Debian())
	for _, d := range []string{"parts", "lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, &FetchError{Package: pkg, Step: "create apt directory", Err: err}
		}
	}
	var sources strings.Builder
	for _, s := range src.suites {
		fmt.Fprintf(&sources, "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s main\n", s)
	}
	files := map[string]string{"sources.list": sources.String(), "status": ""}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			return nil, &FetchError{Package: pkg, Step: "write apt " + name, Err: err}
		}
	}
	aptOpts := []string{
		"-o", "Dir::Etc::sourcelist=" + filepath.Join(dir, "sources.list"),
		"-o", "Dir::Etc::sourceparts=" + filepath.Join(dir, "parts"),
		"-o", "Dir::State::Lists=" + filepath.Join(dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
		"-o", "Dir::State::status=" + filepath.Join(dir, "status"),
		"-o", "APT::Architecture=" + src.arch.Debian(),
		"-o", "APT::Architectures::=" + src.arch.Debian(),
	}
	// The lists are fetched once per cache and again when they no longer
	// have the pinned version (the archive moved on, or the suites changed).
	want := pkg + ":" + src.arch.Debian()
	if src.version != "" {
		want += "=" + src.version
	}
	known := exec.CommandContext(ctx, "apt-cache", append(append(append([]string{}, opts...), aptOpts...), "show", want)...)
	if known.Run() == nil {
		return aptOpts, nil
	}
	args := append(append(append([]string{}, opts...), aptOpts...), "update")
	if out, err := exec.CommandContext(ctx, "apt-get", args...).CombinedOutput(); err != nil {
		return nil, &FetchError{Package: pkg, Step: "apt-get " + strings.Join(args, " "), Err: err, Output: string(out)}
	}
	return aptOpts, nil
}

func openKernelTree(pkg, dir string) (*KernelTree, error) {
	// vmlinuz (x86 bzImage, armhf zImage, arm64 Image) or vmlinux
	// (riscv64's Image with an EFI stub): QEMU's -kernel takes each as is.
	vm, _ := filepath.Glob(filepath.Join(dir, "boot", "vmlinu[xz]-*"))
	if len(vm) != 1 {
		return nil, &FetchError{Package: pkg, Step: "find boot/vmlinu[xz]-*", Err: fmt.Errorf("%d candidates in %s", len(vm), dir)}
	}
	rels, _ := filepath.Glob(filepath.Join(dir, "lib", "modules", "*"))
	if len(rels) == 0 { // merged /usr (trixie)
		rels, _ = filepath.Glob(filepath.Join(dir, "usr", "lib", "modules", "*"))
	}
	if len(rels) != 1 {
		return nil, &FetchError{Package: pkg, Step: "find lib/modules/*", Err: fmt.Errorf("%d candidates in %s", len(rels), dir)}
	}
	k := &KernelTree{Package: pkg, Dir: dir, Vmlinuz: vm[0], Release: filepath.Base(rels[0]), Arch: debSourceOf(pkg).arch, index: map[string]string{}}
	err := filepath.WalkDir(rels[0], func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		for _, ext := range []string{".ko", ".ko.xz"} {
			if strings.HasSuffix(name, ext) {
				k.index[moduleName(strings.TrimSuffix(name, ext))] = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, &FetchError{Package: pkg, Step: "index modules", Err: err}
	}
	return k, nil
}

// moduleName is the kernel's spelling of a module name: '-' becomes '_'.
func moduleName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// ModulePath returns the file of the named module ("virtio-gpu" or
// "virtio_gpu").
func (k *KernelTree) ModulePath(name string) (string, error) {
	p, ok := k.index[moduleName(name)]
	if !ok {
		return "", fmt.Errorf("module %s not found in %s (kernel %s)", name, k.Package, k.Release)
	}
	return p, nil
}

// Module returns the uncompressed ELF image of the named module.
func (k *KernelTree) Module(name string) ([]byte, error) {
	p, err := k.ModulePath(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(p, ".xz") {
		r, err := xz.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("decompress module %s: %w", p, err)
		}
		if b, err = io.ReadAll(r); err != nil {
			return nil, fmt.Errorf("decompress module %s: %w", p, err)
		}
	}
	return b, nil
}

// ModuleDepends returns the modules the named module needs loaded first,
// from the depends= entry of its .modinfo section.
func (k *KernelTree) ModuleDepends(name string) ([]string, error) {
	b, err := k.Module(name)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", name, err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("module %s: no .modinfo section", name)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("module %s: read .modinfo: %w", name, err)
	}
	return ParseModinfo(data)["depends"], nil
}

// ParseModinfo parses the contents of a module's .modinfo section
// (NUL-separated key=value entries) into its keys. A depends= entry is split
// at commas; an empty one yields no dependency.
func ParseModinfo(data []byte) map[string][]string {
	info := map[string][]string{}
	for _, e := range bytes.Split(data, []byte{0}) {
		k, v, ok := strings.Cut(string(e), "=")
		if !ok || k == "" {
			continue
		}
		if k == "depends" {
			for _, d := range strings.Split(v, ",") {
				if d != "" {
					info[k] = append(info[k], moduleName(d))
				}
			}
			if _, ok := info[k]; !ok {
				info[k] = nil
			}
			continue
		}
		info[k] = append(info[k], v)
	}
	return info
}

// ModuleSpec names a module to load and its parameters.
type ModuleSpec struct {
	Name   string
	Params string
	// Optional modules are left out when the kernel has no such module
	// file (it is built in: virtio_pci is a module in 6.1, built in 6.12).
	Optional bool
}

// HasModule reports whether the kernel has the named module as a file.
func (k *KernelTree) HasModule(name string) bool {
	_, ok := k.index[moduleName(name)]
	return ok
}

// present drops the optional modules the kernel does not have as files.
func (k *KernelTree) present(specs []ModuleSpec) []ModuleSpec {
	var out []ModuleSpec
	for _, s := range specs {
		if s.Optional && !k.HasModule(s.Name) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// ErrModuleCycle is returned when modules depend on each other in a circle.
var ErrModuleCycle = errors.New("module dependency cycle")

// OrderModules returns the wanted modules and everything they depend on,
// each after its dependencies and otherwise in the order asked for. deps
// gives a module's direct dependencies. Parameters of wanted modules are kept;
// modules pulled in as dependencies get none.
func OrderModules(want []ModuleSpec, deps func(name string) ([]string, error)) ([]ModuleSpec, error) {
	params := map[string]string{}
	for _, w := range want {
		params[moduleName(w.Name)] = w.Params
	}
	state := map[string]int{} // 1 visiting, 2 done
	var out []ModuleSpec
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("%w: %s", ErrModuleCycle, strings.Join(append(path, name), " -> "))
		}
		state[name] = 1
		ds, err := deps(name)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := visit(moduleName(d), append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, ModuleSpec{Name: name, Params: params[name]})
		return nil
	}
	for _, w := range want {
		if err := visit(moduleName(w.Name), nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
