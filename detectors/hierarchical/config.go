package hierarchical

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
)

// scanHistory analyses every history entry: RUN commands as shell, ADD/COPY
// sources (URLs), ENTRYPOINT/CMD as the container's command, ENV/LABEL and
// anything unrecognised as text. Entries that produced a layer are attributed
// to it; metadata entries have no layer.
func (s *scan) scanHistory() {
	for _, h := range s.res.History {
		step := layers.ParseCreatedBy(h.CreatedBy)
		where := "history:" + strconv.Itoa(h.Index)
		add := func(rule, ev string) { s.add(rule, h.Layer, where, h.CreatedBy, nil, ev) }
		var hits []hit
		switch step.Instruction {
		case "RUN":
			hits = append(analyzeScript(parseShell(step.Args), false), base64Hits(step.Args)...)
		case "ENTRYPOINT", "CMD":
			argv, ok := layers.ParseExecForm(step.Args)
			if !ok {
				argv = []string{"/bin/sh", "-c", step.Args}
			}
			hits = append(analyzeArgv(argv), base64Hits(strings.Join(argv, " "))...)
		case "ONBUILD":
			if argv := onBuildArgv(step.Args); argv != nil {
				hits = analyzeArgv(argv)
			} else {
				hits = scanLine(step.Args)
			}
		case "ADD", "COPY":
			hits = scanLine(step.Args)
			for _, f := range strings.Fields(step.Args) {
				if m := rawIPURL.FindStringSubmatch(f); m != nil && isIPv4(m[1]) {
					hits = append(hits, hit{rule: RuleRawIPDownload, evidence: clip(step.Instruction + " " + step.Args)})
				}
			}
		default:
			hits = append(scanLine(step.Args), base64Hits(step.Args)...)
		}
		for _, ht := range hits {
			add(ht.rule, ht.evidence)
		}
	}
}

// analyzeArgv treats an exec-form command as the container's main process.
func analyzeArgv(argv []string) []hit {
	if len(argv) == 0 {
		return nil
	}
	c := command{argv: argv}
	sc := script{cmds: []command{c}}
	eff, _ := effective(argv)
	if len(eff) > 0 && shellNames[progName(eff[0])] {
		if inner := shellCArg(eff[1:]); inner != "" {
			sub := parseShell(inner)
			sc.cmds = append(sc.cmds, sub.cmds...)
			sc.pipes = append(sc.pipes, sub.pipes...)
		}
	}
	return analyzeScript(sc, true)
}

// scanConfig analyses the final config: the command the container runs
// (ENTRYPOINT + CMD, and CMD alone since wrappers exec "$@") and the
// environment.
func (s *scan) scanConfig(cfg v1.Config) {
	// ENTRYPOINT+CMD, CMD, HEALTHCHECK and ONBUILD read alike (0.4.0),
	// with the config's ENV applied: a pool given only in ENV is on the
	// command line the container runs.
	for i, c := range expandedCommands(cfg) {
		argv := c.argv
		where := "config:" + configField(c.name)
		hits := analyzeArgv(argv)
		if i == 0 {
			hits = append(hits, base64Hits(strings.Join(argv, " "))...)
		}
		if c.name == "HEALTHCHECK" {
			hits = healthProbe(hits)
		}
		for _, h := range hits {
			s.add(h.rule, detectors.NoLayer, where, "", nil, h.evidence)
		}
	}
	for _, kv := range cfg.Env {
		for _, h := range scanLine(kv) {
			s.add(h.rule, detectors.NoLayer, "config:Env", "", nil, h.evidence)
		}
		_, v, _ := strings.Cut(kv, "=")
		if m := minerOptRe.FindString(strings.ToLower(" " + v)); m != "" {
			s.add(RuleMinerOptions, detectors.NoLayer, "config:Env", "", nil, clip(kv))
		}
		for _, h := range base64Hits(v) {
			s.add(h.rule, detectors.NoLayer, "config:Env", "", nil, h.evidence)
		}
		name, _, _ := strings.Cut(kv, "=")
		// A program or archive carried base64-encoded in the value.
		fr, err := base64Files(source{path: "env/" + name, shown: "config:Env:" + name}, v, s.d.fileOpts())
		if err != nil {
			s.add(RuleNotScanned, detectors.NoLayer, "config:Env", "", nil, clip(fmt.Sprintf("base64 content of ENV %s: %v", name, err)))
		}
		for _, h := range fr.hits {
			s.add(h.rule, detectors.NoLayer, "config:Env", "", nil, h.evidence)
		}
	}
}

// healthProbe drops raw-ip-download from a HEALTHCHECK that runs nothing
// it fetches: `curl -f http://127.0.0.1:8080/health` probes the
// container's own service by address, as health checks do. A health check
// that fetches and runs code keeps it (and fires recurring-fetch-exec).
func healthProbe(hits []hit) []hit {
	for _, h := range hits {
		if downloadExecRules[h.rule] {
			return hits
		}
	}
	out := hits[:0:0]
	for _, h := range hits {
		if h.rule != RuleRawIPDownload {
			out = append(out, h)
		}
	}
	return out
}

const defaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// correlate ties findings across layers and config:
//   - the program ENTRYPOINT/CMD starts was added in layer i and made
//     executable in a later layer j (ADD + chmod in separate steps);
//   - that program carries strong evidence of its own;
//   - strong evidence sits in a file that a later layer deleted.
func (s *scan) correlate(cfg v1.Config) {
	strong := map[string][]string{} // path -> strong rules found in it
	for _, p := range s.findings {
		if p.entry != nil && p.f.Weight >= StrongWeight && !contains(strong[p.entry.Path], p.f.Rule) {
			strong[p.entry.Path] = append(strong[p.entry.Path], p.f.Rule)
		}
	}
	s.correlateEntrypoint(cfg, strong)

	hidden := map[string]bool{}
	for _, p := range s.findings {
		e := p.entry
		if e == nil || !e.Hidden || p.f.Weight < StrongWeight || hidden[e.Path+"@"+strconv.Itoa(e.Layer)] {
			continue
		}
		hidden[e.Path+"@"+strconv.Itoa(e.Layer)] = true
		s.add(RuleHiddenEvidence, e.Layer, e.Path, "", e,
			fmt.Sprintf("%s (%s) added in layer %d, deleted by layer %d", e.Path, p.f.Rule, e.Layer, e.RemovedBy))
	}
}

func (s *scan) correlateEntrypoint(cfg v1.Config, strong map[string][]string) {
	started := "ENTRYPOINT"
	if len(cfg.Entrypoint) == 0 {
		started = "CMD"
	}
	progs := startedPrograms(cfg)
	visited := map[*layers.Entry]bool{}
	for i, prog := range progs {
		e := s.resolve(prog, cfg)
		if e == nil {
			continue
		}
		how := started
		if i > 0 {
			how = "CMD"
		}
		s.followStart(cfg, fmt.Sprintf("%s starts /%s", how, e.Path), e, strong, visited, 0)
		if i == 0 {
			s.addedChmodStarted(e, started)
		}
	}
}

// addedChmodStarted: the started program was added in one layer and made
// executable in a later one (ADD + RUN chmod as separate steps).
func (s *scan) addedChmodStarted(e *layers.Entry, started string) {
	// Walk the path's live history (after its last deletion, if any).
	vs := e.Versions()
	for i := len(vs) - 1; i > 0; i-- {
		if vs[i-1].Hidden {
			vs = vs[i:]
			break
		}
	}
	added := vs[0]
	for k := 1; k < len(vs); k++ {
		v := vs[k]
		if !v.Executable() || v.Layer <= added.Layer {
			continue
		}
		step := s.layerStep(v.Layer)
		if vs[k-1].Executable() && !strings.Contains(step.Args, "chmod") {
			continue
		}
		s.add(RuleAddedChmodStarted, v.Layer, e.Path, "", v,
			fmt.Sprintf("/%s added in layer %d (%s), made executable in layer %d (%s), started by %s",
				e.Path, added.Layer, clip(s.layerCreatedBy(added.Layer)), v.Layer, clip(s.layerCreatedBy(v.Layer)), started))
		return
	}
}

func (s *scan) layerCreatedBy(i int) string {
	if i >= 0 && i < len(s.res.Layers) {
		return s.res.Layers[i].CreatedBy
	}
	return ""
}

func (s *scan) layerStep(i int) layers.Step { return layers.ParseCreatedBy(s.layerCreatedBy(i)) }

// resolve finds the file a program word names: absolute, relative to
// WorkingDir, or searched in PATH; symlinks in the view are resolved by
// lookup (nothing is read), at most 16 hops.
func (s *scan) resolve(prog string, cfg v1.Config) *layers.Entry {
	var candidates []string
	switch {
	case path.IsAbs(prog):
		candidates = []string{prog}
	case strings.Contains(prog, "/"):
		wd := cfg.WorkingDir
		if wd == "" {
			wd = "/"
		}
		candidates = []string{path.Join(wd, prog)}
	default:
		pathVar := defaultPATH
		for _, kv := range cfg.Env {
			if v, ok := strings.CutPrefix(kv, "PATH="); ok {
				pathVar = v
			}
		}
		for _, d := range strings.Split(pathVar, ":") {
			candidates = append(candidates, path.Join(d, prog))
		}
	}
	for _, c := range candidates {
		if e := s.lookup(c, 0); e != nil && e.Type == layers.TypeFile && !e.Hidden {
			return e
		}
	}
	return nil
}

// lookup resolves symlinks in every component of p against the final view.
func (s *scan) lookup(p string, hops int) *layers.Entry {
	if hops > 16 {
		return nil
	}
	n, ok := layers.NormalizePath(p)
	if !ok || n == "" {
		return nil
	}
	parts := strings.Split(n, "/")
	cur := ""
	for i, part := range parts {
		cur = path.Join(cur, part)
		e := s.res.Files[cur]
		last := i == len(parts)-1
		if e == nil || e.Hidden {
			if last {
				return nil
			}
			continue // implicit or re-created parent directory
		}
		if e.Type == layers.TypeSymlink || e.Type == layers.TypeHardlink {
			target := e.Linkname
			if e.Type == layers.TypeSymlink && !path.IsAbs(target) {
				target = path.Join("/", path.Dir(cur), target)
			}
			rest := strings.Join(parts[i+1:], "/")
			return s.lookup(path.Join("/", target, rest), hops+1)
		}
		if last {
			return e
		}
	}
	return nil
}
