package theme

import (
	"errors"
	"fmt"
	"strings"
)

// validator checks values one by one and collects every mistake.
type validator struct {
	t     *Theme
	file  string
	lines map[string]int
	errs  Errors
}

func (v *validator) fail(key string, err error) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.line(key), Key: key, Err: err})
}

// line returns the line a key is set on, or the line of the nearest table
// that holds it.
func (v *validator) line(key string) int {
	line := v.lines[key]
	if line == 0 {
		// A table made only of subtables ([override.big.logo]) has no
		// line of its own: take the first line inside it.
		for k, l := range v.lines {
			if strings.HasPrefix(k, key+".") && (line == 0 || l < line) {
				line = l
			}
		}
	}
	for k := key; line == 0 && strings.Contains(k, "."); {
		k = k[:strings.LastIndex(k, ".")]
		line = v.lines[k]
	}
	return line
}

func (v *validator) color(key string, s *string) {
	if s == nil {
		return
	}
	if _, err := ParseColor(*s); err != nil {
		v.fail(key, err)
	}
}

func (v *validator) num(key string, f *float64, lo, hi float64) {
	if f != nil && !(*f >= lo && *f <= hi) {
		v.fail(key, fmt.Errorf("%g is out of range [%g, %g]", *f, lo, hi))
	}
}

func (v *validator) integer(key string, n *int, lo, hi int) {
	if n != nil && (*n < lo || *n > hi) {
		v.fail(key, fmt.Errorf("%d is out of range [%d, %d]", *n, lo, hi))
	}
}

func (v *validator) oneOf(key string, s *string, allowed ...string) {
	if s == nil {
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	v.fail(key, fmt.Errorf("%q is not one of %s", *s, strings.Join(allowed, ", ")))
}

func (v *validator) image(key string, name *string) {
	if name == nil {
		return
	}
	if *name == "" {
		v.fail(key, errors.New("empty path"))
		return
	}
	if _, err := v.t.imageInfo(*name); err != nil {
		v.fail(key, err)
	}
}

func (v *validator) place(prefix string, p *Place, below ...string) {
	v.oneOf(prefix+"anchor", p.Anchor, anchorNames...)
	v.num(prefix+"x", p.X, 0, 1)
	v.num(prefix+"y", p.Y, 0, 1)
	if p.Offset != nil {
		if len(*p.Offset) != 2 {
			v.fail(prefix+"offset", fmt.Errorf("want [x, y], got %d numbers", len(*p.Offset)))
		}
		for _, o := range *p.Offset {
			if !(o >= -10000 && o <= 10000) {
				v.fail(prefix+"offset", fmt.Errorf("%g is out of range [-10000, 10000]", o))
				break
			}
		}
	}
	if len(below) == 0 && p.Below != nil {
		v.fail(prefix+"below", errors.New("this element cannot be placed below another"))
		return
	}
	v.oneOf(prefix+"below", p.Below, below...)
}

func (v *validator) sections(prefix string, s *Sections) {
	if b := s.Background; b != nil {
		p := prefix + "background."
		v.color(p+"color", b.Color)
		v.color(p+"top", b.Top)
		v.color(p+"bottom", b.Bottom)
		v.image(p+"image", b.Image)
		v.oneOf(p+"fit", b.Fit, "cover", "contain", "stretch", "center")
		if (b.Top == nil) != (b.Bottom == nil) {
			v.fail(p+"top", errors.New("a gradient needs both top and bottom"))
		}
	}
	if l := s.Logo; l != nil {
		p := prefix + "logo."
		v.place(p, &l.Place)
		v.image(p+"image", l.Image)
		v.num(p+"scale", l.Scale, 0.05, 20)
		v.num(p+"max_width", l.MaxWidth, 0.01, 1)
		v.num(p+"max_height", l.MaxHeight, 0.01, 1)
	}
	if b := s.Progress; b != nil {
		p := prefix + "progress."
		v.place(p, &b.Place, "logo")
		v.num(p+"width", b.Width, 0.01, 1)
		v.num(p+"min_width", b.MinWidth, 0, 10000)
		v.num(p+"max_width", b.MaxWidth, 0, 10000)
		v.num(p+"height", b.Height, 1, 1000)
		v.num(p+"radius", b.Radius, 0, 500)
		v.num(p+"border", b.Border, 0, 100)
		v.color(p+"color", b.Color)
		v.color(p+"track", b.Track)
		v.color(p+"border_color", b.BorderColor)
		v.num(p+"pulse_width", b.PulseWidth, 0.05, 1)
		v.num(p+"pulse_period", b.PulsePeriod, 0.1, 60)
	}
	for _, tx := range []struct {
		name  string
		f     *Text
		below []string
	}{{"message", s.Message, []string{"logo", "progress"}}, {"status", s.Status, []string{"logo", "progress", "message"}}, {"secure_boot", secureBootLine(s), []string{"logo", "progress"}}} {
		if tx.f == nil {
			continue
		}
		p := prefix + tx.name + "."
		v.place(p, &tx.f.Place, tx.below...)
		v.num(p+"size", tx.f.Size, 1, 500)
		v.color(p+"color", tx.f.Color)
		v.integer(p+"max_lines", tx.f.MaxLines, 1, 20)
		if tx.f.Font != nil {
			if *tx.f.Font == "" {
				v.fail(p+"font", errors.New("empty path"))
			} else if err := v.t.fontExists(*tx.f.Font); err != nil {
				v.fail(p+"font", err)
			}
		}
		if tx.f.Fonts != nil {
			for _, name := range *tx.f.Fonts {
				if name == "" {
					v.fail(p+"fonts", errors.New("empty path"))
				} else if err := v.t.fontExists(name); err != nil {
					v.fail(p+"fonts", err)
				}
			}
		}
	}
	if pr := s.Prompt; pr != nil {
		p := prefix + "prompt."
		v.place(p, &pr.Place)
		v.num(p+"size", pr.Size, 1, 500)
		v.color(p+"color", pr.Color)
		if pr.Font != nil {
			if *pr.Font == "" {
				v.fail(p+"font", errors.New("empty path"))
			} else if err := v.t.fontExists(*pr.Font); err != nil {
				v.fail(p+"font", err)
			}
		}
		if pr.Fonts != nil {
			for _, name := range *pr.Fonts {
				if name == "" {
					v.fail(p+"fonts", errors.New("empty path"))
				} else if err := v.t.fontExists(name); err != nil {
					v.fail(p+"fonts", err)
				}
			}
		}
		v.num(p+"entry_width", pr.EntryWidth, 40, 4000)
		v.num(p+"entry_height", pr.EntryHeight, 8, 400)
		v.color(p+"entry_color", pr.EntryColor)
		v.num(p+"bullet_size", pr.BulletSize, 2, 200)
		v.color(p+"bullet_color", pr.BulletColor)
		v.integer(p+"max_bullets", pr.MaxBullets, 1, 256)
		for key, text := range map[string]*string{"retry_text": pr.RetryText, "caps_text": pr.CapsText, "details_text": pr.DetailsText} {
			if text != nil && (len(*text) > 200 || strings.ContainsAny(*text, "\n\x00")) {
				v.fail(p+key, errors.New("want one line of at most 200 bytes"))
			}
		}
		v.color(p+"retry_color", pr.RetryColor)
		v.color(p+"caps_color", pr.CapsColor)
	}
	if sb := s.SecureBoot; sb != nil && sb.Text != nil && (len(*sb.Text) > 200 || strings.ContainsAny(*sb.Text, "\n\x00")) {
		v.fail(prefix+"secure_boot.text", errors.New("want one line of at most 200 bytes"))
	}
	if sp := s.Spinner; sp != nil {
		p := prefix + "spinner."
		v.place(p, &sp.Place, "logo", "progress")
		v.oneOf(p+"style", sp.Style, "dots")
		v.num(p+"size", sp.Size, 4, 2000)
		v.integer(p+"dots", sp.Dots, 3, 64)
		v.color(p+"color", sp.Color)
		v.integer(p+"fps", sp.FPS, 1, 120)
		if sp.Frames != nil {
			names, err := v.t.FrameNames(*sp.Frames)
			if err != nil {
				v.fail(p+"frames", err)
			}
			for _, n := range names {
				if _, err := v.t.imageInfo(n); err != nil {
					v.fail(p+"frames", err)
					break
				}
			}
		}
	}
}

// secureBootLine is the [secure_boot] table's line, nil without one.
func secureBootLine(s *Sections) *Text {
	if s.SecureBoot == nil {
		return nil
	}
	return s.SecureBoot.Line()
}
