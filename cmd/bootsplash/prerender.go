package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/firstframe"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// cmdPrerender writes the first frame of the embedded theme, or of a
// theme file, for each size asked for, the frames `run` copies to the
// screen before it renders.
func cmdPrerender(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("prerender", stderr)
	sizes := fs.String("size", "1024x768", "panel sizes WxH, comma-separated (the connectors' preferred modes)")
	dir := fs.String("out", firstframe.DefaultDir, "directory the frames are written to")
	scale := fs.Float64("scale", 0, "output scale, 0.25 to 8, as run --scale (default: guessed from the size, as for a panel of unknown physical size)")
	format := fs.String("format", "XRGB8888", "pixel formats of the framebuffers, comma-separated: XRGB8888, ARGB8888, RGB565")
	themePath := fs.String("theme", "", "theme file, as run --theme will be given it (default: the embedded theme); its frames are used only while the theme file and its images stay as they are now")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkScale(*scale); err != nil {
		return err
	}
	var formats []fbemu.Format
	for _, s := range strings.Split(*format, ",") {
		f, err := parseFormat(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		formats = append(formats, f)
	}
	build, err := firstframe.BuildID("/proc/self/exe")
	if err != nil {
		return err
	}
	th, err := loadTheme(*themePath)
	if err != nil {
		return err
	}
	for _, s := range strings.Split(*sizes, ",") {
		w, h, err := parseSize("--size", strings.TrimSpace(s), 4)
		if err != nil {
			return err
		}
		sc := *scale
		if sc <= 0 {
			sc = splash.OutputScale(w, h, 0, 0)
		}
		for _, f := range formats {
			name, err := firstframe.Write(*dir, th, firstframe.Key{Build: build, Width: w, Height: h, Format: f, Scale: sc})
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, name)
		}
	}
	return nil
}

// parseFormat reads a pixel format by its kernel name.
func parseFormat(s string) (fbemu.Format, error) {
	for _, f := range fbemu.Formats() {
		if strings.EqualFold(s, f.String()) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: --format %q: want XRGB8888, ARGB8888 or RGB565", errUsage, s)
}

// openWithFrame opens the display as run does and, when dir holds a
// pre-rendered first frame for a head, puts it on that head at once; the
// full render follows. It logs when that frame went up.
func openWithFrame(dir, themeFile string, scale float64, start time.Time, log *slog.Logger) func(context.Context, display.Options) (display.Display, error) {
	return func(ctx context.Context, opt display.Options) (display.Display, error) {
		d, err := display.Open(ctx, opt)
		if err != nil {
			return d, err
		}
		// The frame is on the screen at its first present, and said so
		// then; the display layer then paints it once more after the
		// modeset, which the lap includes.
		n, err := firstframe.Show(d, firstframe.Options{Dir: dir, Theme: themeFile, Scale: scale, Log: log,
			Up: func() {
				log.Info(fmt.Sprintf("pre-rendered frame up after %.1fms", float64(time.Since(start).Microseconds())/1000))
			}})
		if err != nil {
			log.Warn(err.Error())
		}
		if n > 0 && opt.Step != nil {
			opt.Step("copy and commit the pre-rendered frame (and its repaint after the modeset)")
		}
		return d, nil
	}
}

// loadTheme loads the theme file path as run does, or the embedded theme
// for "".
func loadTheme(path string) (*theme.Theme, error) {
	if path == "" {
		return theme.Default()
	}
	return theme.Load(path, theme.Options{})
}
