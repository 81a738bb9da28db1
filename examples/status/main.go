// Command status is the smallest program that shows bootsplash's status
// screen: on the display (KMS) when there is one, else on the emulated
// display, whose picture is written to status.png on every update; the
// standard fields plus one of its own, and the last lines of a log file
// when one is named. Run it with
//
//	go run ./examples/status [LOGFILE]
//
// and stop it with Ctrl-C. `bootsplash status` is the same screen with
// flags.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/internal/status"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	// Stop cleanly on Ctrl-C and on SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The standard fields, and one of our own: a field is a label and a
	// function that gives its text at each update.
	fields := status.Standard(status.System(), "/", "15:04:05")
	fields = append(fields, status.Field{Label: "goroutines", Value: func(time.Time) string {
		return fmt.Sprint(runtime.NumGoroutine())
	}})
	opt := status.Options{Fields: fields}
	if len(os.Args) > 1 {
		tail, err := status.OpenTail(os.Args[1], status.TailOptions{})
		if err != nil {
			return err
		}
		defer tail.Close()
		opt.Log = tail
	}

	// KMS if there is a display device, else the emulated display.
	disp, err := display.Open(ctx, display.Options{Out: "status.png"})
	if err != nil {
		return err
	}
	defer disp.Close()
	fmt.Printf("%v: %s\n", disp.Kind(), disp.Why())

	// Once a second, on every output: redraw what changed.
	return status.Show(ctx, disp, opt, func(h *display.Head, u status.Update) {
		if u.Pixels > 0 {
			fmt.Printf("%s: %d regions redrawn, %d pixels of damage\n", h.Name, u.Regions, u.Pixels)
		}
	})
}
