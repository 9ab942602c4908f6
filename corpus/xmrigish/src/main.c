/* xmrigish main: XMRig-style command line and startup summary. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xmrigish.h"

static const char usage_text[] =
	"Usage: " APP_NAME " [OPTIONS]\n"
	"\n"
	"Network:\n"
	"  -o, --url=URL                 URL of mining server\n"
	"  -a, --algo=ALGO               mining algorithm https://xmrig.com/docs/algorithms\n"
	"  -u, --user=USERNAME           username for mining server\n"
	"  -p, --pass=PASSWORD           password for mining server\n"
	"  -k, --keepalive               send keepalived packet for prevent timeout (needs pool support)\n"
	"      --rig-id=ID               rig identifier for pool-side statistics (needs pool support)\n"
	"      --tls                     enable SSL/TLS support (needs pool support)\n"
	"      --donate-level=N          donate level, default 1%% (1 minute in 100 minutes)\n"
	"\n"
	"CPU backend:\n"
	"      --no-huge-pages           disable huge pages support\n"
	"\n"
	"Misc:\n"
	"  -c, --config=FILE             load a JSON-format configuration file\n"
	"  -B, --background              run the miner in the background\n"
	"      --dry-run                 test configuration and exit\n"
	"      --max-time=N              stand-in only: give up after N seconds (default 10)\n"
	"  -h, --help                    display this help and exit\n"
	"  -V, --version                 output version information and exit\n"
	"\n"
	"This is an INERT stand-in used by strata's tests: it only talks to\n"
	"loopback pools, never hashes and never submits shares.\n";

static int quiet;

void logf_(const char *tag, const char *fmt, ...)
{
	va_list ap;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	if (quiet)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "[%s] %-6s ", ts, tag);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_alarm(int sig)
{
	static const char msg[] = "xmrigish: time limit reached, exiting\n";
	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do */
	}
	_exit(3);
}

/* default_config: like XMRig, look for config.json next to the executable. */
static int default_config(char *out, size_t n)
{
	char exe[PATH_MAX - 16];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (len <= 0)
		return -1;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(out, n, "%s/config.json", exe);
	return access(out, R_OK);
}

enum {
	OPT_DONATE = 1000, OPT_RIG_ID, OPT_TLS, OPT_NO_HUGE, OPT_DRY_RUN, OPT_MAX_TIME,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"url", required_argument, NULL, 'o'},
		{"algo", required_argument, NULL, 'a'},
		{"user", required_argument, NULL, 'u'},
		{"pass", required_argument, NULL, 'p'},
		{"keepalive", no_argument, NULL, 'k'},
		{"rig-id", required_argument, NULL, OPT_RIG_ID},
		{"tls", no_argument, NULL, OPT_TLS},
		{"donate-level", required_argument, NULL, OPT_DONATE},
		{"no-huge-pages", no_argument, NULL, OPT_NO_HUGE},
		{"config", required_argument, NULL, 'c'},
		{"background", no_argument, NULL, 'B'},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"max-time", required_argument, NULL, OPT_MAX_TIME},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct config cfg;
	struct pool cli = {0};
	char cfgpath[PATH_MAX] = "", err[512];
	int have_cli_pool = 0, dry_run = 0, max_time = 10, opt;
	int cli_donate = -1, cli_no_huge = 0, cli_keepalive = 0, cli_tls = 0, cli_bg = 0;

	config_defaults(&cfg);
	snprintf(cli.pass, sizeof(cli.pass), "x");
	cli.enabled = 1;
	while ((opt = getopt_long(argc, argv, "o:a:u:p:kc:BqhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': snprintf(cli.url, sizeof(cli.url), "%s", optarg); have_cli_pool = 1; break;
		case 'a':
			if (!algo_known(optarg)) {
				fprintf(stderr, "%s: unknown algorithm \"%s\"\n", argv[0], optarg);
				return 1;
			}
			snprintf(cli.algo, sizeof(cli.algo), "%s", optarg);
			break;
		case 'u': snprintf(cli.user, sizeof(cli.user), "%s", optarg); break;
		case 'p': snprintf(cli.pass, sizeof(cli.pass), "%s", optarg); break;
		case 'k': cli_keepalive = 1; break;
		case OPT_RIG_ID: snprintf(cli.rig_id, sizeof(cli.rig_id), "%s", optarg); break;
		case OPT_TLS: cli_tls = 1; break;
		case OPT_DONATE: cli_donate = atoi(optarg); break;
		case OPT_NO_HUGE: cli_no_huge = 1; break;
		case 'c': snprintf(cfgpath, sizeof(cfgpath), "%s", optarg); break;
		case 'B': cli_bg = 1; break;
		case OPT_DRY_RUN: dry_run = 1; break;
		case OPT_MAX_TIME: max_time = atoi(optarg); break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf("%s %s (%s)\n", APP_NAME, APP_VERSION, APP_KIND); return 0;
		default: fputs(usage_text, stderr); return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", argv[0], argv[optind]);
		return 1;
	}
	if (max_time < 1 || max_time > 60)
		max_time = 10;
	signal(SIGALRM, on_alarm);
	alarm((unsigned)max_time + 1);

	if (!cfgpath[0] && !have_cli_pool)
		default_config(cfgpath, sizeof(cfgpath));
	if (cfgpath[0] && config_load(&cfg, cfgpath, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	if (have_cli_pool) {
		cli.keepalive = cli_keepalive;
		cli.tls = cli_tls;
		cfg.pools[0] = cli;
		if (cfg.npools == 0)
			cfg.npools = 1;
	}
	if (cli_donate >= 0)
		cfg.donate_level = cli_donate;
	if (cli_no_huge)
		cfg.huge_pages = 0;
	if (cli_bg)
		cfg.background = 1;
	if (cfg.npools == 0) {
		fprintf(stderr, "%s: no pool configured (use -o or a config file with \"pools\")\n", argv[0]);
		return 1;
	}

	/* Every pool is checked before anything is dialled: one non-loopback
	 * pool and the program stops here. */
	for (int i = 0; i < cfg.npools; i++) {
		char host[128], why[512];
		int port;
		if (pool_endpoint(cfg.pools[i].url, host, sizeof(host), &port, why, sizeof(why)) != 0) {
			fprintf(stderr, "%s: %s\n", argv[0], why);
			return 2;
		}
	}

	logf_("config", "ABOUT        %s/%s (%s)", APP_NAME, APP_VERSION, APP_KIND);
	logf_("config", "HUGE PAGES   %s (not requested: inert)", cfg.huge_pages ? "enabled" : "disabled");
	logf_("config", "RANDOMX      mode %s, 1gb-pages %d, wrmsr %d (not applied: inert)",
	      cfg.randomx_mode, cfg.randomx_1gb_pages, cfg.randomx_wrmsr);
	logf_("config", "DONATE       %d%% (no donation connection: inert)", cfg.donate_level);
	if (cfg.background)
		logf_("config", "BACKGROUND   ignored (inert)");
	for (int i = 0; i < cfg.npools; i++)
		logf_("config", "POOL #%d      %s algo %s", i + 1, cfg.pools[i].url,
		      cfg.pools[i].algo[0] ? cfg.pools[i].algo : "auto");
	if (dry_run) {
		logf_("config", "OK");
		return 0;
	}
	for (int i = 0; i < cfg.npools; i++) {
		if (!cfg.pools[i].enabled)
			continue;
		return stratum_session(&cfg.pools[i], max_time);
	}
	fprintf(stderr, "%s: all pools are disabled\n", argv[0]);
	return 1;
}
