package splash

import (
	"fmt"
	"syscall"
	"time"
)

// logUsage says, at debug level, what the way to the first frame cost the
// process: the time since exec (the time before main added to d, the time
// since main), its page faults, its peak memory and its CPU time.
func logUsage(cfg Config, d time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	args := []any{"since_main_ms", ms(d)}
	if cfg.BeforeMain > 0 {
		args = append(args, "since_exec_ms", ms(cfg.BeforeMain+d))
	}
	args = append(args, "minflt", ru.Minflt, "majflt", ru.Majflt, "maxrss_kb", ru.Maxrss,
		"user_ms", ms(tv(ru.Utime)), "sys_ms", ms(tv(ru.Stime)))
	cfg.Log.Debug("first frame: process usage", args...)
}
