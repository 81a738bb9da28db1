// Command status is the smallest program that shows bootsplash's status
// screen: an emulated 800x480 display whose picture is written to
// status.png on every update, the standard fields plus one of its own, and
// the last lines of a log file when one is named. Run it with
//
//	go run ./examples/status [LOGFILE]
//
// and watch status.png; stop it with Ctrl-C. `bootsplash status` is the
// same screen on a real display (KMS), with flags.
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

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/fbemu"
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

	// A display without a device: its buffers are memory, and SavePNG
	// shows what it would scan out.
	disp, err := fbemu.NewEmulated(800, 480, fbemu.XRGB8888, access.Cached)
	if err != nil {
		return err
	}
	defer disp.Close()

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

	scr, err := status.New(disp.Framebuffer, opt)
	if err != nil {
		return err
	}
	// Once a second: redraw what changed, and save the picture if
	// anything did.
	return scr.Run(ctx, func(ctx context.Context, u status.Update) error {
		if u.Pixels == 0 {
			return nil
		}
		fmt.Printf("%d regions redrawn, %d pixels of damage\n", u.Regions, u.Pixels)
		return disp.SavePNGContext(ctx, "status.png")
	})
}
