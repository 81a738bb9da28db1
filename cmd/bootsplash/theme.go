package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

const themeUsage = `Usage: bootsplash theme check [flags] FILE...

Checks theme files: syntax, unknown keys, colours, ranges, and that every
image and font they name exists and decodes. Mistakes are printed as
FILE:LINE: KEY: what is wrong.
`

// maxImagePixels bounds theme check's --max-image-pixels: an image the
// size of the largest panel KMS scans out (16384 x 16384), 1 GiB decoded.
const maxImagePixels = 16384 * 16384

// cmdTheme runs "bootsplash theme SUBCOMMAND".
func cmdTheme(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(stderr, themeUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: theme needs a subcommand (check)", errUsage)
		}
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			return nil
		}
		return fmt.Errorf("%w: unknown theme subcommand %q", errUsage, args[0])
	}
	fs := newFlags("theme check", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, themeUsage+"\nFlags:\n"+fs.FlagUsages()) }
	budget := fs.Int("max-image-pixels", theme.DefaultMaxImagePixels, "refuse images with more pixels than this")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: theme check needs a FILE", errUsage)
	}
	if err := checkCount("--max-image-pixels", *budget, 1, maxImagePixels); err != nil {
		return err
	}
	bad := 0
	for _, file := range fs.Args() {
		if err := checkTheme(file, *budget); err != nil {
			bad++
			var tes theme.Errors
			if errors.As(err, &tes) {
				for _, te := range tes {
					fmt.Fprintln(stderr, te)
				}
				continue
			}
			fmt.Fprintln(stderr, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d themes have mistakes", bad, fs.NArg())
	}
	return nil
}

// checkTheme loads a theme and everything it names.
func checkTheme(file string, budget int) error {
	th, err := theme.Load(file, theme.Options{MaxImagePixels: budget})
	if err != nil {
		return err
	}
	// Check's errors name the file, line and key.
	return th.Check()
}

// parseRotation reads render's --rotate.
func parseRotation(s string) (fbemu.Rotation, error) { return fbemu.ParseRotation(s) }
