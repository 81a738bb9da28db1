package main

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
)

// ctlDaemon serves a control socket and answers with answer; it returns
// the socket path and a func that stops it and returns what it received.
func ctlDaemon(t *testing.T, answer func(control.Command) error) (string, func() []control.Command) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bootsplash", "control")
	s, err := control.Listen(path, control.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	commands := make(chan control.Command)
	var wg sync.WaitGroup
	var got []control.Command
	wg.Add(2)
	go func() { defer wg.Done(); s.Serve(ctx, commands) }()
	go func() {
		defer wg.Done()
		for {
			select {
			case c := <-commands:
				got = append(got, c)
				c.Answer(answer(c))
			case <-ctx.Done():
				return
			}
		}
	}()
	return path, func() []control.Command {
		cancel()
		wg.Wait()
		s.Close()
		return got
	}
}

func TestCtlRequests(t *testing.T) {
	path, stop := ctlDaemon(t, func(c control.Command) error {
		if c.Kind == control.Reactivate {
			return control.ErrNotDeactivated
		}
		return nil
	})
	for _, args := range [][]string{
		{"ping"},
		{"progress", "40"},
		{"message", "Checking", "disks"},
		{"status", "fsck"},
		{"message"},
		{"hide"},
		{"show"},
		{"quit", "--retain"},
	} {
		if _, stderr, err := runArgs(t, append([]string{"ctl", "--socket", path}, args...)...); err != nil {
			t.Errorf("ctl %q: %v\n%s", args, err, stderr)
		}
	}
	_, _, err := runArgs(t, "ctl", "--socket", path, "reactivate")
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "reactivate: "+control.ErrNotDeactivated.Error()) {
		t.Errorf("ctl reactivate refused: %v (exit %d), want the daemon's reason and exit 1", err, exitCode(err))
	}
	got := stop()
	want := []control.Command{
		{Kind: control.Ping},
		{Kind: control.Progress, Value: 0.4},
		{Kind: control.Message, Text: "Checking disks"},
		{Kind: control.Status, Text: "fsck"},
		{Kind: control.Message, Text: ""},
		{Kind: control.Hide},
		{Kind: control.Show},
		{Kind: control.Quit, Retain: true},
		{Kind: control.Reactivate},
	}
	if len(got) != len(want) {
		t.Fatalf("daemon got %v, want %v", got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.Kind || g.Text != w.Text || g.Retain != w.Retain || math.Abs(g.Value-w.Value) > 1e-9 {
			t.Errorf("request %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestCtlNoDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control")
	_, _, err := runArgs(t, "ctl", "--socket", path, "ping")
	want := "no bootsplash daemon at " + path + ": connect: no such file or directory"
	if err == nil || err.Error() != want || exitCode(err) != 1 {
		t.Errorf("ctl with no daemon: %v (exit %d), want %q and exit 1", err, exitCode(err), want)
	}
}

func TestCtlUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"ctl"},
		{"ctl", "frobnicate"},
		{"ctl", "progress"},
		{"ctl", "progress", "-1"},
		{"ctl", "progress", "abc"},
		{"ctl", "progress", "40", "50"},
		{"ctl", "ping", "now"},
		{"ctl", "quit", "--hard"},
		{"ctl", "message", strings.Repeat("x", control.MaxLine)},
		{"ctl", "--bogus", "ping"},
	} {
		_, _, err := runArgs(t, args...)
		if !errors.Is(err, errUsage) || exitCode(err) != 2 {
			t.Errorf("bootsplash %q: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	_, stderr, err := runArgs(t, "ctl", "--help")
	if exitCode(err) != 0 || !strings.Contains(stderr, "quit [--retain]") || !strings.Contains(stderr, `--socket string`) || !strings.Contains(stderr, control.DefaultSocket) {
		t.Errorf("ctl --help: exit %d, output:\n%s", exitCode(err), stderr)
	}
}

// TestRunSecondDaemon: `bootsplash run` on the socket of a running daemon
// fails with exit status 1 and one line saying why (it used to warn and
// run on, unreachable, with status 0).
func TestRunSecondDaemon(t *testing.T) {
	path, stop := ctlDaemon(t, func(control.Command) error { return nil })
	defer stop()
	start := time.Now()
	_, stderr, err := runArgs(t, "run", "--backend", "emu", "--out", filepath.Join(t.TempDir(), "s.png"), "--size", "160x120",
		"--socket", path, "--psplash=false", "--plymouth=false", "--for", "10s")
	if err == nil || exitCode(err) != 1 || !errors.Is(err, control.ErrRunning) {
		t.Fatalf("second run: %v (exit %d), want ErrRunning and exit 1\n%s", err, exitCode(err), stderr)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("second run took %v to fail", took)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "listen "+path+": a bootsplash daemon is already listening there") {
		t.Errorf("error %q: want one line naming the socket", err)
	}
}

// TestCtlBusy: while every place of the daemon is taken by a client in
// the middle of a request, ctl says the daemon is busy (it used to say
// "reading the reply: EOF").
func TestCtlBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bootsplash", "control")
	s, err := control.Listen(path, control.ServerOptions{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	commands := make(chan control.Command)
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.Serve(ctx, commands) }()
	go func() {
		defer wg.Done()
		for c := range commands {
			<-release
			c.Answer(nil)
			return
		}
	}()
	defer func() {
		close(release)
		cancel()
		wg.Wait()
		s.Close()
	}()
	held, err := control.Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	go held.Do(ctx, control.Command{Kind: control.Ping}) // held by the daemon
	time.Sleep(50 * time.Millisecond)
	_, _, err = runArgs(t, "ctl", "--socket", path, "--timeout", "500ms", "ping")
	if err == nil || !errors.Is(err, control.ErrBusy) || !strings.HasPrefix(err.Error(), "the bootsplash daemon at "+path+" is busy: ") {
		t.Errorf("ctl ping while busy: %v, want the daemon busy", err)
	}
}
