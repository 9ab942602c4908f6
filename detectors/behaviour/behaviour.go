package behaviour

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/sandbox"
)

const (
	// Name and Version of the detector.
	Name    = "behaviour"
	Version = "0.1.2"
	// Threshold is the score at which an image is Malicious: a stratum
	// login alone reaches it; the other behaviours only together.
	Threshold = 10.0
)

// Rules: each finding's Rule is one of these.
const (
	RuleStratumLogin   = "stratum-login"   // JSON-RPC login / mining.subscribe / mining.authorize sent
	RuleDNSQuery       = "dns-query"       // a name resolved (context, weight 0)
	RuleConnect        = "connect"         // a TCP connect to a non-loopback address
	RuleHTTPRequest    = "http-request"    // an HTTP request (a run-time download)
	RuleHugepages      = "hugepages-write" // an attempt to set nr_hugepages or load msr
	RulePersistence    = "persistence"     // a file written under cron, systemd, rc or profile paths
	RuleCPUBurn        = "cpu-burn"        // a CPU kept busy for most of the run
	RuleKillCompetitor = "kill-processes"  // pkill / killall / kill by name run
	RuleResourceLimit  = "resource-limit"  // the pids or memory bound was hit
	RuleProcess        = "process"         // a process seen (context, weight 0)
	RuleNotScanned     = "not-scanned"     // part of the image was not materialised
)

// Weights and caps of the rules: a rule's findings add up to its cap.
var rules = map[string]struct {
	cat         detectors.Category
	weight, cap float64
}{
	RuleStratumLogin:   {detectors.CategoryBehavior, 10, 10},
	RuleDNSQuery:       {detectors.CategoryDomainIP, 0, 0},
	RuleConnect:        {detectors.CategoryDomainIP, 1, 2},
	RuleHTTPRequest:    {detectors.CategoryDomainIP, 1, 2},
	RuleHugepages:      {detectors.CategoryBehavior, 3, 3},
	RulePersistence:    {detectors.CategoryBehavior, 3, 3},
	RuleCPUBurn:        {detectors.CategoryBehavior, 3, 3},
	RuleKillCompetitor: {detectors.CategoryBehavior, 2, 2},
	RuleResourceLimit:  {detectors.CategoryBehavior, 1, 1},
	RuleProcess:        {detectors.CategoryBehavior, 0, 0},
	RuleNotScanned:     {detectors.CategoryNotScanned, 0, 0},
}

// Detector runs images in the sandbox. It holds only options, so one value
// scans many images concurrently (each run has its own container).
type Detector struct {
	opts []sandbox.Option
	// Set by NewShared: at most cap(slots) runs at once, and one run per
	// image for every caller (behaviour and hierarchical+dynamic share it).
	slots chan struct{}
	mu    sync.Mutex
	runs  map[v1.Hash]*sharedRun
	order []v1.Hash
	// sandboxRun is sandbox.Run; tests replace it.
	sandboxRun func(context.Context, v1.Image, ...sandbox.Option) (*sandbox.Observations, error)
}

type sharedRun struct {
	done chan struct{}
	obs  *sandbox.Observations
	err  error
	// stopped: the run failed because its leading caller's context ended,
	// which says nothing about the image.
	stopped bool
}

// New returns a behaviour detector; opts go to sandbox.Run.
func New(opts ...sandbox.Option) *Detector {
	return &Detector{opts: opts, sandboxRun: sandbox.Run}
}

// maxShared bounds the runs NewShared remembers.
const maxShared = 64

// NewShared returns a behaviour detector that runs at most n sandboxes at
// once (each is limited to one CPU) and runs each image (by manifest
// digest) once for all its callers, remembering the last runs.
func NewShared(n int, opts ...sandbox.Option) *Detector {
	return &Detector{opts: opts, slots: make(chan struct{}, max(1, n)), runs: map[v1.Hash]*sharedRun{}, sandboxRun: sandbox.Run}
}

// run runs img in the sandbox, or waits for the run another caller made.
func (d *Detector) run(ctx context.Context, img v1.Image) (*sandbox.Observations, error) {
	if d.slots == nil {
		return d.sandboxRun(ctx, img, d.opts...)
	}
	h, err := img.Digest()
	if err != nil {
		return nil, err
	}
	for {
		obs, othersStopped, err := d.runOnce(ctx, h, img)
		// A run another caller led and its context ended is not this
		// caller's failure: it was forgotten, so run (or wait) again. A
		// run this caller led is final, whatever its error says.
		if err != nil && othersStopped && ctx.Err() == nil {
			continue
		}
		return obs, err
	}
}

// runOnce makes the run of img (manifest digest h) or waits for the one
// under way; a failed run is not remembered. othersStopped reports a run
// another caller led that failed because that caller's context ended.
func (d *Detector) runOnce(ctx context.Context, h v1.Hash, img v1.Image) (obs *sandbox.Observations, othersStopped bool, err error) {
	d.mu.Lock()
	sr, ok := d.runs[h]
	if !ok {
		sr = &sharedRun{done: make(chan struct{})}
		d.runs[h] = sr
		d.order = append(d.order, h)
		if len(d.order) > maxShared {
			delete(d.runs, d.order[0])
			d.order = d.order[1:]
		}
	}
	d.mu.Unlock()
	if ok {
		select {
		case <-sr.done:
			return sr.obs, sr.err != nil && sr.stopped, sr.err
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	defer func() {
		if sr.err != nil { // not remembered: a later caller tries again
			sr.stopped = ctx.Err() != nil
			d.forget(h, sr)
		}
		close(sr.done)
	}()
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		sr.err = ctx.Err()
		return nil, false, sr.err
	}
	sr.obs, sr.err = d.sandboxRun(ctx, img, d.opts...)
	<-d.slots
	return sr.obs, false, sr.err
}

// forget drops the failed run sr of h, from the runs and from their order
// (so trimming the order never drops a newer run of h).
func (d *Detector) forget(h v1.Hash, sr *sharedRun) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.runs[h] != sr {
		return
	}
	delete(d.runs, h)
	if i := slices.Index(d.order, h); i >= 0 {
		d.order = slices.Delete(d.order, i, i+1)
	}
}

var _ detectors.Detector = (*Detector)(nil)

func (d *Detector) Name() string    { return Name }
func (d *Detector) Version() string { return Version }

// Scan runs img sealed and judges what it did. It fails (with what to do
// next) when the sandbox cannot run here: not root, or runc missing.
func (d *Detector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	obs, err := d.run(ctx, img)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("behaviour: %w", err)
	}
	return Judge(obs), nil
}

// Findings scans img in the sandbox and returns its findings (for the
// hierarchical detector's dynamic signal, a hierarchical.DynamicFunc) with
// facts about the run. Weights are capped here: a finding past its rule's
// cap weighs 0, so a scorer that knows no caps counts what Score counts.
func (d *Detector) Findings(ctx context.Context, img v1.Image) ([]detectors.Finding, map[string]string, error) {
	v, err := d.Scan(ctx, img)
	if err != nil {
		return nil, nil, err
	}
	info := map[string]string{"detector": Name + " " + Version}
	for k, val := range v.Info {
		info[k] = val
	}
	return signalWeights(capWeights(v.Findings)), info, nil
}

// hostBehaviours are the miner-like things benign software also does
// alone (a busy CPU, a cron entry, a sysctl write, a pkill): the verdict
// counts them only together, and so does the dynamic signal, which adds
// its weights to the static evidence of the hierarchical detector.
var hostBehaviours = map[string]bool{RuleHugepages: true, RulePersistence: true, RuleCPUBurn: true, RuleKillCompetitor: true}

// signalWeights keeps a host behaviour's weight only when at least two
// kinds were seen; one alone stays as evidence with weight 0 (a wallet
// daemon syncing keeps a CPU busy, and its image carries mining strings:
// the two must not add up to a miner).
func signalWeights(fs []detectors.Finding) []detectors.Finding {
	kinds := map[string]bool{}
	for _, f := range fs {
		if hostBehaviours[f.Rule] && f.Weight > 0 {
			kinds[f.Rule] = true
		}
	}
	if len(kinds) >= 2 {
		return fs
	}
	out := slices.Clone(fs)
	for i := range out {
		if hostBehaviours[out[i].Rule] {
			out[i].Weight = 0
		}
	}
	return out
}

// capWeights lowers the weights of fs so each rule's sum stays at its cap.
func capWeights(fs []detectors.Finding) []detectors.Finding {
	out := make([]detectors.Finding, len(fs))
	used := map[string]float64{}
	for i, f := range fs {
		f.Weight = max(0, min(f.Weight, rules[f.Rule].cap-used[f.Rule]))
		used[f.Rule] += f.Weight
		out[i] = f
	}
	return out
}

// Judge turns one run's observations into a verdict.
func Judge(obs *sandbox.Observations) detectors.Verdict {
	fs := Findings(obs)
	score, perLayer := Score(fs)
	v := detectors.Verdict{
		Score: score, Threshold: Threshold, Findings: fs,
		Decision: detectors.Decide(score, Threshold, fs),
		Info: map[string]string{
			"sandbox_seconds":  strconv.FormatFloat(obs.Wall.Seconds(), 'f', 2, 64),
			"setup_seconds":    strconv.FormatFloat(obs.Setup.Seconds(), 'f', 2, 64),
			"teardown_seconds": strconv.FormatFloat(obs.Teardown.Seconds(), 'f', 2, 64),
			"rootfs_seconds":   strconv.FormatFloat(obs.Materialise.Seconds(), 'f', 2, 64),
			"cpu_seconds":      strconv.FormatFloat(obs.CPUSeconds, 'f', 2, 64),
			"timed_out":        strconv.FormatBool(obs.TimedOut),
			"exit_code":        strconv.Itoa(obs.ExitCode),
		},
	}
	if v.Decision == detectors.Malicious {
		for l, s := range perLayer {
			if s >= Threshold/2 {
				v.BlamedLayers = append(v.BlamedLayers, l)
			}
		}
		sort.Ints(v.BlamedLayers)
	}
	return v
}

// Score sums each rule's weights up to its cap, over the image and per
// layer.
func Score(fs []detectors.Finding) (float64, map[int]float64) {
	all := map[string]float64{}
	per := map[int]map[string]float64{}
	for _, f := range fs {
		all[f.Rule] += f.Weight
		if f.Layer != detectors.NoLayer {
			if per[f.Layer] == nil {
				per[f.Layer] = map[string]float64{}
			}
			per[f.Layer][f.Rule] += f.Weight
		}
	}
	sum := func(m map[string]float64) float64 {
		t := 0.0
		for r, w := range m {
			t += min(w, rules[r].cap)
		}
		return t
	}
	out := map[int]float64{}
	for l, m := range per {
		out[l] = sum(m)
	}
	return sum(all), out
}

// persistencePaths are where a process makes itself start again: cron,
// systemd units, SysV rc scripts, shell profiles.
var persistencePaths = []string{"/etc/cron", "/var/spool/cron", "/etc/systemd/", "/lib/systemd/", "/usr/lib/systemd/",
	"/etc/init.d/", "/etc/rc.local", "/etc/profile", "/root/.bashrc", "/root/.profile", "/etc/bash.bashrc", "/etc/ld.so.preload"}

// Findings applies the rules to one run, in a stable order.
func Findings(obs *sandbox.Observations) []detectors.Finding {
	var out []detectors.Finding
	main := ""
	if len(obs.Processes) > 0 {
		main = obs.Processes[0].Exe
	}
	add := func(rule, exe, evidence string) {
		r := rules[rule]
		f := detectors.Finding{Category: r.cat, Rule: rule, Weight: r.weight, Evidence: evidence, Layer: detectors.NoLayer, Path: exe}
		if og, ok := obs.Origins[exe]; ok {
			f.Layer, f.DiffID, f.CreatedBy = og.Layer, og.DiffID, og.CreatedBy
		}
		out = append(out, f)
	}
	for _, m := range obs.Stratum {
		switch m.Method {
		case "login", "mining.subscribe", "mining.authorize":
			ev := fmt.Sprintf("%s to %s", m.Method, m.Dest)
			for _, kv := range [][2]string{{"user", m.User}, {"agent", m.Agent}, {"algo", strings.Join(m.Algo, ",")}} {
				if kv[1] != "" {
					ev += " " + kv[0] + "=" + kv[1]
				}
			}
			add(RuleStratumLogin, exeOr(m.Exe, main), ev)
		}
	}
	for _, q := range obs.DNS {
		add(RuleDNSQuery, main, q.Type+" "+q.Name)
	}
	for _, c := range obs.Connections {
		dest := c.Dest
		if c.Host != "" {
			dest = c.Host + ":" + strconv.Itoa(c.Port)
		}
		add(RuleConnect, exeOr(c.Exe, main), fmt.Sprintf("%s connect to %s (%s) first bytes %s", c.Protocol, dest, c.Dest, c.FirstBytes))
	}
	for _, h := range obs.HTTP {
		add(RuleHTTPRequest, exeOr(h.Exe, main), fmt.Sprintf("%s http://%s%s user-agent %q", h.Method, h.Host, h.Path, h.UserAgent))
	}
	hugepages := false
	for _, p := range obs.Processes {
		argv := strings.Join(p.Argv, " ")
		add(RuleProcess, p.Exe, argv)
		if !hugepages && (strings.Contains(argv, "nr_hugepages") || strings.Contains(argv, "modprobe msr") || strings.Contains(argv, "wrmsr")) {
			hugepages = true
			add(RuleHugepages, p.Exe, argv)
		}
		if len(p.Argv) == 0 {
			continue
		}
		switch path.Base(p.Argv[0]) {
		case "pkill", "killall":
			add(RuleKillCompetitor, p.Exe, argv)
		}
	}
	for _, s := range []string{obs.Stdout, obs.Stderr} {
		if !hugepages && strings.Contains(s, "/proc/sys/vm/nr_hugepages") {
			hugepages = true
			add(RuleHugepages, main, "output names /proc/sys/vm/nr_hugepages: "+firstLineWith(s, "nr_hugepages"))
		}
	}
	for _, f := range obs.Files {
		for _, p := range persistencePaths {
			if strings.HasPrefix(f.Path, p) && !f.Deleted {
				add(RulePersistence, "", "wrote "+f.Path)
				out[len(out)-1].Path = f.Path
				break
			}
		}
	}
	if obs.Wall.Seconds() >= 5 && obs.CPUSeconds >= 0.8*obs.Wall.Seconds() {
		add(RuleCPUBurn, main, fmt.Sprintf("%.1f CPU seconds in %.1f s", obs.CPUSeconds, obs.Wall.Seconds()))
	}
	for _, l := range obs.Limits {
		if strings.HasPrefix(l, "pids") || strings.HasPrefix(l, "memory") {
			add(RuleResourceLimit, main, l)
		}
	}
	if obs.RootfsLimit != "" {
		add(RuleNotScanned, "", "root filesystem cut short: "+obs.RootfsLimit)
	}
	// An image that is not what its manifest names makes a clean run
	// invalid, not clean: what ran may not be what a runtime would run.
	for _, is := range obs.RootfsIntegrity {
		add(RuleNotScanned, "", "integrity: "+is)
		out[len(out)-1].Integrity = true
	}
	return out
}

func exeOr(exe, fallback string) string {
	if exe != "" {
		return exe
	}
	return fallback
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
