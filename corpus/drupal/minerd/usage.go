package main

// packageVersion is what -V reports; cpuminer-multi's fork versions were
// 1.0.x and its RPC2 agent string is "cpuminer-multi/0.1".
const (
	packageName    = "cpuminer-multi"
	packageVersion = "1.0.4"
	userAgent      = "cpuminer-multi/0.1"
)

type algorithm struct {
	name, desc string
	// rpc2 marks the CryptoNight family, which uses the JSON "login" stratum
	// dialect instead of mining.subscribe/authorize.
	rpc2 bool
}

// algorithms lists what cpuminer-multi's usage text offers for -a.
var algorithms = []algorithm{
	{"scrypt", "scrypt(1024, 1, 1) (default)", false},
	{"sha256d", "SHA-256d", false},
	{"keccak", "Keccak", false},
	{"quark", "Quark", false},
	{"heavy", "Heavy", false},
	{"skein", "Skein", false},
	{"shavite3", "Shavite3", false},
	{"blake", "Blake", false},
	{"fresh", "Fresh", false},
	{"x11", "X11", false},
	{"x13", "X13", false},
	{"x14", "X14", false},
	{"x15", "X15", false},
	{"cryptonight", "CryptoNight", true},
}

func algoByName(name string) algorithm {
	for _, a := range algorithms {
		if a.name == name {
			return a
		}
	}
	return algorithm{name: name}
}

// usageText follows the layout of cpuminer-multi's --help output so the
// binary carries the same option and algorithm strings a real minerd does.
const usageText = `Usage: ` + programName + ` [OPTIONS]
Options:
  -a, --algo=ALGO       specify the algorithm to use
                          scrypt       scrypt(1024, 1, 1) (default)
                          scrypt:N     scrypt(N, 1, 1)
                          sha256d      SHA-256d
                          keccak       Keccak
                          quark        Quark
                          heavy        Heavy
                          skein        Skein
                          shavite3     Shavite3
                          blake        Blake
                          fresh        Fresh
                          x11          X11
                          x13          X13
                          x14          X14
                          x15          X15
                          cryptonight  CryptoNight
  -o, --url=URL         URL of mining server, e.g. stratum+tcp://HOST:PORT
                          or http://HOST:PORT (getwork)
  -O, --userpass=U:P    username:password pair for mining server
  -u, --user=USERNAME   username for mining server
  -p, --pass=PASSWORD   password for mining server
      --cert=FILE       certificate for mining server using SSL
  -x, --proxy=[PROTOCOL://]HOST[:PORT]  connect through a proxy
  -t, --threads=N       number of miner threads (default: number of processors)
  -r, --retries=N       number of times to retry if a network call fails
                          (default: retry indefinitely)
  -R, --retry-pause=N   time to pause between retries, in seconds (default: 30)
  -T, --timeout=N       timeout for long polling, in seconds (default: none)
  -s, --scantime=N      upper bound on time spent scanning current work when
                          long polling is unavailable, in seconds (default: 5)
      --no-longpoll     disable X-Long-Polling support
      --no-stratum      disable X-Stratum support
      --no-redirect     ignore requests to change the URL of the mining server
  -q, --quiet           disable per-thread hashmeter output
  -D, --debug           enable debug output
  -P, --protocol-dump   verbose dump of protocol-level activities
  -S, --syslog          use system log for output messages
  -B, --background      run the miner in the background
      --benchmark       run in offline benchmark mode
  -c, --config=FILE     load a JSON-format configuration file
  -V, --version         display version information and exit
  -h, --help            display this help text and exit
`

const versionText = packageName + " " + packageVersion + `
inert stand-in written for the strata corpus: loopback pools only, no real mining
built with Go; stand-in hash: SHA3-256 (crypto/sha3)
`
