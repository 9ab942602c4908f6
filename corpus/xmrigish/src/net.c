/* The only network code. pool_endpoint decides whether a pool is on
 * loopback. A literal address is judged from its text alone (anything but
 * 127.0.0.0/8 and ::1 is refused before any socket). A name is looked up only
 * through a loopback nameserver listed in resolv.conf (none there: refused
 * without a lookup), by one DNS query sent to that address and nowhere else,
 * and accepted only if every answer is loopback. So inside a sandbox whose
 * resolver answers 127.x it talks to the sandbox, and nowhere else. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "xmrigish.h"

/* Tests compile a copy with their own resolv.conf and resolver port. */
#ifndef XMRIGISH_RESOLV_CONF
#define XMRIGISH_RESOLV_CONF "/etc/resolv.conf"
#endif
#ifndef XMRIGISH_DNS_PORT
#define XMRIGISH_DNS_PORT 53
#endif

/* XMRig's stratum JSON-RPC method names (src/base/net/stratum/Client.cpp).
 * "submit" is listed for completeness: this program never sends it. */
static const char *const kMethodLogin = "login";
static const char *const kMethodJob = "job";
static const char *const kMethodKeepalived = "keepalived";
static const char *const kMethodSubmit = "submit";

/* loopback_nameserver finds the first "nameserver" line of resolv.conf whose
 * address is IPv4 loopback. Returns 0 and fills sa, or -1. */
static int loopback_nameserver(struct sockaddr_in *sa)
{
	FILE *f = fopen(XMRIGISH_RESOLV_CONF, "r");
	char line[256], addr[64];
	struct in_addr a4;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " nameserver %63s", addr) != 1)
			continue;
		if (inet_pton(AF_INET, addr, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) {
			memset(sa, 0, sizeof(*sa));
			sa->sin_family = AF_INET;
			sa->sin_port = htons(XMRIGISH_DNS_PORT);
			sa->sin_addr = a4;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

/* skip_name steps over a (possibly compressed) DNS name at off. */
static int skip_name(const unsigned char *m, int n, int off)
{
	while (off < n) {
		unsigned char l = m[off];
		if (l == 0)
			return off + 1;
		if ((l & 0xc0) == 0xc0)
			return off + 2 <= n ? off + 2 : -1;
		off += 1 + l;
	}
	return -1;
}

/* resolve_loopback sends one A query for name to the loopback nameserver and
 * writes the first answer to out. Returns 0 if there is at least one A answer
 * and every one is loopback, -1 otherwise (why explains). */
static int resolve_loopback(const char *name, char *out, size_t outlen,
			    char *why, size_t whylen)
{
	struct sockaddr_in ns;
	unsigned char q[300], r[1500];
	int qn, fd, n, off, nan, found = 0;
	unsigned short id;
	struct timeval tv = {3, 0};
	const char *p = name;

	if (loopback_nameserver(&ns) != 0) {
		snprintf(why, whylen, "refusing to resolve %s: no loopback resolver in "
			 XMRIGISH_RESOLV_CONF " (no name is looked up, no socket is opened)", name);
		return -1;
	}
	id = (unsigned short)(time(NULL) ^ getpid());
	memset(q, 0, 12);
	q[0] = id >> 8;
	q[1] = id & 0xff;
	q[2] = 0x01; /* recursion desired */
	q[5] = 1;    /* one question */
	qn = 12;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || qn + (int)l + 6 > (int)sizeof(q)) {
			snprintf(why, whylen, "refusing pool host \"%s\": not a valid name", name);
			return -1;
		}
		q[qn++] = (unsigned char)l;
		memcpy(q + qn, p, l);
		qn += (int)l;
		p += l;
		if (*p == '.')
			p++;
	}
	q[qn++] = 0;
	q[qn++] = 0, q[qn++] = 1; /* A */
	q[qn++] = 0, q[qn++] = 1; /* IN */

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		snprintf(why, whylen, "resolve %s: socket: %s", name, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* connect() pins the only peer: replies from elsewhere are dropped. */
	if (connect(fd, (struct sockaddr *)&ns, sizeof(ns)) != 0 ||
	    send(fd, q, (size_t)qn, 0) != qn) {
		snprintf(why, whylen, "resolve %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	n = (int)recv(fd, r, sizeof(r), 0);
	close(fd);
	if (n < 12 || r[0] != q[0] || r[1] != q[1] || (r[3] & 0x0f) != 0) {
		snprintf(why, whylen, "resolve %s: no usable answer from the loopback resolver", name);
		return -1;
	}
	nan = r[6] << 8 | r[7];
	off = skip_name(r, n, 12);
	off = off < 0 ? -1 : off + 4;
	for (int i = 0; i < nan && off >= 0 && off + 10 <= n; i++) {
		int type, rdlen;
		off = skip_name(r, n, off);
		if (off < 0 || off + 10 > n)
			break;
		type = r[off] << 8 | r[off + 1];
		rdlen = r[off + 8] << 8 | r[off + 9];
		off += 10;
		if (off + rdlen > n)
			break;
		if (type == 1 && rdlen == 4) {
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, r + off, a, sizeof(a));
			if (r[off] != 127) {
				snprintf(why, whylen, "refusing non-loopback pool \"%s\": it resolves to %s", name, a);
				return -1;
			}
			if (!found)
				snprintf(out, outlen, "%s", a);
			found = 1;
		}
		off += rdlen;
	}
	if (!found) {
		snprintf(why, whylen, "resolve %s: no address", name);
		return -1;
	}
	return 0;
}

int pool_endpoint(const char *url, char *host, size_t hostlen, int *port,
		  char *why, size_t whylen)
{
	const char *s = strstr(url, "://");
	const char *colon;
	char *end;
	long pn;
	struct in_addr a4;
	struct in6_addr a6;

	s = s ? s + 3 : url;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':') {
			snprintf(why, whylen, "malformed pool url \"%s\"", url);
			return -1;
		}
		snprintf(host, hostlen, "%.*s", (int)(rb - s - 1), s + 1);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(why, whylen, "pool url \"%s\" has no port", url);
			return -1;
		}
		snprintf(host, hostlen, "%.*s", (int)(colon - s), s);
	}
	pn = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || (*end && *end != '/') || pn < 1 || pn > 65535) {
		snprintf(why, whylen, "pool url \"%s\" has a bad port", url);
		return -1;
	}
	*port = (int)pn;

	if (strcmp(host, "localhost") == 0) {
		snprintf(host, hostlen, "127.0.0.1");
		return 0;
	}
	if (inet_pton(AF_INET, host, &a4) == 1) {
		if ((ntohl(a4.s_addr) >> 24) == 127)
			return 0;
	} else if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 0;
	} else if (!strchr(host, ':') && !strchr(host, '%')) {
		char resolved[INET_ADDRSTRLEN];
		if (resolve_loopback(host, resolved, sizeof(resolved), why, whylen) != 0)
			return -1;
		snprintf(host, hostlen, "%s", resolved);
		return 0;
	}
	snprintf(why, whylen,
		 "refusing non-loopback pool \"%s\": this " APP_KIND
		 " only talks to 127.0.0.1 (no name is resolved, no socket is opened)", url);
	return -1;
}

static int send_line(int fd, const char *line)
{
	size_t n = strlen(line), off = 0;
	while (off < n) {
		ssize_t w = send(fd, line + off, n - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* recv_line reads one newline-terminated JSON-RPC message. */
static int recv_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	while (n + 1 < len) {
		char c;
		ssize_t r = recv(fd, &c, 1, 0);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

static void user_agent(char *out, size_t n)
{
#if defined(__GNUC__)
	snprintf(out, n, "%s/%s (Linux x86_64) libuv/1.48.0 gcc/%d.%d.%d",
		 APP_NAME, APP_VERSION, __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
	snprintf(out, n, "%s/%s (Linux x86_64) libuv/1.48.0", APP_NAME, APP_VERSION);
#endif
}

int stratum_session(const struct pool *p, int timeout_sec)
{
	char host[128], why[512], agent[128];
	char user[600], pass[300], rig[160], req[2048], line[8192];
	const char *algos[32];
	size_t nalgo;
	int port, fd, rc = 1;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct timeval tv = {timeout_sec, 0};
	struct jv *reply = NULL;

	/* Checked (and a name resolved) again here, right before the only
	 * stream socket() call. */
	if (pool_endpoint(p->url, host, sizeof(host), &port, why, sizeof(why)) != 0) {
		logf_("net", "%s", why);
		return 2;
	}
	if (p->tls) {
		logf_("net", "TLS pools are not implemented by the " APP_KIND);
		return 2;
	}
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
	if (fd < 0) {
		logf_("net", "socket: %s", strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		logf_("net", "%s:%d connect error: \"%s\"", host, port, strerror(errno));
		close(fd);
		return 1;
	}
	logf_("net", "use pool %s:%d %s", host, port, p->algo[0] ? p->algo : "");

	user_agent(agent, sizeof(agent));
	json_escape(p->user, user, sizeof(user));
	json_escape(p->pass, pass, sizeof(pass));
	json_escape(p->rig_id, rig, sizeof(rig));
	nalgo = algo_list(algos, 32);
	{
		size_t o = (size_t)snprintf(req, sizeof(req),
			"{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":{\"login\":%s,\"pass\":%s,\"agent\":\"%s\"",
			kMethodLogin, user, pass, agent);
		if (p->rig_id[0])
			o += (size_t)snprintf(req + o, sizeof(req) - o, ",\"rigid\":%s", rig);
		o += (size_t)snprintf(req + o, sizeof(req) - o, ",\"algo\":[");
		for (size_t i = 0; i < nalgo && o < sizeof(req); i++)
			o += (size_t)snprintf(req + o, sizeof(req) - o, "%s\"%s\"", i ? "," : "", algos[i]);
		if (o < sizeof(req))
			snprintf(req + o, sizeof(req) - o, "]}}\n");
	}
	if (send_line(fd, req) != 0) {
		logf_("net", "send %s: %s", kMethodLogin, strerror(errno));
		goto out;
	}
	if (recv_line(fd, line, sizeof(line)) != 0) {
		logf_("net", "no reply to %s", kMethodLogin);
		goto out;
	}
	reply = json_parse(line, why, sizeof(why));
	if (!reply) {
		logf_("net", "bad reply: %s", why);
		goto out;
	}
	{
		const struct jv *err = json_get(reply, "error");
		const struct jv *res = json_get(reply, "result");
		const struct jv *job = json_get(res, kMethodJob);
		const char *rpcid = json_str(res, "id", "");
		char rid[160];

		if (err && err->type != J_NULL) {
			logf_("net", "%s:%d login error: \"%s\"", host, port, json_str(err, "message", "?"));
			goto out;
		}
		if (!job) {
			logf_("net", "%s:%d login reply has no job", host, port);
			goto out;
		}
		logf_("net", "new job from %s:%d diff target %s algo %s height %.0f",
		      host, port, json_str(job, "target", "?"), json_str(job, "algo", "?"),
		      json_num(job, "height", 0));
		logf_("cpu", "inert: not hashing job %s; \"%s\" is never sent",
		      json_str(job, "job_id", "?"), kMethodSubmit);
		if (p->keepalive) {
			json_escape(rpcid, rid, sizeof(rid));
			snprintf(req, sizeof(req),
				 "{\"id\":2,\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":{\"id\":%s}}\n",
				 kMethodKeepalived, rid);
			if (send_line(fd, req) != 0 || recv_line(fd, line, sizeof(line)) != 0) {
				logf_("net", "%s: no reply", kMethodKeepalived);
				goto out;
			}
			logf_("net", "%s acknowledged", kMethodKeepalived);
		}
		rc = 0;
	}
out:
	json_free(reply);
	close(fd);
	return rc;
}
