package plymouth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/internal/ratelog"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// encodeRequest writes req as the plymouth client does.
func encodeRequest(req Request) []byte {
	if !req.HasArgument {
		return []byte{req.Type, 0}
	}
	return append([]byte{req.Type, argumentMarker, byte(len(req.Argument) + 1)}, req.Argument+"\x00"...)
}

// FuzzReadRequest reads a client's byte stream request by request, as the
// server does. Each request read must be exactly the bytes it took from
// the stream, re-encoded, and at most maxRequest of them; the stream ends
// cleanly (io.EOF) only between requests, and a malformed request is a
// RequestError. Every request read is then answered by a server with a
// daemon that accepts or refuses everything: the reply is one of the
// protocol's bytes and the commands it makes are ones the daemon can use.
func FuzzReadRequest(f *testing.F) {
	long := strings.Repeat("x", 254)
	for _, s := range []string{
		"P\x00", "M\x02\x06Hello\x00U\x02\x04fsck\x00", "Q\x02\x01\x00", "Q\x02\x02\x01\x00",
		"u\x02\x0340\x00u\x02\x04-10\x00u\x02\x04+99\x00", "M\x02\xff" + long + "\x00",
		"", "P", "PX", "M\x02", "M\x02\x00", "M\x02\x09Hel", "M\x02\x05Hello",
		"M\x02\xff" + strings.Repeat("y", 300), "m\x02\x03\xff\xfe\x00$\x00H\x00V\x00D\x00r\x00",
		"*\x00c\x00W\x02\x02?\x00K\x02\x02y\x00C\x00S\x00L\x00A\x00a\x00R\x00!\x00z\x00",
		"M\x02\x04a\x00b\x00",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("P\x00Q\x00"), true)
	f.Fuzz(func(t *testing.T, data []byte, refuse bool) {
		cr := &countingReader{r: bytes.NewReader(data)}
		r := bufio.NewReaderSize(cr, maxRequest)
		var reqs []Request
		consumed := 0
		for {
			req, err := ReadRequest(r)
			at := cr.n - r.Buffered()
			if err != nil {
				var re *RequestError
				switch {
				case errors.Is(err, io.EOF):
					if consumed != len(data) || at != len(data) {
						t.Fatalf("io.EOF after %d of %d bytes, with %d read", consumed, len(data), at)
					}
				case errors.As(err, &re):
					if re.What == "" {
						t.Fatal("RequestError without a reason")
					}
				default:
					t.Fatalf("ReadRequest: %v, neither io.EOF nor a RequestError", err)
				}
				break
			}
			if at-consumed > maxRequest {
				t.Fatalf("request %+v took %d bytes, more than %d", req, at-consumed, maxRequest)
			}
			if enc := encodeRequest(req); !bytes.Equal(enc, data[consumed:at]) {
				t.Fatalf("request %+v read from %q, re-encodes as %q", req, data[consumed:at], enc)
			}
			consumed = at
			reqs = append(reqs, req)
		}
		answerAll(t, reqs, refuse)
	})
}

// answerAll answers reqs as a server whose daemon accepts everything, or
// refuses everything, and checks the replies and the commands.
func answerAll(t *testing.T, reqs []Request, refuse bool) {
	t.Helper()
	if len(reqs) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	commands := make(chan control.Command)
	got := make(chan []control.Command)
	go func() {
		var cmds []control.Command
		defer func() { got <- cmds }()
		for {
			select {
			case c := <-commands:
				cmds = append(cmds, c)
				if refuse {
					c.Answer(control.ErrQuitting)
				} else {
					c.Answer(nil)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	s := &Server{log: slog.New(slog.DiscardHandler)}
	for _, req := range reqs {
		reply := s.answer(ctx, s.log, ratelog.New(s.log, 0), nil, req, commands)
		switch reply {
		case ack, nak, noAnswer:
		default:
			t.Fatalf("answer(%+v) = %#x, not ACK, NAK or no-answer", req, reply)
		}
		if refuse && reply == ack && strings.IndexByte("CSLAaR!", req.Type) < 0 {
			t.Fatalf("answer(%+v) = ACK from a daemon that refused it", req)
		}
	}
	cancel()
	for _, c := range <-got {
		if c.Source != "plymouth" || !utf8.ValidString(c.Text) {
			t.Fatalf("command %+v: source not plymouth or text not UTF-8", c)
		}
		if c.Kind == control.SystemUpdate && !(c.Value >= 0 && c.Value <= 1) {
			t.Fatalf("command %+v: progress out of 0..1", c)
		}
	}
}
