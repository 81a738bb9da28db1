package status

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Sources are where the standard fields read the machine's state. System
// returns the real ones; a test gives its own so that what is drawn is
// known in advance.
type Sources struct {
	// Hostname is the machine's name.
	Hostname func() (string, error)
	// Addresses are the IP addresses of the interfaces that are up,
	// loopback excluded.
	Addresses func() ([]string, error)
	// Uptime is the time since boot.
	Uptime func() (time.Duration, error)
	// Load is the 1, 5 and 15 minute load averages.
	Load func() ([3]float64, error)
	// Memory is the memory in use (total less available) and the total,
	// in bytes.
	Memory func() (used, total uint64, err error)
	// Disk is the space in use and the total of the filesystem holding
	// path, in bytes.
	Disk func(path string) (used, total uint64, err error)
}

// System returns the sources of the machine this runs on: the host name,
// the network interfaces, /proc/uptime, /proc/loadavg, /proc/meminfo and
// statfs(2). Its Disk waits at most half a second for statfs: a network
// filesystem that stopped answering blocks it, and the screen must go on.
func System() Sources {
	return Sources{
		Hostname:  os.Hostname,
		Addresses: addresses,
		Uptime:    uptime,
		Load:      loadavg,
		Memory:    meminfo,
		Disk:      (&bounded{stat: diskUsage, wait: 500 * time.Millisecond}).usage,
	}
}

// bounded runs stat on a goroutine of its own and waits for it at most
// wait. A call that has not returned is waited for again by the next one
// rather than started twice, so a hung filesystem costs one goroutine.
// Like the rest of Sources, it is called from one goroutine.
type bounded struct {
	stat    func(path string) (used, total uint64, err error)
	wait    time.Duration
	pending chan usage // the call still running, or nil
}

type usage struct {
	used, total uint64
	err         error
}

func (b *bounded) usage(path string) (used, total uint64, err error) {
	if b.pending == nil {
		ch := make(chan usage, 1)
		go func() {
			u, t, err := b.stat(path)
			ch <- usage{u, t, err}
		}()
		b.pending = ch
	}
	t := time.NewTimer(b.wait)
	defer t.Stop()
	select {
	case u := <-b.pending:
		b.pending = nil
		return u.used, u.total, u.err
	case <-t.C:
		return 0, 0, fmt.Errorf("statfs %s: no answer after %v", path, b.wait)
	}
}

// Standard returns the fields a status screen shows, in order: host,
// addresses, uptime, load, memory, disk usage of diskPath, and the time
// (as now gives it, in format layout; "" means "2006-01-02 15:04:05").
// A value that cannot be read shows as "n/a" with the reason.
func Standard(src Sources, diskPath, layout string) []Field {
	if layout == "" {
		layout = time.DateTime
	}
	return []Field{
		{Label: "host", Value: func(time.Time) string {
			h, err := src.Hostname()
			return orNA(h, err)
		}},
		{Label: "address", Value: func(time.Time) string {
			a, err := src.Addresses()
			if err == nil && len(a) == 0 {
				return "none"
			}
			return orNA(strings.Join(a, "  "), err)
		}},
		{Label: "uptime", Value: func(time.Time) string {
			d, err := src.Uptime()
			return orNA(FormatUptime(d), err)
		}},
		{Label: "load", Value: func(time.Time) string {
			l, err := src.Load()
			return orNA(fmt.Sprintf("%.2f  %.2f  %.2f", l[0], l[1], l[2]), err)
		}},
		{Label: "memory", Value: func(time.Time) string {
			used, total, err := src.Memory()
			return orNA(FormatUsage(used, total), err)
		}},
		{Label: "disk " + diskPath, Value: func(time.Time) string {
			used, total, err := src.Disk(diskPath)
			return orNA(FormatUsage(used, total), err)
		}},
		{Label: "time", Value: func(now time.Time) string { return now.Format(layout) }},
	}
}

// orNA is s, or "n/a" with the reason when err is set.
func orNA(s string, err error) string {
	if err != nil {
		return "n/a (" + err.Error() + ")"
	}
	return s
}

// FormatUptime writes d to the minute, so that it changes once a minute:
// "5 min", "3:07", "2 days, 3:07".
func FormatUptime(d time.Duration) string {
	m := int64(d / time.Minute)
	days, h, min := m/(24*60), m/60%24, m%60
	switch {
	case days == 1:
		return fmt.Sprintf("1 day, %d:%02d", h, min)
	case days > 1:
		return fmt.Sprintf("%d days, %d:%02d", days, h, min)
	case h > 0:
		return fmt.Sprintf("%d:%02d", h, min)
	}
	return fmt.Sprintf("%d min", min)
}

// FormatUsage writes a part of a whole in binary units, to three figures,
// so that it changes only when the amount does visibly: "675 MiB of 7.7
// GiB (9%)".
func FormatUsage(used, total uint64) string {
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(used) / float64(total)
	}
	return fmt.Sprintf("%s of %s (%.0f%%)", bytesText(used), bytesText(total), pct)
}

func bytesText(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%d B", n)
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// addresses lists the addresses of the interfaces that are up, without
// loopback and IPv6 link-local ones (the same on every machine's fe80::).
func addresses() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			out = append(out, ipn.IP.String())
		}
	}
	return out, nil
}

// procFile reads a small file under /proc (they are a page or two).
func procFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b [4096]byte
	n, err := f.Read(b[:])
	if n == 0 && err != nil {
		return nil, err
	}
	return b[:n], nil
}

func uptime() (time.Duration, error) {
	b, err := procFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0, errors.New("/proc/uptime: empty")
	}
	s, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/uptime: %w", err)
	}
	return time.Duration(s * float64(time.Second)), nil
}

func loadavg() ([3]float64, error) {
	var l [3]float64
	b, err := procFile("/proc/loadavg")
	if err != nil {
		return l, err
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return l, fmt.Errorf("/proc/loadavg: %q", b)
	}
	for i := range l {
		if l[i], err = strconv.ParseFloat(string(f[i]), 64); err != nil {
			return l, fmt.Errorf("/proc/loadavg: %w", err)
		}
	}
	return l, nil
}

func meminfo() (used, total uint64, err error) {
	b, err := procFile("/proc/meminfo")
	if err != nil {
		return 0, 0, err
	}
	var avail uint64
	var haveTotal, haveAvail bool
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) < 2 {
			continue
		}
		kib, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			continue
		}
		switch string(f[0]) {
		case "MemTotal:":
			total, haveTotal = kib<<10, true
		case "MemAvailable:":
			avail, haveAvail = kib<<10, true
		}
	}
	if !haveTotal || !haveAvail {
		return 0, 0, errors.New("/proc/meminfo: no MemTotal or MemAvailable")
	}
	return total - min(avail, total), total, nil
}
