package benign

// Images returns the corpus in a fixed order.
func Images() []Image {
	return []Image{
		{
			Name: "monero-node", From: FromDebian, Packages: []string{"monero"},
			Description: "Debian's monero package (monerod, wallet CLI/RPC); ENTRYPOINT monerod with ordinary node flags (restricted RPC, no pool, no stratum). Real binaries naming RandomX/CryptoNight and Monero's README with donation addresses.",
		},
		{
			Name: "monero-node-healthcheck", From: FromDebian, Packages: []string{"monero", "curl", "ca-certificates"},
			Description: "monero-node plus curl and a HEALTHCHECK querying the node's own RPC (curl http://127.0.0.1:18081/get_info): probes how close Debian's monero binaries sit to the threshold.",
		},
		{
			Name: "monero-wallet-rpc", From: FromDebian, Packages: []string{"monero"},
			Description: "Debian's monero package run as a wallet service: ENTRYPOINT monero-wallet-rpc against a remote node, wallet dir volume, a wallet backup script.",
		},
		{
			Name: "electrum-wallet", From: FromDebian, Packages: []string{"electrum", "python3-ecdsa"},
			Description: "Debian's Electrum Bitcoin wallet (its server protocol is called stratum; blockchain.* methods) run as an offline daemon.",
		},
		{
			Name: "crypto-signer", From: FromDebian, Packages: []string{"openssl", "libsodium23", "python3-cryptography", "python3-nacl", "python3-ecdsa"},
			Description: "Crypto libraries (libssl, libsodium, python3-cryptography, PyNaCl, python-ecdsa) and a small release-signing tool written here.",
		},
		{
			Name: "geology-webapp", From: FromDebian, Packages: []string{"python3-flask", "gunicorn"},
			Description: "Python (Flask + gunicorn) web app written here for a geological survey: modules stratum.py and mining.py, the words stratum and mining in a benign sense.",
		},
		{
			Name: "curl-sh-installer", From: FromDebian, Packages: []string{"curl", "ca-certificates"},
			Description: "rustup-shaped `curl -sSf URL | sh -s -- -y` installer (served by the loopback server) that downloads a tool, checks its sha256, chmod +x and runs it.",
		},
		{
			Name: "cron-backup", From: FromDebian, Packages: []string{"cron", "curl", "ca-certificates", "logrotate"},
			Description: "cron image: nightly tar backup with retention, a curl ping to a loopback health endpoint, logrotate config; CMD cron -f.",
		},
		{
			Name: "cloudinit-base64", From: FromDebian, Packages: []string{"ca-certificates"},
			Description: "base64 in scripts: an entrypoint decodes a base64 config blob into a file (not executed), and one RUN step pipes a base64 provisioning script to sh (cloud-init/Terraform user_data style).",
		},
		{
			Name: "restic-backup", From: FromDebian, Packages: []string{"restic", "ca-certificates"},
			Description: "Debian's restic: a 21 MB statically linked Go binary as ENTRYPOINT.",
		},
		{
			Name: "build-then-clean", From: FromDebian, Packages: []string{"gcc", "make", "libc6-dev", "curl", "ca-certificates"},
			Description: "Deleted files: a source tarball downloaded from the loopback server and compiled in one layer, sources and the compiler purged in later layers (whiteouts over binaries and scripts).",
		},
		{
			Name: "dev-busy", From: FromDebian, Packages: []string{"build-essential", "git", "cmake", "pkg-config", "python3-dev", "python3-venv", "libssl-dev", "libsodium-dev", "fsm-lite", "jq", "less", "procps", "vim-tiny", "curl", "ca-certificates"},
			Description: "Busy development image with many packages (build-essential, cmake, git, Python headers, libssl-dev, libsodium-dev) and fsm-lite, whose Debian description is \"frequency-based string mining\".",
		},
		{
			Name: "systemd-units", From: FromDebian, Packages: []string{"systemd", "systemd-sysv", "curl", "ca-certificates"},
			Description: "systemd in a container: app service, a backup service + timer, a health check unit with ExecStartPre curl; CMD /sbin/init.",
		},
		{
			Name: "nginx-hugepages", From: FromDebian, Packages: []string{"nginx", "procps"},
			Description: "nginx with hugepages tuning (vm.nr_hugepages in /etc/sysctl.d, applied by the entrypoint when allowed), as database and proxy images do.",
		},
		{
			Name: "drupal-cron", From: FromDrupal, Packages: []string{"cron", "logrotate"},
			Description: "FROM the drupal web-app image: Drupal cron via curl to the site, a files backup job pinging a loopback health endpoint, logrotate; starts cron then Apache.",
		},
		{
			Name: "drupal-composer", From: FromDrupal,
			Description: "FROM the drupal web-app image: Composer installed the documented way, `curl -sS URL/installer | php` (installer served by the loopback server).",
		},
	}
}

// CensusImages returns the census set in a fixed order: ordinary service
// and runtime images built from real Debian packages, nothing written here
// but their Dockerfiles. They are not benign controls of the payload
// experiment; the census scans them (with the benign corpus, the Debian
// base and the web-app image) to show that ordinary images never hit a
// scan limit, so that "incomplete" can fail a CI job without false alarms.
func CensusImages() []Image {
	return []Image{
		{
			Name: "census-postgres", From: FromDebian, Packages: []string{"postgresql-15"},
			Description: "PostgreSQL 15 server (postgres as CMD, PGDATA volume), as the official postgres image runs it.",
		},
		{
			Name: "census-redis", From: FromDebian, Packages: []string{"redis-server"},
			Description: "Redis server in the foreground on all interfaces, as the official redis image runs it.",
		},
		{
			Name: "census-nginx", From: FromDebian, Packages: []string{"nginx"},
			Description: "Plain nginx in the foreground, logs to stdio.",
		},
		{
			Name: "census-python", From: FromDebian, Packages: []string{"python3", "python3-pip", "python3-venv"},
			Description: "Python 3.11 runtime with pip and a virtual environment on PATH.",
		},
		{
			Name: "census-openjdk", From: FromDebian, Packages: []string{"openjdk-17-jre-headless"},
			Description: "OpenJDK 17 headless runtime: a 100+ MB jimage modules file, jars and shared libraries.",
		},
		{
			Name: "census-gcc", From: FromDebian, Packages: []string{"gcc", "g++", "make", "libc6-dev"},
			Description: "C/C++ compilers and headers; cc1plus is over 32 MiB, the old per-file limit.",
		},
	}
}
