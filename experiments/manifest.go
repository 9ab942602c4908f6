package experiments

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/strata-sec/strata/corpus/base"
)

// ManifestFile is the manifest of a run, beside its records.
const ManifestFile = "run.json"

// Manifest identifies a run: the machine, the inputs (base image digest and
// its package list, the web-app image, detector versions, seed, slice) and
// the time. `strata compare` reads it to explain differences between runs.
type Manifest struct {
	Experiment string    `json:"experiment"`
	Run        string    `json:"run"`
	Slice      Slice     `json:"slice"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished,omitzero"`
	Machine    Machine   `json:"machine"`
	// Strata is the VCS revision the binary was built from, "+dirty" when
	// the work tree had changes.
	Strata    string `json:"strata,omitempty"`
	Seed      int64  `json:"seed"`
	BuildTime bool   `json:"build_time,omitempty"`
	// DynamicTimeout is the sandbox's time limit per image when the run
	// has a sandbox detector (--dynamic or named), else empty.
	DynamicTimeout string         `json:"dynamic_timeout,omitempty"`
	Inputs         Inputs         `json:"inputs"`
	Detectors      []DetectorInfo `json:"detectors"`
	// Merged lists the detector slices merged into a result set after its
	// run (strata promote --merge), oldest first.
	Merged []Merge `json:"merged,omitempty"`
}

// Machine is where a run ran.
type Machine struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	Go       string `json:"go"`
	Jobs     int    `json:"jobs"`
}

// Inputs are what the built images depend on besides the repository.
type Inputs struct {
	// BaseDigest is the Debian base image's manifest digest; BasePackages
	// its installed packages as name=version, sorted: a base built on
	// another day differs in these, and so do the digests of every layer.
	BaseDigest   string   `json:"base_digest"`
	BasePackages []string `json:"base_packages"`
	WebDigest    string   `json:"web_digest"`
	ContextKey   string   `json:"context_key"`
	ServerURL    string   `json:"server_url"`
}

// DetectorInfo is one detector of a run.
type DetectorInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// manifest starts the manifest of a run of exp into dir.
func (e *Env) manifest(exp Experiment, dir string, started time.Time) (*Manifest, error) {
	img, err := e.Store.Image(e.Debian.Digest)
	if err != nil {
		return nil, err
	}
	status, err := base.ReadFile(img, "var/lib/dpkg/status", 64<<20)
	if err != nil {
		return nil, fmt.Errorf("read dpkg status of the base image: %w", err)
	}
	return &Manifest{
		Experiment: exp.Name(), Run: filepath.Base(dir), Slice: e.Config.Slice, Started: started,
		Machine: Machine{Hostname: hostname(), OS: runtime.GOOS, Arch: runtime.GOARCH,
			CPUs: runtime.NumCPU(), Go: runtime.Version(), Jobs: e.Config.Jobs},
		Strata: revision(), Seed: e.Config.Seed, BuildTime: e.Config.BuildTime,
		Inputs: Inputs{
			BaseDigest: e.Debian.Digest.String(), BasePackages: dpkgPackages(status),
			WebDigest: e.Web.Digest.String(), ContextKey: e.ContextKey, ServerURL: e.Server.URL,
		},
	}, nil
}

func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644)
}

// ReadManifest reads dir's run.json; an error wraps os.ErrNotExist when
// dir has none (a committed result set promoted before manifests).
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// dpkgPackages lists the installed packages of a dpkg status file as
// name=version, sorted.
func dpkgPackages(status []byte) []string {
	var out []string
	var name, version string
	installed := false
	flush := func() {
		if name != "" && installed {
			out = append(out, name+"="+version)
		}
		name, version, installed = "", "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "Package: "):
			name = strings.TrimPrefix(line, "Package: ")
		case strings.HasPrefix(line, "Version: "):
			version = strings.TrimPrefix(line, "Version: ")
		case strings.HasPrefix(line, "Status: "):
			installed = strings.HasSuffix(line, " installed")
		}
	}
	flush()
	sort.Strings(out)
	return out
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown-host"
	}
	return strings.ReplaceAll(h, "/", "_")
}

// revision is the VCS revision the running binary was built from.
func revision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
