package splash

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/input"
)

// keyboard is an input.Source fed by the test, at the Event boundary the
// tty and evdev readers hand the daemon.
type keyboard struct {
	mu     sync.Mutex
	ch     chan input.Event
	opens  int
	closes int
}

func (k *keyboard) Open() (<-chan input.Event, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.opens++
	k.ch = make(chan input.Event, 64)
	return k.ch, nil
}

func (k *keyboard) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closes++
	k.ch = nil
	return nil
}

func (k *keyboard) isOpen() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ch != nil
}

// typeText types s, then Enter if enter.
func (k *keyboard) typeText(t *testing.T, s string, enter bool) {
	t.Helper()
	k.mu.Lock()
	ch := k.ch
	k.mu.Unlock()
	if ch == nil {
		t.Fatal("typing while the daemon does not read the keyboard")
	}
	for _, r := range s {
		var ev input.Event
		ev.Len = copy(ev.Text[:], string(r))
		ch <- ev
	}
	if enter {
		ch <- input.Event{Kind: input.Enter}
	}
}

func (k *keyboard) press(kind input.Kind) {
	k.mu.Lock()
	ch := k.ch
	k.mu.Unlock()
	ch <- input.Event{Kind: kind}
}

// lastShown is the last State the screen showed.
func lastShown(r *recordingScreen) State {
	_, shown := r.log()
	if len(shown) == 0 {
		return State{}
	}
	return shown[len(shown)-1]
}

type asked struct {
	res *control.Result
	err error
}

// askAsync sends a question as a front end would and returns where its
// answer comes.
func askAsync(d *Daemon, c control.Command) <-chan asked {
	out := make(chan asked, 1)
	go func() {
		res := &control.Result{}
		c.Result = res
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c.Asker == nil {
			c.Asker = ctx
		}
		err := control.Send(ctx, d.Commands(), c)
		out <- asked{res, err}
	}()
	return out
}

func answerOf(t *testing.T, ch <-chan asked) asked {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
		return asked{}
	}
}

func TestDaemonQuestionsInOrder(t *testing.T) {
	screen := &recordingScreen{}
	kb := &keyboard{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen, Input: kb})
	dumpable := input.Dumpable()
	defer func() {
		cancel()
		wait()
		if input.Dumpable() != dumpable {
			t.Errorf("dumpable %v after the daemon stopped, was %v", input.Dumpable(), dumpable)
		}
	}()

	if kb.isOpen() {
		t.Fatal("the keyboard is read with no question open")
	}
	first := askAsync(d, control.Command{Kind: control.AskPassword, Text: "Passphrase for disk1:", Client: 1})
	waitFor(t, "the first prompt", func() bool { return lastShown(screen).Prompt.Text == "Passphrase for disk1:" })
	second := askAsync(d, control.Command{Kind: control.AskQuestion, Text: "Continue?"})
	time.Sleep(20 * time.Millisecond)
	if !kb.isOpen() {
		t.Fatal("the keyboard is not read while a question is open")
	}
	kb.typeText(t, "sesame!", false)
	kb.press(input.Backspace)
	waitFor(t, "six bullets", func() bool { return lastShown(screen).Prompt.Bullets == 6 })
	kb.typeText(t, "€", true)
	a := answerOf(t, first)
	if a.err != nil || string(a.res.Answer) != "sesame€" {
		t.Fatalf("first answer %q, %v; want \"sesame€\"", a.res.Answer, a.err)
	}
	waitFor(t, "the second prompt", func() bool { return lastShown(screen).Prompt.Text == "Continue?" })
	kb.typeText(t, "yes", false)
	waitFor(t, "the typed answer", func() bool { return lastShown(screen).Prompt.Entry == "yes" })
	kb.typeText(t, "", true)
	if a := answerOf(t, second); a.err != nil || string(a.res.Answer) != "yes" {
		t.Fatalf("second answer %q, %v; want \"yes\"", a.res.Answer, a.err)
	}
	waitFor(t, "the prompt to go", func() bool { return !lastShown(screen).Prompt.Active })
	waitFor(t, "the keyboard to be let go", func() bool { return !kb.isOpen() })

	// The same client asking again is a retry.
	retry := askAsync(d, control.Command{Kind: control.AskPassword, Text: "Passphrase for disk1:", Client: 1})
	waitFor(t, "the retry prompt", func() bool { return lastShown(screen).Prompt.Retry })
	kb.press(input.Interrupt)
	if a := answerOf(t, retry); !errors.Is(a.err, control.ErrCancelled) {
		t.Errorf("Ctrl+C answered %v, want ErrCancelled", a.err)
	}
	if input.Dumpable() {
		t.Error("the process may dump core while a password is cached")
	}
	// The cached passwords: the one answered.
	res := &control.Result{}
	if err := send(t, d, control.Command{Kind: control.CachedPasswords, Result: res}); err != nil || len(res.Answers) != 1 || string(res.Answers[0]) != "sesame€" {
		t.Errorf("cached passwords %q, %v", res.Answers, err)
	}
	for _, s := range func() []State { _, s := screen.log(); return s }() {
		if s.Prompt.Entry != "" && s.Prompt.Password {
			t.Errorf("a password's text reached the screen: %+v", s.Prompt)
		}
	}
}

func TestDaemonQuestionCancelledWhenAskerGoes(t *testing.T) {
	screen := &recordingScreen{}
	kb := &keyboard{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen, Input: kb})
	defer func() { cancel(); wait() }()
	actx, hangup := context.WithCancel(context.Background())
	first := askAsync(d, control.Command{Kind: control.AskPassword, Text: "first", Asker: actx})
	waitFor(t, "the first prompt", func() bool { return lastShown(screen).Prompt.Text == "first" })
	second := askAsync(d, control.Command{Kind: control.AskPassword, Text: "second"})
	kb.typeText(t, "abc", false)
	waitFor(t, "three bullets", func() bool { return lastShown(screen).Prompt.Bullets == 3 })
	hangup()
	if a := answerOf(t, first); a.err == nil {
		t.Errorf("a question whose asker left was answered %q", a.res.Answer)
	}
	// What was typed for the first is gone; the second starts empty.
	waitFor(t, "the second prompt", func() bool { p := lastShown(screen).Prompt; return p.Text == "second" && p.Bullets == 0 })
	kb.typeText(t, "xyz", true)
	if a := answerOf(t, second); a.err != nil || string(a.res.Answer) != "xyz" {
		t.Errorf("second answer %q, %v; want \"xyz\"", a.res.Answer, a.err)
	}
}

func TestDaemonKeystrokeWatches(t *testing.T) {
	screen := &recordingScreen{}
	kb := &keyboard{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen, Input: kb})
	defer func() { cancel(); wait() }()
	yn := askAsync(d, control.Command{Kind: control.WatchKeystroke, Keys: "yn"})
	waitFor(t, "the keyboard", kb.isOpen)
	time.Sleep(20 * time.Millisecond) // the watches in this order
	any := askAsync(d, control.Command{Kind: control.WatchKeystroke})
	ignored := askAsync(d, control.Command{Kind: control.WatchKeystroke, Keys: "q"})
	waitFor(t, "the keyboard", kb.isOpen)
	time.Sleep(20 * time.Millisecond)
	if err := send(t, d, control.Command{Kind: control.IgnoreKeystroke, Keys: "q"}); err != nil {
		t.Fatal(err)
	}
	if a := answerOf(t, ignored); !errors.Is(a.err, control.ErrNoAnswer) {
		t.Errorf("an ignored watch answered %v, want ErrNoAnswer", a.err)
	}
	kb.typeText(t, "xn", false)
	if a := answerOf(t, any); a.err != nil || string(a.res.Answer) != "x" {
		t.Errorf("any-key watch: %q, %v", a.res.Answer, a.err)
	}
	if a := answerOf(t, yn); a.err != nil || string(a.res.Answer) != "n" {
		t.Errorf("yn watch: %q, %v", a.res.Answer, a.err)
	}
	waitFor(t, "the keyboard to be let go", func() bool { return !kb.isOpen() })
}

func TestDaemonNoAnswerWithoutKeyboardOrSplash(t *testing.T) {
	screen := &recordingScreen{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen})
	if err := send(t, d, control.Command{Kind: control.AskPassword, Result: &control.Result{}}); !errors.Is(err, control.ErrNoAnswer) {
		t.Errorf("no keyboard: %v, want ErrNoAnswer", err)
	}
	cancel()
	wait()

	kb := &keyboard{}
	d, cancel, wait = startDaemon(t, DaemonConfig{Screen: screen, Input: kb})
	defer func() { cancel(); wait() }()
	pending := askAsync(d, control.Command{Kind: control.AskPassword, Text: "p"})
	waitFor(t, "the keyboard", kb.isOpen)
	if err := send(t, d, control.Command{Kind: control.Hide}); err != nil {
		t.Fatal(err)
	}
	if a := answerOf(t, pending); !errors.Is(a.err, control.ErrNoAnswer) {
		t.Errorf("hidden with a question open: %v, want ErrNoAnswer", a.err)
	}
	if err := send(t, d, control.Command{Kind: control.AskPassword, Result: &control.Result{}}); !errors.Is(err, control.ErrNoAnswer) {
		t.Errorf("hidden: %v, want ErrNoAnswer", err)
	}
	if kb.isOpen() {
		t.Error("the keyboard is read while hidden with no question")
	}
}

func TestDaemonPauseProgress(t *testing.T) {
	screen := &recordingScreen{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen})
	defer func() { cancel(); wait() }()
	send(t, d, control.Command{Kind: control.Progress, Value: 0.2})
	send(t, d, control.Command{Kind: control.PauseProgress})
	send(t, d, control.Command{Kind: control.Progress, Value: 0.6})
	time.Sleep(50 * time.Millisecond)
	if p := lastShown(screen).Progress; p != 0.2 {
		t.Errorf("paused progress moved to %v", p)
	}
	send(t, d, control.Command{Kind: control.UnpauseProgress})
	waitFor(t, "the held progress", func() bool { return lastShown(screen).Progress == 0.6 })
}

// TestNativeAskPassword: the native socket hands the typed answer to the
// client that asked, over the wire.
func TestNativeAskPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl", "sock")
	srv, err := control.Listen(path, control.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	screen := &recordingScreen{}
	kb := &keyboard{}
	_, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen, Input: kb, Frontends: []Frontend{srv}})
	defer func() { cancel(); wait() }()
	ctx, cc := context.WithTimeout(context.Background(), 5*time.Second)
	defer cc()
	cl, err := control.Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := make(chan []byte, 1)
	go func() {
		a, err := cl.Ask(ctx, control.Command{Kind: control.AskPassword, Text: "Unlock"})
		if err != nil {
			t.Errorf("Ask: %v", err)
		}
		got <- a
	}()
	waitFor(t, "the prompt", func() bool { return lastShown(screen).Prompt.Text == "Unlock" })
	kb.typeText(t, `a\b`+"\x00c", true)
	if a := <-got; !bytes.Equal(a, []byte("a\\b\x00c")) {
		t.Errorf("answer %q", a)
	}
}

// watchingKeyboard is a keyboard that can also watch for Escape while no
// question is open, as input.EscapeWatcher says.
type watchingKeyboard struct {
	keyboard
	wmu     sync.Mutex
	esc     chan input.Event
	watches int
}

func (k *watchingKeyboard) WatchEscape() (<-chan input.Event, error) {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	k.watches++
	k.esc = make(chan input.Event, 8)
	return k.esc, nil
}

func (k *watchingKeyboard) StopWatching() error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	k.esc = nil
	return nil
}

func (k *watchingKeyboard) watching() bool {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	return k.esc != nil
}

func (k *watchingKeyboard) escape() {
	k.wmu.Lock()
	ch := k.esc
	k.wmu.Unlock()
	ch <- input.Event{Kind: input.Escape}
}

// TestDaemonEscapeOutsideQuestions: while the splash shows and no
// question is open, Escape (from the watch, which takes no key) toggles
// the details view; the watch is closed while a question reads the
// keyboard and while the splash is hidden, and opened again after.
func TestDaemonEscapeOutsideQuestions(t *testing.T) {
	screen := &recordingScreen{}
	kb := &watchingKeyboard{}
	d, cancel, wait := startDaemon(t, DaemonConfig{Screen: screen, Input: kb, Shown: true})
	defer func() {
		cancel()
		wait()
		if kb.watching() {
			t.Error("the Escape watch is still open after the daemon stopped")
		}
	}()
	waitFor(t, "the Escape watch", kb.watching)
	if kb.isOpen() {
		t.Fatal("the keyboard is read with no question open")
	}
	kb.escape()
	waitFor(t, "the details view by Escape", func() bool { return lastShown(screen).Details != nil })
	kb.escape()
	waitFor(t, "the splash back by Escape", func() bool { return lastShown(screen).Details == nil })

	q := askAsync(d, control.Command{Kind: control.AskPassword, Text: "p"})
	waitFor(t, "the keyboard", kb.isOpen)
	waitFor(t, "the watch to close while the question reads", func() bool { return !kb.watching() })
	kb.typeText(t, "ok", true)
	if a := answerOf(t, q); a.err != nil || string(a.res.Answer) != "ok" {
		t.Fatalf("answer %q, %v", a.res.Answer, a.err)
	}
	waitFor(t, "the watch again after the question", kb.watching)

	if err := send(t, d, control.Command{Kind: control.Hide}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "no watch while hidden", func() bool { return !kb.watching() })
	if err := send(t, d, control.Command{Kind: control.Show}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watch once shown again", kb.watching)
	kb.wmu.Lock()
	n := kb.watches
	kb.wmu.Unlock()
	if n != 3 {
		t.Errorf("the watch was opened %d times, want 3 (at start, after the question, after show)", n)
	}
}
