/* r2b_gpu.c: an inert look-alike of a GPU miner for coins other than Monero.
 * Two personalities chosen at compile time: T-Rex (default; NVIDIA, kawpow,
 * etchash, autolykos2, -a/-o/-u/-p/-w/-c, https://github.com/trexminer/T-Rex)
 * and lolMiner (-DR2B_LOLMINER; --algo/--pool/--user/--worker/--apiport).
 * It parses the command line and the "url" of a T-Rex-style config.json,
 * prints the program's banner and usage, and stops: there is no GPU code, it
 * never hashes, and it refuses every pool whose host is not a loopback
 * literal before any name is resolved or socket opened. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(R2B_LOLMINER)
#define R2B_BANNER "lolMiner 1.88"
static const char usage[] =
	"lolMiner 1.88 - Usage:\n"
	"  --algo arg            Select the mining algorithm: ETHASH ETCHASH AUTOLYKOS2\n"
	"                        BEAM-III KASPA (kheavyhash) NEXA FISHHASH KARLSEN\n"
	"  --pool arg            Pool URL (host:port) or stratum+tcp:// / stratum+ssl://\n"
	"  --user arg            Wallet or pool user name, wallet.worker accepted\n"
	"  --pass arg            Pool password\n"
	"  --worker arg          Worker name sent to the pool\n"
	"  --tls arg             Use TLS (on/off/0/1)\n"
	"  --devices arg         Comma separated list of GPUs to use\n"
	"  --apiport arg         Port of the HTTP API (0 = off)\n"
	"  --watchdog arg        Watchdog action: off, exit, script\n"
	"  --dualmode arg        Dual mining mode: none, zil, TONDUAL, ALEPHDUAL\n";
#else
#define R2B_BANNER "T-Rex NVIDIA GPU miner v0.26.8"
static const char usage[] =
	"T-Rex NVIDIA GPU miner v0.26.8 - [CUDA v11.8 | Linux]\n"
	"    -a, --algo                     Specify the hash algorithm to use.\n"
	"                                   autolykos2 blake3 etchash ethash firopow kawpow octopus\n"
	"    -o, --url                      URL of mining server (e.g. stratum+tcp://rvn.2miners.com:6060)\n"
	"    -u, --user                     Username for mining server (wallet.worker)\n"
	"    -p, --pass                     Password for mining server\n"
	"    -w, --worker                   Worker name\n"
	"    -d, --devices                  Comma separated list of CUDA devices to use.\n"
	"    -i, --intensity                GPU intensity 8-25 (default: auto).\n"
	"        --api-bind-http            IP:port for the miner API via HTTP (default: 127.0.0.1:4067)\n"
	"        --lhr-tune                 [Ethash, Autolykos2] LHR mode tuning.\n"
	"    -c, --config                   Load a JSON-format configuration file.\n"
	"        --no-watchdog              Disable built-in watchdog.\n";
#endif

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

/* config_url copies the first "url" string value of a JSON config into out. */
static int config_url(const char *path, char *out, size_t n)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t len;
	char *p, *q;

	if (!f)
		return -1;
	len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = 0;
	p = strstr(buf, "\"url\"");
	if (!p || !(p = strchr(p + 5, '"')))
		return -1;
	q = strchr(++p, '"');
	if (!q)
		return -1;
	snprintf(out, n, "%.*s", (int)(q - p), p);
	return 0;
}

int main(int argc, char **argv)
{
	static char url[512];
	const char *pool = NULL;
	int i;

	printf("%s (inert stand-in: no GPU kernels, no hashing)\n", R2B_BANNER);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if ((!strcmp(a, "-o") || !strcmp(a, "--url") || !strcmp(a, "--pool")) && i + 1 < argc) {
			pool = argv[++i];
		} else if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < argc) {
			if (config_url(argv[++i], url, sizeof url) == 0 && !pool)
				pool = url;
		}
	}
	if (!pool) {
		fprintf(stderr, "ERROR: no pool specified\n");
		return 1;
	}
	if (loopback_only(pool) != 0) {
		fprintf(stderr, "ERROR: pool \"%s\" is not a loopback literal; this inert stand-in "
			"does not resolve or connect to it\n", pool);
		return 2;
	}
	printf("pool %s (loopback; not dialled)\n", pool);
	return 0;
}
