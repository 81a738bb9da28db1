package input

import "unicode/utf8"

// ttyDecoder turns the bytes a VT's tty hands over in non-canonical mode
// into Events. The tty has already applied the keymap: letters come as
// UTF-8, Enter as "\r", Backspace as DEL, Ctrl+C as ETX, and keys
// without a character as escape sequences, which are dropped.
type ttyDecoder struct {
	rune [utf8.UTFMax]byte // a character cut between two reads
	n    int
	esc  escState
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
				d.esc = escCSI
				continue
			case 'O':
				d.esc = escSS3
				continue
			}
			d.esc = escNone
			emit(Event{Kind: Escape})
		case escCSI:
			if c == '[' {
				d.esc = escCSI2
			} else if c >= 0x40 && c <= 0x7e {
				d.esc = escNone
			}
			continue
		case escCSI2, escSS3:
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

// flush ends a read: an ESC last in it was the Escape key itself, not
// the start of a sequence (the console writes a sequence in one go).
func (d *ttyDecoder) flush(emit func(Event)) {
	if d.esc == escStart {
		d.esc = escNone
		emit(Event{Kind: Escape})
	}
}
