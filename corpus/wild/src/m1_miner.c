/* m1_miner.c: an inert look-alike of an XMRig-style CPU miner.
 *
 * It accepts XMRig's public command line (-o/-u/-p/-k/--tls/-a/--coin/-t/-B/-c
 * and friends, https://xmrig.com/docs/miner/command-line-options), reads the
 * "pools" entry of an XMRig-style config.json, prints XMRig-like banners and
 * usage, and then stops short of everything a miner does: it never hashes,
 * and it refuses every pool whose host is not a loopback literal
 * (127.0.0.0/8, ::1, localhost) before any name is resolved or any socket is
 * opened. Against a loopback pool it sends one stratum "login" request and
 * prints the reply; that is all.
 *
 * Every subject compiles its own binary with -D defines so that the binaries
 * differ: M1_NAME (program name), M1_VERSION, M1_BRAND (banner), M1_POOL and
 * M1_WALLET (a pool and wallet baked into the binary, as kdevtmpfsi-style
 * miners carry them), M1_ALGO (default algorithm), M1_LENIENT (ignore
 * unknown options, for binaries started with another program's arguments).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef M1_NAME
#define M1_NAME "xmrig"
#endif
#ifndef M1_VERSION
#define M1_VERSION "6.21.0"
#endif
#ifndef M1_BRAND
#define M1_BRAND "XMRig"
#endif
#ifndef M1_ALGO
#define M1_ALGO "rx/0"
#endif
#ifndef M1_POOL
#define M1_POOL ""
#endif
#ifndef M1_WALLET
#define M1_WALLET ""
#endif

struct m1_pool {
	char url[256];
	char user[256];
	char pass[128];
	char algo[32];
	char coin[32];
	char rig[64];
	int tls, keepalive, nicehash;
};

struct m1_opts {
	struct m1_pool pool;
	char config[PATH_MAX];
	int threads, background, donate, max_hint, huge_1gb, no_color;
};

static const char *const m1_algos[] = {
	"rx/0", "rx/wow", "rx/arq", "rx/graft", "rx/sfx", "rx/keva",
	"cn/r", "cn/half", "cn/rwz", "cn-lite/1", "cn-heavy/xhv", "cn-pico",
	"argon2/chukwav2", "gr", "kawpow", NULL,
};

static void m1_usage(void)
{
	printf("Usage: " M1_NAME " [OPTIONS]\n\n"
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
	       "      --donate-level=N          donate level, default 1%%\n\n"
	       "CPU backend:\n"
	       "  -t, --threads=N               number of CPU threads\n"
	       "      --cpu-max-threads-hint=N  maximum CPU threads count (in percentage) hint for autoconfig\n"
	       "      --randomx-1gb-pages       use 1GB hugepages for RandomX dataset\n"
	       "      --randomx-no-rdmsr        disable reverting initial MSR values on exit\n\n"
	       "Misc:\n"
	       "  -c, --config=FILE             load a JSON-format configuration file\n"
	       "  -B, --background              run the miner in the background\n"
	       "      --no-color                disable colored output\n"
	       "  -h, --help                    display this help and exit\n"
	       "  -V, --version                 output version information and exit\n");
}

static void m1_log(const char *tag, const char *msg)
{
	fprintf(stderr, "[%s] %-6s %s\n", M1_NAME, tag, msg);
}

/* m1_loopback decides from the literal host alone; nothing is resolved. */
static int m1_loopback(const char *url, char *host, size_t hn, int *port)
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
	if (end == c + 1 || p < 1 || p > 65535)
		return 0;
	*port = (int)p;
	if (strcmp(host, "localhost") == 0) {
		snprintf(host, hn, "127.0.0.1");
		return 1;
	}
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* m1_json_str copies the string value of the first "key" after from. */
static int m1_json_str(const char *doc, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *p, *q;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(doc, pat);
	if (!p)
		return 0;
	p = strchr(p + strlen(pat), ':');
	if (!p)
		return 0;
	while (*++p == ' ' || *p == '\t')
		;
	if (*p != '"')
		return 0;
	q = strchr(++p, '"');
	if (!q)
		return 0;
	snprintf(out, n, "%.*s", (int)(q - p), p);
	return 1;
}

static int m1_json_true(const char *doc, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(doc, pat);
	if (!p || !(p = strchr(p, ':')))
		return 0;
	while (*++p == ' ')
		;
	return strncmp(p, "true", 4) == 0;
}

/* m1_read_config reads the first pool of an XMRig-style config.json. */
static int m1_read_config(const char *path, struct m1_pool *pool)
{
	static char buf[65536];
	const char *pools;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	pools = strstr(buf, "\"pools\"");
	if (!pools)
		return -1;
	m1_json_str(pools, "url", pool->url, sizeof(pool->url));
	m1_json_str(pools, "user", pool->user, sizeof(pool->user));
	m1_json_str(pools, "pass", pool->pass, sizeof(pool->pass));
	m1_json_str(pools, "coin", pool->coin, sizeof(pool->coin));
	m1_json_str(pools, "rig-id", pool->rig, sizeof(pool->rig));
	pool->tls = m1_json_true(pools, "tls");
	pool->keepalive = m1_json_true(pools, "keepalive");
	return 0;
}

/* m1_default_config is config.json next to the executable, as XMRig looks. */
static void m1_default_config(char *out, size_t n)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (len <= 0) {
		snprintf(out, n, "config.json");
		return;
	}
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, n, "%s/config.json", exe);
}

static const char *m1_value(int *i, int argc, char **argv, const char *arg, const char *longname)
{
	size_t l = strlen(longname);

	if (strncmp(arg, longname, l) == 0 && arg[l] == '=')
		return arg + l + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	fprintf(stderr, "%s: option '%s' requires an argument\n", M1_NAME, arg);
	exit(1);
}

static int m1_is(const char *arg, const char *shortname, const char *longname)
{
	size_t l = strlen(longname);

	return (shortname && strcmp(arg, shortname) == 0) || strcmp(arg, longname) == 0 ||
	       (strncmp(arg, longname, l) == 0 && arg[l] == '=');
}

static void m1_parse(int argc, char **argv, struct m1_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (m1_is(a, "-o", "--url"))
			snprintf(o->pool.url, sizeof(o->pool.url), "%s", m1_value(&i, argc, argv, a, "--url"));
		else if (m1_is(a, "-u", "--user"))
			snprintf(o->pool.user, sizeof(o->pool.user), "%s", m1_value(&i, argc, argv, a, "--user"));
		else if (m1_is(a, "-p", "--pass"))
			snprintf(o->pool.pass, sizeof(o->pool.pass), "%s", m1_value(&i, argc, argv, a, "--pass"));
		else if (m1_is(a, "-a", "--algo"))
			snprintf(o->pool.algo, sizeof(o->pool.algo), "%s", m1_value(&i, argc, argv, a, "--algo"));
		else if (m1_is(a, NULL, "--coin"))
			snprintf(o->pool.coin, sizeof(o->pool.coin), "%s", m1_value(&i, argc, argv, a, "--coin"));
		else if (m1_is(a, NULL, "--rig-id"))
			snprintf(o->pool.rig, sizeof(o->pool.rig), "%s", m1_value(&i, argc, argv, a, "--rig-id"));
		else if (m1_is(a, "-c", "--config"))
			snprintf(o->config, sizeof(o->config), "%s", m1_value(&i, argc, argv, a, "--config"));
		else if (m1_is(a, "-t", "--threads"))
			o->threads = atoi(m1_value(&i, argc, argv, a, "--threads"));
		else if (m1_is(a, NULL, "--donate-level"))
			o->donate = atoi(m1_value(&i, argc, argv, a, "--donate-level"));
		else if (m1_is(a, NULL, "--cpu-max-threads-hint"))
			o->max_hint = atoi(m1_value(&i, argc, argv, a, "--cpu-max-threads-hint"));
		else if (strcmp(a, "-k") == 0 || strcmp(a, "--keepalive") == 0)
			o->pool.keepalive = 1;
		else if (strcmp(a, "--tls") == 0)
			o->pool.tls = 1;
		else if (strcmp(a, "--nicehash") == 0)
			o->pool.nicehash = 1;
		else if (strcmp(a, "-B") == 0 || strcmp(a, "--background") == 0)
			o->background = 1;
		else if (strcmp(a, "--randomx-1gb-pages") == 0)
			o->huge_1gb = 1;
		else if (strcmp(a, "--no-color") == 0 || strcmp(a, "--randomx-no-rdmsr") == 0)
			o->no_color = 1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			m1_usage();
			exit(0);
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf(M1_BRAND " " M1_VERSION "\n built with GCC\n");
			exit(0);
		} else {
#ifndef M1_LENIENT
			fprintf(stderr, "%s: unrecognized option '%s'\n", M1_NAME, a);
			exit(1);
#endif
		}
	}
}

/* m1_login sends one stratum login to a loopback pool and prints the reply. */
static int m1_login(const struct m1_pool *p, const char *host, int port)
{
	struct sockaddr_storage ss;
	struct timeval tv = {5, 0};
	socklen_t sl;
	char req[1024], reply[4096];
	ssize_t n;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)port);
		inet_pton(AF_INET6, host, &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, host, &a->sin_addr);
		sl = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		m1_log("net", strerror(errno));
		close(fd);
		return 1;
	}
	snprintf(req, sizeof(req),
		 "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"%s\",\"pass\":\"%s\","
		 "\"agent\":\"" M1_BRAND "/" M1_VERSION " (Linux x86_64) libuv/1.44.2\",\"algo\":[\"%s\"]}}\n",
		 p->user, p->pass[0] ? p->pass : "x", p->algo[0] ? p->algo : M1_ALGO);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		close(fd);
		return 1;
	}
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	close(fd);
	if (n <= 0)
		return 1;
	reply[n] = '\0';
	m1_log("net", "login reply received; this look-alike has no hashing code and stops here");
	fputs(reply, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct m1_opts o;
	char host[128], msg[512];
	int port = 0;

	memset(&o, 0, sizeof(o));
	o.donate = 1;
	o.max_hint = 100;
	snprintf(o.pool.url, sizeof(o.pool.url), "%s", M1_POOL);
	snprintf(o.pool.user, sizeof(o.pool.user), "%s", M1_WALLET);
	m1_parse(argc, argv, &o);
	if (!o.config[0] && !argv[1])
		m1_default_config(o.config, sizeof(o.config));
	if (o.config[0] && m1_read_config(o.config, &o.pool) != 0) {
		snprintf(msg, sizeof(msg), "%s: no readable \"pools\" section", o.config);
		m1_log("config", msg);
	}

	printf(" * ABOUT        " M1_BRAND "/" M1_VERSION " gcc/%d.%d.%d\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
	printf(" * DONATE       %d%%\n", o.donate);
	printf(" * POOL #1      %s algo %s%s\n", o.pool.url[0] ? o.pool.url : "(none)",
	       o.pool.coin[0] ? o.pool.coin : (o.pool.algo[0] ? o.pool.algo : M1_ALGO), o.pool.tls ? " tls" : "");
	printf(" * CPU          threads %d, max-threads-hint %d%%, 1gb-pages %s\n", o.threads, o.max_hint,
	       o.huge_1gb ? "on" : "off");
	for (int i = 0; m1_algos[i]; i++)
		printf("%s%s", i ? ", " : " * ALGORITHMS   ", m1_algos[i]);
	printf("\n");

	if (!o.pool.url[0]) {
		m1_log("config", "no pool given: pass -o host:port or a config.json with \"pools\"");
		return 1;
	}
	if (!m1_loopback(o.pool.url, host, sizeof(host), &port)) {
		snprintf(msg, sizeof(msg),
			 "pool \"%s\" is not a loopback literal; this inert look-alike refuses it "
			 "without resolving the name or opening a socket", o.pool.url);
		m1_log("net", msg);
		return 2;
	}
	if (o.pool.tls) {
		m1_log("net", "TLS is not implemented in this look-alike");
		return 2;
	}
	if (o.background)
		m1_log("config", "--background ignored: the look-alike stays in the foreground");
	return m1_login(&o.pool, host, port);
}
