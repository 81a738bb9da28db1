package vmtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// The question the no-VT case asks, and the passphrase typed for it.
const (
	noVTPrompt = "Passphrase for data (no VT):"
	noVTPass   = "kmi-evdev-31"
)

// withNoVTKeyboard adds to a target whose kernel has no VT
// (CONFIG_VT=n, as many embedded kernels) a password question answered
// on QEMU's own keyboard: the vexpress motherboard's PL050 KMI (kmi0,
// the AT keyboard driver on top), typed with QMP input-send-event.
// `bootsplash run` with the keyboard left to auto must take evdev and
// say so; `bootsplash ctl ask-password` must print exactly what was
// typed; half-way through, the screen must equal `bootsplash render
// --prompt P --bullets N` pixel for pixel; run's log must hold no
// passphrase; and the guest must have no /dev/tty0.
func withNoVTKeyboard(tg archTarget) archTarget {
	long := proto.Duration(2 * time.Minute)
	tg.cases = append(tg.cases, e2eCase{
		name:       "run-novt-ask",
		wantBuffer: []string{`heap "reserved"`, "imported via PRIME"},
		wantOutput: []string{"keyboard: no VT; reading evdev"},
		before: []proto.Step{
			{Name: "novt no tty0", WaitPath: "/dev/tty0", WaitGone: true, Timeout: proto.Duration(2 * time.Second)},
			{Name: "novt event0", WaitPath: "/dev/input/event0", Timeout: proto.Duration(30 * time.Second)},
			guestHelperStep("novt keyboard", "cat", "/sys/class/input/event0/device/name"),
		},
		during: []proto.Step{
			{Name: "novt ask", Cmd: []string{"/bin/bootsplash", "ctl", "ask-password", "--prompt", noVTPrompt}, Background: true, Timeout: long},
			{Name: "novt type", Host: true, Timeout: long},
			{Name: "novt wait ask", Wait: "novt ask", Timeout: long},
		},
	})
	setup, report := tg.setup, tg.report
	tg.setup = func(t *testing.T, a *artefacts, cfg *Config) {
		if setup != nil {
			setup(t, a, cfg)
		}
		out := filepath.Join(cfg.WorkDir, "run-novt-ask")
		cfg.Host["novt type"] = func(ctx context.Context, m *Machine) error {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			if err := awaitRendered(ctx, t, m, a, out, noVTPrompt, 0); err != nil {
				return err
			}
			half := len(noVTPass) / 2
			if err := typeKeys(m, noVTPass[:half]); err != nil {
				return err
			}
			if err := awaitRendered(ctx, t, m, a, out, noVTPrompt, half); err != nil {
				return err
			}
			return typeKeys(m, noVTPass[half:]+"\n")
		}
	}
	tg.report = func(t *testing.T, a *artefacts, rep *Report) {
		if report != nil {
			report(t, a, rep)
		}
		t.Run("novt-evdev-ask", func(t *testing.T) { checkNoVTAsk(t, rep) })
	}
	return tg
}

// checkNoVTAsk checks the no-VT question's results: no /dev/tty0, the
// KMI keyboard as event0, the typed passphrase printed by ctl and absent
// from run's log.
func checkNoVTAsk(t *testing.T, rep *Report) {
	for _, s := range []string{"novt no tty0", "novt event0", "novt type"} {
		if r := rep.Step(s); !r.OK() {
			t.Errorf("step %q: exit %d %s\n%s", s, r.Code, r.Note, tail(string(r.Output), 20))
		}
	}
	if r := rep.Step("novt no tty0"); r.OK() {
		t.Log("the guest has no /dev/tty0 (CONFIG_VT=n)")
	}
	kbd := rep.Step("novt keyboard")
	if name := strings.TrimSpace(string(kbd.Output)); !kbd.OK() || name != "AT Raw Set 2 keyboard" {
		t.Errorf("event0 is %q (exit %d %s), want the PL050 KMI's \"AT Raw Set 2 keyboard\"", name, kbd.Code, kbd.Note)
	} else {
		t.Logf("event0: %s (atkbd on the PL050 KMI)", name)
	}
	ask := rep.Step("novt ask")
	if !ask.OK() {
		t.Errorf("bootsplash ctl ask-password: exit %d %s\n%s", ask.Code, ask.Note, tail(string(ask.Output), 20))
	}
	if got := string(ask.Output); got != noVTPass {
		t.Errorf("bootsplash ctl ask-password printed %q, want the typed %q", got, noVTPass)
	} else {
		t.Logf("bootsplash ctl ask-password printed the typed passphrase (%d characters) through evdev", len(noVTPass))
	}
	run := string(rep.Step("run-novt-ask").Output)
	if strings.Contains(run, noVTPass) || strings.Contains(run, noVTPass[:len(noVTPass)/2]) {
		t.Errorf("bootsplash run's log holds the passphrase:\n%s", run)
	}
	if l, ok := logLine([]byte(run), "keyboard: no VT"); ok {
		t.Logf("run: %s", l)
	}
}

// awaitRendered polls the first head's screendump until it equals
// `bootsplash render --prompt prompt --bullets n` at the screen's size,
// pixel for pixel, for at most a minute; on failure the last screendump
// and the render are kept in dir.
func awaitRendered(ctx context.Context, t *testing.T, m *Machine, a *artefacts, dir, prompt string, n int) error {
	name := fmt.Sprintf("bullets-%d", n)
	renderPNG := filepath.Join(dir, name+"-render.png")
	start := time.Now()
	var rendered string
	var diff int
	var first []string
	for time.Since(start) < time.Minute {
		shot, err := m.Screendump(name, -1)
		if err != nil {
			return err
		}
		size := fmt.Sprintf("%dx%d", shot.Bounds().Dx(), shot.Bounds().Dy())
		if rendered != size {
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			b, err := exec.CommandContext(rctx, a.renderer(), "render", "--size", size, "--prompt", prompt,
				"--bullets", fmt.Sprint(n), "--out", renderPNG).CombinedOutput()
			cancel()
			if err != nil {
				return fmt.Errorf("bootsplash render --size %s --prompt %q --bullets %d: %v\n%s", size, prompt, n, err, b)
			}
			rendered = size
		}
		want, err := readPNG(renderPNG)
		if err != nil {
			return err
		}
		if diff, first = comparePixels(shot, want); diff == 0 {
			t.Logf("no VT: the screen equals bootsplash render --prompt %q --bullets %d (%s) after %v",
				prompt, n, size, time.Since(start).Round(time.Millisecond))
			return nil
		}
		if err := writePNG(filepath.Join(dir, name+"-screen.png"), shot); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the screen does not equal bootsplash render --prompt %q --bullets %d after a minute: %d pixels differ; first: %s (kept in %s)",
		prompt, n, diff, strings.Join(first, "; "), dir)
}
