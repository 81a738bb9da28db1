package locale

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/text"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDetect(t *testing.T) {
	conf := []byte("# written by localectl\nLANG=\"de_DE.UTF-8\"\n")
	for _, c := range []struct {
		name string
		src  Sources
		want string
	}{
		{"nothing", Sources{}, ""},
		{"LANG", Sources{Getenv: env(map[string]string{"LANG": "fr_FR.UTF-8"})}, "fr_FR.UTF-8"},
		{"LC_ALL beats LANG", Sources{Getenv: env(map[string]string{"LANG": "fr_FR", "LC_ALL": "ja_JP.UTF-8"})}, "ja_JP.UTF-8"},
		{"LC_MESSAGES beats LANG", Sources{Getenv: env(map[string]string{"LANG": "fr_FR", "LC_MESSAGES": "ar_EG"})}, "ar_EG"},
		{"C is unset", Sources{Getenv: env(map[string]string{"LANG": "C.UTF-8"}), LocaleConf: conf}, "de_DE.UTF-8"},
		{"cmdline", Sources{Cmdline: "root=/dev/sda1 quiet locale.LANG=zh_CN.UTF-8 splash", LocaleConf: conf}, "zh_CN.UTF-8"},
		{"cmdline LC_MESSAGES", Sources{Cmdline: "locale.LANG=en_US locale.LC_MESSAGES=he_IL"}, "he_IL"},
		{"locale.conf", Sources{Cmdline: "quiet", LocaleConf: conf}, "de_DE.UTF-8"},
		{"env beats cmdline", Sources{Getenv: env(map[string]string{"LANG": "ru_RU.UTF-8"}), Cmdline: "locale.LANG=fr_FR"}, "ru_RU.UTF-8"},
	} {
		if got := Detect(c.src); got != c.want {
			t.Errorf("%s: Detect = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestFor(t *testing.T) {
	for loc, want := range map[string]string{
		"fr_FR.UTF-8": "fr", "fr": "fr", "zh_TW.UTF-8": "zh_TW", "zh_HK": "zh_CN", "zh": "zh_CN",
		"ar_EG.UTF-8@latin": "ar", "pt_BR": "en", "": "en", "de-AT": "de",
	} {
		if got := For(loc).Lang; got != want {
			t.Errorf("For(%q) = %s, want %s", loc, got, want)
		}
	}
	if !For("he_IL").RTL || !For("ar").RTL || For("ja").RTL {
		t.Error("RTL is wrong for he, ar or ja")
	}
	if got := For("fr").Get(Password); got != "Mot de passe :" {
		t.Errorf("fr password = %q", got)
	}
}

// TestCataloguesComplete: every catalogue has every key English has,
// with text that differs from the English except where it is a name.
func TestCataloguesComplete(t *testing.T) {
	en := catalogues()["en"]
	langs := Languages()
	sort.Strings(langs)
	if len(langs) < 6 {
		t.Fatalf("%d languages", len(langs))
	}
	for _, l := range langs {
		c := catalogues()[l]
		for k := range en.msgs {
			s, ok := c.msgs[k]
			if !ok || s == "" {
				t.Errorf("%s lacks %s", l, k)
			}
			if l != "en" && s == en.msgs[k] {
				t.Errorf("%s's %s is the English", l, k)
			}
		}
	}
}

// TestCataloguesDrawable: every string of every catalogue is shaped
// with a font that has all its characters (the fonts scripts/test
// installs), and right-to-left catalogues make right-to-left
// paragraphs.
func TestCataloguesDrawable(t *testing.T) {
	sys := text.NewSystemFonts(t.TempDir())
	fonts, err := text.NewFonts(nil, sys)
	if err != nil {
		t.Fatal(err)
	}
	sh := text.NewShaper(fonts, 16, "")
	for _, l := range Languages() {
		c := catalogues()[l]
		for k, s := range c.msgs {
			for _, line := range sh.Layout(s, text.Options{}) {
				for _, g := range line.Glyphs {
					if g.ID == 0 {
						t.Errorf("%s %s %q: a glyph no font has", l, k, s)
						break
					}
				}
			}
			if rtl := text.Direction([]rune(s)).Progression() != text.Direction([]rune("a")).Progression(); rtl != c.RTL {
				t.Errorf("%s %s %q: right to left %v, catalogue says %v", l, k, s, rtl, c.RTL)
			}
		}
	}
}

// TestReadSmallRefusesFIFO: /etc/locale.conf or the command line replaced
// by a FIFO is refused at once, naming it, not waited on (a blocking open
// of a FIFO with no writer never returns, and this runs before the first
// frame).
func TestReadSmallRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "locale.conf")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := readSmall(p); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("readSmall of a FIFO: %v, want an error naming the path and saying it is a FIFO", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readSmall blocked on a FIFO")
	}
	big := filepath.Join(t.TempDir(), "big.conf")
	if err := os.WriteFile(big, bytes.Repeat([]byte("LANG=C\n"), 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readSmall(big); err == nil {
		t.Error("readSmall took a 140 KB locale.conf, want it refused over its 64 KiB cap")
	}
}
