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
// running its --command). Clients may send several requests on one
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
//	S       system-initialized  --sysinit, update-root-fs --read-write   ACK, ignored
//	D       deactivate          deactivate                       stop drawing, drop master, then ACK; NAK on failure
//	r       reactivate          reactivate                       take master back, redraw, ACK; ACK also when not deactivated (as plymouthd)
//	Q       quit                quit [--retain-splash], --quit   quit (keeping the last frame with retain), ACK once done
//	*       password            ask-for-password                 NO_ANSWER (no keyboard input): the client runs its --command itself, as when no daemon runs
//	c       cached-password     (ask-for-password internals)     NO_ANSWER (nothing cached)
//	W       question            ask-question                     NO_ANSWER
//	M       show-message        display-message --text=T         ACK, message line = T
//	m       hide-message        hide-message --text=T            ACK, message line cleared if it shows T
//	K       keystroke           watch-keystroke                  NO_ANSWER (no keyboard input)
//	L       keystroke-remove    ignore-keystroke                 ACK, ignored
//	A       progress-pause      pause-progress                   ACK, ignored
//	a       progress-unpause    unpause-progress                 ACK, ignored
//	$       show-splash         show-splash, --show-splash       show; ACK, NAK on failure
//	H       hide-splash         hide-splash, --hide-splash       hide; ACK, NAK on failure
//	R       newroot             --newroot=DIR, update-root-fs    ACK, ignored (bootsplash reopens nothing)
//	V       has-active-vt       --has-active-vt                  ACK while the splash is showing, NAK otherwise
//	!       error               report-error, --details          ACK, ignored (logged)
//	other   unknown                                              NAK, connection kept
//
// Requests the daemon refuses because it is quitting are answered NAK.
// The old socket name "\x00/ply-boot-protocol" (padded to the full address
// length), which the client tries only when the new one fails, is not
// served.
package plymouth
