// Command m2_gominer is an inert stand-in for a static Go Monero miner
// (csminer-style): XMRig-style flags, a stratum JSON-RPC login/job/submit
// vocabulary, and no hashing. A pool that is not a loopback literal is
// refused before anything is resolved or dialled; a loopback pool only
// gets a login line written and the first reply printed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

type rpc struct {
	ID      int            `json:"id"`
	JSONRPC string         `json:"jsonrpc"`
	Method  string         `json:"method"`
	Params  map[string]any `json:"params"`
}

func main() {
	pool := flag.String("o", "", "URL of mining server (stratum+tcp://host:port)")
	user := flag.String("u", "", "wallet address or login")
	pass := flag.String("p", "x", "pool password / worker name")
	threads := flag.Int("t", 0, "number of mining threads (0 = all cores)")
	algo := flag.String("a", "rx/0", "algorithm: rx/0, cn/r, cn-lite/1")
	tls := flag.Bool("tls", false, "enable TLS to the pool")
	keepalive := flag.Bool("k", false, "send keepalived")
	donate := flag.Int("donate-level", 0, "donate level")
	flag.Parse()
	if *pool == "" || *user == "" {
		fmt.Fprintln(os.Stderr, "usage: -o stratum+tcp://HOST:PORT -u WALLET [-p WORKER] [-t N] [-a rx/0] [--tls] [-k]")
		os.Exit(1)
	}
	addr, err := loopback(*pool)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("go-miner: pool %s algo %s threads %d tls %v keepalive %v donate %d%%\n", addr, *algo, *threads, *tls, *keepalive, *donate)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-miner:", err)
		os.Exit(3)
	}
	defer c.Close()
	login := rpc{ID: 1, JSONRPC: "2.0", Method: "login", Params: map[string]any{
		"login": *user, "pass": *pass, "agent": "go-miner/0.4", "algo": []string{*algo}}}
	if err := json.NewEncoder(c).Encode(login); err != nil {
		fmt.Fprintln(os.Stderr, "go-miner:", err)
		os.Exit(3)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	// A real miner would now hash the job blob and send "submit"; this one
	// prints the job and stops.
	fmt.Printf("go-miner: job %s", line)
}

// loopback returns host:port from a stratum URL when the host is a loopback
// literal, and an error otherwise (no name is resolved).
func loopback(pool string) (string, error) {
	s := pool
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("go-miner: pool %q: %v", pool, err)
	}
	if host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return net.JoinHostPort(host, port), nil
	}
	return "", fmt.Errorf("go-miner: refusing pool %q: inert stand-in, loopback literals only", pool)
}
