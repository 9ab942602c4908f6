package hierarchical

import (
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
