package input

import "unicode/utf8"

// ttyDecoder turns the bytes a VT's tty hands over in non-canonical mode
// into Events. The tty has already applied the keymap: letters come as
// UTF-8, Enter as "\r", Backspace as DEL, Ctrl+C as ETX, and keys
// without a character as escape sequences: the arrows, Page Up and Down,
// Home and End (as the Linux console and xterm send them) become their
// Kinds, the others are dropped.
type ttyDecoder struct {
	rune [utf8.UTFMax]byte // a character cut between two reads
	n    int
	esc  escState
	// param is a CSI sequence's first number; more says a ';' ended it.
	param int
	more  bool
}

type escState int

const (
	escNone  escState = iota
	escStart          // after ESC
	escCSI            // after ESC [: parameters until a final byte
	escCSI2           // after ESC [ [: one more byte (the console's F1-F5)
	escSS3            // after ESC O: one more byte
)

// feed decodes b, calling emit for each Event. A character or escape
// sequence cut between two reads is finished by the next feed.
func (d *ttyDecoder) feed(b []byte, emit func(Event)) {
	for _, c := range b {
		switch d.esc {
		case escStart:
			switch c {
			case '[':
				d.esc, d.param, d.more = escCSI, 0, false
				continue
			case 'O':
				d.esc = escSS3
				continue
			}
			d.esc = escNone
			emit(Event{Kind: Escape})
		case escCSI:
			switch {
			case c == '[' && d.param == 0 && !d.more:
				d.esc = escCSI2
			case c >= '0' && c <= '9' && !d.more:
				d.param = min(d.param*10+int(c-'0'), 1000)
			case c == ';':
				d.more = true // a modifier follows: the key is the same
			case c >= 0x40 && c <= 0x7e:
				d.esc = escNone
				if k, ok := csiKey(c, d.param); ok {
					emit(Event{Kind: k})
				}
			}
			continue
		case escSS3:
			d.esc = escNone
			if k, ok := csiKey(c, 0); ok {
				emit(Event{Kind: k})
			}
			continue
		case escCSI2:
			d.esc = escNone
			continue
		}
		if d.n > 0 || c >= 0x80 {
			d.rune[d.n] = c
			d.n++
			if !utf8.FullRune(d.rune[:d.n]) {
				continue
			}
			r, size := utf8.DecodeRune(d.rune[:d.n])
			if r != utf8.RuneError || size > 1 {
				var ev Event
				ev.Len = copy(ev.Text[:], d.rune[:size])
				emit(ev)
			}
			clear(d.rune[:])
			d.n = 0
			continue
		}
		switch {
		case c == '\r' || c == '\n':
			emit(Event{Kind: Enter})
		case c == 0x7f || c == 0x08:
			emit(Event{Kind: Backspace})
		case c == 0x03 || c == 0x04:
			emit(Event{Kind: Interrupt})
		case c == 0x1b:
			d.esc = escStart
		case c < 0x20:
			// Other control characters mean nothing to a prompt.
		default:
			emit(Event{Kind: Text, Text: [4]byte{c}, Len: 1})
		}
	}
}

// csiKey names the key of a CSI (or SS3) sequence ending in final with
// first number param: ESC [ A and ESC O A are Up, ESC [ 5 ~ is Page Up,
// ESC [ 1 ~ (the console's), ESC [ 7 ~ (rxvt's), ESC [ H and ESC O H
// (xterm's) are Home.
func csiKey(final byte, param int) (Kind, bool) {
	switch final {
	case 'A':
		return Up, true
	case 'B':
		return Down, true
	case 'H':
		return Home, true
	case 'F':
		return End, true
	case '~':
		switch param {
		case 1, 7:
			return Home, true
		case 4, 8:
			return End, true
		case 5:
			return PageUp, true
		case 6:
			return PageDown, true
		}
	}
	return 0, false
}

// flush ends a read: an ESC last in it was the Escape key itself, not
// the start of a sequence (the console writes a sequence in one go).
func (d *ttyDecoder) flush(emit func(Event)) {
	if d.esc == escStart {
		d.esc = escNone
		emit(Event{Kind: Escape})
	}
}
