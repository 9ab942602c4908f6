package hierarchical

// The start graph: what the image actually runs. Roots are the config's
// commands (ENTRYPOINT+CMD, CMD, HEALTHCHECK, ONBUILD triggers) and the
// files the system starts on its own (cron tables, systemd units under
// /etc/systemd/system and their *.wants links, rc.local, profile.d, shell rc
// files, supervisord programs, s6/runit run files). Edges go from a root or
// script to the programs it runs (stage 1's scriptRuns: variables, defaults
// and loops expanded; the config's ENV applied here), to the files it reads
// as configuration or code (-c/--config FILE, python3 app.py, java -jar,
// package.json for npm start, config.json beside an XMRig-like program) and
// to the archives it unpacks (tar -xzf, unzip, gunzip, xz -d ...), whose
// content is then on the graph too. The graph is built after the walk from
// the final view and the cached per-file results: no layer is read again.
//
// Each node keeps the layer that added it and the chain that reaches it, so
// a finding can say "cron entry added by layer 10 starts /usr/bin/.x added
// by layer 9": the hierarchy of layers, made to do work.

import (
	"fmt"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
)

const (
	maxGraphDepth = 6
	maxGraphNodes = 512
)

// sgNode is a file on the start graph.
type sgNode struct {
	entry *layers.Entry
	// via is the chain that reaches it, e.g. "cron /etc/cron.d/x (layer 4)
	// -> /opt/run.sh (layer 3)".
	via string
	// fromLayer is the layer of the file that started, read or unpacked
	// it (-1 for the config).
	fromLayer int
}

// startGraph is the set of nodes, keyed by file version.
type startGraph struct {
	nodes map[*layers.Entry]*sgNode
	order []*layers.Entry
}

func (g *startGraph) has(e *layers.Entry) bool { return g != nil && e != nil && g.nodes[e] != nil }

// configCommands are the command lines of the config: name and argv.
func configCommands(cfg v1.Config) []struct {
	name string
	argv []string
} {
	type cmd = struct {
		name string
		argv []string
	}
	var out []cmd
	ep := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(cfg.Entrypoint) > 0 {
		out = append(out, cmd{"ENTRYPOINT", ep})
		if len(cfg.Cmd) > 0 {
			out = append(out, cmd{"CMD", cfg.Cmd})
		}
	} else if len(cfg.Cmd) > 0 {
		out = append(out, cmd{"CMD", cfg.Cmd})
	}
	if hc := cfg.Healthcheck; hc != nil && len(hc.Test) > 1 {
		switch hc.Test[0] {
		case "CMD":
			out = append(out, cmd{"HEALTHCHECK", hc.Test[1:]})
		case "CMD-SHELL":
			out = append(out, cmd{"HEALTHCHECK", []string{"/bin/sh", "-c", strings.Join(hc.Test[1:], " ")}})
		}
	}
	for _, t := range cfg.OnBuild {
		if argv := onBuildArgv(t); argv != nil {
			out = append(out, cmd{"ONBUILD", argv})
		}
	}
	return out
}

// expandedCommands are configCommands with the config's ENV applied to
// every word it can expand: a pool given only in ENV is on the command line
// the container runs.
func expandedCommands(cfg v1.Config) []struct {
	name string
	argv []string
} {
	env := envMap(cfg)
	cmds := configCommands(cfg)
	for i, c := range cmds {
		argv := make([]string, len(c.argv))
		for k, a := range c.argv {
			if x, ok := expandEnv(a, env); ok {
				a = x
			}
			argv[k] = a
		}
		cmds[i].argv = argv
	}
	return cmds
}

// onBuildArgv reads an ONBUILD trigger ("RUN curl ... | sh") as the
// command it runs; triggers of other instructions run nothing.
func onBuildArgv(trigger string) []string {
	instr, rest, _ := strings.Cut(strings.TrimSpace(trigger), " ")
	if !strings.EqualFold(instr, "RUN") {
		return nil
	}
	rest = strings.TrimSpace(rest)
	if argv, ok := layers.ParseExecForm(rest); ok {
		return argv
	}
	return []string{"/bin/sh", "-c", rest}
}

// argvScript is the script an exec-form command amounts to: the command,
// plus the script of `sh -c STRING`.
func argvScript(argv []string) script {
	sc := script{cmds: []command{{argv: argv}}}
	eff, _ := effective(argv)
	if len(eff) > 0 && shellNames[progName(eff[0])] {
		if inner := shellCArg(eff[1:]); inner != "" {
			sub := parseShell(inner)
			sc.cmds = append(sc.cmds, sub.cmds...)
			sc.pipes = append(sc.pipes, sub.pipes...)
		}
	}
	return sc
}

// expandEnv replaces the $NAME/${NAME} references left in a word (and the
// envMarker-bracketed names of stage 1) from the config's ENV; ok is false
// when one stays unknown.
func expandEnv(w string, env map[string]string) (string, bool) {
	ok := true
	for strings.Contains(w, envMarker) {
		i := strings.Index(w, envMarker)
		j := strings.Index(w[i+1:], envMarker)
		if j < 0 {
			return "", false
		}
		name := w[i+1 : i+1+j]
		v, known := env[name]
		ok = ok && known
		w = w[:i] + v + w[i+2+j:]
	}
	w = varRef.ReplaceAllStringFunc(w, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		if v, known := env[m[1]+m[3]]; known {
			return v
		}
		if strings.Contains(ref, "-") || strings.Contains(ref, "=") {
			return m[2]
		}
		ok = false
		return ref
	})
	return w, ok && !strings.Contains(w, "$")
}

func envMap(cfg v1.Config) map[string]string {
	m := map[string]string{}
	for _, kv := range cfg.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// isStartRoot: a file the system starts on its own. systemd units count
// only where systemctl enable puts them (/etc/systemd/system, incl. its
// *.wants links, resolved separately); init.d scripts only through their
// rc?.d links, like any other script.
func isStartRoot(p string) bool {
	switch persistenceKindOf(p) {
	case persistNone:
		return false
	case persistUnit:
		return strings.HasPrefix(p, "etc/systemd/system/")
	case persistScript:
		return !strings.HasPrefix(p, "etc/init.d/")
	}
	return true
}

// buildStartGraph follows the config's commands and the start roots.
func (s *scan) buildStartGraph(cfg v1.Config) *startGraph {
	g := &startGraph{nodes: map[*layers.Entry]*sgNode{}}
	env := envMap(cfg)
	type item struct {
		node  *sgNode
		depth int
	}
	var queue []item
	visit := func(e *layers.Entry, via string, from, depth int) {
		if e == nil || g.nodes[e] != nil || len(g.nodes) >= maxGraphNodes {
			return
		}
		n := &sgNode{entry: e, via: via, fromLayer: from}
		g.nodes[e] = n
		g.order = append(g.order, e)
		queue = append(queue, item{n, depth})
	}
	follow := func(runs scriptRuns, self string, via string, from, depth int) {
		word := func(w string) (string, bool) {
			w = strings.ReplaceAll(w, scriptDirMarker, self)
			return expandEnv(w, env)
		}
		var dirs []string
		for _, d := range runs.dirs {
			if x, ok := word(d); ok {
				dirs = append(dirs, x)
			}
		}
		for _, p := range runs.progs {
			if x, ok := word(p); ok {
				if e := s.resolveIn(x, cfg, self, dirs, true); e != nil {
					visit(e, fmt.Sprintf("%s -> /%s (layer %d)", via, e.Path, e.Layer), from, depth+1)
				}
			}
		}
		for _, r := range runs.reads {
			if x, ok := word(r); ok {
				if e := s.resolveIn(x, cfg, self, dirs, false); e != nil {
					visit(e, fmt.Sprintf("%s -> reads /%s (layer %d)", via, e.Path, e.Layer), from, depth+1)
				}
			}
		}
	}
	wd := cfg.WorkingDir
	if wd == "" {
		wd = "/"
	}
	for _, c := range configCommands(cfg) {
		follow(scriptRunsOf(argvScript(c.argv)), wd, c.name+" (config)", detectors.NoLayer, 0)
	}
	for _, p := range s.res.Paths() {
		e := s.res.Files[p]
		if e == nil || e.Hidden {
			continue
		}
		switch {
		case e.Type == layers.TypeFile && isStartRoot(p):
			visit(e, fmt.Sprintf("/%s (layer %d)", p, e.Layer), e.Layer, 0)
		case e.Type == layers.TypeSymlink && strings.HasPrefix(p, "etc/systemd/system/") && strings.Contains(p, ".wants/"):
			if t := s.lookup("/"+p, 0); t != nil && t.Type == layers.TypeFile && !t.Hidden {
				visit(t, fmt.Sprintf("/%s (layer %d) -> /%s (layer %d)", p, e.Layer, t.Path, t.Layer), e.Layer, 0)
			}
		}
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if it.depth >= maxGraphDepth {
			continue
		}
		e := it.node.entry
		self := path.Dir("/" + e.Path)
		if runs, ok := s.scripts[e]; ok {
			follow(runs, self, it.node.via, e.Layer, it.depth)
		}
		if s.xmrigLike(e) {
			// XMRig reads config.json from its own directory when no
			// -c is given (xmrig/xmrig doc: "config.json in the same
			// directory as the miner").
			if c := s.lookup(path.Join(self, "config.json"), 0); c != nil && c.Type == layers.TypeFile && !c.Hidden {
				visit(c, fmt.Sprintf("%s -> reads /%s (layer %d)", it.node.via, c.Path, c.Layer), e.Layer, it.depth+1)
			}
		}
	}
	return g
}

// resolveIn resolves a word of a command: absolute, relative to the
// directories the script cd's into, the WorkingDir and its own directory, or
// (programs only) a bare name in PATH.
func (s *scan) resolveIn(word string, cfg v1.Config, self string, dirs []string, prog bool) *layers.Entry {
	if path.IsAbs(word) {
		return s.resolve(word, cfg)
	}
	if prog && !strings.Contains(word, "/") {
		if e := s.resolve(word, cfg); e != nil {
			return e
		}
	}
	wd := cfg.WorkingDir
	if wd == "" {
		wd = "/"
	}
	for _, b := range append(append([]string{}, dirs...), wd, self) {
		if e := s.resolve(path.Join(b, word), cfg); e != nil {
			return e
		}
	}
	return nil
}

// xmrigLike: a program whose own findings say miner (a miner name or
// binary mining evidence).
func (s *scan) xmrigLike(e *layers.Entry) bool {
	for _, r := range s.byEntry[e] {
		switch r {
		case RuleMinerBinary, RuleELFStratum, RuleELFMinerAgent, RuleELFAlgorithms:
			return true
		}
	}
	return false
}

// isMiningEvidence: a finding that says "mining" by itself (specific,
// weight >= 4, not support, not a correlation).
func isMiningEvidence(f detectors.Finding) bool {
	r, ok := ruleByID[f.Rule]
	return ok && f.Weight >= 4 && !r.Generic && !r.Support && r.Category != detectors.CategoryHierarchy && r.Signal != SignalStartGraph
}

// scanStartGraph builds the graph and adds its findings: mining evidence on
// it (startgraph-mining), layers it crosses (startgraph-layers), and
// fetch-and-execute on it (runtime-fetch-exec).
func (s *scan) scanStartGraph(cfg v1.Config) {
	s.byEntry = map[*layers.Entry][]string{}
	for _, p := range s.findings {
		if p.entry != nil {
			s.byEntry[p.entry] = append(s.byEntry[p.entry], p.f.Rule)
		}
	}
	g := s.buildStartGraph(cfg)
	s.graph = g
	mining := map[*layers.Entry][]string{}
	fetch := map[*layers.Entry]string{}
	for _, p := range s.findings {
		if !g.has(p.entry) {
			continue
		}
		if isMiningEvidence(p.f) && !contains(mining[p.entry], p.f.Rule) {
			mining[p.entry] = append(mining[p.entry], p.f.Rule)
		}
		if downloadExecRules[p.f.Rule] || p.f.Rule == RulePersistenceFetch {
			fetch[p.entry] = p.f.Evidence
		}
	}
	for _, e := range g.order {
		n := g.nodes[e]
		// A program ENTRYPOINT/CMD starts through scripts is already
		// credited by hier-started-flagged-file; the graph adds what that
		// chain does not see (other roots, configs, archives).
		if rs := mining[e]; len(rs) > 0 && !contains(s.byEntry[e], RuleStartedFlaggedFile) {
			sort.Strings(rs)
			s.add(RuleStartGraphMining, e.Layer, e.Path, "", e, clip(fmt.Sprintf("%s carries %s", n.via, strings.Join(rs, ", "))))
			if n.fromLayer >= 0 && n.fromLayer != e.Layer {
				s.add(RuleStartGraphLayers, e.Layer, e.Path, "", e, clip(fmt.Sprintf("/%s added by layer %d (%s) is reached from layer %d (%s): %s",
					e.Path, e.Layer, clip(s.layerCreatedBy(e.Layer)), n.fromLayer, clip(s.layerCreatedBy(n.fromLayer)), n.via)))
			}
		}
		if ev, ok := fetch[e]; ok {
			s.add(RuleRuntimeFetchExec, e.Layer, e.Path, "", e, clip(n.via+": "+ev))
		}
		// A cron entry that fetches and runs code from a bare IP address
		// (no name, no certificate: the droppers' habit), on the graph (a
		// cron table) or written by a script on it: recurring. A
		// self-updating agent fetching from its vendor's host name is not.
		if contains(s.byEntry[e], RulePersistenceFetch) && contains(s.byEntry[e], RuleRawIPDownload) {
			s.add(RuleRecurringFetch, e.Layer, e.Path, "", e, clip(n.via+": a cron entry fetches code from a bare IP address and runs it"))
		}
	}
	s.scanServedAndRelayed(g, cfg)
	for _, c := range expandedCommands(cfg) {
		argv := c.argv
		where := "config:" + configField(c.name)
		fetched, mined := false, []string{}
		for _, h := range analyzeArgv(argv) {
			if downloadExecRules[h.rule] && !fetched {
				fetched = true
				s.add(RuleRuntimeFetchExec, detectors.NoLayer, where, "", nil, clip(c.name+": "+h.evidence))
				if c.name == "HEALTHCHECK" || c.name == "ONBUILD" {
					s.add(RuleRecurringFetch, detectors.NoLayer, where, "", nil, clip(c.name+" fetches and runs code: "+h.evidence))
				}
			}
			if r := ruleByID[h.rule]; isMiningEvidence(detectors.Finding{Rule: h.rule, Weight: r.Weight}) && !contains(mined, h.rule) &&
				s.d.opts.signalOn(r.Signal) && (!s.d.opts.sampleBlind || blindKeeps(h.rule, h.evidence)) {
				mined = append(mined, h.rule)
			}
		}
		if len(mined) > 0 {
			sort.Strings(mined)
			s.add(RuleStartGraphMining, detectors.NoLayer, where, "", nil, clip(c.name+" (config) carries "+strings.Join(mined, ", ")))
			if (contains(mined, RulePoolDomain) || contains(mined, RuleStratumURL)) && argvRuns(argv, relayPrograms) {
				s.add(RulePoolRelay, detectors.NoLayer, where, "", nil, clip(c.name+" relays to a mining pool: "+strings.Join(argv, " ")))
			}
		}
	}
}

// configField names the config field a command comes from.
func configField(name string) string {
	switch name {
	case "ENTRYPOINT":
		return "Entrypoint"
	case "CMD":
		return "Cmd"
	case "HEALTHCHECK":
		return "Healthcheck"
	case "ONBUILD":
		return "OnBuild"
	}
	return name
}

// reachOf says where a finding lies: on the start graph, in a data file,
// or neither.
func (s *scan) reachOf(p pending) string {
	if strings.HasPrefix(p.f.Path, "config:") {
		return detectors.ReachStartGraph
	}
	if p.entry == nil {
		return ""
	}
	if s.graph.has(p.entry) {
		return detectors.ReachStartGraph
	}
	switch p.f.Rule {
	case RuleBrowserMiner, RuleWASMMiner, RuleMinerDependency, RuleNotScanned, RuleArchiveNotScanned, RuleAnalysisBounded, RuleScriptTooLarge:
		return ""
	}
	if p.entry.Type == layers.TypeFile && !p.entry.Executable() && isDataPath(p.entry.Path) {
		return detectors.ReachData
	}
	return ""
}

// Programs whose presence on the start graph makes served or relayed
// content count: web servers serve their web roots, proxies forward to
// the endpoints in their configuration.
var (
	webServers    = map[string]bool{"nginx": true, "apache2": true, "httpd": true, "lighttpd": true, "caddy": true, "apache2ctl": true, "apache2-foreground": true}
	proxyPrograms = map[string]bool{"nginx": true, "haproxy": true}
	relayPrograms = map[string]bool{"socat": true}
	webRoots      = []string{"var/www/", "usr/share/nginx/html/", "srv/", "usr/local/apache2/htdocs/", "var/lib/nginx/html/", "usr/share/caddy/"}
	// The Debian packages' configuration directories, the official haproxy
	// image's (/usr/local/etc/haproxy) and nginx built from source
	// (/usr/local/nginx/conf).
	proxyConfigDir = []string{"etc/nginx/", "etc/haproxy/", "usr/local/etc/haproxy/", "usr/local/nginx/conf/", "usr/local/etc/nginx/"}
)

// argvRuns reports whether a command line runs one of the programs, also
// through sh -c.
func argvRuns(argv []string, progs map[string]bool) bool {
	for _, c := range argvScript(argv).cmds {
		if eff, _ := effective(c.argv); len(eff) > 0 && progs[progName(eff[0])] {
			return true
		}
	}
	return false
}

// graphRuns reports whether the start graph runs one of the programs: a
// program file on it or a config command.
func (s *scan) graphRuns(g *startGraph, cfg v1.Config, progs map[string]bool) bool {
	for _, e := range g.order {
		if progs[path.Base(e.Path)] {
			return true
		}
	}
	for _, c := range configCommands(cfg) {
		if argvRuns(c.argv, progs) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(p string, prefixes []string) bool {
	for _, x := range prefixes {
		if strings.HasPrefix(p, x) {
			return true
		}
	}
	return false
}

// scanServedAndRelayed adds served-web-miner (a browser miner in a web
// root the image's web server serves) and pool-relay (a pool endpoint in
// the configuration of a proxy the image runs).
func (s *scan) scanServedAndRelayed(g *startGraph, cfg v1.Config) {
	web, proxy := s.graphRuns(g, cfg, webServers), s.graphRuns(g, cfg, proxyPrograms)
	if !web && !proxy {
		return
	}
	for _, p := range s.findings {
		if p.entry == nil {
			continue
		}
		switch {
		case web && (p.f.Rule == RuleBrowserMiner || p.f.Rule == RuleWASMMiner) && hasAnyPrefix(p.entry.Path, webRoots):
			s.add(RuleServedWebMiner, p.entry.Layer, p.entry.Path, "", p.entry, clip("the image's web server serves /"+p.entry.Path+": "+p.f.Evidence))
		case proxy && (p.f.Rule == RulePoolDomain || p.f.Rule == RuleStratumURL) && hasAnyPrefix(p.entry.Path, proxyConfigDir):
			s.add(RulePoolRelay, p.entry.Layer, p.entry.Path, "", p.entry, clip("the image's proxy forwards to a mining pool: "+p.f.Evidence))
		}
	}
}
