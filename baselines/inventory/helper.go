package inventory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The SBOM comes from a helper executable, strata-sbom (cmd/strata-sbom,
// package syftsbom), that links syft; strata itself does not, so
// `strata scan` carries none of syft's dependencies. The helper reads one
// Request per line on its standard input and writes one Response per line.
const (
	// HelperName is the helper's executable name.
	HelperName = "strata-sbom"
	// HelperEnv names the helper's path when set.
	HelperEnv = "STRATA_SBOM_HELPER"
	// Protocol is the version of Request and Response; strata refuses a
	// helper that answers with another.
	Protocol = 1
	// maxResponseBytes bounds one Response line.
	maxResponseBytes = 256 << 20
)

// ExtraCatalogers are added to syft's default selection for images (the one
// `syft scan IMAGE` uses): lockfiles left in an image are evidence too. The
// syft CLI reproduces the selection with --select-catalogers +NAME.
var ExtraCatalogers = []string{"javascript-lock-cataloger"}

// Request asks the helper for the packages of one staged image.
type Request struct {
	Protocol int    `json:"protocol"`
	Manifest []byte `json:"manifest"` // the raw manifest
	Config   []byte `json:"config"`   // the raw config
	Dir      string `json:"dir"`      // Staged.Dir
}

// Response is the helper's answer: the packages, or an error.
type Response struct {
	Protocol    int       `json:"protocol"`
	SyftVersion string    `json:"syft_version"`
	Packages    []Package `json:"packages"`
	Error       string    `json:"error,omitempty"`
}

// SBOM is one image's inventory.
type SBOM struct {
	Packages    []Package
	SyftVersion string
}

// FindHelper returns the helper's path: $STRATA_SBOM_HELPER, else
// strata-sbom next to the running executable, else on PATH.
func FindHelper() (string, error) {
	if p := os.Getenv(HelperEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", HelperEnv, p, err)
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), HelperName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(HelperName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found next to strata or on PATH: run make setup (it builds bin/%s), or set %s", HelperName, HelperName, HelperEnv)
}

// Cataloger sends images to a pool of helper processes, at most one
// request per process at a time and at most max processes. It is safe for
// concurrent use; Close stops the idle processes (the others stop when
// their request ends, and every helper dies with strata).
type Cataloger struct {
	path string
	sem  chan struct{}

	mu     sync.Mutex
	idle   []*helperProc
	closed bool

	idOnce sync.Once
	id     string
	idErr  error
}

// NewCataloger returns a Cataloger running the helper at path, up to max
// processes (GOMAXPROCS when max < 1).
func NewCataloger(path string, max int) *Cataloger {
	if max < 1 {
		max = runtime.GOMAXPROCS(0)
	}
	return &Cataloger{path: path, sem: make(chan struct{}, max)}
}

// Catalog stages img's layers in layers and has a helper catalog them.
func (c *Cataloger) Catalog(ctx context.Context, img v1.Image, layers *LayerCache) (*SBOM, error) {
	manifest, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	st, err := layers.Stage(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("stage layers: %w", err)
	}
	defer st.Close()
	resp, err := c.call(ctx, Request{Protocol: Protocol, Manifest: manifest, Config: config, Dir: st.Dir})
	if err != nil {
		return nil, err
	}
	if resp.Protocol != Protocol {
		return nil, fmt.Errorf("%s speaks protocol %d, strata %d: rebuild it (make setup)", c.path, resp.Protocol, Protocol)
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	return &SBOM{Packages: resp.Packages, SyftVersion: resp.SyftVersion}, nil
}

// SBOMKey is the key of img's SBOM in an SBOMCache: the helper
// executable's SHA-256 (hashed once per Cataloger), the image's platform
// and its layers.
func (c *Cataloger) SBOMKey(img v1.Image) (string, error) {
	c.idOnce.Do(func() { c.id, c.idErr = fileID(c.path) })
	if c.idErr != nil {
		return "", fmt.Errorf("hash %s: %w (run make setup)", c.path, c.idErr)
	}
	return sbomKey(c.id, img)
}

// Close stops the idle helpers; a Catalog after Close starts no helper.
func (c *Cataloger) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, p := range idle {
		p.stop()
	}
	return nil
}

func (c *Cataloger) call(ctx context.Context, req Request) (Response, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return Response{}, ctx.Err()
	}
	defer func() { <-c.sem }()
	p, err := c.get()
	if err != nil {
		return Response{}, err
	}
	type result struct {
		resp Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.resp, r.err = p.roundTrip(req)
		done <- r
	}()
	select {
	case r := <-done:
		if r.err != nil {
			p.stop()
			return Response{}, fmt.Errorf("%s: %w%s", HelperName, r.err, p.stderr.suffix())
		}
		c.put(p)
		return r.resp, nil
	case <-ctx.Done():
		p.stop()
		<-done
		return Response{}, ctx.Err()
	}
}

func (c *Cataloger) get() (*helperProc, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("inventory: cataloger closed")
	}
	for n := len(c.idle); n > 0; n = len(c.idle) {
		p := c.idle[n-1]
		c.idle = c.idle[:n-1]
		select {
		case <-p.exited: // it died while idle: never hand it a request
			c.mu.Unlock()
			p.stop()
			c.mu.Lock()
			continue
		default:
		}
		c.mu.Unlock()
		return p, nil
	}
	c.mu.Unlock()
	return startHelper(c.path)
}

func (c *Cataloger) put(p *helperProc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		p.stop()
		return
	}
	c.idle = append(c.idle, p)
}

// helperProc is one running helper.
type helperProc struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	outF   *os.File
	stderr *tailBuffer
	exited chan struct{}
}

func startHelper(path string) (*helperProc, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path)
	// The helper dies with strata even if strata is killed; it runs in a
	// process group of its own, which stop kills whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	cmd.WaitDelay = time.Second
	in, err := cmd.StdinPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	tail := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = pw, tail
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start %s: %w (run make setup)", path, err)
	}
	pw.Close()
	p := &helperProc{cmd: cmd, in: in, out: bufio.NewReaderSize(pr, 1<<20), outF: pr, stderr: tail, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *helperProc) roundTrip(req Request) (Response, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("send request: %w", p.exitErr(err))
	}
	line, err := readLine(p.out, maxResponseBytes)
	if err != nil {
		return Response{}, fmt.Errorf("read response: %w", p.exitErr(err))
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("response: %w", err)
	}
	return resp, nil
}

// exitErr says how the helper ended when it has.
func (p *helperProc) exitErr(err error) error {
	select {
	case <-p.exited:
		return fmt.Errorf("%w (helper exited: %v)", err, p.cmd.ProcessState)
	default:
		return err
	}
}

func (p *helperProc) stop() {
	select {
	case <-p.exited:
		// Reaped: its process ID may belong to another process by now.
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	p.in.Close()
	p.outF.Close() // a pending read returns
	<-p.exited
}

// readLine reads one newline-terminated line of at most max bytes.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max {
			return nil, fmt.Errorf("a line over %d bytes", max)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// suffix is ": stderr: ..." with the helper's last output, or "".
func (t *tailBuffer) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(bytes.ToValidUTF8(t.b, []byte("?"))))
	if s == "" {
		return ""
	}
	return "; its stderr ends: " + s
}
