package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInfoNodeAccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "system")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	ok := statNode(path, nil)
	if !ok.Present || !ok.Accessible || ok.Denied != "" || ok.Mode != "0640" || !strings.HasPrefix(ok.Ls, "-rw-r----- ") {
		t.Errorf("an accessible node: %+v", ok)
	}
	refused := statNode(path, os.ErrPermission)
	if refused.Accessible || refused.Denied != "permission denied" {
		t.Errorf("a refused node: %+v", refused)
	}
	if gone := statNode(filepath.Join(t.TempDir(), "nope"), nil); gone.Present || gone.Accessible {
		t.Errorf("a missing node: %+v", gone)
	}

	r := &infoReport{
		Nodes: []nodeReport{
			{Path: "/dev/dri/card0", Kind: "primary", Present: true, Ls: "crw------- root:root", Denied: "open /dev/dri/card0: permission denied (...)"},
			{Path: "/dev/dri/renderD128", Kind: "render", Present: true, Ls: "crw-rw-rw- root:render", Accessible: true},
		},
		DeviceErrors: []string{"open /dev/dri/card0: permission denied (...)"},
		Heaps: []heapReport{{Name: "system", nodeReport: nodeReport{Path: "/dev/dma_heap/system", Present: true,
			Ls: "crw------- root:root", Denied: `access: open heap "system" (/dev/dma_heap/system): permission denied: why`}}},
		Udmabuf: nodeReport{Path: "/dev/udmabuf", Present: true, Ls: "crw-rw---- root:video", Accessible: true},
	}
	var b strings.Builder
	if err := r.writeText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  /dev/dri/card0 (primary node) crw------- root:root, not accessible (see the device error)\n",
		"  /dev/dri/renderD128 (render node: no mode setting) crw-rw-rw- root:render, accessible\n",
		"device error: open /dev/dri/card0: permission denied (...)\n",
		`  system: /dev/dma_heap/system crw------- root:root, not accessible: access: open heap "system" (/dev/dma_heap/system): permission denied: why` + "\n",
		"udmabuf: /dev/udmabuf crw-rw---- root:video, accessible\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("info text lacks %q:\n%s", want, b.String())
		}
	}
}

// info --device on something that is not a DRM device says what it is
// and fails: /dev/null used to be "an accessible primary node", exit 0.
func TestInfoDeviceNotDRM(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "card0")
	if err := os.WriteFile(file, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want string
	}{
		{"/dev/null", "not a DRM device: character device 1:3, DRM devices have major 226"},
		{file, "not a DRM device: a regular file"},
		{dir, "not a DRM device: a directory"},
		{filepath.Join(dir, "gone"), "no such file or directory"},
	} {
		for _, args := range [][]string{{"info", "--device", c.path}, {"info", "--json", "--device", c.path}} {
			stdout, _, err := runArgs(t, args...)
			if err == nil || exitCode(err) != 1 {
				t.Errorf("%q: %v (exit %d), want a failure", args, err, exitCode(err))
				continue
			}
			if !strings.Contains(err.Error(), c.want) || strings.Count(err.Error(), c.path) != 1 {
				t.Errorf("%q: %q, want it to say %q and name %s once", args, err, c.want, c.path)
			}
			if strings.Contains(stdout, "primary node") || strings.Contains(stdout, `"kind": "primary"`) || strings.Contains(stdout, "accessible\n") || strings.Contains(stdout, `"accessible": true`) {
				t.Errorf("%q calls %s a primary node or accessible:\n%s", args, c.path, stdout)
			}
		}
	}
	if kind, notDRM := drmKind("/dev/null"); kind != "" || notDRM == "" {
		t.Errorf("drmKind(/dev/null) = %q, %q", kind, notDRM)
	}
}
