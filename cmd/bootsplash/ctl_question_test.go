package main

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/control"
)

// TestCtlQuestions: ctl prints the answer on stdout, with nothing added,
// and fails when the question is cancelled or cannot be asked.
func TestCtlQuestions(t *testing.T) {
	path, stop := ctlDaemon(t, func(c control.Command) error {
		switch {
		case c.Kind == control.AskPassword && c.Text == "Passphrase for root:":
			c.Result.Answer = []byte("tr0ub4dor &3")
		case c.Kind == control.AskQuestion:
			c.Result.Answer = []byte("yes")
		case c.Kind == control.WatchKeystroke && c.Keys == "yn":
			c.Result.Answer = []byte("y")
		case c.Kind == control.AskPassword && c.Text == "cancel":
			return control.ErrCancelled
		case c.Kind == control.AskPassword:
			return control.ErrNoAnswer
		}
		return nil
	})
	defer stop()
	for _, tc := range []struct {
		args []string
		out  string
		fail bool
	}{
		{[]string{"ask-password", "--prompt", "Passphrase for root:"}, "tr0ub4dor &3", false},
		{[]string{"ask-question", "--prompt=Continue?"}, "yes", false},
		{[]string{"watch-keystroke", "--keys", "yn"}, "y", false},
		{[]string{"ignore-keystroke", "--keys", "yn"}, "", false},
		{[]string{"pause-progress"}, "", false},
		{[]string{"unpause-progress"}, "", false},
		{[]string{"details"}, "", false},
		{[]string{"ask-password", "--prompt", "cancel"}, "", true},
		{[]string{"ask-password"}, "", true},
	} {
		out, stderr, err := runArgs(t, append([]string{"ctl", "--socket", path}, tc.args...)...)
		if (err != nil) != tc.fail || out != tc.out {
			t.Errorf("ctl %q: stdout %q, err %v (%s); want %q, failing %v", tc.args, out, err, stderr, tc.out, tc.fail)
		}
		if tc.fail && exitCode(err) != 1 {
			t.Errorf("ctl %q: exit %d, want 1", tc.args, exitCode(err))
		}
	}
	for _, args := range [][]string{
		{"ctl", "ask-password", "--keys", "yn"},
		{"ctl", "watch-keystroke", "--prompt", "x"},
		{"ctl", "ask-password", "extra"},
		{"ctl", "pause-progress", "now"},
	} {
		if _, _, err := runArgs(t, args...); exitCode(err) != 2 {
			t.Errorf("%q: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

func TestKeyboardFlags(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--keyboard", "mouse"},
		{"run", "--keymap", "dvorak"},
	} {
		if _, _, err := runArgs(t, args...); exitCode(err) != 2 {
			t.Errorf("%q: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	for _, tc := range []struct {
		kind    string
		backend string
		want    string
	}{{"auto", "emu", "<nil>"}, {"auto", "kms", "*input.Auto"}, {"tty", "emu", "*input.TTY"}, {"evdev", "auto", "*input.Evdev"}, {"none", "kms", "<nil>"}} {
		b, _ := splash.ParseBackend(tc.backend)
		src, err := keyboardSource(tc.kind, "de", b, nil)
		if got := fmt.Sprintf("%T", src); err != nil || got != tc.want {
			t.Errorf("--keyboard %s --backend %s: %s, %v; want %s", tc.kind, tc.backend, got, err, tc.want)
		}
	}
}

// TestRenderPrompt: render --prompt --bullets draws the prompt the daemon
// draws; without --prompt the flags for it are refused.
func TestRenderPrompt(t *testing.T) {
	dir := t.TempDir()
	plain, prompt, more := filepath.Join(dir, "plain.png"), filepath.Join(dir, "prompt.png"), filepath.Join(dir, "more.png")
	for _, args := range [][]string{
		{"render", "--out", plain, "--size", "640x480"},
		{"render", "--out", prompt, "--size", "640x480", "--prompt", "Passphrase:", "--bullets", "3"},
		{"render", "--out", more, "--size", "640x480", "--prompt", "Passphrase:", "--bullets", "4"},
	} {
		if _, stderr, err := runArgs(t, args...); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, stderr)
		}
	}
	a, b, c := readPNGFile(t, plain), readPNGFile(t, prompt), readPNGFile(t, more)
	if n := pixelsDiffer(a, b); n < 200 {
		t.Errorf("the prompt changed %d pixels", n)
	}
	// One more bullet changes a bullet's cell and the cursor, nothing else.
	if n := pixelsDiffer(b, c); n == 0 || n > 200 {
		t.Errorf("a fourth bullet changed %d pixels", n)
	}
	for _, args := range [][]string{
		{"render", "--out", plain, "--bullets", "3"},
		{"render", "--out", plain, "--prompt", "p", "--bullets", "-1"},
	} {
		if _, _, err := runArgs(t, args...); exitCode(err) != 2 {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

func readPNGFile(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func pixelsDiffer(a, b image.Image) int {
	n := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				n++
			}
		}
	}
	return n
}
