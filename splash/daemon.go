package splash

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/input"
	"github.com/bootsplash/bootsplash/splash/plymouth"
	"github.com/bootsplash/bootsplash/splash/psplash"
)

// Mode is what the daemon does with the display.
type Mode int

// Modes of the daemon.
const (
	// Showing draws the splash.
	Showing Mode = iota
	// Hidden keeps the display but shows no splash (plymouth's
	// hide-splash): the console or whatever was there shows.
	Hidden
	// Deactivated stops drawing and has dropped DRM master, so another
	// program can take the display until reactivate.
	Deactivated
	// Quitting refuses everything: the daemon is going away.
	Quitting
)

var modeNames = [...]string{"showing", "hidden", "deactivated", "quitting"}

// String is "showing", "hidden", "deactivated" or "quitting".
func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return fmt.Sprintf("Mode(%d)", int(m))
	}
	return modeNames[m]
}

// Screen is the display side the daemon drives. The daemon calls it from
// one goroutine, one call at a time, and only in an order that makes sense
// (Show and Hide never while deactivated, nothing after a quit request).
// Whoever runs the daemon releases the display after Run returns
// (QuitRequested says whether the last frame is to stay).
type Screen interface {
	// Show draws s and keeps the splash on the display. The daemon calls
	// it for every new State it wants on the display; updates that come
	// while a Show runs are merged into the next call.
	Show(s State) error
	// Hide takes the splash off the display.
	Hide() error
	// Deactivate stops drawing and drops DRM master.
	Deactivate() error
	// Reactivate takes master back; the daemon calls Show afterwards if the
	// splash was showing.
	Reactivate() error
}

// Frontend is a control protocol the daemon listens on (the native socket,
// psplash's FIFO, plymouth's socket). Serve hands requests to commands
// until ctx ends, then returns after releasing all it took.
type Frontend interface {
	Serve(ctx context.Context, commands chan<- control.Command) error
}

// DaemonConfig is what a Daemon needs.
type DaemonConfig struct {
	// Screen is the display side.
	Screen Screen
	// Frontends are the control protocols to serve.
	Frontends []Frontend
	// Initial is the State the daemon starts from.
	Initial State
	// Shown says the screen already shows Initial (the first frame went up
	// before the daemon started); otherwise Run shows it first.
	Shown bool
	// FrameInterval is the animation's frame time; while showing, the
	// daemon advances State.Frame and redraws this often. 0 means nothing
	// animates: an idle daemon then wakes for nothing.
	FrameInterval time.Duration
	// Reload hands the daemon changes to make on its own goroutine between
	// frames (Run's theme reload swaps the renderer, a hotplug lights or
	// puts out outputs); after each the State is drawn again.
	// nil: none come.
	Reload <-chan func() error
	// BootLog is where the details view's lines are written once the
	// root filesystem is writable (SystemInitialized), as Plymouth
	// writes /var/log/boot.log; "" writes none.
	BootLog string
	// KernelLog carries the kernel's log lines for the details view;
	// nil: none come.
	KernelLog <-chan string
	// Input is the keyboard questions are answered from; nil answers
	// every question control.ErrNoAnswer (the asker asks on its own).
	Input input.Source
	// Log receives requests (debug) and errors; nil discards them.
	Log *slog.Logger
}

// Daemon is the splash's state machine: it keeps the current State and
// Mode, takes Commands from any number of front ends, checks that each
// request makes sense in the current mode, and drives the Screen.
type Daemon struct {
	cfg      DaemonConfig
	log      *slog.Logger
	commands chan control.Command

	state    State
	mode     Mode
	resume   Mode // the mode Reactivate goes back to
	dirty    bool // state changed since the screen last showed it
	retain   bool
	quitSeen bool

	q        questions
	paused   bool    // progress is held (PauseProgress)
	held     float64 // the progress sent while paused
	heldSeen bool

	details      []string // the details view's lines, oldest first
	showDetails  bool
	detailsBelow int      // the newest lines scrolled out of the view
	bootLog      *os.File // the boot log, once written
}

// commandQueue bounds the commands waiting for the daemon; front ends
// block (each on its own client) when it is full.
const commandQueue = 16

// minFrameGap is the least time between two frames the daemon draws for
// updates: 60 a second at most, more than a splash needs, while the
// requests in between are answered at once.
const minFrameGap = time.Second / 60

// maxBatch is how many waiting commands the daemon applies before it draws.
const maxBatch = 256

// NewDaemon makes a Daemon; Run starts it.
func NewDaemon(cfg DaemonConfig) *Daemon {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{cfg: cfg, log: log, commands: make(chan control.Command, commandQueue), state: cfg.Initial}
	d.q.gone, d.q.done = make(chan *question), make(chan struct{})
	return d
}

// Commands is where in-process senders (a signal handler, a test) hand
// the daemon Commands, as front ends do; control.Send waits for the answer.
func (d *Daemon) Commands() chan<- control.Command { return d.commands }

// Run serves the front ends and applies their commands until a quit
// request or until ctx ends. It returns after every front end has stopped.
// The screen is left as it is for the caller to release (QuitRequested
// says whether a quit request ended it, and whether it asked to retain
// the splash).
func (d *Daemon) Run(ctx context.Context) error {
	fctx, stopFrontends := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, fe := range d.cfg.Frontends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fe.Serve(fctx, d.commands); err != nil {
				d.log.Error("splash: control front end stopped", "frontend", fmt.Sprintf("%T", fe), "err", err)
			}
		}()
	}
	frontendsDone := make(chan struct{})
	go func() { wg.Wait(); close(frontendsDone) }()

	if !d.cfg.Shown {
		d.dirty = true
	}
	var locked bool
	d.q.typed, locked = input.NewSecret()
	if !locked && d.cfg.Input != nil {
		d.log.Debug("splash: the passphrase buffer could not be locked in memory (mlock, MADV_DONTDUMP refused)")
	}
	defer func() {
		close(d.q.done)
		d.q.typed.Free()
		for _, p := range d.q.cached {
			clear(p)
		}
		d.q.cached = nil
		d.syncPrompt() // dumps back on
		d.syncEscapeWatch()
		if d.bootLog != nil {
			d.bootLog.Close()
		}
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var tick <-chan time.Time
	// Frames are paced: a stream of updates is drawn at most every
	// minFrameGap, and requests (pings among them) are answered in
	// between rather than after frame upon frame.
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	var paced <-chan time.Time
	var lastDraw time.Time
	for d.mode != Quitting {
		if ctx.Err() != nil {
			// An ended context wins over work still waiting.
			d.mode = Quitting
			break
		}
		d.syncEscapeWatch()
		if d.dirty && d.mode == Showing && paced == nil {
			if gap := minFrameGap - time.Since(lastDraw); gap > 0 {
				pace.Reset(gap)
				paced = pace.C
			} else {
				d.draw()
				lastDraw = time.Now()
			}
		}
		// Animate only while showing; otherwise nothing wakes the daemon
		// but a command.
		if d.mode == Showing && d.cfg.FrameInterval > 0 {
			if tick == nil {
				timer.Reset(d.cfg.FrameInterval)
				tick = timer.C
			}
		} else if tick != nil {
			timer.Stop()
			tick = nil
		}
		select {
		case c := <-d.commands:
			d.handle(c)
			d.drain()
		case <-tick:
			tick = nil
			d.state.Frame++
			d.dirty = true
			d.drain()
		case f := <-d.cfg.Reload:
			if err := f(); err != nil {
				d.log.Error("splash: change", "err", err)
			}
			// Drawn again even after an error: a change can fail in
			// part (one output of two lit) and still need a frame.
			d.dirty = true
			d.drain()
		case <-paced:
			paced = nil
		case ev, ok := <-d.q.keys:
			if !ok {
				d.log.Error("splash: the keyboard went away")
				d.q.keys = nil
				continue
			}
			d.key(ev)
			d.drain()
		case ev, ok := <-d.q.escape:
			d.escapeKey(ev, ok)
			d.drain()
		case w := <-d.q.gone:
			d.hungUp(w)
		case line := <-d.cfg.KernelLog:
			d.addDetail(line)
			d.drain()
		case <-ctx.Done():
			d.mode = Quitting
		}
	}
	timer.Stop()
	pace.Stop()
	d.dropAll(d.refusal(control.Command{Kind: control.Quit}), false)
	stopFrontends()
	// Answer whatever is still queued while the front ends wind down.
	for {
		select {
		case c := <-d.commands:
			c.Answer(d.refusal(c))
		case <-frontendsDone:
			for {
				select {
				case c := <-d.commands:
					c.Answer(d.refusal(c))
				default:
					return nil
				}
			}
		}
	}
}

// QuitRequested reports whether Run ended because of a quit request
// (and whether it asked to retain the splash), rather than its context.
// Call it after Run returns.
func (d *Daemon) QuitRequested() (quit, retain bool) { return d.quitSeen, d.retain }

// refusal is the answer to c once the daemon stops.
func (d *Daemon) refusal(c control.Command) error {
	if c.Kind == control.Ping {
		return nil
	}
	if d.quitSeen {
		return control.ErrQuitting
	}
	return control.ErrStopped
}

// drain applies the commands already waiting, so that a burst of updates
// is drawn once with the newest State.
func (d *Daemon) drain() {
	for range maxBatch {
		if d.mode == Quitting {
			return
		}
		select {
		case c := <-d.commands:
			d.handle(c)
		default:
			return
		}
	}
}

// draw shows the State if it changed and the splash is showing.
func (d *Daemon) draw() {
	if !d.dirty || d.mode != Showing {
		return
	}
	d.dirty = false
	if err := d.cfg.Screen.Show(d.state); err != nil {
		d.log.Error("splash: show", "err", err)
	}
}

// handle applies one command and answers it.
func (d *Daemon) handle(c control.Command) {
	d.log.Debug("splash: request", "source", c.Source, "cmd", c.String(), "mode", d.mode.String())
	if c.Kind.Asks() {
		d.ask(c)
		return
	}
	err := d.apply(c)
	if err != nil {
		d.log.Debug("splash: request refused", "cmd", c.String(), "err", err)
	}
	c.Answer(err)
}

func (d *Daemon) apply(c control.Command) error {
	if c.Kind == control.Ping {
		return nil
	}
	if d.mode == Quitting {
		return control.ErrQuitting
	}
	switch c.Kind {
	case control.Progress, control.SystemUpdate:
		v := c.Value
		switch {
		case math.IsNaN(v):
			return fmt.Errorf("%s: progress is not a number", c.Kind)
		case v < 0:
			v = -1
		case v > 1:
			v = 1
		}
		if d.paused && c.Kind == control.Progress {
			d.held, d.heldSeen = v, true
			return nil
		}
		d.setState(func(s *State) { s.Progress = v })
	case control.Message:
		d.setState(func(s *State) { s.Message = c.Text })
		d.addDetail(c.Text)
	case control.HideMessage:
		if c.Text == "" || c.Text == d.state.Message {
			d.setState(func(s *State) { s.Message = "" })
		}
	case control.Status:
		d.setState(func(s *State) { s.Status = c.Text })
		d.addDetail(c.Text)
	case control.Details:
		d.toggleDetails()
	case control.SystemInitialized:
		d.openBootLog()
	case control.Show:
		switch d.mode {
		case Hidden:
			if err := d.cfg.Screen.Show(d.state); err != nil {
				return fmt.Errorf("show: %w", err)
			}
			d.mode, d.dirty = Showing, false
		case Deactivated:
			d.resume = Showing
		}
	case control.Hide:
		switch d.mode {
		case Showing:
			if err := d.cfg.Screen.Hide(); err != nil {
				return fmt.Errorf("hide: %w", err)
			}
			d.mode = Hidden
			// Nobody sees the prompt any more: its askers ask on their own.
			d.dropAll(control.ErrNoAnswer, true)
		case Deactivated:
			d.resume = Hidden
		}
	case control.Deactivate:
		if d.mode == Deactivated {
			return nil
		}
		if err := d.cfg.Screen.Deactivate(); err != nil {
			return fmt.Errorf("deactivate: %w", err)
		}
		// The keyboard is another program's now.
		d.dropAll(control.ErrNoAnswer, false)
		d.resume, d.mode = d.mode, Deactivated
	case control.Reactivate:
		if d.mode != Deactivated {
			return fmt.Errorf("reactivate: %w (it is %s)", control.ErrNotDeactivated, d.mode)
		}
		if err := d.cfg.Screen.Reactivate(); err != nil {
			return fmt.Errorf("reactivate: %w", err)
		}
		d.mode = d.resume
		if d.mode == Showing {
			d.dirty = true // drawn before the daemon waits again
		}
	case control.Quit:
		d.draw() // the frame a retained splash leaves up is the newest
		d.mode, d.quitSeen, d.retain = Quitting, true, c.Retain
	case control.PauseProgress:
		d.paused = true
	case control.UnpauseProgress:
		if d.paused && d.heldSeen {
			d.setState(func(s *State) { s.Progress = d.held })
		}
		d.paused, d.heldSeen = false, false
	case control.IgnoreKeystroke:
		d.ignoreKeystroke(c.Keys)
	case control.HasActiveVT:
		if d.mode != Showing {
			return fmt.Errorf("%w (it is %s)", control.ErrNotShowing, d.mode)
		}
	default:
		return fmt.Errorf("unknown request %v", c.Kind)
	}
	return nil
}

// setState changes the State; the change is drawn once the waiting
// commands are applied, if the splash is showing.
func (d *Daemon) setState(f func(*State)) {
	f(&d.state)
	d.dirty = true
}

// ControlConfig says which control front ends OpenFrontends opens.
type ControlConfig struct {
	// Native opens bootsplash's own socket at Socket ("" means
	// control.DefaultSocket).
	Native bool
	Socket string
	// Psplash opens psplash's FIFO in PsplashDir ("" means psplash.Dir(),
	// that is $PSPLASH_FIFO_DIR or /run).
	Psplash    bool
	PsplashDir string
	// Plymouth listens on plymouthd's abstract socket (PlymouthName, ""
	// meaning plymouth.SocketName).
	Plymouth     bool
	PlymouthName string
	// AllowUIDs are the users the sockets accept; nil means root and the
	// daemon's own user.
	AllowUIDs []uint32
	// Log receives the front ends' refusals and errors.
	Log *slog.Logger
}

// OpenFrontends opens the front ends cfg asks for. One that cannot open
// (plymouthd already holds its socket, /run is read-only) does not stop
// the others: the ones that opened are returned with a *FrontendError
// naming the failures, and close releases them all (call it after
// Daemon.Run).
func OpenFrontends(cfg ControlConfig) (fes []Frontend, closeAll func(), err error) {
	var closers []func() error
	var errs []error
	if cfg.Native {
		if s, err := control.Listen(cfg.Socket, control.ServerOptions{AllowUIDs: cfg.AllowUIDs, Log: cfg.Log}); err != nil {
			errs = append(errs, err)
		} else {
			fes, closers = append(fes, s), append(closers, s.Close)
		}
	}
	if cfg.Psplash {
		if f, err := psplash.Open(psplash.Options{Dir: cfg.PsplashDir, Log: cfg.Log}); err != nil {
			errs = append(errs, err)
		} else {
			fes, closers = append(fes, f), append(closers, f.Close)
		}
	}
	if cfg.Plymouth {
		if s, err := plymouth.Listen(plymouth.Options{Name: cfg.PlymouthName, AllowUIDs: cfg.AllowUIDs, Log: cfg.Log}); err != nil {
			errs = append(errs, err)
		} else {
			fes, closers = append(fes, s), append(closers, s.Close)
		}
	}
	closeAll = func() {
		for _, c := range closers {
			c()
		}
	}
	if len(errs) > 0 {
		return fes, closeAll, &FrontendError{Errs: errs}
	}
	return fes, closeAll, nil
}

// FrontendError says which front ends that were asked for could not be
// opened, and why, on one line.
type FrontendError struct {
	Errs []error
}

// Error lists the failures, and how to go without a front end.
func (e *FrontendError) Error() string {
	var b strings.Builder
	b.WriteString("cannot open the control front ends asked for: ")
	for i, err := range e.Errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	b.WriteString(` (stop what holds them, or run without one: --socket "", --psplash=false, --plymouth=false)`)
	return b.String()
}

// Unwrap returns the failures.
func (e *FrontendError) Unwrap() []error { return e.Errs }
