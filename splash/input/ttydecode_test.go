package input

import (
	"strings"
	"testing"
)

// TestTTYDecoderScrollKeys: the sequences the Linux console and xterm
// send for the arrows, Page Up and Down, Home and End become their
// Kinds, whole or cut between reads; other sequences (F1, Insert,
// Delete, Left) still mean nothing.
func TestTTYDecoderScrollKeys(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\x1b[A\x1b[B\x1b[5~\x1b[6~\x1b[1~\x1b[4~", "up down page-up page-down home end"},
		{"\x1bOA\x1bOB\x1bOH\x1bOF\x1b[H\x1b[F", "up down home end home end"},
		{"\x1b[7~\x1b[8~\x1b[1;5A\x1b[5;2~", "home end up page-up"},
		{"a\x1b[[A\x1b[2~\x1b[3~\x1b[D\x1bOPb\x1b[15~", "a b"},
	} {
		var d ttyDecoder
		var got []string
		emit := func(ev Event) {
			if ev.Kind == Text {
				got = append(got, string(ev.Bytes()))
				return
			}
			got = append(got, ev.Kind.String())
		}
		for _, b := range []byte(tc.in) {
			d.feed([]byte{b}, emit) // byte by byte: every cut
		}
		d.flush(emit)
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, s, tc.want)
		}
	}
}
