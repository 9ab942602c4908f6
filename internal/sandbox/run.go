package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// DefaultTimeout is how long the start command runs before it is killed.
const DefaultTimeout = 20 * time.Second

// Errors that say what to do next.
var (
	ErrNoRunc  = errors.New("runc not found: run make setup")
	ErrNotRoot = errors.New("--dynamic needs root")
)

// Option configures Run.
type Option func(*options)

type options struct {
	timeout  time.Duration
	workDir  string
	limits   Limits
	rootfs   rootfsLimits
	hcDelay  time.Duration
	runcPath string
	// layers holds extracted layers across runs; nil writes the merged
	// root afresh for every run (materialise).
	layers    *LayerStore
	layersSet bool
}

// WithLayerStore makes runs take their root from s, extracting each layer
// once (nil: materialise the whole root for every run). Default: a store
// under the user cache dir's strata/sandbox-layers bounded by
// DefaultLayerStoreBytes, shared by every run of the process.
func WithLayerStore(s *LayerStore) Option {
	return func(o *options) { o.layers, o.layersSet = s, true }
}

var (
	defaultStoreMu sync.Mutex
	defaultStore   *LayerStore
)

func defaultLayerStore() (*LayerStore, error) {
	defaultStoreMu.Lock()
	defer defaultStoreMu.Unlock()
	if defaultStore == nil {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache dir for the sandbox's layer store (set XDG_CACHE_HOME): %w", err)
		}
		defaultStore = NewLayerStore(filepath.Join(cache, "strata", "sandbox-layers"), DefaultLayerStoreBytes)
	}
	return defaultStore, nil
}

// WithTimeout bounds how long the start command runs (default 20 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithWorkDir sets the directory under which each run makes (and removes)
// its private directory; default: the user cache dir's strata/sandbox.
func WithWorkDir(dir string) Option { return func(o *options) { o.workDir = dir } }

// WithLimits sets the cgroup and disk bounds.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l } }

// WithRootfsLimits bounds the bytes and regular files materialised.
func WithRootfsLimits(bytes int64, files int) Option {
	return func(o *options) { o.rootfs = rootfsLimits{maxBytes: bytes, maxFiles: files} }
}

// Check reports whether this process can run a sandbox: root, and runc,
// nft and nsenter on PATH.
func Check() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return ErrNoRunc
	}
	for _, tool := range []string{"nft", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: run make setup", tool)
		}
	}
	return nil
}

// Run materialises img, runs its start command sealed for the time limit
// (then its HEALTHCHECK once, while it runs), kills it and returns what it
// did. Every file, mount, cgroup and runc state it made is gone when Run
// returns, whatever the outcome.
func Run(ctx context.Context, img v1.Image, opts ...Option) (obs *Observations, err error) {
	begun := time.Now()
	o := options{timeout: DefaultTimeout, limits: DefaultLimits, rootfs: rootfsLimits{maxBytes: DefaultMaxRootfsBytes, maxFiles: DefaultMaxRootfsFiles}, hcDelay: 2 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if err := Check(); err != nil {
		return nil, err
	}
	o.runcPath, _ = exec.LookPath("runc")
	if !o.layersSet {
		if o.layers, err = defaultLayerStore(); err != nil {
			return nil, err
		}
	}
	if o.workDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache dir (set XDG_CACHE_HOME or pass a work dir): %w", err)
		}
		o.workDir = filepath.Join(cache, "strata", "sandbox")
	}
	if err := os.MkdirAll(o.workDir, 0o700); err != nil {
		return nil, fmt.Errorf("create sandbox work dir: %w", err)
	}
	work, err := os.MkdirTemp(o.workDir, "run-")
	if err != nil {
		return nil, fmt.Errorf("create sandbox run dir: %w", err)
	}
	r := &run{o: o, work: work, rec: newRecorder(), begun: begun}
	defer func() {
		if cerr := r.cleanup(); cerr != nil && err == nil {
			err = cerr
		}
		if obs != nil && !r.stopped.IsZero() {
			obs.Teardown = time.Since(r.stopped)
		}
	}()
	return r.do(ctx, img)
}

// run is one sealed run and everything it must undo.
type run struct {
	o       options
	work    string
	rec     *recorder
	id      string
	cgroup  string
	mounts  []string // unmounted in reverse order
	created bool
	fakes   *fakes
	rootfs  *Rootfs
	release func() // gives the layer store's layers back
	// begun is when Run started, stopped when the command stopped (exit,
	// time limit or cancellation): the bounds of setup and teardown.
	begun, stopped time.Time
}

// maxLowerDirBytes bounds the lowerdir option: mount(2) takes at most a
// page of options, and upperdir and workdir (in the work dir) need the rest.
const maxLowerDirBytes = 3000

// errManyLayers: the stored layers' paths do not fit in one overlay mount.
var errManyLayers = errors.New("too many layers for one overlay mount")

func (r *run) do(ctx context.Context, img v1.Image) (*Observations, error) {
	scratch := filepath.Join(r.work, "scratch")
	if err := r.mount("tmpfs", scratch, "tmpfs", fmt.Sprintf("size=%d,mode=0700", r.o.limits.DiskBytes), unix.MS_NOSUID|unix.MS_NODEV); err != nil {
		return nil, err
	}
	mstart := time.Now()
	var rf *Rootfs
	var lowers []string
	var err error
	if r.o.layers != nil {
		var release func()
		rf, lowers, release, err = r.o.layers.lowerDirs(ctx, img, r.o.rootfs)
		if err != nil && !errors.Is(err, errLowerLinks) {
			return nil, err
		}
		r.release = release
		// The overlay's options must fit in a page: an image of very many
		// layers (or a long cache path) gets its root written whole.
		if err == nil && len(strings.Join(lowers, ":")) > maxLowerDirBytes {
			release()
			r.release = nil
			err = errManyLayers
		}
	}
	// A hard link to a lower layer's file exists only in the merged view
	// (a runtime applies each layer onto the ones below it): write that
	// view whole rather than run without the file.
	if r.o.layers == nil || errors.Is(err, errLowerLinks) || errors.Is(err, errManyLayers) {
		rf, err = materialise(ctx, img, filepath.Join(r.work, "rootfs"), r.o.rootfs)
		if err != nil {
			return nil, err
		}
		lowers = []string{rf.Dir}
	}
	r.rootfs = rf
	r.rec.obs.Materialise = time.Since(mstart)
	upper, wd, merged := filepath.Join(scratch, "upper"), filepath.Join(scratch, "work"), filepath.Join(r.work, "merged")
	for _, d := range []string{upper, wd} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("create overlay dir: %w", err)
		}
	}
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lowers, ":"), upper, wd)
	if len(data) > 4000 {
		return nil, fmt.Errorf("overlay options of %d layers exceed a page (%d bytes): use a shorter cache dir (XDG_CACHE_HOME)", len(lowers), len(data))
	}
	if err := r.mount("overlay", merged, "overlay", data, unix.MS_NOSUID|unix.MS_NODEV); err != nil {
		return nil, err
	}
	if len(lowers) > 1 {
		fixDirModes(merged, rf.Walk)
	}
	resolv := filepath.Join(r.work, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write resolv.conf: %w", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	r.id = "strata-" + hex.EncodeToString(rnd[:])
	r.cgroup = "/" + r.id
	cf := rf.Walk.Config
	args := startCommand(cf)
	obs := &r.rec.obs
	obs.Container = r.id
	obs.Command, obs.Healthcheck = args, healthcheckCommand(cf)
	obs.RootfsSkipped, obs.RootfsLimit = rf.Skipped, rf.Limit
	for _, is := range rf.Walk.Issues {
		if is.Integrity() {
			obs.RootfsIntegrity = append(obs.RootfsIntegrity, fmt.Sprintf("layer %d: %s: %s", is.Layer, is.Kind, is.Detail))
		}
	}
	spec := runtimeSpec(merged, resolv, r.cgroup, cf, args, r.o.limits)
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode runtime spec: %w", err)
	}
	if err := os.WriteFile(filepath.Join(r.work, "config.json"), b, 0o600); err != nil {
		return nil, fmt.Errorf("write runtime spec: %w", err)
	}
	if err := r.execute(ctx); err != nil {
		return nil, err
	}
	r.collectFiles(upper)
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	obs.Origins = map[string]Origin{}
	for _, exe := range r.exes() {
		if og, ok := OriginOf(rf.Walk, exe); ok {
			obs.Origins[exe] = og
		}
	}
	out := *obs
	return &out, nil
}

// execute creates the container, wires its network namespace, starts it,
// watches it until it exits or the time limit, and kills it.
func (r *run) execute(ctx context.Context) error {
	stdout, stderr := &capped{max: 16 << 10}, &capped{max: 16 << 10}
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); io.Copy(stdout, outR); outR.Close() }()
	go func() { defer copies.Done(); io.Copy(stderr, errR); errR.Close() }()
	pidFile := filepath.Join(r.work, "init.pid")
	// The container's init is runc create's child; once runc create exits
	// it is reparented to the nearest subreaper: this process, so its exit
	// status can be waited for.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	create := exec.CommandContext(ctx, r.o.runcPath, "--root", r.stateDir(), "create", "--bundle", r.work, "--pid-file", pidFile, r.id)
	create.Stdin, create.Stdout, create.Stderr = nil, outW, errW
	create.Dir = r.work
	cerr := create.Run()
	outW.Close()
	errW.Close()
	defer func() {
		copies.Wait()
		r.rec.mu.Lock()
		r.rec.obs.Stdout, r.rec.obs.Stderr = stdout.String(), stderr.String()
		r.rec.mu.Unlock()
	}()
	r.created = true
	if cerr != nil {
		return fmt.Errorf("runc create: %w (%s)", cerr, strings.TrimSpace(stderr.String()))
	}
	pb, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("read container pid: %w", err)
	}
	var pid int
	fmt.Sscan(string(pb), &pid)
	if err := r.wireNetwork(ctx, pid); err != nil {
		return err
	}
	exited := make(chan unix.WaitStatus, 1)
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				// Not our child (no subreaper): watch for it to go.
				for unix.Kill(pid, 0) == nil {
					time.Sleep(100 * time.Millisecond)
				}
				ws = unix.WaitStatus(255 << 8)
			}
			break
		}
		exited <- ws
	}()
	start := time.Now()
	r.rec.mu.Lock()
	r.rec.obs.Setup = start.Sub(r.begun)
	r.rec.mu.Unlock()
	if out, err := exec.CommandContext(ctx, r.o.runcPath, "--root", r.stateDir(), "start", r.id).CombinedOutput(); err != nil {
		return fmt.Errorf("runc start: %w (%s)", err, strings.TrimSpace(string(out)))
	}
	deadline := time.NewTimer(r.o.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var hc <-chan time.Time
	if r.rec.obs.Healthcheck != nil {
		hc = time.After(r.o.hcDelay)
	}
	var hcDone sync.WaitGroup
	defer hcDone.Wait()
	seen := map[string]bool{}
	r.poll(seen)
	for {
		select {
		case ws := <-exited:
			r.stopped = time.Now()
			r.recordInit(pid)
			r.rec.mu.Lock()
			r.rec.obs.ExitCode = ws.ExitStatus()
			if ws.Signaled() {
				r.rec.obs.ExitCode = 128 + int(ws.Signal())
			}
			r.rec.obs.Wall = time.Since(start)
			r.rec.mu.Unlock()
			r.stats()
			return nil
		case <-hc:
			hc = nil
			hcDone.Add(1)
			go func() { defer hcDone.Done(); r.healthcheck(ctx) }()
		case <-tick.C:
			r.poll(seen)
		case <-deadline.C:
			r.stopped = time.Now()
			r.rec.mu.Lock()
			r.rec.obs.TimedOut, r.rec.obs.ExitCode, r.rec.obs.Wall = true, -1, time.Since(start)
			r.rec.mu.Unlock()
			r.stats()
			return r.kill(exited)
		case <-ctx.Done():
			r.stopped = time.Now()
			r.kill(exited)
			return ctx.Err()
		}
	}
}

// kill stops every process of the container and waits for init. runc's
// kill --all signals the cgroup's processes (on cgroup v1 it freezes the
// cgroup around that, and a frozen process takes no signal); when init has
// not gone after killGrace, kill ends the cgroup's processes itself
// (killCgroup) before giving up.
func (r *run) kill(exited <-chan unix.WaitStatus) error {
	ctx, cancel := context.WithTimeout(context.Background(), killGrace)
	out, err := exec.CommandContext(ctx, r.o.runcPath, "--root", r.stateDir(), "kill", "--all", r.id, "KILL").CombinedOutput()
	cancel()
	if waitReaping(exited, killGrace) {
		return nil
	}
	r.killCgroup()
	if !waitReaping(exited, 10*time.Second) {
		why := "runc kill: ok"
		if err != nil {
			why = fmt.Sprintf("runc kill: %v (%s)", err, strings.TrimSpace(string(out)))
		}
		return fmt.Errorf("container %s did not stop within %s of SIGKILL (%s; %d processes left in its cgroup)", r.id, 2*killGrace+10*time.Second, why, len(r.pids()))
	}
	return nil
}

// waitReaping waits up to d for init's exit, reaping container orphans
// meanwhile (reapOrphans): a dying init waits for them.
func waitReaping(exited <-chan unix.WaitStatus, d time.Duration) bool {
	deadline := time.After(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return true
		case <-deadline:
			return false
		case <-tick.C:
			reapOrphans()
		}
	}
}

// reapOrphans reaps this process's zombie children that were processes of
// a container other than its init. This process is a child subreaper, so
// a container process whose parent outside the container died (a
// HEALTHCHECK's runc exec killed at its timeout leaves its command so)
// becomes its child; and the container's init, when it dies, waits in the
// kernel until every process of its PID namespace has been reaped. So an
// unreaped orphan keeps the init from ever exiting. Only zombies whose
// NSpid names a nested namespace and an inner pid other than 1 are taken:
// never a runc or other host command that os/exec waits for, nor another
// sandbox's init, which its own watcher reaps.
func reapOrphans() {
	self := strconv.Itoa(os.Getpid())
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		var state, ppid string
		var nspid []string
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch k {
			case "State":
				state = strings.TrimSpace(v)
			case "PPid":
				ppid = strings.TrimSpace(v)
			case "NSpid":
				nspid = strings.Fields(v)
			}
		}
		if ppid == self && strings.HasPrefix(state, "Z") && len(nspid) >= 2 && nspid[len(nspid)-1] != "1" {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	}
}

// killGrace is how long kill gives runc's kill before killing the
// cgroup's processes itself.
const killGrace = 2 * time.Second

// killCgroup sends SIGKILL to every process in the container's cgroup
// without signalling anything else: on cgroup v2 through cgroup.kill (the
// kernel kills the cgroup at once); on v1 it freezes the cgroup, reads its
// processes and signals them while they are frozen (a frozen process cannot
// exit, so its pid cannot be reused by a host process before the signal),
// then thaws it, and the pending SIGKILLs land.
func (r *run) killCgroup() {
	if cgroupV2() {
		_ = os.WriteFile(r.cgroupFile("", "cgroup.kill"), []byte("1"), 0o644)
		return
	}
	state := r.cgroupFile("freezer", "freezer.state")
	if os.WriteFile(state, []byte("FROZEN"), 0o644) != nil {
		return
	}
	for i := 0; i < 20; i++ {
		if b, err := os.ReadFile(state); err == nil && strings.TrimSpace(string(b)) == "FROZEN" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range r.pids() {
		if p > 1 {
			_ = unix.Kill(p, unix.SIGKILL)
		}
	}
	_ = os.WriteFile(state, []byte("THAWED"), 0o644)
}

func (r *run) stateDir() string { return filepath.Join(r.work, "state") }

// wireNetwork makes the container's namespace (only lo, up) route every
// IPv4 address to itself (AnyIP), redirect connects to the catch-all, and
// opens the fakes in it.
func (r *run) wireNetwork(ctx context.Context, pid int) error {
	nsPath := fmt.Sprintf("/proc/%d/ns/net", pid)
	fk, err := openFakes(nsPath, r.rec)
	if err != nil {
		return err
	}
	r.fakes = fk
	fk.pidOf = func(peer string) string { return r.socketOwner(pid, peer) }
	steps := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo"},
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, "nsenter", nsenterNetArgs(pid, s...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s in the sandbox's netns: %w (%s)", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	nft := exec.CommandContext(ctx, "nsenter", nsenterNetArgs(pid, "nft", "-f", "-")...)
	nft.Stdin = strings.NewReader(netnsRules(fk.port))
	if out, err := nft.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in the sandbox's netns: %w (%s)", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// healthcheck runs the HEALTHCHECK command once inside the container.
func (r *run) healthcheck(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	args := append([]string{"--root", r.stateDir(), "exec", r.id}, r.rec.obs.Healthcheck...)
	cmd := exec.CommandContext(ctx, r.o.runcPath, args...)
	var out capped
	out.max = 4 << 10
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r.rec.mu.Lock()
	r.rec.obs.HealthcheckOutput = out.String()
	if err != nil {
		r.rec.obs.HealthcheckOutput += "\n" + err.Error()
	}
	r.rec.mu.Unlock()
}

// cleanup undoes everything: the runc container (and its cgroups), the
// fakes, the mounts, the run directory. It reports the first failure.
func (r *run) cleanup() error {
	var errs []error
	if r.created {
		out, err := exec.Command(r.o.runcPath, "--root", r.stateDir(), "delete", "--force", r.id).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "does not exist") {
			errs = append(errs, fmt.Errorf("runc delete %s: %w (%s)", r.id, err, strings.TrimSpace(string(out))))
		}
	}
	if r.fakes != nil {
		r.fakes.close()
	}
	for i := len(r.mounts) - 1; i >= 0; i-- {
		if err := unix.Unmount(r.mounts[i], unix.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("unmount %s: %w", r.mounts[i], err))
		}
	}
	// The stored layers are given back only if the container and every
	// mount are gone: a lazily detached overlay that a leftover process
	// still pins keeps them locked (until this process exits) rather than
	// lose its lower directories to eviction.
	if r.release != nil && len(errs) == 0 {
		r.release()
	}
	if err := os.RemoveAll(r.work); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", r.work, err))
	}
	return errors.Join(errs...)
}

func (r *run) mount(src, dst, fstype, data string, flags uintptr) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return fmt.Errorf("create mount point: %w", err)
	}
	if err := unix.Mount(src, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, dst, err)
	}
	r.mounts = append(r.mounts, dst)
	return nil
}

// capped keeps the first max bytes written and discards the rest.
type capped struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
