package vmtest

import (
	"context"
	"fmt"
	"image"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// qcodes are QEMU's names of the keys that type a passphrase of lower
// case letters, digits and '-' on a US keyboard.
func qcodes(s string) ([]string, error) {
	var out []string
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			out = append(out, string(c))
		case c == '-':
			out = append(out, "minus")
		case c == '\n':
			out = append(out, "ret")
		case c == 0x1b:
			out = append(out, "esc")
		default:
			return nil, fmt.Errorf("no key for %q", c)
		}
	}
	return out, nil
}

// typeKeys presses the keys for s one at a time, as a person at the
// guest's keyboard would (the PS/2 keyboard behind the i8042, or the
// keyboard plugged last).
func typeKeys(m *Machine, s string) error {
	keys, err := qcodes(s)
	if err != nil {
		return err
	}
	for i, k := range keys {
		if i > 0 {
			time.Sleep(60 * time.Millisecond) // a typist's pace, not a burst
		}
		if err := pressKey(m, k); err != nil {
			return err
		}
	}
	return nil
}

// pressKey presses and releases one key by its QEMU name ("a",
// "caps_lock"). Both go to the keyboard in one QMP input-send-event, so
// the keyboard's queue holds the release right behind the press: with
// send-key's hold-time QEMU's timer sends the release, and on a loaded
// host it can come so late that the guest's input core repeats the key
// (after its 250 ms delay), typing it twice.
func pressKey(m *Machine, qcode string) error {
	key := func(down bool) map[string]any {
		return map[string]any{"type": "key", "data": map[string]any{"down": down, "key": map[string]string{"type": "qcode", "data": qcode}}}
	}
	if _, err := m.QMP().Execute("input-send-event", map[string]any{"events": []any{key(true), key(false)}}); err != nil {
		return fmt.Errorf("press %s: %w", qcode, err)
	}
	return nil
}

// TestVMAskPassword boots cirrus on 6.12 with `bootsplash run` on the VT
// and Debian's plymouth client in the guest, and types at QEMU's own
// keyboard (QMP input-send-event through the i8042):
//
//   - `plymouth ask-for-password --prompt P` prints the typed passphrase,
//     and the screen while typing is exactly `render --prompt P
//     --bullets N`;
//   - `--command CMD --number-of-tries 3` with a wrong passphrase, then
//     the right one: the prompt comes back with the retry line, CMD is
//     run with each, and the client succeeds;
//   - Escape at the prompt shows the details view (the kernel's log), and
//     Escape again the prompt as it was; with no question open Escape
//     toggles the view too, and Home scrolls it to the kernel's first
//     lines (the screendump changes);
//   - while the splash is hidden a question gets no answer (the client
//     gives up at once, as with plymouthd and no splash);
//   - with --keyboard evdev the keys come from /dev/input/event* through
//     the built-in US layout;
//   - the splash's log holds no passphrase.
func TestVMAskPassword(t *testing.T) {
	vmEnabled(t)
	host := testutil.NeedCommand(t, "plymouth")
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{
		"bootsplash": "./cmd/bootsplash",
		"passcheck":  "./internal/vmtest/internal/passcheck",
	})
	if _, err := exec.LookPath(host); err != nil {
		t.Fatal(err)
	}
	plymouth, err := ProgramFiles(host, plymouthBin)
	if err != nil {
		t.Fatalf("the plymouth client cannot go into the guest: %v", err)
	}
	k := fetchKernel(t, ctx, root, Kernel612)
	out := freshOut(t, root, "askpass")
	const bs, pc = "/bin/bootsplash", "/bin/passcheck"
	const (
		first  = "correct-horse-42"
		wrong  = "tr0ub4dor"
		right  = "battery-staple-7"
		prompt = "Please unlock disk cryptroot:"
		again  = "Passphrase for sda3:"
	)
	long := proto.Duration(90 * time.Second)
	frames := newFrameCache(out)
	pw := func(text string, bullets int, retry bool) splash.State {
		return splash.State{Prompt: splash.Prompt{Active: true, Password: true, Text: text, Bullets: bullets, Retry: retry}}
	}
	screen := func(name string, st splash.State) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			return frames.await(m, name, -1, st, false, 60*time.Second)
		}
	}
	typing := func(name, keys string, st splash.State) HostFunc {
		return func(ctx context.Context, m *Machine) error {
			if err := typeKeys(m, keys); err != nil {
				return err
			}
			if st.Prompt.Active || st == (splash.State{}) {
				return frames.await(m, name, -1, st, false, 60*time.Second)
			}
			return nil
		}
	}
	// Key to photon: each key of the first half is sent alone, and the
	// screen polled without a pause until its bullet shows.
	var perKey []time.Duration
	keyByKey := func(ctx context.Context, m *Machine) error {
		for i, c := range first[:7] {
			want, err := frames.frame(image.Pt(1024, 768), pw(prompt, i+1, false))
			if err != nil {
				return err
			}
			start := time.Now()
			if err := typeKeys(m, string(c)); err != nil {
				return err
			}
			for {
				shot, err := m.Screendump(fmt.Sprintf("key%d", i), -1)
				if err != nil {
					return err
				}
				if shot.Bounds().Size() != want.Bounds().Size() {
					return fmt.Errorf("screen %v, frames rendered for 1024x768", shot.Bounds().Size())
				}
				if n, _ := comparePixels(shot, want); n == 0 {
					break
				}
				if time.Since(start) > 30*time.Second {
					return fmt.Errorf("bullet %d did not show in 30 s", i+1)
				}
			}
			perKey = append(perKey, time.Since(start))
		}
		return nil
	}
	// Escape shows the details view (the kernel's log: light text on the
	// view's dark background, the splash gone), and Escape again brings
	// the prompt back as it was.
	// detailsOn presses Escape and waits for the details view.
	detailsOn := func(m *Machine) error {
		if err := typeKeys(m, "\x1b"); err != nil {
			return err
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			shot, err := m.Screendump("details", -1)
			if err != nil {
				return err
			}
			bg, text := 0, 0
			b := shot.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y += 2 {
				for x := b.Min.X; x < b.Max.X; x += 2 {
					switch c := shot.RGBAAt(x, y); {
					case c.R == 0x0b && c.G == 0x0e && c.B == 0x13:
						bg++
					case c.R > 0x80:
						text++
					}
				}
			}
			if bg > b.Dx()*b.Dy()/4/2 && text > 200 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no details view after Escape (background %d, text %d samples)", bg, text)
			}
		}
		return nil
	}
	escapeToDetails := func(ctx context.Context, m *Machine) error {
		if err := detailsOn(m); err != nil {
			return err
		}
		if err := typeKeys(m, "\x1b"); err != nil {
			return err
		}
		return frames.await(m, "back from details", -1, pw(prompt, 0, false), false, 60*time.Second)
	}
	// With no question open Escape toggles the view too (watched on
	// evdev, no key taken from the console), as in Plymouth.
	escapeIdle := func(ctx context.Context, m *Machine) error {
		if err := frames.await(m, "idle", -1, splash.State{}, false, 60*time.Second); err != nil {
			return err
		}
		if err := detailsOn(m); err != nil {
			return fmt.Errorf("no question open: %w", err)
		}
		// Home scrolls the view to the kernel's first lines (the watch
		// passes the scroll keys on too): its text moves.
		time.Sleep(500 * time.Millisecond)
		before, err := m.Screendump("details bottom", -1)
		if err != nil {
			return err
		}
		if err := pressKey(m, "home"); err != nil {
			return err
		}
		for deadline := time.Now().Add(30 * time.Second); ; {
			shot, err := m.Screendump("details top", -1)
			if err != nil {
				return err
			}
			if n, _ := comparePixels(shot, before); n > 1000 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the details view did not move on Home")
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err := pressKey(m, "end"); err != nil {
			return err
		}
		if err := typeKeys(m, "\x1b"); err != nil {
			return err
		}
		return frames.await(m, "idle back from details", -1, splash.State{}, false, 60*time.Second)
	}
	files := append([]File{{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}, {Path: pc, HostPath: filepath.Join(dir, "passcheck")}}, plymouth...)
	cfg := Config{
		Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 8 * time.Minute,
		Files: files,
		// evdev is a module in Debian's kernel; the i8042 and atkbd are
		// built in.
		Modules: append(Cirrus.Modules(), ModuleSpec{Name: "evdev"}),
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0", "/dev/tty0", "/dev/input/event0"}, Steps: []proto.Step{
			{Name: "run", Cmd: []string{bs, "run", "-v", "--keyboard", "tty"}, Background: true, WaitFor: "first frame after", Timeout: proto.Duration(5 * time.Minute)},
			{Name: "ask", Cmd: []string{plymouthBin, "ask-for-password", "--prompt", prompt}, Background: true, Timeout: long},
			{Name: "prompt", Host: true, Timeout: long},
			{Name: "escape", Host: true, Timeout: long},
			{Name: "type half", Host: true, Timeout: long},
			{Name: "type rest", Host: true, Timeout: long},
			{Name: "wait ask", Wait: "ask", Timeout: long},
			{Name: "ask command", Cmd: []string{plymouthBin, "ask-for-password", "--prompt", again, "--number-of-tries=3",
				"--command=" + pc + " " + right + " /run/passcheck.log"}, Background: true, Timeout: long},
			{Name: "prompt again", Host: true, Timeout: long},
			{Name: "type wrong", Host: true, Timeout: long},
			{Name: "type right", Host: true, Timeout: long},
			{Name: "wait ask command", Wait: "ask command", Timeout: long},
			{Name: "passcheck log", Cmd: []string{pc, "--show", "/run/passcheck.log"}, Timeout: long},
			{Name: "escape idle", Host: true, Timeout: long},
			// Hidden, the splash answers no answer, as plymouthd without a
			// splash: the client without --command gives up at once
			// rather than wait for keys nobody sees a prompt for. (With
			// --command it would try the cached passphrases first, which
			// are answered hidden or not, as plymouthd does.)
			{Name: "hide", Cmd: []string{plymouthBin, "hide-splash"}, Timeout: long},
			{Name: "ask hidden", Cmd: []string{plymouthBin, "ask-for-password", "--prompt", prompt}, Timeout: long},
			{Name: "show", Cmd: []string{plymouthBin, "show-splash"}, Timeout: long},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},

			// The evdev path: the same keyboard read from
			// /dev/input/event* (the i8042's atkbd) through the built-in
			// US layout, grabbed from the console.
			{Name: "run evdev", Cmd: []string{bs, "run", "-v", "--keyboard", "evdev"}, Background: true, WaitFor: "first frame after", Timeout: long},
			{Name: "ask evdev", Cmd: []string{plymouthBin, "ask-for-password", "--prompt", prompt}, Background: true, Timeout: long},
			{Name: "prompt evdev", Host: true, Timeout: long},
			{Name: "type evdev", Host: true, Timeout: long},
			{Name: "wait ask evdev", Wait: "ask evdev", Timeout: long},
			{Name: "quit evdev", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run evdev", Wait: "run evdev", Timeout: long},
		}},
		Host: map[string]HostFunc{
			"prompt":       screen("prompt", pw(prompt, 0, false)),
			"escape":       escapeToDetails,
			"escape idle":  escapeIdle,
			"prompt evdev": screen("evdev prompt", pw(prompt, 0, false)),
			"type evdev":   typing("evdev", "evdev-pass-9\n", splash.State{}),
			"type half":    keyByKey,
			"type rest":    typing("rest", first[7:]+"\n", splash.State{}),
			"prompt again": screen("again", pw(again, 0, false)),
			"type wrong":   typing("wrong", wrong+"\n", pw(again, 0, true)),
			"type right":   typing("right", right+"\n", splash.State{}),
		},
	}
	rep, err := Boot(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Step("ask hidden"); !r.Exited || r.Code != 1 || len(r.Output) != 0 {
		t.Errorf("ask-for-password while hidden: exit %d %s, output %q; want 1 and nothing (no answer)", r.Code, r.Note, r.Output)
	}
	for _, s := range cfg.Plan.Steps {
		if s.Name == "ask hidden" {
			continue
		}
		r := rep.Step(s.Name)
		if !r.OK() {
			t.Errorf("step %q: exit %d %s\n%s", s.Name, r.Code, r.Note, tail(string(r.Output), 30))
		}
	}
	if got := string(rep.Step("ask evdev").Output); got != "evdev-pass-9" {
		t.Errorf("through evdev plymouth ask-for-password printed %q, want the typed \"evdev-pass-9\"", got)
	}
	if got := string(rep.Step("ask").Output); got != first {
		t.Errorf("plymouth ask-for-password printed %q, want the typed %q", got, first)
	}
	// --command tried the cached passphrase first, then the two typed.
	if got, want := string(rep.Step("passcheck log").Output), first+"\n"+wrong+"\n"+right+"\n"; got != want {
		t.Errorf("the command was given %q, want %q", got, want)
	}
	run := string(rep.Step("run").Output) + string(rep.Step("run evdev").Output)
	for _, secret := range []string{first, wrong, right, "evdev-pass-9"} {
		if strings.Contains(run, secret) {
			t.Errorf("bootsplash run's log holds a passphrase:\n%s", run)
		}
	}
	if len(perKey) > 0 {
		sorted := slices.Clone(perKey)
		slices.Sort(sorted)
		t.Logf("key to photon (the key sent to the bullet in a screendump, %d keys): min %v, median %v, max %v",
			len(sorted), sorted[0].Round(time.Millisecond), sorted[len(sorted)/2].Round(time.Millisecond), sorted[len(sorted)-1].Round(time.Millisecond))
	}
	for name, d := range frames.waited {
		t.Logf("%s: the screen matched after %v", name, d.Round(time.Millisecond))
	}
}
