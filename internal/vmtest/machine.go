package vmtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// Device is an emulated display device of the test matrix.
type Device string

// The display devices the suite boots with.
const (
	// Cirrus is QEMU's cirrus-vga, driven by the cirrus DRM driver: heap
	// buffers import over PRIME.
	Cirrus Device = "cirrus"
	// Bochs is QEMU's standard VGA, driven by bochs: VRAM helper, no import.
	Bochs Device = "bochs"
	// Virtio is virtio-gpu-pci with two outputs: dumb buffers, damage
	// required, hotplug.
	Virtio Device = "virtio"
	// BochsDisplay is QEMU's bochs-display (the bochs DRM driver, no VGA
	// compatibility), the display device QEMU 7.2 can unplug and plug
	// while the guest runs (device_del, device_add); it is not in the
	// matrix.
	BochsDisplay Device = "bochs-display"
	// VirtioVGA is virtio-vga: virtio-gpu with QEMU's standard VGA
	// beside it, on which OVMF's GOP sets its mode (efifb) until the
	// virtio-gpu driver takes the device; it is not in the matrix.
	VirtioVGA Device = "virtio-vga"
	// PL111 is the ARM PrimeCell CLCD controller built into the vexpress
	// boards, driven by pl111_drm through the GEM DMA helper: it scans out
	// contiguous memory only (no IOMMU). QEMU gives it no id.
	PL111 Device = "pl111"
	// Ramfb is QEMU's ramfb: a framebuffer in guest memory that the
	// firmware sets up through fw_cfg and no kernel driver knows. UEFI's
	// GOP lights it, the EFI stub passes the mode on, and simpledrm drives
	// it as the simple-framebuffer sysfb makes of it (built into the
	// kernel: no module).
	Ramfb Device = "ramfb"
)

// DisplayID is the QOM id the display device gets, for screendump's device
// argument and for device_del.
const DisplayID = "display0"

// QEMUArgs returns the QEMU options that create the device.
func (d Device) QEMUArgs() ([]string, error) {
	switch d {
	case Cirrus:
		return []string{"-vga", "none", "-device", "cirrus-vga,id=" + DisplayID}, nil
	case Bochs:
		return []string{"-vga", "none", "-device", "VGA,id=" + DisplayID}, nil
	case Virtio:
		return []string{"-vga", "none", "-device", "virtio-gpu-pci,max_outputs=2,id=" + DisplayID}, nil
	case BochsDisplay:
		return []string{"-vga", "none", "-device", "bochs-display,id=" + DisplayID}, nil
	case VirtioVGA:
		return []string{"-vga", "none", "-device", "virtio-vga,id=" + DisplayID}, nil
	case PL111:
		return nil, nil // part of the board
	case Ramfb:
		return []string{"-device", "ramfb,id=" + DisplayID}, nil
	}
	return nil, fmt.Errorf("unknown display device %q (want cirrus, bochs, virtio, bochs-display, virtio-vga, pl111 or ramfb)", string(d))
}

// Modules returns the DRM driver module of the device (its dependencies
// are found by OrderModules).
func (d Device) Modules() []ModuleSpec {
	switch d {
	case Cirrus:
		return []ModuleSpec{{Name: "cirrus"}}
	case Bochs, BochsDisplay:
		return []ModuleSpec{{Name: "bochs"}}
	case Virtio, VirtioVGA:
		return []ModuleSpec{{Name: "virtio_pci", Optional: true}, {Name: "virtio-gpu"}}
	case PL111:
		// Built in where the kernel was built for the board.
		return []ModuleSpec{{Name: "pl111_drm", Optional: true}}
	}
	return nil
}

// File is a file to put into the guest.
type File struct {
	// Path is the absolute path in the guest.
	Path string
	// HostPath is a host file to copy; Data is used when it is empty.
	HostPath string
	Data     []byte
	// Mode is used with Data; 0 means 0644.
	Mode os.FileMode
}

// HostFunc is what the host does when the plan reaches a host step: take a
// screendump, plug a device. The guest waits until it returns; its error is
// the step's failure.
type HostFunc func(ctx context.Context, m *Machine) error

// Config describes one boot.
type Config struct {
	Kernel *KernelTree
	// Board is the emulated machine; the zero value is PC. It must be of
	// the kernel's architecture and have Device.
	Board  Board
	Device Device
	// Modules to load in this order (dependencies are added before each)
	// before waiting for Plan.WaitPaths; nil means the device's driver.
	Modules []ModuleSpec
	// LateModules are loaded after Plan.WaitPaths appeared; nil means
	// vgem, which must not take card0 from the display device.
	LateModules []ModuleSpec
	// ModuleParams gives parameters to modules by name, whether asked for
	// in Modules or pulled in as a dependency:
	// {"drm_kms_helper": "fbdev_emulation=0"}.
	ModuleParams map[string]string
	// Plan is what the guest runs; its Modules are filled in from Modules.
	Plan proto.Plan
	// Host holds the host's action for each host step, by step name.
	Host map[string]HostFunc
	// Files are put into the initramfs besides /init, the plan and the
	// modules.
	Files []File
	// GuestInit is the static guest init binary (see BuildGuestInit).
	GuestInit string
	// WorkDir receives the initramfs, the console log and the transcript;
	// a temporary directory (removed afterwards) when empty.
	WorkDir string
	// MemoryMB is the guest's memory; 0 means the board's default (512
	// MiB on the PC).
	MemoryMB int
	// Timeout bounds the whole boot; 0 means 3 minutes.
	Timeout time.Duration
	// Logf receives progress: console lines, step starts and ends, and,
	// with StreamOutput, every line of step output.
	Logf         func(format string, args ...any)
	StreamOutput bool
	// QEMU is the emulator binary; the board architecture's
	// (qemu-system-x86_64 for the PC) when empty.
	QEMU string
	// ExtraArgs are appended to QEMU's command line.
	ExtraArgs []string
	// Append is added to the kernel command line ("cma=64M").
	Append []string
}

// Result is what became of one step.
type Result struct {
	Name string
	// Started is set once the guest began the step.
	Started bool
	// Exited is set once the step ended; Code is then its exit status
	// (-1 when it did not exit by itself) and Note says why when it did not
	// exit normally.
	Exited bool
	Code   int
	Note   string
	// Output is the step's combined stdout and stderr.
	Output []byte
	// Waited is set when a background step's output contained WaitFor.
	Waited bool
	// Duration runs from start to exit (guest clock).
	Duration time.Duration
	// Start is the guest's uptime when the step started.
	Start time.Duration
	// HostStart is the host's time when the guest's word that the step
	// starts arrived: for a command, just before the guest execs it.
	HostStart time.Time

	startMs int64
}

// OK reports whether the step ran and exited with status 0.
func (r *Result) OK() bool { return r != nil && r.Exited && r.Code == 0 }

// Report is what one boot produced.
type Report struct {
	// Release is the guest kernel's uname -r.
	Release string
	// Results holds each step's result by step name.
	Results map[string]*Result
	// Ready is the wall time from starting QEMU to the guest being ready
	// (modules loaded, devices present).
	Ready time.Duration
	// Wall is the wall time of the whole boot, QEMU start to exit.
	Wall time.Duration
	// Done is set when the guest ran the whole plan.
	Done bool
	// Fatal is the guest init's reason to give up, if it did.
	Fatal string
	// Console is the kernel console output.
	Console []byte
	// Log is the guest init's own log lines.
	Log []string
	// WorkDir is where the console log and transcript were written (empty
	// when it was a removed temporary directory).
	WorkDir string
}

// Step returns the result of the named step, or an empty one when the step
// never started.
func (r *Report) Step(name string) *Result {
	if res, ok := r.Results[name]; ok {
		return res
	}
	return &Result{Name: name}
}

// Machine is a running guest, as the host actions see it.
type Machine struct {
	cfg  Config
	work string
	qmp  *QMP
	rep  *Report
	// The current host step's message: the guest's uptime when it sent it
	// and the host's time when it arrived.
	stepGuest time.Duration
	stepHost  time.Time
}

// Result returns what has become of the named step so far (the steps
// before the current host step have finished).
func (m *Machine) Result(step string) *Result { return m.rep.Step(step) }

// GuestUptime estimates the guest's uptime at the host's time t, from
// when the current host step's message was sent and when it arrived (the
// control line's delay is counted as none).
func (m *Machine) GuestUptime(t time.Time) time.Duration {
	return m.stepGuest + t.Sub(m.stepHost)
}

// QMP returns the machine's QMP client (for device_add, device_del, ...).
func (m *Machine) QMP() *QMP { return m.qmp }

// WorkDir is the boot's working directory on the host.
func (m *Machine) WorkDir() string { return m.work }

// Screendump captures what the display device's output head shows (head -1:
// the default console, normally the first output) and returns it decoded;
// the PPM is kept in the work directory under name.
func (m *Machine) Screendump(name string, head int) (*image.RGBA, error) {
	p := filepath.Join(m.work, name+".ppm")
	device := ""
	if head >= 0 {
		device = DisplayID // QEMU takes a head only together with a device
	}
	if err := m.qmp.Screendump(p, device, head); err != nil {
		return nil, err
	}
	return ReadPPM(p)
}

// ScreendumpOf is Screendump of a display device given by its QOM id (one
// plugged in later has its own).
func (m *Machine) ScreendumpOf(name, device string, head int) (*image.RGBA, error) {
	p := filepath.Join(m.work, name+".ppm")
	if err := m.qmp.Screendump(p, device, head); err != nil {
		return nil, err
	}
	return ReadPPM(p)
}

// StableScreendump takes screendumps every interval until two in a row are
// equal (at most tries of them), so that a frame the guest has just
// submitted has reached the emulated display: virtio-gpu, for one, uploads
// and flushes asynchronously. It returns the last screendump and whether it
// was stable.
func (m *Machine) StableScreendump(name string, head int, interval time.Duration, tries int) (*image.RGBA, bool, error) {
	prev, err := m.Screendump(name, head)
	if err != nil {
		return nil, false, err
	}
	for i := 1; i < tries; i++ {
		time.Sleep(interval)
		img, err := m.Screendump(name, head)
		if err != nil {
			return nil, false, err
		}
		if img.Rect == prev.Rect && bytes.Equal(img.Pix, prev.Pix) {
			return img, true, nil
		}
		prev = img
	}
	return prev, false, nil
}

// BootError is a boot that did not run its plan to the end.
type BootError struct {
	Device  Device
	Kernel  string
	Reason  string
	Console string // what of the kernel console explains the failure
	QEMU    string // QEMU's own stderr
}

// Error says what failed and why.
func (e *BootError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "boot %s on %s: %s", e.Kernel, e.Device, e.Reason)
	if e.QEMU != "" {
		fmt.Fprintf(&b, "\nqemu stderr:\n%s", strings.TrimSpace(e.QEMU))
	}
	if e.Console != "" {
		fmt.Fprintf(&b, "\nconsole:\n%s", e.Console)
	}
	return b.String()
}

// consoleExcerpt returns what of the console explains a failed boot: from
// the first line of a kernel panic, oops or BUG (at most 60 lines), or else
// the last 40 lines.
func consoleExcerpt(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i, l := range lines {
		if strings.Contains(l, "Kernel panic") || strings.Contains(l, "BUG:") || strings.Contains(l, "Oops:") {
			if i > 0 {
				i-- // the line before often says what triggered it
			}
			end := min(len(lines), i+60)
			return strings.Join(lines[i:end], "\n")
		}
	}
	return tailLines(b, 40)
}

func tailLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

// Boot builds the initramfs, boots QEMU, runs the plan (answering host
// steps), and returns what happened. The error is non-nil when the guest did
// not finish its plan (a panic, a hang, a fatal error in init); the Report
// is returned even then, with whatever results came in.
func Boot(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	// Nothing may log after Boot returns (testing.T panics on that).
	var logMu sync.Mutex
	logOpen := true
	userLogf := cfg.Logf
	cfg.Logf = func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		if logOpen {
			userLogf(format, args...)
		}
	}
	defer func() {
		logMu.Lock()
		logOpen = false
		logMu.Unlock()
	}()
	if cfg.Timeout == 0 {
		cfg.Timeout = 3 * time.Minute
	}
	if cfg.Board == "" {
		cfg.Board = PC
	}
	board, err := cfg.Board.spec()
	if err != nil {
		return nil, err
	}
	if err := board.check(cfg.Board, cfg.Device); err != nil {
		return nil, err
	}
	if err := board.checkFirmware(cfg.Board); err != nil {
		return nil, err
	}
	if cfg.Kernel.Arch != "" && cfg.Kernel.Arch != board.arch { // empty: the board's
		return nil, fmt.Errorf("kernel %s is for %s, board %s is %s", cfg.Kernel.Package, cfg.Kernel.Arch, cfg.Board, board.arch)
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = board.memoryMB
	}
	qemuPkg := ""
	if cfg.QEMU == "" {
		cfg.QEMU, qemuPkg = board.arch.QEMU()
	}
	if cfg.Modules == nil {
		cfg.Modules = cfg.Device.Modules()
	}
	if cfg.LateModules == nil {
		// Kernels built for one board have no vgem.
		cfg.LateModules = []ModuleSpec{{Name: "vgem", Optional: cfg.Board != PC}}
	}
	devArgs, err := cfg.Device.QEMUArgs()
	if err != nil {
		return nil, err
	}
	qemu, err := exec.LookPath(cfg.QEMU)
	if err != nil {
		if qemuPkg != "" {
			return nil, fmt.Errorf("%s not found (apt-get install %s): %w", cfg.QEMU, qemuPkg, err)
		}
		return nil, fmt.Errorf("%s not found: %w", cfg.QEMU, err)
	}
	rep := &Report{Results: map[string]*Result{}}
	work := cfg.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "vmtest-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(work)
	} else {
		if err := os.MkdirAll(work, 0o755); err != nil {
			return nil, err
		}
		rep.WorkDir = work
	}
	// Unix socket paths must stay short (108 bytes): keep them in their
	// own short temporary directory.
	sockDir, err := os.MkdirTemp("", "vmsock-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(sockDir)

	initrd := filepath.Join(work, "initrd.cpio.gz")
	if err := buildInitramfs(&cfg, board.control, initrd); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	ctlSock := filepath.Join(sockDir, "ctl")
	qmpSock := filepath.Join(sockDir, "qmp")
	args := qemuArgs(&cfg, board, initrd, ctlSock, qmpSock)
	args = append(args, devArgs...)
	args = append(args, cfg.ExtraArgs...)

	consoleFile, err := os.Create(filepath.Join(work, "console.log"))
	if err != nil {
		return nil, err
	}
	defer consoleFile.Close()
	transcript, err := os.Create(filepath.Join(work, "transcript.log"))
	if err != nil {
		return nil, err
	}
	defer transcript.Close()
	fmt.Fprintf(transcript, "%s %s\n", qemu, strings.Join(args, " "))

	cmd := exec.Command(qemu, args...)
	dieWithParent(cmd)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	conOut, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", qemu, err)
	}
	cfg.Logf("boot %s (%s) on %s %s", cfg.Kernel.Release, cfg.Kernel.Package, cfg.Board, cfg.Device)
	exited := make(chan error, 1)
	var console lockedBuffer
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		sc := bufio.NewScanner(conOut)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			console.Write([]byte(line + "\n"))
			consoleFile.WriteString(line + "\n")
			cfg.Logf("console: %s", line)
		}
	}()
	go func() {
		<-consoleDone
		exited <- cmd.Wait()
	}()
	qemuExited := false
	defer func() {
		// A panicking host action must not leave QEMU behind.
		if !qemuExited {
			_ = cmd.Process.Kill()
		}
	}()
	finish := func(reason string) error {
		if !qemuExited {
			_ = cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
			}
			qemuExited = true
		}
		rep.Wall = time.Since(start)
		rep.Console = console.Bytes()
		if reason == "" {
			return nil
		}
		fmt.Fprintf(transcript, "FAILED: %s\n", reason)
		var qemuErr []string
		for _, l := range strings.Split(string(stderr.Bytes()), "\n") {
			if l != "" && !strings.Contains(l, "QEMU waiting for connection") {
				qemuErr = append(qemuErr, l)
			}
		}
		return &BootError{Device: cfg.Device, Kernel: cfg.Kernel.Release, Reason: reason,
			Console: consoleExcerpt(rep.Console), QEMU: strings.Join(qemuErr, "\n")}
	}

	ctl, err := dialRetry(ctx, ctlSock, exited)
	if err != nil {
		qemuExited = err == errQEMUExited
		return rep, finish("control line: " + err.Error())
	}
	defer ctl.Close()
	q, err := func() (*QMP, error) {
		c, err := dialRetry(ctx, qmpSock, exited)
		if err != nil {
			return nil, err
		}
		c.Close()
		return DialQMP(qmpSock, 30*time.Second)
	}()
	if err != nil {
		return rep, finish("qmp: " + err.Error())
	}
	defer q.Close()
	m := &Machine{cfg: cfg, work: work, qmp: q, rep: rep}

	msgs := make(chan arrival, 64)
	readErr := make(chan error, 1)
	go func() {
		dec := proto.NewDecoder(ctl)
		dec.Noise = func(line string) { fmt.Fprintf(transcript, "noise: %q\n", line) }
		for {
			msg, err := dec.Next()
			if err != nil {
				readErr <- err
				return
			}
			msgs <- arrival{msg, time.Now()}
		}
	}()
	enc := proto.NewEncoder(ctl)
	partial := map[string][]byte{} // unfinished output line per step

	for {
		select {
		case <-ctx.Done():
			return rep, finish(fmt.Sprintf("timed out after %v (%v)", cfg.Timeout, ctx.Err()))
		case err := <-exited:
			qemuExited = true
			// Drain what the guest said before it went away.
			for drained := false; !drained; {
				select {
				case a := <-msgs:
					handleMessage(rep, &cfg, a, partial, transcript, start)
				case <-time.After(200 * time.Millisecond):
					drained = true
				}
			}
			if rep.Done {
				return rep, finish("")
			}
			why := "qemu exited before the plan was done"
			if err != nil {
				why += " (" + err.Error() + ")"
			}
			if rep.Fatal != "" {
				why = "guest init: " + rep.Fatal
			}
			return rep, finish(why)
		case err := <-readErr:
			if !errors.Is(err, io.EOF) {
				return rep, finish("control line: " + err.Error())
			}
			readErr = nil // EOF: QEMU is going away; wait for it
		case a := <-msgs:
			handleMessage(rep, &cfg, a, partial, transcript, start)
			msg := a.msg
			switch msg.Kind {
			case proto.KindHost:
				ack := proto.Message{Kind: proto.KindAck, Step: msg.Step}
				f := cfg.Host[msg.Step]
				hostStart := time.Now()
				m.stepGuest, m.stepHost = time.Duration(msg.Millis)*time.Millisecond, hostStart
				if f == nil {
					ack.Text = "no host action for step " + msg.Step
				} else if err := f(ctx, m); err != nil {
					ack.Text = err.Error()
				}
				cfg.Logf("host step %s: %v (%v)", msg.Step, orOK(ack.Text), time.Since(hostStart).Round(time.Millisecond))
				if err := enc.Send(ack); err != nil {
					return rep, finish("acknowledge host step: " + err.Error())
				}
			case proto.KindFatal:
				// Power-off follows; wait for QEMU to exit.
			case proto.KindDone:
				cfg.Logf("plan done after %v", time.Since(start).Round(time.Millisecond))
				select {
				case <-exited:
					qemuExited = true
				case <-time.After(15 * time.Second):
					cfg.Logf("guest did not power off within 15s of finishing; killing qemu")
				}
				return rep, finish("")
			}
		}
	}
}

// qemuArgs returns QEMU's command line for the boot but the display
// device and the extra arguments.
func qemuArgs(cfg *Config, board boardSpec, initrd, ctlSock, qmpSock string) []string {
	cmdline := append([]string{"console=" + board.console, "quiet", "rdinit=/init", "panic=-1"}, cfg.Append...)
	args := append([]string{"-nodefaults"}, board.qemuArgs(cfg.MemoryMB)...)
	args = append(args, "-kernel", cfg.Kernel.Vmlinuz, "-initrd", initrd)
	if cfg.Kernel.DTB != "" {
		args = append(args, "-dtb", cfg.Kernel.DTB)
	}
	args = append(args, "-append", strings.Join(cmdline, " "), "-display", "none", "-no-reboot")
	args = append(args, board.controlArgs(ctlSock)...)
	return append(args, "-qmp", "unix:"+qmpSock+",server=on,wait=off")
}

func orOK(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

// arrival is a message from the guest and the host's time when it was read.
type arrival struct {
	msg proto.Message
	at  time.Time
}

func handleMessage(rep *Report, cfg *Config, a arrival, partial map[string][]byte, transcript io.Writer, start time.Time) {
	msg := a.msg
	res := rep.Results[msg.Step]
	if res == nil && msg.Step != "" {
		res = &Result{Name: msg.Step}
		rep.Results[msg.Step] = res
	}
	if msg.Kind != proto.KindOutput {
		fmt.Fprintf(transcript, "[%6dms] %s %s code=%d %s\n", msg.Millis, msg.Kind, msg.Step, msg.Code, msg.Text)
	}
	switch msg.Kind {
	case proto.KindReady:
		rep.Release = msg.Text
		rep.Ready = time.Since(start)
		cfg.Logf("guest ready: kernel %s, %v after qemu start (guest uptime %dms)", msg.Text, rep.Ready.Round(time.Millisecond), msg.Millis)
	case proto.KindLog:
		rep.Log = append(rep.Log, msg.Text)
		cfg.Logf("guest init: %s", msg.Text)
	case proto.KindStart, proto.KindHost:
		res.Started = true
		res.startMs = msg.Millis
		res.Start = time.Duration(msg.Millis) * time.Millisecond
		res.HostStart = a.at
		cfg.Logf("step %s: start %s", msg.Step, msg.Text)
	case proto.KindOutput:
		res.Output = append(res.Output, msg.Data...)
		buf := append(partial[msg.Step], msg.Data...)
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			fmt.Fprintf(transcript, "%s| %s\n", msg.Step, buf[:i])
			if cfg.StreamOutput {
				cfg.Logf("%s| %s", msg.Step, buf[:i])
			}
			buf = buf[i+1:]
		}
		partial[msg.Step] = append([]byte(nil), buf...)
	case proto.KindWaited:
		res.Waited = true
		cfg.Logf("step %s: output contains %q after %dms", msg.Step, msg.Text, msg.Millis-res.startMs)
	case proto.KindExit:
		res.Exited = true
		res.Code = msg.Code
		res.Note = msg.Text
		res.Duration = time.Duration(msg.Millis-res.startMs) * time.Millisecond
		if rest := partial[msg.Step]; len(rest) > 0 {
			fmt.Fprintf(transcript, "%s| %s\n", msg.Step, rest)
			if cfg.StreamOutput {
				cfg.Logf("%s| %s", msg.Step, rest)
			}
			delete(partial, msg.Step)
		}
		cfg.Logf("step %s: exit %d %s(%v)", msg.Step, msg.Code, noteOf(msg.Text), res.Duration)
	case proto.KindFatal:
		rep.Fatal = msg.Text
		cfg.Logf("guest init FATAL: %s", msg.Text)
	case proto.KindDone:
		rep.Done = true
	}
}

func noteOf(s string) string {
	if s == "" {
		return ""
	}
	return s + " "
}

var errQEMUExited = errors.New("qemu exited")

// dialRetry connects to a unix socket QEMU is about to create.
func dialRetry(ctx context.Context, path string, exited chan error) (net.Conn, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("connect %s: %w", path, err)
		}
		select {
		case e := <-exited:
			exited <- e
			return nil, errQEMUExited
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func buildInitramfs(cfg *Config, control, out string) error {
	if cfg.GuestInit == "" {
		return errors.New("vmtest: Config.GuestInit is not set (see BuildGuestInit)")
	}
	ar := NewInitramfs()
	if err := ar.AddHostFile("/init", cfg.GuestInit); err != nil {
		return err
	}
	cfg.Modules = cfg.Kernel.present(cfg.Modules)
	cfg.LateModules = cfg.Kernel.present(cfg.LateModules)
	early, err := OrderModules(cfg.Modules, cfg.Kernel.ModuleDepends)
	if err != nil {
		return fmt.Errorf("kernel %s: %w", cfg.Kernel.Package, err)
	}
	all, err := OrderModules(append(append([]ModuleSpec(nil), cfg.Modules...), cfg.LateModules...), cfg.Kernel.ModuleDepends)
	if err != nil {
		return fmt.Errorf("kernel %s: %w", cfg.Kernel.Package, err)
	}
	isEarly := map[string]bool{}
	for _, m := range early {
		isEarly[m.Name] = true
	}
	plan := cfg.Plan
	plan.Modules, plan.LateModules = nil, nil
	plan.Control = control
	for _, mod := range all {
		if p, ok := cfg.ModuleParams[mod.Name]; ok {
			mod.Params = p
		} else if p, ok := cfg.ModuleParams[strings.ReplaceAll(mod.Name, "_", "-")]; ok {
			mod.Params = p
		}
		b, err := cfg.Kernel.Module(mod.Name)
		if err != nil {
			return err
		}
		p := "/lib/modules/" + mod.Name + ".ko"
		if err := ar.Add(p, b, 0o644); err != nil {
			return err
		}
		pm := proto.Module{Name: mod.Name, Path: p, Params: mod.Params}
		if isEarly[mod.Name] {
			plan.Modules = append(plan.Modules, pm)
		} else {
			plan.LateModules = append(plan.LateModules, pm)
		}
	}
	pb, err := plan.Encode()
	if err != nil {
		return err
	}
	if err := ar.Add(proto.PlanPath, pb, 0o644); err != nil {
		return err
	}
	for _, f := range cfg.Files {
		if f.HostPath != "" {
			err = ar.AddHostFile(f.Path, f.HostPath)
		} else {
			mode := f.Mode
			if mode == 0 {
				mode = 0o644
			}
			err = ar.Add(f.Path, f.Data, mode)
		}
		if err != nil {
			return err
		}
	}
	return ar.WriteFile(out)
}
