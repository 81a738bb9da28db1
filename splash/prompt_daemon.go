package splash

import (
	"context"
	"os"
	"slices"
	"syscall"
	"unicode/utf8"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/input"
)

// question is a question or keystroke watch waiting for its answer.
type question struct {
	c     control.Command
	stop  func() bool // stops watching the asker
	retry bool
}

// questions is the daemon's part that asks: the entries (passwords and
// questions, answered in the order they came, the first on screen) and
// the keystroke watches, the keyboard while either is open, and the
// passwords answered so far. It lives on the daemon's goroutine.
type questions struct {
	entries []*question
	watches []*question
	typed   *input.Secret // the first entry's text
	keys    <-chan input.Event
	open    bool
	caps    bool
	cached  [][]byte
	// lastClient is the client whose password was answered last: a
	// password it asks for again is a retry.
	lastClient any
	// dumps puts back core dumps, which are off while a password is
	// asked or cached; nil while they are on.
	dumps func()
	// gone carries the questions whose askers hung up.
	gone chan *question
	done chan struct{}
	// escape carries Escape presses while the splash shows and no
	// question reads the keyboard (the Input's EscapeWatcher, if it
	// is one); watching says it is open, noWatch that it failed.
	escape            <-chan input.Event
	watching, noWatch bool
}

// ask takes a question command; it is answered later, or at once when it
// cannot be asked.
func (d *Daemon) ask(c control.Command) {
	q := &d.q
	if d.mode == Quitting {
		c.Answer(control.ErrQuitting)
		return
	}
	if c.Kind == control.CachedPasswords {
		if len(q.cached) == 0 {
			c.Answer(control.ErrNoAnswer)
			return
		}
		if c.Result != nil {
			for _, p := range q.cached {
				c.Result.Answers = append(c.Result.Answers, append([]byte(nil), p...))
			}
		}
		c.Answer(nil)
		return
	}
	entry := c.Kind == control.AskPassword || c.Kind == control.AskQuestion
	switch {
	case d.cfg.Input == nil:
		c.Answer(control.ErrNoAnswer)
		return
	case entry && d.mode != Showing:
		// Nobody sees the prompt: the asker asks on its own, as with
		// plymouthd and no splash.
		c.Answer(control.ErrNoAnswer)
		return
	case d.mode == Deactivated:
		c.Answer(control.ErrNoAnswer)
		return
	case c.Asker != nil && c.Asker.Err() != nil:
		c.Answer(control.ErrCancelled)
		return
	}
	if !d.openInput() {
		c.Answer(control.ErrNoAnswer)
		return
	}
	qu := &question{c: c}
	if c.Asker != nil {
		qu.stop = context.AfterFunc(c.Asker, func() {
			select {
			case q.gone <- qu:
			case <-q.done:
			}
		})
	}
	if entry {
		qu.retry = c.Kind == control.AskPassword && c.Client != nil && c.Client == q.lastClient
		q.entries = append(q.entries, qu)
		d.syncPrompt()
	} else {
		q.watches = append(q.watches, qu)
	}
}

// ignoreKeystroke ends the first watch for exactly keys.
func (d *Daemon) ignoreKeystroke(keys string) {
	q := &d.q
	for i, w := range q.watches {
		if w.c.Keys == keys {
			q.watches = append(q.watches[:i:i], q.watches[i+1:]...)
			d.finish(w, nil, control.ErrNoAnswer)
			break
		}
	}
	d.closeInputIfIdle()
}

// openInput starts reading keys if it is not already.
func (d *Daemon) openInput() bool {
	q := &d.q
	if q.open {
		return true
	}
	keys, err := d.cfg.Input.Open()
	if err != nil {
		d.log.Error("splash: keyboard", "err", err)
		return false
	}
	q.keys, q.open = keys, true
	return true
}

// syncEscapeWatch watches for Escape, without taking any key, while the
// splash shows and no question reads the keyboard, so that Escape
// toggles the details view at any time, as in Plymouth.
func (d *Daemon) syncEscapeWatch() {
	q := &d.q
	w, ok := d.cfg.Input.(input.EscapeWatcher)
	if !ok || q.noWatch {
		return
	}
	want := d.mode == Showing && !q.open
	switch {
	case want && !q.watching:
		ch, err := w.WatchEscape()
		if err != nil {
			d.log.Debug("splash: no Escape outside questions", "err", err)
			q.noWatch = true
			return
		}
		q.escape, q.watching = ch, true
	case !want && q.watching:
		if err := w.StopWatching(); err != nil {
			d.log.Error("splash: keyboard", "err", err)
		}
		q.escape, q.watching = nil, false
	}
}

// escapeKey takes what the Escape watch sent.
func (d *Daemon) escapeKey(ev input.Event, ok bool) {
	if !ok {
		d.q.escape = nil // the watch ended by itself
		return
	}
	if d.mode != Showing || d.q.open {
		return
	}
	switch {
	case ev.Kind == input.Escape:
		d.toggleDetails()
	case ev.Kind.Scrolls():
		d.scrollDetails(ev.Kind)
	}
}

// closeInputIfIdle stops reading keys once nothing waits for them.
func (d *Daemon) closeInputIfIdle() {
	q := &d.q
	if !q.open || len(q.entries) > 0 || len(q.watches) > 0 {
		return
	}
	if err := d.cfg.Input.Close(); err != nil {
		d.log.Error("splash: keyboard", "err", err)
	}
	q.keys, q.open = nil, false
}

// finish answers w with answer (copied) or err.
func (d *Daemon) finish(w *question, answer []byte, err error) {
	if w.stop != nil {
		w.stop()
	}
	if err == nil && w.c.Result != nil {
		w.c.Result.Answer = append(make([]byte, 0, len(answer)), answer...)
	}
	d.log.Debug("splash: question answered", "cmd", w.c.String(), "err", err)
	w.c.Answer(err)
}

// answerEntry answers the first entry with what was typed, or err.
func (d *Daemon) answerEntry(err error) {
	q := &d.q
	first := q.entries[0]
	q.entries = q.entries[1:]
	if err == nil && first.c.Kind == control.AskPassword {
		q.cached = append(q.cached, append([]byte(nil), q.typed.Bytes()...))
		q.lastClient = first.c.Client
	}
	d.finish(first, q.typed.Bytes(), err)
	q.typed.Clear()
	d.syncPrompt()
	d.closeInputIfIdle()
}

// dropAll answers every open question with err and stops reading keys.
func (d *Daemon) dropAll(err error, entriesOnly bool) {
	q := &d.q
	for len(q.entries) > 0 {
		d.answerEntry(err)
	}
	if !entriesOnly {
		ws := q.watches
		q.watches = nil
		for _, w := range ws {
			d.finish(w, nil, err)
		}
	}
	d.closeInputIfIdle()
}

// hungUp drops a question whose asker left.
func (d *Daemon) hungUp(w *question) {
	q := &d.q
	for i, e := range q.entries {
		if e == w {
			if i == 0 {
				d.answerEntry(control.ErrCancelled)
				return
			}
			q.entries = append(q.entries[:i:i], q.entries[i+1:]...)
			d.finish(w, nil, control.ErrCancelled)
			return
		}
	}
	for i, e := range q.watches {
		if e == w {
			q.watches = append(q.watches[:i:i], q.watches[i+1:]...)
			d.finish(w, nil, control.ErrCancelled)
			d.closeInputIfIdle()
			return
		}
	}
}

// key applies one key press: to the first entry if there is one, else
// to the first keystroke watch that wants it.
func (d *Daemon) key(ev input.Event) {
	q := &d.q
	if ev.Known && ev.CapsLock != q.caps {
		q.caps = ev.CapsLock
		d.syncPrompt()
	}
	if ev.Kind == input.Escape {
		d.toggleDetails()
		return
	}
	if ev.Kind.Scrolls() {
		d.scrollDetails(ev.Kind)
		return
	}
	if len(q.entries) > 0 {
		switch ev.Kind {
		case input.Text:
			if q.typed.Append(ev.Bytes()) {
				d.syncPrompt()
			}
		case input.Backspace:
			q.typed.Backspace()
			d.syncPrompt()
		case input.Enter:
			d.answerEntry(nil)
		case input.Interrupt:
			d.answerEntry(control.ErrCancelled)
		}
		clear(ev.Text[:])
		return
	}
	var k []byte
	switch ev.Kind {
	case input.Text:
		k = ev.Bytes()
	case input.Enter:
		k = []byte{'\n'}
	default:
		return
	}
	for i, w := range q.watches {
		if w.c.Keys == "" || containsBytes(w.c.Keys, k) {
			q.watches = append(q.watches[:i:i], q.watches[i+1:]...)
			d.finish(w, k, nil)
			break
		}
	}
	d.closeInputIfIdle()
}

func containsBytes(s string, b []byte) bool {
	for i := 0; i+len(b) <= len(s); i++ {
		if s[i:i+len(b)] == string(b) {
			return true
		}
	}
	return false
}

// syncPrompt puts the first entry in the State for the renderer, and
// keeps core dumps off while a password is asked or cached.
func (d *Daemon) syncPrompt() {
	q := &d.q
	held := len(q.cached) > 0
	for _, e := range q.entries {
		held = held || e.c.Kind == control.AskPassword
	}
	switch {
	case held && q.dumps == nil:
		q.dumps = input.NoDumps()
	case !held && q.dumps != nil:
		q.dumps()
		q.dumps = nil
	}
	var p Prompt
	if len(q.entries) > 0 {
		first := q.entries[0]
		p = Prompt{
			Active:   true,
			Text:     first.c.Text,
			Password: first.c.Kind == control.AskPassword,
			Retry:    first.retry,
			CapsLock: q.caps,
		}
		if p.Password {
			p.Bullets = utf8.RuneCount(q.typed.Bytes())
		} else {
			p.Entry = string(q.typed.Bytes())
		}
	}
	if p != d.state.Prompt {
		d.setState(func(s *State) { s.Prompt = p })
	}
}

// addDetail adds a line to the details view.
func (d *Daemon) addDetail(line string) {
	if line == "" {
		return
	}
	d.details = append(d.details, line)
	d.writeBootLog(line)
	if d.detailsBelow > 0 {
		d.detailsBelow++ // scrolled up: the view holds its place
	}
	if len(d.details) > maxDetailLines {
		d.details = append(d.details[:0:0], d.details[len(d.details)-maxDetailLines:]...)
		d.detailsBelow = min(d.detailsBelow, len(d.details)-1)
	}
	d.syncDetails()
}

// toggleDetails switches between the splash and the details view, which
// opens at its newest line.
func (d *Daemon) toggleDetails() {
	d.showDetails = !d.showDetails
	d.detailsBelow = 0
	d.syncDetails()
}

// syncDetails puts the details view, as scrolled, in the State.
func (d *Daemon) syncDetails() {
	var v *Details
	if d.showDetails {
		v = &Details{Lines: slices.Clone(d.details), Below: d.detailsBelow}
	}
	d.setState(func(s *State) { s.Details = v })
}

// DetailsPager is a Screen that says how many rows of the details view
// it shows (the least over its outputs): what Page Up and Page Down
// move the view by.
type DetailsPager interface {
	DetailsRows() int
}

// defaultDetailsPage is the page of a Screen that is no DetailsPager.
const defaultDetailsPage = 20

// scrollDetails moves the details view by a line (Up, Down), a page
// (PageUp, PageDown) or to an end (Home, End), no further than the
// oldest line at the top and the newest at the bottom.
func (d *Daemon) scrollDetails(k input.Kind) {
	if !d.showDetails {
		return
	}
	page := defaultDetailsPage
	if p, ok := d.cfg.Screen.(DetailsPager); ok {
		page = max(1, p.DetailsRows())
	}
	// A page of the oldest lines is the top; the indicator row below
	// them leaves one fewer.
	top := max(0, len(d.details)-max(1, page-1))
	b := d.detailsBelow
	switch k {
	case input.Up:
		b++
	case input.Down:
		b--
	case input.PageUp:
		b += max(1, page-1)
	case input.PageDown:
		b -= max(1, page-1)
	case input.Home:
		b = top
	case input.End:
		b = 0
	}
	b = min(max(b, 0), top)
	if b != d.detailsBelow {
		d.detailsBelow = b
		d.syncDetails()
	}
}

// openBootLog starts the boot log with the lines so far. Only a regular
// file (or none, created 0640) is written: not through a symbolic link,
// not into a FIFO or a device.
func (d *Daemon) openBootLog() {
	if d.cfg.BootLog == "" || d.bootLog != nil {
		return
	}
	f, err := os.OpenFile(d.cfg.BootLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o640)
	if err != nil {
		d.log.Warn("splash: boot log", "err", err)
		return
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		d.log.Warn("splash: boot log: not a regular file; not written", "path", d.cfg.BootLog)
		return
	}
	d.bootLog = f
	for _, l := range d.details {
		d.writeBootLog(l)
	}
}

// writeBootLog appends a line to the boot log if it is open.
func (d *Daemon) writeBootLog(line string) {
	if d.bootLog == nil {
		return
	}
	if _, err := d.bootLog.WriteString(line + "\n"); err != nil {
		d.log.Warn("splash: boot log: stopped writing", "err", err)
		d.bootLog.Close()
		d.bootLog = nil
	}
}
