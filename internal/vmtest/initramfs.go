package vmtest

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/cavaliergopher/cpio"
)

// Initramfs is the guest's whole root file system: an in-memory list of
// files written out as a gzip'd newc cpio archive, the format the kernel
// unpacks into its rootfs before running /init.
type Initramfs struct {
	files map[string]initramfsFile
}

type initramfsFile struct {
	data     []byte
	hostPath string
	mode     os.FileMode
}

// NewInitramfs returns an empty archive.
func NewInitramfs() *Initramfs { return &Initramfs{files: map[string]initramfsFile{}} }

func cleanGuestPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("initramfs path %q is not absolute", p)
	}
	c := path.Clean(p)
	if c == "/" {
		return "", fmt.Errorf("initramfs path %q names the root", p)
	}
	return c, nil
}

// Add puts data at the absolute guest path p with permission bits mode.
// Parent directories are created as needed; a later Add replaces an earlier.
func (a *Initramfs) Add(p string, data []byte, mode os.FileMode) error {
	c, err := cleanGuestPath(p)
	if err != nil {
		return err
	}
	a.files[c] = initramfsFile{data: data, mode: mode.Perm()}
	return nil
}

// AddHostFile puts the host file hostPath at guest path p, keeping its
// permission bits. The file is read when the archive is written.
func (a *Initramfs) AddHostFile(p, hostPath string) error {
	c, err := cleanGuestPath(p)
	if err != nil {
		return err
	}
	st, err := os.Stat(hostPath)
	if err != nil {
		return fmt.Errorf("initramfs %s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("initramfs %s: %s is not a regular file", p, hostPath)
	}
	a.files[c] = initramfsFile{hostPath: hostPath, mode: st.Mode().Perm()}
	return nil
}

// Paths lists the files in the archive, sorted.
func (a *Initramfs) Paths() []string {
	var ps []string
	for p := range a.files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// WriteTo writes the gzip'd cpio archive to w: directories first, each
// parent before its children, files in path order.
func (a *Initramfs) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestSpeed)
	if err != nil {
		return 0, err
	}
	ar := cpio.NewWriter(zw)
	dirs := map[string]bool{}
	var dirList []string
	for p := range a.files {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				dirList = append(dirList, d)
			}
		}
	}
	sort.Strings(dirList) // a parent sorts before its children
	for _, d := range dirList {
		if _, clash := a.files[d]; clash {
			return cw.n, fmt.Errorf("initramfs: %s is both a file and a directory", d)
		}
		if err := ar.WriteHeader(&cpio.Header{Name: d[1:], Mode: cpio.TypeDir | 0o755, Links: 2}); err != nil {
			return cw.n, err
		}
	}
	for _, p := range a.Paths() {
		f := a.files[p]
		data := f.data
		if f.hostPath != "" {
			if data, err = os.ReadFile(f.hostPath); err != nil {
				return cw.n, fmt.Errorf("initramfs %s: %w", p, err)
			}
		}
		h := &cpio.Header{Name: p[1:], Mode: cpio.TypeReg | cpio.FileMode(f.mode), Size: int64(len(data)), Links: 1}
		if err := ar.WriteHeader(h); err != nil {
			return cw.n, err
		}
		if _, err := ar.Write(data); err != nil {
			return cw.n, fmt.Errorf("initramfs %s: %w", p, err)
		}
	}
	if err := ar.Close(); err != nil {
		return cw.n, err
	}
	if err := zw.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

// WriteFile writes the archive to the host file name.
func (a *Initramfs) WriteFile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := a.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write initramfs %s: %w", name, err)
	}
	return f.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
