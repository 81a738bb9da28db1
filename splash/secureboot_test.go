package splash

import (
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// secureBootTheme is a theme with a [secure_boot] line; the status line
// sits on the same row, so an update of the status redraws the warning.
const secureBootTheme = `
[background]
color = "#102030"
[status]
anchor = "bottom"
y = 0.95
offset = [-200, 0]
size = 9
[secure_boot]
anchor = "bottom"
y = 0.95
size = 9
color = "#ffb74d"
`

func parseTheme(t *testing.T, src string) *theme.Theme {
	t.Helper()
	th, err := theme.Parse("test.toml", []byte(src), t.TempDir(), theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// paintSB paints st with the firmware saying sb.
func paintSB(t *testing.T, th *theme.Theme, lang string, sb display.SecureBoot, st State) *fbemu.Surface {
	t.Helper()
	s := fbemu.NewSurface(640, 400, fbemu.XRGB8888)
	r := NewRenderer(th, 1)
	r.SetLocale(lang)
	r.SetSecureBoot(sb)
	if err := r.Paint(s, st); err != nil {
		t.Fatal(err)
	}
	return s
}

// differing is the box around the pixels where a and b differ.
func differing(a, b *fbemu.Surface) (n int, box image.Rectangle) {
	for y := range a.Height() {
		for x := range a.Width() {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				n++
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return n, box
}

// TestSecureBootLine: the [secure_boot] line is drawn when, and only
// when, the firmware says Secure Boot is off: on and unknown (no UEFI,
// no efivarfs) draw exactly what the theme without the table draws. It
// lies at its place, in its colour, in the locale's language unless the
// theme gives its own text, and Update keeps it whole as the status on
// its row changes.
func TestSecureBootLine(t *testing.T) {
	th := parseTheme(t, secureBootTheme)
	without := parseTheme(t, secureBootTheme[:strings.Index(secureBootTheme, "[secure_boot]")])
	st := State{Status: "udev"}
	plain := paintSB(t, without, "", display.SecureBootOff, st)
	for _, sb := range []display.SecureBoot{display.SecureBootOn, display.SecureBootUnknown} {
		if n, _ := differing(paintSB(t, th, "", sb, st), plain); n != 0 {
			t.Errorf("Secure Boot %v: %d pixels differ from the theme without the line", sb, n)
		}
	}
	off := paintSB(t, th, "", display.SecureBootOff, st)
	n, box := differing(off, plain)
	if n == 0 {
		t.Fatal("Secure Boot off: no line drawn")
	}
	// Centred at the bottom, its line box's bottom at 95% of 400.
	if c := (box.Min.X + box.Max.X) / 2; c < 300 || c > 340 || box.Max.Y > 380 || box.Min.Y < 360 {
		t.Errorf("the line is drawn at %v, want it centred above y=380", box)
	}
	orange := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			if c := off.RGBAAt(x, y); c.R == 0xff && c.G == 0xb7 && c.B == 0x4d {
				orange++
			}
		}
	}
	if orange == 0 {
		t.Error("no pixel of the line is in its colour")
	}
	if n, _ := differing(paintSB(t, th, "fr", display.SecureBootOff, st), off); n == 0 {
		t.Error("the line is the same in French")
	}
	own := parseTheme(t, secureBootTheme+"text = \"Unsigned boot\"\n")
	if n, _ := differing(paintSB(t, own, "fr", display.SecureBootOff, st), paintSB(t, own, "", display.SecureBootOff, st)); n != 0 {
		t.Errorf("the theme's own text changes with the locale: %d pixels", n)
	}
	if n, _ := differing(paintSB(t, own, "", display.SecureBootOff, st), off); n == 0 {
		t.Error("the theme's own text is not drawn")
	}

	for _, next := range []State{{Status: "a much longer status line that runs into the warning"}, {}, {Progress: 0.5}} {
		r := NewRenderer(th, 1)
		r.SetSecureBoot(display.SecureBootOff)
		s := fbemu.NewSurface(640, 400, fbemu.XRGB8888)
		if err := r.Paint(s, st); err != nil {
			t.Fatal(err)
		}
		if err := r.Update(s, st, next); err != nil {
			t.Fatal(err)
		}
		if n, _ := differing(s, paintSB(t, th, "", display.SecureBootOff, next)); n != 0 {
			t.Errorf("Update to %+v differs from Paint in %d pixels", next, n)
		}
	}
}

// TestSecureBootHiddenByPrompt: a question whose block covers the line's
// row hides it, as it hides the status, and Update brings it back.
func TestSecureBootHiddenByPrompt(t *testing.T) {
	th := parseTheme(t, secureBootTheme+"[prompt]\nanchor = \"bottom\"\ny = 0.97\n")
	ask := State{Prompt: Prompt{Active: true, Password: true, Text: "Passphrase"}}
	with := paintSB(t, th, "", display.SecureBootOff, ask)
	without := paintSB(t, th, "", display.SecureBootUnknown, ask)
	if n, _ := differing(with, without); n != 0 {
		t.Errorf("the line is drawn under the question: %d pixels", n)
	}
	r := NewRenderer(th, 1)
	r.SetSecureBoot(display.SecureBootOff)
	s := fbemu.NewSurface(640, 400, fbemu.XRGB8888)
	if err := r.Paint(s, ask); err != nil {
		t.Fatal(err)
	}
	if err := r.Update(s, ask, State{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := differing(s, paintSB(t, th, "", display.SecureBootOff, State{})); n != 0 {
		t.Errorf("after the question: %d pixels differ from Paint", n)
	}
}

// TestScreenReadsSecureBoot: the screen reads the firmware's variables
// for a theme with the line, and draws it when they say off; a
// directory laid out as efivarfs stands in for the system's.
func TestScreenReadsSecureBoot(t *testing.T) {
	th := parseTheme(t, secureBootTheme)
	for _, c := range []struct {
		data []byte
		want display.SecureBoot
	}{{[]byte{7, 0, 0, 0, 0}, display.SecureBootOff}, {[]byte{7, 0, 0, 0, 1}, display.SecureBootOn}, {[]byte{7, 0}, display.SecureBootUnknown}} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"), c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		scr := &DisplayScreen{theme: th, opt: ScreenOptions{EFIVars: dir, Log: slog.New(slog.DiscardHandler)}}
		if got := scr.readSecureBoot(); got != c.want {
			t.Errorf("% x: %v, want %v", c.data, got, c.want)
		}
	}
	if !warnsSecureBoot(th, image.Pt(640, 400)) || warnsSecureBoot(defaultTheme(t), image.Pt(640, 400)) {
		t.Error("warnsSecureBoot does not tell a theme with the line from one without")
	}
}

// TestSecureBootLineCold: the line in a script the theme's font lacks
// (Japanese) is left out of a head's first frame, which makes no
// shaper; the frame after it, damage only, shows exactly what one full
// paint shows. In English it stays in the first frame.
func TestSecureBootLineCold(t *testing.T) {
	th := parseTheme(t, secureBootTheme)
	st := State{Status: "udev"}
	r := NewRenderer(th, 1)
	r.SetLocale("ja")
	r.SetSecureBoot(display.SecureBootOff)
	s := fbemu.NewSurface(640, 400, fbemu.XRGB8888)
	light, cold := r.withoutColdText(s, st)
	if !cold || !light.coldWarning || light.Status != st.Status {
		t.Fatalf("first frame's State %+v (cold %v): want the line left out only", light, cold)
	}
	if err := r.Paint(s, light); err != nil {
		t.Fatal(err)
	}
	if len(r.shapers) != 0 {
		t.Errorf("the first frame made %d shapers", len(r.shapers))
	}
	if n, _ := differing(s, paintSB(t, th, "ja", display.SecureBootUnknown, st)); n != 0 {
		t.Errorf("the first frame differs from one without the line in %d pixels", n)
	}
	if err := r.Update(s, light, st); err != nil {
		t.Fatal(err)
	}
	if n, _ := differing(s, paintSB(t, th, "ja", display.SecureBootOff, st)); n != 0 {
		t.Errorf("the two frames differ from one full paint in %d pixels", n)
	}
	en := NewRenderer(th, 1)
	en.SetSecureBoot(display.SecureBootOff)
	if light, cold := en.withoutColdText(s, st); cold || light != st {
		t.Errorf("the English line left out of the first frame: %+v", light)
	}
}
