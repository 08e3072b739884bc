//go:build linux

package pcsctest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the child process that Isolate starts.
const (
	envDir    = "NFCBRIDGE_PCSCTEST_DIR"  // the private daemon's directory
	envPort   = "NFCBRIDGE_PCSCTEST_PORT" // TCP port of its vpcd slot 0
	envSocket = "PCSCLITE_CSOCK_NAME"     // libpcsclite: where pcscd listens
)

// vpcdDriver is the vpcd reader driver that vsmartcard-vpcd installs.
const vpcdDriver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

// Daemon is a private pcscd with two vpcd readers of its own, named like
// the system ones ([ReaderName]) but listening on other TCP ports
// ([Daemon.Addr]). It runs in a mount namespace where its run directory
// (/run/pcscd: socket and pid file) is a directory of the test, so it can be
// stopped and started without touching the system pcscd. Only a process
// whose libpcsclite was pointed at it (PCSCLITE_CSOCK_NAME, read once per
// process) can talk to it, hence [Isolate].
type Daemon struct {
	dir  string
	port int
	cmd  *exec.Cmd
	exit chan error
}

// Isolate runs the calling top-level test again in a child process whose
// PC/SC clients talk to a private [Daemon], started and returned in the
// child. In the parent, Isolate waits for the child, reports its output and
// result, and returns nil: the caller must then return.
//
//	d := pcsctest.Isolate(t)
//	if d == nil {
//		return // the test ran in a child process
//	}
//	d.Stop(t) … d.Start(t)
//
// It needs root (for the mount namespace), unshare(1), pcscd and the vpcd
// driver; without them the test is skipped, or failed when CI is set.
func Isolate(t *testing.T) *Daemon {
	t.Helper()
	if dir := os.Getenv(envDir); dir != "" {
		port, err := strconv.Atoi(os.Getenv(envPort))
		if err != nil {
			t.Fatalf("pcsctest: %s: %v", envPort, err)
		}
		d := &Daemon{dir: dir, port: port}
		d.Start(t)
		t.Cleanup(func() { d.Stop(t) })
		return d
	}
	if reason := isolationMissing(); reason != "" {
		unavailable(t, "cannot run a private pcscd: %s", reason)
		return nil
	}
	dir, err := os.MkdirTemp("", "pcsctest") // t.TempDir can exceed a socket path's 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := freePortPair()
	if err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envDir+"="+dir, envPort+"="+strconv.Itoa(port), envSocket+"="+filepath.Join(dir, "run", "pcscd.comm"))
	out, err := cmd.CombinedOutput()
	t.Logf("child process with a private pcscd:\n%s", out)
	if err != nil {
		t.Fatalf("pcsctest: child process: %v", err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skip("pcsctest: the child process skipped")
	}
	return nil
}

// isolationMissing names what Isolate lacks, or returns "".
func isolationMissing() string {
	if os.Geteuid() != 0 {
		return "not root (a mount namespace is needed)"
	}
	for _, bin := range []string{"unshare", "pcscd", "sh"} {
		if _, err := exec.LookPath(bin); err != nil {
			return err.Error()
		}
	}
	if _, err := os.Stat(vpcdDriver); err != nil {
		return "vpcd driver missing: " + err.Error()
	}
	if err := exec.Command("unshare", "--mount", "true").Run(); err != nil {
		return "unshare --mount: " + err.Error()
	}
	return ""
}

// freePortPair finds p such that p and p+1 are free TCP ports, for vpcd's
// two slots.
func freePortPair() (int, error) {
	for range 20 {
		a, err := net.Listen("tcp", ":0")
		if err != nil {
			return 0, err
		}
		p := a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", ":"+strconv.Itoa(p+1))
		a.Close()
		if err == nil {
			b.Close()
			return p, nil
		}
	}
	return 0, errors.New("no two adjacent free TCP ports")
}

// Addr returns the TCP address of the private daemon's vpcd slot n.
func (d *Daemon) Addr(slot int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port+slot))
}

// Start starts the daemon and waits until its socket accepts connections.
func (d *Daemon) Start(t testing.TB) {
	t.Helper()
	if d.cmd != nil {
		t.Fatal("pcsctest: daemon already running")
	}
	run, conf := filepath.Join(d.dir, "run"), filepath.Join(d.dir, "reader.conf.d")
	for _, dir := range []string{run, conf} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(run, "pcscd.comm")) // left over by a killed daemon
	os.Remove(filepath.Join(run, "pcscd.pid"))
	readerConf := fmt.Sprintf("FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x%04X\nLIBPATH %s\nCHANNELID 0x%04X\n",
		d.port, vpcdDriver, d.port)
	if err := os.WriteFile(filepath.Join(conf, "vpcd"), []byte(readerConf), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(d.dir, "pcscd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	script := `mkdir -p /run/pcscd && mount --bind "$1" /run/pcscd && exec pcscd --foreground --config "$2"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", run, conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("pcsctest: start pcscd: %v", err)
	}
	d.cmd, d.exit = cmd, make(chan error, 1)
	go func() { d.exit <- cmd.Wait() }()
	d.waitReady(t, filepath.Join(run, "pcscd.comm"))
}

// waitReady waits until the daemon's socket accepts a connection.
func (d *Daemon) waitReady(t testing.TB, socket string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-d.exit:
			d.cmd = nil
			t.Fatalf("pcsctest: pcscd exited: %v; log:\n%s", err, d.Log())
		default:
		}
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pcsctest: pcscd socket %s not ready; log:\n%s", socket, d.Log())
}

// Stop stops the daemon with SIGTERM, as systemd and --auto-exit do, and
// waits for it to exit (SIGKILL after five seconds). Stopping a stopped
// daemon does nothing.
func (d *Daemon) Stop(t testing.TB) {
	t.Helper()
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exit:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.exit
		t.Errorf("pcsctest: pcscd ignored SIGTERM; log:\n%s", d.Log())
	}
	d.cmd = nil
}

// Log returns what the daemon printed so far.
func (d *Daemon) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "pcscd.log"))
	return string(b)
}
