package testutil

import (
	"context"
	"sync"
)

// Answerer is a request a front end hands the daemon: control.Command.
type Answerer interface{ Answer(error) }

// FakeDaemon stands in for the splash daemon behind a front end's server
// in its tests: it records every request and answers it with Answer's
// result (nil: success).
type FakeDaemon[C Answerer] struct {
	mu  sync.Mutex
	got []C
	// Answer decides each request's answer; nil answers every one with
	// success. Set it before Run.
	Answer func(C) error
}

// Run takes requests from commands until ctx is done.
func (d *FakeDaemon[C]) Run(ctx context.Context, commands <-chan C) {
	for {
		select {
		case c := <-commands:
			d.mu.Lock()
			d.got = append(d.got, c)
			answer := d.Answer
			d.mu.Unlock()
			var err error
			if answer != nil {
				err = answer(c)
			}
			c.Answer(err)
		case <-ctx.Done():
			return
		}
	}
}

// Commands returns the requests taken so far.
func (d *FakeDaemon[C]) Commands() []C {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]C(nil), d.got...)
}

// Take returns the requests taken since the last Take and forgets them.
func (d *FakeDaemon[C]) Take() []C {
	d.mu.Lock()
	defer d.mu.Unlock()
	got := d.got
	d.got = nil
	return got
}
