package hierarchical

import (
	"fmt"
	"strings"
	"testing"
)

// TestMinerCmdline: the command lines of CPU and GPU miners by their
// documented options, whatever the program is called, and the tools whose
// -o/-u/--pool/--server mean something else.
func TestMinerCmdline(t *testing.T) {
	const w = "44vjAVKLTFc7jxTv5ij1ifCv2YCFe3bpTgcRyR6uKg84iyFhrCesstmWNUppRCrxCsMorTP8QKxMrD3QfgQ41zsqMgPaXY5"
	tests := []struct {
		name, line string
		want       bool
	}{
		{"xmrig short options", "php-fpm -o pool.supportxmr.com:443 -u " + w + " -k --tls", true},
		{"cpuminer stratum url", "sysupdate -a rx/0 -o stratum+tcp://xmr.2miners.com:2222 -u " + w + " -p x", true},
		{"equals forms", "svc --url=pool.hashvault.pro:443 --user=" + w, true},
		{"pool from a variable with a miner option", "app -o $POOL -u $WALLET --coin monero", true},
		{"pool from a variable alone", "app -o $POOL -u $WALLET", false},
		{"T-Rex", "t-rex -a kawpow -o stratum+tcp://rvn.2miners.com:6060 -u RWALLETxxxxxxxxxxxxxxxxxxxxxxxxxx.rig0 -p x", true},
		{"lolMiner", "lolMiner --algo ETCHASH --pool etc.2miners.com:1010 --user 0x1111111111111111111111111111111111111111.rig", true},
		{"GMiner server and port", "miner --algo kawpow --server rvn.2miners.com --port 6060 --user RWALLET.rig", true},
		{"PhoenixMiner", "PhoenixMiner -pool ssl://eu1.ethermine.org:5555 -wal 0x1111111111111111111111111111111111111111.rig -coin etc", true},
		{"ethminer user in the URL", "ethminer -P stratum1+tcp://0x1111111111111111111111111111111111111111.rig@eth.2miners.com:2020", true},
		{"curl output and user", "curl -u user:pass -o out.bin 203.0.113.5:8080", false},
		{"ssh options", "ssh -o StrictHostKeyChecking=no -u x 203.0.113.5:22", false},
		{"a client with --server and --user", "backupctl --server backup.example.org --port 8200 --user alice", false},
		{"a tool with --pool and --user", "pgctl --pool db.example.org:6432 --user app", false},
		{"a tool with --pool, --user and --threads", "pgpool --pool db.example.org:6432 --user app --threads 4 -w 2", false},
		{"a pool name that is no address", "app --pool default --user app --worker 2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := strings.Fields(tt.line)
			if got := minerCmdline(progName(f[0]), f[1:]); got != tt.want {
				t.Errorf("minerCmdline(%q) = %v, want %v", tt.line, got, tt.want)
			}
		})
	}
}

// TestNodeConf: node configuration files with the miner switched on, and
// the same files run normally.
func TestNodeConf(t *testing.T) {
	tests := []struct {
		name, path, text string
		want             bool
	}{
		{"zcash.conf mining", "root/.zcash/zcash.conf", "rpcuser=z\ngen=1\ngenproclimit=-1\nequihashsolver=tromp\nmineraddress=t1Rx4Zf9G6T2mQq1vQ6rQmX7yDk3VbN8pJq\n", true},
		{"bitcoin.conf gen=true", "home/btc/.bitcoin/bitcoin.conf", "server=1\ngen = true # mine\n", true},
		{"bitmonero.conf start-mining", "etc/monero/bitmonero.conf", "data-dir=/data\nstart-mining=44vjAVKLTFc7jxTv5ij1ifCv2YCFe3bpTgcRyR6uKg84iyFhrCesstmWNUppRCrxCsMorTP8QKxMrD3QfgQ41zsqMgPaXY5\nmining-threads=2\n", true},
		{"regtest node", "root/.bitcoin/bitcoin.conf", "regtest=1\nserver=1\n[regtest]\nrpcport=18443\n", false},
		{"mining commented out", "root/.bitcoin/bitcoin.conf", "#gen=1\ngen=0\n", false},
		{"monerod run normally", "etc/monerod.conf", "restricted-rpc=1\nrpc-bind-ip=0.0.0.0\n", false},
		{"gen=1 in another program's config", "etc/app/app.conf", "gen=1\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, tt.path, 0o644, []byte(tt.text))
			if _, ok := hitOf(fr, RuleNodeMiningConfig); ok != tt.want {
				t.Errorf("%s fired = %v, want %v; hits %+v", RuleNodeMiningConfig, ok, tt.want, fr.hits)
			}
		})
	}
}

// TestLdSoPreload: a library listed in /etc/ld.so.preload is preloaded
// into every process (defense evasion); an empty file and the same name
// elsewhere are not.
func TestLdSoPreload(t *testing.T) {
	tests := []struct {
		path, text string
		want       bool
	}{
		{"etc/ld.so.preload", "/etc/libsystem.so\n", true},
		{"etc/ld.so.preload", "", false},
		{"usr/share/doc/x/ld.so.preload", "/etc/libsystem.so\n", false},
	}
	for _, tt := range tests {
		fr := analyzeBytes(t, tt.path, 0o644, []byte(tt.text))
		if _, ok := hitOf(fr, RuleDefenseEvasion); ok != tt.want {
			t.Errorf("%s %q: defense-evasion fired = %v, want %v", tt.path, tt.text, ok, tt.want)
		}
	}
}

// TestEscapedWebMiner: a browser-miner loader spelled in JavaScript escape
// sequences is found; escaped ordinary text and a plain loader are not
// reported as escaped.
func TestEscapedWebMiner(t *testing.T) {
	esc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
		return b.String()
	}
	tests := []struct {
		name, path, text string
		want             bool
	}{
		{"hex-escaped Coinhive loader", "var/www/html/js/jquery.min.js", `var _0x=["` + esc("new CoinHive.Anonymous('SITEKEY').start()") + `"];eval(_0x[0]);`, true},
		{"unicode-escaped loader", "srv/site/app.js", `s="` + strings.ReplaceAll(esc("https://coinhive.com/lib/coinhive.min.js"), `\x`, `\u00`) + `";`, true},
		{"escaped ordinary text", "var/www/html/i18n.js", `m="` + esc("Bienvenue sur notre site, merci de votre visite") + `";`, false},
		{"few escapes", "var/www/html/a.js", `x="\x41\x42";`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, tt.path, 0o644, []byte(tt.text))
			h, ok := hitOf(fr, RuleBrowserMiner)
			if ok != tt.want {
				t.Fatalf("browser-miner fired = %v, want %v; hits %+v", ok, tt.want, fr.hits)
			}
			if ok && !strings.Contains(h.evidence, "escaped") {
				t.Errorf("evidence %q", h.evidence)
			}
		})
	}
}
