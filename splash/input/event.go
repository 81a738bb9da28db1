package input

// Kind is what a key press means to a prompt.
type Kind int

// Kinds of Event.
const (
	// Text is a character typed (Event.Text).
	Text Kind = iota
	// Enter answers the question.
	Enter
	// Backspace deletes the last character.
	Backspace
	// Escape is reserved for the details view.
	Escape
	// Interrupt is Ctrl+C or Ctrl+D: the question is cancelled.
	Interrupt
	// CapsLock says Caps Lock changed; Event.CapsLock is its new state.
	CapsLock
	// Up, Down, PageUp, PageDown, Home and End scroll the details view.
	Up
	Down
	PageUp
	PageDown
	Home
	End
)

var kindNames = [...]string{"text", "enter", "backspace", "escape", "interrupt", "caps-lock", "up", "down", "page-up", "page-down", "home", "end"}

// Scrolls says the kind moves the details view (Up to End).
func (k Kind) Scrolls() bool { return k >= Up && k <= End }

// Watched says an EscapeWatcher passes the kind on: Escape, which
// toggles the details view, and the keys that scroll it. The console
// still gets them, as the watch takes no key.
func (k Kind) Watched() bool { return k == Escape || k.Scrolls() }

// String names the kind, for logs; it never includes what was typed.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// Event is one key press as a prompt sees it.
type Event struct {
	Kind Kind
	// Text is the character of a Text event, as UTF-8 in a small array
	// so that no string of it stays in memory; Len bytes are used.
	Text [4]byte
	Len  int
	// CapsLock is Caps Lock's state when the key was pressed (and the
	// new state for a CapsLock event), when Known.
	CapsLock, Known bool
}

// Bytes is the character of a Text event.
func (e *Event) Bytes() []byte { return e.Text[:e.Len] }

// Source is where key presses come from: a VT's tty or evdev keyboards.
// Open starts reading; the events come on the channel until Close. A
// Source reads nothing while closed, so keys typed for the console are
// not taken from it.
type Source interface {
	Open() (<-chan Event, error)
	Close() error
}

// EscapeWatcher is a Source that can also watch for Escape while it is
// closed, without taking the keys typed for the console: the details
// view toggles on Escape at any time, as Plymouth's does, while keys are
// taken only for a question. Only the Watched kinds (Escape and the keys
// that scroll the view) come on the channel.
type EscapeWatcher interface {
	Source
	WatchEscape() (<-chan Event, error)
	StopWatching() error
}
