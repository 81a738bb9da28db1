package vmtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckKernelConfig(t *testing.T) {
	fragment := []byte(`# comment
CONFIG_DRM=y
CONFIG_DRM_PL111=y
# CONFIG_MODULES is not set
CONFIG_CMA_SIZE_MBYTES=16
CONFIG_UDMABUF=m
CONFIG_UDMABUF=y
`)
	good := []byte(`CONFIG_DRM=y
CONFIG_DRM_PL111=y
# CONFIG_MODULES is not set
CONFIG_CMA_SIZE_MBYTES=16
CONFIG_UDMABUF=y
`)
	if err := CheckKernelConfig(fragment, good); err != nil {
		t.Fatalf("matching config: %v", err)
	}
	// An option that is off may also be absent from .config.
	if err := CheckKernelConfig(fragment, bytes.Replace(good, []byte("# CONFIG_MODULES is not set\n"), nil, 1)); err != nil {
		t.Fatalf("absent option wanted off: %v", err)
	}
	bad := []byte(`CONFIG_DRM=y
# CONFIG_DRM_PL111 is not set
CONFIG_MODULES=y
CONFIG_CMA_SIZE_MBYTES=64
`)
	err := CheckKernelConfig(fragment, bad)
	if err == nil {
		t.Fatal("no error for a config missing options")
	}
	for _, want := range []string{
		"CONFIG_DRM_PL111=y (got: CONFIG_DRM_PL111 is not set)",
		"CONFIG_MODULES=n (got: CONFIG_MODULES=y)",
		"CONFIG_CMA_SIZE_MBYTES=16 (got: CONFIG_CMA_SIZE_MBYTES=64)",
		"CONFIG_UDMABUF=y (got: CONFIG_UDMABUF is not set)",
		"4 option(s)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "CONFIG_DRM=y") {
		t.Errorf("error names an option that is set: %v", err)
	}
}

// TestKernelFragments reads the fragments the kernels are built with: each
// exists, each non-comment line is an option kconfig understands, and the
// options the suite relies on are there.
func TestKernelFragments(t *testing.T) {
	for _, spec := range []KernelSpec{ArmVexpressKernel(), Arm64VexpressKernel()} {
		frag, err := specFragment(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		for i, line := range strings.Split(string(frag), "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if strings.HasPrefix(line, "# CONFIG_") {
				if !strings.HasSuffix(line, " is not set") {
					t.Errorf("%s line %d: %q: want \"# CONFIG_X is not set\"", spec.Name, i+1, line)
				}
				continue
			}
			if strings.HasPrefix(line, "#") {
				continue
			}
			n, v, ok := strings.Cut(line, "=")
			if !ok || !strings.HasPrefix(n, "CONFIG_") || strings.ContainsAny(n, " \t") || v == "" {
				t.Errorf("%s line %d: %q is not CONFIG_X=value", spec.Name, i+1, line)
			}
		}
		want, _ := parseKconfig(frag)
		for _, o := range []string{"CONFIG_DMABUF_HEAPS_SYSTEM", "CONFIG_DMABUF_HEAPS_CMA", "CONFIG_DMA_CMA", "CONFIG_UDMABUF",
			"CONFIG_DRM_PL111", "CONFIG_DRM_FBDEV_EMULATION", "CONFIG_DEBUG_FS", "CONFIG_UNIX", "CONFIG_DEVTMPFS_MOUNT",
			"CONFIG_INPUT_EVDEV"} {
			if want[o] != "y" {
				t.Errorf("%s: fragment does not ask for %s=y", spec.Name, o)
			}
		}
		// armhf keeps a VT; arm64 has none (the splash reads evdev
		// from the PL050 KMI keyboard there).
		vt := map[string]string{"armhf-vexpress": "y", "arm64-vexpress": "n"}[spec.Name]
		if want["CONFIG_VT"] != vt {
			t.Errorf("%s: fragment sets CONFIG_VT=%q, want %q", spec.Name, want["CONFIG_VT"], vt)
		}
		if vt == "n" {
			for _, o := range []string{"CONFIG_SERIO_AMBAKMI", "CONFIG_KEYBOARD_ATKBD"} {
				if want[o] != "y" {
					t.Errorf("%s: fragment does not ask for %s=y", spec.Name, o)
				}
			}
		}
		if want["CONFIG_MODULES"] != "n" {
			t.Errorf("%s: fragment does not turn modules off", spec.Name)
		}
	}
}

func TestKernelKey(t *testing.T) {
	spec := ArmVexpressKernel()
	frag := []byte("CONFIG_DRM=y\n")
	const cc = "arm-linux-gnueabihf-gcc (Debian 12.2.0-14) 12.2.0"
	base := kernelKey(spec, frag, cc)
	if again := kernelKey(ArmVexpressKernel(), []byte("CONFIG_DRM=y\n"), cc); again != base {
		t.Fatalf("same inputs, different keys: %s %s", base, again)
	}
	if len(base) != 64 {
		t.Fatalf("key %q is not a hex SHA-256", base)
	}
	changed := map[string]string{
		"fragment byte": kernelKey(spec, []byte("CONFIG_DRM=m\n"), cc),
		"compiler":      kernelKey(spec, frag, cc+"+b1"),
	}
	s := ArmVexpressKernel()
	s.DTBs[0].Fixups = s.DTBs[0].Fixups[:1]
	changed["dtb fix-ups"] = kernelKey(s, frag, cc)
	s = ArmVexpressKernel()
	s.DTBs[0].Target = "arm/vexpress-v2p-ca15-tc1.dtb"
	changed["dtb source"] = kernelKey(s, frag, cc)
	s = ArmVexpressKernel()
	s.Image = "Image"
	changed["image"] = kernelKey(s, frag, cc)
	for what, k := range changed {
		if k == base {
			t.Errorf("changing the %s does not change the key", what)
		}
	}
	text := kernelKeyText(spec, frag, cc)
	for _, want := range []string{KernelSourceVersion, cc, "kbuild ", "port@1"} {
		if !strings.Contains(text, want) {
			t.Errorf("key text does not include %q:\n%s", want, text)
		}
	}
}

// TestBuildKernelCached checks that a kernel found in the cache under its
// key is returned without building, quickly, and that one under another key
// is not taken for it.
func TestBuildKernelCached(t *testing.T) {
	dir := t.TempDir()
	// The cross compiler is only asked for its version: a script stands in.
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	gcc := filepath.Join(bin, "test-linux-gcc")
	if err := os.WriteFile(gcc, []byte("#!/bin/sh\necho 'test-linux-gcc (Debian 12.2.0-14) 12.2.0'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := Arm64VexpressKernel()
	spec.CrossCompile = filepath.Join(bin, "test-linux-")
	frag, err := specFragment(spec)
	if err != nil {
		t.Fatal(err)
	}
	key := kernelKey(spec, frag, "test-linux-gcc (Debian 12.2.0-14) 12.2.0")
	out := filepath.Join(dir, "kbuild", spec.Name+"-"+key[:16])
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"Image": "image", "config": "CONFIG_DRM=y\n", "release": "6.12.107\n",
		DTBVexpressCA53VRAM: "vram", DTBVexpressCA53CMA: "cma", "inputs": "key " + key + "\n"}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(out, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	k, err := BuildKernel(ctx, dir, spec)
	if err != nil {
		t.Fatalf("cached kernel: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cached kernel took %v", d)
	}
	if k.Image != filepath.Join(out, "Image") || k.Release != "6.12.107" || k.DTBs[DTBVexpressCA53CMA] != filepath.Join(out, DTBVexpressCA53CMA) {
		t.Errorf("cached kernel: %+v", k)
	}
	if tr := k.Tree(); tr.Vmlinuz != k.Image || tr.HasModule("drm") || tr.Arch != ARM64 || tr.DTB != "" {
		t.Errorf("tree: %+v", tr)
	}
	if tr, err := k.TreeWithDTB(DTBVexpressCA53VRAM); err != nil || tr.DTB != filepath.Join(out, DTBVexpressCA53VRAM) {
		t.Errorf("tree with the VRAM device tree: %+v, %v", tr, err)
	}
	if _, err := k.TreeWithDTB(DTBVexpressA9); err == nil {
		t.Error("tree with another board's device tree: no error")
	}

	// Another key in the same place is not this kernel: BuildKernel goes
	// on to build, which here fails at once: the source package in the
	// cache is not a package.
	if err := os.WriteFile(filepath.Join(out, "inputs"), []byte("key 0000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "deb"), 0o755); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, "deb", KernelSourcePackage+"_"+KernelSourceVersion+"_all.deb")
	if err := os.WriteFile(deb, []byte("not a package"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := BuildKernel(ctx, dir, spec); err == nil || !strings.Contains(err.Error(), "dpkg-deb -x") {
		t.Fatalf("a cache entry with another key was taken: %v", err)
	}

	// A missing cross compiler is an error that names its package.
	spec.CrossCompile = "no-such-linux-gnu-"
	_, err = BuildKernel(ctx, dir, spec)
	if err == nil || !strings.Contains(err.Error(), "gcc-no-such-linux-gnu") {
		t.Fatalf("missing compiler: %v", err)
	}
}

// fdtNode is a node of a device tree built by the tests.
type fdtNode struct {
	name     string
	props    [][2]string
	children []fdtNode
}

// encodeFDT writes a version 17 flattened device tree.
func encodeFDT(root fdtNode) []byte {
	var st, strs bytes.Buffer
	nameOff := map[string]int{}
	u32 := func(v uint32) { binary.Write(&st, binary.BigEndian, v) }
	pad := func() {
		for st.Len()%4 != 0 {
			st.WriteByte(0)
		}
	}
	var node func(n fdtNode)
	node = func(n fdtNode) {
		u32(fdtBeginNode)
		st.WriteString(n.name)
		st.WriteByte(0)
		pad()
		for _, p := range n.props {
			off, ok := nameOff[p[0]]
			if !ok {
				off = strs.Len()
				nameOff[p[0]] = off
				strs.WriteString(p[0])
				strs.WriteByte(0)
			}
			u32(fdtProp)
			u32(uint32(len(p[1])))
			u32(uint32(off))
			st.WriteString(p[1])
			pad()
		}
		for _, c := range n.children {
			node(c)
		}
		u32(fdtEndNode)
	}
	node(root)
	u32(fdtEnd)
	const hdr = 40
	rsv := make([]byte, 16) // an empty memory reservation map
	offRsv := hdr
	offStruct := offRsv + len(rsv)
	offStrings := offStruct + st.Len()
	total := offStrings + strs.Len()
	var b bytes.Buffer
	for _, v := range []uint32{fdtMagic, uint32(total), uint32(offStruct), uint32(offStrings), uint32(offRsv), 17, 16, 0,
		uint32(strs.Len()), uint32(st.Len())} {
		binary.Write(&b, binary.BigEndian, v)
	}
	b.Write(rsv)
	b.Write(st.Bytes())
	b.Write(strs.Bytes())
	return b.Bytes()
}

func testTree() []byte {
	return encodeFDT(fdtNode{props: [][2]string{{"model", "V2P-CA9\x00"}}, children: []fdtNode{
		{name: "bus@40000000", children: []fdtNode{
			{name: "dvi-transmitter@39", props: [][2]string{{"compatible", "sil,sii9022\x00"}}, children: []fdtNode{
				{name: "ports", children: []fdtNode{
					{name: "port@0", props: [][2]string{{"reg", "\x00\x00\x00\x00"}}},
					{name: "port@1", props: [][2]string{{"reg", "\x00\x00\x00\x01"}}, children: []fdtNode{
						{name: "endpoint", props: [][2]string{{"remote-endpoint", "\x00\x00\x00\x05"}}}}},
				}}}},
			{name: "clcd@1f000", props: [][2]string{{"compatible", "arm,pl111\x00"}, {"memory-region", "\x00\x00\x00\x07"}, {"max-memory-bandwidth", "\x05\xa9\x95\xc0"}}},
		}},
	}})
}

func TestApplyDTBFixups(t *testing.T) {
	dtb := testTree()
	const port1 = "/bus@40000000/dvi-transmitter@39/ports/port@1"
	const clcd = "/bus@40000000/clcd@1f000"
	for _, c := range []struct{ path, prop string }{{port1, ""}, {port1 + "/endpoint", "remote-endpoint"}, {clcd, "memory-region"}, {"/", "model"}} {
		if ok, err := DTBHas(dtb, c.path, c.prop); err != nil || !ok {
			t.Fatalf("test tree lacks %s %s: %v", c.path, c.prop, err)
		}
	}
	out, err := ApplyDTBFixups(dtb, []DTBFixup{{Path: port1}, {Path: clcd, Property: "memory-region"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) >= len(dtb) {
		t.Errorf("size did not shrink: %d -> %d", len(dtb), len(out))
	}
	if !bytes.Equal(testTree(), dtb) {
		t.Error("the input was modified")
	}
	for _, c := range []struct {
		path, prop string
		want       bool
	}{
		{port1, "", false}, {port1 + "/endpoint", "", false}, {port1, "reg", false},
		{clcd, "memory-region", false},
		{"/bus@40000000/dvi-transmitter@39/ports/port@0", "reg", true},
		{clcd, "compatible", true}, {clcd, "max-memory-bandwidth", true}, {clcd, "", true},
	} {
		ok, err := DTBHas(out, c.path, c.prop)
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.want {
			t.Errorf("after fix-ups, %s %q present = %v, want %v", c.path, c.prop, ok, c.want)
		}
	}
	// A fix-up for something that is not there is an error naming it.
	_, err = ApplyDTBFixups(out, []DTBFixup{{Path: port1}})
	if err == nil || !strings.Contains(err.Error(), port1) {
		t.Errorf("fix-up of a deleted node: %v", err)
	}
	_, err = ApplyDTBFixups(dtb, []DTBFixup{{Path: clcd, Property: "memory-regions"}})
	if err == nil || !strings.Contains(err.Error(), "property") {
		t.Errorf("fix-up of a missing property: %v", err)
	}
	// Broken blobs are errors, not panics.
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte{0, 0, 0, 0}, dtb[4:]...),
		"truncated": dtb[:60],
		"cut":       dtb[:len(dtb)-8],
	} {
		if _, err := ApplyDTBFixups(b, []DTBFixup{{Path: port1}}); err == nil {
			t.Errorf("%s blob: no error", name)
		}
	}
}
