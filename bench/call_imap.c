/* The IMAP half of anncd-call: what a mail client does before it can hand
 * an attachment to a media server (RFC 5616 section 2.1).  It logs in as
 * the mailbox owner, finds the audio or video part, asks for a pawn-ticket
 * URL with GENURLAUTH (RFC 4467 section 7) and fetches the part itself, so
 * that what the media server plays can be compared byte for byte.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "bench/call.h"
#include "control/imap_resp.h"
#include "core/b64.h"
#include "core/media.h"

#define IMAP_MAX_LINE		65536
#define IMAP_MAX_RESPONSE	(256u << 20)	/* an attachment and change */

struct imap_conn {
	int fd;
	char *in;		/* received and not yet consumed */
	size_t in_len, in_cap;
	char *resp;		/* the response being assembled */
	size_t resp_len, resp_cap;
	unsigned int tag;
	int broken;		/* read or write failed: no LOGOUT */
	char error[160];	/* the last failure, for the result line */
};

typedef void imap_untagged_fn(void *ctx, const char *resp, size_t n);

static int
buf_reserve(char **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 8192;
	char *nb;

	if (need > IMAP_MAX_RESPONSE)
		return -EMSGSIZE;
	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return 0;
	nb = realloc(*buf, ncap);
	if (nb == NULL)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* Waits for more bytes from the server, until the run's deadline. */
static int
imap_read_more(struct imap_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	double left = call_deadline - call_now();
	ssize_t got;
	int rc;

	if (left <= 0)
		return -ETIMEDOUT;
	rc = buf_reserve(&c->in, &c->in_cap, c->in_len + 65536);
	if (rc < 0)
		return rc;
	rc = poll(&pfd, 1, (int)(left * 1000) + 1);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	got = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (got < 0)
		return -errno;
	if (got == 0)
		return -ECONNRESET;
	c->in_len += (size_t)got;
	return 0;
}

/* Moves n bytes from the input to the end of the response. */
static int
imap_take(struct imap_conn *c, size_t n)
{
	int rc;

	while (c->in_len < n) {
		rc = imap_read_more(c);
		if (rc < 0)
			return rc;
	}
	rc = buf_reserve(&c->resp, &c->resp_cap, c->resp_len + n + 1);
	if (rc < 0)
		return rc;
	memcpy(c->resp + c->resp_len, c->in, n);
	c->resp_len += n;
	c->resp[c->resp_len] = '\0';
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	return 0;
}

/* The n of a line that ends in "{n}" or "~{n}", or -1. */
static long long
imap_literal_len(const char *line, size_t n)
{
	long long len = 0, scale = 1;
	size_t i;

	if (n < 3 || line[n - 1] != '}')
		return -1;
	for (i = n - 1; i > 0 && isdigit((unsigned char)line[i - 1]); i--) {
		len += (line[i - 1] - '0') * scale;
		scale *= 10;
		if (scale > 1000000000000LL)
			return -1;
	}
	if (i == n - 1 || i == 0 || line[i - 1] != '{')
		return -1;
	return len;
}

/* Reads one whole response: a line and, while a line announces a literal
 * (RFC 3501 section 4.3), the literal and the line that goes on after it.
 * The response keeps its CRLFs and literals, as the server sent them.
 */
static int
imap_read_response(struct imap_conn *c)
{
	size_t start;
	ssize_t end;
	long long lit;
	int rc;

	c->resp_len = 0;
	for (int lines = 0; lines < 100000; lines++) {
		while ((end = imap_line_end(c->in, c->in_len,
					    IMAP_MAX_LINE)) == 0) {
			rc = imap_read_more(c);
			if (rc < 0)
				return rc;
		}
		if (end < 0)
			return -EBADMSG;
		start = c->resp_len;
		rc = imap_take(c, (size_t)end);
		if (rc < 0)
			return rc;
		lit = imap_literal_len(c->resp + start, (size_t)end - 2);
		if (lit < 0)
			return 0;
		rc = imap_take(c, (size_t)lit);
		if (rc < 0)
			return rc;
	}
	return -EBADMSG;
}

static int
imap_send(struct imap_conn *c, const char *s, size_t n)
{
	ssize_t put;

	while (n > 0) {
		put = send(c->fd, s, n, MSG_NOSIGNAL);
		if (put < 0)
			return -errno;
		s += put;
		n -= (size_t)put;
	}
	return 0;
}

static void __attribute__((format(printf, 2, 3)))
imap_fail(struct imap_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	fprintf(stderr, "imap: %s\n", c->error);
}

/* Sends "tagN cmd" and reads up to its tagged answer, handing each
 * untagged response to fn.  Returns 0 on OK, -EACCES on NO, -EPROTO on
 * BAD or anything else.  show is what to print of the command on error
 * (never the password of a LOGIN).
 */
static int
imap_cmd(struct imap_conn *c, const char *cmd, const char *show,
	 imap_untagged_fn *fn, void *ctx)
{
	char line[CALL_URL_MAX + 512], tag[16];
	struct imap_resp r;
	const char *eol;
	size_t first, tn;
	int n, rc;

	snprintf(tag, sizeof(tag), "c%u", ++c->tag);
	tn = strlen(tag);
	n = snprintf(line, sizeof(line), "%s %s\r\n", tag, cmd);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EMSGSIZE;
	rc = imap_send(c, line, (size_t)n);
	for (int resps = 0; rc == 0 && resps < 1000000; resps++) {
		rc = imap_read_response(c);
		if (rc < 0)
			break;
		eol = strstr(c->resp, "\r\n");
		first = (size_t)(eol - c->resp);
		if (imap_resp_parse(c->resp, first, &r) < 0) {
			rc = -EBADMSG;
			break;
		}
		if (r.tag.n == tn && memcmp(r.tag.p, tag, tn) == 0) {
			if (r.status == IMAP_ST_OK)
				return 0;
			imap_fail(c, "%s: %.*s", show, (int)first, c->resp);
			return r.status == IMAP_ST_NO ? -EACCES : -EPROTO;
		}
		if (fn != NULL)
			fn(ctx, c->resp, c->resp_len);
	}
	c->broken = 1;
	imap_fail(c, "%s: %s", show, strerror(-rc));
	return rc;
}

/* The data of "* n FETCH (...)", from its '('. */
static int
imap_fetch_data(const char *resp, size_t n, const char **data, size_t *dn)
{
	size_t i = 2;

	if (n < 2 || memcmp(resp, "* ", 2) != 0)
		return -1;
	while (i < n && isdigit((unsigned char)resp[i]))
		i++;
	if (i == 2 || n - i < 7 || strncasecmp(resp + i, " FETCH ", 7) != 0)
		return -1;
	*data = resp + i + 7;
	*dn = n - i - 7;
	return 0;
}

struct bs_ctx {
	struct bs_found found;
	int rc;
};

static void
on_bodystructure(void *ctx, const char *resp, size_t n)
{
	struct bs_ctx *b = ctx;
	const char *d;
	size_t dn;
	int rc;

	if (b->rc != -ENODATA || imap_fetch_data(resp, n, &d, &dn) < 0)
		return;
	rc = bs_find_media(d, dn, &b->found);
	if (rc != -ENODATA)
		b->rc = rc;
}

static void
on_genurlauth(void *ctx, const char *resp, size_t n)
{
	struct call_media *m = ctx;
	const char *p, *end = memchr(resp, '\r', n);
	size_t k = 0;

	if (end == NULL)
		end = resp + n;
	if (n < 14 || strncasecmp(resp, "* GENURLAUTH ", 13) != 0)
		return;
	p = resp + 13;
	/* a quoted string (Cyrus) or an atom: RFC 4467 section 9 allows both */
	if (*p == '"') {
		for (p++; p < end && *p != '"' && k < sizeof(m->url) - 1; p++) {
			if (*p == '\\')
				p++;
			m->url[k++] = *p;
		}
	} else {
		while (p < end && *p != ' ' && k < sizeof(m->url) - 1)
			m->url[k++] = *p++;
	}
	m->url[k] = '\0';
}

struct part_ctx {
	char *data;
	size_t len;
	int rc;
};

static void
on_body(void *ctx, const char *resp, size_t n)
{
	struct part_ctx *pc = ctx;
	const char *d, *v;
	size_t dn, vn;

	if (pc->data != NULL || imap_fetch_data(resp, n, &d, &dn) < 0)
		return;
	pc->rc = bs_find_item(d, dn, "BODY[", &v, &vn);
	if (pc->rc < 0)
		return;
	pc->data = malloc(vn + 1);
	if (pc->data == NULL) {
		pc->rc = -ENOMEM;
		return;
	}
	memcpy(pc->data, v, vn);
	pc->len = vn;
}

/* RFC 5092 section 9: enc-user is achar, enc-mailbox is bchar; anything
 * else is %-escaped.
 */
static int
url_enc(char *out, size_t cap, const char *s, int mailbox)
{
	static const char achar[] = "-._~!$'()*+,&=";
	size_t k = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (k + 4 > cap)
			return -ENAMETOOLONG;
		if (isalnum(ch) || strchr(achar, ch) ||
		    (mailbox && strchr(":@/", ch)))
			out[k++] = (char)ch;
		else
			k += (size_t)snprintf(out + k, 4, "%%%02X", ch);
	}
	out[k] = '\0';
	return 0;
}

static int
read_password(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -errno;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
	return 0;
}

static int
imap_login(struct imap_conn *c, const struct call_opts *o)
{
	char pass[256], qu[600], qp[600], qm[600], cmd[2048];
	int rc, nu, np, nm;

	rc = read_password(o->pass_file, pass, sizeof(pass));
	if (rc < 0) {
		imap_fail(c, "read %s: %s", o->pass_file, strerror(-rc));
		return rc;
	}
	nu = imap_quote(o->user, strlen(o->user), qu, sizeof(qu));
	np = imap_quote(pass, strlen(pass), qp, sizeof(qp));
	nm = imap_quote(o->mailbox, strlen(o->mailbox), qm, sizeof(qm));
	explicit_bzero(pass, sizeof(pass));
	if (nu < 0 || np < 0 || nm < 0)
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "LOGIN %.*s %.*s", nu, qu, np, qp);
	rc = imap_cmd(c, cmd, "LOGIN", NULL, NULL);
	explicit_bzero(cmd, sizeof(cmd));
	if (rc < 0)
		return rc;
	/* read-only: nothing here should change the \Seen flag */
	snprintf(cmd, sizeof(cmd), "EXAMINE %.*s", nm, qm);
	return imap_cmd(c, cmd, cmd, NULL, NULL);
}

static int
imap_find_part(struct imap_conn *c, const struct call_opts *o,
	       struct call_media *m)
{
	struct bs_ctx b = { .rc = -ENODATA };
	char cmd[128];
	int rc;

	snprintf(cmd, sizeof(cmd), "UID FETCH %lu BODYSTRUCTURE", o->uid);
	rc = imap_cmd(c, cmd, cmd, on_bodystructure, &b);
	if (rc < 0)
		return rc;
	if (b.rc < 0) {
		imap_fail(c, "uid %lu: %s", o->uid,
			b.rc == -ENOENT ? "no audio or video part" :
			b.rc == -ENODATA ? "no such message" :
			"malformed BODYSTRUCTURE");
		return b.rc;
	}
	snprintf(m->section, sizeof(m->section), "%s", b.found.section);
	snprintf(m->ctype, sizeof(m->ctype), "%s/%s", b.found.type,
		 b.found.subtype);
	snprintf(m->cte, sizeof(m->cte), "%s", b.found.encoding);
	printf("part: section=%s type=%s cte=%s\n", m->section, m->ctype,
	       m->cte[0] ? m->cte : "(none)");
	return 0;
}

/* The rump URL (RFC 4467 section 2) of the part, with its expiry. */
static int
imap_rump_url(const struct call_opts *o, const struct call_media *m,
	      char *out, size_t cap)
{
	char user[512], mbox[1024], exp[32];
	time_t t = time(NULL) + (time_t)o->expire_s;
	struct tm tm;
	int n;

	if (url_enc(user, sizeof(user), o->user, 0) < 0 ||
	    url_enc(mbox, sizeof(mbox), o->mailbox, 1) < 0)
		return -ENAMETOOLONG;
	/* RFC 5092 section 9: expire is an RFC 3339 date-time, here in UTC */
	gmtime_r(&t, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(out, cap, "imap://%s@%s/%s/;UID=%lu/;SECTION=%s"
		     ";EXPIRE=%s;URLAUTH=%s", user, o->imap, mbox, o->uid,
		     m->section, exp, o->access);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int
imap_genurlauth(struct imap_conn *c, const struct call_opts *o,
		struct call_media *m)
{
	char rump[CALL_URL_MAX], q[CALL_URL_MAX + 64], cmd[CALL_URL_MAX + 96];
	int rc, nq;

	rc = imap_rump_url(o, m, rump, sizeof(rump));
	if (rc < 0)
		return rc;
	nq = imap_quote(rump, strlen(rump), q, sizeof(q));
	if (nq < 0)
		return -ENAMETOOLONG;
	snprintf(cmd, sizeof(cmd), "GENURLAUTH %.*s INTERNAL", nq, q);
	m->url[0] = '\0';
	rc = imap_cmd(c, cmd, "GENURLAUTH", on_genurlauth, m);
	if (rc == 0 && m->url[0] == '\0') {
		imap_fail(c, "GENURLAUTH: no URL in the answer");
		rc = -EPROTO;
	}
	return rc;
}

/* Undoes the content-transfer-encoding: base64 through core/b64 as the
 * media server will, the identity encodings as they are.
 */
static int
part_decode(struct imap_conn *c, struct call_media *m, const char *data,
	    size_t len)
{
	struct b64_dec d;
	ssize_t got;

	if (strcmp(m->cte, "base64") == 0) {
		m->decoded = malloc(b64_decoded_max(len));
		if (m->decoded == NULL)
			return -ENOMEM;
		b64_init(&d);
		got = b64_decode(&d, data, len, m->decoded);
		if (got < 0 || b64_finish(&d) < 0) {
			imap_fail(c, "part is not valid base64 "
				  "(byte 0x%02x at %llu)", d.err_byte,
				  (unsigned long long)d.err_offset);
			return -EBADMSG;
		}
		m->decoded_len = (size_t)got;
		return 0;
	}
	if (m->cte[0] != '\0' && strcmp(m->cte, "7bit") != 0 &&
	    strcmp(m->cte, "8bit") != 0 && strcmp(m->cte, "binary") != 0)
		return -ENOTSUP;
	m->decoded = malloc(len + 1);
	if (m->decoded == NULL)
		return -ENOMEM;
	memcpy(m->decoded, data, len);
	m->decoded_len = len;
	return 0;
}

/* Finds the payload that RTP should carry, through core/media as the
 * media server will; without it the identical check says "unknown".
 */
static void
part_probe(struct call_media *m)
{
	struct media_ctype mt;
	enum media_type t = media_type_parse(m->ctype, strlen(m->ctype), &mt);
	struct media_info mi;
	const char *why = "type not known to media_probe";

	if (t != MEDIA_TYPE_UNSUPPORTED &&
	    media_probe(&mt, m->decoded, m->decoded_len, &mi, &why) == 0) {
		m->ref_off = mi.data_offset;
		m->ref_len = mi.data_len;
		m->have_ref = 1;
		printf("reference: %zu bytes decoded, payload %zu bytes "
		       "at %zu (%s)\n", m->decoded_len, m->ref_len,
		       m->ref_off, media_codec_name(mi.codec));
		return;
	}
	printf("reference: %zu bytes decoded, no payload: %s\n",
	       m->decoded_len, why);
}

static int
imap_fetch_part(struct imap_conn *c, const struct call_opts *o,
		struct call_media *m)
{
	struct part_ctx pc = { .rc = -ENOENT };
	char cmd[160];
	int rc;

	snprintf(cmd, sizeof(cmd), "UID FETCH %lu BODY.PEEK[%s]", o->uid,
		 m->section);
	rc = imap_cmd(c, cmd, cmd, on_body, &pc);
	if (rc == 0 && pc.data == NULL) {
		imap_fail(c, "%s: no body in the answer", cmd);
		rc = pc.rc < 0 ? pc.rc : -EPROTO;
	}
	if (rc < 0)
		goto out;
	rc = part_decode(c, m, pc.data, pc.len);
	if (rc == 0)
		part_probe(m);
	else if (rc == -ENOTSUP)
		rc = 0;		/* streamable perhaps, but not comparable */
out:
	free(pc.data);
	return rc;
}

static int
imap_connect(struct imap_conn *c, const char *hostport)
{
	struct sockaddr_in sa;
	int rc;

	rc = call_resolve(hostport, 143, &sa);
	if (rc == 0)	/* imap_line_end is never handed a NULL buffer */
		rc = buf_reserve(&c->in, &c->in_cap, 65536);
	if (rc < 0)
		return rc;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		imap_fail(c, "connect %s: %s", hostport, strerror(errno));
		return rc;
	}
	rc = imap_read_response(c);	/* the greeting */
	if (rc == 0 && strncasecmp(c->resp, "* OK", 4) != 0) {
		imap_fail(c, "greeting: %.*s",
			(int)strcspn(c->resp, "\r\n"), c->resp);
		rc = -EPROTO;
	}
	return rc;
}

int
call_imap_run(const struct call_opts *o, struct call_media *m)
{
	struct imap_conn c = { .fd = -1 };
	int rc;

	rc = imap_connect(&c, o->imap);
	if (rc < 0)
		goto out;
	rc = imap_login(&c, o);
	if (rc == 0)
		rc = imap_find_part(&c, o, m);
	if (rc == 0)
		rc = imap_genurlauth(&c, o, m);
	if (rc == 0)
		rc = imap_fetch_part(&c, o, m);
	if (!c.broken)
		imap_cmd(&c, "LOGOUT", "LOGOUT", NULL, NULL);
out:
	if (rc < 0)
		snprintf(m->error, sizeof(m->error), "imap: %s",
			 c.error[0] ? c.error : strerror(-rc));
	if (c.fd >= 0)
		close(c.fd);
	free(c.in);
	free(c.resp);
	return rc;
}
