package vmtest

import (
	"debug/elf"
	"fmt"
	"os"
	"path"
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
// object's RUNPATH or RPATH and then LibraryDirs, on this machine at the
// same paths. A static program needs only itself. A library that cannot
// be found is an error.
func ProgramFiles(hostPath, guestPath string) ([]File, error) {
	return elfWalk(guestPath, hostPath, LibraryDirs, hostFile, "not on this machine")
}

// hostFile is the lookup of ProgramFiles: a guest path is the same path on
// this machine.
func hostFile(p string) (string, bool) {
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// elfWalk lists the files the ELF program at guest path prog (host file
// host) needs in the guest: itself, its interpreter and the libraries its
// DT_NEEDED entries reach, transitively, each searched for in the
// object's RUNPATH or RPATH (with $ORIGIN its guest directory, as the
// guest's loader expands it) and then libdirs. lookup gives the host
// file holding a guest path (false: none); where says in errors where it
// looked. A library of another machine or class is passed over, as the
// loader does.
func elfWalk(prog, host string, libdirs []string, lookup func(string) (string, bool), where string) ([]File, error) {
	files := []File{{Path: prog, HostPath: host}}
	f, err := elf.Open(host)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	machine, class := f.Machine, f.Class
	interp, err := elfInterpreter(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	if interp != "" {
		h, ok := lookup(interp)
		if !ok {
			return nil, fmt.Errorf("%s: interpreter %s: %s", prog, interp, where)
		}
		files = append(files, File{Path: interp, HostPath: h})
	}
	seen := map[string]bool{}
	queue := []File{files[0]}
	for len(queue) > 0 {
		o := queue[0]
		queue = queue[1:]
		needed, dirs, err := elfNeeds(o.HostPath, path.Dir(o.Path))
		if err != nil {
			return nil, err
		}
		for _, lib := range needed {
			if seen[lib] {
				continue
			}
			seen[lib] = true
			search, name := append(dirs, libdirs...), lib
			if strings.Contains(lib, "/") {
				search, name = []string{path.Dir(lib)}, path.Base(lib)
			}
			found, ok := findLibrary(name, search, lookup, machine, class)
			if !ok {
				return nil, fmt.Errorf("%s needs %s: %s, under %s", o.Path, lib, where, strings.Join(search, ", "))
			}
			files = append(files, found)
			queue = append(queue, found)
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
// directories as guest paths (RUNPATH, or else RPATH, with $ORIGIN the
// object's guest directory origin).
func elfNeeds(host, origin string) (needed, dirs []string, err error) {
	f, err := elf.Open(host)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", host, err)
	}
	defer f.Close()
	if needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return nil, nil, fmt.Errorf("%s: DT_NEEDED: %w", host, err)
	}
	paths, _ := f.DynString(elf.DT_RUNPATH)
	if len(paths) == 0 {
		paths, _ = f.DynString(elf.DT_RPATH)
	}
	for _, p := range paths {
		for _, d := range strings.Split(p, ":") {
			d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	return needed, dirs, nil
}

// findLibrary returns the first dirs/name (a guest path, and the host
// file lookup gives for it) that is an ELF object for the program's
// machine and class (a 32-bit library of the same name is passed over,
// as the loader does).
func findLibrary(name string, dirs []string, lookup func(string) (string, bool), machine elf.Machine, class elf.Class) (File, bool) {
	for _, d := range dirs {
		g := path.Join(d, name)
		h, ok := lookup(g)
		if !ok {
			continue
		}
		f, err := elf.Open(h)
		if err != nil {
			continue
		}
		match := f.Machine == machine && f.Class == class
		f.Close()
		if match {
			return File{Path: g, HostPath: h}, true
		}
	}
	return File{}, false
}
