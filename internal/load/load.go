package load

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/psplash"
)

// Options say where the daemon listens and what load to put on it.
type Options struct {
	// Socket is the daemon's native control socket; "" means
	// control.DefaultSocket.
	Socket string
	// PsplashDir is the directory of psplash_fifo; "" means psplash.Dir().
	PsplashDir string
	// PlymouthName is the plymouth abstract socket's name without the
	// leading NUL; "" means plymouth.SocketName.
	PlymouthName string

	// Clients is how many clients send at once, Plymouth and Psplash of
	// them over plymouth's socket and psplash's FIFO, the others over the
	// native socket.
	Clients, Plymouth, Psplash int
	// Messages is how many requests the clients send in all, shared
	// evenly between them.
	Messages int

	// PingEvery is the pause between two pings of the pinger.
	PingEvery time.Duration
	// PingLimit is the round trip a ping must stay under.
	PingLimit time.Duration
	// IdlePings are sent before the load starts, for the idle round trip
	// the loaded ones compare with.
	IdlePings int

	// PID is the daemon's process, whose memory is sampled from
	// /proc/PID/status during the load; 0: none.
	PID int
	// SampleEvery is how often memory is sampled (and Sample called).
	SampleEvery time.Duration
	// Sample, if not nil, is called every SampleEvery during the load
	// with the requests sent so far, for a caller that measures something
	// of its own (the benchmark reads the Go heap). It must be quick.
	Sample func(sent int)

	// Wait bounds the wait for the daemon's sockets and FIFO to appear
	// (they open after the first frame), and for the FIFO to be read
	// empty at the end.
	Wait time.Duration
	// Final is the state sent once every client is done; the zero value
	// means DefaultFinal(Messages).
	Final Final
}

// DefaultOptions are the load of issue #6: 8 clients, one of them on
// plymouth's socket and one on psplash's FIFO, sending 100000 requests,
// with a ping every 5 ms that must come back within 100 ms, and memory
// sampled every 50 ms (reading /proc takes CPU from the daemon on a
// small machine).
func DefaultOptions() Options {
	return Options{
		Clients: 8, Plymouth: 1, Psplash: 1, Messages: 100000,
		PingEvery: 5 * time.Millisecond, PingLimit: 100 * time.Millisecond, IdlePings: 50,
		SampleEvery: 50 * time.Millisecond, Wait: 10 * time.Second,
	}
}

// Final is the state the load ends with, as every front end can set it:
// the progress in whole percent (psplash's PROGRESS takes no fraction),
// the message line and the status line.
type Final struct {
	Progress int    `json:"progress"`
	Message  string `json:"message"`
	Status   string `json:"status"`
}

// DefaultFinal is the final state of a load of n requests: the message
// names n, so that a screen left over from another run does not match.
func DefaultFinal(n int) Final {
	return Final{Progress: 73, Message: fmt.Sprintf("Load done: %d requests", n), Status: "bootsplash control load"}
}

// check reports the first option that makes the load impossible.
func (o *Options) check() error {
	switch {
	case o.Clients < 1:
		return fmt.Errorf("load: %d clients: want at least one", o.Clients)
	case o.Plymouth < 0 || o.Psplash < 0 || o.Plymouth+o.Psplash > o.Clients:
		return fmt.Errorf("load: %d plymouth and %d psplash clients do not fit in %d clients", o.Plymouth, o.Psplash, o.Clients)
	case o.Messages < o.Clients:
		return fmt.Errorf("load: %d requests for %d clients: want at least one each", o.Messages, o.Clients)
	case o.PingEvery < 0 || o.PingLimit <= 0 || o.SampleEvery <= 0 || o.Wait <= 0:
		return errors.New("load: PingEvery must not be negative; PingLimit, SampleEvery and Wait must be positive")
	case o.IdlePings < 0:
		return fmt.Errorf("load: %d idle pings", o.IdlePings)
	case o.Final.Progress < 0 || o.Final.Progress > 100:
		return fmt.Errorf("load: final progress %d%%: want 0 to 100", o.Final.Progress)
	}
	return nil
}

// Run puts the load on the daemon and returns what it measured. It
// returns an error when a request is refused or a connection fails:
// under load, too, every valid request must be answered "ok".
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Final == (Final{}) {
		opts.Final = DefaultFinal(opts.Messages)
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	if opts.Socket == "" {
		opts.Socket = control.DefaultSocket
	}
	if opts.PsplashDir == "" {
		opts.PsplashDir = psplash.Dir()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pinger, err := dialNative(ctx, opts.Socket, opts.Wait)
	if err != nil {
		return nil, err
	}
	defer pinger.Close()
	rep := &Report{Clients: opts.Clients, PingLimit: opts.PingLimit, Final: opts.Final}
	idle, err := pingIdle(ctx, pinger, opts.IdlePings)
	if err != nil {
		return nil, err
	}
	rep.IdlePingP50 = percentile(idle, 50)

	clients, err := openClients(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()

	var sent atomic.Int64
	var mem *memory
	if opts.PID != 0 {
		if mem, err = newMemory(opts.PID); err != nil {
			return nil, err
		}
	}
	sampleDone := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampleDone)
		sample(opts, &sent, mem, stopSampling)
	}()
	start := time.Now()
	pings := newPings(opts.PingLimit, start)
	pingErr := make(chan error, 1)
	stopPinging := make(chan struct{})
	go func() { pingErr <- pings.run(ctx, pinger, opts.PingEvery, stopPinging) }()

	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.send(ctx, share(opts.Messages, len(clients), i), &sent); err != nil {
				errs <- fmt.Errorf("%s: %w", c.name(), err)
				cancel()
			}
		}()
	}
	wg.Wait()
	rep.Wall = time.Since(start)
	close(errs)
	// The first failure cancels the others: it is the one to report.
	loadErr := <-errs
	if loadErr == nil {
		loadErr = sendFinal(ctx, opts)
	}
	close(stopPinging)
	if err := <-pingErr; err != nil && loadErr == nil {
		loadErr = err
	}
	close(stopSampling)
	<-sampleDone
	if loadErr != nil {
		return nil, loadErr
	}

	for _, c := range clients {
		rep.add(c.frontend(), c.sent())
	}
	pings.summarise(rep)
	if mem != nil {
		rep.Memory = mem.report()
	}
	if rep.Wall > 0 {
		rep.PerSecond = float64(rep.Messages) / rep.Wall.Seconds()
	}
	return rep, nil
}

// share is how many of n requests client i of k sends.
func share(n, k, i int) int {
	s := n / k
	if i < n%k {
		s++
	}
	return s
}

// openClients connects every client, psplash writers first, then plymouth
// clients, then native ones, waiting for sockets that are not there yet.
func openClients(ctx context.Context, opts Options) ([]client, error) {
	var cs []client
	fail := func(err error) ([]client, error) {
		for _, c := range cs {
			c.close()
		}
		return nil, err
	}
	fifo := filepath.Join(opts.PsplashDir, psplash.FIFOName)
	for i := range opts.Clients {
		var c client
		var err error
		switch {
		case i < opts.Psplash:
			c, err = openPsplash(ctx, fifo, i, opts.Wait)
		case i < opts.Psplash+opts.Plymouth:
			c, err = dialPlymouth(ctx, opts.PlymouthName, i, opts.Wait)
		default:
			var cl *control.Client
			if cl, err = dialNative(ctx, opts.Socket, opts.Wait); err == nil {
				c = &nativeClient{id: i, c: cl}
			}
		}
		if err != nil {
			return fail(err)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// retry calls f until it succeeds, ctx ends or wait has passed, and
// returns f's last error then.
func retry(ctx context.Context, wait time.Duration, f func() error) error {
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func dialNative(ctx context.Context, path string, wait time.Duration) (*control.Client, error) {
	var cl *control.Client
	err := retry(ctx, wait, func() error {
		var err error
		cl, err = control.Dial(ctx, path)
		return err
	})
	return cl, err
}

// pingIdle sends n pings one after the other and returns their round trips.
func pingIdle(ctx context.Context, cl *control.Client, n int) ([]time.Duration, error) {
	var rtts []time.Duration
	for range n {
		t0 := time.Now()
		if err := cl.Do(ctx, control.Command{Kind: control.Ping}); err != nil {
			return nil, fmt.Errorf("idle ping: %w", err)
		}
		rtts = append(rtts, time.Since(t0))
	}
	return rtts, nil
}

// sendFinal sets the final state over every front end that can carry it:
// first psplash's FIFO, whose commands are not answered, then, once the
// daemon has read the FIFO empty, the native socket, whose answer says
// the state is applied. Whatever of the FIFO the daemon still hands on
// after that ends with the same final state.
func sendFinal(ctx context.Context, opts Options) error {
	f := opts.Final
	if opts.Psplash > 0 {
		path := filepath.Join(opts.PsplashDir, psplash.FIFOName)
		w, err := os.OpenFile(path, os.O_WRONLY|nonBlock, 0)
		if err != nil {
			return fmt.Errorf("final state: %w", err)
		}
		_, err = w.Write(fmt.Appendf(nil, "PROGRESS %d\x00MSG %s\x00", f.Progress, f.Message))
		if err == nil {
			err = retry(ctx, opts.Wait, func() error {
				n, err := pipeQueued(w)
				if err == nil && n > 0 {
					err = fmt.Errorf("the daemon has not read %d bytes of %s", n, path)
				}
				return err
			})
		}
		w.Close()
		if err != nil {
			return fmt.Errorf("final state: %w", err)
		}
	}
	cl, err := dialNative(ctx, opts.Socket, opts.Wait)
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, c := range []control.Command{
		{Kind: control.Progress, Value: float64(f.Progress) / 100},
		{Kind: control.Message, Text: f.Message},
		{Kind: control.Status, Text: f.Status},
	} {
		if err := cl.Do(ctx, c); err != nil {
			return fmt.Errorf("final state: %w", err)
		}
	}
	return nil
}

// sample calls opts.Sample and reads the daemon's memory every
// opts.SampleEvery until stop is closed, and once more then.
func sample(opts Options, sent *atomic.Int64, mem *memory, stop <-chan struct{}) {
	t := time.NewTicker(opts.SampleEvery)
	defer t.Stop()
	half := int64(opts.Messages / 2)
	for {
		n := sent.Load()
		if opts.Sample != nil {
			opts.Sample(int(n))
		}
		if mem != nil {
			mem.sample(n >= half)
		}
		select {
		case <-stop:
			if mem != nil {
				mem.sample(true)
			}
			return
		case <-t.C:
		}
	}
}
