package text

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

// hbCorpus is a line per script with the Debian font it is shaped in
// and the direction, script and language both shapers are given.
var hbCorpus = []struct {
	name, font, dir, script, lang, text string
}{
	{"latin-marks", "truetype/noto/NotoSans-Regular.ttf", "ltr", "Latn", "fr", "Cafe\u0301 na\u0308ive re\u0301sume\u0301"},
	{"greek", "truetype/noto/NotoSans-Regular.ttf", "ltr", "Grek", "el", "Εκκίνηση συστήματος"},
	{"cyrillic", "truetype/noto/NotoSans-Regular.ttf", "ltr", "Cyrl", "ru", "Загрузка системы"},
	{"arabic", "truetype/noto/NotoSansArabic-Regular.ttf", "rtl", "Arab", "ar", "جارٍ بدء تشغيل النظام"},
	{"hebrew", "truetype/noto/NotoSansHebrew-Regular.ttf", "rtl", "Hebr", "he", "מערכת מתחילה"},
	{"devanagari", "truetype/noto/NotoSansDevanagari-Regular.ttf", "ltr", "Deva", "hi", "सिस्टम शुरू हो रहा है"},
	{"bengali", "truetype/noto/NotoSansBengali-Regular.ttf", "ltr", "Beng", "bn", "সিস্টেম চালু হচ্ছে"},
	{"thai", "truetype/noto/NotoSansThai-Regular.ttf", "ltr", "Thai", "th", "กำลังเริ่มระบบ"},
	{"chinese", "opentype/noto/NotoSansCJK-Regular.ttc", "ltr", "Hani", "zh", "系统正在启动"},
	{"japanese", "opentype/noto/NotoSansCJK-Regular.ttc", "ltr", "Kana", "ja", "システムを起動しています"},
	{"korean", "opentype/noto/NotoSansCJK-Regular.ttc", "ltr", "Hang", "ko", "시스템을 시작하는 중"},
	{"emoji", "truetype/ancient-scripts/Symbola_hint.ttf", "ltr", "Zyyy", "en", "🚀🔒✅"},
}

// hbKnownDifferences are the corpus lines where go-text v0.3.5 and
// Debian 12's HarfBuzz 6.0.0 are known to differ, and how.
var hbKnownDifferences = map[string]string{
	"greek":    "HarfBuzz kerns ί before ν by -10 units in Noto Sans, go-text does not",
	"cyrillic": "HarfBuzz kerns р before у by -10 units in Noto Sans, go-text does not",
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

type hbGlyph struct {
	G  int `json:"g"`
	Cl int `json:"cl"`
	Dx int `json:"dx"`
	Dy int `json:"dy"`
	Ax int `json:"ax"`
}

// TestShapingMatchesHarfBuzz shapes each line of the corpus with
// go-text's shaper and with HarfBuzz's hb-shape (Debian's
// libharfbuzz-bin) in the same font at its units per em, and compares
// glyph ids, clusters, advances and offsets.
func TestShapingMatchesHarfBuzz(t *testing.T) {
	hb, err := exec.LookPath("hb-shape")
	if err != nil {
		t.Fatal("hb-shape (libharfbuzz-bin, which scripts/test installs) is missing")
	}
	var hs shaping.HarfbuzzShaper
	matched := 0
	for _, c := range hbCorpus {
		path := "/usr/share/fonts/" + c.font
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (scripts/test installs it)", c.name, err)
			continue
		}
		face, err := ParseFont(data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		out, err := exec.Command(hb, "--no-glyph-names", "--output-format=json", "--direction="+c.dir,
			"--script="+c.script, "--language="+c.lang, path, c.text).Output()
		if err != nil {
			t.Errorf("%s: hb-shape: %v", c.name, err)
			continue
		}
		var want []hbGlyph
		if err := json.Unmarshal(out, &want); err != nil {
			t.Errorf("%s: hb-shape's output %q: %v", c.name, out, err)
			continue
		}
		got := shapeUnits(&hs, face, c.text, c.dir, c.script, c.lang)
		diff := compareGlyphs(got, want)
		if diff == "" {
			matched++
			continue
		}
		why, known := hbKnownDifferences[c.name]
		if !known {
			t.Errorf("%s: differs from HarfBuzz: %s", c.name, diff)
			continue
		}
		// A known difference: the same glyphs and clusters, positions
		// within 2% of the em.
		tol := int(face.Upem()) / 50
		for i := range got {
			g, w := got[i], want[i]
			if g.G != w.G || g.Cl != w.Cl || abs(g.Ax-w.Ax) > tol || abs(g.Dx-w.Dx) > tol || abs(g.Dy-w.Dy) > tol {
				t.Errorf("%s: differs from HarfBuzz beyond the known difference (%s): %s", c.name, why, diff)
				break
			}
		}
		t.Logf("%s: %s (%s)", c.name, diff, why)
	}
	t.Logf("%d of %d runs match HarfBuzz exactly (glyph ids, clusters, advances, offsets)", matched, len(hbCorpus))
}

// shapeUnits shapes text in one face at its units per em, so positions
// are in font units as hb-shape prints them.
func shapeUnits(hs *shaping.HarfbuzzShaper, face *font.Face, text, dir, script, lang string) []hbGlyph {
	runes := []rune(text)
	d := di.DirectionLTR
	if dir == "rtl" {
		d = di.DirectionRTL
	}
	sc, _ := language.ParseScript(strings.ToLower(script))
	upem := int(face.Upem())
	o := hs.Shape(shaping.Input{Text: runes, RunEnd: len(runes), Direction: d, Face: face,
		Size: fixed.I(upem), Script: sc, Language: language.NewLanguage(lang)})
	var gs []hbGlyph
	for _, g := range o.Glyphs {
		gs = append(gs, hbGlyph{G: int(g.GlyphID), Cl: g.TextIndex(), Dx: g.XOffset.Round(), Dy: g.YOffset.Round(), Ax: g.Advance.Round()})
	}
	return gs
}

func compareGlyphs(got, want []hbGlyph) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d glyphs, HarfBuzz %d: %v vs %v", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("glyph %d is %+v, HarfBuzz %+v", i, got[i], want[i])
		}
	}
	return ""
}
