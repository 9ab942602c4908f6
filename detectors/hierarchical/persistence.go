package hierarchical

import (
	"path"
	"strings"
)

// persistKind says how a persistence location stores commands.
type persistKind int

const (
	persistNone       persistKind = iota
	persistSystemCron             // /etc/crontab, /etc/cron.d/*: schedule, user, command
	persistUserCron               // /var/spool/cron/**, `crontab -`: schedule, command
	persistScript                 // rc.local, init.d, cron.daily, profile.d, shell rc files
	persistUnit                   // systemd units: Exec*= lines
	persistSupervisor             // supervisord programs: command= lines
)

var shellRCFiles = map[string]bool{".bashrc": true, ".profile": true, ".bash_profile": true, ".bash_login": true, ".zshrc": true}

// persistenceKindOf classifies a normalised path (no leading "/").
func persistenceKindOf(p string) persistKind {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	dir, base := path.Split(p)
	switch {
	case p == "etc/crontab", dir == "etc/cron.d/":
		return persistSystemCron
	case strings.HasPrefix(p, "var/spool/cron/"):
		return persistUserCron
	case dir == "etc/cron.hourly/", dir == "etc/cron.daily/", dir == "etc/cron.weekly/", dir == "etc/cron.monthly/",
		p == "etc/rc.local", dir == "etc/init.d/", strings.HasPrefix(dir, "etc/rc") && strings.HasSuffix(dir, ".d/"),
		dir == "etc/profile.d/", p == "etc/profile", p == "etc/bash.bashrc", p == "etc/bashrc", shellRCFiles[base],
		isServiceRunFile(p):
		return persistScript
	case p == "etc/supervisord.conf", p == "etc/supervisor/supervisord.conf",
		(dir == "etc/supervisor/conf.d/" || dir == "etc/supervisord.d/") && (strings.HasSuffix(base, ".conf") || strings.HasSuffix(base, ".ini")):
		return persistSupervisor
	case (strings.HasPrefix(p, "etc/systemd/") || strings.HasPrefix(p, "lib/systemd/") || strings.HasPrefix(p, "usr/lib/systemd/")) &&
		strings.HasSuffix(base, ".service"):
		return persistUnit
	}
	return persistNone
}

// isServiceRunFile: s6 (s6-overlay v2 etc/services.d/NAME/run, v3
// etc/s6-overlay/s6-rc.d/NAME/run) and runit (etc/service/NAME/run,
// etc/sv/NAME/run) start a service by running its run file.
func isServiceRunFile(p string) bool {
	if path.Base(p) != "run" {
		return false
	}
	parent := path.Dir(path.Dir(p))
	switch parent {
	case "etc/services.d", "etc/s6-overlay/s6-rc.d", "etc/service", "etc/sv", "etc/runit/runsvdir/default":
		return true
	}
	return false
}

// persistenceCommands extracts the command lines a cron table or unit runs.
// Scripts are returned whole.
func persistenceCommands(kind persistKind, text string) []string {
	switch kind {
	case persistScript:
		return []string{text}
	case persistUnit:
		var out []string
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			k, v, ok := strings.Cut(line, "=")
			if !ok || !strings.HasPrefix(k, "Exec") {
				continue
			}
			out = append(out, strings.TrimLeft(strings.TrimSpace(v), "-@:+!"))
		}
		return out
	case persistSupervisor:
		var out []string
		for _, line := range strings.Split(text, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && strings.TrimSpace(k) == "command" {
				out = append(out, strings.TrimSpace(v))
			}
		}
		return out
	case persistSystemCron, persistUserCron:
		var out []string
		for _, line := range strings.Split(text, "\n") {
			if cmd := cronCommand(line, kind == persistSystemCron); cmd != "" {
				out = append(out, cmd)
			}
		}
		return out
	}
	return nil
}

// cronCommand returns the command of one crontab line, "" for comments and
// variable settings. A line without a schedule (text echoed into a crontab
// by a script may lack one) is taken whole.
func cronCommand(line string, userField bool) string {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return ""
	}
	fields := strings.Fields(line)
	if k, _, ok := strings.Cut(fields[0], "="); ok && !strings.ContainsAny(k, "*/ ") {
		return "" // SHELL=/bin/sh, MAILTO=root
	}
	n := 5
	switch c := fields[0][0]; {
	case c == '@':
		n = 1
	case c == '*' || c >= '0' && c <= '9':
	default:
		return line
	}
	if userField {
		n++
	}
	rest := line
	for i := 0; i < n; i++ {
		rest = strings.TrimLeft(rest, " \t")
		j := strings.IndexAny(rest, " \t")
		if j < 0 {
			return ""
		}
		rest = rest[j:]
	}
	return strings.TrimSpace(rest)
}

// persistenceHits analyses the commands of a persistence location and adds,
// per command, a persistence-miner finding when it mines, else a
// persistence-download-exec finding when it downloads and runs code.
func persistenceHits(kind persistKind, where, text string) []hit {
	var out []hit
	for _, cmd := range persistenceCommands(kind, text) {
		hits := analyzeScript(parseShell(cmd), false)
		out = append(out, hits...)
		rule, ev := "", ""
		for _, h := range hits {
			switch {
			case shellMinerContext[h.rule]:
				rule, ev = RulePersistenceMiner, h.evidence
			case downloadExecRules[h.rule] && rule == "":
				rule, ev = RulePersistenceFetch, h.evidence
			}
			if rule == RulePersistenceMiner {
				break
			}
		}
		if rule == "" {
			continue
		}
		if kind != persistScript {
			ev = cmd
		}
		out = append(out, hit{rule: rule, evidence: clip(where + ": " + ev)})
	}
	return out
}

// checkPersistenceText is used when a script writes into a persistence
// location (echo ... >> /etc/crontab); only the persistence finding is added,
// the written commands' own indicators are already on the script's line.
func checkPersistenceText(kind persistKind, target, text string, add func(rule, ev string)) {
	for _, h := range persistenceHits(kind, target, text) {
		if h.rule == RulePersistenceMiner || h.rule == RulePersistenceFetch {
			add(h.rule, h.evidence)
		}
	}
}
