//go:build !linux

package control

import (
	"fmt"
	"net"
	"os"
)

// PeerOf reads the credentials of the process that connected c. Only Linux
// reports them (SO_PEERCRED); elsewhere every peer is refused.
func PeerOf(c *net.UnixConn) (Peer, error) {
	return Peer{}, fmt.Errorf("peer credentials: %w (SO_PEERCRED is Linux only)", os.ErrNotExist)
}
