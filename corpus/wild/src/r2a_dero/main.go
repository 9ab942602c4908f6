// Command r2a_dero is an inert look-alike of the two Go programs Kaspersky
// described in the 2025 Dero container campaign: "cloud", a DeroHE CLI
// miner with an encrypted built-in configuration, and "nginx", which keeps
// cloud running and checks the /usr/bin/version.dat infection marker. The
// mode is chosen by the name the program is started under.
//
// Nothing here mines or spreads: cloud never hashes and refuses every
// daemon address that is not a loopback literal before resolving or
// connecting; nginx never scans, never talks to a Docker API, and only
// starts cloud if it is not running.
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const version = "Dero HE Miner : v3.5.3-140.DEROHE.STARGATE+12092022"

// sealed is the built-in configuration, AES-CTR encrypted as the
// campaign's miner carried its wallet and daemon.
const sealed = "442c324bf281870fcc4840c0fb68aac272844e86ed9a9a38458a16f6872bc14e7a6c99715c04e09e23c4fe13ae49d3ebafb6927e00bcdd334b415c22c472bbe97a47a3c43d563cb93e849289d94a0d6bbbec451ec3e1d58dbdbc4a2dcb9d55203b3b8e7608dc0b961c498cc8d7b19746949704f6e3bb13cb2d51920b9806ca7d45745f3e7238d2fbffaf1285193438917992ee2a25bc40838a26"

type config struct {
	Wallet  string `json:"wallet"`
	Daemon  string `json:"daemon"`
	Threads int    `json:"threads"`
}

func unseal() (config, error) {
	var c config
	ct, err := hex.DecodeString(sealed)
	if err != nil {
		return c, err
	}
	b, err := aes.NewCipher([]byte("k3Xq9vR2mT7wZp4L"))
	if err != nil {
		return c, err
	}
	pt := make([]byte, len(ct))
	cipher.NewCTR(b, []byte("0a1b2c3d4e5f6g7h")).XORKeyStream(pt, ct)
	return c, json.Unmarshal(pt, &c)
}

// loopback decides from the literal host alone; nothing is resolved.
func loopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func miner(args []string) int {
	fs := flag.NewFlagSet("cloud", flag.ContinueOnError)
	wallet := fs.String("wallet-address", "", "wallet of miner, rewards will be sent to this address")
	daemon := fs.String("daemon-rpc-address", "", "daemon to connect (host:port)")
	threads := fs.Int("mining-threads", 0, "number of threads to use for mining")
	testnet := fs.Bool("testnet", false, "use testnet")
	_ = testnet
	if err := fs.Parse(args); err != nil {
		return 1
	}
	fmt.Println(version)
	if *wallet == "" || *daemon == "" {
		c, err := unseal()
		if err != nil {
			fmt.Fprintln(os.Stderr, "config:", err)
			return 1
		}
		*wallet, *daemon = c.Wallet, c.Daemon
		if *threads == 0 {
			*threads = c.Threads
		}
	}
	fmt.Printf("Mining to wallet %s with %d threads (0 = all)\n", *wallet, *threads)
	if !loopback(*daemon) {
		fmt.Fprintf(os.Stderr, "daemon %q is not a loopback literal; this inert look-alike refuses it (nothing resolved, nothing connected)\n", *daemon)
		return 2
	}
	conn, err := net.DialTimeout("tcp", *daemon, 5*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loopback daemon not reachable:", err)
		return 1
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /ws/%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", *wallet, *daemon)
	fmt.Println("getwork request sent; this look-alike has no hashing code and stops here")
	return 0
}

func running(name string) bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err == nil && strings.TrimSpace(string(b)) == name {
			return true
		}
	}
	return false
}

func keeper() int {
	b, err := os.ReadFile("/usr/bin/version.dat")
	if err != nil || strings.TrimSpace(string(b)) != "1.4" {
		_ = os.WriteFile("/usr/bin/version.dat", []byte("1.4\n"), 0o644)
	}
	for i := 0; i < 3; i++ {
		if !running("cloud") {
			cmd := exec.Command("/usr/bin/cloud")
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Start(); err == nil {
				go cmd.Wait()
			}
		}
		time.Sleep(2 * time.Second)
	}
	return 0
}

func main() {
	switch filepath.Base(os.Args[0]) {
	case "nginx":
		os.Exit(keeper())
	default:
		os.Exit(miner(os.Args[1:]))
	}
}
