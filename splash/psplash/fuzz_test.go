package psplash

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bootsplash/bootsplash/splash/control"
)

// FuzzParseCommand feeds arbitrary commands to the psplash parser: what it
// accepts is a command the daemon can show as it is (a progress from 0 to
// 1, a message of valid UTF-8).
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"QUIT", "QUIT now", "PROGRESS 40", "PROGRESS  7 ", "PROGRESS -5", "PROGRESS 250",
		"PROGRESS 99999999999999999999", "PROGRESS", "PROGRESS x", "MSG hello world",
		"MSG", "MSG ", "MSG \xff\xfe", "msg lower", "", " ", "PROGRESS +3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseCommand(line)
		if c.Source != "psplash" {
			t.Errorf("ParseCommand(%q).Source = %q", line, c.Source)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseCommand(%q): empty error", line)
			}
			return
		}
		_ = c.String()
		switch c.Kind {
		case control.Quit:
			if c.Retain {
				t.Fatalf("ParseCommand(%q) retains", line)
			}
		case control.Progress:
			if !(c.Value >= 0 && c.Value <= 1) {
				t.Fatalf("ParseCommand(%q).Value = %v, not a fraction", line, c.Value)
			}
			// The value is the number given, clamped to 0..100.
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "PROGRESS ")))
			if err != nil || c.Value != float64(min(max(n, 0), 100))/100 {
				t.Fatalf("ParseCommand(%q).Value = %v (Atoi: %d, %v)", line, c.Value, n, err)
			}
		case control.Message:
			if c.Text == "" || !utf8.ValidString(c.Text) {
				t.Fatalf("ParseCommand(%q).Text = %q: empty or invalid UTF-8", line, c.Text)
			}
			if utf8.ValidString(line) && "MSG "+c.Text != line {
				t.Fatalf("ParseCommand(%q).Text = %q, changed valid text", line, c.Text)
			}
		default:
			t.Fatalf("ParseCommand(%q) = %v, not a psplash command", line, c)
		}
	})
}

// splitModel is the FIFO framing as psplash defines it, written the plain
// way: commands end at NUL or newline, empty ones are skipped, overlong
// ones dropped (and their sizes reported); the bytes after the last
// terminator are still pending.
func splitModel(data []byte) (cmds []string, dropped []int) {
	var cur []byte
	for _, b := range data {
		if b != 0 && b != '\n' {
			cur = append(cur, b)
			continue
		}
		switch {
		case len(cur) > MaxCommand:
			dropped = append(dropped, len(cur))
		case len(cur) > 0:
			cmds = append(cmds, string(cur))
		}
		cur = nil
	}
	return cmds, dropped
}

// FuzzReader feeds the FIFO reader a byte stream cut into pieces as the
// cuts say (each byte the length of the next piece), as reads from a FIFO
// cut it anywhere. The commands and dropped sizes must not depend on the
// cuts and must match psplash's framing; no command holds a terminator or
// is over MaxCommand, and the reader never holds more than MaxCommand
// bytes.
func FuzzReader(f *testing.F) {
	long := strings.Repeat("y", MaxCommand)
	for _, s := range []struct {
		data string
		cuts []byte
	}{
		{"PROGRESS 10\x00MSG hello\n", nil},
		{"PROGRESS 1" + "0\x00MSG hello world\n\x00\x00\nQUIT\x00MSG a" + "b\x00", []byte{10, 20, 1, 2}},
		{"\x00\n\n\x00", []byte{1}},
		{"MSG no terminator", []byte{3}},
		{"MSG " + long[:MaxCommand-4] + "\x00QUIT\x00", []byte{255, 7}},
		{"MSG " + long + "\x00QUIT\x00", []byte{200, 255, 1}},
		{long + "z\n" + long + "\x00", nil},
		{"\r\nQUIT\r\n", nil},
	} {
		f.Add([]byte(s.data), s.cuts)
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		want, wantDropped := splitModel(data)
		var whole Reader
		if got := whole.Feed(data); !sameStrings(got, want) {
			t.Fatalf("one piece: commands %q, want %q", got, want)
		}
		if got := whole.TakeDropped(); !reflect.DeepEqual(got, wantDropped) {
			t.Fatalf("one piece: dropped %v, want %v", got, wantDropped)
		}
		var r Reader
		var got []string
		var dropped []int
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(max(int(cuts[i%len(cuts)]), 1), len(rest))
			}
			cmds := r.Feed(rest[:n])
			for _, c := range cmds {
				if c == "" || len(c) > MaxCommand || strings.ContainsAny(c, "\x00\n") {
					t.Fatalf("command %q: empty, over %d bytes or holding a terminator", c, MaxCommand)
				}
			}
			got = append(got, cmds...)
			dropped = append(dropped, r.TakeDropped()...)
			if len(r.pending) > MaxCommand {
				t.Fatalf("the reader holds %d bytes, more than %d", len(r.pending), MaxCommand)
			}
			rest = rest[n:]
		}
		if !sameStrings(got, want) {
			t.Fatalf("cut by %v: commands %q, want %q", cuts, got, want)
		}
		if !reflect.DeepEqual(dropped, wantDropped) {
			t.Fatalf("cut by %v: dropped %v, want %v", cuts, dropped, wantDropped)
		}
	})
}

func sameStrings(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}
