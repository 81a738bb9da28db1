// Package load is a load generator for the splash's control front ends, in
// the spirit of the kernel's stress tests and of a benchmark harness: a
// number of clients send a fixed number of valid requests as fast as the
// daemon takes them, over bootsplash's native socket, plymouth's abstract
// socket and psplash's FIFO at once, while a separate connection pings the
// daemon and records every round trip.
//
// Run returns a Report: how many requests went out and how fast, the
// ping latencies (the daemon must stay responsive under load), the
// daemon's memory as /proc says it while the load ran (it must stay
// bounded), and the state sent last, which the screen must end in.
//
// The benchmark BenchmarkControlLoad runs it against splash.Run on the
// emulated display in the same process; the command internal/load/cmd/loadgen
// runs it against a `bootsplash run` on a real device (and in the VM test).
package load
