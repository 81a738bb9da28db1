package splash

import "log/slog"

// takeVT switches the foreground virtual terminal to graphics mode
// (KDSETMODE KD_GRAPHICS) so the console does not draw over the splash.
// release(text) puts the terminal back in the mode it was in when text is
// true (a plain quit), and leaves it in graphics mode otherwise (a
// retained quit: the successor takes over a quiet VT). Without a VT, or
// without the right to open it, it logs why and does nothing.
func takeVT(log *slog.Logger) (release func(text bool)) {
	return func(bool) {}
}
