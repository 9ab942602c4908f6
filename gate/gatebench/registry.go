package gatebench

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RegistryBinary is Debian's docker-registry (`make setup` installs it).
const RegistryBinary = "/usr/bin/docker-registry"

// registry is a private docker-registry process on 127.0.0.1 whose
// notifications go to notifyURL.
type registry struct {
	addr string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

func startRegistry(bin, dir, notifyURL, token string) (*registry, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
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
http:
  addr: %q
  secret: strata-gatebench
notifications:
  endpoints:
    - name: strata
      url: %q
      headers:
        Authorization: [%q]
      timeout: 10s
      threshold: 5
      backoff: 500ms
`, storage, addr, notifyURL, "Bearer "+token)
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		return nil, err
	}
	r := &registry{addr: addr, out: &lockedBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve", path)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			r.cmd.Env = append(r.cmd.Env, kv)
		}
	}
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w (install Debian's docker-registry: make setup)", bin, err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-r.done:
			return nil, fmt.Errorf("docker-registry exited during start-up:\n%s", r.out)
		default:
		}
		if resp, err := client.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r, nil
			}
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("docker-registry on %s not ready within 20s:\n%s", addr, r.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *registry) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
