package main

// The daemon's sockets and its conversation with systemd: socket
// activation, loopback-only listeners, sd_notify and the watchdog.

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	sdnotify "github.com/coreos/go-systemd/v22/daemon"
)

// listen returns the sockets systemd passed (socket activation), else
// listens on addr. Only loopback TCP addresses and Unix sockets are
// accepted: the API is for this machine.
func listen(addr string, log *slog.Logger) ([]net.Listener, error) {
	ls, err := activation.Listeners()
	if err != nil {
		return nil, fmt.Errorf("socket activation: %w", err)
	}
	var out []net.Listener
	for _, l := range ls {
		if l == nil {
			continue // an fd that is not a stream socket
		}
		if !localListener(l.Addr()) {
			closeAll(append(out, l))
			return nil, fmt.Errorf("socket activation: %s is not a loopback address; nfcbridge.socket must listen on 127.0.0.1, [::1] or a Unix socket", l.Addr())
		}
		out = append(out, l)
	}
	if len(out) > 0 {
		log.Info("using sockets from systemd", "count", len(out))
		return out, nil
	}
	l, err := listenAddr(addr)
	if err != nil {
		return nil, err
	}
	return []net.Listener{l}, nil
}

func listenAddr(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(path) // a stale socket of an earlier run
		}
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		// The kiosk UI's user reaches the socket through its group.
		if err := os.Chmod(path, 0o660); err != nil {
			l.Close()
			return nil, fmt.Errorf("listen: %w", err)
		}
		return l, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usagef("--listen must be HOST:PORT or unix:/PATH")
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, usagef("--listen must be a loopback address (127.0.0.1, [::1], localhost) or a Unix socket: the API is for this machine only")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return l, nil
}

func localListener(a net.Addr) bool {
	switch a := a.(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	}
	return false
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// newServer returns the HTTP server with timeouts set. Event streams
// extend their write deadline as they go.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// notify sends state to systemd (sd_notify); outside systemd it does
// nothing.
func (d *daemon) notify(state string) {
	if _, err := sdnotify.SdNotify(false, state); err != nil {
		d.log.Warn("sd_notify", "error", err.Error())
	}
}

// watchdog pings systemd's watchdog (WatchdogSec=) at half its interval
// while the service answers, and returns the function that stops it.
func (d *daemon) watchdog() func() {
	interval, err := sdnotify.SdWatchdogEnabled(false)
	if err != nil {
		d.log.Warn("watchdog", "error", err.Error())
	}
	if interval <= 0 {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if d.svc.Alive() {
					d.notify(sdnotify.SdNotifyWatchdog)
				}
			}
		}
	}()
	return func() { close(stop); <-done }
}

func addrs(ls []net.Listener) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Addr().String()
		if l.Addr().Network() == "unix" {
			out[i] = "unix:" + out[i]
		}
	}
	return out
}
