package hierarchical

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// command is one simple command as the detector sees it: words rendered to
// strings (quotes removed, expansions kept as written, e.g. "$(curl x)").
type command struct {
	argv       []string
	assigns    []string // NAME=value prefixes
	background bool     // cmd &
	redirs     []redirect
	heredoc    string // body of a <<EOF redirect, if any
}

type redirect struct {
	op     string // ">", ">>", "<<", ...
	target string
}

// script is a parsed shell text: every simple command in source order, and
// every pipeline of two or more stages (a stage is all commands inside it,
// so `(crontab -l; echo x) | crontab -` has a two-command first stage).
type script struct {
	cmds  []command
	pipes [][][]command
	// unparsed is shell text the parser was not given (see
	// shellNestingExceeded), with the reason.
	unparsed []unparsed
}

type unparsed struct {
	why, text string
}

// maxShellDepth bounds recursion into `sh -c STRING` and `eval STRING`.
const maxShellDepth = 3

// parseShell parses src as bash. Text that does not parse (Dockerfile
// fragments, cron lines with odd quoting, zsh) falls back to a tokenizer that
// splits on newlines, ;, &&, || and |, which is enough for the rules below.
func parseShell(src string) script { return parseShellDepth(src, 0) }

func parseShellDepth(src string, depth int) script {
	if why := shellNestingExceeded(src); why != "" {
		return script{unparsed: []unparsed{{why: why, text: src}}}
	}
	return parseBash(src, depth)
}

// parseBash parses src that passed the nesting bound.
func parseBash(src string, depth int) script {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	var sc script
	if err != nil {
		sc = fallbackParse(src)
	} else {
		consumed := map[*syntax.BinaryCmd]bool{}
		syntax.Walk(f, func(n syntax.Node) bool {
			st, ok := n.(*syntax.Stmt)
			if !ok {
				return true
			}
			switch c := st.Cmd.(type) {
			case *syntax.CallExpr:
				sc.cmds = append(sc.cmds, toCommand(src, c, st))
			case *syntax.DeclClause:
				sc.cmds = append(sc.cmds, declCommand(src, c, st))
			case *syntax.BinaryCmd:
				if (c.Op == syntax.Pipe || c.Op == syntax.PipeAll) && !consumed[c] {
					sc.pipes = append(sc.pipes, flattenPipe(src, c, consumed))
				}
			}
			return true
		})
	}
	if depth >= maxShellDepth {
		return sc
	}
	// Commands handed to another shell as a string are scripts too.
	n := len(sc.cmds)
	for i := 0; i < n; i++ {
		eff, _ := effective(sc.cmds[i].argv)
		if len(eff) == 0 {
			continue
		}
		var inner string
		switch prog := progName(eff[0]); {
		case prog == "eval":
			inner = strings.Join(eff[1:], " ")
		case shellNames[prog]:
			inner = shellCArg(eff[1:])
		}
		if inner == "" {
			continue
		}
		sub := parseShellDepth(inner, depth+1)
		sc.cmds = append(sc.cmds, sub.cmds...)
		sc.pipes = append(sc.pipes, sub.pipes...)
		sc.unparsed = append(sc.unparsed, sub.unparsed...)
	}
	return sc
}

var shellNames = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}

// shellCArg returns the script of `sh [opts] -c SCRIPT ...`, or "".
func shellCArg(args []string) string {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			return ""
		}
		if a == "-c" || (!strings.HasPrefix(a, "--") && strings.HasSuffix(a, "c")) {
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		if a == "-o" {
			// The option name follows; it is not a script.
			continue
		}
	}
	return ""
}

func flattenPipe(src string, b *syntax.BinaryCmd, consumed map[*syntax.BinaryCmd]bool) [][]command {
	consumed[b] = true
	var stages [][]command
	for _, st := range []*syntax.Stmt{b.X, b.Y} {
		if inner, ok := st.Cmd.(*syntax.BinaryCmd); ok && (inner.Op == syntax.Pipe || inner.Op == syntax.PipeAll) {
			stages = append(stages, flattenPipe(src, inner, consumed)...)
			continue
		}
		var stage []command
		syntax.Walk(st, func(n syntax.Node) bool {
			if s, ok := n.(*syntax.Stmt); ok {
				if c, ok := s.Cmd.(*syntax.CallExpr); ok {
					stage = append(stage, toCommand(src, c, s))
				}
			}
			return true
		})
		stages = append(stages, stage)
	}
	return stages
}

func toCommand(src string, c *syntax.CallExpr, st *syntax.Stmt) command {
	cmd := command{background: st.Background}
	for _, a := range c.Assigns {
		if a.Name != nil {
			cmd.assigns = append(cmd.assigns, a.Name.Value+"="+renderWord(src, a.Value))
		}
	}
	for _, w := range c.Args {
		cmd.argv = append(cmd.argv, renderWord(src, w))
	}
	addRedirs(src, &cmd, st)
	return cmd
}

func addRedirs(src string, cmd *command, st *syntax.Stmt) {
	for _, r := range st.Redirs {
		cmd.redirs = append(cmd.redirs, redirect{op: r.Op.String(), target: renderWord(src, r.Word)})
		if r.Hdoc != nil {
			cmd.heredoc += renderWord(src, r.Hdoc)
		}
	}
}

// declCommand turns `export A=b`, `declare -x A=b` into a plain command.
func declCommand(src string, d *syntax.DeclClause, st *syntax.Stmt) command {
	cmd := command{background: st.Background}
	if d.Variant != nil {
		cmd.argv = append(cmd.argv, d.Variant.Value)
	}
	for _, a := range d.Args {
		switch {
		case a.Name != nil && a.Naked:
			cmd.argv = append(cmd.argv, a.Name.Value)
		case a.Name != nil:
			cmd.argv = append(cmd.argv, a.Name.Value+"="+renderWord(src, a.Value))
		case a.Value != nil:
			cmd.argv = append(cmd.argv, renderWord(src, a.Value))
		}
	}
	addRedirs(src, &cmd, st)
	return cmd
}

func renderWord(src string, w *syntax.Word) string {
	if w == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range w.Parts {
		renderPart(&b, src, p)
	}
	return b.String()
}

// maxRenderedExpansion bounds how much of one expansion a word renders.
// Printing a node prints its whole subtree, and every command inside a
// nested "$(...)" renders the expansions around it again: 10k nested
// substitutions rendered 10k, 10k-1, ... levels (101 s, 937 MB). An
// expansion up to this size is printed as before; a larger one renders as
// the first maxRenderedExpansion bytes of its source, so a word costs at most
// that much, whatever it nests. The commands inside are analysed on their
// own either way.
const maxRenderedExpansion = 1024

func renderPart(b *strings.Builder, src string, p syntax.WordPart) {
	switch p := p.(type) {
	case *syntax.Lit:
		b.WriteString(p.Value)
	case *syntax.SglQuoted:
		b.WriteString(p.Value)
	case *syntax.DblQuoted:
		for _, q := range p.Parts {
			renderPart(b, src, q)
		}
	default:
		// Expansions keep their source form: "$(curl x)", "<(wget y)", "$HOME".
		start, end := int(p.Pos().Offset()), int(p.End().Offset())
		if end-start <= maxRenderedExpansion || start >= len(src) {
			_ = syntax.NewPrinter().Print(b, p)
			return
		}
		b.WriteString(src[start:min(start+maxRenderedExpansion, len(src))])
	}
}

var fallbackSplit = regexp.MustCompile(`&&|\|\||;|\n`)

func fallbackParse(src string) script {
	var sc script
	for _, seg := range fallbackSplit.Split(src, -1) {
		seg = strings.TrimSpace(seg)
		bg := false
		if s, ok := strings.CutSuffix(seg, "&"); ok {
			seg, bg = strings.TrimSpace(s), true
		}
		if seg == "" || strings.HasPrefix(seg, "#") {
			continue
		}
		var pipe [][]command
		for _, stage := range strings.Split(seg, "|") {
			var argv []string
			for _, f := range strings.Fields(stage) {
				argv = append(argv, strings.Trim(f, `"'()`))
			}
			if len(argv) == 0 {
				continue
			}
			c := command{argv: argv, background: bg}
			sc.cmds = append(sc.cmds, c)
			pipe = append(pipe, []command{c})
		}
		if len(pipe) > 1 {
			sc.pipes = append(sc.pipes, pipe)
		}
	}
	return sc
}

// progName is the lower-case base name of a program word ("./xmrig" ->
// "xmrig", "/usr/bin/curl" -> "curl").
func progName(word string) string {
	return strings.ToLower(path.Base(strings.Trim(word, `"'`)))
}

// wrapper describes a command that runs its arguments as another command.
type wrapper struct {
	background bool
	valueFlags string // flags that take a separate value
	skipFirst  bool   // a positional argument precedes the command (timeout 10 cmd)
}

var wrappers = map[string]wrapper{
	"nohup": {background: true}, "setsid": {background: true}, "daemonize": {background: true},
	"sudo": {valueFlags: "-u -g -C -h -p -r -t -U -D"}, "doas": {valueFlags: "-u -C"},
	"exec": {}, "command": {}, "builtin": {}, "time": {}, "stdbuf": {}, "unbuffer": {},
	"nice": {valueFlags: "-n"}, "ionice": {valueFlags: "-c -n -p"}, "chrt": {skipFirst: true},
	"taskset": {skipFirst: true}, "timeout": {valueFlags: "-s -k", skipFirst: true},
	"env": {valueFlags: "-u -C -S"}, "tini": {}, "dumb-init": {}, "catatonit": {},
	"busybox": {}, "screen": {valueFlags: "-S -c -L -t"}, "su-exec": {skipFirst: true}, "gosu": {skipFirst: true},
}

// effective strips wrappers (sudo, nohup, env A=b, screen -dmS x, tini --,
// timeout 10 ...) and reports whether one of them detaches the command.
func effective(argv []string) ([]string, bool) {
	bg := false
	for depth := 0; len(argv) > 0 && depth < 8; depth++ {
		prog := progName(argv[0])
		w, ok := wrappers[prog]
		if !ok {
			break
		}
		if w.background {
			bg = true
		}
		argv = argv[1:]
		for len(argv) > 0 {
			a := argv[0]
			if a == "--" {
				argv = argv[1:]
				break
			}
			if prog == "env" && strings.Contains(a, "=") && !strings.HasPrefix(a, "-") {
				argv = argv[1:]
				continue
			}
			if !strings.HasPrefix(a, "-") || a == "-" {
				break
			}
			if prog == "screen" && strings.Contains(a, "d") {
				bg = true
			}
			argv = argv[1:]
			if strings.Contains(" "+w.valueFlags+" ", " "+a+" ") && len(argv) > 0 {
				argv = argv[1:]
			} else if prog == "screen" && strings.HasSuffix(a, "S") && len(argv) > 0 {
				argv = argv[1:] // -dmS NAME
			}
		}
		if w.skipFirst && len(argv) > 0 {
			argv = argv[1:]
		}
	}
	return argv, bg
}

var (
	downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true, "aria2c": true, "tftp": true, "ftp": true, "lwp-download": true}
	interpreter = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true,
		"python": true, "python2": true, "python3": true, "perl": true, "ruby": true, "php": true, "node": true}
	killers        = map[string]bool{"pkill": true, "killall": true, "kill": true, "pgrep": true}
	securityUnits  = regexp.MustCompile(`(?i)^(apparmor|firewalld|ufw|auditd|selinux|aegis|aliyun\S*|cloudmonitor|qcloud\S*|yunjing\S*|falco\S*|wazuh\S*|osqueryd|crowdstrike\S*|falcon-sensor|ossec\S*)(\.service)?$`)
	chattrFlags    = regexp.MustCompile(`^[+-][aiAI]+$`)
	rawIPURL       = regexp.MustCompile(`(?i)\b(?:https?|ftp|tftp)://((?:\d{1,3}\.){3}\d{1,3})(?::\d+)?(?:/\S*)?`)
	numericExecBit = regexp.MustCompile(`^[0-7]?[0-7]{3}$`)
)

// evidenceLimit caps evidence strings so findings stay readable.
const evidenceLimit = 200

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > evidenceLimit {
		return s[:evidenceLimit] + "..."
	}
	return s
}

// shellMinerContext are the rules that mean "this command line is mining".
var shellMinerContext = map[string]bool{
	RuleRunMiner: true, RuleEntrypointMiner: true, RuleMinerOptions: true, RuleStratumURL: true,
	RulePoolDomain: true, RuleBackgroundMiner: true,
}

// downloadExecRules mean "this command line fetches and runs code".
var downloadExecRules = map[string]bool{
	RuleDownloadPipeShell: true, RuleBase64Exec: true, RuleDownloadChmodExec: true,
}

// analyzeScript applies the command, pipeline and script-wide rules. entry
// marks commands that are the container's ENTRYPOINT/CMD.
func analyzeScript(sc script, entry bool) []hit {
	var hits []hit
	add := func(rule, ev string) { hits = append(hits, hit{rule: rule, evidence: clip(ev)}) }
	for _, c := range sc.cmds {
		analyzeCommand(c, entry, add)
	}
	for _, p := range sc.pipes {
		analyzePipe(p, add)
	}
	analyzeChmodExec(sc.cmds, add)
	for _, u := range sc.unparsed {
		hits = append(hits, unparsedHits(u)...)
	}
	return hits
}

// unparsedHits reports shell text that was not parsed as not scanned, so a
// verdict over it cannot be clean, and keeps what the text rules find in it
// (stratum URLs, pool domains, miner options, repositories, wallets): they
// need no parse.
func unparsedHits(u unparsed) []hit {
	hits := []hit{{rule: RuleNotScanned, evidence: fmt.Sprintf(
		"shell text of %d bytes not parsed (%s): commands, pipelines and scripts it runs were not analysed, only text indicators; starts %q",
		len(u.text), u.why, clip(u.text[:min(len(u.text), 40)]))}}
	t := newTextScanner(false)
	t.scan([]byte(u.text), true, true)
	return append(hits, t.finish()...)
}

func analyzeCommand(c command, entry bool, add func(rule, ev string)) {
	for _, a := range c.assigns {
		if isHistoryDisable(a) {
			add(RuleDefenseEvasion, a)
		}
	}
	for _, r := range c.redirs {
		if strings.Contains(r.target, "nr_hugepages") || strings.Contains(r.target, "/sys/module/msr/parameters/allow_writes") {
			add(RuleHugepagesMSR, strings.Join(c.argv, " ")+" "+r.op+" "+r.target)
		}
	}
	eff, bg := effective(c.argv)
	if len(eff) == 0 {
		return
	}
	line := strings.Join(c.argv, " ")
	lower := strings.ToLower(line)
	prog := progName(eff[0])
	args := eff[1:]

	// Text indicators anywhere on the line: pool URLs, domains, wallets, repos.
	textHits := scanLine(line)
	for _, h := range textHits {
		add(h.rule, h.evidence)
	}
	hasStratum := false
	for _, h := range textHits {
		hasStratum = hasStratum || h.rule == RuleStratumURL
	}

	minerProg := isMinerName(prog)
	if minerProg {
		if entry {
			add(RuleEntrypointMiner, line)
		} else {
			add(RuleRunMiner, line)
		}
	}
	opts := minerOptRe.FindString(lower)
	if opts != "" {
		add(RuleMinerOptions, strings.TrimSpace(opts))
	}
	if (c.background || bg) && (minerProg || opts != "" || hasStratum) {
		add(RuleBackgroundMiner, line)
	}
	if minerProg || opts != "" || hasStratum {
		for _, u := range urlArgs(args) {
			if minerPorts[portOf(u)] {
				add(RuleMinerPort, u)
			}
		}
	}

	switch {
	case killers[prog]:
		if name := minerMention(strings.ToLower(strings.Join(args, " "))); name != "" {
			add(RuleKillCompetitors, line)
		}
	case prog == "history" && contains(args, "-c"):
		add(RuleDefenseEvasion, line)
	case prog == "ufw" && contains(args, "disable"):
		add(RuleDefenseEvasion, line)
	case prog == "setenforce" && (contains(args, "0") || strings.EqualFold(strings.Join(args, ""), "permissive")):
		add(RuleDefenseEvasion, line)
	case prog == "chattr":
		for _, a := range args {
			if chattrFlags.MatchString(a) {
				add(RuleDefenseEvasion, line)
				break
			}
		}
	case prog == "unset" && contains(args, "HISTFILE"):
		add(RuleDefenseEvasion, line)
	case prog == "export":
		for _, a := range args {
			if isHistoryDisable(a) {
				add(RuleDefenseEvasion, line)
			}
		}
	case prog == "systemctl" || prog == "service":
		stop := false
		for _, a := range args {
			stop = stop || a == "stop" || a == "disable" || a == "mask"
		}
		for _, a := range args {
			if stop && securityUnits.MatchString(a) {
				add(RuleDefenseEvasion, line)
				break
			}
		}
	case prog == "sysctl":
		if strings.Contains(lower, "vm.nr_hugepages") {
			add(RuleHugepagesMSR, line)
		}
	case prog == "modprobe":
		if contains(args, "msr") {
			add(RuleHugepagesMSR, line)
		}
	case prog == "wrmsr":
		add(RuleHugepagesMSR, line)
	}

	if downloaders[prog] || (prog == "git" && contains(args, "clone")) {
		for _, a := range args {
			if m := rawIPURL.FindStringSubmatch(a); m != nil && isIPv4(m[1]) {
				add(RuleRawIPDownload, line)
				break
			}
		}
	}
	// A clone of a miner repository from any host: mirrors, self-hosted
	// forges and raw IPs serve the same trees as github.com (the text rule
	// knows only the public forges' host names).
	if prog == "git" && contains(args, "clone") {
		for _, a := range args {
			if minerRepos[cloneRepoName(a)] {
				add(RuleMinerRepo, line)
				break
			}
		}
	}
	if interpreter[prog] || prog == "eval" || prog == "source" || prog == "." {
		joined := strings.ToLower(strings.Join(args, " "))
		if hasDownloadSubst(joined) {
			add(RuleDownloadPipeShell, line)
		}
		if strings.Contains(joined, "base64 -d") || strings.Contains(joined, "base64 --decode") || strings.Contains(joined, "base64 -D") {
			add(RuleBase64Exec, line)
		}
	}

	// Writing a cron/systemd/rc entry from a script: echo ... >> /etc/crontab,
	// cat > /etc/cron.d/x <<EOF.
	targets := c.redirs
	if prog == "tee" && c.heredoc != "" {
		for _, a := range args {
			targets = append(targets, redirect{op: ">", target: a})
		}
	}
	for _, r := range targets {
		if r.op != ">" && r.op != ">>" {
			continue
		}
		if pk := persistenceKindOf(strings.TrimPrefix(r.target, "/")); pk != persistNone {
			text := c.heredoc
			if text == "" && (prog == "echo" || prog == "printf") {
				text = strings.Join(args, " ")
			}
			checkPersistenceText(pk, r.target, text, add)
		}
	}
}

// analyzePipe applies rules that need the pipeline's structure.
func analyzePipe(stages [][]command, add func(rule, ev string)) {
	line := pipeLine(stages)
	fetch, decode, mention := -1, -1, -1
	for i, stage := range stages {
		for _, c := range stage {
			eff, _ := effective(c.argv)
			if len(eff) == 0 {
				continue
			}
			prog := progName(eff[0])
			switch {
			case downloaders[prog] && fetch < 0:
				fetch = i
			case prog == "base64" && (contains(eff[1:], "-d") || contains(eff[1:], "--decode") || contains(eff[1:], "-D")),
				prog == "openssl" && contains(eff[1:], "-d") && (contains(eff[1:], "base64") || contains(eff[1:], "-base64")):
				if decode < 0 {
					decode = i
				}
			}
			if interpreter[prog] && i > 0 {
				// Executing the output of an earlier stage.
				if fetch >= 0 && fetch < i {
					add(RuleDownloadPipeShell, line)
				}
				if decode >= 0 && decode < i && shellNames[prog] {
					add(RuleBase64Exec, line)
				}
			}
			joined := strings.ToLower(strings.Join(eff, " "))
			if mention < 0 && prog != "echo" && minerMention(strings.ToLower(strings.Join(eff[1:], " "))) != "" {
				mention = i
			}
			if mention >= 0 && mention < i && strings.Contains(joined, "kill") {
				add(RuleKillCompetitors, line)
			}
		}
	}
	// `(crontab -l; echo "* * * * * cmd") | crontab -` and `echo x | tee -a /etc/crontab`.
	last := stages[len(stages)-1]
	for _, c := range last {
		eff, _ := effective(c.argv)
		if len(eff) == 0 {
			continue
		}
		prog := progName(eff[0])
		target := ""
		kind := persistNone
		switch prog {
		case "crontab":
			target, kind = "crontab", persistUserCron
		case "tee":
			for _, a := range eff[1:] {
				if k := persistenceKindOf(strings.TrimPrefix(a, "/")); k != persistNone {
					target, kind = a, k
				}
			}
		}
		if kind == persistNone {
			continue
		}
		var texts []string
		for _, stage := range stages[:len(stages)-1] {
			for _, e := range stage {
				if len(e.argv) > 0 && (progName(e.argv[0]) == "echo" || progName(e.argv[0]) == "printf") {
					texts = append(texts, strings.Join(e.argv[1:], " "))
				}
			}
		}
		checkPersistenceText(kind, target, strings.Join(texts, "\n"), add)
	}
}

// analyzeChmodExec finds "chmod +x F ... F" and "download F, chmod +x F, run F".
func analyzeChmodExec(cmds []command, add func(rule, ev string)) {
	downloaded := map[string]bool{} // full paths and base names
	chmodded := map[string]string{} // path or base name -> chmod line
	for _, c := range cmds {
		eff, _ := effective(c.argv)
		if len(eff) == 0 {
			continue
		}
		prog := progName(eff[0])
		switch prog {
		case "curl", "wget":
			for _, t := range downloadTargets(prog, eff[1:]) {
				downloaded[t] = true
				downloaded[path.Base(t)] = true
			}
			continue
		case "chmod":
			if targets, ok := chmodExecTargets(eff[1:]); ok {
				line := strings.Join(c.argv, " ")
				for _, t := range targets {
					chmodded[t] = line
					chmodded[path.Base(t)] = line
				}
			}
			continue
		}
		run := eff[0]
		if shellNames[prog] && len(eff) > 1 && !strings.HasPrefix(eff[1], "-") {
			run = eff[1]
		}
		if run == "" || !(strings.Contains(run, "/")) {
			continue
		}
		key := run
		if _, ok := chmodded[key]; !ok {
			key = path.Base(run)
		}
		chLine, ok := chmodded[key]
		if !ok {
			continue
		}
		ev := chLine + " ; " + strings.Join(c.argv, " ")
		if downloaded[key] || downloaded[path.Base(run)] {
			add(RuleDownloadChmodExec, ev)
		} else {
			add(RuleChmodExec, ev)
		}
	}
}

func downloadTargets(prog string, args []string) []string {
	var out, urls []string
	explicit := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case prog == "curl" && (a == "-o" || a == "--output"):
			out, explicit = append(out, next()), true
		case prog == "curl" && strings.HasPrefix(a, "-o") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			out, explicit = append(out, a[2:]), true
		case prog == "wget" && (a == "-O" || a == "--output-document"):
			out, explicit = append(out, next()), true
		case prog == "wget" && strings.HasPrefix(a, "--output-document="):
			out, explicit = append(out, strings.TrimPrefix(a, "--output-document=")), true
		case prog == "wget" && strings.HasPrefix(a, "-O") && len(a) > 2:
			out, explicit = append(out, a[2:]), true
		case strings.Contains(a, "://"):
			urls = append(urls, a)
		}
	}
	if !explicit || prog == "curl" {
		// wget URL and curl -O URL save under the URL's base name.
		for _, u := range urls {
			if pu, err := url.Parse(u); err == nil && path.Base(pu.Path) != "/" && path.Base(pu.Path) != "." {
				out = append(out, path.Base(pu.Path))
			}
		}
	}
	var clean []string
	for _, o := range out {
		if o != "" && o != "-" {
			clean = append(clean, o)
		}
	}
	return clean
}

// chmodExecTargets returns the files of a chmod that sets an execute bit.
func chmodExecTargets(args []string) ([]string, bool) {
	var rest []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") && !strings.Contains(a, "x") {
			continue // -R, -v
		}
		rest = append(rest, a)
	}
	if len(rest) < 2 {
		return nil, false
	}
	mode := rest[0]
	exec := strings.Contains(mode, "+x") || strings.Contains(mode, "=x") || strings.Contains(mode, "+rx") || strings.Contains(mode, "+rwx")
	if numericExecBit.MatchString(mode) {
		v, err := strconv.ParseUint(mode, 8, 32)
		exec = err == nil && v&0o111 != 0
	}
	return rest[1:], exec
}

func pipeLine(stages [][]command) string {
	var parts []string
	for _, st := range stages {
		var cs []string
		for _, c := range st {
			cs = append(cs, strings.Join(c.argv, " "))
		}
		parts = append(parts, strings.Join(cs, "; "))
	}
	return strings.Join(parts, " | ")
}

func hasDownloadSubst(s string) bool {
	for _, p := range []string{"$(curl", "$(wget", "`curl", "`wget", "<(curl", "<(wget"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func isHistoryDisable(a string) bool {
	switch strings.ReplaceAll(a, `"`, "") {
	case "HISTFILE=/dev/null", "HISTSIZE=0", "HISTFILESIZE=0", "HISTFILE=":
		return true
	}
	return false
}

// minerMention returns the first miner name or mining keyword in s.
func minerMention(s string) string {
	for _, kw := range []string{"cryptonight", "stratum"} {
		if strings.Contains(s, kw) {
			return kw
		}
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		if isMinerName(f) {
			return f
		}
	}
	return ""
}

// urlArgs returns the values of -o/--url options.
func urlArgs(args []string) []string {
	var out []string
	for i, a := range args {
		switch {
		case (a == "-o" || a == "--url") && i+1 < len(args):
			out = append(out, args[i+1])
		case strings.HasPrefix(a, "--url="):
			out = append(out, strings.TrimPrefix(a, "--url="))
		}
	}
	return out
}

// portOf returns the port of "scheme://host:port/..." or "host:port", or 0.
func portOf(u string) int {
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	i := strings.LastIndexByte(u, ':')
	if i < 0 {
		return 0
	}
	p, err := strconv.Atoi(u[i+1:])
	if err != nil {
		return 0
	}
	return p
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cloneRepoName is the repository name a git clone argument names: the last
// path component of a URL (scheme://host/.../NAME[.git]) or of an scp-like
// address (host:owner/NAME.git), lower-cased; "" for anything else (options,
// destination directories).
func cloneRepoName(arg string) string {
	a := strings.ToLower(arg)
	switch {
	case strings.Contains(a, "://"):
		_, rest, _ := strings.Cut(a, "://")
		_, path, ok := strings.Cut(rest, "/")
		if !ok {
			return ""
		}
		a = path
	case strings.Contains(a, "@") && strings.Contains(a, ":"):
		_, a, _ = strings.Cut(a, ":")
	default:
		return ""
	}
	a = strings.TrimRight(a, "/")
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		a = a[i+1:]
	}
	return strings.TrimSuffix(a, ".git")
}
