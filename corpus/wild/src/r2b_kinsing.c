/* r2b_kinsing.c: an inert look-alike of the Kinsing agent as Trend Micro,
 * Aqua and others describe it: a Go-built bot that polls its C2 over HTTP
 * (/get, /mg, /h, /o), re-downloads d.sh, and keeps the kdevtmpfsi miner it
 * fetches running. The stand-in only carries those public strings; it opens
 * no socket, downloads nothing, starts nothing, and exits. Its C2 is a
 * documentation address (198.51.100.0/24). */
#include <stdio.h>
#include <string.h>

static const char *const c2_paths[] = { "/get", "/mg", "/h", "/o", "/ms", NULL };
static const char c2[] = "http://198.51.100.47";
static const char miner_path[] = "/tmp/kdevtmpfsi";
static const char miner_url[] = "http://198.51.100.47/kdevtmpfsi";
static const char preload[] = "/etc/ld.so.preload";
static const char rootkit[] = "/etc/libsystem.so";
static const char script[] = "/tmp/d.sh";

int main(int argc, char **argv)
{
	int i;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: kinsing (no options)\n");
		return 0;
	}
	printf("kinsing agent (inert stand-in): would poll %s", c2);
	for (i = 0; c2_paths[i]; i++)
		printf(" %s", c2_paths[i]);
	printf(", fetch %s to %s, keep %s in %s, re-run %s; does none of it\n",
	       miner_url, miner_path, rootkit, preload, script);
	return 0;
}
