package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RegistryBinary is the CNCF distribution registry as Debian's
// docker-registry package installs it (`make setup` installs the package).
const RegistryBinary = "/usr/bin/docker-registry"

// registryBin is RegistryBinary; tests point it elsewhere.
var registryBin = RegistryBinary

// registryReadyTimeout bounds the wait for GET /v2/ to answer 200.
const registryReadyTimeout = 20 * time.Second

// RegistryOption configures Registry.
type RegistryOption func(*registryConfig)

type registryConfig struct {
	notifyURL, notifyToken string
	delete                 bool
}

// RegistryNotify makes the registry send its event notifications to url
// with "Authorization: Bearer token".
func RegistryNotify(url, token string) RegistryOption {
	return func(c *registryConfig) { c.notifyURL, c.notifyToken = url, token }
}

// RegistryDelete lets clients delete manifests (storage.delete.enabled).
func RegistryDelete() RegistryOption { return func(c *registryConfig) { c.delete = true } }

// Registry starts a private, unauthenticated plain-HTTP registry (Debian's
// docker-registry, never the system service) on 127.0.0.1 with a random free
// port, its own storage under t.TempDir() and a generated config.yml, waits
// until GET /v2/ answers 200 and returns its host:port. The registry is
// stopped when t ends. It skips the test under -short and fails it when the
// binary is missing or the registry does not come up, because integration
// tests must not pass by doing nothing.
func Registry(t testing.TB, opts ...RegistryOption) string {
	t.Helper()
	var c registryConfig
	for _, o := range opts {
		o(&c)
	}
	if testing.Short() {
		t.Skip("integration test: needs a real registry (Debian's docker-registry; run without -short; `make test` does)")
	}
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		bin = registryBin
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("docker-registry not installed: run make setup (%v)", err)
	}
	dir := t.TempDir()
	// A free port can be taken between our probe and the registry's bind:
	// retry with a fresh port when that is why the registry exited.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		r, err := startRegistry(bin, filepath.Join(dir, fmt.Sprintf("try%d", attempt)), c)
		if err == nil {
			t.Cleanup(r.stop)
			return r.addr
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	t.Fatalf("start docker-registry: %v", lastErr)
	return ""
}

var errAddrInUse = errors.New("address already in use")

type registryProc struct {
	addr   string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // cmd.Wait's result, valid once done is closed
	stderr *syncBuffer
}

func startRegistry(bin, dir string, c registryConfig) (*registryProc, error) {
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
`, storage, deleteConfig(c.delete), addr)
	if c.notifyURL != "" {
		config += fmt.Sprintf(`notifications:
  endpoints:
    - name: strata
      url: %q
      headers:
        Authorization: [%q]
      timeout: 5s
      threshold: 3
      backoff: 500ms
`, c.notifyURL, "Bearer "+c.notifyToken)
	}
	configPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return nil, err
	}

	r := &registryProc{addr: addr, done: make(chan struct{}), stderr: &syncBuffer{}}
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
	// Die with the test binary (a panic or -timeout skips t.Cleanup).
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()

	if err := r.waitReady(); err != nil {
		r.stop()
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

func (r *registryProc) waitReady() error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	url := "http://" + r.addr + "/v2/"
	deadline := time.Now().Add(registryReadyTimeout)
	var last string
	for {
		select {
		case <-r.done:
			log := r.stderr.String()
			err := fmt.Errorf("docker-registry exited during start-up (%v); stderr:\n%s", r.err, log)
			if strings.Contains(log, "address already in use") {
				err = fmt.Errorf("%w: %w", errAddrInUse, err)
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
			return fmt.Errorf("docker-registry on %s not ready within %s (last: %s); stderr:\n%s", r.addr, registryReadyTimeout, last, r.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop asks the registry to exit and kills it if it does not within 5s.
func (r *registryProc) stop() {
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

// syncBuffer is a bytes.Buffer safe for the process's writes and our reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
