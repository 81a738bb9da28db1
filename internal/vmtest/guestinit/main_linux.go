// Command guestinit is PID 1 of the test VM: it mounts the basic file
// systems, loads the plan's kernel modules with finit_module, waits for the
// plan's device nodes, runs the plan's steps while streaming their output to
// the host over the control serial line, and powers the machine off.
//
// It is built statically (CGO_ENABLED=0) by the vmtest package and placed in
// the initramfs as /init; it is not meant to run anywhere else.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "guestinit: must run as PID 1 inside the test VM")
		os.Exit(2)
	}
	g := &guest{start: time.Now()}
	err := g.run()
	if err != nil {
		g.fatal(err)
	}
	g.powerOff()
}

type guest struct {
	start time.Time
	enc   *proto.Encoder
	ctl   *os.File
	con   *os.File
	acks  chan proto.Message
	bg    map[string]*bgProc
}

func (g *guest) uptime() int64 { return time.Since(g.start).Milliseconds() }

func (g *guest) send(m proto.Message) {
	m.Millis = g.uptime()
	if g.enc == nil {
		if g.con != nil {
			fmt.Fprintf(g.con, "guestinit: (no control line) %s %s %s\n", m.Kind, m.Step, m.Text)
		}
		return
	}
	if err := g.enc.Send(m); err != nil && g.con != nil {
		fmt.Fprintf(g.con, "guestinit: control line: %v\n", err)
	}
}

func (g *guest) logf(format string, args ...any) {
	g.send(proto.Message{Kind: proto.KindLog, Text: fmt.Sprintf(format, args...)})
}

func (g *guest) fatal(err error) {
	g.send(proto.Message{Kind: proto.KindFatal, Text: err.Error()})
	if g.con != nil {
		fmt.Fprintf(g.con, "guestinit: fatal: %v\n", err)
	}
	g.powerOff()
}

func (g *guest) powerOff() {
	for _, p := range g.bg {
		_ = p.cmd.Process.Kill()
	}
	unix.Sync()
	// Give the serial lines a moment to drain before the machine vanishes.
	time.Sleep(200 * time.Millisecond)
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil && g.con != nil {
		fmt.Fprintf(g.con, "guestinit: power off: %v\n", err)
	}
	select {}
}

func (g *guest) run() error {
	if err := mountAll(); err != nil {
		return err
	}
	if con, err := os.OpenFile("/dev/console", os.O_WRONLY, 0); err == nil {
		g.con = con
	}
	// The plan says where the control line is; until it is open, errors
	// go to the console only.
	b, err := os.ReadFile(proto.PlanPath)
	if err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	plan, err := proto.DecodePlan(b)
	if err != nil {
		return err
	}
	control := plan.Control
	if control == "" {
		control = proto.ControlDevice
	}
	ctl, err := openRaw(control)
	if err != nil {
		return err
	}
	g.ctl = ctl
	g.enc = proto.NewEncoder(ctl)
	g.acks = make(chan proto.Message, 4)
	go g.readHost()
	for _, m := range plan.Modules {
		if err := loadModule(m); err != nil {
			return err
		}
	}
	wait := time.Duration(plan.WaitTimeout)
	if wait == 0 {
		wait = 20 * time.Second
	}
	for _, p := range plan.WaitPaths {
		if err := waitPath(p, wait); err != nil {
			return err
		}
	}
	for _, m := range plan.LateModules {
		if err := loadModule(m); err != nil {
			return err
		}
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	g.send(proto.Message{Kind: proto.KindReady, Text: unix.ByteSliceToString(uts.Release[:])})

	g.bg = map[string]*bgProc{}
	for _, s := range plan.Steps {
		if err := g.step(s); err != nil {
			return fmt.Errorf("step %s: %w", s.Name, err)
		}
	}
	for name, p := range g.bg {
		g.stop(name, p, "still running at the end of the plan")
	}
	g.send(proto.Message{Kind: proto.KindDone})
	return nil
}

func mountAll() error {
	mounts := []struct {
		src, dst, fstype string
	}{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"debugfs", "/sys/kernel/debug", "debugfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"tmpfs", "/run", "tmpfs"},
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", m.dst, err)
		}
		if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.dst, err)
		}
	}
	return nil
}

// openRaw opens a serial port with the line discipline out of the way:
// no echo, no CR/LF translation, bytes through unchanged.
func openRaw(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open control line %s: %w", path, err)
	}
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("control line %s: get termios: %w", path, err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CRTSCTS
	t.Cflag |= unix.CS8 | unix.CLOCAL | unix.CREAD
	t.Cflag = t.Cflag&^unix.CBAUD | unix.B115200
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t); err != nil {
		f.Close()
		return nil, fmt.Errorf("control line %s: set raw mode: %w", path, err)
	}
	return f, nil
}

func (g *guest) readHost() {
	dec := proto.NewDecoder(g.ctl)
	for {
		m, err := dec.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			g.logf("control line from host: %v", err)
			continue
		}
		if m.Kind == proto.KindAck {
			g.acks <- m
		}
	}
}

func loadModule(m proto.Module) error {
	f, err := os.Open(m.Path)
	if err != nil {
		return fmt.Errorf("load module %s: %w", m.Name, err)
	}
	defer f.Close()
	err = unix.FinitModule(int(f.Fd()), m.Params, 0)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("load module %s (%s, params %q): finit_module: %w", m.Name, m.Path, m.Params, err)
	}
	return nil
}

func waitPath(p string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %v", p, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *guest) step(s proto.Step) error {
	switch {
	case s.Write != nil:
		g.send(proto.Message{Kind: proto.KindStart, Step: s.Name})
		err := os.WriteFile(s.Write.Path, s.Write.Data, 0o644)
		m := proto.Message{Kind: proto.KindExit, Step: s.Name}
		if err != nil {
			m.Code, m.Text = 1, err.Error()
		}
		g.send(m)
		return nil
	case s.WaitPath != "":
		g.send(proto.Message{Kind: proto.KindStart, Step: s.Name, Text: s.WaitPath})
		m := proto.Message{Kind: proto.KindExit, Step: s.Name}
		deadline := time.Now().Add(timeoutOf(s))
		for {
			_, err := os.Stat(s.WaitPath)
			if (err == nil) != s.WaitGone {
				break
			}
			if time.Now().After(deadline) {
				m.Code = 1
				m.Text = fmt.Sprintf("%s did not appear within %v", s.WaitPath, timeoutOf(s))
				if s.WaitGone {
					m.Text = fmt.Sprintf("%s did not go away within %v", s.WaitPath, timeoutOf(s))
				}
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		g.send(m)
		return nil
	case s.Host:
		g.send(proto.Message{Kind: proto.KindHost, Step: s.Name})
		select {
		case a := <-g.acks:
			if a.Step != s.Name {
				return fmt.Errorf("host acknowledged %q while the guest waited for %q", a.Step, s.Name)
			}
			m := proto.Message{Kind: proto.KindExit, Step: s.Name}
			if a.Text != "" {
				m.Code, m.Text = 1, a.Text
			}
			g.send(m)
			return nil
		case <-time.After(timeoutOf(s)):
			return fmt.Errorf("no acknowledgement from the host within %v", timeoutOf(s))
		}
	case s.Stop != "":
		p := g.bg[s.Stop]
		delete(g.bg, s.Stop)
		g.send(proto.Message{Kind: proto.KindStart, Step: s.Name})
		if p == nil {
			// It already failed to start or ended early; its own
			// result says how.
			g.send(proto.Message{Kind: proto.KindExit, Step: s.Name, Code: 1, Text: s.Stop + " was not running"})
			return nil
		}
		g.stop(s.Stop, p, "")
		g.send(proto.Message{Kind: proto.KindExit, Step: s.Name})
		return nil
	case s.Wait != "":
		p := g.bg[s.Wait]
		delete(g.bg, s.Wait)
		g.send(proto.Message{Kind: proto.KindStart, Step: s.Name})
		if p == nil {
			g.send(proto.Message{Kind: proto.KindExit, Step: s.Name, Code: 1, Text: s.Wait + " was not running"})
			return nil
		}
		g.wait(s.Wait, p, timeoutOf(s))
		g.send(proto.Message{Kind: proto.KindExit, Step: s.Name})
		return nil
	case s.Background:
		return g.background(s)
	default:
		g.runCmd(s)
		return nil
	}
}

func timeoutOf(s proto.Step) time.Duration {
	if s.Timeout == 0 {
		return time.Minute
	}
	return time.Duration(s.Timeout)
}

func command(s proto.Step) *exec.Cmd {
	cmd := exec.Command(s.Cmd[0], s.Cmd[1:]...)
	cmd.Env = append([]string{"PATH=/bin:/usr/bin:/sbin", "HOME=/root", "TMPDIR=/tmp"}, s.Env...)
	cmd.Dir = s.Dir
	if cmd.Dir == "" {
		cmd.Dir = "/"
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// streamer forwards a command's combined output to the host in chunks and
// tells watchers when a text has appeared.
type streamer struct {
	g    *guest
	step string

	mu      sync.Mutex
	tail    []byte
	waitFor string
	found   chan struct{}
}

func (w *streamer) Write(p []byte) (int, error) {
	data := append([]byte(nil), p...)
	w.g.send(proto.Message{Kind: proto.KindOutput, Step: w.step, Data: data})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waitFor != "" && w.found != nil {
		w.tail = append(w.tail, p...)
		if bytes.Contains(w.tail, []byte(w.waitFor)) {
			close(w.found)
			w.found = nil
		} else if n := len(w.waitFor); len(w.tail) > n {
			w.tail = append(w.tail[:0], w.tail[len(w.tail)-n:]...)
		}
	}
	return len(p), nil
}

func exitCode(err error) (int, string) {
	if err == nil {
		return 0, ""
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, "killed by signal " + ws.Signal().String()
		}
		return ee.ExitCode(), ""
	}
	return -1, err.Error()
}

func (g *guest) runCmd(s proto.Step) {
	cmd := command(s)
	out := &streamer{g: g, step: s.Name}
	cmd.Stdout, cmd.Stderr = out, out
	g.send(proto.Message{Kind: proto.KindStart, Step: s.Name, Text: strings.Join(s.Cmd, " ")})
	if err := cmd.Start(); err != nil {
		g.send(proto.Message{Kind: proto.KindExit, Step: s.Name, Code: -1, Text: "start: " + err.Error()})
		return
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var note string
	var err error
	select {
	case err = <-done:
	case <-time.After(timeoutOf(s)):
		_ = unix.Kill(-cmd.Process.Pid, unix.SIGQUIT) // Go programs dump their goroutines
		select {
		case err = <-done:
		case <-time.After(3 * time.Second):
			_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
			err = <-done
		}
		note = fmt.Sprintf("timed out after %v", timeoutOf(s))
	}
	code, why := exitCode(err)
	if note != "" {
		code, why = -1, strings.TrimSpace(note+"; "+why)
	}
	g.send(proto.Message{Kind: proto.KindExit, Step: s.Name, Code: code, Text: why})
}

type bgProc struct {
	cmd  *exec.Cmd
	done chan error
}

func (g *guest) background(s proto.Step) error {
	cmd := command(s)
	found := make(chan struct{})
	out := &streamer{g: g, step: s.Name, waitFor: s.WaitFor, found: found}
	if s.WaitFor == "" {
		close(found)
		out.found = nil
	}
	cmd.Stdout, cmd.Stderr = out, out
	g.send(proto.Message{Kind: proto.KindStart, Step: s.Name, Text: strings.Join(s.Cmd, " ")})
	if err := cmd.Start(); err != nil {
		g.send(proto.Message{Kind: proto.KindExit, Step: s.Name, Code: -1, Text: "start: " + err.Error()})
		return nil
	}
	p := &bgProc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	select {
	case <-found:
		g.bg[s.Name] = p
		g.send(proto.Message{Kind: proto.KindWaited, Step: s.Name, Text: s.WaitFor})
		return nil
	case err := <-p.done:
		code, why := exitCode(err)
		g.send(proto.Message{Kind: proto.KindExit, Step: s.Name, Code: code, Text: strings.TrimSuffix(fmt.Sprintf("exited before its output contained %q; %s", s.WaitFor, why), "; ")})
		return nil
	case <-time.After(timeoutOf(s)):
		_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		<-p.done
		g.send(proto.Message{Kind: proto.KindExit, Step: s.Name, Code: -1, Text: fmt.Sprintf("output did not contain %q within %v; killed", s.WaitFor, timeoutOf(s))})
		return nil
	}
}

// stop sends SIGTERM to a background command and reports how it ended.
func (g *guest) stop(name string, p *bgProc, why string) {
	_ = p.cmd.Process.Signal(unix.SIGTERM)
	var err error
	note := why
	select {
	case err = <-p.done:
	case <-time.After(10 * time.Second):
		_ = unix.Kill(-p.cmd.Process.Pid, unix.SIGKILL)
		err = <-p.done
		note = strings.TrimSpace(note + "; did not exit within 10s of SIGTERM")
	}
	code, how := exitCode(err)
	if note != "" {
		code = -1
		how = strings.TrimPrefix(note+"; "+how, "; ")
	}
	g.send(proto.Message{Kind: proto.KindExit, Step: name, Code: code, Text: strings.TrimSuffix(how, "; ")})
}

// wait lets a background command exit by itself within timeout and reports
// how it ended; one still running then is stopped, and its result says so.
func (g *guest) wait(name string, p *bgProc, timeout time.Duration) {
	select {
	case err := <-p.done:
		code, how := exitCode(err)
		g.send(proto.Message{Kind: proto.KindExit, Step: name, Code: code, Text: how})
	case <-time.After(timeout):
		g.stop(name, p, fmt.Sprintf("did not exit by itself within %v", timeout))
	}
}
