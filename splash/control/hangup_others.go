//go:build !linux

package control

import (
	"context"
	"net"
)

// WhileConnected returns a context that ends with ctx; only Linux
// tells a peer's hang-up apart without reading.
func WhileConnected(ctx context.Context, c *net.UnixConn) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}
