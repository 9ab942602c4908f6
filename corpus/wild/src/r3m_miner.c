/* r3m_miner.c: an inert look-alike of several public miners and mining
 * nodes, one personality per build (R3M_FLAVOR):
 *
 *   1 XMRig        -o/-u/-p/-k/--tls/-c/--coin and the HTTP API options
 *                  (--http-host, --http-port, --http-access-token,
 *                  --http-no-restricted), https://xmrig.com/docs/miner
 *   2 xmr-stak     -o/-u/-p/--currency/--noAMD/--noNVIDIA/-i/-c/--cpu,
 *                  pools.txt ("pool_address"), https://github.com/fireice-uk/xmr-stak
 *   3 nheqminer    -l HOST:PORT -u USER -t N -cd, https://github.com/nicehash/nheqminer
 *   4 ethminer     -P scheme://user[.worker][:pass]@host:port, -U/-G,
 *                  https://github.com/ethereum-mining/ethminer
 *   5 kaspaminer   --miningaddr/--mining-address, --rpcserver, https://github.com/kaspanet/kaspad
 *   6 kaspad       a node: --utxoindex, --rpclisten (no mining)
 *   7 ergo node    -c ergo.conf (reads node.mining, miningPubKeyHex)
 *
 * It prints the program's banner and usage, collects every pool or node
 * address from the command line and config files, and stops short of all
 * a miner does: it never hashes, and it refuses every address whose host
 * is not a loopback literal (127.0.0.0/8, ::1, localhost) before any name
 * is resolved or any socket opened. Against a loopback address it sends
 * one login line and prints the reply; that is all.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef R3M_FLAVOR
#define R3M_FLAVOR 1
#endif
#ifndef R3M_NAME
#define R3M_NAME "xmrig"
#endif
#ifndef R3M_VERSION
#define R3M_VERSION "6.21.3"
#endif

#define MAXADDR 8

static char addrs[MAXADDR][300];
static int naddr;
static char user[300] = "x";

static void usage(void)
{
#if R3M_FLAVOR == 1
	puts("Usage: " R3M_NAME " [OPTIONS]\n\nNetwork:\n"
	     "  -o, --url=URL                 URL of mining server\n"
	     "  -u, --user=USERNAME           username for mining server\n"
	     "  -p, --pass=PASSWORD           password for mining server\n"
	     "      --coin=COIN               specify coin instead of algorithm\n"
	     "  -k, --keepalive               send keepalived packet for prevent timeout\n"
	     "      --tls                     enable SSL/TLS support (needs pool support)\n"
	     "      --donate-level=N          donate level, default 1%%\n\n"
	     "API:\n"
	     "      --http-enabled            enable HTTP API\n"
	     "      --http-host=HOST          bind host for HTTP API (default: 127.0.0.1)\n"
	     "      --http-port=N             bind port for HTTP API\n"
	     "      --http-access-token=T     access token for HTTP API\n"
	     "      --http-no-restricted      enable full remote access to HTTP API (only if access token set)\n\n"
	     "CUDA backend:\n"
	     "      --cuda                    enable CUDA mining backend\n"
	     "      --cuda-loader=PATH        path to CUDA plugin (xmrig-cuda.dll or libxmrig-cuda.so)\n\n"
	     "Misc:\n"
	     "  -c, --config=FILE             load a JSON-format configuration file\n"
	     "  -B, --background              run the miner in the background\n");
#elif R3M_FLAVOR == 2
	puts("Usage: " R3M_NAME " [OPTION]...\n\n"
	     "  -h, --help                 show this help\n"
	     "  -v, --version              show version number\n"
	     "  -c, --config FILE          common miner configuration file\n"
	     "  -C, --poolconf FILE        pool configuration file\n"
	     "  --noCPU                    disable the CPU miner backend\n"
	     "  --cpu FILE                 CPU backend miner config file\n"
	     "  --noAMD                    disable the AMD miner backend\n"
	     "  --noNVIDIA                 disable the NVIDIA miner backend\n"
	     "  --currency NAME            currency to mine: monero, aeon, cryptonight_v7, ...\n"
	     "  -o, --url URL              pool url and port, e.g. pool.usxmrpool.com:3333\n"
	     "  -O, --tls-url URL          TLS pool url and port, e.g. pool.usxmrpool.com:10443\n"
	     "  -u, --user USERNAME        pool user name or wallet address\n"
	     "  -p, --pass PASSWD          pool password, in the most cases x or empty \"\"\n"
	     "  -i --httpd HTTP_PORT       HTTP interface port\n"
	     "  --noTest                   disable the self test\n");
#elif R3M_FLAVOR == 3
	puts("Parameters:\n"
	     "\t-h\t\tPrint this help and quit\n"
	     "\t-l [location]\tStratum server:port\n"
	     "\t-u [username]\tUsername (bitcoinaddress)\n"
	     "\t-a [port]\tLocal API port (default: 0 = do not bind)\n"
	     "\t-d [level]\tDebug print level (0 = print all, 5 = fatal only, default: 2)\n"
	     "\t-b [hashes]\tRun in benchmark mode (default: 200 iterations)\n\n"
	     "CPU settings\n"
	     "\t-t [num_thrds]\tNumber of CPU threads\n"
	     "\t-e [ext]\tForce CPU ext (0 = SSE2, 1 = AVX, 2 = AVX2)\n\n"
	     "NVIDIA CUDA settings\n"
	     "\t-ci\t\tCUDA info\n"
	     "\t-cd [devices]\tEnable CUDA mining on spec. devices\n"
	     "\t-cb [blocks]\tNumber of blocks\n"
	     "\t-ct [tpb]\tNumber of threads per block\n");
#elif R3M_FLAVOR == 4
	puts("Ethminer - GPU ethash miner\n"
	     "minimal usage : " R3M_NAME " [DEVICES_TYPE] [OPTIONS] -P... [-P...]\n\n"
	     "Devices type options :\n"
	     "    -G,--opencl                 Mine/Benchmark using OpenCL only\n"
	     "    -U,--cuda                   Mine/Benchmark using CUDA only\n"
	     "    -X,--cu-cl                  Mine/Benchmark using CUDA or OpenCL\n\n"
	     "Connection options :\n"
	     "    -P,--pool                   Stratum pool or http (getwork) connection as URL\n"
	     "                                scheme://[user[.workername][:password]@]hostname:port[/...]\n"
	     "    --failover-timeout          Set the amount of time in minutes to stay on a failover pool\n"
	     "    --work-timeout              Set disconnect timeout in seconds of working on the same job\n"
	     "    --report-hashrate,--HWMON   Report hashrate to pool\n"
	     "    --api-bind                  Set the API address:port the miner should listen to\n");
#elif R3M_FLAVOR == 5
	puts("Usage:\n  " R3M_NAME " [OPTIONS]\n\nApplication Options:\n"
	     "  -V, --version             Display version information and exit\n"
	     "  -C, --configfile=         Path to configuration file\n"
	     "  -b, --appdir=             Directory to store data\n"
	     "  -s, --rpcserver=          RPC server to connect to\n"
	     "      --mining-address=     Address to mine to\n"
	     "      --miningaddr=         Address to mine to (alias)\n"
	     "      --numblocks=          Number of blocks to mine. If omitted, will mine until the process is interrupted.\n"
	     "      --mine-when-not-synced  Mine even if the node is not synced with the rest of the network.\n"
	     "      --target-blocks-per-second=  Sets a maximum block rate.\n"
	     "      --testnet             Use the test network\n");
#elif R3M_FLAVOR == 6
	puts("Usage:\n  " R3M_NAME " [OPTIONS]\n\nApplication Options:\n"
	     "  -b, --appdir=             Directory to store data\n"
	     "      --rpclisten=          Add an interface/port to listen for RPC connections (default port: 16110)\n"
	     "      --utxoindex           Enable the UTXO index\n"
	     "      --allow-submit-block-when-not-synced  Allow the node to accept blocks from RPC while not synced\n"
	     "      --testnet             Use the test network\n");
#else
	puts("Usage: " R3M_NAME " [options] [<configuration file path>]\n\n"
	     "  --mainnet                Run node on mainnet\n"
	     "  --testnet                Run node on testnet\n"
	     "  -c, --config <file>      Configuration file (HOCON): ergo.node.mining, miningPubKeyHex,\n"
	     "                           useExternalMiner, internalMinersCount, scorex.restApi.apiKeyHash\n");
#endif
}

static int loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static void add(const char *a)
{
	if (naddr < MAXADDR && a && *a)
		snprintf(addrs[naddr++], sizeof(addrs[0]), "%s", a);
}

/* split "scheme://user@host:port/path" into host and port. */
static int hostport(const char *url, char *host, size_t hn, int *port)
{
	const char *p = strstr(url, "://"), *at, *colon, *end;

	p = p ? p + 3 : url;
	at = strrchr(p, '@');
	if (at)
		p = at + 1;
	end = p + strcspn(p, "/");
	if (*p == '[') {
		const char *rb = memchr(p, ']', end - p);
		if (!rb)
			return -1;
		snprintf(host, hn, "%.*s", (int)(rb - p - 1), p + 1);
		colon = rb + 1;
	} else {
		colon = memchr(p, ':', end - p);
		snprintf(host, hn, "%.*s", (int)((colon ? colon : end) - p), p);
	}
	*port = (colon && *colon == ':') ? atoi(colon + 1) : 3333;
	return 0;
}

/* collect "key": "value" or key = value pairs naming pools from a file */
static void readconf(const char *path)
{
	static const char *const keys[] = {"\"url\"", "\"pool_address\"", "\"rpcserver\"", NULL};
	char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;
	int i;

	if (!f) {
		fprintf(stderr, "[%s] cannot read %s\n", R3M_NAME, path);
		return;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	for (i = 0; keys[i]; i++) {
		const char *p;
		for (p = strstr(buf, keys[i]); p; p = strstr(p + 1, keys[i])) {
			const char *q = strchr(p + strlen(keys[i]), '"'), *e;
			char v[300];
			if (!q || !(e = strchr(q + 1, '"')) || e - q - 1 >= (long)sizeof(v))
				break;
			snprintf(v, sizeof(v), "%.*s", (int)(e - q - 1), q + 1);
			add(v);
		}
	}
#if R3M_FLAVOR == 7
	printf("[%s] %s: mining = %s\n", R3M_NAME, path, strstr(buf, "mining = true") ? "true" : "false");
#endif
}

static void probe(const char *url)
{
	char host[256], line[512], reply[512];
	int port, fd, af;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct timeval tv = {3, 0};
	ssize_t r;

	if (hostport(url, host, sizeof(host), &port) < 0 || !loopback(host)) {
		fprintf(stderr, "[%s] refusing %s: this stand-in only talks to loopback\n", R3M_NAME, url);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = af = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = af = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &s4->sin_addr);
		sl = sizeof(*s4);
	}
	if ((fd = socket(af, SOCK_STREAM, 0)) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
#if R3M_FLAVOR == 3 || R3M_FLAVOR == 4
		snprintf(line, sizeof(line), "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"" R3M_NAME "/" R3M_VERSION "\"]}\n");
#else
		snprintf(line, sizeof(line), "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"%.300s\",\"pass\":\"x\",\"agent\":\"" R3M_NAME "/" R3M_VERSION "\"}}\n", user);
#endif
		if (write(fd, line, strlen(line)) > 0 && (r = read(fd, reply, sizeof(reply) - 1)) > 0) {
			reply[r] = 0;
			printf("[%s] %s replied: %s", R3M_NAME, url, reply);
		}
	}
	close(fd);
}

int main(int argc, char **argv)
{
	int i;

	printf(" * ABOUT        %s/%s\n", R3M_NAME, R3M_VERSION);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage();
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "-v") || !strcmp(a, "--version")) {
			puts(R3M_NAME " " R3M_VERSION);
			return 0;
		} else if (!strncmp(a, "--url=", 6) || !strncmp(a, "--pool=", 7) || !strncmp(a, "--rpcserver=", 12)) {
			add(strchr(a, '=') + 1);
		} else if (!strncmp(a, "--config=", 9) || !strncmp(a, "--configfile=", 13)) {
			readconf(strchr(a, '=') + 1);
		} else if (!strncmp(a, "--user=", 7) || !strncmp(a, "--mining-address=", 17) || !strncmp(a, "--miningaddr=", 13)) {
			snprintf(user, sizeof(user), "%s", strchr(a, '=') + 1);
		} else if (v && (!strcmp(a, "-o") || !strcmp(a, "-O") || !strcmp(a, "--url") || !strcmp(a, "--tls-url") ||
				 !strcmp(a, "-l") || !strcmp(a, "-P") || !strcmp(a, "--pool") || !strcmp(a, "-s") || !strcmp(a, "--rpcserver"))) {
			add(v);
			i++;
		} else if (v && (!strcmp(a, "-c") || !strcmp(a, "-C") || !strcmp(a, "--config") || !strcmp(a, "--poolconf") || !strcmp(a, "--configfile"))) {
			readconf(v);
			i++;
		} else if (v && (!strcmp(a, "-u") || !strcmp(a, "--user") || !strcmp(a, "--mining-address") || !strcmp(a, "--miningaddr"))) {
			snprintf(user, sizeof(user), "%s", v);
			i++;
		}
	}
#if R3M_FLAVOR == 1
	if (naddr == 0) {
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 20);
		if (n > 0) {
			char *slash;
			self[n] = 0;
			if ((slash = strrchr(self, '/')))
				strcpy(slash + 1, "config.json");
			if (access(self, R_OK) == 0)
				readconf(self);
		}
	}
#endif
#if R3M_FLAVOR == 6 || R3M_FLAVOR == 7
	puts("node stand-in: no peers are contacted and no blocks are produced");
	return 0;
#endif
	if (naddr == 0) {
		fprintf(stderr, "[%s] no pool configured\n", R3M_NAME);
		return 1;
	}
	for (i = 0; i < naddr; i++)
		probe(addrs[i]);
	return 0;
}
