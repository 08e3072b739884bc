//go:build linux

package vpcd

import (
	"io"
	"net"
	"syscall"
)

// ackReader sets TCP_QUICKACK before every read. Linux leaves quick-ACK mode
// again on its own, so one setsockopt at connect time is not enough: without
// it the ACK for the 2-byte length segment vpcd sends first is delayed, and
// Nagle on vpcd's side holds the APDU body back until it arrives (~40 ms).
type ackReader struct {
	conn *net.TCPConn
	raw  syscall.RawConn
}

func newReader(conn *net.TCPConn, quickAck bool) io.Reader {
	if !quickAck {
		return conn
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return conn
	}
	return ackReader{conn: conn, raw: raw}
}

// Read sets TCP_QUICKACK, then reads. A failing setsockopt only costs
// latency, and the read that follows reports a broken connection, so its
// error is dropped.
func (r ackReader) Read(p []byte) (int, error) {
	_ = r.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
	return r.conn.Read(p)
}
