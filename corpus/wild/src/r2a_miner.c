/* r2a_miner.c: an inert look-alike of three public CPU miners, chosen at
 * compile time:
 *
 *   R2A_FLAVOR 1  XMRig (https://xmrig.com/docs/miner/command-line-options):
 *                 -o/-u/-p/-a/-k/--tls/-c, and XMRig's config search order
 *                 (-c FILE, config.json next to the binary, ~/.xmrig.json,
 *                 ~/.config/xmrig.json).
 *   R2A_FLAVOR 2  cpuminer-opt (https://github.com/JayDDee/cpuminer-opt):
 *                 -a/-o/-u/-p/-t/-q/-c, stratum+tcp:// URLs, a JSON config
 *                 whose keys are the long option names.
 *   R2A_FLAVOR 3  SRBMiner-MULTI (https://github.com/doktor83/SRBMiner-Multi):
 *                 --algorithm/--pool/--wallet/--password/--worker.
 *
 * It prints the miner's banner and usage, collects every pool URL from the
 * command line and the config, and then stops short of everything a miner
 * does: it never hashes, and it refuses every pool whose host is not a
 * loopback literal (127.0.0.0/8, ::1, localhost) before any name is resolved
 * or any socket is opened. Against a loopback pool it sends one stratum
 * login (flavour 1 and 3) or mining.subscribe (flavour 2) and prints the
 * reply; that is all.
 *
 * Defines: R2A_FLAVOR, R2A_NAME (program name), R2A_VERSION.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef R2A_FLAVOR
#define R2A_FLAVOR 1
#endif
#ifndef R2A_NAME
#define R2A_NAME "xmrig"
#endif
#ifndef R2A_VERSION
#define R2A_VERSION "6.22.2"
#endif

#define R2A_MAXPOOLS 8

struct r2a_cfg {
	char url[R2A_MAXPOOLS][256];
	int nurl;
	char user[256], pass[128], algo[48], worker[64], config[PATH_MAX];
	int threads, tls, quiet;
};

static void r2a_usage(void)
{
#if R2A_FLAVOR == 1
	printf("Usage: " R2A_NAME " [OPTIONS]\n\n"
	       "Network:\n"
	       "  -o, --url=URL                 URL of mining server\n"
	       "  -a, --algo=ALGO               mining algorithm https://xmrig.com/docs/algorithms\n"
	       "      --coin=COIN               specify coin instead of algorithm\n"
	       "  -u, --user=USERNAME           username for mining server\n"
	       "  -p, --pass=PASSWORD           password for mining server\n"
	       "  -k, --keepalive               send keepalived packet for prevent timeout (needs pool support)\n"
	       "      --tls                     enable SSL/TLS support (needs pool support)\n"
	       "      --tls-fingerprint=HEX     pool TLS certificate fingerprint for strict certificate pinning\n"
	       "      --donate-level=N          donate level, default 1%%\n\n"
	       "CPU backend:\n"
	       "  -t, --threads=N               number of CPU threads\n"
	       "      --randomx-1gb-pages       use 1GB hugepages for RandomX dataset\n\n"
	       "Misc:\n"
	       "  -c, --config=FILE             load a JSON-format configuration file\n"
	       "  -B, --background              run the miner in the background\n"
	       "  -h, --help                    display this help and exit\n"
	       "  -V, --version                 output version information and exit\n");
#elif R2A_FLAVOR == 2
	printf("Usage: " R2A_NAME " [OPTIONS]\n"
	       "Options:\n"
	       "  -a, --algo=ALGO       specify the algorithm to use\n"
	       "                          gr             Ghostrider\n"
	       "                          minotaurx      LCC\n"
	       "                          yespower       Cryply\n"
	       "                          yescryptr16    Eli\n"
	       "                          sha256d        Double SHA-256\n"
	       "  -N, --param-n         N parameter for scrypt based algos\n"
	       "  -o, --url=URL         URL of mining server\n"
	       "  -O, --userpass=U:P    username:password pair for mining server\n"
	       "  -u, --user=USERNAME   username for mining server\n"
	       "  -p, --pass=PASSWORD   password for mining server\n"
	       "  -t, --threads=N       number of miner threads (default: number of processors)\n"
	       "  -q, --quiet           disable per-thread hashmeter output\n"
	       "  -x, --proxy=[PROTOCOL://]HOST[:PORT]  connect through a proxy\n"
	       "      --cpu-affinity    set process affinity to cpu core(s)\n"
	       "  -c, --config=FILE     load a JSON-format configuration file\n"
	       "  -V, --version         display version information and exit\n"
	       "  -h, --help            display this help text and exit\n");
#else
	printf("SRBMiner-MULTI " R2A_VERSION "\n\n"
	       "Usage: " R2A_NAME " --algorithm ALGO --pool HOST:PORT --wallet ADDRESS [OPTIONS]\n\n"
	       "  --algorithm value      algorithm/s to mine (randomx, verushash, ghostrider, minotaurx, ...)\n"
	       "  --pool value           pool address:port (separate multiple pools with !)\n"
	       "  --wallet value         user name or wallet address for pool\n"
	       "  --password value       pool password\n"
	       "  --worker value         worker name or rig id\n"
	       "  --nicehash value       force nicehash (true/false)\n"
	       "  --tls value            use TLS (true/false)\n"
	       "  --cpu-threads value    number of CPU threads to use\n"
	       "  --disable-gpu          disable all GPU devices\n"
	       "  --disable-auto-affinity  do not set CPU affinity\n"
	       "  --api-enable           enable statistics API\n"
	       "  --api-port value       port where statistics API is reachable\n");
#endif
}

static void r2a_log(const char *msg)
{
	fprintf(stderr, "[" R2A_NAME "] %s\n", msg);
}

static void r2a_addurl(struct r2a_cfg *c, const char *u)
{
	/* SRBMiner separates several pools with '!' */
	char buf[1024], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", u);
	for (tok = strtok_r(buf, "!", &save); tok; tok = strtok_r(NULL, "!", &save)) {
		if (c->nurl < R2A_MAXPOOLS && *tok)
			snprintf(c->url[c->nurl++], sizeof(c->url[0]), "%s", tok);
	}
}

/* r2a_json collects the string value of every "key": "value" pair of
 * a JSON text whose key is key; a crude reader, enough for miner configs. */
static void r2a_json(struct r2a_cfg *c, const char *text)
{
	static const char *const urlkeys[] = {"\"url\"", "\"url-backup\"", "\"pool\"", NULL};
	const char *p;
	int i;

	for (i = 0; urlkeys[i]; i++) {
		for (p = strstr(text, urlkeys[i]); p; p = strstr(p + 1, urlkeys[i])) {
			const char *q = strchr(p + strlen(urlkeys[i]), ':'), *e;
			char val[256];

			if (!q)
				break;
			q = strchr(q, '"');
			if (!q)
				break;
			e = strchr(q + 1, '"');
			if (!e || e - q - 1 >= (long)sizeof(val))
				continue;
			snprintf(val, sizeof(val), "%.*s", (int)(e - q - 1), q + 1);
			r2a_addurl(c, val);
		}
	}
}

static int r2a_readconfig(struct r2a_cfg *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return 0;
	buf = calloc(1, 1 << 20);
	if (!buf) {
		fclose(f);
		return 0;
	}
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	r2a_json(c, buf);
	free(buf);
	fprintf(stderr, "[" R2A_NAME "] config %s\n", path);
	return 1;
}

#if R2A_FLAVOR == 1
/* XMRig's search order when -c is not given. */
static void r2a_findconfig(struct r2a_cfg *c, const char *argv0)
{
	char path[PATH_MAX], self[PATH_MAX];
	const char *home = getenv("HOME");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(path, sizeof(path), "%s/config.json", self);
			if (r2a_readconfig(c, path))
				return;
		}
	}
	(void)argv0;
	if (home) {
		snprintf(path, sizeof(path), "%s/.xmrig.json", home);
		if (r2a_readconfig(c, path))
			return;
		snprintf(path, sizeof(path), "%s/.config/xmrig.json", home);
		if (r2a_readconfig(c, path))
			return;
	}
	r2a_log("no config file found; embedded config is empty");
}
#endif

/* r2a_loopback decides from the literal host alone; nothing is resolved. */
static int r2a_loopback(const char *url, char *host, size_t hn, int *port)
{
	const char *s = strstr(url, "://"), *c;
	struct in_addr a4;
	struct in6_addr a6;
	char *end;
	long p;

	s = s ? s + 3 : url;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return 0;
		snprintf(host, hn, "%.*s", (int)(rb - s - 1), s + 1);
		c = rb + 1;
	} else {
		c = strrchr(s, ':');
		if (!c)
			return 0;
		snprintf(host, hn, "%.*s", (int)(c - s), s);
	}
	p = strtol(c + 1, &end, 10);
	if (p <= 0 || p > 65535 || (*end && *end != '/' && *end != '#'))
		return 0;
	*port = (int)p;
	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static int r2a_hello(const struct r2a_cfg *c, const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct timeval tv = {5, 0};
	char req[1024], resp[2048];
	int fd;
	ssize_t n;

	memset(&ss, 0, sizeof(ss));
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		r2a_log("loopback pool not reachable");
		close(fd);
		return 1;
	}
#if R2A_FLAVOR == 2
	snprintf(req, sizeof(req),
		 "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"" R2A_NAME "/" R2A_VERSION "\"]}\n"
		 "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"%s\",\"%s\"]}\n",
		 c->user, c->pass);
#else
	snprintf(req, sizeof(req),
		 "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"%s\",\"pass\":\"%s\","
		 "\"agent\":\"" R2A_NAME "/" R2A_VERSION "\",\"algo\":[\"%s\"]}}\n",
		 c->user, c->pass, c->algo);
#endif
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return 1;
	}
	n = read(fd, resp, sizeof(resp) - 1);
	if (n > 0) {
		resp[n] = 0;
		printf("%s", resp);
	}
	close(fd);
	r2a_log("reply received; this look-alike has no hashing code and stops here");
	return 0;
}

static const char *r2a_val(int argc, char **argv, int *i, const char *arg, const char *s, const char *l)
{
	size_t ll = strlen(l);

	if (s && strcmp(arg, s) == 0 && *i + 1 < argc)
		return argv[++*i];
	if (strncmp(arg, l, ll) == 0) {
		if (arg[ll] == '=')
			return arg + ll + 1;
		if (arg[ll] == 0 && *i + 1 < argc)
			return argv[++*i];
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct r2a_cfg c;
	const char *v;
	int i, rc = 0;

	memset(&c, 0, sizeof(c));
#if R2A_FLAVOR == 2
	snprintf(c.algo, sizeof(c.algo), "gr");
#elif R2A_FLAVOR == 3
	snprintf(c.algo, sizeof(c.algo), "randomx");
#else
	snprintf(c.algo, sizeof(c.algo), "rx/0");
#endif
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			r2a_usage();
			return 0;
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf(R2A_NAME " " R2A_VERSION "\n");
			return 0;
		}
#if R2A_FLAVOR == 3
		if ((v = r2a_val(argc, argv, &i, a, NULL, "--pool")))
			r2a_addurl(&c, v);
		else if ((v = r2a_val(argc, argv, &i, a, NULL, "--wallet")))
			snprintf(c.user, sizeof(c.user), "%s", v);
		else if ((v = r2a_val(argc, argv, &i, a, NULL, "--password")))
			snprintf(c.pass, sizeof(c.pass), "%s", v);
		else if ((v = r2a_val(argc, argv, &i, a, NULL, "--algorithm")))
			snprintf(c.algo, sizeof(c.algo), "%s", v);
		else if ((v = r2a_val(argc, argv, &i, a, NULL, "--worker")))
			snprintf(c.worker, sizeof(c.worker), "%s", v);
		else if ((v = r2a_val(argc, argv, &i, a, NULL, "--cpu-threads")))
			c.threads = atoi(v);
		else if ((v = r2a_val(argc, argv, &i, a, NULL, "--config-file")))
			r2a_readconfig(&c, v);
#else
		if ((v = r2a_val(argc, argv, &i, a, "-o", "--url")))
			r2a_addurl(&c, v);
		else if ((v = r2a_val(argc, argv, &i, a, "-u", "--user")))
			snprintf(c.user, sizeof(c.user), "%s", v);
		else if ((v = r2a_val(argc, argv, &i, a, "-p", "--pass")))
			snprintf(c.pass, sizeof(c.pass), "%s", v);
		else if ((v = r2a_val(argc, argv, &i, a, "-a", "--algo")))
			snprintf(c.algo, sizeof(c.algo), "%s", v);
		else if ((v = r2a_val(argc, argv, &i, a, "-t", "--threads")))
			c.threads = atoi(v);
		else if ((v = r2a_val(argc, argv, &i, a, "-c", "--config")))
			snprintf(c.config, sizeof(c.config), "%s", v);
		else if (!strcmp(a, "--tls"))
			c.tls = 1;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			c.quiet = 1;
#endif
	}
#if R2A_FLAVOR != 3
	if (c.config[0])
		r2a_readconfig(&c, c.config);
#endif
#if R2A_FLAVOR == 1
	else if (c.nurl == 0)
		r2a_findconfig(&c, argv[0]);
	fprintf(stderr, " * ABOUT        XMRig/" R2A_VERSION " gcc\n * ALGO         %s\n", c.algo);
#elif R2A_FLAVOR == 2
	fprintf(stderr, "         ********** cpuminer-opt " R2A_VERSION " ***********\n"
			" A CPU miner with multi algo support and optimized for CPUs\n"
			" with AVX512, SHA and VAES extensions by JayDDee.\n"
			"Algo: %s\n", c.algo);
#else
	fprintf(stderr, "SRBMiner-MULTI " R2A_VERSION "\nAlgorithm: %s\n", c.algo);
#endif
	if (c.nurl == 0) {
		r2a_log("no pool given");
		r2a_usage();
		return 1;
	}
	for (i = 0; i < c.nurl; i++) {
		char host[256], msg[512];
		int port = 0;

		if (!r2a_loopback(c.url[i], host, sizeof(host), &port)) {
			snprintf(msg, sizeof(msg),
				 "pool \"%s\" is not a loopback literal; this inert look-alike refuses it "
				 "(nothing resolved, nothing connected)", c.url[i]);
			r2a_log(msg);
			rc = 2;
			continue;
		}
		rc = r2a_hello(&c, host, port);
	}
	return rc;
}
