package hierarchical

// How one command line reads, whatever rule asks: the program under its
// wrappers (sudo, nohup, env, timeout ...), the files a download writes or a
// chmod makes executable, option values, ports, repository names.

import (
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
)

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
	killers        = map[string]bool{"pkill": true, "killall": true, "kill": true} // pgrep only looks: `kill $(pgrep x)` is matched by kill
	securityUnits  = regexp.MustCompile(`(?i)^(apparmor|firewalld|ufw|auditd|selinux|aegis|aliyun\S*|cloudmonitor|qcloud\S*|yunjing\S*|falco\S*|wazuh\S*|osqueryd|crowdstrike\S*|falcon-sensor|ossec\S*)(\.service)?$`)
	chattrFlags    = regexp.MustCompile(`^[+-][aiAI]+$`)
	rawIPURL       = regexp.MustCompile(`(?i)\b(?:https?|ftp|tftp)://((?:\d{1,3}\.){3}\d{1,3})(?::\d+)?(?:/\S*)?`)
	numericExecBit = regexp.MustCompile(`^[0-7]?[0-7]{3}$`)
)

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
