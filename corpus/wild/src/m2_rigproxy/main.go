// Command m2_rigproxy is an inert stand-in for xmrig-proxy: it reads an
// xmrig-proxy config.json (bind, pools, mode), prints what it would do, and
// accepts miners only on loopback. Its upstream pool must be a loopback
// literal; any other upstream is refused before it is resolved or dialled.
// It forwards nothing and never hashes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

type config struct {
	Mode string `json:"mode"`
	Bind []struct {
		Host string `json:"host"`
		Port int    `json:"port"`
		TLS  bool   `json:"tls"`
	} `json:"bind"`
	Pools []struct {
		Algo string `json:"algo"`
		Coin string `json:"coin"`
		URL  string `json:"url"`
		User string `json:"user"`
		Pass string `json:"pass"`
		TLS  bool   `json:"tls"`
	} `json:"pools"`
	DonateLevel int `json:"donate-level"`
}

func main() {
	path := flag.String("c", "config.json", "load a JSON-format configuration file")
	flag.Parse()
	data, err := os.ReadFile(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "xmrig-proxy:", err)
		os.Exit(1)
	}
	var cfg config
	if err := json.Unmarshal(data, &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "xmrig-proxy: config:", err)
		os.Exit(1)
	}
	fmt.Printf(" * MODE       %s\n", cfg.Mode)
	for _, b := range cfg.Bind {
		fmt.Printf(" * BIND       %s:%d tls=%v (stand-in listens on 127.0.0.1 only)\n", b.Host, b.Port, b.TLS)
	}
	for i, p := range cfg.Pools {
		if !loopback(p.URL) {
			fmt.Fprintf(os.Stderr, " * POOL #%d    %s refused: inert stand-in, loopback upstreams only\n", i+1, p.URL)
			continue
		}
		fmt.Printf(" * POOL #%d    %s algo %s coin %s\n", i+1, p.URL, p.Algo, p.Coin)
	}
}

func loopback(url string) bool {
	if i := strings.Index(url, "://"); i >= 0 {
		url = url[i+3:]
	}
	host, _, err := net.SplitHostPort(url)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
