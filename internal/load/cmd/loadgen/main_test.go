package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/load"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

// TestLoadgen runs the command against splash.Run in this process, with
// a small load, and reads its JSON report back.
func TestLoadgen(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "control")
	name := fmt.Sprintf("/org/bootsplash/loadgen-test/%d", os.Getpid())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- splash.Run(ctx, splash.Config{Backend: splash.BackendEmu, EmuSize: image.Pt(160, 120),
			Control: splash.ControlConfig{Native: true, Socket: sock, Psplash: true, PsplashDir: dir, Plymouth: true, PlymouthName: name}})
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("splash.Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("splash.Run did not return")
		}
	}()

	var out, errOut strings.Builder
	err := run(ctx, []string{"--socket", sock, "--psplash-dir", dir, "--plymouth-name", name, "-c", "4", "-n", "400",
		"--ping-limit", "1h", "--pid", fmt.Sprint(os.Getpid()), "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("loadgen: %v\n%s%s", err, out.String(), errOut.String())
	}
	t.Logf("loadgen output:\n%s", out.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep load.Report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("the last line is not the JSON report: %v", err)
	}
	if rep.Messages != 400 || rep.Clients != 4 || rep.ByFrontend[load.Psplash] != 100 || rep.ByFrontend[load.Plymouth] != 100 {
		t.Errorf("report: %d requests from %d clients (%v), want 400 from 4, 100 each on psplash and plymouth", rep.Messages, rep.Clients, rep.ByFrontend)
	}
	if rep.Memory == nil || rep.Memory.PID != os.Getpid() || rep.Memory.Samples == 0 {
		t.Errorf("report: memory %+v, want samples of pid %d", rep.Memory, os.Getpid())
	}
	if !strings.Contains(out.String(), "requests/s") {
		t.Errorf("no table before the JSON report")
	}
}

// TestLoadgenSlow gives the pings a limit no round trip can keep: the
// command must say so with its own error (exit status 3).
func TestLoadgenSlow(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "control")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- splash.Run(ctx, splash.Config{Backend: splash.BackendEmu, EmuSize: image.Pt(160, 120),
			Control: splash.ControlConfig{Native: true, Socket: sock}})
	}()
	defer func() { cancel(); <-done }()
	var out strings.Builder
	err := run(ctx, []string{"--socket", sock, "--plymouth", "0", "--psplash", "0", "-c", "2", "-n", "50", "--ping-limit", "1ns", "--json"}, &out, &out)
	if !errors.Is(err, errSlow) {
		t.Errorf("loadgen --ping-limit 1ns: %v, want errSlow\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep load.Report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("the last line is not the JSON report: %v\n%s", err, out.String())
	}
	if rep.SlowPings != rep.Pings || len(rep.SlowPingsAt) != min(rep.Pings, 32) {
		t.Errorf("%d pings, %d slow, %d times of slow ones; want all slow and the first 32 times", rep.Pings, rep.SlowPings, len(rep.SlowPingsAt))
	}
	if !strings.Contains(out.String(), "slow pings sent at") {
		t.Errorf("the table does not say when the slow pings were sent:\n%s", out.String())
	}
}

func TestLoadgenUsage(t *testing.T) {
	var out strings.Builder
	for _, args := range [][]string{{"--pid", "1", "--pid-of", "x"}, {"extra"}, {"--clients", "many"}} {
		if err := run(context.Background(), args, &out, &out); !errors.Is(err, errUsage) {
			t.Errorf("loadgen %q: %v, want a usage error", args, err)
		}
	}
}
