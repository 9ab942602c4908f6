/* Minimal JSON reader: objects, arrays, strings (with \uXXXX for ASCII),
 * numbers, true/false/null. Enough for xmrig-style config.json files and
 * pool replies; not a general-purpose library. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmrigish.h"

struct parser {
	const char *p;
	char *err;
	size_t errlen;
	int depth;
};

static struct jv *parse_value(struct parser *ps);

static void fail(struct parser *ps, const char *what)
{
	if (ps->err && ps->err[0] == '\0')
		snprintf(ps->err, ps->errlen, "%s near '%.16s'", what, ps->p);
}

static void skip_ws(struct parser *ps)
{
	for (;;) {
		while (isspace((unsigned char)*ps->p))
			ps->p++;
		/* xmrig's config loader (rapidjson) accepts comments; so do we. */
		if (ps->p[0] == '/' && ps->p[1] == '/') {
			while (*ps->p && *ps->p != '\n')
				ps->p++;
			continue;
		}
		if (ps->p[0] == '/' && ps->p[1] == '*') {
			const char *e = strstr(ps->p + 2, "*/");
			ps->p = e ? e + 2 : ps->p + strlen(ps->p);
			continue;
		}
		return;
	}
}

static char *parse_string_raw(struct parser *ps)
{
	size_t cap = 32, n = 0;
	char *out;

	if (*ps->p != '"') {
		fail(ps, "expected string");
		return NULL;
	}
	ps->p++;
	out = malloc(cap);
	if (!out)
		return NULL;
	while (*ps->p && *ps->p != '"') {
		char c = *ps->p++;
		if (c == '\\') {
			char e = *ps->p++;
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				unsigned v = 0;
				for (int i = 0; i < 4; i++) {
					char h = *ps->p++;
					v <<= 4;
					if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
					else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
					else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
					else { fail(ps, "bad \\u escape"); free(out); return NULL; }
				}
				c = v < 0x80 ? (char)v : '?';
				break;
			}
			case '\0': fail(ps, "unterminated escape"); free(out); return NULL;
			default: c = e; break;
			}
		}
		if (n + 1 >= cap) {
			char *bigger = realloc(out, cap *= 2);
			if (!bigger) { free(out); return NULL; }
			out = bigger;
		}
		out[n++] = c;
	}
	if (*ps->p != '"') {
		fail(ps, "unterminated string");
		free(out);
		return NULL;
	}
	ps->p++;
	out[n] = '\0';
	return out;
}

static struct jv *node(enum jtype t)
{
	struct jv *v = calloc(1, sizeof(*v));
	if (v)
		v->type = t;
	return v;
}

static struct jv *parse_container(struct parser *ps, int object)
{
	char close = object ? '}' : ']';
	struct jv *v = node(object ? J_OBJ : J_ARR), **tail;

	if (!v)
		return NULL;
	tail = &v->child;
	ps->p++;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		struct jv *item;

		skip_ws(ps);
		if (object) {
			key = parse_string_raw(ps);
			if (!key)
				goto bad;
			skip_ws(ps);
			if (*ps->p != ':') {
				free(key);
				fail(ps, "expected ':'");
				goto bad;
			}
			ps->p++;
		}
		item = parse_value(ps);
		if (!item) {
			free(key);
			goto bad;
		}
		item->key = key;
		*tail = item;
		tail = &item->next;
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			skip_ws(ps);
			if (*ps->p == close) { /* trailing comma, tolerated */
				ps->p++;
				return v;
			}
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return v;
		}
		fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
		goto bad;
	}
bad:
	json_free(v);
	return NULL;
}

static struct jv *parse_value(struct parser *ps)
{
	struct jv *v;

	if (++ps->depth > 64) {
		fail(ps, "nesting too deep");
		return NULL;
	}
	skip_ws(ps);
	switch (*ps->p) {
	case '{':
		v = parse_container(ps, 1);
		break;
	case '[':
		v = parse_container(ps, 0);
		break;
	case '"':
		v = node(J_STR);
		if (v && !(v->str = parse_string_raw(ps))) {
			free(v);
			v = NULL;
		}
		break;
	case 't':
	case 'f':
	case 'n': {
		static const struct { const char *w; enum jtype t; int b; } words[] = {
			{"true", J_BOOL, 1}, {"false", J_BOOL, 0}, {"null", J_NULL, 0},
		};
		v = NULL;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			size_t n = strlen(words[i].w);
			if (strncmp(ps->p, words[i].w, n) == 0) {
				v = node(words[i].t);
				if (v)
					v->boolean = words[i].b;
				ps->p += n;
				break;
			}
		}
		if (!v)
			fail(ps, "unexpected word");
		break;
	}
	default: {
		char *end;
		double d = strtod(ps->p, &end);
		if (end == ps->p) {
			fail(ps, "unexpected character");
			v = NULL;
			break;
		}
		ps->p = end;
		v = node(J_NUM);
		if (v)
			v->num = d;
	}
	}
	ps->depth--;
	return v;
}

struct jv *json_parse(const char *text, char *err, size_t errlen)
{
	struct parser ps = {text, err, errlen, 0};
	struct jv *v;

	if (err && errlen)
		err[0] = '\0';
	v = parse_value(&ps);
	if (!v)
		return NULL;
	skip_ws(&ps);
	if (*ps.p) {
		fail(&ps, "trailing data");
		json_free(v);
		return NULL;
	}
	return v;
}

void json_free(struct jv *v)
{
	while (v) {
		struct jv *next = v->next;
		json_free(v->child);
		free(v->key);
		free(v->str);
		free(v);
		v = next;
	}
}

const struct jv *json_get(const struct jv *obj, const char *key)
{
	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (const struct jv *m = obj->child; m; m = m->next)
		if (m->key && strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

const char *json_str(const struct jv *obj, const char *key, const char *def)
{
	const struct jv *v = json_get(obj, key);
	return v && v->type == J_STR ? v->str : def;
}

double json_num(const struct jv *obj, const char *key, double def)
{
	const struct jv *v = json_get(obj, key);
	return v && v->type == J_NUM ? v->num : def;
}

int json_bool(const struct jv *obj, const char *key, int def)
{
	const struct jv *v = json_get(obj, key);
	if (!v)
		return def;
	if (v->type == J_BOOL)
		return v->boolean;
	if (v->type == J_NUM)
		return v->num != 0;
	return def;
}

int json_escape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

#define PUT(ch) do { if (n + 1 >= outlen) return -1; out[n++] = (ch); } while (0)
	PUT('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c < 0x20) {
			char hex[7];
			snprintf(hex, sizeof(hex), "\\u%04x", c);
			for (int i = 0; hex[i]; i++)
				PUT(hex[i]);
		} else {
			PUT((char)c);
		}
	}
	PUT('"');
#undef PUT
	out[n] = '\0';
	return (int)n;
}
