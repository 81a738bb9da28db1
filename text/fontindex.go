package text

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/font/opentype/tables"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

// footprint is what the fallback needs to know of one face of a system
// font without opening it: where it is, its family and aspect, and the
// characters it has, as fontconfig's cache keeps them.
type footprint struct {
	loc    font.FontID
	family string // lower case
	aspect font.Aspect
	runes  [][2]rune // sorted ranges, both ends included
}

// has reports whether the face has a glyph for r.
func (fp *footprint) has(r rune) bool {
	i := sort.Search(len(fp.runes), func(i int) bool { return fp.runes[i][1] >= r })
	return i < len(fp.runes) && fp.runes[i][0] <= r
}

// fontFile is a font file in the index: its faces, and the size and
// modification time they were read at, so a file that changed is read
// again.
type fontFile struct {
	path    string
	size    int64
	modTime int64
	faces   []footprint
}

// fontDirs are the directories fontconfig's default configuration
// scans, which an initramfs's fonts are copied into too.
func fontDirs() []string {
	home, _ := os.UserHomeDir()
	dirs := []string{"/usr/share/fonts", "/usr/local/share/fonts"}
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".fonts"))
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		dirs = append(dirs, filepath.Join(d, "fonts"))
	} else if home != "" {
		dirs = append(dirs, filepath.Join(home, ".local", "share", "fonts"))
	}
	for _, d := range filepath.SplitList(os.Getenv("XDG_DATA_DIRS")) {
		if d != "" {
			dirs = append(dirs, filepath.Join(d, "fonts"))
		}
	}
	return dirs
}

// fontIndexName is the index's file in the cache directory.
const fontIndexName = "font-index-v1"

// scanFonts returns the faces of the font files under dirs, reading only
// the files the index at indexPath (if any) does not know as they are,
// and writes the index back when it changed. A file that is not a font
// is skipped (logged to lg).
func scanFonts(dirs []string, indexPath string, lg func(string, ...any)) ([]fontFile, error) {
	old := map[string]fontFile{}
	if files, err := readFontIndex(indexPath); err == nil {
		for _, f := range files {
			old[f.path] = f
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		lg("font index %s: %v (scanning again)", indexPath, err)
	}
	var out []fontFile
	changed := false
	seen := map[string]bool{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path != dir {
					lg("%s: %v", path, err)
				}
				return filepath.SkipDir
			}
			if d.IsDir() || !isFontName(d.Name()) || seen[path] {
				return nil
			}
			seen[path] = true
			st, err := os.Stat(path) // through a link
			if err != nil || !st.Mode().IsRegular() || st.Size() > maxFontBytes {
				return nil
			}
			f := fontFile{path: path, size: st.Size(), modTime: st.ModTime().UnixNano()}
			if o, ok := old[path]; ok && o.size == f.size && o.modTime == f.modTime {
				out = append(out, o)
				return nil
			}
			changed = true
			f.faces, err = readFootprints(path)
			if err != nil {
				lg("%s: %v", path, err)
			}
			out = append(out, f) // kept without faces, so it is not read again
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) != len(old) {
		changed = true
	}
	if changed {
		if err := writeFontIndex(indexPath, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// isFontName reports whether a file's name is that of a TrueType or
// OpenType font or collection.
func isFontName(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ttf", ".otf", ".ttc", ".otc":
		return true
	}
	return false
}

// readFootprints reads the footprint of every face of a font file: its
// name, OS/2 and cmap tables only.
func readFootprints(path string) ([]footprint, error) {
	f, _, err := regfile.Open(path, maxFontBytes, "font")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lds, err := ot.NewLoaders(f)
	if err != nil {
		return nil, err
	}
	var out []footprint
	var buf []byte
	for i, ld := range lds {
		buf, err = ld.RawTableTo(ot.MustNewTag("cmap"), buf)
		if err != nil {
			continue
		}
		tb, _, err := tables.ParseCmap(buf)
		if err != nil {
			continue
		}
		cmap, _, err := font.ProcessCmap(tb, tables.FPNone)
		if err != nil {
			continue
		}
		var runes [][2]rune
		if rr, ok := cmap.(font.CmapRuneRanger); ok {
			runes = rr.RuneRanges(nil)
		} else {
			it := cmap.Iter()
			for it.Next() {
				r, _ := it.Char()
				runes = append(runes, [2]rune{r, r})
			}
		}
		runes = mergeRanges(runes)
		var desc font.Description
		desc, buf = font.Describe(ld, buf)
		out = append(out, footprint{
			loc:    font.FontID{File: path, Index: uint16(i)},
			family: strings.ToLower(desc.Family),
			aspect: desc.Aspect,
			runes:  runes,
		})
	}
	return out, nil
}

// mergeRanges sorts rune ranges and joins the ones that touch.
func mergeRanges(rs [][2]rune) [][2]rune {
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// The index: a magic line, then per file its path, size, modification
// time and faces, each face its index, family, style, weight, stretch
// and rune ranges; little-endian, strings with a 16-bit length.
const fontIndexMagic = "bootsplash font index 1\n"

// maxFontIndexBytes bounds the index read back.
const maxFontIndexBytes = 64 << 20

func writeFontIndex(path string, files []fontFile) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".font-index-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing
	w := bufio.NewWriter(tmp)
	le := binary.LittleEndian
	var b []byte
	str := func(s string) {
		b = le.AppendUint16(b, uint16(min(len(s), math.MaxUint16)))
		b = append(b, s[:min(len(s), math.MaxUint16)]...)
	}
	b = append(b, fontIndexMagic...)
	b = le.AppendUint32(b, uint32(len(files)))
	for _, f := range files {
		str(f.path)
		b = le.AppendUint64(b, uint64(f.size))
		b = le.AppendUint64(b, uint64(f.modTime))
		b = le.AppendUint16(b, uint16(len(f.faces)))
		for _, fp := range f.faces {
			b = le.AppendUint16(b, fp.loc.Index)
			str(fp.family)
			b = append(b, byte(fp.aspect.Style))
			b = le.AppendUint32(b, math.Float32bits(float32(fp.aspect.Weight)))
			b = le.AppendUint32(b, math.Float32bits(float32(fp.aspect.Stretch)))
			b = le.AppendUint32(b, uint32(len(fp.runes)))
			for _, r := range fp.runes {
				b = le.AppendUint32(b, uint32(r[0]))
				b = le.AppendUint32(b, uint32(r[1]))
			}
		}
		if _, err := w.Write(b); err != nil {
			tmp.Close()
			return err
		}
		b = b[:0]
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// errFontIndex says the index is not one this build wrote.
var errFontIndex = errors.New("not a font index of this version, or truncated")

func readFontIndex(path string) ([]fontFile, error) {
	f, _, err := regfile.Open(path, maxFontIndexBytes, "font index")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFontIndexBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFontIndexBytes {
		return nil, fmt.Errorf("larger than %d MiB", maxFontIndexBytes>>20)
	}
	d := indexDecoder{b: data}
	if string(d.next(len(fontIndexMagic))) != fontIndexMagic {
		return nil, errFontIndex
	}
	n := d.u32()
	var files []fontFile
	for i := uint32(0); i < n && d.err == nil; i++ {
		ff := fontFile{path: d.str(), size: int64(d.u64()), modTime: int64(d.u64())}
		faces := d.u16()
		for j := uint16(0); j < faces && d.err == nil; j++ {
			fp := footprint{loc: font.FontID{File: ff.path, Index: d.u16()}, family: d.str()}
			fp.aspect.Style = font.Style(d.u8())
			fp.aspect.Weight = font.Weight(math.Float32frombits(d.u32()))
			fp.aspect.Stretch = font.Stretch(math.Float32frombits(d.u32()))
			nr := d.u32()
			if uint64(nr)*8 > uint64(len(d.b)) {
				d.err = errFontIndex
				break
			}
			fp.runes = make([][2]rune, nr)
			for k := range fp.runes {
				fp.runes[k] = [2]rune{rune(d.u32()), rune(d.u32())}
			}
			ff.faces = append(ff.faces, fp)
		}
		files = append(files, ff)
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, errFontIndex
	}
	return files, nil
}

// indexDecoder reads the index's fields; the first short read sets err
// and every later read returns zero.
type indexDecoder struct {
	b   []byte
	err error
}

func (d *indexDecoder) next(n int) []byte {
	if d.err != nil || n > len(d.b) {
		d.err = errFontIndex
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *indexDecoder) u8() uint8 {
	if p := d.next(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *indexDecoder) u16() uint16 {
	if p := d.next(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *indexDecoder) u32() uint32 {
	if p := d.next(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *indexDecoder) u64() uint64 {
	if p := d.next(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *indexDecoder) str() string { return string(d.next(int(d.u16()))) }
