package text

import (
	"strings"
	"testing"
)

// lineText returns the runes of the paragraph a line holds.
func lineText(text string, l Line) string {
	r := []rune(text)
	return string(r[l.Runes[0]:l.Runes[1]])
}

// TestWrapByLineBreakRules: lines break where UAX #14 allows: between
// words of spaced scripts, between CJK ideographs, and between Thai
// grapheme clusters, and no line is wider than the width.
func TestWrapByLineBreakRules(t *testing.T) {
	s := newShaper(t, 20)
	for _, c := range []struct {
		name, text string
		width      int
	}{
		{"latin", "Checking file systems on the root disk before mounting it", 200},
		{"chinese", "正在检查磁盘上的文件系统这可能需要一些时间请稍候", 150},
		{"japanese", "システムを起動していますしばらくお待ちください", 150},
		{"thai", "กำลังตรวจสอบระบบไฟล์บนดิสก์ก่อนเริ่มระบบ", 120},
		{"arabic", "جارٍ فحص أنظمة الملفات على القرص قبل بدء التشغيل", 150},
	} {
		ls := s.Layout(c.text, Options{MaxWidth: c.width})
		if len(ls) < 2 {
			t.Errorf("%s: %d lines at %d px, want it wrapped", c.name, len(ls), c.width)
			continue
		}
		var got []string
		for i, l := range ls {
			got = append(got, lineText(c.text, l))
			if l.Width.Ceil() > c.width {
				t.Errorf("%s: line %d is %d px wide, over %d", c.name, i, l.Width.Ceil(), c.width)
			}
		}
		if strings.Join(got, "") != c.text {
			t.Errorf("%s: lines %q do not make up the text", c.name, got)
		}
		switch c.name {
		case "latin":
			for _, g := range got[:len(got)-1] {
				if !strings.HasSuffix(g, " ") {
					t.Errorf("latin: line %q does not end at a space", g)
				}
			}
		case "thai":
			// Without a dictionary (Pango has libthai's) a Thai run is
			// one UAX #14 segment, so it is broken between grapheme
			// clusters where it must be: never before a combining
			// vowel or tone mark.
			for _, g := range got[1:] {
				if r := []rune(g)[0]; r >= 0x0e31 && r <= 0x0e3a || r >= 0x0e47 && r <= 0x0e4e {
					t.Errorf("thai: line %q starts with a combining mark", g)
				}
			}
		}
	}
}

// TestMaxLinesEllipsis: text beyond MaxLines is cut and the last line
// kept ends in an ellipsis that fits the width.
func TestMaxLinesEllipsis(t *testing.T) {
	s := newShaper(t, 20)
	text := strings.Repeat("word ", 40)
	ls := s.Layout(text, Options{MaxWidth: 200, MaxLines: 2})
	if len(ls) != 2 {
		t.Fatalf("%d lines, want 2", len(ls))
	}
	last := ls[1]
	if last.Width.Ceil() > 200 {
		t.Errorf("the last line is %d px wide, over 200", last.Width.Ceil())
	}
	g := last.Glyphs[len(last.Glyphs)-1]
	if ell, _ := g.Face.NominalGlyph('…'); g.ID != ell {
		t.Errorf("the last line ends in glyph %d, want the ellipsis %d", g.ID, ell)
	}
	if all := s.Layout(text, Options{MaxWidth: 200}); len(all) <= 2 {
		t.Errorf("without MaxLines the text takes %d lines; the test needs more than 2", len(all))
	}
}

// TestParagraphs: a line break starts a new line, CR LF is one break,
// and a blank line stays.
func TestParagraphs(t *testing.T) {
	s := newShaper(t, 16)
	text := "one\r\ntwo\n\nمرحبا"
	ls := s.Layout(text, Options{})
	var got []string
	for _, l := range ls {
		got = append(got, lineText(text, l))
	}
	if want := []string{"one", "two", "", "مرحبا"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	if ls := s.Layout(text, Options{MaxLines: 2}); len(ls) != 2 {
		t.Errorf("MaxLines 2: %d lines", len(ls))
	}
}
