// Package psplash reads psplash's control FIFO, so that init scripts
// written for psplash (and its psplash-write helper) drive bootsplash
// unchanged.
//
// It mirrors psplash's main loop (psplash.c): a FIFO named psplash_fifo
// in $PSPLASH_FIFO_DIR (default /run), carrying commands that end with a
// NUL, as psplash-write sends them, or with a newline, as
// `echo PROGRESS 50 > /run/psplash_fifo` does:
//
//	PROGRESS n   the progress bar to n percent (clamped to 0..100; psplash
//	             draws a negative n as a bar growing from the right, which
//	             bootsplash shows as 0)
//	MSG text     the message line; everything after the first space
//	QUIT         quit, taking the splash off the display
//
// Unknown commands are logged and ignored, as are a PROGRESS without a
// number and an empty MSG (psplash ignores both). The FIFO has no way to
// answer, so nothing is acknowledged.
//
// psplash opens the FIFO read-only and reopens it on every end-of-file;
// this package opens it read-write, so the writers coming and going never
// wake the daemon for nothing. A command longer than MaxCommand bytes is
// dropped, up to its terminator, with a logged error: nothing is buffered
// without limit.
package psplash
