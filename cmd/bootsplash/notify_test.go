package main

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunNotifiesReady runs the splash on the emulated display under a
// fake service manager: READY=1 arrives on $NOTIFY_SOCKET once the first
// frame is up and the control socket answers.
func TestRunNotifiesReady(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	ctl := filepath.Join(dir, "control")
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(time.Now(), []string{"run", "--backend", "emu", "--out", filepath.Join(dir, "s.png"), "--socket", ctl, "--psplash=false", "--plymouth=false", "--for", "20s"}, &bytes.Buffer{}, &stderr)
	}()
	buf := make([]byte, 256)
	l.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := l.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v\n%s", err, stderr.String())
	}
	if got := string(buf[:n]); got != "READY=1" {
		t.Errorf("notified %q, want READY=1", got)
	}
	// Ready means the control socket serves already.
	if err := run(time.Now(), []string{"ctl", "--socket", ctl, "quit"}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Errorf("ctl quit right after READY=1: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "first frame after") {
		t.Errorf("run did not log its first frame:\n%s", stderr.String())
	}
}

func TestSdNotifyRefusesOddAddresses(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "vsock:2:1234")
	if err := sdNotify("READY=1"); err == nil || !strings.Contains(err.Error(), "NOTIFY_SOCKET=vsock:2:1234") {
		t.Errorf("sdNotify with a vsock address: %v", err)
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if err := sdNotify("READY=1"); err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v", err)
	}
}
