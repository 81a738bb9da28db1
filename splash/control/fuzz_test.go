package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseRequest feeds arbitrary request lines to the native protocol's
// parser. A line it accepts must format back to a line that parses to the
// same command, and formatting must be stable from then on; a line it
// refuses must be refused with a reply that fits the protocol's one line.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"ping", "progress 40", "progress 12.5%", "progress 100", "progress 0",
		"progress -0", "progress 100.000001", "progress NaN", "progress 0x1p-2",
		"progress 1e-9", "system-update 99.999999", "message Checking disks",
		"message ", "message", "message caf\u00e9 \u2603", "message \xff\xfe",
		"message a\x00b", "hide-message", "hide-message x", "status fsck 3/7",
		"show", "hide", "deactivate", "reactivate", "has-active-vt", "quit",
		"quit retain", "quit now", "", " ", "PING", "ping ", "progress",
		"message " + strings.Repeat("x", MaxText), "message " + strings.Repeat("x", MaxText+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseRequest(line)
		if c.Source != "native" {
			t.Errorf("ParseRequest(%q).Source = %q, want native", line, c.Source)
		}
		_ = c.String()
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseRequest(%q): empty error", line)
			}
			r := replyLine(err)
			if len(r) > MaxLine || !strings.HasPrefix(r, "err ") || strings.IndexByte(r, '\n') != len(r)-1 || strings.IndexByte(r, 0) >= 0 {
				t.Fatalf("reply to %q is not one protocol line: %q", line, r)
			}
			return
		}
		if c.Kind < 0 || int(c.Kind) >= len(kindNames) {
			t.Fatalf("ParseRequest(%q) accepted an unknown kind %v", line, c.Kind)
		}
		switch c.Kind {
		case Progress, SystemUpdate:
			if !(c.Value >= 0 && c.Value <= 1) {
				t.Fatalf("ParseRequest(%q).Value = %v, not a fraction", line, c.Value)
			}
		case Message, Status:
			if !utf8.ValidString(c.Text) || strings.IndexByte(c.Text, 0) >= 0 {
				t.Fatalf("ParseRequest(%q).Text = %q: invalid UTF-8 or NUL", line, c.Text)
			}
		}
		out, err := FormatRequest(c)
		if err != nil {
			// Only text the line format cannot carry may be refused: a
			// newline (never inside a line read from the socket) or text
			// longer than MaxText (a line can be longer than a formatted
			// one by the verb's length).
			if strings.IndexByte(c.Text, '\n') < 0 && len(c.Text) <= MaxText {
				t.Fatalf("FormatRequest(ParseRequest(%q)): %v", line, err)
			}
			return
		}
		checkRoundTrip(t, c, out)
	})
}

// FuzzFormatRequest formats arbitrary commands: what FormatRequest writes
// must be one line that ParseRequest reads back as the same command.
func FuzzFormatRequest(f *testing.F) {
	f.Add(int(Progress), 0.4, "", false)
	f.Add(int(Progress), 1.0, "", false)
	f.Add(int(SystemUpdate), 0.123456789, "", false)
	f.Add(int(Progress), math.NaN(), "", false)
	f.Add(int(Progress), -0.0, "", false)
	f.Add(int(Progress), 5e-324, "", false)
	f.Add(int(Message), 0.0, "Checking disks", false)
	f.Add(int(Status), 0.0, "a\nb", false)
	f.Add(int(Message), 0.0, "\xff", false)
	f.Add(int(Quit), 0.0, "", true)
	f.Add(int(HasActiveVT), 0.0, "", false)
	f.Add(int(AskPassword), 0.0, "Passphrase for root:", false)
	f.Add(int(AskQuestion), 0.0, " Continue? ", false)
	f.Add(-1, 0.0, "", false)
	f.Add(len(kindNames), 0.0, "", false)
	f.Fuzz(func(t *testing.T, kind int, value float64, text string, retain bool) {
		c := Command{Kind: Kind(kind), Value: value, Text: text, Retain: retain}
		_ = c.String()
		out, err := FormatRequest(c)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("FormatRequest(%+v): empty error", c)
			}
			return
		}
		if len(out)+1 > MaxLine {
			t.Fatalf("FormatRequest(%+v) is %d bytes, more than a line's %d", c, len(out)+1, MaxLine)
		}
		if strings.ContainsAny(out, "\n\x00") {
			t.Fatalf("FormatRequest(%+v) = %q: not one line", c, out)
		}
		// Fields a kind does not carry are not expected back.
		switch c.Kind {
		case Progress, SystemUpdate:
			c.Text, c.Retain = "", false
		case Message, Status, AskPassword, AskQuestion:
			c.Value, c.Retain = 0, false
		case Quit:
			c.Value, c.Text = 0, ""
		default:
			c.Value, c.Text, c.Retain = 0, "", false
		}
		checkRoundTrip(t, c, out)
	})
}

// checkRoundTrip checks that out, the formatted c, parses back to c and
// formats again to exactly out.
func checkRoundTrip(t *testing.T, c Command, out string) {
	t.Helper()
	back, err := ParseRequest(out)
	if err != nil {
		t.Fatalf("ParseRequest(FormatRequest(%+v) = %q): %v", c, out, err)
	}
	if back.Kind != c.Kind || back.Text != c.Text || back.Retain != c.Retain || math.Abs(back.Value-c.Value) > 1e-8 {
		t.Fatalf("%q parses to %+v, want %+v", out, back, c)
	}
	again, err := FormatRequest(back)
	if err != nil || again != out {
		t.Fatalf("FormatRequest(ParseRequest(%q)) = %q, %v: not stable", out, again, err)
	}
}

// FuzzReplyLine checks that any error, whatever its text, is answered with
// exactly one protocol line.
func FuzzReplyLine(f *testing.F) {
	for _, s := range []string{"", "the splash is quitting", "a\nb\r\x00c", strings.Repeat("\u00e9", MaxLine)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reason string) {
		r := replyLine(errors.New(reason))
		if len(r) > MaxLine || !strings.HasPrefix(r, "err ") || strings.IndexByte(r, '\n') != len(r)-1 ||
			strings.ContainsAny(r[:len(r)-1], "\r\x00") {
			t.Fatalf("replyLine(%q) = %q: not one protocol line", reason, r)
		}
		if ok := replyLine(nil); ok != "ok\n" {
			t.Fatalf("replyLine(nil) = %q", ok)
		}
	})
}

// expectedReplies is what the server answers to a client that sends data
// and then shuts its side down, with a daemon that grants every request:
// the greeting, then one reply per complete line; a line longer than
// MaxLine gets "err line too long" and ends the connection, and an
// unfinished last line gets nothing.
func expectedReplies(data []byte) string {
	out := fmt.Sprintf("%s %d\n", greeting, Version)
	for len(data) > 0 {
		i := bytes.IndexByte(data[:min(len(data), MaxLine)], '\n')
		if i < 0 {
			if len(data) >= MaxLine {
				out += fmt.Sprintf("err line too long (more than %d bytes)\n", MaxLine)
			}
			break
		}
		_, err := ParseRequest(strings.TrimSuffix(string(data[:i]), "\r"))
		out += replyLine(err)
		data = data[i+1:]
	}
	return out
}

// FuzzServer sends arbitrary bytes to a native control server over its
// socket. The server must frame them into lines as the protocol says,
// answer each line with exactly the reply its request deserves, refuse a
// line longer than MaxLine (its buffer) and hang up, and hand the daemon
// only requests that parse.
func FuzzServer(f *testing.F) {
	for _, s := range []string{
		"ping\n", "progress 40\r\nmessage hi\nquit retain\n", "bogus\n\n\nping", "ping",
		"message " + strings.Repeat("x", MaxLine-9) + "\nping\n", // exactly MaxLine with its '\n'
		"message " + strings.Repeat("x", MaxLine-8) + "\nping\n", // one byte too long
		strings.Repeat("y", MaxLine-1), strings.Repeat("y", 3*MaxLine), "\x00\xff\n\r\n",
	} {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "control")
	srv, err := Listen(path, ServerOptions{})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	commands := make(chan Command)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, commands) }()
	bad := make(chan Command, 1)
	go func() {
		for {
			select {
			case c := <-commands:
				if c.Source != "native" || c.Kind < 0 || int(c.Kind) >= len(kindNames) {
					select {
					case bad <- c:
					default:
					}
				}
				c.Answer(nil)
			case <-ctx.Done():
				return
			}
		}
	}()
	f.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.Errorf("Serve: %v", err)
		}
		srv.Close()
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			// The server may hang up before it has read everything.
			c.Write(data)
			c.CloseWrite()
		}()
		got, err := io.ReadAll(c)
		// A server that hangs up on a line too long leaves the rest
		// unread, and the kernel tells the client with a reset.
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("reading the replies: %v (got %q)", err, got)
		}
		if want := expectedReplies(data); string(got) != want {
			t.Fatalf("sent %q\ngot replies  %q\nwant replies %q", data, got, want)
		}
		select {
		case c := <-bad:
			t.Fatalf("the daemon was handed %+v", c)
		default:
		}
	})
}
