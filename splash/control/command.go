package control

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is what a Command asks of the daemon.
type Kind int

// The requests every front end can make. The comment says which fields of
// Command each one reads.
const (
	// Ping asks whether the daemon is there; it always succeeds.
	Ping Kind = iota
	// Progress sets the boot progress to Value (0 to 1; negative:
	// indeterminate).
	Progress
	// SystemUpdate sets the progress of a system update to Value (0 to 1),
	// plymouth's system-update.
	SystemUpdate
	// Message shows Text on the message line; "" clears it.
	Message
	// HideMessage clears the message line if it shows Text, or whatever it
	// shows when Text is "".
	HideMessage
	// Status sets the status line to Text (plymouth's update --status).
	Status
	// Show puts the splash on the display.
	Show
	// Hide takes the splash off the display; the daemon keeps running.
	Hide
	// Deactivate stops drawing and drops DRM master so another program
	// (a display server) can take the display.
	Deactivate
	// Reactivate undoes Deactivate.
	Reactivate
	// Quit ends the daemon; with Retain the last frame stays on the display.
	Quit
	// HasActiveVT asks whether the splash holds the display; it fails when
	// it does not.
	HasActiveVT
	// AskPassword asks the person at the console for a password, with
	// Text as the prompt; the answer comes in Result.Answer.
	AskPassword
	// AskQuestion asks a question whose typed answer shows as it is
	// typed; Text is the prompt, the answer comes in Result.Answer.
	AskQuestion
	// WatchKeystroke waits for one of the keys in Keys ("" for any key);
	// the key comes in Result.Answer.
	WatchKeystroke
	// IgnoreKeystroke ends the first keystroke watch for exactly Keys; it
	// is answered ErrNoAnswer.
	IgnoreKeystroke
	// CachedPasswords asks for the passwords answered so far, in
	// Result.Answers, oldest first (plymouth's cached password).
	CachedPasswords
	// PauseProgress holds the progress bar where it is while a question
	// is asked; progress sent meanwhile shows at UnpauseProgress.
	PauseProgress
	// UnpauseProgress undoes PauseProgress.
	UnpauseProgress
	// Details switches between the splash and the details view (the
	// kernel's log and the messages sent), as Escape does.
	Details
	// SystemInitialized says the root filesystem is writable (plymouth's
	// update-root-fs --read-write): the details view's log is written to
	// the boot log from then on.
	SystemInitialized
)

var kindNames = [...]string{
	Ping:         "ping",
	Progress:     "progress",
	SystemUpdate: "system-update",
	Message:      "message",
	HideMessage:  "hide-message",
	Status:       "status",
	Show:         "show",
	Hide:         "hide",
	Deactivate:   "deactivate",
	Reactivate:   "reactivate",
	Quit:         "quit",
	HasActiveVT:  "has-active-vt",

	AskPassword:     "ask-password",
	AskQuestion:     "ask-question",
	WatchKeystroke:  "watch-keystroke",
	IgnoreKeystroke: "ignore-keystroke",
	CachedPasswords: "cached-passwords",
	PauseProgress:   "pause-progress",
	UnpauseProgress: "unpause-progress",
	Details:         "details",

	SystemInitialized: "system-initialized",
}

// Asks reports whether k is a question: its answer comes later, in the
// Command's Result, once someone types it.
func (k Kind) Asks() bool {
	return k == AskPassword || k == AskQuestion || k == WatchKeystroke || k == CachedPasswords
}

// String is the request's verb in the native protocol ("progress").
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Command is one request from a front end to the daemon.
type Command struct {
	// Kind is what is asked.
	Kind Kind
	// Value is the progress for Progress and SystemUpdate, from 0 to 1.
	Value float64
	// Text is the text of Message, HideMessage and Status, and the prompt
	// of AskPassword and AskQuestion.
	Text string
	// Keys are the keys WatchKeystroke waits for and IgnoreKeystroke
	// names, as UTF-8 text; "" is any key.
	Keys string
	// Result receives the answer of a question (Kind.Asks) before Reply
	// is called with nil. The receiver owns the bytes and zeroes them
	// once sent.
	Result *Result
	// Asker is the asking client's lifetime: when it ends (the client
	// hung up), the daemon drops the question and answers ErrCancelled.
	// nil: the question lives until answered or the daemon stops.
	Asker context.Context
	// Client identifies the asking connection (compared only for
	// identity): a password asked again by the client whose password was
	// answered last is a retry, and the prompt says so.
	Client any
	// Retain keeps the last frame on the display after Quit.
	Retain bool
	// Source names the front end for logs: "native", "psplash", "plymouth".
	Source string
	// Reply, if not nil, is called exactly once by the daemon with the
	// outcome: nil, or why the request was refused. It must not block.
	Reply func(error)
}

// Answer reports the outcome of c to its sender, if it waits for one.
func (c Command) Answer(err error) {
	if c.Reply != nil {
		c.Reply(err)
	}
}

// String describes c for logs: `message "Checking disks"`, `progress 40%`.
func (c Command) String() string {
	switch c.Kind {
	case Progress, SystemUpdate:
		return fmt.Sprintf("%s %s%%", c.Kind, formatPercent(c.Value))
	case Message, HideMessage, Status, AskPassword, AskQuestion:
		// The prompt only: answers are never part of a Command's text.
		return fmt.Sprintf("%s %q", c.Kind, c.Text)
	case WatchKeystroke, IgnoreKeystroke:
		return fmt.Sprintf("%s %q", c.Kind, c.Keys)
	case Quit:
		if c.Retain {
			return "quit retain"
		}
	}
	return c.Kind.String()
}

// Errors the daemon answers with; front ends match them with errors.Is to
// choose their protocol's reply.
var (
	// ErrQuitting refuses everything but ping once quit was asked.
	ErrQuitting = errors.New("the splash is quitting")
	// ErrNotDeactivated refuses reactivate when the splash is not
	// deactivated.
	ErrNotDeactivated = errors.New("the splash is not deactivated")
	// ErrNotShowing answers has-active-vt when the splash is not on the
	// display.
	ErrNotShowing = errors.New("the splash is not showing")
	// ErrStopped answers requests the daemon will no longer handle because
	// it stopped.
	ErrStopped = errors.New("the splash daemon stopped")
	// ErrNoAnswer answers a question the splash cannot ask (no keyboard,
	// or the splash is not showing) and a keystroke watch that was
	// ignored: the asker asks on its own, as when no splash runs.
	ErrNoAnswer = errors.New("no answer: the splash cannot ask")
	// ErrCancelled answers a question the person at the console cancelled
	// (Ctrl+C) or whose asker hung up.
	ErrCancelled = errors.New("the question was cancelled")
)

// Result is the answer to a question.
type Result struct {
	// Answer is the typed text (AskPassword, AskQuestion) or the key
	// (WatchKeystroke).
	Answer []byte
	// Answers are the cached passwords (CachedPasswords).
	Answers [][]byte
}

// Zero overwrites the answers' bytes, so that a passphrase does not stay
// in memory after it was sent.
func (r *Result) Zero() {
	if r == nil {
		return
	}
	clear(r.Answer)
	for _, a := range r.Answers {
		clear(a)
	}
	r.Answer, r.Answers = nil, nil
}

// Send hands c to the daemon over commands and waits for its answer. It
// returns ctx's error if ctx ends first (the daemon stopping cancels the
// front ends' context), so a front end never waits on a daemon that is
// gone.
func Send(ctx context.Context, commands chan<- Command, c Command) error {
	reply := make(chan error, 1)
	c.Reply = func(err error) {
		select {
		case reply <- err:
		default: // answered twice: keep the first
		}
	}
	select {
	case commands <- c:
	case <-ctx.Done():
		return ErrStopped
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		// The answer may have come with the stop; prefer it.
		select {
		case err := <-reply:
			return err
		default:
			return ErrStopped
		}
	}
}

// MaxText is the longest Text a native request carries, in bytes.
const MaxText = MaxLine - 64

// ParseRequest reads one native request line (without its '\n') into a
// Command. Progress is given in percent on the wire and as a fraction in
// the Command.
func ParseRequest(line string) (Command, error) {
	verb, arg, hasArg := strings.Cut(line, " ")
	var c Command
	c.Source = "native"
	kind := Kind(-1)
	for i, n := range kindNames {
		if n == verb {
			kind = Kind(i)
		}
	}
	c.Kind = kind
	noArg := func() error {
		if hasArg {
			return fmt.Errorf("%s takes no argument", verb)
		}
		return nil
	}
	switch kind {
	case Ping, HideMessage, Show, Hide, Deactivate, Reactivate, HasActiveVT, PauseProgress, UnpauseProgress, Details, SystemInitialized:
		return c, noArg()
	case AskPassword, AskQuestion, WatchKeystroke, IgnoreKeystroke:
		if !utf8.ValidString(arg) {
			return c, fmt.Errorf("%s: text is not valid UTF-8", verb)
		}
		if strings.ContainsRune(arg, 0) {
			return c, fmt.Errorf("%s: text contains a NUL byte", verb)
		}
		if kind == WatchKeystroke || kind == IgnoreKeystroke {
			c.Keys = arg
		} else {
			c.Text = arg
		}
	case Progress, SystemUpdate:
		if !hasArg {
			return c, fmt.Errorf("%s needs a percentage", verb)
		}
		p, err := ParsePercent(arg)
		if err != nil {
			return c, fmt.Errorf("%s: %w", verb, err)
		}
		c.Value = p
	case Message, Status:
		if !utf8.ValidString(arg) {
			return c, fmt.Errorf("%s: text is not valid UTF-8", verb)
		}
		if strings.ContainsRune(arg, 0) {
			return c, fmt.Errorf("%s: text contains a NUL byte", verb)
		}
		c.Text = arg
	case Quit:
		switch {
		case !hasArg:
		case arg == "retain":
			c.Retain = true
		default:
			return c, fmt.Errorf(`quit: unknown argument %q (want "retain" or nothing)`, arg)
		}
	default:
		return c, fmt.Errorf("unknown request %q", verb)
	}
	return c, nil
}

// FormatRequest writes c as a native request line, without its '\n'. It
// refuses text that the line format cannot carry.
func FormatRequest(c Command) (string, error) {
	switch c.Kind {
	case Ping, HideMessage, Show, Hide, Deactivate, Reactivate, HasActiveVT, PauseProgress, UnpauseProgress, Details, SystemInitialized:
		return c.Kind.String(), nil
	case AskPassword, AskQuestion, WatchKeystroke, IgnoreKeystroke:
		text := c.Text
		if c.Kind == WatchKeystroke || c.Kind == IgnoreKeystroke {
			text = c.Keys
		}
		if strings.ContainsAny(text, "\n\x00") {
			return "", fmt.Errorf("%s: text must not contain a newline or NUL", c.Kind)
		}
		if len(text) > MaxText {
			return "", fmt.Errorf("%s: text is %d bytes, more than %d", c.Kind, len(text), MaxText)
		}
		if !utf8.ValidString(text) {
			return "", fmt.Errorf("%s: text is not valid UTF-8", c.Kind)
		}
		if text == "" {
			return c.Kind.String(), nil
		}
		return c.Kind.String() + " " + text, nil
	case Progress, SystemUpdate:
		if math.IsNaN(c.Value) || c.Value < 0 || c.Value > 1 {
			return "", fmt.Errorf("%s: %v is not a fraction from 0 to 1", c.Kind, c.Value)
		}
		return c.Kind.String() + " " + formatPercent(c.Value), nil
	case Message, Status:
		if strings.ContainsAny(c.Text, "\n\x00") {
			return "", fmt.Errorf("%s: text must not contain a newline or NUL", c.Kind)
		}
		if len(c.Text) > MaxText {
			return "", fmt.Errorf("%s: text is %d bytes, more than %d", c.Kind, len(c.Text), MaxText)
		}
		if !utf8.ValidString(c.Text) {
			return "", fmt.Errorf("%s: text is not valid UTF-8", c.Kind)
		}
		return c.Kind.String() + " " + c.Text, nil
	case Quit:
		if c.Retain {
			return "quit retain", nil
		}
		return "quit", nil
	}
	return "", fmt.Errorf("unknown request %v", c.Kind)
}

// AppendAnswer appends the reply line that carries answer ("answer
// TEXT\n"), escaping the backslash, newline, carriage return and NUL so
// the answer fits one line.
func AppendAnswer(dst, answer []byte) []byte {
	dst = append(dst, "answer "...)
	for _, b := range answer {
		switch b {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case 0:
			dst = append(dst, '\\', '0')
		default:
			dst = append(dst, b)
		}
	}
	return append(dst, '\n')
}

// ParseAnswer undoes AppendAnswer on what follows "answer " in a reply
// line (without its '\n'), into a new slice the caller zeroes after use.
func ParseAnswer(text []byte) ([]byte, error) {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		b := text[i]
		if b != '\\' {
			out = append(out, b)
			continue
		}
		i++
		if i == len(text) {
			clear(out)
			return nil, errors.New("answer ends in a lone backslash")
		}
		switch text[i] {
		case '\\':
			out = append(out, '\\')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case '0':
			out = append(out, 0)
		default:
			clear(out)
			return nil, fmt.Errorf("answer has an unknown escape \\%c", text[i])
		}
	}
	return out, nil
}

// ParsePercent reads a percentage from 0 to 100 ("40", "12.5", "40%") and
// returns it as a fraction from 0 to 1.
func ParsePercent(s string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(p) || p < 0 || p > 100 {
		return 0, fmt.Errorf("%q is not a percentage from 0 to 100", s)
	}
	return p / 100, nil
}

// formatPercent writes a fraction as a percentage with at most six
// decimals, so that ParsePercent reads back the same number to 1e-8.
func formatPercent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1e8)/1e6, 'f', -1, 64)
}
