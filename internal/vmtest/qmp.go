package vmtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// QMP is a client of QEMU's machine protocol: one command at a time, each
// bounded by a timeout. Asynchronous events are recorded, not acted on.
type QMP struct {
	mu      sync.Mutex
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
	broken  error // a reply went missing; later replies would be misread
	// Events holds the asynchronous events seen so far (raw JSON).
	Events []json.RawMessage
}

// QMPError is an error reply to a QMP command.
type QMPError struct {
	Command string
	Class   string
	Desc    string
}

// Error says what failed and why.
func (e *QMPError) Error() string {
	return fmt.Sprintf("qmp %s: %s: %s", e.Command, e.Class, e.Desc)
}

// DialQMP connects to the QMP socket at path, reads the greeting and
// negotiates capabilities. timeout bounds each command.
func DialQMP(path string, timeout time.Duration) (*QMP, error) {
	conn, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, fmt.Errorf("qmp: dial %s: %w", path, err)
	}
	q := &QMP{conn: conn, r: bufio.NewReader(conn), timeout: timeout}
	conn.SetDeadline(time.Now().Add(timeout))
	var greet struct {
		QMP json.RawMessage `json:"QMP"`
	}
	line, err := q.r.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &greet)
	}
	if err != nil || greet.QMP == nil {
		conn.Close()
		return nil, fmt.Errorf("qmp: no greeting on %s: %v (%.100q)", path, err, line)
	}
	if _, err := q.Execute("qmp_capabilities", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return q, nil
}

// Execute runs one command with the given arguments (nil for none) and
// returns its "return" value.
func (q *QMP) Execute(command string, args any) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.broken != nil {
		return nil, fmt.Errorf("qmp %s: connection unusable after an earlier failure: %w", command, q.broken)
	}
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	q.conn.SetDeadline(time.Now().Add(q.timeout))
	if _, err := q.conn.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("qmp %s: send: %w", command, err)
	}
	for {
		line, err := q.r.ReadBytes('\n')
		if err != nil {
			q.broken = fmt.Errorf("qmp %s: no reply: %w", command, err)
			return nil, q.broken
		}
		var reply struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Class string `json:"class"`
				Desc  string `json:"desc"`
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &reply); err != nil {
			return nil, fmt.Errorf("qmp %s: bad reply %.100q: %w", command, line, err)
		}
		switch {
		case reply.Event != "":
			q.Events = append(q.Events, json.RawMessage(line))
		case reply.Error != nil:
			return nil, &QMPError{Command: command, Class: reply.Error.Class, Desc: reply.Error.Desc}
		case reply.Return != nil:
			return reply.Return, nil
		default:
			return nil, fmt.Errorf("qmp %s: unexpected reply %.100q", command, line)
		}
	}
}

// Screendump makes QEMU write what the display scans out to the host file
// name (a PPM). device names the display device (its QOM id) and head the
// output of a multi-head device; "" and -1 mean the default.
func (q *QMP) Screendump(name, device string, head int) error {
	args := map[string]any{"filename": name}
	if device != "" {
		args["device"] = device
	}
	if head >= 0 {
		args["head"] = head
	}
	_, err := q.Execute("screendump", args)
	return err
}

// DeviceDel unplugs the device with the given id.
func (q *QMP) DeviceDel(id string) error {
	_, err := q.Execute("device_del", map[string]any{"id": id})
	return err
}

// DeviceGone waits up to timeout until QEMU no longer has the device id:
// device_del only asks the guest to eject it, and the device goes once
// the guest let go of it.
func (q *QMP) DeviceGone(id string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := q.Execute("qom-get", map[string]any{"path": "/machine/peripheral/" + id, "property": "type"})
		var qe *QMPError
		if errors.As(err, &qe) {
			return nil // no such object any more
		}
		if err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("device %s still there %v after device_del (the guest did not eject it)", id, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// DeviceAdd plugs a device: driver ("virtio-gpu-pci"), id, and further
// properties.
func (q *QMP) DeviceAdd(driver, id string, props map[string]any) error {
	args := map[string]any{"driver": driver, "id": id}
	for k, v := range props {
		args[k] = v
	}
	_, err := q.Execute("device_add", args)
	return err
}

// Quit asks QEMU to exit at once.
func (q *QMP) Quit() error {
	_, err := q.Execute("quit", nil)
	return err
}

// Close closes the connection.
func (q *QMP) Close() error { return q.conn.Close() }
