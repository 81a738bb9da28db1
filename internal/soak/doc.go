// Package soak runs `bootsplash run` on the emulated display for a long
// time under everything hostile its control front ends can meet at once,
// in the spirit of the kernel's soak and stress runs (long runs that look
// for hangs, leaks and growth rather than for a wrong answer):
//
//   - random valid and invalid requests on bootsplash's socket, psplash's
//     FIFO and plymouth's abstract socket, beside the steady load of
//     internal/load;
//   - idle clients and half-open ones (a request left unfinished, a write
//     side shut before the answer);
//   - SIGHUP reloads that alternate a good theme and broken ones (a syntax
//     error, a type error, a truncated PNG, a FIFO as the logo);
//   - a final SIGTERM.
//
// It passes with no valid request left unanswered past a bound, the same
// open file descriptors after as before, a bounded RSS, the last valid
// state on the screen (the emulated display's PNG equals `bootsplash
// render` of that state) and exit status 0.
//
// TestSoak runs it for BOOTSPLASH_SOAK (a Go duration; 30s when unset).
// The package holds only the test.
package soak
