package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/bootsplash/bootsplash/splash/control"
)

const ctlUsage = `Usage: bootsplash ctl [flags] REQUEST [ARGUMENT...]

Requests:
  ping                  succeed if the daemon answers
  progress PERCENT      set the progress bar (0 to 100)
  message [TEXT...]     show TEXT on the message line (no TEXT clears it)
  hide-message          clear the message line
  status [TEXT...]      set the status line
  show | hide           put the splash on the display, or take it off
  deactivate            stop drawing and release the display
  reactivate            take the display back
  has-active-vt         succeed if the splash is on the display
  quit [--retain]       end the daemon (--retain keeps the last frame up)
  ask-password [--prompt TEXT]
                        ask for a password on the splash; print it on stdout
  ask-question [--prompt TEXT]
                        ask a question on the splash; print the answer
  watch-keystroke [--keys KEYS]
                        wait for one of KEYS (any key if none); print it
  ignore-keystroke [--keys KEYS]
                        end the watch for exactly KEYS
  pause-progress | unpause-progress
                        hold the progress bar, or let it move again
  details               switch between the splash and the details view
                        (the kernel's log and the messages; Escape too)

A question waits for its answer without a time limit unless --timeout is
given; it exits 1 if it is cancelled (Ctrl+C at the prompt) or the splash
cannot ask.

Flags (before REQUEST):
`

// maxCtlTimeout bounds ctl's --timeout: a boot script waiting longer for
// an answer has a daemon that is not coming.
const maxCtlTimeout = time.Hour

// cmdCtl sends one request to a running daemon over its control socket.
func cmdCtl(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ctl", stderr)
	fs.SetInterspersed(false) // flags end at the request: "progress -1" is an argument
	socket := fs.String("socket", control.DefaultSocket, "the daemon's control socket")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprint(stderr, ctlUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: ctl needs a request", errUsage)
	}
	if *timeout < time.Millisecond || *timeout > maxCtlTimeout {
		return fmt.Errorf("%w: --timeout %v: want %v to %v", errUsage, *timeout, time.Millisecond, maxCtlTimeout)
	}
	c, err := ctlCommand(fs.Arg(0), fs.Args()[1:])
	if err != nil {
		return fmt.Errorf("%w: ctl %v", errUsage, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cl, err := control.Dial(ctx, *socket)
	if err != nil {
		return err
	}
	defer cl.Close()
	if !c.Kind.Asks() {
		return cl.Do(ctx, c)
	}
	// A question waits for a person: no time limit unless one was given.
	actx := context.Background()
	if fs.Changed("timeout") {
		actx = ctx
	}
	answer, err := cl.Ask(actx, c)
	if err != nil {
		return err
	}
	defer clear(answer)
	_, err = stdout.Write(answer)
	return err
}

// ctlCommand turns a request and its arguments into a Command.
func ctlCommand(verb string, args []string) (control.Command, error) {
	c := control.Command{}
	none := func() error {
		if len(args) > 0 {
			return fmt.Errorf("%s: unexpected argument %q", verb, args[0])
		}
		return nil
	}
	switch verb {
	case "ping":
		c.Kind = control.Ping
		return c, none()
	case "hide-message":
		c.Kind = control.HideMessage
		return c, none()
	case "show":
		c.Kind = control.Show
		return c, none()
	case "hide":
		c.Kind = control.Hide
		return c, none()
	case "deactivate":
		c.Kind = control.Deactivate
		return c, none()
	case "reactivate":
		c.Kind = control.Reactivate
		return c, none()
	case "has-active-vt":
		c.Kind = control.HasActiveVT
		return c, none()
	case "progress":
		if len(args) != 1 {
			return c, errors.New("progress needs one PERCENT (0 to 100)")
		}
		v, err := control.ParsePercent(args[0])
		if err != nil {
			return c, fmt.Errorf("progress: %v", err)
		}
		c.Kind, c.Value = control.Progress, v
		return c, nil
	case "message", "status":
		c.Kind, c.Text = control.Message, strings.Join(args, " ")
		if verb == "status" {
			c.Kind = control.Status
		}
		// Check here what the wire cannot carry, to fail as a usage error.
		if _, err := control.FormatRequest(c); err != nil {
			return c, err
		}
		return c, nil
	case "ask-password", "ask-question", "watch-keystroke", "ignore-keystroke":
		fs := pflag.NewFlagSet(verb, pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		text := fs.String("prompt", "", "")
		keys := fs.String("keys", "", "")
		if err := fs.Parse(args); err != nil {
			return c, fmt.Errorf("%s: %v", verb, err)
		}
		if fs.NArg() > 0 {
			return c, fmt.Errorf("%s: unexpected argument %q", verb, fs.Arg(0))
		}
		switch verb {
		case "ask-password", "ask-question":
			if fs.Changed("keys") {
				return c, fmt.Errorf("%s takes --prompt, not --keys", verb)
			}
			c.Kind, c.Text = control.AskPassword, *text
			if verb == "ask-question" {
				c.Kind = control.AskQuestion
			}
		default:
			if fs.Changed("prompt") {
				return c, fmt.Errorf("%s takes --keys, not --prompt", verb)
			}
			c.Kind, c.Keys = control.WatchKeystroke, *keys
			if verb == "ignore-keystroke" {
				c.Kind = control.IgnoreKeystroke
			}
		}
		if _, err := control.FormatRequest(c); err != nil {
			return c, err
		}
		return c, nil
	case "pause-progress":
		c.Kind = control.PauseProgress
		return c, none()
	case "details":
		c.Kind = control.Details
		return c, none()
	case "unpause-progress":
		c.Kind = control.UnpauseProgress
		return c, none()
	case "quit":
		c.Kind = control.Quit
		for _, a := range args {
			if a != "--retain" && a != "--retain-splash" {
				return c, fmt.Errorf("quit: unexpected argument %q (want --retain)", a)
			}
			c.Retain = true
		}
		return c, nil
	}
	return c, fmt.Errorf("unknown request %q", verb)
}
