package vmtest

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cavaliergopher/cpio"
)

func ppmBytes(header string, pix []byte) []byte {
	return append([]byte(header), pix...)
}

func TestDecodePPM(t *testing.T) {
	// 2x2: red, green / blue, white, with a comment in the header.
	pix := []byte{255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255}
	img, err := DecodePPM(bytes.NewReader(ppmBytes("P6\n# qemu\n2 2\n255\n", pix)))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 2, 2) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	want := map[image.Point][4]uint8{
		{0, 0}: {255, 0, 0, 255}, {1, 0}: {0, 255, 0, 255},
		{0, 1}: {0, 0, 255, 255}, {1, 1}: {255, 255, 255, 255},
	}
	for p, w := range want {
		c := img.RGBAAt(p.X, p.Y)
		if got := [4]uint8{c.R, c.G, c.B, c.A}; got != w {
			t.Errorf("pixel %v = %v, want %v", p, got, w)
		}
	}
}

func TestDecodePPMScalesWideSamples(t *testing.T) {
	// maxval 1023, two bytes per sample: 1023 → 255, 512 → 128, 0 → 0.
	pix := []byte{0x03, 0xff, 0x02, 0x00, 0x00, 0x00}
	img, err := DecodePPM(bytes.NewReader(ppmBytes("P6 1 1 1023\n", pix)))
	if err != nil {
		t.Fatal(err)
	}
	if c := img.RGBAAt(0, 0); c.R != 255 || c.G != 128 || c.B != 0 {
		t.Errorf("pixel = %v, want {255 128 0}", c)
	}
}

func TestDecodePPMRejectsMalformed(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":          nil,
		"ascii P3":       []byte("P3\n1 1\n255\n0 0 0\n"),
		"no size":        []byte("P6\n"),
		"negative width": []byte("P6\n-1 1\n255\n"),
		"zero height":    []byte("P6\n1 0\n255\n"),
		"bad maxval":     []byte("P6\n1 1\n70000\n"),
		"text maxval":    []byte("P6\n1 1\nabc\n"),
		"short pixels":   ppmBytes("P6\n2 2\n255\n", make([]byte, 11)),
		"huge":           []byte("P6\n100000 100000\n255\n"),
		"long token":     []byte("P6\n1111111111111111111111111 1\n255\n"),
		"sample > max":   ppmBytes("P6\n1 1\n15\n", []byte{16, 0, 0}),
		"open comment":   []byte("P6\n# never ends"),
	} {
		t.Run(name, func(t *testing.T) {
			img, err := DecodePPM(bytes.NewReader(in))
			if err == nil {
				t.Fatalf("decoded %v, want an error", img.Bounds())
			}
			if !errors.Is(err, ErrBadPPM) {
				t.Errorf("error %v does not wrap ErrBadPPM", err)
			}
		})
	}
}

func TestParseModinfo(t *testing.T) {
	sec := []byte("license=GPL\x00depends=drm_kms_helper,drm,drm_shmem_helper\x00name=cirrus\x00\x00alias=pci:v00001013d000000B8sv*\x00alias=other\x00")
	info := ParseModinfo(sec)
	if got, want := info["depends"], []string{"drm_kms_helper", "drm", "drm_shmem_helper"}; !reflect.DeepEqual(got, want) {
		t.Errorf("depends = %q, want %q", got, want)
	}
	if got := info["alias"]; len(got) != 2 {
		t.Errorf("alias = %q, want two entries", got)
	}
	if got := info["name"]; !reflect.DeepEqual(got, []string{"cirrus"}) {
		t.Errorf("name = %q", got)
	}
	empty := ParseModinfo([]byte("depends=\x00name=drm\x00"))
	if d, ok := empty["depends"]; !ok || len(d) != 0 {
		t.Errorf("empty depends = %q, %v; want present and empty", d, ok)
	}
}

func depsFrom(graph map[string][]string) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		d, ok := graph[name]
		if !ok {
			return nil, fmt.Errorf("module %s not found", name)
		}
		return d, nil
	}
}

func TestOrderModules(t *testing.T) {
	// The dependencies of the 6.12 DRM drivers, as their modinfo says.
	graph := map[string][]string{
		"drm":              nil,
		"drm_kms_helper":   {"drm"},
		"drm_shmem_helper": {"drm"},
		"cirrus":           {"drm_kms_helper", "drm", "drm_shmem_helper"},
		"ttm":              {"drm"},
		"drm_ttm_helper":   {"ttm", "drm_kms_helper", "drm"},
		"drm_vram_helper":  {"drm_kms_helper", "drm_ttm_helper", "drm", "ttm"},
		"bochs":            {"drm_vram_helper", "drm_kms_helper", "drm", "drm_ttm_helper"},
		"virtio_dma_buf":   nil,
		"virtio_gpu":       {"drm_shmem_helper", "drm", "drm_kms_helper", "virtio_dma_buf"},
		"vgem":             {"drm"},
	}
	got, err := OrderModules([]ModuleSpec{{Name: "drm_kms_helper", Params: "fbdev_emulation=0"}, {Name: "bochs"}, {Name: "virtio-gpu"}, {Name: "vgem"}}, depsFrom(graph))
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, m := range got {
		if _, dup := pos[m.Name]; dup {
			t.Errorf("%s loaded twice", m.Name)
		}
		pos[m.Name] = i
	}
	for m, deps := range graph {
		if m == "cirrus" {
			if _, ok := pos[m]; ok {
				t.Errorf("cirrus was not asked for but is loaded")
			}
			continue
		}
		for _, d := range deps {
			if pos[d] >= pos[m] {
				t.Errorf("%s (at %d) loads before its dependency %s (at %d)", m, pos[m], d, pos[d])
			}
		}
	}
	if got[0].Name != "drm" || got[1].Name != "drm_kms_helper" || got[1].Params != "fbdev_emulation=0" {
		t.Errorf("order starts %v, want drm then drm_kms_helper with its parameters", got[:2])
	}
	if got[len(got)-1].Name != "vgem" {
		t.Errorf("vgem, asked for last, loads at %d of %d", pos["vgem"], len(got))
	}
}

func TestOrderModulesErrors(t *testing.T) {
	_, err := OrderModules([]ModuleSpec{{Name: "a"}}, depsFrom(map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}}))
	if !errors.Is(err, ErrModuleCycle) || !strings.Contains(err.Error(), "a -> b -> c -> a") {
		t.Errorf("cycle: err = %v", err)
	}
	_, err = OrderModules([]ModuleSpec{{Name: "a"}}, depsFrom(map[string][]string{"a": {"missing"}}))
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing dependency: err = %v", err)
	}
}

func TestInitramfsRoundTrip(t *testing.T) {
	host := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(host, []byte("#!binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	ar := NewInitramfs()
	if err := ar.AddHostFile("/init", host); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"/lib/modules/drm.ko": "\x7fELF module",
		"/plan.json":          `{"steps":[]}`,
		"/bin/a/b/c.test":     strings.Repeat("x", 4097),
		"/empty":              "",
	}
	for p, d := range files {
		if err := ar.Add(p, []byte(d), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := ar.Add("relative", nil, 0o644); err == nil {
		t.Error("a relative path was accepted")
	}
	var buf bytes.Buffer
	if _, err := ar.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	r := cpio.NewReader(zr)
	got := map[string]string{}
	modes := map[string]cpio.FileMode{}
	seenDir := map[string]bool{}
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Mode.IsDir() {
			seenDir[h.Name] = true
			continue
		}
		if strings.HasPrefix(h.Name, "/") {
			t.Errorf("entry %q is absolute; the kernel wants names relative to the root", h.Name)
		}
		if dir := filepath.Dir(h.Name); dir != "." && !seenDir[dir] {
			t.Errorf("%s comes before its directory %s", h.Name, dir)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		got["/"+h.Name] = string(b)
		modes["/"+h.Name] = h.Mode
	}
	files["/init"] = "#!binary"
	if !reflect.DeepEqual(got, files) {
		t.Errorf("archive holds %d files, want %d:\n got %q\nwant %q", len(got), len(files), got, files)
	}
	if m := modes["/init"]; m.Perm() != 0o755 || !m.IsRegular() {
		t.Errorf("/init mode %v, want a regular file 0755", m)
	}
	if m := modes["/plan.json"]; m.Perm() != 0o600 {
		t.Errorf("/plan.json mode %v, want 0600", m)
	}
	for _, d := range []string{"bin", "bin/a", "bin/a/b", "lib", "lib/modules"} {
		if !seenDir[d] {
			t.Errorf("directory %s missing", d)
		}
	}
}

func TestInitramfsFileDirectoryClash(t *testing.T) {
	ar := NewInitramfs()
	ar.Add("/bin", []byte("x"), 0o644)
	ar.Add("/bin/x", []byte("y"), 0o644)
	if _, err := ar.WriteTo(io.Discard); err == nil {
		t.Error("a path that is both file and directory was written")
	}
}

func TestComparePixels(t *testing.T) {
	a := image.NewRGBA(image.Rect(0, 0, 3, 2))
	b := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range a.Pix {
		a.Pix[i], b.Pix[i] = 0xff, 0xff
	}
	if n, _ := comparePixels(a, b); n != 0 {
		t.Fatalf("equal images differ in %d pixels", n)
	}
	b.Pix[4*4+1] = 0 // (1,1) green
	b.Pix[3] = 0     // alpha is ignored
	n, first := comparePixels(a, b)
	if n != 1 || len(first) != 1 || !strings.HasPrefix(first[0], "(1,1)") {
		t.Errorf("got %d differences %q, want one at (1,1)", n, first)
	}
	if n, _ := comparePixels(a, image.NewRGBA(image.Rect(0, 0, 2, 2))); n != 6 {
		t.Errorf("size mismatch counts %d, want all 6", n)
	}
}

func TestGroupGuestTests(t *testing.T) {
	ev := func(action, test, out string) testEvent { return testEvent{Action: action, Test: test, Output: out} }
	events := []testEvent{
		ev("start", "", ""),
		ev("run", "TestOK", ""), ev("output", "TestOK", "=== RUN   TestOK\n"), ev("pass", "TestOK", ""),
		ev("run", "TestSub", ""), ev("run", "TestSub/a", ""), ev("output", "TestSub/a", "no device\n"),
		ev("skip", "TestSub/a", ""), ev("pass", "TestSub", ""),
		ev("run", "TestSkip", ""), ev("skip", "TestSkip", ""),
		ev("run", "TestBoom", ""), ev("output", "TestBoom", "panic: boom\n"),
		ev("output", "", "FAIL\n"), ev("fail", "", ""),
	}
	tests, pkgOut := groupGuestTests(events)
	var got []string
	for _, gt := range tests {
		got = append(got, fmt.Sprintf("%s=%s%v", gt.name, gt.result, gt.problems))
	}
	want := []string{"TestOK=pass[]", "TestSub=pass[subtest a: skip]", "TestSkip=skip[]", "TestBoom=[]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("grouped %q, want %q", got, want)
	}
	if !strings.Contains(tests[3].output.String(), "panic: boom") || !strings.Contains(tests[1].output.String(), "no device") {
		t.Errorf("output not attributed to its test")
	}
	if pkgOut != "FAIL\n" {
		t.Errorf("package output %q", pkgOut)
	}
}

// ProgramFiles finds a dynamic host program's interpreter and libraries
// where the loader will look for them, and refuses what is not ELF.
func TestProgramFiles(t *testing.T) {
	prog := "/bin/ls"
	if _, err := os.Stat(prog); err != nil {
		t.Skipf("no %s on this host: %v", prog, err)
	}
	files, err := ProgramFiles(prog, "/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	interp, err := elfInterpreter(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if interp == "" {
		t.Skipf("%s is static here", prog)
	}
	paths := map[string]bool{}
	for _, f := range files {
		paths[f.Path] = true
		if f.HostPath == "" {
			t.Errorf("%s has no host file", f.Path)
		}
	}
	if files[0].Path != "/bin/ls" || files[0].HostPath != prog {
		t.Errorf("first file %+v, want the program", files[0])
	}
	if !paths[interp] {
		t.Errorf("interpreter %s missing from %v", interp, paths)
	}
	libc := false
	for p := range paths {
		if filepath.Base(p) == "libc.so.6" {
			libc = true
		}
	}
	if !libc {
		t.Errorf("libc.so.6 missing from %v", paths)
	}
	if len(paths) != len(files) {
		t.Errorf("a path is listed twice: %v", files)
	}

	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := ProgramFiles(notELF, "/bin/script"); err == nil {
		t.Error("a shell script was taken for an ELF program")
	}
	if f, ok := findLibrary("libdoesnotexist.so.9", LibraryDirs, hostFile, elf.EM_X86_64, elf.ELFCLASS64); ok {
		t.Errorf("a missing library was found: %+v", f)
	}
}

// PackageFiles gives a guest test binary what `go test` lets it read in
// its package directory: the package's own files and non-package
// subdirectories, all of testdata, but not the packages below it.
func TestPackageFiles(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{
		"pkg/a.go", "pkg/a_test.go", "pkg/data.txt", "pkg/assets/default.toml", "pkg/assets/img/logo.png",
		"pkg/sub/b.go", "pkg/sub/b.txt", "pkg/testdata/t.txt", "pkg/testdata/gen/main.go",
		"pkg/.hidden/h", "pkg/_skip/s", "other/c.txt",
	} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("data.txt", filepath.Join(root, "pkg", "link.txt")); err != nil {
		t.Fatal(err)
	}
	files, err := PackageFiles(root, "pkg", "/src/pkg")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = f.HostPath
	}
	want := map[string]string{}
	for _, f := range []string{"a.go", "a_test.go", "data.txt", "assets/default.toml", "assets/img/logo.png", "testdata/t.txt", "testdata/gen/main.go"} {
		want["/src/pkg/"+f] = filepath.Join(root, "pkg", filepath.FromSlash(f))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PackageFiles:\n got %v\nwant %v", got, want)
	}
	if files, err := PackageFiles(root, "missing", "/src/missing"); err == nil {
		t.Errorf("a missing package gave %v and no error", files)
	}
}

// TestHostOnlyNamesThemeReaders: a guest package's test that reads the
// repository's example themes (a "themes" path element, itself or through
// the helpers it calls) fails in the guest, which is given only the
// package's own files; it must be named in the package's hostOnly pattern.
func TestHostOnlyNamesThemeReaders(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, gp := range guestPackages() {
		dir := filepath.Join(root, gp.path)
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool { return strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			t.Fatal(err)
		}
		bodies := map[string]*ast.BlockStmt{}
		for _, p := range pkgs {
			for _, f := range p.Files {
				for _, d := range f.Decls {
					if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Body != nil {
						bodies[fd.Name.Name] = fd.Body
					}
				}
			}
		}
		reads := map[string]bool{}
		for changed := true; changed; {
			changed = false
			for name, body := range bodies {
				if reads[name] {
					continue
				}
				ast.Inspect(body, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.BasicLit:
						if n.Kind == token.STRING && (n.Value == `"themes"` || strings.Contains(n.Value, "../themes")) {
							reads[name] = true
						}
					case *ast.CallExpr:
						if id, ok := n.Fun.(*ast.Ident); ok && reads[id.Name] {
							reads[name] = true
						}
					}
					return !reads[name]
				})
				changed = changed || reads[name]
			}
		}
		var skip *regexp.Regexp
		if gp.hostOnly != "" {
			skip = regexp.MustCompile(gp.hostOnly)
		}
		for name := range reads {
			if !strings.HasPrefix(name, "Test") {
				continue
			}
			if skip == nil || !skip.MatchString(name) {
				t.Errorf("%s: %s reads ../themes, which the guest does not have: name it in hostOnly (internal/vmtest/vm_test.go)", gp.path, name)
			}
		}
	}
}
