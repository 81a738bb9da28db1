package study

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine is what a study ran on, as far as the numbers depend on it.
type Machine struct {
	// Kernel is the kernel's release ("6.12.107+deb12-amd64").
	Kernel string `json:"kernel"`
	// Arch is the Go architecture (amd64, arm64).
	Arch string `json:"arch"`
	// CPU is the processor's model name.
	CPU string `json:"cpu"`
	// CPUs is the number of logical CPUs the process may use.
	CPUs int `json:"cpus"`
	// MemoryMB is the machine's memory.
	MemoryMB int `json:"memory_mb"`
	// Virtual says the CPU reports a hypervisor: timings are the guest's.
	Virtual bool `json:"virtual"`
	// Go is the Go version the binary was built with.
	Go string `json:"go"`
}

// ReadMachine describes the running machine from /proc; what it cannot
// read stays empty.
func ReadMachine() Machine {
	m := Machine{Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch {
			case m.CPU == "" && (k == "model name" || k == "Model" || k == "cpu model"):
				m.CPU = v
			case k == "flags" && strings.Contains(" "+v+" ", " hypervisor "):
				m.Virtual = true
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.Atoi(f[1]); err == nil {
					m.MemoryMB = kb / 1024
				}
			}
		}
	}
	return m
}

// String reads like "kernel 6.12.107+deb12-amd64 amd64, 1 × QEMU TCG CPU
// version 2.5+ (virtual machine), 462 MB".
func (m Machine) String() string {
	var b strings.Builder
	b.WriteString("kernel " + orUnknown(m.Kernel) + " " + m.Arch)
	b.WriteString(", " + strconv.Itoa(m.CPUs) + " × " + orUnknown(m.CPU))
	if m.Virtual {
		b.WriteString(" (virtual machine)")
	}
	if m.MemoryMB > 0 {
		b.WriteString(", " + strconv.Itoa(m.MemoryMB) + " MB")
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
