package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/sandbox"
)

// PeersSchema versions peers.json.
const PeersSchema = "strata.bench.peers/v1"

// Tool names of the peers bench, in table order (yara rows are "yara
// NAME", one per rule set).
const (
	toolStrataCold  = "strata cold"
	toolStrataWarm  = "strata warm"
	toolExtract     = "extract"
	toolClamscan    = "clamscan"
	toolClamscanMin = "clamscan 1-sig DB"
	toolYara        = "yara"
	toolMalcontent  = "malcontent"
	toolTrivy       = "trivy"
)

// Targets of the peers comparison, from the issue.
const (
	malcontentTarget = 10.0  // malcontent's time >= 10x strata's cold scan
	yaraTarget       = 2.0   // yara (with extraction) >= 2x strata's cold scan
	rssTarget        = 200e6 // strata's peak RSS < 200 MB
)

// DefaultClamDB is where Debian's clamav and freshclam keep the database.
const DefaultClamDB = "/var/lib/clamav"

const peersLegend = `strata cold: ` + "`strata scan`" + ` as a child process with an empty --cache dir; strata warm: the same again on that cache.
extract: the image's final filesystem view written to a directory by strata's sandbox code (in-process, so no RSS of its own);
clamscan, yara, malcontent, trivy read those files, and their time "with extraction" adds extract's median, as a user of a file scanner would pay it.
peak RSS: ru_maxrss of the child (wait4). vs strata cold: time (with extraction where it applies) / strata cold's time.
`

// RuleSet is a public YARA rule set: a directory searched for *.yar and
// *.yara files, or one file.
type RuleSet struct {
	Name string
	Path string
}

// PeersConfig says what the peers bench runs.
type PeersConfig struct {
	// Refs are the images (imageref forms); every tool sees the same image.
	Refs []string
	// Count is the repetitions of each measurement; the median is reported.
	Count int
	// Out, if set, receives peers.md, peers.json and machine.md.
	Out string
	// Platform keeps one platform of a multi-platform image.
	Platform string
	// Strata is the strata binary timed as a child process.
	Strata string
	// PeersDir is where `make bench-peers` puts peers (trivy, and a
	// malcontent built by hand as mal); PATH is searched next.
	PeersDir string
	// YaraRules are the public rule sets yara runs with, one row each.
	YaraRules []RuleSet
	// ClamDB is the ClamAV database directory (DefaultClamDB if empty).
	ClamDB string
	// Stdout gets the table and verdicts, Stderr progress lines.
	Stdout, Stderr io.Writer
}

// PeerResult is one tool's runs on one image, or why it was skipped.
type PeerResult struct {
	Tool    string   `json:"tool"`
	Command []string `json:"command,omitempty"`
	Version string   `json:"version,omitempty"`
	RunsNS  []int64  `json:"runs_ns,omitempty"`
	// MedianNS is the tool's own median wall time.
	MedianNS int64 `json:"median_ns,omitempty"`
	// WithExtraction: the tool reads extracted files, so it is compared
	// with strata by MedianNS plus the extraction's median.
	WithExtraction bool    `json:"with_extraction,omitempty"`
	MaxRSS         []int64 `json:"max_rss_bytes,omitempty"`
	PeakRSS        int64   `json:"peak_rss_bytes,omitempty"`
	Exits          []int   `json:"exit_codes,omitempty"`
	Skipped        string  `json:"skipped,omitempty"`
	Note           string  `json:"note,omitempty"`
}

// PeerImage is one benched image.
type PeerImage struct {
	Ref     string       `json:"ref"`
	Target  string       `json:"target"`
	Files   int          `json:"extracted_files"`
	Bytes   int64        `json:"extracted_bytes"`
	Results []PeerResult `json:"results"`
}

// PeersReport is peers.json (schema PeersSchema).
type PeersReport struct {
	Schema  string            `json:"schema"`
	Count   int               `json:"count"`
	Machine map[string]string `json:"machine"`
	Images  []PeerImage       `json:"images"`
}

// peer is a file scanner run over the extracted root.
type peer struct {
	tool    string
	version string
	// args gives the command line for the extracted root dir.
	args func(dir string) []string
	// exitOK tells a normal exit (a match included) from a failure.
	exitOK func(code int) bool
	skip   string
	note   string
	env    []string
}

// RunPeers times strata (as a child process, cold and warm), the
// extraction, and every installed peer on each image of cfg.Refs, prints
// the table and the verdicts against the targets, and writes the
// files to cfg.Out. A peer that is not installed is listed as skipped,
// with how to install it.
func RunPeers(ctx context.Context, cfg PeersConfig) (PeersReport, error) {
	if len(cfg.Refs) == 0 {
		return PeersReport{}, fmt.Errorf("nothing to bench: name an image (e.g. ~/.cache/strata/store:exp1/case-111)")
	}
	if cfg.Count < 1 {
		return PeersReport{}, fmt.Errorf("count %d: want at least 1 repetition", cfg.Count)
	}
	if cfg.Strata == "" {
		return PeersReport{}, fmt.Errorf("no strata binary to time: set PeersConfig.Strata (the CLI passes its own path)")
	}
	stdout, stderr := cfg.Stdout, cfg.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	tmp, err := os.MkdirTemp("", "strata-peers-")
	if err != nil {
		return PeersReport{}, err
	}
	defer os.RemoveAll(tmp)
	peers := preparePeers(ctx, cfg, tmp, stderr)
	rep := PeersReport{Schema: PeersSchema, Count: cfg.Count, Machine: machine(ctx), Images: []PeerImage{}}
	for _, ref := range cfg.Refs {
		targets, err := imageref.Open(ctx, ref, imageref.Options{Platform: cfg.Platform})
		if err != nil {
			return rep, err
		}
		for _, t := range targets {
			fmt.Fprintf(stderr, "bench peers: %s\n", t.Name)
			pi, err := benchPeersImage(ctx, cfg, ref, t, peers, tmp, stderr)
			if err != nil {
				// Keep what the images before this one measured.
				if werr := writePeers(rep, cfg.Out, stdout); werr != nil {
					fmt.Fprintf(stderr, "bench peers: write the images measured so far: %v\n", werr)
				}
				return rep, fmt.Errorf("%s: %w", t.Name, err)
			}
			rep.Images = append(rep.Images, pi)
		}
	}
	return rep, writePeers(rep, cfg.Out, stdout)
}

func benchPeersImage(ctx context.Context, cfg PeersConfig, ref string, t imageref.Target, peers []peer, tmp string, stderr io.Writer) (PeerImage, error) {
	pi := PeerImage{Ref: ref, Target: t.Name}
	// strata scans the reference as a user would; a multi-platform
	// reference is narrowed to the target's platform.
	scanArgs := []string{"scan", "--format", "json", "--fail-on", "never"}
	if cfg.Platform != "" {
		scanArgs = append(scanArgs, "--platform", cfg.Platform)
	}
	cold := PeerResult{Tool: toolStrataCold, Version: "hierarchical " + hierarchical.Version}
	warm := PeerResult{Tool: toolStrataWarm, Version: cold.Version}
	for i := range cfg.Count {
		cache := filepath.Join(tmp, fmt.Sprintf("cache-%d", i))
		args := append(append([]string(nil), scanArgs...), "--cache", cache, ref)
		for _, r := range []*PeerResult{&cold, &warm} {
			run, err := runChild(ctx, nil, cfg.Strata, args...)
			if err != nil {
				return pi, err
			}
			if run.Exit != 0 {
				return pi, fmt.Errorf("%s exited %d: %s", r.Tool, run.Exit, run.Stderr)
			}
			r.Command = append([]string{cfg.Strata}, args...)
			r.add(run)
		}
		os.RemoveAll(cache)
	}
	ext := PeerResult{Tool: toolExtract, Note: "in-process"}
	byTool := make([]PeerResult, len(peers))
	for i, p := range peers {
		byTool[i] = PeerResult{Tool: p.tool, Version: p.version, Skipped: p.skip, Note: p.note, WithExtraction: true}
	}
	for i := range cfg.Count {
		dir := filepath.Join(tmp, fmt.Sprintf("rootfs-%d", i))
		start := time.Now()
		rf, err := sandbox.Materialise(ctx, t.Image, dir, 0, 0)
		ns := time.Since(start).Nanoseconds()
		if err != nil {
			return pi, fmt.Errorf("extract: %w", err)
		}
		ext.RunsNS = append(ext.RunsNS, ns)
		pi.Files, pi.Bytes = rf.Files, rf.Bytes
		if rf.Limit != "" {
			ext.Note = "in-process; cut short: " + rf.Limit
		}
		for j, p := range peers {
			if p.skip != "" {
				continue
			}
			args := p.args(dir)
			run, err := runChild(ctx, p.env, args[0], args[1:]...)
			if err != nil {
				return pi, err
			}
			r := &byTool[j]
			r.Command = args
			r.add(run)
			if !p.exitOK(run.Exit) {
				r.Note = fmt.Sprintf("exit %d: %s", run.Exit, lastLine(run.Stderr))
				fmt.Fprintf(stderr, "bench peers: %s: %s %s\n", t.Name, p.tool, r.Note)
			}
		}
		os.RemoveAll(dir)
	}
	pi.Results = append(pi.Results, cold, warm, ext)
	pi.Results = append(pi.Results, byTool...)
	for i := range pi.Results {
		pi.Results[i].MedianNS = median(pi.Results[i].RunsNS)
	}
	return pi, nil
}

func (r *PeerResult) add(run childRun) {
	r.RunsNS = append(r.RunsNS, run.WallNS)
	r.MaxRSS = append(r.MaxRSS, run.MaxRSS)
	r.Exits = append(r.Exits, run.Exit)
	r.PeakRSS = max(r.PeakRSS, run.MaxRSS)
}

// preparePeers finds each peer and readies its input (yara rules compiled
// once per run, a ClamAV database); a peer that cannot run gets skip set.
func preparePeers(ctx context.Context, cfg PeersConfig, tmp string, stderr io.Writer) []peer {
	var ps []peer
	clamDB := cfg.ClamDB
	if clamDB == "" {
		clamDB = DefaultClamDB
	}
	clamArgs := func(db string) func(string) []string {
		return func(dir string) []string {
			return []string{"clamscan", "-r", "--no-summary", "--infected", "--follow-dir-symlinks=0", "--follow-file-symlinks=0", "-d", db, dir}
		}
	}
	clamOK := func(c int) bool { return c == 0 || c == 1 } // 1: a match
	clam := peer{tool: toolClamscan, args: clamArgs(clamDB), exitOK: clamOK}
	clamMin := peer{tool: toolClamscanMin, exitOK: clamOK,
		note: "engine walk and unpacking only: the machine has no ClamAV database"}
	if p, err := exec.LookPath("clamscan"); err != nil {
		clam.skip = "clamscan not installed: make setup (Debian's clamav)"
		ps = append(ps, clam)
	} else {
		clam.version = firstLine(ctx, p, "--version")
		if !hasClamDB(clamDB) {
			clam.skip = fmt.Sprintf("no ClamAV database in %s: run freshclam (it needs ClamAV's update servers) or pass --clamav-db DIR", clamDB)
			// One signature that matches nothing keeps the engine's own
			// cost (walk, file typing, unpacking) measurable.
			db := filepath.Join(tmp, "placeholder.hsb")
			if err := os.WriteFile(db, []byte("0123456789abcdef0123456789abcdef:1:Strata.Bench.Placeholder\n"), 0o644); err == nil {
				clamMin.version, clamMin.args = clam.version, clamArgs(db)
				ps = append(ps, clam, clamMin)
			} else {
				ps = append(ps, clam)
			}
		} else {
			ps = append(ps, clam)
		}
	}
	ps = append(ps, yaraPeers(ctx, cfg.YaraRules, tmp, stderr)...)

	mal := peer{tool: toolMalcontent, exitOK: func(c int) bool { return c == 0 }}
	if p := findPeer(cfg.PeersDir, "mal", "malcontent"); p == "" {
		mal.skip = "malcontent not installed: put a malcontent binary at bin/peers/mal (the Go module proxy serves no malcontent version; README, Performance, says how v1.7.1 builds with Debian's libyara-dev)"
	} else {
		mal.version = firstLine(ctx, p, "--version")
		mal.args = func(dir string) []string { return []string{p, "--format", "json", "scan", dir} }
	}
	trivy := peer{tool: toolTrivy, exitOK: func(c int) bool { return c == 0 }, note: "secret scanner only (no vulnerability database offline)"}
	if p := findPeer(cfg.PeersDir, "trivy"); p == "" {
		trivy.skip = "trivy not installed: make bench-peers"
	} else {
		trivy.version = firstLine(ctx, p, "--version")
		cache := filepath.Join(tmp, "trivy-cache")
		trivy.args = func(dir string) []string {
			return []string{p, "rootfs", "--scanners", "secret", "--offline-scan", "--skip-db-update", "--skip-java-db-update",
				"--skip-check-update", "--cache-dir", cache, "--quiet", "--format", "json", dir}
		}
	}
	return append(ps, mal, trivy)
}

// yaraPeers compiles each rule set once (yarac, files it cannot compile
// left out and counted) and returns one yara peer per set.
func yaraPeers(ctx context.Context, sets []RuleSet, tmp string, stderr io.Writer) []peer {
	yaraOK := func(c int) bool { return c == 0 }
	yaraBin, err := exec.LookPath("yara")
	yaracBin, cerr := exec.LookPath("yarac")
	if err != nil || cerr != nil {
		return []peer{{tool: toolYara, skip: "yara not installed: make setup (Debian's yara)"}}
	}
	version := firstLine(ctx, yaraBin, "--version")
	if len(sets) == 0 {
		return []peer{{tool: toolYara, version: version, skip: "no public rule set: pass --yara-rules NAME=DIR (make bench-peers PEER_YARA_RULES=NAME=DIR)"}}
	}
	var ps []peer
	for i, rs := range sets {
		p := peer{tool: toolYara + " " + rs.Name, version: version, exitOK: yaraOK}
		out := filepath.Join(tmp, fmt.Sprintf("rules-%d.yarc", i))
		used, left, err := compileRules(ctx, yaracBin, rs.Path, out)
		switch {
		case err != nil:
			p.skip = "rule set not compiled: " + err.Error()
		default:
			p.note = fmt.Sprintf("%d rule files", used)
			if len(left) > 0 {
				p.note += fmt.Sprintf(", %d left out (YARA %s cannot compile them)", len(left), version)
				fmt.Fprintf(stderr, "bench peers: yara %s: left out %s\n", rs.Name, strings.Join(left, ", "))
			}
			p.args = func(dir string) []string { return []string{yaraBin, "-w", "-N", "-r", "-C", out, dir} }
		}
		ps = append(ps, p)
	}
	return ps
}

// yaracError matches the file of yarac's error lines, "FILE(LINE): error:
// ..." and "error: rule "NAME" in FILE(LINE): ...".
var yaracError = regexp.MustCompile(`(?m)^(?:error: rule "[^"]*" in )?(.+?)\(\d+\): `)

// compileRules compiles every rule file under path into out, each file in
// a namespace of its own (rule sets reuse rule names across files). A file
// yarac reports an error in is left out and the rest compiled again.
func compileRules(ctx context.Context, yarac, path, out string) (used int, left []string, err error) {
	files, err := ruleFiles(path)
	if err != nil {
		return 0, nil, err
	}
	for len(files) > 0 {
		args := []string{"-w"}
		for i, f := range files {
			args = append(args, fmt.Sprintf("ns%d:%s", i, f))
		}
		msg, err := exec.CommandContext(ctx, yarac, append(args, out)...).CombinedOutput()
		if err == nil {
			return len(files), left, nil
		}
		bad := map[string]bool{}
		for _, m := range yaracError.FindAllStringSubmatch(string(msg), -1) {
			bad[m[1]] = true
		}
		keep := files[:0]
		for _, f := range files {
			if bad[f] {
				left = append(left, f)
			} else {
				keep = append(keep, f)
			}
		}
		if len(keep) == len(files) {
			return 0, left, fmt.Errorf("yarac: %v: %s", err, oneLine(string(msg)))
		}
		files = keep
	}
	return 0, left, fmt.Errorf("no rule file of %s compiles with this yara", path)
}

func ruleFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("rule set: %w", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); d.Type().IsRegular() && (ext == ".yar" || ext == ".yara") {
			files = append(files, p)
		}
		return nil
	})
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no *.yar or *.yara file under %s", path)
	}
	sort.Strings(files)
	return files, err
}

func hasClamDB(dir string) bool {
	for _, pat := range []string{"*.cvd", "*.cld", "*.cud"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) > 0 {
			return true
		}
	}
	return false
}

// findPeer returns the first of names found in dir, then on PATH.
func findPeer(dir string, names ...string) string {
	for _, n := range names {
		if dir != "" {
			p := filepath.Join(dir, n)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
				return p
			}
		}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

func firstLine(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return oneLine(string(out))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// writePeers prints rep's table and verdicts and, if out is set, writes
// peers.md, peers.json and machine.md there.
func writePeers(rep PeersReport, out string, stdout io.Writer) error {
	if err := peersTable(rep).WriteText(stdout); err != nil {
		return err
	}
	for _, n := range peersNotes(rep) {
		fmt.Fprintln(stdout, n)
	}
	fmt.Fprint(stdout, peersLegend)
	for _, v := range peersVerdicts(rep) {
		fmt.Fprintln(stdout, v)
	}
	if out == "" {
		return nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	md, err := peersMarkdown(rep)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "peers.md"), []byte(md), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "peers.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "machine.md"), []byte(machineMarkdown(rep.Machine)), 0o644)
}
