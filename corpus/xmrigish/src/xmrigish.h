/*
 * xmrigish: an INERT, XMRig-like stand-in used only by strata's tests.
 *
 * It reads an xmrig-style config.json, refuses every pool that is not a
 * loopback address before creating any socket, and against a loopback pool
 * sends one JSON-RPC "login", reads the job, optionally sends one
 * "keepalived" and exits. It never hashes and never submits a share.
 */
#ifndef XMRIGISH_H
#define XMRIGISH_H

#include <stddef.h>

#define APP_NAME    "XMRig"
#define APP_VERSION "6.26.0"
#define APP_KIND    "inert stand-in"

/* ---- json.c: a small JSON reader, enough for config.json and replies ---- */
enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype type;
	char *key;         /* member name when inside an object */
	char *str;         /* J_STR */
	double num;        /* J_NUM */
	int boolean;       /* J_BOOL */
	struct jv *child;  /* first element / member */
	struct jv *next;   /* next sibling */
};

struct jv *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct jv *v);
const struct jv *json_get(const struct jv *obj, const char *key);
const char *json_str(const struct jv *obj, const char *key, const char *def);
double json_num(const struct jv *obj, const char *key, double def);
int json_bool(const struct jv *obj, const char *key, int def);
/* json_escape writes s as a quoted JSON string into out (NUL-terminated). */
int json_escape(const char *s, char *out, size_t outlen);

/* ---- algo.c: algorithm names as XMRig spells them ---- */
int algo_known(const char *name);
const char *algo_family(const char *name);
size_t algo_list(const char **out, size_t max);

/* ---- config.c ---- */
#define MAX_POOLS 8

struct pool {
	char url[256];
	char user[256];
	char pass[128];
	char rig_id[64];
	char algo[32];
	int keepalive;
	int tls;
	int enabled;
};

struct config {
	struct pool pools[MAX_POOLS];
	int npools;
	int donate_level;
	int background;
	int huge_pages;
	int huge_pages_jit;
	int cpu_priority;
	int max_threads_hint;
	char randomx_mode[16];
	int randomx_1gb_pages;
	int randomx_wrmsr;
	char log_file[256];
	int retries;
	int retry_pause;
};

void config_defaults(struct config *c);
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/* ---- net.c ---- */
/* pool_endpoint splits "host:port" (with optional scheme) and checks that the
 * host is on loopback: a literal loopback address, or a name that the
 * loopback nameserver of resolv.conf maps only to loopback (host is then
 * replaced by the address). Returns 0 if loopback, -1 otherwise (why
 * explains). */
int pool_endpoint(const char *url, char *host, size_t hostlen, int *port,
		  char *why, size_t whylen);
int stratum_session(const struct pool *p, int timeout_sec);

/* ---- log ---- */
void logf_(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
