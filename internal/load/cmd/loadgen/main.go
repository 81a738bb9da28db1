// Command loadgen puts the load of issue #6 on a running `bootsplash run`:
// clients sending requests as fast as the daemon answers them over its
// native socket, plymouth's socket and psplash's FIFO at once, while a
// separate connection pings it. It prints what it measured (requests per
// second, ping round trips, the daemon's memory) and exits 3 when a ping
// took longer than the limit. This is what to run on a real device:
//
//	bootsplash run &
//	loadgen --pid-of bootsplash
//
// After the load the splash must show the final state the report names.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/bootsplash/bootsplash/internal/load"
	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/plymouth"
)

// Exit statuses besides 0.
const (
	exitError = 1 // the load could not run, or a request was refused
	exitUsage = 2
	exitSlow  = 3 // a ping took longer than --ping-limit
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(exitUsage)
	case errors.Is(err, errSlow):
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(exitSlow)
	}
	fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
	os.Exit(exitError)
}

var (
	// errUsage marks command-line mistakes.
	errUsage = errors.New("usage")
	// errSlow says the daemon did not stay responsive.
	errSlow = errors.New("the daemon was slow to answer pings")
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	def := load.DefaultOptions()
	fs := pflag.NewFlagSet("loadgen", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	socket := fs.String("socket", control.DefaultSocket, "the daemon's native control socket")
	psplashDir := fs.String("psplash-dir", "", "directory of psplash_fifo (default: $PSPLASH_FIFO_DIR or /run)")
	plymouthName := fs.String("plymouth-name", plymouth.SocketName, "plymouth's abstract socket, without the leading NUL")
	clients := fs.IntP("clients", "c", def.Clients, "clients sending at once")
	plymouthClients := fs.Int("plymouth", def.Plymouth, "clients of them on plymouth's socket")
	psplashClients := fs.Int("psplash", def.Psplash, "clients of them writing psplash's FIFO")
	messages := fs.IntP("messages", "n", def.Messages, "requests the clients send in all")
	pingEvery := fs.Duration("ping-every", def.PingEvery, "pause between two pings")
	pingLimit := fs.Duration("ping-limit", def.PingLimit, "the round trip every ping must stay under")
	pid := fs.Int("pid", 0, "the daemon's process, whose memory is sampled from /proc/PID/status")
	pidOf := fs.String("pid-of", "", "find the daemon's process by its command name, as pidof does (bootsplash)")
	sampleEvery := fs.Duration("sample-every", def.SampleEvery, "how often to read the daemon's /proc/PID/status")
	wait := fs.Duration("wait", def.Wait, "how long to wait for the daemon's sockets and FIFO to appear")
	asJSON := fs.Bool("json", false, "print the report as one line of JSON after the table")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *pid != 0 && *pidOf != "" {
		return fmt.Errorf("%w: give --pid or --pid-of, not both", errUsage)
	}
	opts := def
	opts.Socket, opts.PsplashDir, opts.PlymouthName = *socket, *psplashDir, *plymouthName
	opts.Clients, opts.Plymouth, opts.Psplash, opts.Messages = *clients, *plymouthClients, *psplashClients, *messages
	opts.PingEvery, opts.PingLimit, opts.Wait, opts.PID, opts.SampleEvery = *pingEvery, *pingLimit, *wait, *pid, *sampleEvery
	if *pidOf != "" {
		var err error
		if opts.PID, err = load.FindPID(*pidOf); err != nil {
			return fmt.Errorf("--pid-of: %w", err)
		}
	}
	rep, err := load.Run(ctx, opts)
	if err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if *asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if !rep.Responsive() {
		return fmt.Errorf("%w: %d of %d pings took longer than %v (max %v)", errSlow, rep.SlowPings, rep.Pings, rep.PingLimit, rep.PingMax)
	}
	return nil
}
