// Package plymouth serves plymouthd's boot protocol, so that init systems
// and scripts that call the `plymouth` command-line client drive bootsplash
// unchanged.
//
// It mirrors plymouth's boot server (src/ply-boot-server.c, with the
// request letters of src/ply-boot-protocol.h): a stream socket in the
// abstract namespace, "\x00/org/freedesktop/plymouthd" (the address is
// exactly as long as the name, what plymouth calls a trimmed abstract
// socket). Abstract sockets have no file permissions, so the peer's
// credentials (SO_PEERCRED) are the only guard: by default root and the
// daemon's own user may talk to it; plymouthd itself answers NAK to
// everyone but root.
//
// # Wire format
//
// A request is one letter, then either a NUL (no argument), or the byte
// 0x02, one byte n, and n bytes of argument whose last byte is a NUL (so
// an argument carries at most 254 bytes of text). The server answers each
// request with one byte: ACK 0x06, NAK 0x15, or NO_ANSWER 0x05 (a question
// the splash cannot ask; the client falls back to asking on its own, or to
// running its --command). A question answered is ANSWER 0x02, the
// answer's size as a little-endian uint32, and its bytes (no NUL); the
// cached passwords are MULTIPLE_ANSWERS 0x09, the size, and the passwords
// each ending in a NUL. Clients may send several requests on one
// connection, and `plymouth --wait` holds a connection open, sending
// nothing, until the daemon goes away.
//
// A request whose second byte is neither NUL nor 0x02, or whose argument
// is empty or not NUL-terminated, cannot be resynchronised: it is answered
// NAK and the connection is closed. An unknown letter is answered NAK and
// the connection stays open (plymouthd does the same).
//
// # Requests
//
// Every request type of the protocol and what bootsplash does with it:
//
//	letter  request             plymouth CLI                     bootsplash
//	P       ping                --ping                           ACK
//	U       update              update --status=S, --update=S    ACK, then status line = S
//	C       change-mode         change-mode --boot-up etc.       ACK, ignored (logged)
//	u       system-update       system-update --progress=N       progress = N% and ACK; NAK if N is not 0..100
//	S       system-initialized  --sysinit, update-root-fs --read-write   the details view's log is written to the boot log (/var/log/boot.log) from then on; ACK
//	D       deactivate          deactivate                       stop drawing, drop master, then ACK; NAK on failure
//	r       reactivate          reactivate                       take master back, redraw, ACK; ACK also when not deactivated (as plymouthd)
//	Q       quit                quit [--retain-splash], --quit   quit (keeping the last frame with retain), ACK once done
//	*       password            ask-for-password --prompt=P      queued; P shown with one bullet per key typed; ANSWER with what was typed at Enter,
//	                                                             ANSWER "\x03" at Ctrl+C or Ctrl+D; NO_ANSWER without a keyboard, while hidden or deactivated
//	c       cached-password     (ask-for-password --command)     MULTIPLE_ANSWERS with every password answered so far, oldest first; NO_ANSWER if none
//	W       question            ask-question --prompt=P          queued as a password, the typed text shown as it is
//	K       keystroke           watch-keystroke [--keys=K]       ANSWER with the first key typed that is in K (any key without K; Enter is "\n"),
//	                                                             once no password or question takes the keys; NO_ANSWER without a keyboard
//	M       show-message        display-message --text=T         ACK, message line = T
//	m       hide-message        hide-message --text=T            ACK, message line cleared if it shows T
//	L       keystroke-remove    ignore-keystroke [--keys=K]      the first watch for exactly K answered NO_ANSWER; ACK
//	A       progress-pause      pause-progress                   the bar stays where it is; ACK
//	a       progress-unpause    unpause-progress                 the progress sent meanwhile shows; ACK
//	$       show-splash         show-splash, --show-splash       show; ACK, NAK on failure
//	H       hide-splash         hide-splash, --hide-splash       hide; ACK, NAK on failure
//	R       newroot             --newroot=DIR, update-root-fs    ACK, ignored (bootsplash reopens nothing)
//	V       has-active-vt       --has-active-vt                  ACK while the splash is showing, NAK otherwise
//	!       error               report-error, --details          ACK, ignored (logged)
//	other   unknown                                              NAK, connection kept
//
// Passwords and questions are answered one at a time, in the order they
// came; keystroke watches wait beside them. A question whose client hangs
// up is dropped (plymouthd keeps it until answered). The answer goes to
// the connection that asked and to no other; a password asked again by
// the connection whose password was answered last (the client's
// --number-of-tries retry) is shown with the retry message. Hide and
// deactivate answer the open passwords and questions NO_ANSWER, so their
// clients ask on the console as they would with no splash; deactivate
// also ends the keystroke watches, since the keyboard is another
// program's then.
//
// Requests the daemon refuses because it is quitting are answered NAK.
// The old socket name "\x00/ply-boot-protocol" (padded to the full address
// length), which the client tries only when the new one fails, is not
// served.
package plymouth
