package splash

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// logUsage says, at debug level, what the way to the first frame cost the
// process: the time since exec (the time before main added to d, the time
// since main), its page faults, its peak memory, its CPU time, its context
// switches, the threads the runtime had started by then and what each
// took of the CPU, and the garbage collections so far.
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
		"user_ms", ms(tv(ru.Utime)), "sys_ms", ms(tv(ru.Stime)),
		"vcsw", ru.Nvcsw, "ivcsw", ru.Nivcsw)
	if n, t := threadTimes(); n > 0 {
		args = append(args, "threads", n)
		if t != "" {
			args = append(args, "thread_cpu_ms", t)
		}
	}
	var gc debug.GCStats
	debug.ReadGCStats(&gc)
	args = append(args, "gcs", gc.NumGC)
	cfg.Log.Debug("first frame: process usage", args...)
}

// threadTimes returns the process's thread count and lists each thread's
// time on a CPU in ms and its time slices, the main thread first
// ("12.3/40,0.8/120,..."), from /proc/self/task; n is 0 when the list
// cannot be read, times "" when the kernel has no schedstats.
func threadTimes() (n int, times string) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, ""
	}
	pid := strconv.Itoa(os.Getpid())
	var main string
	var rest []string
	for _, e := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/schedstat")
		if err != nil {
			return len(tasks), ""
		}
		f := strings.Fields(string(b))
		if len(f) < 3 {
			return len(tasks), ""
		}
		ns, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return len(tasks), ""
		}
		v := fmt.Sprintf("%.1f/%s", float64(ns)/1e6, f[2])
		if e.Name() == pid {
			main = v
		} else {
			rest = append(rest, v)
		}
	}
	return len(tasks), strings.Join(append([]string{main}, rest...), ",")
}
