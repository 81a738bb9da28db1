// Package sysmem says how much memory this process may still take before
// it allocates a large buffer: the kernel's MemAvailable estimate
// (/proc/meminfo), bounded by the memory cgroup's memory.max and by the
// address-space limit (RLIMIT_AS, and the 32-bit address space itself).
// A size that would need more is refused with an error that names both
// numbers, instead of climbing toward the OOM killer.
package sysmem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

// Limit is the memory a process may take, and what bounds it.
type Limit struct {
	// Bytes is the memory available.
	Bytes uint64
	// By names what sets it: "MemAvailable", "the memory cgroup",
	// "RLIMIT_AS" or "the 32-bit address space".
	By string
}

// ShortError is a need for more memory than the process may take.
type ShortError struct {
	// Need is the bytes asked for.
	Need uint64
	// Avail is what is available, and what bounds it.
	Avail Limit
}

// Error reads "needs 1073741824 bytes (1 GiB), only 536870912 bytes (512 MiB) available (MemAvailable)".
func (e *ShortError) Error() string {
	return fmt.Sprintf("needs %d bytes (%s), only %d bytes (%s) available (%s)",
		e.Need, regfile.Human(e.Need), e.Avail.Bytes, regfile.Human(e.Avail.Bytes), e.Avail.By)
}

// Available returns the memory this process may still take.
func Available() (Limit, error) {
	return available("/proc")
}

// Check returns a *ShortError when need bytes are more than Available. When
// the machine cannot say, it lets the allocation try. A need of 0 reads
// nothing: a size checked only for its bounds costs no /proc reads.
func Check(need uint64) error {
	if need == 0 {
		return nil
	}
	l, err := Available()
	if err != nil {
		return nil
	}
	if need > l.Bytes {
		return &ShortError{Need: need, Avail: l}
	}
	return nil
}

const maxProcFile = 1 << 20

func available(proc string) (Limit, error) {
	b, err := regfile.ReadFile(proc+"/meminfo", maxProcFile, "proc file")
	if err != nil {
		return Limit{}, err
	}
	avail, ok := field(b, "MemAvailable:")
	if !ok {
		return Limit{}, errors.New("no MemAvailable in " + proc + "/meminfo")
	}
	l := Limit{Bytes: avail * 1024, By: "MemAvailable"}
	lower := func(n uint64, by string) {
		if n < l.Bytes {
			l = Limit{Bytes: n, By: by}
		}
	}
	if n, ok := cgroupLeft(proc); ok {
		lower(n, "the memory cgroup")
	}
	status, _ := regfile.ReadFile(proc+"/self/status", maxProcFile, "proc file")
	vm, _ := field(status, "VmSize:")
	vm *= 1024
	if as, ok := rlimitAS(); ok {
		lower(sub(as, vm), "RLIMIT_AS")
	}
	if math.MaxUint == math.MaxUint32 {
		// Of a 4 GiB address space, the kernel keeps 1 GiB or more.
		lower(sub(3<<30, vm), "the 32-bit address space")
	}
	return l, nil
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// field returns the number after key in a /proc file of "Key: N kB" lines.
func field(b []byte, key string) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == key {
			n, err := strconv.ParseUint(f[1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// cgroupLeft returns memory.max - memory.current of this process's cgroup
// (v2), when it has a limit.
func cgroupLeft(proc string) (uint64, bool) {
	b, err := regfile.ReadFile(proc+"/self/cgroup", maxProcFile, "proc file")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		p, ok := strings.CutPrefix(line, "0::")
		if !ok {
			continue
		}
		// Every ancestor's limit applies; the tightest wins.
		left, limited := uint64(math.MaxUint64), false
		for dir := "/sys/fs/cgroup" + strings.TrimSuffix(p, "/"); strings.HasPrefix(dir, "/sys/fs/cgroup/"); dir = dir[:strings.LastIndex(dir, "/")] {
			max, err1 := readNumber(dir + "/memory.max")
			cur, err2 := readNumber(dir + "/memory.current")
			if err1 == nil && err2 == nil {
				left, limited = min(left, sub(max, cur)), true
			}
		}
		return left, limited
	}
	return 0, false
}

func readNumber(path string) (uint64, error) {
	b, err := regfile.ReadFile(path, 4096, "cgroup file")
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64) // "max" fails: no limit
}
