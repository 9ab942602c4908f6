/* r2b_zcashd.c: an inert look-alike of zcashd, the Zcash full node, whose
 * built-in Equihash miner is switched on by gen=1 / -gen with genproclimit,
 * equihashsolver and mineraddress (https://zcash.readthedocs.io/). It parses
 * -conf/-datadir and the mining keys of zcash.conf, prints what the real
 * node would log, and stops: it never solves Equihash, never opens a P2P or
 * RPC socket, and refuses every addnode/connect peer that is not a loopback
 * literal. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Zcash Daemon version v5.10.0\n\n"
	"Usage:\n  zcashd [options]                     Start Zcash Daemon\n\n"
	"Options:\n"
	"  -conf=<file>           Specify configuration file (default: zcash.conf)\n"
	"  -datadir=<dir>         Specify data directory\n"
	"  -addnode=<ip>          Add a node to connect to and attempt to keep the connection open\n"
	"  -printtoconsole        Send trace/debug info to console instead of debug.log file\n\n"
	"Mining options:\n"
	"  -gen                   Mine with the built-in Equihash solver (default: 0)\n"
	"  -genproclimit=<n>      Set the number of threads for coin generation if enabled (-1 = all cores, default: 1)\n"
	"  -equihashsolver=<name> Specify the Equihash solver to be used if enabled (default: \"default\")\n"
	"  -mineraddress=<addr>   Send mined coins to a specific single address\n"
	"  -minetolocalwallet     Require that mined blocks use a coinbase address in the local wallet (default: 1)\n";

static int loopback_only(const char *host)
{
	char h[256];
	const char *c;
	struct in_addr v4;

	snprintf(h, sizeof h, "%s", host);
	if ((c = strrchr(h, ':')) != NULL)
		h[c - h] = 0;
	if (!strcmp(h, "localhost"))
		return 0;
	if (inet_pton(AF_INET, h, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127 ? 0 : -1;
	return -1;
}

int main(int argc, char **argv)
{
	char line[1024], conf[512] = "/root/.zcash/zcash.conf";
	char addr[128] = "", solver[32] = "default";
	int gen = 0, limit = 1, i;
	FILE *f;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "-help") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strncmp(argv[i], "-conf=", 6))
			snprintf(conf, sizeof conf, "%s", argv[i] + 6);
		else if (!strcmp(argv[i], "-gen"))
			gen = 1;
		else if (!strncmp(argv[i], "-mineraddress=", 14))
			snprintf(addr, sizeof addr, "%s", argv[i] + 14);
	}
	if ((f = fopen(conf, "r")) != NULL) {
		while (fgets(line, sizeof line, f)) {
			line[strcspn(line, "\r\n")] = 0;
			if (!strcmp(line, "gen=1"))
				gen = 1;
			else if (!strncmp(line, "genproclimit=", 13))
				limit = atoi(line + 13);
			else if (!strncmp(line, "equihashsolver=", 15))
				snprintf(solver, sizeof solver, "%s", line + 15);
			else if (!strncmp(line, "mineraddress=", 13) && !addr[0])
				snprintf(addr, sizeof addr, "%s", line + 13);
			else if ((!strncmp(line, "addnode=", 8) || !strncmp(line, "connect=", 8)) &&
				 loopback_only(line + 8) != 0)
				fprintf(stderr, "peer %s is not a loopback literal; the stand-in does not "
					"resolve or connect to it\n", line + 8);
		}
		fclose(f);
	}
	printf("Zcash version v5.10.0 (inert stand-in: no network, no Equihash)\n");
	if (gen)
		printf("ZcashMiner started: %d threads, solver %s, coinbase to %s (not mining)\n",
		       limit, solver, addr[0] ? addr : "(wallet)");
	return 0;
}
