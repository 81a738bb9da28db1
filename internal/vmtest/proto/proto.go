// Package proto is what the host side of the VM runner and the guest's init
// say to each other: the Plan the guest executes (modules to load, devices to
// wait for, steps to run) and the Messages that travel over the control
// serial line while it does.
//
// The plan travels inside the initramfs as /plan.json. Messages are framed as
// one JSON object per line, prefixed with Magic so that anything else that
// ends up on the line (a stray kernel message, line noise) is recognisably
// not a message.
package proto

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// PlanPath is where the host puts the encoded Plan inside the initramfs.
const PlanPath = "/plan.json"

// ControlDevice is the guest's end of the host↔guest control line on a PC
// (the second serial port; the first is the kernel console), used when the
// plan names none.
const ControlDevice = "/dev/ttyS1"

// Magic starts every framed message line.
const Magic = "@@vmtest "

// Module is one kernel module the guest loads, in plan order.
type Module struct {
	// Name is the module's name as modinfo says it ("drm_kms_helper").
	Name string `json:"name"`
	// Path is the uncompressed .ko inside the initramfs.
	Path string `json:"path"`
	// Params are the module parameters passed to finit_module
	// ("fbdev_emulation=0").
	Params string `json:"params,omitempty"`
}

// WriteFile is a step that writes Data to Path in the guest (a sysfs
// attribute, a config file).
type WriteFile struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// Step is one thing the guest does. Exactly one of Cmd, Write, Host, Stop,
// Wait or WaitPath is set.
type Step struct {
	// Name identifies the step in results and messages; unique in a plan.
	Name string `json:"name"`

	// Cmd is a command (Cmd[0] an absolute path in the guest) run as root.
	Cmd []string `json:"cmd,omitempty"`
	// Env is added to the guest's base environment (PATH, HOME, TMPDIR).
	Env []string `json:"env,omitempty"`
	// Dir is the working directory; "/" when empty.
	Dir string `json:"dir,omitempty"`
	// Timeout bounds the command (for a background command: the wait for
	// WaitFor, and the whole life until Stop). Zero means one minute.
	Timeout Duration `json:"timeout,omitempty"`
	// Background starts Cmd and moves on once its output contains WaitFor
	// (at once when WaitFor is empty); a later Stop step ends it.
	Background bool `json:"background,omitempty"`
	// WaitFor is the text a background command's output must contain before
	// the plan goes on.
	WaitFor string `json:"waitFor,omitempty"`

	// Write writes a file.
	Write *WriteFile `json:"write,omitempty"`

	// Host asks the host to do something (a screendump, a device hotplug)
	// and waits for its acknowledgement.
	Host bool `json:"host,omitempty"`

	// Stop names a background step to end with SIGTERM; its result (exit
	// status, all its output) is reported under the background step's name.
	Stop string `json:"stop,omitempty"`

	// Wait names a background step that must exit by itself (after a quit
	// request, say) within Timeout; one that does not is ended as Stop
	// ends it, and its result notes that it had to be. Its result is
	// reported under the background step's name, as with Stop.
	Wait string `json:"wait,omitempty"`

	// WaitPath waits (up to Timeout) until the path exists, or with
	// WaitGone until it no longer does: a device node after a hotplug, a
	// sysfs file.
	WaitPath string `json:"waitPath,omitempty"`
	WaitGone bool   `json:"waitGone,omitempty"`
}

// Plan is everything the guest init does after mounting the basic file
// systems: load modules, wait for device nodes, run the steps, power off.
type Plan struct {
	// Control is the guest's device node of the control line (a second
	// UART, or a virtio console on boards with one UART); ControlDevice
	// when empty.
	Control string   `json:"control,omitempty"`
	Modules []Module `json:"modules,omitempty"`
	// WaitPaths are device nodes that must appear after Modules are loaded
	// and before the steps run ("/dev/dri/card0").
	WaitPaths []string `json:"waitPaths,omitempty"`
	// LateModules are loaded once WaitPaths exist, so that a render-only
	// device (vgem) cannot take card0 from the display device.
	LateModules []Module `json:"lateModules,omitempty"`
	// WaitTimeout bounds the wait for WaitPaths; zero means 20 s.
	WaitTimeout Duration `json:"waitTimeout,omitempty"`
	Steps       []Step   `json:"steps"`
}

// Validate reports the first thing that makes the plan impossible to run.
func (p *Plan) Validate() error {
	seen := map[string]bool{}
	bg := map[string]bool{}
	for i, s := range p.Steps {
		if s.Name == "" {
			return fmt.Errorf("plan step %d has no name", i)
		}
		if seen[s.Name] {
			return fmt.Errorf("plan step %d: duplicate name %q", i, s.Name)
		}
		seen[s.Name] = true
		kinds := 0
		if len(s.Cmd) > 0 {
			kinds++
		}
		if s.Write != nil {
			kinds++
		}
		if s.Host {
			kinds++
		}
		if s.WaitPath != "" {
			kinds++
		}
		for _, end := range []struct{ verb, name string }{{"stops", s.Stop}, {"waits for", s.Wait}} {
			if end.name == "" {
				continue
			}
			kinds++
			if !bg[end.name] {
				return fmt.Errorf("plan step %q %s %q, which is not an earlier background step", s.Name, end.verb, end.name)
			}
			delete(bg, end.name)
		}
		if kinds != 1 {
			return fmt.Errorf("plan step %q must have exactly one of cmd, write, host, stop, wait, waitPath (has %d)", s.Name, kinds)
		}
		if s.Background {
			if len(s.Cmd) == 0 {
				return fmt.Errorf("plan step %q is background but has no command", s.Name)
			}
			bg[s.Name] = true
		}
	}
	return nil
}

// Encode returns the plan as the guest reads it.
func (p *Plan) Encode() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(p, "", "  ")
}

// DecodePlan parses an encoded plan and validates it.
func DecodePlan(b []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Duration is a time.Duration that encodes as a string ("1m30s").
type Duration time.Duration

// MarshalJSON encodes d as its String form.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON accepts a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Kind says what a Message is about.
type Kind string

// Message kinds. Guest → host unless noted.
const (
	// KindReady: modules loaded, devices present; Text is uname -r.
	KindReady Kind = "ready"
	// KindLog: a line from the init itself.
	KindLog Kind = "log"
	// KindStart: step Step started.
	KindStart Kind = "start"
	// KindOutput: Data is a chunk of the step's combined stdout and stderr.
	KindOutput Kind = "output"
	// KindWaited: a background step's output contained its WaitFor text.
	KindWaited Kind = "waited"
	// KindExit: step finished; Code is its exit status (-1 when it did not
	// exit normally), Text says why when it did not run or was killed.
	KindExit Kind = "exit"
	// KindHost: the guest waits for the host to act for step Step.
	KindHost Kind = "host"
	// KindAck (host → guest): the host has acted for step Step; Text is
	// the host's error, if any.
	KindAck Kind = "ack"
	// KindFatal: the plan cannot go on; Text says why. Power-off follows.
	KindFatal Kind = "fatal"
	// KindDone: every step ran; power-off follows.
	KindDone Kind = "done"
)

// Message is one framed line on the control serial line.
type Message struct {
	Kind Kind   `json:"kind"`
	Step string `json:"step,omitempty"`
	Text string `json:"text,omitempty"`
	Data []byte `json:"data,omitempty"`
	Code int    `json:"code,omitempty"`
	// Millis is the guest's uptime when the message was sent.
	Millis int64 `json:"ms,omitempty"`
}

// Encoder writes framed messages; it is safe for concurrent use.
type Encoder struct {
	mu sync.Mutex
	w  io.Writer
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Send writes m as one line.
func (e *Encoder) Send(m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	line := make([]byte, 0, len(Magic)+len(b)+1)
	line = append(line, Magic...)
	line = append(line, b...)
	line = append(line, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.w.Write(line)
	return err
}

// Decoder reads framed messages, passing over lines that are not messages.
type Decoder struct {
	r *bufio.Reader
	// Noise, when set, receives every line that was not a message.
	Noise func(line string)
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: bufio.NewReaderSize(r, 64<<10)} }

// Next returns the next message, or io.EOF at the end of the stream. A line
// that carries the magic prefix but does not parse is an error.
func (d *Decoder) Next() (Message, error) {
	for {
		line, err := d.r.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return Message{}, err
		}
		line = bytes.TrimRight(line, "\r\n")
		i := bytes.Index(line, []byte(Magic))
		if i < 0 {
			if d.Noise != nil && len(bytes.TrimSpace(line)) > 0 {
				d.Noise(string(line))
			}
			if err != nil {
				return Message{}, err
			}
			continue
		}
		if i > 0 && d.Noise != nil {
			d.Noise(string(line[:i]))
		}
		var m Message
		if jerr := json.Unmarshal(line[i+len(Magic):], &m); jerr != nil {
			return Message{}, fmt.Errorf("control line: malformed message %.80q: %w", line[i:], jerr)
		}
		if m.Kind == "" {
			return Message{}, fmt.Errorf("control line: message without kind: %.80q", line[i:])
		}
		return m, nil
	}
}
