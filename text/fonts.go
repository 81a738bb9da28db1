package text

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

// maxFontBytes bounds a font file read from the system's directories.
const maxFontBytes = 64 << 20

// Fonts is a fallback chain of fonts: the fonts a theme names, in order,
// then the fonts of the system (scanned the first time a character is
// missing from the theme's, and the scan's index kept on disk), then the
// embedded font. It picks a font for each character the way fontconfig's
// fallback does for Pango: the first that has it; a combining mark stays
// in its base's font when that font has it. It is not safe for concurrent
// use.
type Fonts struct {
	faces    []*font.Face
	embedded *font.Face
	system   *systemFonts
	byRune   map[rune]*font.Face
	last     *font.Face
}

// NewFonts returns the chain of faces (parsed by ParseFont) followed by
// the system's fonts and the embedded font. sys may be nil for no system
// fonts (tests of the chain itself).
func NewFonts(faces []*font.Face, sys *SystemFonts) (*Fonts, error) {
	emb, err := font.ParseTTF(bytes.NewReader(goregular.TTF))
	if err != nil {
		return nil, fmt.Errorf("embedded font: %w", err)
	}
	f := &Fonts{faces: faces, embedded: emb, byRune: make(map[rune]*font.Face)}
	if sys != nil {
		f.system = sys.s
	}
	return f, nil
}

// ParseFont parses a TrueType or OpenType font file's bytes (the first
// face of a collection).
func ParseFont(data []byte) (*font.Face, error) {
	lds, err := ot.NewLoaders(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a TrueType or OpenType font (%w)", err)
	}
	ft, err := font.NewFont(lds[0])
	if err != nil {
		return nil, fmt.Errorf("not a TrueType or OpenType font (%w)", err)
	}
	return font.NewFace(ft), nil
}

// Len returns how many fonts the chain names before the system's.
func (f *Fonts) Len() int { return len(f.faces) }

// Primary returns the first font of the chain: the theme's first, or the
// embedded one.
func (f *Fonts) Primary() *font.Face {
	if len(f.faces) > 0 {
		return f.faces[0]
	}
	return f.embedded
}

// Has reports whether the theme's fonts or the embedded font have r,
// without scanning the system's.
func (f *Fonts) Has(r rune) bool {
	for _, fc := range f.faces {
		if _, ok := fc.NominalGlyph(r); ok {
			return true
		}
	}
	_, ok := f.embedded.NominalGlyph(r)
	return ok
}

// ResolveFace implements shaping.Fontmap: the first font of the chain
// that has r; for a character no font has, the primary font (whose
// missing glyph is drawn as a box).
func (f *Fonts) ResolveFace(r rune) *font.Face {
	if unicode.In(r, unicode.Mn, unicode.Me) && f.last != nil {
		if _, ok := f.last.NominalGlyph(r); ok {
			return f.last
		}
	}
	fc := f.byRune[r]
	if fc == nil {
		fc = f.resolve(r)
		if len(f.byRune) > 4096 {
			clear(f.byRune)
		}
		f.byRune[r] = fc
	}
	f.last = fc
	return fc
}

func (f *Fonts) resolve(r rune) *font.Face {
	for _, fc := range f.faces {
		if _, ok := fc.NominalGlyph(r); ok {
			return fc
		}
	}
	if f.system != nil {
		if fc := f.system.face(r); fc != nil {
			return fc
		}
	}
	if _, ok := f.embedded.NominalGlyph(r); ok {
		return f.embedded
	}
	return f.Primary()
}

// SystemFonts are the fonts installed on the system: what fontconfig
// would find in /usr/share/fonts, /usr/local/share/fonts,
// ~/.local/share/fonts (and ~/.fonts, $XDG_DATA_DIRS), which is also where
// an initramfs built by dracut or initramfs-tools carries the fonts its
// splash needs. The directories are scanned once per process, the first
// time a font is needed, and the scan's index is kept in a cache
// directory so a later run only checks modification times. It is safe to
// share between Fonts used from several goroutines only through
// separate Fonts: its own state is locked.
type SystemFonts struct{ s *systemFonts }

type systemFonts struct {
	cacheDir string
	once     sync.Once
	mu       sync.Mutex
	fonts    []footprint
	err      error
	loaded   map[font.FontID]*font.Face
}

// NewSystemFonts returns the system's fonts, to be scanned when first
// needed, with the scan's index kept under cacheDir ("" is CacheDir()).
func NewSystemFonts(cacheDir string) *SystemFonts {
	if cacheDir == "" {
		cacheDir = CacheDir()
	}
	return &SystemFonts{&systemFonts{cacheDir: cacheDir, loaded: make(map[font.FontID]*font.Face)}}
}

// CacheDir is where the font index is kept: $XDG_CACHE_HOME/bootsplash or
// ~/.cache/bootsplash, or, with no home (an initramfs), /run/bootsplash,
// which is a tmpfs at boot.
func CacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "bootsplash")
	}
	return "/run/bootsplash"
}

// Scan scans the system's fonts now, if they were not already, and
// returns how many faces it found; Fonts scan them on their own when
// first needed.
func (s *SystemFonts) Scan() (int, error) {
	s.s.scan()
	return len(s.s.fonts), s.s.err
}

func (s *systemFonts) scan() {
	s.once.Do(func() {
		lg := func(string, ...any) {}
		if os.Getenv("BOOTSPLASH_FONT_DEBUG") != "" {
			lg = log.New(os.Stderr, "fonts: ", 0).Printf
		}
		// A cache directory that cannot be written (a read-only root)
		// costs only the index: the fonts are scanned all the same,
		// with the index in the temporary directory.
		var files []fontFile
		var errs []error
		for _, dir := range []string{s.cacheDir, filepath.Join(os.TempDir(), "bootsplash-fonts")} {
			err := os.MkdirAll(dir, 0o755)
			if err == nil {
				files, err = scanFonts(fontDirs(), filepath.Join(dir, fontIndexName), lg)
			}
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, fmt.Errorf("%s: %w", dir, err))
		}
		if errs != nil && files == nil {
			s.err = fmt.Errorf("scan system fonts: %w", errors.Join(errs...))
			return
		}
		var fps []footprint
		for _, f := range files {
			fps = append(fps, f.faces...)
		}
		// The regular faces of sans-serif families first, as fontconfig's
		// default "sans-serif" match would; then by file name, so the
		// choice does not depend on the order of the directory walk.
		sort.SliceStable(fps, func(i, j int) bool {
			si, sj := fontRank(fps[i]), fontRank(fps[j])
			if si != sj {
				return si < sj
			}
			if fps[i].loc.File != fps[j].loc.File {
				return fps[i].loc.File < fps[j].loc.File
			}
			return fps[i].loc.Index < fps[j].loc.Index
		})
		s.fonts = fps
	})
}

// fontRank orders system fonts for fallback: lower is tried first.
func fontRank(fp footprint) int {
	rank := 0
	if fp.aspect.Style != font.StyleNormal {
		rank += 8
	}
	if w := fp.aspect.Weight; w != 0 && w != font.WeightNormal {
		rank += 4
	}
	fam := fp.family
	switch {
	case strings.Contains(fam, "mono"):
		rank += 2
	case strings.Contains(fam, "serif") && !strings.Contains(fam, "sans"):
		rank += 1
	}
	// Noto's UI variants have tighter metrics meant for menus.
	if strings.Contains(fam, " ui") {
		rank += 1
	}
	return rank
}

// face returns the first system font that has r, loading it once.
func (s *systemFonts) face(r rune) *font.Face {
	s.scan()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.fonts {
		fp := &s.fonts[i]
		if !fp.has(r) {
			continue
		}
		if fc, ok := s.loaded[fp.loc]; ok {
			if fc != nil {
				return fc
			}
			continue
		}
		fc, err := loadFace(fp.loc)
		s.loaded[fp.loc] = fc // nil: failed, not tried again
		if err == nil {
			return fc
		}
	}
	return nil
}

// loadFace parses one face of a font file, reading only the tables it
// needs (a CJK collection is tens of megabytes).
func loadFace(loc font.FontID) (*font.Face, error) {
	// A regular file only, checked before it is opened and opened
	// O_NONBLOCK: a FIFO swapped in after the scan must not stall drawing.
	f, _, err := regfile.Open(loc.File, maxFontBytes, "font")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lds, err := ot.NewLoaders(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", loc.File, err)
	}
	if int(loc.Index) >= len(lds) {
		return nil, fmt.Errorf("%s: no face %d", loc.File, loc.Index)
	}
	ft, err := font.NewFont(lds[loc.Index])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", loc.File, err)
	}
	return font.NewFace(ft), nil
}

// Face is a parsed font face.
type Face = font.Face
