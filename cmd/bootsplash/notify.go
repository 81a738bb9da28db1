package main

import (
	"fmt"
	"net"
	"os"
)

// sdNotify sends state ("READY=1", "STOPPING=1") to the service manager's
// notification socket, $NOTIFY_SOCKET, as sd_notify(3) does, so a
// systemd unit of Type=notify is started once the splash is up and takes
// commands. Without the variable it does nothing. An abstract socket is
// named with a leading '@', which net reads the same way.
func sdNotify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] != '/' && addr[0] != '@' {
		return fmt.Errorf("NOTIFY_SOCKET=%s: not a Unix socket path or abstract name", addr)
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify the service manager: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify the service manager at %s: %w", addr, err)
	}
	return nil
}
