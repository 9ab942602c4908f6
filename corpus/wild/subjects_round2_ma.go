package wild

import (
	"strconv"

	"github.com/strata-sec/strata/corpus/benign"
)

// r2aMiner is the inert miner look-alike of src/r2a_miner.c compiled to out
// with one of its personalities: 1 XMRig, 2 cpuminer-opt, 3 SRBMiner-MULTI.
func r2aMiner(out string, flavor int, name, version string) Program {
	return Program{Source: "r2a_miner.c", Out: out, Defines: []string{
		"R2A_FLAVOR=" + strconv.Itoa(flavor), `R2A_NAME="` + name + `"`, `R2A_VERSION="` + version + `"`,
	}}
}

// round2MaliciousA returns round-2 subjects (see round2Subjects).
func round2MaliciousA() []Subject {
	return []Subject{
		{Name: "xmrig-home-config-supervisord", Family: "xmrig-config", Label: Malicious, From: benign.FromDebian, Packages: []string{"supervisor"},
			Models:   "XMRig's config search order (-c, config.json beside the binary, ~/.xmrig.json, ~/.config/xmrig.json): a miner under a metrics-agent name (/opt/metrics/bin/metricsd) started with no -c by a supervisord program as a service user, whose ~/.config/xmrig.json lists three failover pools, two over TLS and one pinned by tls-fingerprint.",
			Source:   "https://xmrig.com/docs/miner/config",
			Programs: []Program{r2aMiner("bin/metricsd", 1, "metricsd", "6.22.2")}},
		{Name: "cpuminer-gr-json-config", Family: "xmrig-config", Label: Malicious, From: benign.FromDebian,
			Models:   "cpuminer-gr, the Raptoreum GhostRider fork of cpuminer-opt, laid out as its Linux release: cpuminer.sh picks the binary for the CPU's instruction set and runs it with --config=config.json, a JSON config of long options (url and url-backup on flockpool over stratum+tcps, an RTM address as user, algo gr).",
			Source:   "https://github.com/WyvernTKC/cpuminer-gr-avx2",
			Programs: []Program{r2aMiner("cpuminer-gr/binaries/cpuminer-avx2", 2, "cpuminer", "1.2.4.1"), r2aMiner("cpuminer-gr/binaries/cpuminer-sse2", 2, "cpuminer", "1.2.4.1")}},
		{Name: "kswapd0-configrc-outlaw", Family: "renamed-packed", Label: Malicious, From: benign.FromDebian,
			Models:   "The Outlaw (dota) kit's home-directory layout: ~/.configrc5/a holds a miner named after the kswapd0 kernel thread with its config.json beside it (pools on bare IPs), a script that kills rival miners and a run loop that starts it as '[kswapd0]' with exec -a, the process-name faking Trend Micro reported Outlaw doing with XHide.",
			Source:   "https://forum.anomali.com/t/monero-cryptocurrency-miner-uses-17-year-old-open-source-tool/3996",
			Programs: []Program{r2aMiner("configrc/a/kswapd0", 1, "kswapd0", "6.15.2")}},
		{Name: "dero-cloud-bash-aliases", Family: "renamed-packed", Label: Malicious, From: benign.FromDebian,
			Models: "The Dero container campaign Kaspersky reported in 2025: /usr/bin/cloud, a Go DeroHE miner whose wallet and daemon are an AES-encrypted built-in config, /usr/bin/nginx, a Go keeper named after the web server that restarts cloud, the /usr/bin/version.dat marker (1.4) and a /root/.bash_aliases line that starts the keeper in every interactive shell.",
			Source: "https://securebulletin.com/dero-miner-container-infection-campaign",
			Programs: []Program{
				{Source: "r2a_dero", Out: "cloud"},
				{Source: "r2a_dero", Out: "nginx"},
			}},
		{Name: "cpuminer-rplant-short-opts", Family: "short-options", Label: Malicious, From: benign.FromDebian,
			Models:   "The cpuminer-opt-rplant release binary (cpuminer-sse42) in a cache directory, started by a shell-form CMD with cpuminer's short options as free-CI mining scripts run it: -a minotaurx -o stratum+tcp://minotaurx.eu.mine.zpool.ca:7019 -u DOGE_ADDRESS -p c=DOGE -t $(nproc) -q.",
			Source:   "https://github.com/rplant8/cpuminer-opt-rplant",
			Programs: []Program{r2aMiner("cpuminer-sse42", 2, "cpuminer", "5.0.36")}},
		{Name: "srbminer-env-compose-label", Family: "runtime-config", Label: Malicious, From: benign.FromDebian,
			Models:   "An SRBMiner-MULTI image shaped like the docker-srbminer-multi images: a start script turns ALGO, POOL_ADDRESS, WALLET_USER, WORKER, PASSWORD and EXTRAS into --algorithm/--pool/--wallet; the image's defaults leave pool and wallet empty and the compose snippet that sets them (Verus on luckpool) is published in a LABEL.",
			Source:   "https://github.com/commoodor/SRBMiner-docker",
			Programs: []Program{r2aMiner("SRBMiner-MULTI", 3, "SRBMiner-MULTI", "2.4.7")}},
		{Name: "xmrig-configmap-mount", Family: "runtime-config", Label: Malicious, From: benign.FromDebian,
			Models:   "A rootless XMRig image in the shape of rcmelendez/xmrig: no config in the image, CMD xmrig --config=/xmrig/etc/config.json with /xmrig/etc a volume filled at run time by docker run --volume or a Kubernetes ConfigMap; the example DaemonSet and ConfigMap (unMineable pool, coin:address user) ship under /xmrig/share/k8s.",
			Source:   "https://github.com/rcmelendez/xmrig-docker",
			Programs: []Program{r2aMiner("xmrig", 1, "xmrig", "6.17.0")}},
		{Name: "python-layered-urllib", Family: "fetch-exec", Label: Malicious, From: benign.FromDebian, Packages: []string{"python3"},
			Models: "The kazutod/tene image Darktrace analysed: CMD python3 ten.py, a script of forty nested exec(zlib.decompress(base64.b64decode(reversed))) layers made in a build stage, whose innermost layer fetches the next stage with urllib (no curl or wget in the image) and exec()s it; the served stage drops and starts a miner.",
			Source: "https://www.darktrace.com/ja/blog/obfuscation-overdrive-next-gen-cryptojacking-with-layers"},
		{Name: "bashrc-devtcp-fetch", Family: "fetch-exec", Label: Malicious, From: benign.FromDebian,
			Models: "The __curl function of TeamTNT-era droppers (an HTTP/1.0 GET over bash's /dev/tcp for hosts without curl or wget) appended to /etc/bash.bashrc with a line that pipes the fetched script to bash in the background, so every interactive shell in the container re-runs the dropper.",
			Source: "https://github.com/dlxj/doc/blob/4862306bb8cc574ab750a03a4193e931619240dd/lang/programming/linux/bash.md"},
		{Name: "base64-perl-stager", Family: "fetch-exec", Label: Malicious, From: benign.FromDebian,
			Models: "An ENTRYPOINT script that is one base64 blob decoded and piped to sh at every start, as 8220 Gang's droppers run theirs; the decoded stage fetches the next script with perl-base's IO::Socket::INET (no curl or wget) and pipes it to sh. The blob is encoded in a build stage so the final history shows only a COPY.",
			Source: "https://socprime.com/blog/8220-gang-crimeware-group-infects-cloud-hosts-and-operates-a-botnet-and-pwnrig-cryptocurrency-miner/"},
		{Name: "sevenzip-password-payload", Family: "archived-payload", Label: Malicious, From: benign.FromDebian, Packages: []string{"7zip"},
			Models:   "A miner and its config in a password-protected 7-Zip archive with encrypted headers (-p -mhe=on), made in a build stage and kept under a font-cache name; the entrypoint extracts it with 7zz and the password into /var/tmp/.font-unix and starts it, as the small-time miner dropper Forcepoint reported packed its files with 7-Zip and the password 'pass'.",
			Source:   "https://informationsecuritybuzz.com/forcepoint-researchers-work-identify-new-piece-malware-minature-monero-mining-botnet",
			Programs: []Program{r2aMiner("payload/fc-worker", 1, "fc-worker", "6.19.1")}},
		{Name: "split-gzip-parts", Family: "archived-payload", Label: Malicious, From: benign.FromDebian,
			Models:   "A gzip-compressed miner cut into three parts with split -n 3, kept as hidden time-zone data files (/usr/share/zoneinfo/.tzdata.00-02); the entrypoint concatenates them, gunzips the stream into /dev/shm and runs it with its pool on the command line, so no single file holds the miner or a whole gzip stream.",
			Source:   "https://www.gnu.org/software/coreutils/manual/html_node/split-invocation.html",
			Programs: []Program{r2aMiner("payload/tzd", 1, "tzd", "6.21.3")}},
		{Name: "whiteout-tail-carved", Family: "whiteout-hidden", Label: Malicious, From: benign.FromDebian,
			Models:   "A log-shipper image whose miner is added in one layer, appended to the end of a base-image file (/usr/share/common-licenses/GPL-3) in the next and deleted in a third (a whiteout); the entrypoint carves it back out with tail -c from the offset recorded at build time and runs it with an XMRig config named like a fluent-bit plugin file.",
			Source:   "https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts",
			Programs: []Program{r2aMiner("flb-out", 1, "flb-out", "6.20.0")}},
	}
}
