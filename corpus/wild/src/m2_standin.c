/* m2_standin: one inert stand-in with four personalities, chosen at compile
 * time (-DM2_CPUMINER, -DM2_GETH, -DM2_P2POOL; XMRig-style by default). Each
 * personality parses the command line and configuration keys of the public
 * program it imitates, prints its usage and banner, and stops there: it
 * never hashes. The only address check, loopback_only, looks at the literal
 * text of a pool, node or stratum address; anything but 127.0.0.0/8, ::1 or
 * "localhost" is refused before any name is resolved or socket opened, and
 * even a loopback address is only reported, never dialled. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(M2_CPUMINER)
#define M2_NAME "cpuminer-multi"
#define M2_VERSION "1.3.7"
#elif defined(M2_GETH)
#define M2_NAME "Geth"
#define M2_VERSION "1.10.26-stable"
#elif defined(M2_P2POOL)
#define M2_NAME "P2Pool"
#define M2_VERSION "v3.10"
#else
#define M2_NAME "XMRig"
#define M2_VERSION "6.21.0"
#endif

/* loopback_only returns 0 when addr (scheme://host:port, host:port or
 * [v6]:port) names a loopback literal, -1 otherwise. */
static int loopback_only(const char *addr)
{
	char host[256];
	const char *s = strstr(addr, "://");
	const char *end;
	struct in_addr v4;
	struct in6_addr v6;

	s = s ? s + 3 : addr;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(end - s - 1), s + 1);
	} else {
		end = strrchr(s, ':');
		snprintf(host, sizeof host, "%.*s", end ? (int)(end - s) : (int)strlen(s), s);
	}
	if (strcmp(host, "localhost") == 0)
		return 0;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127 ? 0 : -1;
	if (inet_pton(AF_INET6, host, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6) ? 0 : -1;
	return -1;
}

static int refuse(const char *what, const char *addr)
{
	fprintf(stderr, "%s %s: %s \"%s\" is not a loopback literal; this build "
		"is an inert stand-in and does not resolve or dial it\n",
		M2_NAME, M2_VERSION, what, addr);
	return 2;
}

#if defined(M2_CPUMINER)
static const char usage[] =
	"Usage: " M2_NAME " [OPTIONS]\n"
	"Options:\n"
	"  -a, --algo=ALGO       specify the algorithm to use\n"
	"                          cryptonight  Monero\n"
	"                          scrypt       scrypt(1024, 1, 1) (default)\n"
	"                          sha256d      SHA-256d\n"
	"  -o, --url=URL         URL of mining server (stratum+tcp://host:port)\n"
	"  -O, --userpass=U:P    username:password pair for mining server\n"
	"  -u, --user=USERNAME   username for mining server\n"
	"  -p, --pass=PASSWORD   password for mining server\n"
	"  -t, --threads=N       number of miner threads (default: number of processors)\n"
	"  -B, --background      run the miner in the background\n"
	"      --no-stratum      disable X-Stratum support\n"
	"  -c, --config=FILE     load a JSON-format configuration file\n";
#define M2_POOL_FLAG "-o"
#elif defined(M2_GETH)
static const char usage[] =
	"NAME:\n   geth - the go-ethereum command line interface\n\n"
	"MINER OPTIONS:\n"
	"  --mine                         Enable mining\n"
	"  --miner.threads value          Number of CPU threads to use for mining (default: 0)\n"
	"  --miner.etherbase value        Public address for block mining rewards (default = first account)\n"
	"  --miner.extradata value        Block extra data set by the miner (default = client version)\n"
	"  --miner.gasprice value         Minimum gas price for mining a transaction\n"
	"  --miner.notify value           Comma separated HTTP URL list to notify of new work packages\n"
	"  --ethash.dagdir value          Directory to store the ethash mining DAGs\n";
#define M2_POOL_FLAG "--miner.notify"
#elif defined(M2_P2POOL)
static const char usage[] =
	"Usage: p2pool [--wallet WALLET] [--host HOST] [--rpc-port PORT] [--zmq-port PORT]\n"
	"  --wallet              Wallet address to mine to. Subaddresses and integrated addresses are not supported!\n"
	"  --host                IP address of your Monero node, default is 127.0.0.1\n"
	"  --rpc-port            monerod RPC API port number, default is 18081\n"
	"  --zmq-port            monerod ZMQ pub port number, default is 18083\n"
	"  --stratum             Comma-separated list of IP:port for stratum server to listen on\n"
	"  --p2p                 Comma-separated list of IP:port for p2p server to listen on\n"
	"  --mini                Connect to p2pool-mini sidechain\n"
	"  --data-api            Path to the p2pool JSON data (use it in tandem with an external web-server)\n";
#define M2_POOL_FLAG "--host"
#else
static const char usage[] =
	"Usage: xmrig [OPTIONS]\n\n"
	"Network:\n"
	"  -o, --url=URL                 URL of mining server\n"
	"  -a, --algo=ALGO               mining algorithm https://xmrig.com/docs/algorithms\n"
	"      --coin=COIN               specify coin instead of algorithm\n"
	"  -u, --user=USERNAME           username for mining server\n"
	"  -p, --pass=PASSWORD           password for mining server\n"
	"  -k, --keepalive               send keepalived packet for prevent timeout (needs pool support)\n"
	"      --nicehash                enable nicehash.com support\n"
	"      --tls                     enable SSL/TLS support (needs pool support)\n"
	"      --donate-level=N          donate level, default 1% (1 minute in 100 minutes)\n\n"
	"CPU backend:\n"
	"  -t, --threads=N               number of CPU threads, proper CPU affinity required for some optimizations.\n"
	"      --cpu-max-threads-hint=N  maximum CPU threads count (in percentage) hint for autoconfig\n"
	"      --randomx-1gb-pages       use 1GB hugepages for RandomX dataset (Linux only)\n"
	"      --randomx-wrmsr=N         write custom value(s) to MSR registers or disable MSR mod (-1)\n\n"
	"Options:\n"
	"  -c, --config=FILE             load a JSON-format configuration file\n"
	"  -B, --background              run the miner in the background\n";
#define M2_POOL_FLAG "-o"
#endif

int main(int argc, char **argv)
{
	const char *pool = NULL;
	int i;

	printf(" * ABOUT        %s/%s (inert stand-in, no hashing)\n", M2_NAME, M2_VERSION);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(a, M2_POOL_FLAG) == 0 && i + 1 < argc) {
			pool = argv[++i];
		} else if (strncmp(a, "--url=", 6) == 0 || strncmp(a, "--stratum=", 10) == 0) {
			pool = strchr(a, '=') + 1;
		} else if (strcmp(a, "--stratum") == 0 && i + 1 < argc) {
			pool = argv[++i];
		}
	}
	if (!pool) {
		/* The real programs fall back to config.json or their defaults;
		 * this one has nothing to fall back to. */
		fprintf(stderr, "%s: no pool given on the command line; nothing to do\n", M2_NAME);
		return 1;
	}
	if (loopback_only(pool) != 0)
		return refuse("pool", pool);
	printf(" * POOL #1      %s (loopback; stand-in stops before connecting)\n", pool);
	return 0;
}
