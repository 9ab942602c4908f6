/* config.json in XMRig's layout (src/config.json): pools[], cpu{},
 * randomx{}, donate-level, background, log-file, retries, retry-pause. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmrigish.h"

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->donate_level = 1; /* kDefaultDonateLevel */
	c->huge_pages = 1;
	c->huge_pages_jit = 0;
	c->cpu_priority = -1;
	c->max_threads_hint = 100;
	copy(c->randomx_mode, sizeof(c->randomx_mode), "auto");
	c->randomx_wrmsr = 1;
	c->retries = 5;
	c->retry_pause = 5;
}

static int read_file(const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf;

	if (!f) {
		snprintf(err, errlen, "cannot open %s", path);
		return -1;
	}
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
		if (n + 1 >= cap) {
			char *bigger;
			if (cap > (1u << 20)) {
				snprintf(err, errlen, "%s is larger than 1 MiB", path);
				free(buf);
				fclose(f);
				return -1;
			}
			bigger = realloc(buf, cap *= 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
			}
			buf = bigger;
		}
	}
	fclose(f);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static void load_pool(struct pool *p, const struct jv *o)
{
	memset(p, 0, sizeof(*p));
	copy(p->url, sizeof(p->url), json_str(o, "url", ""));
	copy(p->user, sizeof(p->user), json_str(o, "user", ""));
	copy(p->pass, sizeof(p->pass), json_str(o, "pass", "x"));
	copy(p->rig_id, sizeof(p->rig_id), json_str(o, "rig-id", ""));
	copy(p->algo, sizeof(p->algo), json_str(o, "algo", ""));
	p->keepalive = json_bool(o, "keepalive", 0);
	p->tls = json_bool(o, "tls", 0);
	p->enabled = json_bool(o, "enabled", 1);
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	char *text;
	struct jv *root;
	const struct jv *pools, *cpu, *rx;

	if (read_file(path, &text, err, errlen) != 0)
		return -1;
	root = json_parse(text, err, errlen);
	free(text);
	if (!root)
		return -1;
	if (root->type != J_OBJ) {
		snprintf(err, errlen, "%s: top level is not an object", path);
		json_free(root);
		return -1;
	}

	pools = json_get(root, "pools");
	if (pools && pools->type == J_ARR) {
		c->npools = 0;
		for (const struct jv *p = pools->child; p && c->npools < MAX_POOLS; p = p->next)
			if (p->type == J_OBJ)
				load_pool(&c->pools[c->npools++], p);
	}

	cpu = json_get(root, "cpu");
	if (cpu) {
		c->huge_pages = json_bool(cpu, "huge-pages", c->huge_pages);
		c->huge_pages_jit = json_bool(cpu, "huge-pages-jit", c->huge_pages_jit);
		c->cpu_priority = (int)json_num(cpu, "priority", c->cpu_priority);
		c->max_threads_hint = (int)json_num(cpu, "max-threads-hint", c->max_threads_hint);
	}
	rx = json_get(root, "randomx");
	if (rx) {
		copy(c->randomx_mode, sizeof(c->randomx_mode), json_str(rx, "mode", c->randomx_mode));
		c->randomx_1gb_pages = json_bool(rx, "1gb-pages", c->randomx_1gb_pages);
		c->randomx_wrmsr = json_bool(rx, "wrmsr", c->randomx_wrmsr);
	}
	c->donate_level = (int)json_num(root, "donate-level", c->donate_level);
	c->background = json_bool(root, "background", c->background);
	c->retries = (int)json_num(root, "retries", c->retries);
	c->retry_pause = (int)json_num(root, "retry-pause", c->retry_pause);
	copy(c->log_file, sizeof(c->log_file), json_str(root, "log-file", c->log_file));
	json_free(root);
	return 0;
}
