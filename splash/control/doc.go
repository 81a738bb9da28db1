// Package control is how boot scripts talk to a running splash: the
// Command every front end turns its requests into, and bootsplash's own
// control protocol over a unix socket (Server for the daemon, Client for
// `bootsplash ctl`).
//
// It mirrors the control side of the boot splash daemons this project
// replaces: plymouthd's boot server and psplash's FIFO. Those two wire
// formats live in the sibling packages splash/plymouth and splash/psplash;
// all three hand the daemon the same Commands.
//
// # Native protocol, version 1
//
// A stream unix socket (default /run/bootsplash/control, mode 0600, in a
// 0700 directory). The server checks the peer's credentials (SO_PEERCRED)
// on accept, then greets with one line:
//
//	bootsplash-control 1
//
// Each request is one line of at most MaxLine bytes including its '\n':
// a verb, and for some verbs one space and an argument that runs to the
// end of the line.
//
//	ping
//	progress PERCENT        0 to 100, decimals allowed
//	system-update PERCENT   the same, for a system update
//	message TEXT            an empty TEXT clears the message
//	hide-message
//	status TEXT
//	show | hide
//	deactivate | reactivate
//	has-active-vt
//	quit [retain]
//	ask-password [PROMPT]   a password, answered when typed
//	ask-question [PROMPT]   a question whose answer shows as it is typed
//	watch-keystroke [KEYS]  the first key typed that is in KEYS (any key without)
//	ignore-keystroke [KEYS] ends the watch for exactly KEYS
//	pause-progress | unpause-progress
//	details                 switch between the splash and the details view
//	system-initialized      the root filesystem is writable: write the boot log
//
// Each request gets one reply line: "ok" or "err REASON". A question
// (ask-password, ask-question, watch-keystroke) is answered once someone
// types the answer, with "answer TEXT", where a backslash, newline,
// carriage return and NUL in TEXT are written \\, \n, \r and \0; or with
// "err REASON" when it is cancelled (Ctrl+C) or the splash cannot ask (no
// keyboard, the splash hidden). The answer goes only to the connection
// that asked, and a question whose client hangs up is dropped. While a
// question waits, the connection is not closed for being idle. A malformed
// request is answered with an error and the connection stays usable; a line
// longer than MaxLine is answered "err line too long ..." and the
// connection is closed, since the rest of it cannot be trusted.
//
// A client that sends no request for IdleTimeout (a minute), or leaves a
// request unfinished for RequestTimeout (5 s), is closed. At most
// MaxConns (32) clients are served at once: a new one takes the place of
// the client that has waited longest for its next request, and only when
// all of them are in the middle of a request is it refused, with
// "err daemon busy: ...". A client the daemon closes is told why first, in
// one "err REASON" line. A long-lived client redials when told.
package control
