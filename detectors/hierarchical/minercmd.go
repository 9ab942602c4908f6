package hierarchical

// Miners in general, by how they are started and configured rather than by
// name: the short options every cpuminer/XMRig-family miner shares
// (-o URL -u USER -p PASS, -k keepalive, -t threads, -a algorithm, --tls,
// --coin, -B background, --donate-level; FreeBSD minerd(1), XMRig's
// src/core/config/usage.h), node software with its built-in miner switched
// on (monerod --start-mining, geth --mine, bitcoind -gen), and XMRig's JSON
// configuration.

import (
	"regexp"
	"strings"
)

var (
	// poolAddr is the -o/--url value of a miner: host:port, with an
	// optional stratum or tcp scheme.
	poolAddr = regexp.MustCompile(`^(?:(?:stratum[12]?\+)?(?:tcp|ssl|tls)://)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9-]+:[0-9]{2,5}/?$`)
	// notMiners take -o/-u for something else (output file, user name,
	// mount options, ssh options); their -o value is never host:port
	// anyway, this keeps odd uses out.
	notMiners = map[string]bool{"curl": true, "wget": true, "ssh": true, "scp": true, "sftp": true, "rsync": true, "mount": true,
		"sshpass": true, "mysql": true, "psql": true, "sort": true, "gcc": true, "cc": true, "ld": true, "go": true, "sudo": true,
		"useradd": true, "usermod": true, "docker": true, "podman": true, "kubectl": true, "git": true, "ps": true, "crontab": true}
	// minerShortFlags are further options of the miner family.
	minerShortFlags = map[string]bool{"-k": true, "--keepalive": true, "--tls": true, "--coin": true, "-a": true, "--algo": true,
		"--donate-level": true, "-B": true, "--background": true, "--nicehash": true, "--rig-id": true, "--cpu-priority": true,
		"-t": true, "--threads": true, "-p": true, "--pass": true}
)

// minerCmdline reports whether a command line reads like a miner's: a pool
// address after -o/--url (host:port) together with -u/--user. A variable as
// the pool (-o $POOL, given at run time) counts when -u and another miner
// option (-k, --tls, --coin, -a, -p ...) are also there.
func minerCmdline(prog string, args []string) bool {
	if notMiners[prog] || interpreter[prog] {
		return false
	}
	var pool string
	user, others := false, 0
	for i, a := range args {
		val := func() string {
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		switch {
		case a == "-o" || a == "--url":
			pool = val()
		case strings.HasPrefix(a, "--url="):
			pool = strings.TrimPrefix(a, "--url=")
		case (a == "-u" || a == "--user" || a == "-O" || a == "--userpass") && val() != "":
			user = true
		case strings.HasPrefix(a, "--user="):
			user = true
		case minerShortFlags[a] || strings.HasPrefix(a, "--donate-level=") || strings.HasPrefix(a, "--coin=") || strings.HasPrefix(a, "--algo="):
			others++
		}
	}
	if pool == "" || !user {
		return false
	}
	if poolAddr.MatchString(pool) {
		return true
	}
	isVar := strings.HasPrefix(pool, "$") && !strings.ContainsAny(pool, " /")
	return isVar && others > 0
}

// nodeMining returns the mining switch of a node program's command line, "".
func nodeMining(prog string, args []string) string {
	for i, a := range args {
		switch {
		case a == "--start-mining" || strings.HasPrefix(a, "--start-mining="):
			return a // monerod
		case a == "--mining-threads" || strings.HasPrefix(a, "--mining-threads="):
			return a
		case a == "--miner.etherbase" || strings.HasPrefix(a, "--miner.etherbase=") || a == "--etherbase" || strings.HasPrefix(a, "--etherbase="):
			return a // geth
		case a == "--mine" && (prog == "geth" || prog == "bor" || prog == "parity" || i > 0):
			return a
		case (a == "-gen" || a == "-gen=1") && strings.HasSuffix(prog, "coind"):
			return a // bitcoind, litecoind ... before Bitcoin Core 0.13
		}
	}
	return ""
}

// pyFetchExec: python -c "...urlopen(...)...exec(...)" runs code it fetches.
func pyFetchExec(prog string, args []string) bool {
	if !strings.HasPrefix(prog, "python") && prog != "perl" && prog != "ruby" && prog != "node" && prog != "php" {
		return false
	}
	code := ""
	for i, a := range args {
		if (a == "-c" || a == "-e" || a == "-r") && i+1 < len(args) {
			code = strings.ToLower(args[i+1])
		}
	}
	if code == "" {
		return false
	}
	fetch := false
	for _, f := range []string{"urlopen", "urllib", "requests.get", "http.client", "lwp::simple", "net::http", "open-uri", "http.get(", "https.get(", "file_get_contents(\"http", "file_get_contents('http"} {
		fetch = fetch || strings.Contains(code, f)
	}
	run := false
	for _, f := range []string{"exec(", "eval(", "os.system", "subprocess", "system(", "child_process", "`"} {
		run = run || strings.Contains(code, f)
	}
	return fetch && run
}
