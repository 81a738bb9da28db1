package splash

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/input"
)

// openPty returns a pseudo-terminal's master and its slave's path, the
// stand-in for the VT's tty.
func openPty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// lockedBuffer is a log sink the daemon writes from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil // caught halfway through a rewrite
	}
	return img
}

func sameImage(a, b image.Image) bool {
	if a == nil || b == nil || a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				return false
			}
		}
	}
	return true
}

// TestPassphraseSecrecy runs the splash on the emulated display with a
// pseudo-terminal for the VT's tty, asks for a passphrase over the
// native socket, and types it. The frame while typing is the one
// `render --prompt --bullets` draws; the answer reaches the client that
// asked; and the passphrase is in no log line (at debug level) and no
// frame written.
func TestPassphraseSecrecy(t *testing.T) {
	const secret = "hunter2-Sekr3t"
	master, slave := openPty(t)
	dir := t.TempDir()
	out, sock := filepath.Join(dir, "frame.png"), filepath.Join(dir, "ctl", "sock")
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Backend: BackendEmu, EmuSize: image.Pt(640, 480), Out: out,
			Control: ControlConfig{Native: true, Socket: sock, Log: log}, Input: &input.TTY{Path: slave}, Log: log})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer ccancel()
	// The socket's file is there from bind, a moment before it listens.
	var cl *control.Client
	waitFor(t, "the control socket", func() bool {
		var err error
		cl, err = control.Dial(cctx, sock)
		return err == nil
	})
	defer cl.Close()
	answer := make(chan []byte, 1)
	go func() {
		a, err := cl.Ask(cctx, control.Command{Kind: control.AskPassword, Text: "Passphrase for cryptroot:"})
		if err != nil {
			t.Errorf("Ask: %v", err)
		}
		answer <- a
	}()

	frame := func(bullets int) image.Image {
		want := filepath.Join(dir, fmt.Sprintf("want-%d.png", bullets))
		st := State{Prompt: Prompt{Active: true, Password: true, Text: "Passphrase for cryptroot:", Bullets: bullets}}
		if bullets < 0 {
			st = State{} // no prompt
		}
		if err := RenderFrame(want, FrameOptions{Width: 640, Height: 480, State: st}); err != nil {
			t.Fatal(err)
		}
		return decodePNG(t, want)
	}
	empty := frame(0)
	waitFor(t, "the prompt on the display", func() bool { return sameImage(decodePNG(t, out), empty) })
	master.Write([]byte(secret[:5]))
	five := frame(5)
	waitFor(t, "five bullets on the display", func() bool { return sameImage(decodePNG(t, out), five) })
	master.Write([]byte(secret[5:] + "\r"))
	select {
	case a := <-answer:
		if string(a) != secret {
			t.Fatalf("the client got %q, want the typed passphrase", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
	}
	waitFor(t, "the prompt to go", func() bool { return sameImage(decodePNG(t, out), frame(-1)) })

	frames, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range frames {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(secret[:5])) {
			t.Errorf("%s holds the passphrase", f)
		}
	}
	text := logs.String()
	if !strings.Contains(text, "ask-password") {
		t.Errorf("the debug log does not show the question at all:\n%s", text)
	}
	if strings.Contains(text, secret[:5]) {
		t.Errorf("the log holds the passphrase:\n%s", text)
	}
}
