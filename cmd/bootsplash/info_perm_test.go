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
