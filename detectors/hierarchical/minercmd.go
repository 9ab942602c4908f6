package hierarchical

// Miners in general, by how they are started and configured rather than by
// name: the short options every cpuminer/XMRig-family miner shares
// (-o URL -u USER -p PASS, -k keepalive, -t threads, -a algorithm, --tls,
// --coin, -B background, --donate-level; FreeBSD minerd(1), XMRig's
// src/core/config/usage.h), node software with its built-in miner switched
// on (monerod --start-mining, geth --mine, bitcoind -gen), and XMRig's JSON
// configuration. GPU miners spell the same thing with their own options:
// T-Rex, NBMiner and TeamRedMiner take cpuminer's -a/-o/-u; lolMiner
// --algo/--pool/--user; GMiner --algo/--server/--port/--user; PhoenixMiner
// -pool/-wal; ethminer -P scheme://WALLET.WORKER@host:port (each project's
// documented command line).

import (
	"path"
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
		"-t": true, "--threads": true, "-p": true, "--pass": true, "--worker": true, "-worker": true, "-w": true, "-coin": true}
	// gpuPoolFlags name the pool in GPU miners' long spellings; they count
	// only with a stratum URL, an algorithm or coin option, or a wallet
	// option, since other tools have --pool/--server/--user too.
	gpuPoolFlags = map[string]bool{"--pool": true, "-pool": true, "--server": true, "-P": true}
	// walletFlags name the account mined for.
	walletFlags = map[string]bool{"-u": true, "--user": true, "-O": true, "--userpass": true, "--wallet": true, "-wal": true, "--wal": true}
	// poolUserURL is a pool URL that carries the account: ethminer's
	// scheme://WALLET.WORKER@host:port.
	poolUserURL = regexp.MustCompile(`^(?:stratum[12]?\+)?(?:tcp|ssl|tls)://[^@/\s]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9-]+:[0-9]{2,5}/?$`)
)

// minerCmdline reports whether a command line reads like a miner's: a pool
// address after -o/--url (host:port) together with -u/--user. A variable as
// the pool (-o $POOL, given at run time) counts when -u and another miner
// option (-k, --tls, --coin, -a, -p ...) are also there.
func minerCmdline(prog string, args []string) bool {
	if notMiners[prog] || interpreter[prog] {
		return false
	}
	var pool, server string
	user, gpuPool, port, stratumScheme := false, false, false, false
	others, mining := 0, 0 // miner options; of them, algorithm, coin or wallet options
	for i, a := range args {
		val := func() string {
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		name, inline, hasInline := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "-") {
			name, hasInline = a, false
		}
		v := val()
		if hasInline {
			v = inline
		}
		switch {
		case name == "-o" || name == "--url":
			pool = v
		case gpuPoolFlags[name] && name == "--server":
			server = v
			gpuPool = true
		case gpuPoolFlags[name]:
			pool = v
			gpuPool = true
		case name == "--port" && v != "":
			port = true
		case walletFlags[name] && v != "":
			user = true
			if strings.Contains(name, "wal") {
				mining++
			}
		case minerShortFlags[name] || name == "--donate-level":
			others++
			if name == "-a" || name == "--algo" || name == "--coin" || name == "-coin" || name == "--donate-level" {
				mining++
			}
		}
	}
	if poolUserURL.MatchString(pool) {
		user = true
	}
	if strings.Contains(pool, "stratum") {
		stratumScheme = true
	}
	hostAndPort := pool == "" && server != "" && port && hostName.MatchString(server)
	if (pool == "" && !hostAndPort) || !user {
		return false
	}
	if gpuPool && mining == 0 && !stratumScheme {
		return false
	}
	if hostAndPort || poolAddr.MatchString(pool) || poolUserURL.MatchString(pool) {
		return true
	}
	isVar := strings.HasPrefix(pool, "$") && !strings.ContainsAny(pool, " /")
	return isVar && others > 0
}

// hostName is a DNS name or IPv4 address (GMiner's --server takes the
// host alone; --port the port).
var hostName = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]+$`)

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
		case (a == "-gen" || a == "-gen=1") && (strings.HasSuffix(prog, "coind") || bitcoinDerivedDaemons[prog]):
			return a // bitcoind, litecoind, zcashd ... (Bitcoin Core before 0.13 and its forks)
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

// bitcoinDerivedDaemons are node daemons forked from Bitcoin Core that
// keep its -gen option and gen= configuration key, and whose names do not
// end in "coind".
var bitcoinDerivedDaemons = map[string]bool{"zcashd": true, "zend": true, "komodod": true, "dashd": true, "pivxd": true,
	"ravend": true, "firod": true, "zcoind": true, "verged": true, "digibyted": true, "groestlcoind": true}

// nodeConfNames are the configuration files of node daemons.
var nodeConfNames = map[string]bool{"bitcoin.conf": true, "litecoin.conf": true, "dogecoin.conf": true, "zcash.conf": true,
	"dash.conf": true, "komodo.conf": true, "zen.conf": true, "raven.conf": true, "firo.conf": true, "pivx.conf": true,
	"digibyte.conf": true, "vertcoin.conf": true, "groestlcoin.conf": true, "bitmonero.conf": true, "monerod.conf": true}

// isNodeConf: a node daemon's configuration file, by name.
func isNodeConf(p string) bool { return nodeConfNames[strings.ToLower(path.Base(p))] }

// nodeConfHits reads a node configuration (key=value lines, # comments)
// and reports its miner switched on: gen=1 / gen=true (Bitcoin and its
// forks, with genproclimit, mineraddress, equihashsolver named as
// context), or start-mining=ADDRESS (monerod's config file).
func nodeConfHits(text string) []hit {
	vals := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if i := strings.IndexByte(v, '#'); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		vals[k] = v
	}
	var on []string
	if g := strings.ToLower(vals["gen"]); g == "1" || g == "true" {
		on = append(on, "gen="+vals["gen"])
		for _, k := range []string{"genproclimit", "mineraddress", "equihashsolver"} {
			if v, ok := vals[k]; ok {
				on = append(on, k+"="+v)
			}
		}
	}
	if v := vals["start-mining"]; v != "" {
		on = append(on, "start-mining="+v)
		if t, ok := vals["mining-threads"]; ok {
			on = append(on, "mining-threads="+t)
		}
	}
	if len(on) == 0 {
		return nil
	}
	return []hit{{RuleNodeMiningConfig, clip(strings.Join(on, ", "))}}
}
