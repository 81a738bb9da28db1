package plymouth

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
)

// typist is a daemon whose keyboard types the answers it is given, one
// per question, in order; a question without one waits until its asker
// goes and is answered ErrCancelled.
type typist struct {
	mu        sync.Mutex
	answers   []string
	cached    []string
	kinds     []control.Kind
	clients   []any
	cancelled chan control.Kind
}

func (ty *typist) run(ctx context.Context, commands <-chan control.Command) {
	for {
		select {
		case c := <-commands:
			ty.mu.Lock()
			ty.kinds = append(ty.kinds, c.Kind)
			ty.clients = append(ty.clients, c.Client)
			var err error
			switch c.Kind {
			case control.AskPassword, control.AskQuestion, control.WatchKeystroke:
				if len(ty.answers) == 0 {
					ty.mu.Unlock()
					go func() {
						<-c.Asker.Done()
						ty.cancelled <- c.Kind
						c.Answer(control.ErrCancelled)
					}()
					continue
				}
				a := ty.answers[0]
				ty.answers = ty.answers[1:]
				switch a {
				case "^C":
					err = control.ErrCancelled
				case "-":
					err = control.ErrNoAnswer
				default:
					c.Result.Answer = []byte(a)
					if c.Kind == control.AskPassword {
						ty.cached = append(ty.cached, a)
					}
				}
			case control.CachedPasswords:
				if len(ty.cached) == 0 {
					err = control.ErrNoAnswer
				}
				for _, a := range ty.cached {
					c.Result.Answers = append(c.Result.Answers, []byte(a))
				}
			}
			ty.mu.Unlock()
			c.Answer(err)
		case <-ctx.Done():
			return
		}
	}
}

func (ty *typist) take() ([]control.Kind, []any) {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	k, c := ty.kinds, ty.clients
	ty.kinds, ty.clients = nil, nil
	return k, c
}

func serveTypist(t *testing.T, opts Options, ty *typist) (*Server, func()) {
	t.Helper()
	s, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	commands := make(chan control.Command)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, commands) }()
	dctx, dcancel := context.WithCancel(context.Background())
	ddone := make(chan struct{})
	go func() { ty.run(dctx, commands); close(ddone) }()
	return s, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		dcancel()
		<-ddone
		s.Close()
	}
}

func answerReplyOf(a string) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte{answerReply}, uint32(len(a))), a...)
}

// TestServerQuestionReplies checks the bytes of each answer plymouthd
// sends: ANSWER with a little-endian size, MULTIPLE_ANSWERS with
// NUL-terminated answers, NO_ANSWER, and "\x03" for a cancelled question.
func TestServerQuestionReplies(t *testing.T) {
	ty := &typist{answers: []string{"correct horse", "yes", "y", "^C", "-"}, cancelled: make(chan control.Kind, 1)}
	s, stop := serveTypist(t, Options{Name: testName(t)}, ty)
	defer stop()
	c := dialRaw(t, s.Name())
	defer c.Close()
	for _, tc := range []struct {
		send string
		want []byte
	}{
		{"c\x00", []byte{noAnswer}},
		{withArg('*', "Passphrase"), answerReplyOf("correct horse")},
		{withArg('W', "Continue?"), answerReplyOf("yes")},
		{withArg('K', "yn"), answerReplyOf("y")},
		{withArg('*', "Passphrase"), answerReplyOf("\x03")},
		{withArg('*', "Passphrase"), []byte{noAnswer}},
		{"c\x00", append(binary.LittleEndian.AppendUint32([]byte{multipleAnswers}, 14), "correct horse\x00"...)},
	} {
		if _, err := io.WriteString(c, tc.send); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(tc.want))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("reply to %q: %v", tc.send, err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("reply to %q: %q, want %q", tc.send, got, tc.want)
		}
	}
	kinds, clients := ty.take()
	want := []control.Kind{control.CachedPasswords, control.AskPassword, control.AskQuestion, control.WatchKeystroke, control.AskPassword, control.AskPassword, control.CachedPasswords}
	if !slices.Equal(kinds, want) {
		t.Errorf("the daemon got %v, want %v", kinds, want)
	}
	for _, cl := range clients {
		if cl == nil || cl != clients[0] {
			t.Errorf("questions from one connection name clients %v, want one and the same", clients)
			break
		}
	}
}

// TestServerQuestionCancelledOnHangup: a client that asks and goes away
// has its question dropped, and the server goes on serving.
func TestServerQuestionCancelledOnHangup(t *testing.T) {
	ty := &typist{cancelled: make(chan control.Kind, 1)}
	s, stop := serveTypist(t, Options{Name: testName(t)}, ty)
	defer stop()
	c := dialRaw(t, s.Name())
	io.WriteString(c, withArg('*', "Passphrase"))
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case k := <-ty.cancelled:
		if k != control.AskPassword {
			t.Errorf("cancelled %v, want ask-password", k)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the question of a client that hung up was not cancelled")
	}
	c = dialRaw(t, s.Name())
	defer c.Close()
	io.WriteString(c, "P\x00")
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != ack {
		t.Errorf("ping after a hang-up: %#x, %v", b[0], err)
	}
}

// TestPlymouthClientQuestions: Debian's plymouth client gets the typed
// answers, and with --command retries a wrong passphrase.
func TestPlymouthClientQuestions(t *testing.T) {
	bin := plymouthClient(t)
	ty := &typist{answers: []string{"hunter2 with spaces", "yes", "n", "wrong", "right"}, cancelled: make(chan control.Kind, 1)}
	_, stop := serveTypist(t, Options{}, ty)
	defer stop()
	run := func(args ...string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if ctx.Err() != nil {
			k, _ := ty.take()
			t.Fatalf("plymouth %s: timed out; the daemon got %v; output %s %s", strings.Join(args, " "), k, out.String(), errb.String())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String() + errb.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	if code, out := run("ask-for-password", "--prompt", "Passphrase"); code != 0 || out != "hunter2 with spaces" {
		t.Errorf("ask-for-password: %d %q, want 0 and the typed passphrase", code, out)
	}
	if code, out := run("ask-question", "--prompt", "Continue?"); code != 0 || out != "yes" {
		t.Errorf("ask-question: %d %q, want 0 \"yes\"", code, out)
	}
	if code, out := run("watch-keystroke", "--keys=yn"); code != 0 || out != "n" {
		t.Errorf("watch-keystroke: %d %q, want 0 \"n\"", code, out)
	}
	kinds, _ := ty.take()
	if want := []control.Kind{control.PauseProgress, control.AskPassword, control.UnpauseProgress, control.PauseProgress, control.AskQuestion, control.UnpauseProgress, control.WatchKeystroke}; !slices.Equal(kinds, want) {
		t.Errorf("the daemon got %v, want %v", kinds, want)
	}
	// --command: the cached "hunter2 with spaces" fails, "wrong" fails,
	// "right" unlocks.
	// The client splits --command at spaces, without quotes: a script.
	dir := t.TempDir()
	got, script := filepath.Join(dir, "got"), filepath.Join(dir, "unlock")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat >> "+got+"\necho >> "+got+"\ntail -n1 "+got+" | grep -qx right\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out := run("ask-for-password", "--prompt", "Passphrase", "--number-of-tries=3", "--command="+script)
	if code != 0 {
		t.Errorf("ask-for-password --command: exit %d, want 0; %s", code, out)
	}
	b, _ := os.ReadFile(got)
	if string(b) != "hunter2 with spaces\nwrong\nright\n" {
		t.Errorf("the command was given %q, want the cached passphrase, then the two typed", b)
	}
	kinds, clients := ty.take()
	if want := []control.Kind{control.PauseProgress, control.CachedPasswords, control.AskPassword, control.AskPassword, control.UnpauseProgress}; !slices.Equal(kinds, want) {
		t.Errorf("the daemon got %v, want %v", kinds, want)
	}
	if len(clients) == 5 && clients[2] != clients[3] {
		t.Errorf("the retry came from another connection")
	}
}
