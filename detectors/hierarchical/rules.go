package hierarchical

import "github.com/strata-sec/strata/detectors"

// Scoring. A rule contributes the sum of its findings' weights, capped at the
// rule's Cap, so a thousand copies of one string count once. The image is
// Malicious when the total reaches Threshold. Weights are set so that no
// single rule reaches Threshold on its own (the largest Cap is 6): every
// verdict needs two independent kinds of evidence, e.g. a miner binary and a
// pool URL, or a miner repository clone and stratum client code.
const (
	// Threshold is the default score at which an image is Malicious.
	Threshold = 10.0
	// GenericCap bounds the summed contribution of the generic rules
	// (Rule.Generic): curl|sh, base64, raw-IP downloads, chmod+exec, history
	// wiping are attacker tradecraft but also appear in benign builds, and
	// none of them says "miner". So at least Threshold-GenericCap = 4 points
	// must come from mining-specific evidence.
	GenericCap = 6.0
	// StrongWeight is the "strong" level: a finding at or above it is
	// evidence of a miner on its own (though not enough for a verdict), and a
	// layer whose capped findings reach it is blamed.
	StrongWeight = 5.0
	// SupportCap bounds the summed contribution of the support rules
	// (Rule.Support): killing other miners, hugepages/MSR tuning and
	// run-time fetch-and-execute are miner tradecraft, but incident-response
	// tools kill miners, databases tune hugepages and installers fetch code.
	SupportCap = 6.0
	// DataCap bounds what mining indicators in data files (Finding.Reach ==
	// ReachData: IDS/YARA rule sets, dashboards, documentation) contribute.
	DataCap = 3.0
)

// Context evidence (generic rules and data-file findings) never counts more
// than the mining evidence it accompanies: the context part of a score is at
// most min(GenericCap, core+support), where core is the capped sum of the
// specific rules outside data files. So a pile of curl|sh, chattr and pool
// names in an IDS rule file scores nothing on its own, and a kill list (4)
// with any amount of tradecraft stays at 8.

// Rule is one kind of evidence.
type Rule struct {
	ID       string             `json:"id"`
	Category detectors.Category `json:"category"`
	Weight   float64            `json:"weight"`
	Cap      float64            `json:"cap"`
	// Signal is the switch the rule belongs to (see AllSignals and
	// WithSignals); rules of SignalNotScanned are always on.
	Signal string `json:"signal"`
	// Generic rules are not mining-specific; together they count at most
	// GenericCap.
	Generic bool `json:"generic,omitempty"`
	// Support rules are miner tradecraft that benign tools share (killing
	// miners, hugepages, fetch-and-run); together they count at most
	// SupportCap.
	Support   bool   `json:"support,omitempty"`
	Rationale string `json:"rationale"`
	// Source names the public description of the miner characteristic.
	Source string `json:"source"`
}

// Rule IDs.
const (
	RuleMinerBinary        = "miner-binary"
	RuleEntrypointMiner    = "entrypoint-miner"
	RuleRunMiner           = "run-miner"
	RuleMinerOptions       = "miner-options"
	RuleExecAddedPath      = "exec-added-path"
	RulePersistenceMiner   = "persistence-miner"
	RulePersistenceFetch   = "persistence-download-exec"
	RuleKillCompetitors    = "kill-competitors"
	RuleDefenseEvasion     = "defense-evasion"
	RulePathEscape         = "path-escape"
	RuleStratumURL         = "stratum-url"
	RulePoolDomain         = "pool-domain"
	RuleMinerPort          = "miner-port"
	RuleMinerRepo          = "miner-repo"
	RuleRawIPDownload      = "raw-ip-download"
	RuleDocMiningReference = "doc-mining-reference"
	RuleDownloadPipeShell  = "download-pipe-shell"
	RuleBase64Exec         = "base64-exec"
	RuleBackgroundMiner    = "background-miner"
	RuleHugepagesMSR       = "hugepages-msr"
	RuleChmodExec          = "chmod-exec"
	RuleDownloadChmodExec  = "download-chmod-exec"
	RuleELFStratum         = "elf-stratum-methods"
	RuleStratumSource      = "stratum-client-code"
	RuleELFAlgorithms      = "elf-mining-algorithms"
	RuleELFMinerAgent      = "elf-miner-agent"
	RuleELFPacked          = "elf-packed"
	RuleFuzzyHash          = "fuzzy-hash-match"
	RuleMoneroWallet       = "monero-wallet"
	RuleAddedChmodStarted  = "hier-added-chmod-started"
	RuleStartedFlaggedFile = "hier-started-flagged-file"
	RuleHiddenEvidence     = "hier-hidden-evidence"
	RuleNotScanned         = "not-scanned"
	RuleScriptTooLarge     = "script-too-large"
	RuleArchiveNotScanned  = "archive-not-scanned"
	RuleAnalysisBounded    = "analysis-bounded"

	// 0.4.0
	RuleMinerCmdline     = "miner-cmdline"
	RuleNodeMining       = "node-mining-flags"
	RuleNodeMiningConfig = "node-mining-config"
	RuleMinerConfigJSON  = "miner-config-json"
	RuleMinerDependency  = "miner-dependency"
	RuleBrowserMiner     = "browser-miner"
	RuleWASMMiner        = "wasm-miner"
	RuleRuntimeFetchExec = "runtime-fetch-exec"
	RuleStartGraphMining = "startgraph-mining"
	RuleRecurringFetch   = "recurring-fetch-exec"
	RuleServedWebMiner   = "served-web-miner"
	RulePoolRelay        = "pool-relay"
	RuleStartGraphLayers = "startgraph-layers"
)

const (
	srcFalco     = "Falco rules, falcosecurity/rules rules/falco-sandbox_rules.yaml (lists miner_binaries, miner_domains, miner_ports)"
	srcCpuminer  = "pooler/cpuminer, lucasjones/cpuminer-multi and tpruvot/cpuminer-multi cpu-miner.c (usage) and util.c (stratum)"
	srcXMRig     = "xmrig/xmrig src/core/config/usage.h, src/config.json, scripts/randomx_boost.sh, scripts/enable_1gb_pages.sh"
	srcPaper     = "Ryu, J.-H. and Lee, I.-G., \"Hierarchical vulnerability detection technique robust against polymorphic Docker image attacks\" (Sungshin Women's University), Table 3 (pumevnezdiroorg/drupal)"
	srcTricks    = "public miner write-ups: Sysdig 2022 Cloud-Native Threat Report (Docker Hub mining images), Aqua Security and Trend Micro reports on Kinsing (kdevtmpfsi: kill lists, cron, curl|sh droppers); Falco rules, falcosecurity/rules rules/falco-sandbox_rules.yaml"
	srcMonero    = "Monero address format (Monero documentation: standard address 95 base58 characters starting with 4, subaddress 8, integrated address 106), public DetectXMRWallet YARA rules"
	srcImageSpec = "OCI image spec layer changesets (whiteouts); tar-slip (CVE-2019-14271 class)"
	srcAgents    = "user agents the miners build: xmrig/xmrig src/base/kernel/Platform_unix.cpp (\"%s/%s (Linux \" APP_NAME APP_VERSION, \"x86_64) libuv/%s\"); pooler/cpuminer, tpruvot/cpuminer-multi, JayDDee/cpuminer-opt, tpruvot/ccminer miner.h (USER_AGENT PACKAGE_NAME \"/\" PACKAGE_VERSION); fireice-uk/xmr-stak (\"xmr-stak/<version>\")"
	srcPacking   = "UPX ELF format (upx/upx: l_info/PackHeader magic \"UPX!\", sections UPX0/UPX1 on PE); Lyda & Hamrock, Using Entropy Analysis to Find Encrypted and Packed Malware, IEEE S&P 2007 (encrypted/packed code above ~7.2 bits/byte); System V ABI gABI, Program Header (PT_LOAD p_offset/p_filesz: the file image); PortEx wiki, Overlay (data appended after the image, a packer and dropper trait); APPNOTE.TXT 4.3.16, PyInstaller bootloader pyi_archive.h, AppImage specification (appended archives)"
	srcNodes     = "monero-project/monero src/daemon/command_line_args.h and the monerod --help text (--start-mining ADDRESS, --mining-threads N); ethereum/go-ethereum cmd/utils/flags.go (--mine, --miner.etherbase, formerly --etherbase); Bitcoin Core 0.12 and earlier (-gen, -genproclimit, removed in 0.13)"
	srcXMRigJSON = "xmrig/xmrig src/config.json and doc/CPU.md (pools[].url/user/pass, randomx, donate-level, cpu.huge-pages); public miner configs in Kinsing and TeamTNT reports (Trend Micro, Aqua Security)"
	srcPackages  = "data/miner_packages.txt: cazala/coin-hive (npm coin-hive), Sonatype's 2021 reports on PyPI cryptominer packages (maratlib, learninglib ...) and npm packages klow/klown/okhsa; Phylum on the ua-parser-js compromise (Oct 2021, miner dropped by preinstall); cryptonote-social/csminer (Go)"
	srcBrowser   = "browser cryptojacking: Coinhive's documented loader (new CoinHive.Anonymous(SITE_KEY).start()), hoshsadiq/adblock-nocoin-list and keraf/NoCoin (loader hosts and scripts); Konoth et al., MineSweeper, ACM CCS 2018 and Rüth et al., Digging into Browser-based Crypto Mining, IMC 2018 (cryptonight compiled to WebAssembly); data/browser_miners.txt"
	srcWASM      = "WebAssembly binary format (magic \\0asm, version 1); Konoth et al., MineSweeper, ACM CCS 2018 (cryptonight WASM modules identified by their hash functions)"
	srcTLSH      = "TLSH: Oliver, Cheng & Chen, TLSH - A Locality Sensitive Hash, CTC 2013 (trendmicro/tlsh, tlsh.org): distance < 40 gave 0.07% false positives; computed as github.com/glaslos/tlsh v0.3.0 does"
)

var rules = []Rule{
	// Behavior
	{ID: RuleMinerBinary, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 6, Cap: 6,
		Rationale: "an executable (or ELF, or link) named like a known miner binary (xmrig, minerd, cpuminer, ...)",
		Source:    srcFalco + "; data/miner_binaries.txt"},
	{ID: RuleEntrypointMiner, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 6, Cap: 6,
		Rationale: "ENTRYPOINT/CMD starts a known miner binary (also as the jar of java -jar or the script of python, node, perl, ruby, php)",
		Source:    srcPaper},
	{ID: RuleRunMiner, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 5, Cap: 5,
		Rationale: "a script, RUN step or service command runs a known miner binary (also as the jar of java -jar or an interpreter's script)",
		Source:    srcTricks},
	{ID: RuleMinerOptions, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 4, Cap: 4,
		Rationale: "miner-only options: -a/--algo <mining algorithm> (CPU and GPU algorithms: rx/0, cryptonight, kawpow, ethash, etchash, autolykos2, kheavyhash ...), --donate-level, --randomx-*, --max-cpu-usage, --cpu-priority with a pool, xmrig config keys",
		Source:    srcCpuminer + "; " + srcXMRig},
	{ID: RuleExecAddedPath, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 1, Cap: 2, Generic: true,
		Rationale: "executable copied by ADD/COPY into a PATH directory (weak: every tool install does this)",
		Source:    srcPaper},
	{ID: RulePersistenceMiner, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 5, Cap: 5,
		Rationale: "cron/systemd/rc.local/profile.d entry that runs a miner (miner binary, pool URL, miner options)",
		Source:    srcTricks},
	{ID: RulePersistenceFetch, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 3, Cap: 3, Generic: true,
		Rationale: "cron/systemd/rc.local/profile.d entry that downloads and executes code (curl|sh, wget+chmod+run, base64|sh)",
		Source:    srcTricks},
	{ID: RuleKillCompetitors, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 4, Cap: 4, Support: true,
		Rationale: "pkill/killall/kill or grep|kill of other miners' process names, also in loops and arrays (for p in xmrig kdevtmpfsi; do pkill -f $p; done); support: incident-response tools kill miners too",
		Source:    srcTricks},
	{ID: RuleDefenseEvasion, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 2, Cap: 3, Generic: true,
		Rationale: "history -c, unset HISTFILE, ufw disable, setenforce 0, chattr +i/-i, stopping security services, an /etc/ld.so.preload in the image or written by a script (a preloaded library hides processes: gianlucaborello/libprocesshider, as TeamTNT and Kinsing use it)",
		Source:    srcTricks},
	{ID: RulePathEscape, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 2, Cap: 2, Generic: true,
		Rationale: "tar entry whose path leaves the root (../): crafted layer",
		Source:    srcImageSpec},

	// Domain / IP
	{ID: RuleStratumURL, Category: detectors.CategoryDomainIP, Signal: SignalNetwork, Weight: 5, Cap: 5,
		Rationale: "stratum+tcp/ssl/tls or stratum2+tcp URL with a host: a mining pool endpoint",
		Source:    srcFalco + " (rule: Detect crypto miners using the Stratum protocol)"},
	{ID: RulePoolDomain, Category: detectors.CategoryDomainIP, Signal: SignalNetwork, Weight: 4, Cap: 4,
		Rationale: "host name of a known mining pool",
		Source:    srcFalco + " (miner_domains); data/pool_domains.txt"},
	{ID: RuleMinerPort, Category: detectors.CategoryDomainIP, Signal: SignalNetwork, Weight: 1, Cap: 1,
		Rationale: "miner URL argument on a common pool port (only counted in a miner context)",
		Source:    srcFalco + " (miner_ports); data/miner_ports.txt"},
	{ID: RuleMinerRepo, Category: detectors.CategoryDomainIP, Signal: SignalNetwork, Weight: 6, Cap: 6,
		Rationale: "URL of a miner source repository on a public forge (git clone, release download, .git/config), or a git clone of one from any host",
		Source:    srcPaper + "; data/miner_repos.txt"},
	{ID: RuleRawIPDownload, Category: detectors.CategoryDomainIP, Signal: SignalNetwork, Weight: 2, Cap: 2, Generic: true,
		Rationale: "download from a raw IP address URL, or a bash /dev/tcp/IP/PORT connection (weak: internal mirrors do this too; loopback is not counted)",
		Source:    srcTricks},
	{ID: RuleDocMiningReference, Category: detectors.CategoryDomainIP, Signal: SignalNetwork, Weight: 1, Cap: 1,
		Rationale: "mining indicator (pool, stratum URL, miner repo, wallet) in documentation only",
		Source:    "project choice: documentation of crypto software names pools and wallets"},

	// Shell script
	{ID: RuleDownloadPipeShell, Category: detectors.CategoryShell, Signal: SignalShell, Weight: 2, Cap: 2, Generic: true,
		Rationale: "curl/wget output (or a bash /dev/tcp connection's) piped into a shell or interpreter (weak: rustup and many installers do this)",
		Source:    srcTricks},
	{ID: RuleBase64Exec, Category: detectors.CategoryShell, Signal: SignalShell, Weight: 4, Cap: 4, Generic: true,
		Rationale: "base64-decoded text piped to or evaluated by a shell",
		Source:    srcTricks},
	{ID: RuleBackgroundMiner, Category: detectors.CategoryShell, Signal: SignalShell, Weight: 3, Cap: 3,
		Rationale: "nohup/setsid/screen/& running a miner or a command with miner options",
		Source:    srcCpuminer + " (-B/--background); " + srcTricks},
	{ID: RuleHugepagesMSR, Category: detectors.CategoryShell, Signal: SignalShell, Weight: 3, Cap: 3, Support: true,
		Rationale: "vm.nr_hugepages / modprobe msr / wrmsr tuning as in XMRig's randomx_boost.sh (support: databases use hugepages)",
		Source:    srcXMRig},
	{ID: RuleChmodExec, Category: detectors.CategoryShell, Signal: SignalShell, Weight: 1, Cap: 1, Generic: true,
		Rationale: "chmod +x of a file that the same script then executes (weak: common in installers)",
		Source:    srcTricks},
	{ID: RuleDownloadChmodExec, Category: detectors.CategoryShell, Signal: SignalShell, Weight: 3, Cap: 3, Generic: true,
		Rationale: "a file is downloaded, made executable and executed by the same script",
		Source:    srcTricks},

	// Binary
	{ID: RuleELFStratum, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 6, Cap: 6,
		Rationale: "ELF containing at least two distinct stratum / miner JSON-RPC method names: Bitcoin stratum mining.subscribe, mining.authorize, mining.submit, mining.notify, mining.set_difficulty; CryptoNote stratum login, getjob, job, submit, keepalived as whole strings, counted when the protocol's job_id and keepalived or getjob are present",
		Source:    srcCpuminer + "; " + srcXMRig + " (src/base/net/stratum/Client.cpp)"},
	{ID: RuleStratumSource, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 4, Cap: 4,
		Rationale: "source or script code containing at least two distinct stratum mining method names (counted as for elf-stratum-methods; quoted strings, and the constant pool of Java class files, whose constants are read as quoted strings): a miner's client code",
		Source:    srcCpuminer + "; " + srcXMRig},
	{ID: RuleELFAlgorithms, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 3, Cap: 3,
		Rationale: "ELF naming at least two mining algorithms (cryptonight, rx/0, cn/r, argon2/chukwa ...); weak: Monero's own daemon knows its PoW",
		Source:    srcXMRig},
	{ID: RuleELFMinerAgent, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 4, Cap: 4,
		Rationale: "ELF with a miner user agent NAME/VERSION (or NAME/%s) for XMRig, xmrig-proxy, XMRigCC, cpuminer, cpuminer-multi, cpuminer-opt, ccminer, xmr-stak, sgminer, cgminer, bfgminer, minerd, or XMRig's composed agent format (both \"%s/%s (Linux \" and \") libuv/\")",
		Source:    srcAgents},
	{ID: RuleELFPacked, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 2, Cap: 2, Generic: true,
		Rationale: "packed ELF: UPX! magic after the program headers, UPX0/UPX1 section names, executable sections or segments above 7.2 bits/byte of entropy (with or without section headers), or an overlay (bytes after the ELF image) of at least 4 KiB and half the file above 7.2 bits/byte that is not an appended zip, PyInstaller archive or AppImage squashfs; weak: benign tools are UPX-packed too",
		Source:    srcPacking},
	{ID: RuleFuzzyHash, Category: detectors.CategoryBinary, Signal: SignalHash, Weight: 6, Cap: 6,
		Rationale: "ELF or shell script whose TLSH is within distance 30 of a known sample's, or whose sha256 equals one (known samples: WithKnownSamples, e.g. learned from the first sighting with LearnKnownSamples; none by default)",
		Source:    srcTLSH},

	// Wallet
	{ID: RuleMoneroWallet, Category: detectors.CategoryWallet, Signal: SignalWallet, Weight: 3, Cap: 3,
		Rationale: "Monero address (4/8 + 94 base58 chars, or 106-char integrated address) outside documentation",
		Source:    srcMonero},

	// Hierarchy
	{ID: RuleAddedChmodStarted, Category: detectors.CategoryHierarchy, Signal: SignalHierarchy, Weight: 3, Cap: 3,
		Rationale: "file added in one layer, made executable in a later layer and started by ENTRYPOINT/CMD",
		Source:    srcPaper + " (ADD /bin/minerd, chmod 755, ENTRYPOINT)"},
	{ID: RuleStartedFlaggedFile, Category: detectors.CategoryHierarchy, Signal: SignalHierarchy, Weight: 3, Cap: 3,
		Rationale: "ENTRYPOINT/CMD starts a file that carries strong evidence, directly or through shell scripts in the image that run it (ENTRYPOINT -> /start.sh -> exec \"$BIN\"; renamed programs included)",
		Source:    "project choice: ties config evidence to the layer that supplies the program"},
	{ID: RuleHiddenEvidence, Category: detectors.CategoryHierarchy, Signal: SignalHierarchy, Weight: 2, Cap: 2,
		Rationale: "strong evidence in a file a later layer deleted (whiteout): cleanup to hide a payload",
		Source:    srcImageSpec},

	// 0.4.0: miners in general, not ELF only, and the start graph.
	{ID: RuleMinerCmdline, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 4, Cap: 4,
		Rationale: "miner command line by its short options: -o HOST:PORT (or a stratum URL) with -u USER/WALLET (a `$VAR` pool counts with -u and one more miner option: -k, --tls, --coin, -a, -p ...), whatever the program is called; curl, wget, ssh, mount, mysql and other -o/-u tools excluded; GPU miners' spellings (--pool, -pool, --server with --port, ethminer's -P scheme://WALLET@host:port; --user, --wallet, -wal) count with a stratum URL, an algorithm or coin option, or a wallet option",
		Source:    srcCpuminer + "; " + srcXMRig + "; FreeBSD minerd(1) (-o URL, -u USERNAME, -p PASSWORD, -B); the GPU miners' documented command lines: trexminer/T-Rex README, Lolliedieb/lolMiner-releases (--algo, --pool, --user), develsoftware/GMinerRelease (--algo, --server, --port, --user), PhoenixMiner's readme (-pool, -wal, -coin), ethereum-mining/ethminer (-P)"},
	{ID: RuleNodeMining, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 6, Cap: 6,
		Rationale: "blockchain node software started with its mining switched on: monerod --start-mining ADDRESS, geth --mine / --miner.etherbase, bitcoind, zcashd and other Bitcoin-derived daemons -gen, --mining-threads (a node run normally is not flagged)",
		Source:    srcNodes},
	{ID: RuleNodeMiningConfig, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 4, Cap: 4,
		Rationale: "a node's configuration file (bitcoin.conf, zcash.conf, litecoin.conf, dogecoin.conf, dash.conf, bitmonero.conf ...) with its miner switched on: gen=1 (with genproclimit, mineraddress, equihashsolver), start-mining=ADDRESS",
		Source:    srcNodes + "; Zcash documentation, zcash.conf mining options (gen, genproclimit, mineraddress, equihashsolver); monerod reads its command-line options as key=value lines from its --config-file"},
	{ID: RuleMinerConfigJSON, Category: detectors.CategoryBehavior, Signal: SignalBehavior, Weight: 5, Cap: 5,
		Rationale: "XMRig-style JSON configuration: a \"pools\" array whose entries have \"url\" and \"user\", with a miner key (\"randomx\", \"donate-level\", \"huge-pages\", \"algo\", \"coin\", \"nicehash\")",
		Source:    srcXMRigJSON},
	{ID: RuleMinerDependency, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 5, Cap: 5,
		Rationale: "dependency manifest (package.json, package-lock.json, requirements.txt, pyproject.toml, setup.py/setup.cfg, go.mod, pom.xml, META-INF/MANIFEST.MF) naming a miner library or a documented cryptojacking package",
		Source:    srcPackages},
	{ID: RuleBrowserMiner, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 5, Cap: 5,
		Rationale: "browser miner loader in a web file (.js, .html, .php ...): CoinHive.Anonymous/User, CoinImp, Crypto-Loot, JSEcoin loader calls or scripts, a cryptonight WebAssembly worker; also spelled in JavaScript escape sequences (\\xHH, \\uHHHH: a file with 16 or more is read decoded too)",
		Source:    srcBrowser},
	{ID: RuleWASMMiner, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 4, Cap: 4,
		Rationale: "WebAssembly module (\\0asm magic) naming mining hash functions (cryptonight, cn_slow_hash, randomx ...)",
		Source:    srcWASM},
	{ID: RuleRuntimeFetchExec, Category: detectors.CategoryShell, Signal: SignalStartGraph, Weight: 3, Cap: 3, Generic: true,
		Rationale: "run-time fetch-and-execute on the start graph (ENTRYPOINT/CMD, HEALTHCHECK, ONBUILD, cron, systemd, supervisord, rc/profile, and the scripts they start): the image runs code it does not contain; generic: benign installers and updaters do it",
		Source:    srcTricks},
	{ID: RuleRecurringFetch, Category: detectors.CategoryBehavior, Signal: SignalStartGraph, Weight: 5, Cap: 5,
		Rationale: "run-time fetch-and-execute started by a recurring or propagating trigger: a HEALTHCHECK, an ONBUILD trigger, or a cron entry (present, or written by a script on the start graph) that fetches from a bare IP address: the image keeps running code it does not contain, every minute or in every child image — the persistence of TeamTNT- and Kinsing-style droppers; installers fetch once at build time, and self-updating agents fetch from their vendor's host name",
		Source:    srcTricks},
	{ID: RuleServedWebMiner, Category: detectors.CategoryBehavior, Signal: SignalStartGraph, Weight: 5, Cap: 5,
		Rationale: "a browser miner loader or mining WebAssembly module in a web root (/var/www, /usr/share/nginx/html, /srv, htdocs ...) of an image whose start graph runs a web server (nginx, apache2/httpd, lighttpd, caddy): the image serves a cryptojacking page to its visitors",
		Source:    srcBrowser},
	{ID: RulePoolRelay, Category: detectors.CategoryBehavior, Signal: SignalStartGraph, Weight: 6, Cap: 6,
		Rationale: "a relay to a mining pool on the start graph: socat forwarding to a pool endpoint, or a pool endpoint in the configuration of a proxy the image runs (nginx /etc/nginx, haproxy /etc/haproxy or the official image's /usr/local/etc/haproxy, nginx built from source /usr/local/nginx/conf): a stratum proxy that hides the pool from the hosts that mine through it",
		Source:    srcTricks + "; " + srcXMRig + " (xmrig-proxy)"},
	{ID: RuleStartGraphMining, Category: detectors.CategoryHierarchy, Signal: SignalStartGraph, Weight: 3, Cap: 3,
		Rationale: "mining evidence (a specific finding of weight >= 4) on the start graph: in a config command (ENTRYPOINT/CMD, HEALTHCHECK, ONBUILD) or in a program, script, config or unpacked archive that one of them, cron, systemd, supervisord, s6/runit or rc/profile reaches (files ENTRYPOINT/CMD start through scripts are credited by hier-started-flagged-file instead)",
		Source:    "project choice: evidence in what the image runs weighs more than the same evidence in data; " + srcPaper},
	{ID: RuleStartGraphLayers, Category: detectors.CategoryHierarchy, Signal: SignalStartGraph, Weight: 2, Cap: 2,
		Rationale: "the start graph crosses layers: a file with mining evidence added by one layer is started, read or unpacked by an entry (config, script, cron, unit) that another layer added",
		Source:    srcPaper + " (minerd added in layer 9, started by the config and the layer-10 script)"},

	// Not scanned: never scored, always reported.
	{ID: RuleNotScanned, Category: detectors.CategoryNotScanned, Signal: SignalNotScanned, Weight: 0, Cap: 0,
		Rationale: "content the walker did not scan or could not verify: a limit or image budget (image bytes, entries or wall time; layer or file bytes when bounded; path length or depth; history), decision incomplete; or an integrity error (a truncated layer, a digest or diffID mismatch, missing diffIDs, an entry escaping the layer root), decision invalid",
		Source:    "project rule: never pass silently"},
	// Informational (weight 0): the literal matchers read the whole
	// content, a deeper analysis only a prefix; the verdict stays complete.
	{ID: RuleScriptTooLarge, Category: detectors.CategoryShell, Signal: SignalShell, Weight: 0, Cap: 0,
		Rationale: "informational: shell script larger than the script limit: shell structure, base64 literals and persistence analysed for its prefix only; the literal matchers read all of it",
		Source:    "project rule: never pass silently"},
	{ID: RuleArchiveNotScanned, Category: detectors.CategoryNotScanned, Signal: SignalNotScanned, Weight: 0, Cap: 0,
		Rationale: "content inside an archive or compressed file (gzip, bzip2, xz, zstd, tar, zip) left unanalysed: nesting deeper than the depth limit, the decompressed-bytes budget per file, the member limit, a zip larger than the in-memory bound, an encrypted or unsupported member, a decoder memory bound, or a corrupt or truncated stream (analysed as far as it reads)",
		Source:    "project rule: never pass silently; decompression bombs: D. Fifield, A better zip bomb, USENIX WOOT 2019"},
	{ID: RuleAnalysisBounded, Category: detectors.CategoryBinary, Signal: SignalBinary, Weight: 0, Cap: 0,
		Rationale: "informational: TLSH/sha256 digests and ELF entropy cover only the first 64 MiB of a file or member, or digests of only 256 ELF files or scripts per archive were kept; the literal matchers read all of the content",
		Source:    "project rule: bound expensive analyses, never the cheap scan"},
}

var ruleByID = func() map[string]Rule {
	m := make(map[string]Rule, len(rules))
	for _, r := range rules {
		if _, dup := m[r.ID]; dup {
			panic("hierarchical: duplicate rule " + r.ID)
		}
		m[r.ID] = r
	}
	return m
}()

// Rules returns the rule table in its documented order (grouped by category).
func Rules() []Rule { return append([]Rule(nil), rules...) }
