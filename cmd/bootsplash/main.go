// Command bootsplash shows a splash screen on a Linux display from a dma-buf
// heap buffer imported into KMS, the way an in-kernel DRM client would.
//
//	bootsplash run      show the splash until SIGTERM or SIGINT
//	bootsplash render   write the frame `run` would show to a PNG
//	bootsplash prerender  write run's first frame per panel size, for the initramfs
//	bootsplash info     describe display devices, heaps and udmabuf
//	bootsplash status   show a status screen (host, addresses, load, log, ...)
//	bootsplash version  print what the binary was built from
package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/firstframe"
	"github.com/bootsplash/bootsplash/splash/input"
	"github.com/bootsplash/bootsplash/splash/theme"
	"github.com/bootsplash/bootsplash/text/locale"
)

const usage = `Usage: bootsplash COMMAND [flags]

Commands:
  run      show the splash on the first connected display until SIGTERM/SIGINT
  render   write the frame "run" would show to a PNG, with no device
  prerender  write the first frame per panel size, raw, for run to copy to the screen before it renders
  info     describe display devices, dma-buf heaps and udmabuf
  theme    check theme files: bootsplash theme check FILE
  study    measure the CPU access strategies (cached, per-access, shadow, ...) on this machine
  ctl      drive a running splash: progress, message, status, show, hide, quit, ...
  status   show a status screen: host, addresses, uptime, load, memory, disk, clock, a log's last lines
  preview  show the splash in a desktop window (a build with -tags preview)
  version  print the version, VCS revision and Go version (also --version)

Run "bootsplash COMMAND --help" for a command's flags.
`

func main() {
	start := time.Now()
	oneCPU()
	if verboseRun(os.Args[1:]) {
		// The time before main, for run -v's account of the first frame.
		preMain = beforeMain()
	}
	if err := run(start, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "bootsplash: %v\n", err)
		}
		os.Exit(exitCode(err))
	}
}

// oneCPU gives the runtime a second processor (P) on a machine with one
// CPU, unless GOMAXPROCS is set. With one P, each system call that lasts
// past a tick of the runtime's monitor has its P handed to another thread,
// which is woken for it, while the call runs; the monitor, having found
// work, wakes again every 20 µs. A splash's way to the first frame is a
// chain of such calls, and on one CPU every hand-off is two context
// switches taken from it. With an idle P to spare, a call shorter than
// 10 ms keeps its P, and the monitor backs off. Goroutines can then run
// on two threads, which the kernel shares out on the one CPU.
func oneCPU() {
	if runtime.NumCPU() == 1 && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
}

// preMain is how long the process ran before main, measured only for
// run -v (0 otherwise).
var preMain time.Duration

// verboseRun says whether args ask for run -v, without parsing them.
func verboseRun(args []string) bool {
	if len(args) == 0 || args[0] != "run" {
		return false
	}
	for _, a := range args[1:] {
		if a == "-v" || a == "--verbose" || a == "--verbose=true" {
			return true
		}
	}
	return false
}

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

func exitCode(err error) int {
	switch {
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}

func run(start time.Time, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command", errUsage)
	}
	switch args[0] {
	case "run":
		return cmdRun(start, args[1:], stderr)
	case "render":
		return cmdRender(args[1:], stderr)
	case "prerender":
		return cmdPrerender(args[1:], stdout, stderr)
	case "theme":
		return cmdTheme(args[1:], stdout, stderr)
	case "info":
		return cmdInfo(args[1:], stdout, stderr)
	case "study":
		return cmdStudy(args[1:], stdout, stderr)
	case "ctl":
		return cmdCtl(args[1:], stdout, stderr)
	case "status":
		return cmdStatus(args[1:], stderr)
	case "preview":
		return cmdPreview(args[1:], stderr)
	case "version", "--version":
		return cmdVersion(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func newFlags(name string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	return fs
}

func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

func logger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(newLineHandler(w, level))
}

// keyboardSource is the keyboard --keyboard and --keymap name.
func keyboardSource(kind, keymap string, backend splash.Backend, log *slog.Logger) (input.Source, error) {
	var layout *input.Layout // nil: the system's, looked up when a question first opens evdev
	if keymap != "" {
		var err error
		if layout, err = input.ParseLayout(keymap); err != nil {
			return nil, fmt.Errorf("%w: --keymap: %v", errUsage, err)
		}
	}
	switch kind {
	case "auto":
		if backend == splash.BackendEmu {
			return nil, nil // a picture in a file: nobody types at it
		}
		return &input.Auto{Evdev: input.Evdev{Layout: layout}, Log: log}, nil
	case "tty":
		return &input.TTY{}, nil
	case "evdev":
		return &input.Evdev{Layout: layout, Log: log}, nil
	case "none":
		return nil, nil
	}
	return nil, fmt.Errorf("%w: --keyboard %q: want auto, tty, evdev or none", errUsage, kind)
}

func cmdRun(start time.Time, args []string, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	device := fs.String("device", "", "DRM device node (default: the first KMS-capable /dev/dri/card*)")
	mode := fs.String("mode", "", "display mode WxH (default: the connector's preferred mode)")
	heap := fs.String("heap", "", `dma-buf heap name, the only heap tried (default: every heap, in the order the device needs: a CMA heap first for a display that scans out only contiguous memory, "system" first otherwise; bootsplash info shows it)`)
	buffer := fs.String("buffer", "auto", "buffer source: auto, heap, udmabuf or dumb")
	strategy := fs.String("access", "cached", "CPU access: cached, per-access, nosync, shadow or guarded")
	backend := fs.String("backend", "auto", "auto (KMS if a display device exists, else /dev/fb0, else emulated unless a boot splash: then it waits for a display), kms, fbdev or emu")
	out := fs.String("out", "bootsplash.png", "emulated backend: PNG file the frame is written to")
	size := fs.String("size", "1024x768", "emulated backend: display size WxH")
	buffers := fs.Int("buffers", 1, "1 (draw in place) or 2 (double-buffered, flipped on vblank)")
	legacy := fs.Bool("legacy", false, "use the legacy KMS ioctls even where atomic commits work")
	theme := fs.String("theme", "", "theme file (default: the embedded theme)")
	frames := fs.String("frames", firstframe.DefaultDir, `directory of the first frames bootsplash prerender drew, shown before the theme is rendered ("" for none)`)
	scale := fs.Float64("scale", 0, "output scale, 0.25 to 8 (default: from the display's physical size)")
	rotate := fs.String("rotate", "0", "rotation on the way to the panel, on top of its orientation: 0, 90, 180 or 270")
	socket := fs.String("socket", control.DefaultSocket, `bootsplash's control socket ("" for none)`)
	psplashFIFO := fs.Bool("psplash", true, "accept psplash commands on $PSPLASH_FIFO_DIR/psplash_fifo")
	psplashDir := fs.String("psplash-dir", "", "directory of psplash_fifo (default: $PSPLASH_FIFO_DIR or /run)")
	plymouthSock := fs.Bool("plymouth", true, "accept plymouth's boot protocol on its abstract socket")
	plymouthName := fs.String("plymouth-name", "", `plymouth's abstract socket name, without the leading NUL (default "/org/freedesktop/plymouthd")`)
	keyboard := fs.String("keyboard", "auto", "where questions are answered from: auto (the VT's tty, else evdev; none with --backend emu), tty, evdev or none")
	keymap := fs.String("keymap", "", "evdev's keyboard layout where there is no VT: us, de or fr (default: the system's, from rd.vconsole.keymap= or vconsole.keymap= on the kernel command line, KEYMAP= in /etc/vconsole.conf or XKBLAYOUT= in /etc/default/keyboard, else us; a VT's tty uses the console's keymap)")
	kernelLog := fs.String("kernel-log", "/dev/kmsg", `the kernel's log the details view (Escape, ctl details) shows ("" for none)`)
	bootLog := fs.String("boot-log", "/var/log/boot.log", `where the details view's lines are written once the root filesystem is writable (plymouth update-root-fs --read-write; "" for nowhere)`)
	masterWait := fs.Duration("master-wait", 5*time.Second, "how long to wait for DRM master while another process holds it (0: fail at once)")
	duration := fs.Duration("for", 0, "quit after this long (default: run until SIGTERM or SIGINT)")
	verbose := fs.BoolP("verbose", "v", false, "log debug detail")
	lang := fs.String("lang", "", "locale of the splash's own strings, such as ar or zh_CN.UTF-8 (default: the system's: LC_ALL, LC_MESSAGES, LANG, else locale.LANG= on the kernel command line, else /etc/locale.conf)")
	progress := fs.Float64("progress", 0, "boot progress in the first frame, in percent (0 to 100); negative: unknown (the bar pulses)")
	message := fs.String("message", "", "message line in the first frame (ctl message changes it)")
	status := fs.String("status", "", "status line in the first frame (ctl status changes it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	initial, err := percentProgress("--progress", *progress)
	if err != nil {
		return err
	}
	cfg := splash.Config{Initial: splash.State{Progress: initial, Message: *message, Status: *status}, Lang: *lang, Device: *device, Heap: *heap, Out: *out, Buffers: *buffers, Legacy: *legacy, Theme: *theme, Scale: *scale,
		Control: splash.ControlConfig{Native: *socket != "", Socket: *socket, Psplash: *psplashFIFO, PsplashDir: *psplashDir, Plymouth: *plymouthSock, PlymouthName: *plymouthName},
		Start:   start, BeforeMain: preMain, Log: logger(stderr, *verbose), MasterWait: *masterWait}
	if *buffers != 1 && *buffers != 2 {
		return fmt.Errorf("%w: --buffers %d: want 1 or 2", errUsage, *buffers)
	}
	if cfg.Backend, err = splash.ParseBackend(*backend); err != nil {
		return fmt.Errorf("%w: --backend: %v", errUsage, err)
	}
	if cfg.Input, err = keyboardSource(*keyboard, *keymap, cfg.Backend, cfg.Log); err != nil {
		return err
	}
	cfg.KernelLog, cfg.BootLog = *kernelLog, *bootLog
	if cfg.Buffer, err = client.ParseSource(*buffer); err != nil {
		return fmt.Errorf("%w: --buffer: %v", errUsage, err)
	}
	if cfg.Access, err = access.ParseStrategy(*strategy); err != nil {
		return fmt.Errorf("%w: --access: %v", errUsage, err)
	}
	if *mode != "" {
		if cfg.Mode.X, cfg.Mode.Y, err = parseSize("--mode", *mode, 0); err != nil {
			return err
		}
	}
	// The emulated display's buffers, and the copy written to --out,
	// checked against the memory there is only when a size is asked for:
	// the default fits, and reading the system's and the cgroup's memory
	// has no place on a display device's way to the first frame.
	emuBytes := 0
	if fs.Changed("size") {
		emuBytes = 4*(*buffers) + 4
	}
	if cfg.EmuSize.X, cfg.EmuSize.Y, err = parseSize("--size", *size, emuBytes); err != nil {
		return err
	}
	if cfg.Rotation, err = parseRotation(*rotate); err != nil {
		return fmt.Errorf("%w: --rotate: %v", errUsage, err)
	}
	if err := checkScale(*scale); err != nil {
		return err
	}
	if err := checkWait("--master-wait", *masterWait, "fail at once"); err != nil {
		return err
	}
	if err := checkWait("--for", *duration, "until SIGTERM or SIGINT"); err != nil {
		return err
	}
	// A pre-rendered frame shows the state prerender drew: none when the
	// first frame is to show another. A theme file's frame is checked
	// against the theme's files as they are now.
	if *frames != "" && cfg.Initial == (splash.State{}) {
		cfg.Open = openWithFrame(*frames, *theme, *scale, start, cfg.Log)
	}
	cfg.Ready = func() {
		if err := sdNotify("READY=1"); err != nil {
			cfg.Log.Warn(err.Error())
		}
	}

	// SIGTERM and SIGINT end the run after the frame being drawn; SIGHUP
	// reloads the theme.
	sinceMain(cfg, "flags parsed")
	// One goroutine serves all three: on one CPU each goroutine started
	// before the first frame is a thread woken or made on its way.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	term, hup := make(chan os.Signal, 1), make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(term)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	cfg.Reload = reload
	go func() {
		for {
			select {
			case <-term:
				stop()
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // a reload is already asked for
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	sinceMain(cfg, "signals set up")
	return runUntilStopped(ctx, cfg)
}

// sinceMain logs, at debug level, how long after main the way to the
// first frame reached what, for run -v's account of the time before the
// device is opened.
func sinceMain(cfg splash.Config, what string) {
	cfg.Log.Debug(what+" (since main)", "at_ms", fmt.Sprintf("%.2f", float64(time.Since(cfg.Start).Microseconds())/1000))
}

func cmdRender(args []string, stderr io.Writer) error {
	fs := newFlags("render", stderr)
	size := fs.String("size", "1024x768", "panel size WxH")
	out := fs.StringP("out", "o", "", "PNG file to write (required)")
	themePath := fs.String("theme", "", "theme file (default: the embedded theme)")
	progress := fs.Float64("progress", 0, "boot progress in percent, 0 to 100 as ctl progress takes it; negative: unknown (the bar pulses)")
	message := fs.String("message", "", "message line")
	status := fs.String("status", "", "status line")
	frame := fs.Int("frame", 0, "animation frame (spinner, pulse)")
	scale := fs.Float64("scale", 0, "output scale, 0.25 to 8 (default: guessed from the size)")
	rotate := fs.String("rotate", "0", "rotation on the way to the panel: 0, 90, 180 or 270")
	prompt := fs.String("prompt", "", "a password prompt with this text, as ask-password draws it")
	bullets := fs.Int("bullets", 0, "with --prompt: the characters typed")
	retry := fs.Bool("retry", false, "with --prompt: the retry line")
	capsLock := fs.Bool("caps-lock", false, "with --prompt: the Caps Lock line")
	lang := fs.String("lang", "", "locale of the splash's own strings (an empty --prompt, the retry, Caps Lock and details lines), such as ar or zh_CN.UTF-8 (default: the system's, as run finds it)")
	bgrt := fs.String("bgrt", "", "the firmware's logo for a theme that takes it: a directory laid out as /sys/firmware/acpi/bgrt (image, xoffset, yoffset, status, type)")
	fwMode := fs.String("firmware-mode", "", "with --bgrt: the size WxH of the mode the firmware drew its logo in (default: --size, the splash drawn in the firmware's mode)")
	secureBoot := fs.String("secure-boot", "", "what the firmware says of Secure Boot, for a theme with a [secure_boot] line: on or off (default: not known, no line; a render reads no firmware)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !fs.Changed("lang") {
		*lang = locale.System()
	}
	if *out == "" {
		return fmt.Errorf("%w: render needs --out FILE.png", errUsage)
	}
	if fs.Changed("firmware-mode") && *bgrt == "" {
		return fmt.Errorf("%w: --firmware-mode needs --bgrt", errUsage)
	}
	if err := checkCount("--bullets", *bullets, 0, 4096); err != nil {
		return err
	}
	if !fs.Changed("prompt") && (*bullets != 0 || *retry || *capsLock) {
		return fmt.Errorf("%w: --bullets, --retry and --caps-lock need --prompt", errUsage)
	}
	// The frame's buffer and the copy written to --out.
	w, h, err := parseSize("--size", *size, 8)
	if err != nil {
		return err
	}
	if err := checkScale(*scale); err != nil {
		return err
	}
	if err := checkCount("--frame", *frame, 0, math.MaxInt); err != nil {
		return err
	}
	p, err := percentProgress("--progress", *progress)
	if err != nil {
		return err
	}
	opt := splash.FrameOptions{Width: w, Height: h, Scale: *scale, Lang: *lang,
		State: splash.State{Progress: p, Message: *message, Status: *status, Frame: *frame}}
	if fs.Changed("prompt") {
		opt.State.Prompt = splash.Prompt{Active: true, Password: true, Text: *prompt, Bullets: *bullets, Retry: *retry, CapsLock: *capsLock}
	}
	if opt.Rotation, err = parseRotation(*rotate); err != nil {
		return fmt.Errorf("%w: --rotate: %v", errUsage, err)
	}
	if *bgrt != "" {
		if opt.FirmwareLogo, err = display.ReadFirmwareLogo(*bgrt); err != nil {
			return fmt.Errorf("--bgrt: %w", err)
		}
		if *fwMode != "" {
			x, y, err := parseSize("--firmware-mode", *fwMode, 1)
			if err != nil {
				return err
			}
			opt.FirmwareMode = image.Pt(x, y)
		}
	}
	if fs.Changed("secure-boot") {
		if opt.SecureBoot, err = display.ParseSecureBoot(*secureBoot); err != nil {
			return fmt.Errorf("%w: --secure-boot: %v", errUsage, err)
		}
	}
	if *themePath != "" {
		if opt.Theme, err = theme.Load(*themePath, theme.Options{}); err != nil {
			return err
		}
	}
	return splash.RenderFrame(*out, opt)
}

func cmdInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("info", stderr)
	device := fs.String("device", "", "describe only this DRM device node")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	r := gatherInfo(*device)
	write := r.writeText
	if *asJSON {
		write = r.writeJSON
	}
	if err := write(stdout); err != nil {
		return err
	}
	// The device asked for must be one: say so in the exit status.
	if *device != "" && len(r.Devices) == 0 && len(r.DeviceErrors) > 0 {
		return errors.New(r.DeviceErrors[0]) // it names the device
	}
	return nil
}
