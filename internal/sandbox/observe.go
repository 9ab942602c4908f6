package sandbox

import (
	"sync"
	"time"
)

// Observations is what one sealed run saw. Every list is bounded
// (maxRecords); Dropped counts what did not fit.
type Observations struct {
	// Container is the run's ID: its runc container and cgroup name.
	Container string `json:"container"`
	// Command is the start command run (ENTRYPOINT + CMD), Healthcheck
	// the HEALTHCHECK command run once, if any.
	Command     []string `json:"command"`
	Healthcheck []string `json:"healthcheck,omitempty"`
	// HealthcheckOutput is what the health check printed (its first bytes).
	HealthcheckOutput string `json:"healthcheck_output,omitempty"`
	// Origins maps each executable seen (a path inside the container) to
	// the layer that last wrote it.
	Origins     map[string]Origin `json:"origins,omitempty"`
	DNS         []DNSQuery        `json:"dns,omitempty"`
	Connections []Connection      `json:"connections,omitempty"`
	Stratum     []StratumMessage  `json:"stratum,omitempty"`
	HTTP        []HTTPRequest     `json:"http,omitempty"`
	Processes   []Process         `json:"processes,omitempty"`
	Files       []FileWrite       `json:"files,omitempty"`
	// CPUSeconds is the CPU time the container's cgroup used.
	CPUSeconds float64       `json:"cpu_seconds"`
	Wall       time.Duration `json:"wall_ns"`
	// Setup is the time from Run's start to the command's start (root
	// filesystem, mounts, runc create, network); Teardown the time to undo
	// it all after the command stopped (kill, runc delete, unmounts,
	// removal). Setup+Wall+Teardown is what one run costs.
	Setup    time.Duration `json:"setup_ns"`
	Teardown time.Duration `json:"teardown_ns"`
	// Materialise is the part of Setup spent writing the root filesystem
	// (or finding its layers in the layer cache).
	Materialise time.Duration `json:"materialise_ns"`
	// TimedOut: the command was still running at the time limit and was
	// killed; ExitCode is meaningful only when it is false.
	TimedOut bool `json:"timed_out"`
	ExitCode int  `json:"exit_code"`
	// Limits are the bounds the container hit (pids, memory, disk).
	Limits []string `json:"limits,omitempty"`
	// Stdout and Stderr are the first bytes the command printed.
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// Rootfs says what of the image was not materialised.
	RootfsSkipped []string `json:"rootfs_skipped,omitempty"`
	RootfsLimit   string   `json:"rootfs_limit,omitempty"`
	// RootfsIntegrity lists the walker's integrity issues (a layer that
	// does not hash to its digest or diffID, an entry escaping the root):
	// what ran is not verifiably the image its manifest names.
	RootfsIntegrity []string `json:"rootfs_integrity,omitempty"`
	Dropped         int      `json:"dropped,omitempty"`
}

// DNSQuery is one question the resolver answered.
type DNSQuery struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Answer string `json:"answer,omitempty"`
}

// Connection is one TCP connect the catch-all accepted.
type Connection struct {
	// Dest is the original destination ip:port; Host the name the
	// resolver gave that address for, if any.
	Dest string `json:"dest"`
	Host string `json:"host,omitempty"`
	Port int    `json:"port"`
	// Protocol is what the client spoke first: stratum, http, tls, raw or
	// none.
	Protocol string `json:"protocol"`
	// FirstBytes are the client's first bytes, quoted.
	FirstBytes string `json:"first_bytes,omitempty"`
	Exe        string `json:"exe,omitempty"`
}

// StratumMessage is one JSON-RPC request a client sent.
type StratumMessage struct {
	Dest   string   `json:"dest"`
	Method string   `json:"method"`
	User   string   `json:"user,omitempty"`
	Pass   string   `json:"pass,omitempty"`
	Agent  string   `json:"agent,omitempty"`
	Algo   []string `json:"algo,omitempty"`
	Exe    string   `json:"exe,omitempty"`
}

// HTTPRequest is one request the catch-all answered.
type HTTPRequest struct {
	Dest      string `json:"dest"`
	Method    string `json:"method"`
	Host      string `json:"host"`
	Path      string `json:"path"`
	UserAgent string `json:"user_agent,omitempty"`
	Exe       string `json:"exe,omitempty"`
}

// Process is one process seen in the container.
type Process struct {
	PID  int      `json:"pid"`
	Exe  string   `json:"exe"`
	Argv []string `json:"argv"`
}

// FileWrite is a path the container created, changed or deleted (the
// overlay's upper directory after the run).
type FileWrite struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	Deleted bool   `json:"deleted,omitempty"`
}

// maxRecords bounds each list of Observations.
const maxRecords = 256

// recorder collects observations from the fakes' goroutines.
type recorder struct {
	mu  sync.Mutex
	obs Observations
	// names maps an address the resolver handed out to the name asked.
	names map[string]string
}

func newRecorder() *recorder { return &recorder{names: map[string]string{}} }

func (r *recorder) add(f func(o *Observations) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !f(&r.obs) {
		r.obs.Dropped++
	}
}

func appendBounded[T any](s *[]T, v T) bool {
	if len(*s) >= maxRecords {
		return false
	}
	*s = append(*s, v)
	return true
}
