//go:build linux

package uapi

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// layoutTargets are the architectures the package is generated for, each
// with the C compiler whose headers and layout rules are that
// architecture's (Debian's cross compilers; see mkuapi.sh).
var layoutTargets = []struct{ goarch, cc string }{
	{"amd64", "x86_64-linux-gnu-gcc"},
	{"386", "i686-linux-gnu-gcc"},
	{"arm", "arm-linux-gnueabihf-gcc"},
	{"arm64", "aarch64-linux-gnu-gcc"},
	{"riscv64", "riscv64-linux-gnu-gcc"},
}

// goField and goStruct are a struct's layout as the Go compiler lays it out
// for one GOARCH.
type goField struct {
	name         string
	offset, size int64
}

type goStruct struct {
	size   int64
	fields []goField
}

// goABI is the package's structs and constants as Go sees them for one
// GOARCH.
type goABI struct {
	structs map[string]goStruct
	consts  map[string]constant.Value
}

// goLayout type-checks the files that define the kernel ABI for goarch
// (the generated ztypes and Pointer, chosen by their build constraints) and
// lays their structs out with the gc compiler's sizes for goarch.
func goLayout(goarch string) (goABI, error) {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = "linux", goarch, false
	bp, err := ctx.ImportDir(".", 0)
	if err != nil {
		return goABI{}, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range bp.GoFiles {
		if !strings.HasPrefix(name, "ztypes_") && !strings.HasPrefix(name, "pointer") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return goABI{}, err
		}
		files = append(files, f)
	}
	sizes := types.SizesFor("gc", goarch)
	if sizes == nil {
		return goABI{}, fmt.Errorf("go/types knows no sizes for GOARCH=%s", goarch)
	}
	conf := types.Config{Sizes: sizes, Importer: unsafeOnly{}}
	pkg, err := conf.Check("uapi", fset, files, nil)
	if err != nil {
		return goABI{}, fmt.Errorf("GOARCH=%s: %v", goarch, err)
	}
	abi := goABI{structs: map[string]goStruct{}, consts: map[string]constant.Value{}}
	for _, name := range pkg.Scope().Names() {
		switch o := pkg.Scope().Lookup(name).(type) {
		case *types.TypeName:
			st, ok := o.Type().Underlying().(*types.Struct)
			if !ok {
				continue
			}
			vars := make([]*types.Var, st.NumFields())
			for i := range vars {
				vars[i] = st.Field(i)
			}
			offs := sizes.Offsetsof(vars)
			s := goStruct{size: sizes.Sizeof(st)}
			for i, v := range vars {
				s.fields = append(s.fields, goField{v.Name(), offs[i], sizes.Sizeof(v.Type())})
			}
			abi.structs[name] = s
		case *types.Const:
			abi.consts[name] = o.Val()
		}
	}
	return abi, nil
}

type unsafeOnly struct{}

func (unsafeOnly) Import(path string) (*types.Package, error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	return nil, fmt.Errorf("the kernel ABI files import only unsafe, not %q", path)
}

// cABI is what types_linux.go asks cgo -godefs for: the Go name of each
// struct and the C type it comes from, the constants and the C macros they
// come from, and the C preamble (the headers) they are taken from.
type cABI struct {
	preamble string
	structs  [][2]string // Go name, C type
	consts   [][2]string // Go name, C macro
}

func readTypesLinux() (cABI, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "types_linux.go", nil, parser.ParseComments)
	if err != nil {
		return cABI{}, err
	}
	var abi cABI
	cname := func(e ast.Expr) (string, bool) {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return "", false
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "C" {
			return "", false
		}
		return sel.Sel.Name, true
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			switch s := spec.(type) {
			case *ast.ImportSpec:
				if s.Path.Value == `"C"` {
					abi.preamble = gd.Doc.Text()
				}
			case *ast.TypeSpec:
				if c, ok := cname(s.Type); ok && strings.HasPrefix(c, "struct_") {
					abi.structs = append(abi.structs, [2]string{s.Name.Name, "struct " + strings.TrimPrefix(c, "struct_")})
				}
			case *ast.ValueSpec:
				for i, n := range s.Names {
					if i < len(s.Values) {
						if c, ok := cname(s.Values[i]); ok {
							abi.consts = append(abi.consts, [2]string{n.Name, c})
						}
					}
				}
			}
		}
	}
	if abi.preamble == "" || len(abi.structs) == 0 || len(abi.consts) == 0 {
		return cABI{}, fmt.Errorf("types_linux.go: found %d structs, %d constants and a %d-byte preamble", len(abi.structs), len(abi.consts), len(abi.preamble))
	}
	return abi, nil
}

// cLayout is the C side for one architecture: each struct as the C
// compiler laid it out (read from the DWARF it wrote), by Go name, and each
// constant's value, in the order of cABI.consts.
type cLayout struct {
	structs map[string]*dwarf.StructType
	consts  []uint64
}

// compileC compiles (never runs) a C file that holds every constant in an
// array and one variable of every struct, with cc and the headers in inc,
// and reads both back from the object file.
func compileC(cc, inc, dir string, c cABI) (cLayout, error) {
	var src bytes.Buffer
	src.WriteString(c.preamble)
	src.WriteString("\nconst unsigned long long bootsplash_consts[] = {\n")
	for _, k := range c.consts {
		fmt.Fprintf(&src, "\t(unsigned long long)(%s), /* %s */\n", k[1], k[0])
	}
	src.WriteString("};\n")
	for _, st := range c.structs {
		fmt.Fprintf(&src, "%s bootsplash_struct_%s;\n", st[1], st[0])
	}
	cfile, obj := filepath.Join(dir, "layout.c"), filepath.Join(dir, "layout.o")
	if err := os.WriteFile(cfile, src.Bytes(), 0o644); err != nil {
		return cLayout{}, err
	}
	out, err := exec.Command(cc, "-std=gnu11", "-g", "-gdwarf-4", "-c", "-I", inc, "-o", obj, cfile).CombinedOutput()
	if err != nil {
		return cLayout{}, fmt.Errorf("%s -c %s: %v\n%s", cc, cfile, err, out)
	}
	f, err := elf.Open(obj)
	if err != nil {
		return cLayout{}, err
	}
	defer f.Close()
	l := cLayout{structs: map[string]*dwarf.StructType{}}

	syms, err := f.Symbols()
	if err != nil {
		return cLayout{}, fmt.Errorf("%s: %v", obj, err)
	}
	for _, s := range syms {
		if s.Name != "bootsplash_consts" {
			continue
		}
		if int(s.Section) >= len(f.Sections) || s.Size != uint64(8*len(c.consts)) {
			return cLayout{}, fmt.Errorf("%s: bootsplash_consts is %d bytes in section %d, want %d", obj, s.Size, s.Section, 8*len(c.consts))
		}
		data, err := f.Sections[s.Section].Data()
		if err != nil {
			return cLayout{}, err
		}
		l.consts = make([]uint64, len(c.consts))
		if err := binary.Read(bytes.NewReader(data[s.Value:s.Value+s.Size]), f.ByteOrder, l.consts); err != nil {
			return cLayout{}, err
		}
	}
	if l.consts == nil {
		return cLayout{}, fmt.Errorf("%s: no bootsplash_consts symbol", obj)
	}

	d, err := f.DWARF()
	if err != nil {
		return cLayout{}, fmt.Errorf("%s: %v", obj, err)
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return cLayout{}, fmt.Errorf("%s: %v", obj, err)
		}
		if e == nil {
			break
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if e.Tag != dwarf.TagVariable || !strings.HasPrefix(name, "bootsplash_struct_") {
			continue
		}
		off, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
		if !ok {
			return cLayout{}, fmt.Errorf("%s: %s has no type", obj, name)
		}
		typ, err := d.Type(off)
		if err != nil {
			return cLayout{}, fmt.Errorf("%s: type of %s: %v", obj, name, err)
		}
		st, ok := typ.(*dwarf.StructType)
		if !ok {
			return cLayout{}, fmt.Errorf("%s: %s is a %T, not a struct", obj, name, typ)
		}
		l.structs[strings.TrimPrefix(name, "bootsplash_struct_")] = st
	}
	return l, nil
}

// mismatch is one number on which Go and C disagree.
type mismatch struct {
	what     string // "ModeFbCmd2 (struct drm_mode_fb_cmd2).Modifier offset"
	goV, cV  uint64
	goarch   string
	describe string // set instead of the numbers when they do not apply
}

func (m mismatch) String() string {
	if m.describe != "" {
		return fmt.Sprintf("GOARCH=%s: %s: %s", m.goarch, m.what, m.describe)
	}
	return fmt.Sprintf("GOARCH=%s: %s: Go %d (%#x), C %d (%#x)", m.goarch, m.what, m.goV, m.goV, m.cV, m.cV)
}

// sameField reports whether the C member c is the one cgo -godefs wrote as
// the Go field g: the same name with its first letter raised, after a
// prefix common to the struct's members (vt_stat's v_active is Active), or
// with an X before a leading underscore (__pad is X__pad).
func sameField(g, c string) bool {
	if strings.HasPrefix(g, "X_") {
		return c == g[1:]
	}
	g = strings.ToLower(g[:1]) + g[1:]
	return c == g || strings.HasSuffix(c, "_"+g)
}

// compareLayout lists every struct size, field (name, offset, size) and
// constant on which the Go layout g and the C layout cl of goarch disagree.
func compareLayout(goarch string, c cABI, g goABI, cl cLayout) []mismatch {
	var bad []mismatch
	add := func(what string, goV, cV uint64) {
		if goV != cV {
			bad = append(bad, mismatch{what: what, goV: goV, cV: cV, goarch: goarch})
		}
	}
	for _, st := range c.structs {
		who := fmt.Sprintf("%s (%s)", st[0], st[1])
		gs, ok := g.structs[st[0]]
		if !ok {
			bad = append(bad, mismatch{what: who, goarch: goarch, describe: "no such Go struct"})
			continue
		}
		cs, ok := cl.structs[st[0]]
		if !ok {
			bad = append(bad, mismatch{what: who, goarch: goarch, describe: "not in the C compiler's DWARF"})
			continue
		}
		add(who+" size", uint64(gs.size), uint64(cs.ByteSize))
		var gf []goField
		for _, f := range gs.fields {
			if f.name != "_" && !strings.HasPrefix(f.name, "Pad_cgo_") {
				gf = append(gf, f)
			}
		}
		if len(gf) != len(cs.Field) {
			var gn, cn []string
			for _, f := range gf {
				gn = append(gn, f.name)
			}
			for _, f := range cs.Field {
				cn = append(cn, f.Name)
			}
			bad = append(bad, mismatch{what: who + " fields", goarch: goarch,
				describe: fmt.Sprintf("Go has %v, C has %v", gn, cn)})
			continue
		}
		for i, f := range gf {
			cf := cs.Field[i]
			fwho := fmt.Sprintf("%s.%s", who, f.name)
			if !sameField(f.name, cf.Name) || cf.BitSize != 0 {
				bad = append(bad, mismatch{what: fwho, goarch: goarch,
					describe: fmt.Sprintf("C has %s (bit size %d) in its place", cf.Name, cf.BitSize)})
				continue
			}
			add(fwho+" offset", uint64(f.offset), uint64(cf.ByteOffset))
			add(fwho+" size", uint64(f.size), uint64(cf.Type.Size()))
		}
	}
	for i, k := range c.consts {
		v, ok := g.consts[k[0]]
		if !ok {
			bad = append(bad, mismatch{what: "constant " + k[0], goarch: goarch, describe: "not generated"})
			continue
		}
		var u uint64
		if n, exact := constant.Int64Val(v); exact {
			u = uint64(n)
		} else if u, exact = constant.Uint64Val(v); !exact {
			bad = append(bad, mismatch{what: "constant " + k[0], goarch: goarch, describe: "does not fit 64 bits"})
			continue
		}
		add("constant "+k[0], u, cl.consts[i])
	}
	return bad
}

// uapiHeaders returns the directory of the kernel headers the package is
// generated from (internal/uapi/uapiheaders.sh writes it; scripts/test sets
// BOOTSPLASH_UAPI_HEADERS).
func uapiHeaders(t *testing.T) string {
	dir := os.Getenv("BOOTSPLASH_UAPI_HEADERS")
	if dir == "" {
		if testutil.RequireTools() {
			t.Fatal("required under CI: BOOTSPLASH_UAPI_HEADERS, the headers internal/uapi/uapiheaders.sh installs")
		}
		t.Skip("BOOTSPLASH_UAPI_HEADERS is not set: run internal/uapi/uapiheaders.sh DIR and set it to DIR")
	}
	if _, err := os.Stat(filepath.Join(dir, "drm", "drm_mode.h")); err != nil {
		t.Fatalf("BOOTSPLASH_UAPI_HEADERS=%s: %v", dir, err)
	}
	return dir
}

// layoutOf returns the Go and C layouts of goarch.
func layoutOf(t *testing.T, c cABI, inc, goarch, cc string) (goABI, cLayout) {
	t.Helper()
	g, err := goLayout(goarch)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := compileC(testutil.NeedCommand(t, cc), inc, t.TempDir(), c)
	if err != nil {
		t.Fatal(err)
	}
	return g, cl
}

// TestLayoutMatchesC checks, for every GOARCH the package is generated for,
// each struct's size, each field's name, offset and size, and each constant
// (ioctl numbers among them) against that architecture's C compiler and
// headers: the Go side as the gc compiler lays it out for that GOARCH, the
// C side compiled into an object file and read back from it.
func TestLayoutMatchesC(t *testing.T) {
	inc := uapiHeaders(t)
	c, err := readTypesLinux()
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range layoutTargets {
		t.Run(tg.goarch, func(t *testing.T) {
			g, cl := layoutOf(t, c, inc, tg.goarch, tg.cc)
			for _, m := range compareLayout(tg.goarch, c, g, cl) {
				t.Error(m)
			}
			nf := 0
			for _, st := range cl.structs {
				nf += len(st.Field)
			}
			t.Logf("GOARCH=%s: %d structs (%d fields) and %d constants agree with %s",
				tg.goarch, len(cl.structs), nf, len(cl.consts), tg.cc)
		})
	}
}

// TestLayoutMismatchIsNamed makes sure the comparison can fail, and names
// what differs: amd64's drm_mode_fb_cmd2 and ADDFB2 used on 386, where
// __u64 is 4-aligned and the struct 4 bytes shorter.
func TestLayoutMismatchIsNamed(t *testing.T) {
	inc := uapiHeaders(t)
	c, err := readTypesLinux()
	if err != nil {
		t.Fatal(err)
	}
	amd64, err := goLayout("amd64")
	if err != nil {
		t.Fatal(err)
	}
	g, cl := layoutOf(t, c, inc, "386", "i686-linux-gnu-gcc")
	g.structs["ModeFbCmd2"] = amd64.structs["ModeFbCmd2"]
	g.consts["DRM_IOCTL_MODE_ADDFB2"] = amd64.consts["DRM_IOCTL_MODE_ADDFB2"]
	var got []string
	for _, m := range compareLayout("386", c, g, cl) {
		got = append(got, m.String())
	}
	want := []string{
		"GOARCH=386: ModeFbCmd2 (struct drm_mode_fb_cmd2) size: Go 104 (0x68), C 100 (0x64)",
		"GOARCH=386: ModeFbCmd2 (struct drm_mode_fb_cmd2).Modifier offset: Go 72 (0x48), C 68 (0x44)",
		"GOARCH=386: constant DRM_IOCTL_MODE_ADDFB2: Go 3228067000 (0xc06864b8), C 3227804856 (0xc06464b8)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mismatches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// abiTypes returns the generated structs by name, for checking go/types'
// layout of them against the compiler's on the machine the test runs on.
func abiTypes() map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for _, v := range []any{
		DmaBufSync{}, DmaBufExportSyncFile{}, DmaBufImportSyncFile{}, DmaHeapAllocationData{},
		UdmabufCreate{}, UdmabufCreateItem{},
		DrmVersion{}, DrmGetCap{}, DrmSetClientCap{}, DrmGemClose{}, DrmPrimeHandle{}, DrmEvent{},
		DrmEventVblank{}, DrmEventCrtcSequence{}, DrmClipRect{},
		ModeModeinfo{}, ModeCardRes{}, ModeCrtc{}, ModeSetPlane{}, ModeGetPlane{}, ModeGetPlaneRes{},
		ModeGetEncoder{}, ModeGetConnector{}, ModePropertyEnum{}, ModeGetProperty{},
		ModeObjGetProperties{}, ModeObjSetProperty{}, ModeGetBlob{}, ModeCreateBlob{},
		ModeDestroyBlob{}, ModeFbCmd{}, ModeFbCmd2{}, ModeFbDirtyCmd{}, ModeCloseFb{},
		ModeCrtcPageFlip{}, ModeCreateDumb{}, ModeMapDumb{}, ModeDestroyDumb{}, ModeAtomic{},
		ModeRect{}, FormatModifierBlob{}, FormatModifier{}, VtStat{}, VtMode{}, Pointer{},
		FbBitfield{}, FbVarScreeninfo{}, FbFixScreeninfo{}, Timeval{}, InputEvent{},
	} {
		t := reflect.TypeOf(v)
		m[t.Name()] = t
	}
	return m
}

// TestGoLayoutIsTheCompilers checks that the layout TestLayoutMatchesC
// computes with go/types for a GOARCH is the one the compiler produced, on
// the architecture the test runs on (natively, or under qemu-user: see
// scripts/test).
func TestGoLayoutIsTheCompilers(t *testing.T) {
	g, err := goLayout(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	types := abiTypes()
	var names []string
	for name := range g.structs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := g.structs[name]
		rt, ok := types[name]
		if !ok {
			t.Errorf("struct %s is generated but not in abiTypes", name)
			continue
		}
		if int64(rt.Size()) != s.size {
			t.Errorf("GOARCH=%s: %s: go/types says %d bytes, the compiler %d", runtime.GOARCH, name, s.size, rt.Size())
		}
		if rt.NumField() != len(s.fields) {
			t.Errorf("GOARCH=%s: %s: go/types has %d fields, the compiler %d", runtime.GOARCH, name, len(s.fields), rt.NumField())
			continue
		}
		for i, f := range s.fields {
			rf := rt.Field(i)
			if int64(rf.Offset) != f.offset || int64(rf.Type.Size()) != f.size {
				t.Errorf("GOARCH=%s: %s.%s: go/types says offset %d size %d, the compiler offset %d size %d",
					runtime.GOARCH, name, f.name, f.offset, f.size, rf.Offset, rf.Type.Size())
			}
		}
	}
	if len(names) != len(types) {
		t.Errorf("go/types found %d structs, abiTypes lists %d", len(names), len(types))
	}
	t.Logf("GOARCH=%s: %d structs laid out alike by go/types and the compiler", runtime.GOARCH, len(names))
}

// TestInputEventLayout: evdev's records are 16 bytes where a long is 32
// bits (the timeval of 386 and 32-bit ARM) and 24 where it is 64, with
// type, code and value after the time.
func TestInputEventLayout(t *testing.T) {
	for _, tc := range []struct {
		goarch      string
		size, type_ int64
	}{{"amd64", 24, 16}, {"arm64", 24, 16}, {"riscv64", 24, 16}, {"386", 16, 8}, {"arm", 16, 8}} {
		g, err := goLayout(tc.goarch)
		if err != nil {
			t.Fatal(err)
		}
		ev, ok := g.structs["InputEvent"]
		if !ok {
			t.Fatalf("GOARCH=%s: no InputEvent", tc.goarch)
		}
		want := []goField{{"Time", 0, tc.type_}, {"Type", tc.type_, 2}, {"Code", tc.type_ + 2, 2}, {"Value", tc.type_ + 4, 4}}
		if ev.size != tc.size || !reflect.DeepEqual(ev.fields, want) {
			t.Errorf("GOARCH=%s: InputEvent is %d bytes %v, want %d bytes %v", tc.goarch, ev.size, ev.fields, tc.size, want)
		}
	}
}
