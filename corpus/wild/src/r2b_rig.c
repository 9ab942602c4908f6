/* r2b_rig.c: an inert look-alike of an XMRig-style CPU miner, compiled per
 * subject under another name (-DR2B_NAME, -DR2B_VERSION). It accepts the
 * public XMRig command line (https://xmrig.com/docs/miner/command-line-options)
 * and prints XMRig-like banners and usage, and then stops: it never hashes,
 * and it refuses every pool whose host is not a loopback literal
 * (127.0.0.0/8, ::1, localhost) before any name is resolved or any socket
 * opened. Even a loopback pool is only reported, never dialled. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef R2B_NAME
#define R2B_NAME "xmrig"
#endif
#ifndef R2B_VERSION
#define R2B_VERSION "6.22.2"
#endif

static const char usage[] =
	"Usage: " R2B_NAME " [OPTIONS]\n\n"
	"Network:\n"
	"  -o, --url=URL                 URL of mining server\n"
	"  -a, --algo=ALGO               mining algorithm https://xmrig.com/docs/algorithms\n"
	"      --coin=COIN               specify coin instead of algorithm\n"
	"  -u, --user=USERNAME           username for mining server\n"
	"  -p, --pass=PASSWORD           password for mining server\n"
	"      --rig-id=ID               rig identifier for pool-side statistics (needs pool support)\n"
	"  -k, --keepalive               send keepalived packet for prevent timeout (needs pool support)\n"
	"      --nicehash                enable nicehash.com support\n"
	"      --tls                     enable SSL/TLS support (needs pool support)\n"
	"      --daemon                  use daemon RPC instead of pool for solo mining\n\n"
	"CPU backend:\n"
	"  -t, --threads=N               number of CPU threads\n"
	"      --cpu-max-threads-hint=N  maximum CPU threads count (in percentage) hint for autoconfig\n"
	"      --cpu-priority=N          set process priority (0 idle, 2 normal to 5 highest)\n"
	"      --randomx-mode=MODE       RandomX mode: auto, fast, light\n\n"
	"Options:\n"
	"  -B, --background              run the miner in the background\n"
	"  -c, --config=FILE             load a JSON-format configuration file\n"
	"      --donate-level=N          donate level, default 1% (1 minute in 100 minutes)\n";

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

int main(int argc, char **argv)
{
	const char *pool = NULL, *user = "", *algo = "rx/0";
	int i;

	printf(" * ABOUT        XMRig/" R2B_VERSION " gcc/12.2.0 (" R2B_NAME ", inert stand-in: no hashing)\n");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if ((!strcmp(a, "-o") || !strcmp(a, "--url")) && i + 1 < argc) {
			pool = argv[++i];
		} else if (!strncmp(a, "--url=", 6)) {
			pool = a + 6;
		} else if ((!strcmp(a, "-u") || !strcmp(a, "--user")) && i + 1 < argc) {
			user = argv[++i];
		} else if ((!strcmp(a, "-a") || !strcmp(a, "--algo")) && i + 1 < argc) {
			algo = argv[++i];
		}
	}
	if (!pool) {
		fprintf(stderr, "[config] no pool: pass -o URL (the stand-in reads no config.json)\n");
		return 1;
	}
	if (loopback_only(pool) != 0) {
		fprintf(stderr, "[net] pool \"%s\" is not a loopback literal; this inert stand-in "
			"does not resolve or connect to it\n", pool);
		return 2;
	}
	printf(" * POOL #1      %s algo %s user %.12s... (loopback; not dialled)\n", pool, algo, user);
	return 0;
}
