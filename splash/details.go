package splash

import (
	"errors"
	"image"
	"image/color"
	"strings"

	"golang.org/x/image/font"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/text"
)

// Details is the text view of the boot that Escape (or `ctl details`)
// shows instead of the splash: the kernel's log since boot and every
// message and status sent to the splash, oldest first. A State holds a
// snapshot that is never changed, so States stay comparable.
type Details struct {
	Lines []string
}

// maxDetailLines bounds the lines the daemon keeps for the view.
const maxDetailLines = 2000

var (
	detailsBackground = color.RGBA{0x0b, 0x0e, 0x13, 0xff}
	detailsText       = color.RGBA{0xc9, 0xd3, 0xe0, 0xff}
)

// detailsPx is the view's text size in pixels at scale 1.
const detailsPx = 13.0

// wrapLine breaks text into lines no wider than width with face, at
// spaces where it can and inside a word where it must.
func wrapLine(face font.Face, text string, width int) []string {
	var out []string
	for text != "" {
		if font.MeasureString(face, text).Ceil() <= width {
			return append(out, text)
		}
		// The longest prefix that fits, by runes.
		cut, lastSpace := 0, -1
		for i, r := range text {
			if font.MeasureString(face, text[:i+len(string(r))]).Ceil() > width {
				break
			}
			cut = i + len(string(r))
			if r == ' ' {
				lastSpace = i
			}
		}
		if cut == 0 {
			_, size := firstRune(text)
			cut = size // not even one character fits: one a line
		}
		if lastSpace > 0 && cut < len(text) {
			out = append(out, text[:lastSpace])
			text = text[lastSpace+1:]
			continue
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return out
}

func firstRune(s string) (rune, int) {
	for i, r := range s {
		if i == 0 {
			return r, len(string(r))
		}
	}
	return 0, len(s)
}

// detailRow is one row of the details view: a piece of a line on the
// fast path, or a line laid out by the shaper.
type detailRow struct {
	text   string
	shaped *text.Line
	rtl    bool
}

// detailRows wraps one line of the view to width: Latin text in the
// view's font as wrapLine breaks it, any other text (other scripts,
// right to left, marks) shaped and broken by Unicode's line-breaking
// rules, as the message's max_lines does.
func (r *Renderer) detailRows(face font.Face, line string, width int) ([]detailRow, *text.Shaper, error) {
	line = composed(strings.ToValidUTF8(line, "\uFFFD"))
	if simpleText(face, line) {
		var out []detailRow
		for _, w := range wrapLine(face, line, width) {
			out = append(out, detailRow{text: w})
		}
		return out, nil, nil
	}
	sh, err := r.shaper("", nil, detailsPx*r.scale)
	if err != nil {
		return nil, nil, err
	}
	rtl := text.Direction([]rune(line)).Progression() != text.Direction([]rune("a")).Progression()
	lines := sh.Layout(line, text.Options{MaxWidth: width})
	out := make([]detailRow, len(lines))
	for i := range lines {
		out[i] = detailRow{shaped: &lines[i], rtl: rtl}
	}
	return out, sh, nil
}

// paintDetails draws the details view over the whole of s: the newest
// lines, word-wrapped, at the bottom; a right-to-left line from the
// right margin.
func (r *Renderer) paintDetails(s *fbemu.Surface, d *Details) error {
	s.FillRect(s.Bounds(), detailsBackground)
	face, err := r.face("", detailsPx*r.scale)
	if err != nil {
		return err
	}
	m := face.Metrics()
	lineH := (m.Ascent + m.Descent).Ceil()
	margin := max(4, int(8*r.scale))
	width := s.Width() - 2*margin
	rows := (s.Height() - 2*margin) / max(1, lineH)
	var wrapped []detailRow
	var sh *text.Shaper
	var errs []error
	for i := len(d.Lines) - 1; i >= 0 && len(wrapped) < rows; i-- {
		w, lsh, err := r.detailRows(face, d.Lines[i], width)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if lsh != nil {
			sh = lsh
		}
		wrapped = append(w, wrapped...)
	}
	if len(wrapped) > rows {
		wrapped = wrapped[len(wrapped)-rows:]
	}
	y := s.Height() - margin - len(wrapped)*lineH
	for _, row := range wrapped {
		base := y + m.Ascent.Ceil()
		switch {
		case row.shaped == nil:
			s.DrawText(image.Pt(margin, base), face, row.text, detailsText)
		case row.rtl:
			sh.Draw(s, *row.shaped, image.Pt(s.Width()-margin-row.shaped.Width.Ceil(), base), detailsText)
		default:
			sh.Draw(s, *row.shaped, image.Pt(margin, base), detailsText)
		}
		y += lineH
	}
	return errors.Join(errs...)
}
