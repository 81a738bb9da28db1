package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// memory samples one process's VmRSS and VmHWM.
type memory struct {
	path string
	mu   sync.Mutex
	m    Memory
}

func newMemory(pid int) (*memory, error) {
	m := &memory{path: fmt.Sprintf("/proc/%d/status", pid), m: Memory{PID: pid}}
	if _, err := readStatus(m.path); err != nil {
		return nil, fmt.Errorf("daemon memory: %w", err)
	}
	return m, nil
}

// sample reads the status once; second says the second half of the
// requests is under way.
func (m *memory) sample(second bool) {
	st, err := readStatus(m.path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		return // the process is going away; Samples tells how many were read
	}
	rss := st["VmRSS"]
	if m.m.Samples == 0 {
		m.m.RSSStart = rss
	}
	m.m.Samples++
	m.m.RSSEnd, m.m.HWM = rss, st["VmHWM"]
	if second {
		m.m.RSSPeakSecond = max(m.m.RSSPeakSecond, rss)
	} else {
		m.m.RSSPeakFirst = max(m.m.RSSPeakFirst, rss)
	}
}

func (m *memory) report() *Memory {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.m
	return &r
}

// readStatus reads the "Vm*: N kB" lines of a /proc/PID/status file, in
// KiB.
func readStatus(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (map[string]int64, error) {
	vm := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(key, "Vm") {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(val), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || unit != "kB" {
			return nil, fmt.Errorf("status line %q: want \"N kB\"", sc.Text())
		}
		vm[key] = n
	}
	if _, ok := vm["VmRSS"]; !ok {
		return nil, errors.New("no VmRSS line (a kernel thread, or a process that exited)")
	}
	return vm, nil
}

// FindPID returns the process whose command name (/proc/PID/comm) is
// name, other than this one, as pidof does; it is an error when none or
// several are found.
func FindPID(name string) (int, error) {
	comms, err := filepath.Glob("/proc/[0-9]*/comm")
	if err != nil {
		return 0, err
	}
	self := os.Getpid()
	var found []int
	for _, c := range comms {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(c)))
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(c)
		if err != nil {
			continue // gone meanwhile
		}
		if strings.TrimSuffix(string(b), "\n") == name {
			found = append(found, pid)
		}
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("no process named %q: %w", name, os.ErrNotExist)
	case 1:
		return found[0], nil
	}
	return 0, fmt.Errorf("%d processes named %q (%v): give --pid", len(found), name, found)
}
