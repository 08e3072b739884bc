//go:build !linux

package vpcd

import (
	"io"
	"net"
)

// newReader reads conn directly: TCP_QUICKACK is Linux-only.
func newReader(conn *net.TCPConn, _ bool) io.Reader { return conn }
