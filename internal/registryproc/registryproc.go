package registryproc

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/strata-sec/strata/internal/syncbuf"
)

// readyTimeout bounds the wait for GET /v2/ to answer 200.
const readyTimeout = 20 * time.Second

// ErrAddrInUse wraps Start's error when the registry could not bind the
// free port it was given (taken in between): start again.
var ErrAddrInUse = errors.New("address already in use")

// Config is what the registry's config.yml enables beyond the API on
// loopback.
type Config struct {
	// NotifyURL, NotifyToken: send event notifications to NotifyURL with
	// "Authorization: Bearer NotifyToken".
	NotifyURL, NotifyToken string
	// Delete lets clients delete manifests (storage.delete.enabled).
	Delete bool
}

// Proc is a running docker-registry.
type Proc struct {
	// Addr is its host:port on 127.0.0.1.
	Addr   string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // cmd.Wait's result, valid once done is closed
	stderr *syncbuf.Buffer
}

// Start runs bin (Debian's docker-registry) with its storage and a
// generated config.yml under dir, on 127.0.0.1 at a free port, and waits
// until GET /v2/ answers 200. It dies with this process.
func Start(bin, dir string, c Config) (*Proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	// No auth, no TLS, no debug server, no notifications unless asked for:
	// nothing but the API on loopback. The fixed secret keeps the log free
	// of its warning.
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  maintenance:
    uploadpurging:
      enabled: false
%shttp:
  addr: %q
  secret: strata-testenv
`, storage, deleteConfig(c.Delete), addr)
	if c.NotifyURL != "" {
		config += fmt.Sprintf(`notifications:
  endpoints:
    - name: strata
      url: %q
      headers:
        Authorization: [%q]
      timeout: 5s
      threshold: 3
      backoff: 500ms
`, c.NotifyURL, "Bearer "+c.NotifyToken)
	}
	configPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return nil, err
	}

	r := &Proc{Addr: addr, done: make(chan struct{}), stderr: &syncbuf.Buffer{}}
	r.cmd = exec.Command(bin, "serve", configPath)
	r.cmd.Dir = dir
	r.cmd.Stdout = r.stderr
	r.cmd.Stderr = r.stderr
	// REGISTRY_* variables override config.yml; do not inherit any.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			r.cmd.Env = append(r.cmd.Env, kv)
		}
	}
	// Die with this process (a test binary's panic or -timeout skips its cleanup).
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()

	if err := r.waitReady(); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// deleteConfig is the storage.delete section that allows deletes.
func deleteConfig(on bool) string {
	if !on {
		return ""
	}
	return "  delete:\n    enabled: true\n"
}

func (r *Proc) waitReady() error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	url := "http://" + r.Addr + "/v2/"
	deadline := time.Now().Add(readyTimeout)
	var last string
	for {
		select {
		case <-r.done:
			log := r.stderr.String()
			err := fmt.Errorf("docker-registry exited during start-up (%v); stderr:\n%s", r.err, log)
			if strings.Contains(log, "address already in use") {
				err = fmt.Errorf("%w: %w", ErrAddrInUse, err)
			}
			return err
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "GET " + url + ": " + resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("docker-registry on %s not ready within %s (last: %s); stderr:\n%s", r.Addr, readyTimeout, last, r.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop asks the registry to exit and kills it if it does not within 5s.
func (r *Proc) Stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}
