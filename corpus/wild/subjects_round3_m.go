package wild

import (
	"strconv"

	"github.com/strata-sec/strata/corpus/benign"
)

// r3mMiner is the inert look-alike of src/r3m_miner.c compiled to out with
// one of its personalities: 1 XMRig, 2 xmr-stak, 3 nheqminer, 4 ethminer,
// 5 kaspaminer, 6 kaspad, 7 an Ergo node.
func r3mMiner(out string, flavor int, name, version string) Program {
	return Program{Source: "r3m_miner.c", Out: out, Defines: []string{
		"R3M_FLAVOR=" + strconv.Itoa(flavor), `R3M_NAME="` + name + `"`, `R3M_VERSION="` + version + `"`,
	}}
}

// round3Malicious returns round-3 subjects (see round3Subjects).
func round3Malicious() []Subject {
	return []Subject{
		{Name: "tor-onion-docker-init", Family: "fetch-exec", Label: Malicious, From: benign.FromDebian, Packages: []string{"tor", "curl"},
			Models: "The Tor-routed campaign against exposed Docker APIs Trend Micro reported in 2025: an image with Tor and curl whose entrypoint starts a Tor client, waits for its SOCKS port and pipes a script fetched from an onion service with curl --socks5-hostname to sh; the served stage kills rival miners and fetches a zstd-packed miner over Tor.",
			Source: "https://www.trendmicro.com/en_fi/research/25/f/tor-enabled-docker-exploit.html"},
		{Name: "entrypoint-d-typosquat", Family: "fetch-exec", Label: Malicious, From: benign.FromDebian, Packages: []string{"nginx", "curl"},
			Models: "A typosquatted look-alike of the official nginx image, as in the impersonating Docker Hub images of Sysdig's 2022 survey: the official docker-entrypoint.sh and /docker-entrypoint.d hooks plus one extra hook that downloads a miner and its config with curl at every start and runs it detached before nginx.",
			Source: "https://sysdig.com/blog/analysis-of-supply-chain-attacks-through-public-docker-images/"},
		{Name: "hostmount-chroot-worm", Family: "teamtnt-kinsing", Label: Malicious, From: benign.FromDebian,
			Models:   "A worm image run through exposed Docker APIs with the host's root mounted, as in TeamPCP's CanisterWorm: the entrypoint chroots into /host, adds an SSH key, drops the miner, its config, a systemd unit and a cron.d entry into the host, and creates the same privileged container on every Docker API it finds on port 2375 over bash's /dev/tcp.",
			Source:   "https://catscrdl.io/blog/containerescapetelemetry/teampcp",
			Programs: []Program{r3mMiner("payload/ksoftirqd", 1, "ksoftirqd", "6.20.0")}},
		{Name: "kube-controller-rbac-buster", Family: "renamed-packed", Label: Malicious, From: benign.FromDebian,
			Models:   "The RBAC Buster campaign's image (kubernetesio/kube-controller:1.0.1, Aqua Nautilus 2023): a miner named kube-controller started by its ENTRYPOINT with an XMRig config under /etc/kubernetes, shipping the attacker's kube-controller ClusterRole, ClusterRoleBinding and kube-system DaemonSet manifests.",
			Source:   "https://blog.aquasec.com/leveraging-kubernetes-rbac-to-backdoor-clusters",
			Programs: []Program{r3mMiner("kube-controller", 1, "kube-controller", "6.19.2")}},
		{Name: "ldso-noexec-library", Family: "renamed-packed", Label: Malicious, From: benign.FromDebian,
			Models:   "A miner kept under a shared-library name with no execute bit (/usr/lib/x86_64-linux-gnu/libnss_compat.so.3, mode 0644) and started through the dynamic loader as ld.so(8) allows (ld-linux-x86-64.so.2 PROGRAM ARGS), with its XMRig config among glibc's gconv files.",
			Source:   "https://man7.org/linux/man-pages/man8/ld.so.8.html",
			Programs: []Program{r3mMiner("libnss_compat.so.3", 1, "xmrig", "6.21.1")}},
		{Name: "xmrstak-cli-opts", Family: "short-options", Label: Malicious, From: benign.FromDebian,
			Models:   "An xmr-stak 2.x CPU miner image of the 2018 Docker Hub kind: the binary and its cpu.txt under /opt/xmr-stak/bin and a shell-form CMD running it under nice with xmr-stak's own options (--currency monero7 -o xmr.crypto-pool.fr:3333 -u WALLET -p docker --noAMD --noNVIDIA -i 0 --noTest).",
			Source:   "https://github.com/fireice-uk/xmr-stak",
			Programs: []Program{r3mMiner("xmr-stak", 2, "xmr-stak", "2.10.8")}},
		{Name: "nheqminer-zec-short", Family: "short-options", Label: Malicious, From: benign.FromDebian,
			Models:   "A Zcash miner image on NiceHash's nheqminer: exec-form ENTRYPOINT nheqminer with a CMD of its single-dash options (-l eu1-zcash.flypool.org:3333 -u T_ADDRESS.worker -t 2 -d 5), run as an unprivileged user with NVIDIA_VISIBLE_DEVICES set.",
			Source:   "https://github.com/nicehash/nheqminer",
			Programs: []Program{r3mMiner("nheqminer", 3, "nheqminer", "0.8.2")}},
		{Name: "xmrig-api-remote-config", Family: "runtime-config", Label: Malicious, From: benign.FromDebian,
			Models:   "A miner image with an empty pool list that is configured remotely through XMRig's HTTP API: started with --http-host=0.0.0.0, an access token and --http-no-restricted, so an operator panel can PUT /1/config with pools and wallet at run time (the served config and push script show that side).",
			Source:   "https://xmrig.com/docs/miner/api",
			Programs: []Program{r3mMiner("statd", 1, "statd", "6.21.3")}},
		{Name: "deb-postinst-dropper", Family: "archived-payload", Label: Malicious, From: benign.FromDebian,
			Models:   "A miner shipped as a Debian package in the apt cache: a build stage makes timesync-helper_1.2-1_amd64.deb with dpkg-deb (miner, config and a postinst maintainer script that starts it), the final image keeps only the .deb, and the entrypoint dpkg -i's it at every start so postinst launches the miner.",
			Source:   "https://www.debian.org/doc/debian-policy/ch-maintainerscripts.html",
			Programs: []Program{r3mMiner("pkg/usr/lib/timesync-helper/timesync-helper", 1, "timesync-helper", "6.18.1")}},
		{Name: "makeself-run-installer", Family: "archived-payload", Label: Malicious, From: benign.FromDebian, Packages: []string{"makeself"},
			Models:   "A miner delivered as a makeself self-extracting installer (a shell header and a gzip'd tar of miner, config and setup.sh) built in a build stage; the final image keeps only monitoring-agent-installer.run and the entrypoint runs it with --quiet --target /tmp/.ma so setup.sh starts the miner.",
			Source:   "https://github.com/megastep/makeself",
			Programs: []Program{r3mMiner("payload/ma-agent", 1, "ma-agent", "6.20.0")}},
		{Name: "jupyter-ipython-startup", Family: "python-miner", Label: Malicious, From: benign.FromDebian, Packages: []string{"ipython3"},
			Models:   "The persistence a Qubitstrike-style intrusion into an exposed notebook server leaves: an IPython profile startup file (profile_default/startup/00-kernel-telemetry.py), run in every IPython session and kernel, that starts a miner hidden as a Jupyter runtime helper in a new session with its pool on the command line.",
			Source:   "https://www.darktrace.com/fr/blog/qubitstrike-an-emerging-malware-campaign-targeting-jupyter-notebooks",
			Programs: []Program{r3mMiner("kernel-helper", 1, "xmrig", "6.21.0")}},
		{Name: "site-pth-autostart", Family: "python-miner", Label: Malicious, From: benign.FromDebian, Packages: []string{"python3-minimal"},
			Models: "A Python report job whose dist-packages holds a .pth file with an import line, which site.py executes at every interpreter start: the imported module forks, once per container, a detached pure-Python stratum client (login/job/submit) to a Monero pool, so any python3 run in the image starts it.",
			Source: "https://docs.python.org/3/library/site.html"},
		{Name: "migo-redis-dropper", Family: "go-miner", Label: Malicious, From: benign.FromDebian, Packages: []string{"redis-server"},
			Models:   "A Redis image after a Migo-style compromise (Cado Security, 2024): protected mode off, and a static Go dropper under a Redis-tool name started in the background by the entrypoint, carrying the XMRig release URL it fetches, its built-in pools and wallet, a systemd service and timer, and SELinux, hugepages, ld.so.preload and rival-kill steps.",
			Source:   "https://www.cadosecurity.com/blog/migo-a-redis-miner-with-novel-system-weakening-techniques",
			Programs: []Program{{Source: "r3m_migo", Out: "redis-check-aux"}}},
		{Name: "ergo-node-solo-mining", Family: "node-solo-mining", Label: Malicious, From: benign.FromDebian,
			Models:   "An Ergo full node set to mine with its own CPU miner as Ergo's docs describe solo mining: ergo.conf with node.mining = true, useExternalMiner = false, internalMinersCount and a hard-coded miningPubKeyHex, started with --mainnet -c; the node is an inert stand-in.",
			Source:   "https://docs.ergoplatform.com/mining/setup/solo-node",
			Programs: []Program{r3mMiner("ergo-node", 7, "ergo", "5.0.22")}},
		{Name: "kaspad-kaspaminer-solo", Family: "node-solo-mining", Label: Malicious, From: benign.FromDebian,
			Models: "A Kaspa node-and-miner image from kaspad's tools: start.sh runs kaspad with --utxoindex and loopback RPC, then kaspaminer against it with a hard-coded --mining-address and --mine-when-not-synced, mining solo to the operator's address; both are inert stand-ins.",
			Source: "https://github.com/kaspanet/kaspad",
			Programs: []Program{
				r3mMiner("bin/kaspad", 6, "kaspad", "0.12.17"),
				r3mMiner("bin/kaspaminer", 5, "kaspaminer", "0.12.17"),
			}},
		{Name: "stunnel-stratum-wrapper", Family: "stratum-proxy", Label: Malicious, From: benign.FromDebian, Packages: []string{"stunnel4"},
			Models:   "A miner that only talks to 127.0.0.1:3333, where Debian's stunnel in client mode accepts and carries the stratum session over TLS to the real pool (connect, sni, verifyChain = no), keeping the pool name off the miner's command line and the stratum traffic encrypted.",
			Source:   "https://www.stunnel.org/static/stunnel.html",
			Programs: []Program{r3mMiner("logrotate-worker", 1, "logrotate-worker", "6.21.2")}},
		{Name: "xmr-node-proxy-farm", Family: "stratum-proxy", Label: Malicious, From: benign.FromDebian, Packages: []string{"nodejs"},
			Models: "A mining proxy in the layout of Snipa22's xmr-node-proxy (Node.js proxy.js, lib/, config.json) set up as the hub of a cryptojacking farm: listening ports for compromised workers and upstream pools over TLS under one wallet; proxy.js is an inert look-alike.",
			Source: "https://github.com/Snipa22/xmr-node-proxy"},
		{Name: "ethminer-uri-wallet", Family: "gpu-miner", Label: Malicious, From: benign.FromDebian,
			Models:   "An ethminer GPU image of the pre-merge kind abused on cloud GPU instances: NVIDIA container variables and a shell-form CMD running ethminer -U with two pools in its URI notation, wallet and worker inside the URL (stratum1+ssl://0xWALLET.WORKER@eu1.ethermine.org:5555, failover us1).",
			Source:   "https://github.com/ethereum-mining/ethminer",
			Programs: []Program{r3mMiner("ethminer", 4, "ethminer", "0.19.0")}},
		{Name: "xmrig-cuda-plugin", Family: "gpu-miner", Label: Malicious, From: benign.FromDebian,
			Models: "An XMRig NVIDIA image in the layout of XMRig's CUDA plugin releases: the miner with libxmrig-cuda.so beside it and a config.json with the CPU backend off and the CUDA backend on (loader, nvml) and a TLS pool, started with no arguments so it reads the config beside it.",
			Source: "https://github.com/xmrig/xmrig-cuda",
			Programs: []Program{
				r3mMiner("xmrig/xmrig", 1, "xmrig", "6.21.0"),
				{Source: "r3m_cudaplug.c", Out: "xmrig/libxmrig-cuda.so"},
			}},
		{Name: "deepminer-selfhosted", Family: "browser-cryptojacking", Label: Malicious, From: benign.FromDebian, Packages: []string{"nodejs"},
			Models: "A self-hosted browser-mining service in the layout of deepwn/deepMiner, the 2018 Coinhive replacement: a Node.js server that serves the web miner (deepMiner.js, worker.js, a WebAssembly module) and relays browsers' work to an Electroneum pool under the operator's address, and a page calling deepMiner.Init(SITE).",
			Source: "https://github.com/deepwn/deepMiner"},
	}
}
