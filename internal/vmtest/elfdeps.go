package vmtest

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LibraryDirs are where ProgramFiles looks for shared libraries (after a
// library's own RUNPATH or RPATH), in the order Debian's dynamic loader
// searches them on x86-64 without an ld.so.cache.
var LibraryDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// ProgramFiles returns what a dynamically linked host program needs to run
// in the guest, each at the path the dynamic loader will look for it: the
// program itself at guestPath, its ELF interpreter (PT_INTERP) and every
// shared library its DT_NEEDED entries reach, transitively, found in each
// object's RUNPATH or RPATH and then LibraryDirs. A static program needs
// only itself. A library that cannot be found is an error.
func ProgramFiles(hostPath, guestPath string) ([]File, error) {
	files := []File{{Path: guestPath, HostPath: hostPath}}
	f, err := elf.Open(hostPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hostPath, err)
	}
	machine, class := f.Machine, f.Class
	interp, err := elfInterpreter(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hostPath, err)
	}
	if interp != "" {
		if _, err := os.Stat(interp); err != nil {
			return nil, fmt.Errorf("%s: interpreter: %w", hostPath, err)
		}
		files = append(files, File{Path: interp, HostPath: interp})
	}
	seen := map[string]bool{}
	queue := []string{hostPath}
	for len(queue) > 0 {
		obj := queue[0]
		queue = queue[1:]
		needed, dirs, err := elfNeeds(obj)
		if err != nil {
			return nil, err
		}
		for _, lib := range needed {
			if seen[lib] {
				continue
			}
			seen[lib] = true
			p, err := findLibrary(lib, append(dirs, LibraryDirs...), machine, class)
			if err != nil {
				return nil, fmt.Errorf("%s needs %s: %w", obj, lib, err)
			}
			files = append(files, File{Path: p, HostPath: p})
			queue = append(queue, p)
		}
	}
	return files, nil
}

func elfInterpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", fmt.Errorf("read PT_INTERP: %w", err)
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	return "", nil
}

// elfNeeds returns an object's DT_NEEDED names and its own search
// directories (RUNPATH, or else RPATH, with $ORIGIN expanded).
func elfNeeds(path string) (needed, dirs []string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return nil, nil, fmt.Errorf("%s: DT_NEEDED: %w", path, err)
	}
	paths, _ := f.DynString(elf.DT_RUNPATH)
	if len(paths) == 0 {
		paths, _ = f.DynString(elf.DT_RPATH)
	}
	origin := filepath.Dir(path)
	for _, p := range paths {
		for _, d := range filepath.SplitList(p) {
			d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	return needed, dirs, nil
}

// findLibrary returns the first dirs/name that is an ELF object for the
// program's machine and class (a 32-bit library of the same name is passed
// over, as the loader does).
func findLibrary(name string, dirs []string, machine elf.Machine, class elf.Class) (string, error) {
	if strings.Contains(name, "/") {
		dirs, name = []string{filepath.Dir(name)}, filepath.Base(name)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		ok := f.Machine == machine && f.Class == class
		f.Close()
		if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in %s", strings.Join(dirs, ", "))
}
