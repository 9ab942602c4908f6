package buildkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
)

// ErrNoBuildkitd is returned when no buildkitd binary can be found.
var ErrNoBuildkitd = errors.New("buildkitd not found: run `make setup` (builds ./bin/buildkitd from the version pinned in go.mod) or set STRATA_BUILDKITD")

// FindBuildkitd locates the buildkitd binary: $STRATA_BUILDKITD, then
// bin/buildkitd in the module root above the working directory or beside the
// running executable, then $PATH.
func FindBuildkitd() (string, error) {
	if p := os.Getenv("STRATA_BUILDKITD"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("STRATA_BUILDKITD=%s is not an executable file: %w", p, ErrNoBuildkitd)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if c := filepath.Join(d, "bin", "buildkitd"); isExecutable(c) {
				return c, nil
			}
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if p, err := exec.LookPath("buildkitd"); err == nil {
		return p, nil
	}
	return "", ErrNoBuildkitd
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// DaemonConfig configures a private buildkitd.
type DaemonConfig struct {
	// Binary is the buildkitd path; empty means FindBuildkitd.
	Binary string
	// StateDir holds buildkitd's root (cache, snapshots), its socket and its
	// log. Reusing a StateDir reuses BuildKit's build cache.
	StateDir string
	// ReadyTimeout bounds the wait for the daemon to answer; default 60s.
	ReadyTimeout time.Duration
}

// Daemon is a running private buildkitd.
type Daemon struct {
	Addr    string
	LogPath string
	cmd     *exec.Cmd
	lock    *os.File
	done    chan error
}

// StartDaemon starts buildkitd with the OCI worker (runc, host network) and
// waits until it lists its workers. A socket left behind by a dead daemon is
// removed; a state dir in use by a live daemon is refused, because two
// daemons on one root corrupt each other's snapshots.
func StartDaemon(ctx context.Context, cfg DaemonConfig) (*Daemon, error) {
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = FindBuildkitd(); err != nil {
			return nil, err
		}
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return nil, errors.New("runc not found in PATH: BuildKit's OCI worker needs Debian's runc (with seccomp); run `make setup`")
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("a private buildkitd needs root (rootless is a non-goal); run as root or pass --buildkit-addr of a running daemon")
	}
	if cfg.StateDir == "" {
		return nil, errors.New("buildkitd state dir is empty")
	}
	root, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create buildkitd state dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(root, "strata.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("buildkitd state dir %s is in use by another strata process: wait for it, use another --cache dir, or share one daemon (`strata buildkit serve`) with --buildkit-addr", root)
	}
	sock := filepath.Join(root, "buildkitd.sock")
	if len(sock) > 100 {
		lock.Close()
		return nil, fmt.Errorf("socket path %s is too long for a unix socket: choose a shorter --buildkit-state", sock)
	}
	// We hold the lock, so any socket here belongs to a dead daemon.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("remove stale socket %s: %w", sock, err)
	}
	logPath := filepath.Join(root, "buildkitd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		lock.Close()
		return nil, err
	}
	addr := "unix://" + sock
	cmd := exec.Command(bin,
		"--root", filepath.Join(root, "root"),
		"--addr", addr,
		"--oci-worker=true",
		"--containerd-worker=false",
		"--oci-worker-gc=true",
	)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group: a Ctrl-C to strata must not kill buildkitd before
	// strata has stopped it cleanly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		lock.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	logf.Close()
	d := &Daemon{Addr: addr, LogPath: logPath, cmd: cmd, lock: lock, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()

	timeout := cfg.ReadyTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	if err := d.waitReady(ctx, sock, timeout); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) waitReady(ctx context.Context, sock string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-d.done:
			d.done <- err
			return fmt.Errorf("buildkitd exited during start-up (%v); see %s:\n%s", err, d.LogPath, tail(d.LogPath, 15))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
			c.Close()
			if err := Ping(ctx, d.Addr); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("buildkitd did not become ready within %s; see %s:\n%s", timeout, d.LogPath, tail(d.LogPath, 15))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Ping checks that a daemon at addr answers and has at least one worker.
func Ping(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return fmt.Errorf("buildkit at %s: %w", addr, err)
	}
	if len(ws) == 0 {
		return fmt.Errorf("buildkit at %s has no workers", addr)
	}
	return nil
}

// Stop terminates the daemon (SIGTERM, then SIGKILL after 10s) and releases
// the state dir.
func (d *Daemon) Stop() error {
	if d == nil || d.cmd == nil || d.cmd.Process == nil {
		return nil
	}
	defer d.lock.Close()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.done <- err
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	if strings.HasPrefix(d.Addr, "unix://") {
		_ = os.Remove(strings.TrimPrefix(d.Addr, "unix://"))
	}
	return nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
