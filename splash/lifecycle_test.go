package splash

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
)

// pixelAt reads one pixel of the PNG Run rewrites; ok is false while the
// file is missing or being rewritten.
func pixelAt(path string, x, y int) (color.RGBA, bool) {
	f, err := os.Open(path)
	if err != nil {
		return color.RGBA{}, false
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return color.RGBA{}, false
	}
	return rgba(img.At(x, y)), true
}

// waitFor polls cond until it holds or 10 s have passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func putTheme(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunReloadsTheme checks Config.Reload (SIGHUP in cmd): the theme file
// is read again and the screen repainted with it; a theme that no longer
// loads is logged and the one on screen kept.
func TestRunReloadsTheme(t *testing.T) {
	dir := t.TempDir()
	theme := filepath.Join(dir, "theme.toml")
	out := filepath.Join(dir, "run.png")
	putTheme(t, theme, "[background]\ncolor = \"#c01020\"\n")
	var logs testutil.SyncBuffer
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Backend: BackendEmu, EmuSize: image.Pt(160, 120), Out: out, Theme: theme,
			Reload: reload, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	is := func(want color.RGBA) func() bool {
		return func() bool { c, ok := pixelAt(out, 1, 1); return ok && c == want }
	}
	red := color.RGBA{0xc0, 0x10, 0x20, 0xff}
	blue := color.RGBA{0x10, 0x20, 0xc0, 0xff}
	waitFor(t, "the first frame in the first theme's colour", is(red))

	putTheme(t, theme, "[background]\ncolor = \"#1020c0\"\n")
	reload <- struct{}{}
	waitFor(t, "the reloaded theme's colour", is(blue))
	if !strings.Contains(logs.String(), "reloaded the theme") {
		t.Errorf("log does not say the theme was reloaded:\n%s", logs.String())
	}

	putTheme(t, theme, "[background\ncolor = 7\n")
	reload <- struct{}{}
	waitFor(t, "the broken theme to be refused in the log", func() bool {
		return strings.Contains(logs.String(), "keeping the current one")
	})
	// A reload that works afterwards proves the broken one was handled
	// (and drawn nothing) before it.
	putTheme(t, theme, "[background]\ncolor = \"#c01020\"\n")
	reload <- struct{}{}
	waitFor(t, "the theme after the broken one", is(red))

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestRunCancelInsideFrame ends Run's context (SIGTERM in cmd) while a
// frame is being completed, the first one or a later one (its PNG then
// written under the ended context, as the emulated display does), and
// checks that Run returns cleanly with every fd and mapping it took
// released.
func TestRunCancelInsideFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame int // the frame (1-based) in which the context ends
	}{{"first", 1}, {"reload", 2}} {
		for _, n := range []int{1, 2} {
			t.Run(tc.name+"/buffers="+string(rune('0'+n)), func(t *testing.T) {
				dir := t.TempDir()
				before := testutil.Objects()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				reload := make(chan struct{}, 1)
				frames := 0
				var inFrame bool
				var saveErr error
				open := func(ctx context.Context, opt display.Options) (display.Display, error) {
					return display.NewEmulated(display.EmulatedOptions{Size: opt.EmuSize, Buffers: opt.Buffers, Access: opt.Access,
						Present: func(e *fbemu.Emulated) error {
							frames++
							if frames == 1 && tc.frame > 1 {
								reload <- struct{}{}
							}
							if frames == tc.frame {
								inFrame = len(testutil.Objects()) > len(before)
								cancel()
							}
							saveErr = e.SavePNGContext(ctx, filepath.Join(dir, "run.png"))
							return saveErr
						}})
				}
				err := Run(ctx, Config{Backend: BackendEmu, EmuSize: image.Pt(160, 120), Buffers: n, Reload: reload, Open: open})
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if frames != tc.frame {
					t.Errorf("%d frames drawn, want the context to end Run after frame %d", frames, tc.frame)
				}
				if !inFrame {
					t.Error("the frame the context ended in held no buffer: the check proves nothing")
				}
				if saveErr == nil {
					t.Error("the last frame was written after the context ended")
				}
				if after := testutil.Objects(); !slices.Equal(before, after) {
					t.Errorf("kernel objects left after Run:\nbefore %q\nafter  %q", before, after)
				}
			})
		}
	}
}

// TestRunRefusesBrokenImages: a theme whose logo or spinner frame is a
// truncated PNG used to be taken by a reload (and by the first load), the
// frame then drawn without it and a warning logged; images were decoded
// only when drawn. Now every image is decoded when the theme is loaded: a
// reload refuses the theme with FILE:LINE: KEY and keeps the one on
// screen, and a first load refuses it with the same error.
func TestRunRefusesBrokenImages(t *testing.T) {
	dir := t.TempDir()
	theme := filepath.Join(dir, "theme.toml")
	out := filepath.Join(dir, "run.png")
	logo := testutil.WhitePNG(t, 40, 40)
	for name, b := range map[string][]byte{"logo.png": logo, "cut.png": logo[:len(logo)/2], "spin-0.png": logo, "spin-1.png": logo[:len(logo)-20]} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := "[background]\ncolor = \"#c01020\"\n\n[logo]\nimage = \"logo.png\"\n"
	cutLogo := "[background]\ncolor = \"#1020c0\"\n\n[logo]\nimage = \"cut.png\"\n"
	cutFrame := "[background]\ncolor = \"#1020c0\"\n\n[spinner]\nframes = \"spin-*.png\"\n"
	putTheme(t, theme, good)
	var logs testutil.SyncBuffer
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Backend: BackendEmu, EmuSize: image.Pt(160, 120), Out: out, Theme: theme,
			Reload: reload, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	red := color.RGBA{0xc0, 0x10, 0x20, 0xff}
	onScreen := func() bool { c, ok := pixelAt(out, 1, 1); return ok && c == red }
	waitFor(t, "the first frame", onScreen)
	for _, c := range []struct{ theme, want string }{
		{cutLogo, theme + ":5: logo.image: cut.png: corrupt PNG image"},
		{cutFrame, theme + ":5: spinner.frames: spin-1.png: "},
	} {
		putTheme(t, theme, c.theme)
		reload <- struct{}{}
		waitFor(t, "the broken theme to be refused: "+c.want, func() bool {
			return strings.Contains(logs.String(), "reload the theme: "+c.want)
		})
		if strings.Contains(logs.String(), "reloaded the theme") {
			t.Fatalf("a theme with a broken image was taken:\n%s", logs.String())
		}
	}
	// A good reload after them shows the broken ones drew nothing.
	putTheme(t, theme, good)
	reload <- struct{}{}
	waitFor(t, "the good theme reloaded", func() bool { return strings.Contains(logs.String(), "reloaded the theme") })
	if !onScreen() {
		t.Error("the screen changed under refused themes")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// The first load refuses it the same way.
	putTheme(t, theme, cutLogo)
	err := Run(context.Background(), Config{Backend: BackendEmu, EmuSize: image.Pt(160, 120), Theme: theme})
	if err == nil || !strings.Contains(err.Error(), theme+":5: logo.image: cut.png: corrupt PNG image") {
		t.Errorf("Run with a truncated logo: %v", err)
	}
}
