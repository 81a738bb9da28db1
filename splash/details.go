package splash

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"slices"
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
	// Below is how many of Lines, the newest, are scrolled out of view
	// under it: 0 shows the newest at the bottom. A view scrolled as far
	// up as it goes shows the oldest line at the top (more than that is
	// the same picture).
	Below int
}

// maxDetailLines bounds the lines the daemon keeps for the view.
const maxDetailLines = 2000

var (
	detailsBackground = color.RGBA{0x0b, 0x0e, 0x13, 0xff}
	detailsText       = color.RGBA{0xc9, 0xd3, 0xe0, 0xff}
	detailsMore       = color.RGBA{0x7f, 0x8c, 0x9d, 0xff}
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

// detailsGeometry is the view's font and its rows on a w×h surface.
type detailsGeometry struct {
	face          font.Face
	lineH, margin int
	width, rows   int
}

func (r *Renderer) detailsGeometry(w, h int) (detailsGeometry, error) {
	face, err := r.face("", detailsPx*r.scale)
	if err != nil {
		return detailsGeometry{}, err
	}
	m := face.Metrics()
	g := detailsGeometry{face: face, lineH: max(1, (m.Ascent + m.Descent).Ceil()), margin: max(4, int(8*r.scale))}
	g.width = w - 2*g.margin
	g.rows = max(1, (h-2*g.margin)/g.lineH)
	return g, nil
}

// DetailsRows is how many rows of text the details view shows on a w×h
// surface: what Page Up and Page Down move it by.
func (r *Renderer) DetailsRows(w, h int) int {
	g, err := r.detailsGeometry(w, h)
	if err != nil {
		return 1
	}
	return g.rows
}

// detailsMoreText is the last row of a view scrolled up.
func detailsMoreText(n int) string {
	if n == 1 {
		return "-- 1 more line below (End) --"
	}
	return fmt.Sprintf("-- %d more lines below (End) --", n)
}

// detailsView is what the details view shows on a surface: the rows of
// Lines[first:end] (the first one's top rows cut when it does not fit),
// from y, and how many lines are below them (more, said on the last
// row when indicator).
type detailsView struct {
	g          detailsGeometry
	wrapped    []detailRow
	sh         *text.Shaper
	first, end int
	y, more    int
	indicator  bool
	errs       []error
}

// layoutDetails places d on a w×h surface: the newest lines at the
// bottom or, scrolled up (d.Below), the lines before them with a last
// row that says how many are below.
func (r *Renderer) layoutDetails(w, h int, d *Details) (*detailsView, error) {
	g, err := r.detailsGeometry(w, h)
	if err != nil {
		return nil, err
	}
	v := &detailsView{g: g}
	below := min(max(d.Below, 0), max(len(d.Lines)-1, 0))
	rows := g.rows
	if below > 0 && rows > 1 {
		rows-- // the last row says what is below
		v.indicator = true
	}
	wrap := func(i int) []detailRow {
		w, lsh, err := r.detailRows(g.face, d.Lines[i], g.width)
		if err != nil {
			v.errs = append(v.errs, err)
			return nil
		}
		if lsh != nil {
			v.sh = lsh
		}
		return w
	}
	// The view ends with the line below lines hide; before it, as many
	// as fit.
	end := len(d.Lines) - below // one past the last line shown
	first := end
	for first > 0 && len(v.wrapped) < rows {
		first--
		v.wrapped = append(wrap(first), v.wrapped...)
	}
	textTop := h - g.margin - g.rows*g.lineH
	v.y = textTop + (rows-len(v.wrapped))*g.lineH
	if len(v.wrapped) > rows {
		v.wrapped = v.wrapped[len(v.wrapped)-rows:]
		v.y = textTop
	} else if below > 0 {
		// Scrolled up to the oldest line: it stays at the top, and the
		// lines after fill the view as far as they fit whole.
		v.y = textTop
		for end < len(d.Lines) {
			w := wrap(end)
			if len(v.wrapped)+len(w) > rows {
				break
			}
			v.wrapped = append(v.wrapped, w...)
			end++
		}
	}
	v.first, v.end, v.more = first, end, len(d.Lines)-end
	return v, nil
}

// paintDetails draws the details view over the whole of s (see
// layoutDetails); a right-to-left line from the right margin.
func (r *Renderer) paintDetails(s *fbemu.Surface, d *Details) error {
	s.FillRect(s.Bounds(), detailsBackground)
	v, err := r.layoutDetails(s.Width(), s.Height(), d)
	if err != nil {
		return err
	}
	face, lineH, margin := v.g.face, v.g.lineH, v.g.margin
	m := face.Metrics()
	y := v.y
	for _, row := range v.wrapped {
		base := y + m.Ascent.Ceil()
		switch {
		case row.shaped == nil:
			s.DrawText(image.Pt(margin, base), face, row.text, detailsText)
		case row.rtl:
			v.sh.Draw(s, *row.shaped, image.Pt(s.Width()-margin-row.shaped.Width.Ceil(), base), detailsText)
		default:
			v.sh.Draw(s, *row.shaped, image.Pt(margin, base), detailsText)
		}
		y += lineH
	}
	r.paintDetailsMore(s, v)
	return errors.Join(v.errs...)
}

// paintDetailsMore draws the row under a view scrolled up.
func (r *Renderer) paintDetailsMore(s *fbemu.Surface, v *detailsView) {
	if v.more > 0 && v.indicator {
		base := s.Height() - v.g.margin - v.g.lineH + v.g.face.Metrics().Ascent.Ceil()
		s.DrawText(image.Pt(v.g.margin, base), v.g.face, detailsMoreText(v.more), detailsMore)
	}
}

// updateDetails changes s from showing old to showing new, both details
// views. Where the same lines show at the same place (a view scrolled
// up as lines come), only the row saying how many are below is drawn
// again; otherwise every row moves and the view is drawn whole.
func (r *Renderer) updateDetails(s *fbemu.Surface, old, new *Details) error {
	a, err := r.layoutDetails(s.Width(), s.Height(), old)
	if err != nil {
		return r.Paint(s, State{Details: new})
	}
	b, err := r.layoutDetails(s.Width(), s.Height(), new)
	if err != nil || len(a.errs) > 0 || len(b.errs) > 0 || a.y != b.y || a.indicator != b.indicator ||
		a.end-a.first != b.end-b.first || len(a.wrapped) != len(b.wrapped) ||
		!slices.Equal(old.Lines[a.first:a.end], new.Lines[b.first:b.end]) {
		return r.Paint(s, State{Details: new})
	}
	if a.more == b.more {
		return nil
	}
	g := b.g
	s.FillRect(image.Rect(0, s.Height()-g.margin-g.lineH, s.Width(), s.Height()-g.margin), detailsBackground)
	r.paintDetailsMore(s, b)
	return nil
}
