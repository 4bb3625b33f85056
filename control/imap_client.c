/* URLFETCH (RFC 4467 section 7) over pooled IMAP connections driven by the
 * io_uring loop.  A connection belongs to one server and one identity; it
 * connects, maybe starts TLS (RFC 8314 implicit, or STARTTLS per RFC 3501
 * section 6.2.1), learns the capabilities, logs in, then carries any
 * number of pipelined URLFETCH commands (RFC 3501 section 5.5), each with
 * its own tag.  Idle, it is kept alive with NOOP and closed with LOGOUT
 * after --imap-idle-ms.  The literal of each answer is copied into content
 * chunks as it arrives, base64 or not: decoding a large one here would
 * hold this thread, which also runs SIP, for milliseconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "control/imap_client.h"
#include "control/imap_resp.h"
#include "control/loop.h"
#include "control/tls.h"
#include "core/log.h"

#define IMAP_RBUF	16384	/* longest response line accepted */
#define IMAP_NETBUF	16384	/* ciphertext read at once */
#define IMAP_LOGOUT_MS	2000	/* wait for LOGOUT's answer this long */
#define IMAP_PIPELINE	16	/* commands in flight on one connection */

#define IMAP_LOG(lvl, f, fmt, ...) \
	LOG_AT(lvl, "imap", "%s: " fmt, (f)->log_id, ##__VA_ARGS__)
#define CONN_LOG(lvl, c, fmt, ...) \
	LOG_AT(lvl, "imap", "%s:%u#%" PRIu64 ": " fmt, (c)->host, \
	       ntohs((c)->addr.sin_port), (c)->id, ##__VA_ARGS__)

enum conn_state {
	CONN_CONNECTING,
	CONN_TLS,		/* handshake */
	CONN_GREETING,
	CONN_COMMAND,		/* a set-up command answered by ctl_tag */
	CONN_READY,		/* logged in: URLFETCH and NOOP */
	CONN_LOGOUT,
	CONN_CLOSING,
};

/* What the set-up command in flight is, to act on its tagged answer. */
enum conn_cmd {
	CMD_NONE,
	CMD_CAPABILITY,
	CMD_STARTTLS,
	CMD_AUTH,
	CMD_NOOP,
};

struct out_buf {
	char *p;
	size_t len, cap;
};

struct imap_conn {
	struct imap_conn *next;		/* all connections */
	uint64_t id;
	enum conn_state state;
	enum conn_cmd cmd;
	int fd;
	unsigned int pending;		/* submissions not yet completed */
	struct loop_op op_connect, op_recv, op_send, op_cancel;
	uint64_t deadline_ms;		/* LOGOUT only */
	uint64_t idle_since_ms;		/* last fetch answered */
	uint64_t last_cmd_ms;		/* last command sent */

	/* identity: the pool's key */
	struct sockaddr_in addr;
	char host[256];
	enum imap_security security;
	int plaintext_ok;
	int anonymous;
	char user[128];
	char pass[128];

	struct tls_conn *tls;		/* NULL until TLS starts */
	unsigned int caps;
	int caps_known, authed, reused;
	unsigned int tag_seq;
	char ctl_tag[12];		/* tag of the set-up command */
	char sasl[400];			/* SASL response awaiting "+" */

	struct imap_fetch *head, *tail;	/* attached fetches, in tag order */
	unsigned int n_fetches;
	struct imap_fetch *lit_fetch;	/* receiving the open literal */
	uint64_t lit_left;		/* literal bytes still to come */
	int in_urlfetch;		/* next line continues a URLFETCH */

	char rbuf[IMAP_RBUF];		/* plaintext */
	size_t rlen;
	size_t rest;			/* bytes after the line in hand */
	char net[IMAP_NETBUF];		/* ciphertext received */
	struct out_buf q, s;		/* queued, and being sent */
	size_t soff;
};

struct imap_fetch {
	struct imap_fetch *prev, *next;	/* all fetches, for the tick */
	struct imap_fetch *cnext;	/* on its connection */
	struct imap_conn *conn;
	uint64_t deadline_ms;
	char tag[12];			/* empty until sent */
	int answered;			/* its untagged URLFETCH came */
	int failed;			/* reported already: skip its data */
	int requeued;

	imap_fetch_done done;		/* NULL once reported or cancelled */
	void *arg;

	int base64_req;			/* the request's encoding */
	int base64;			/* the literal being read is base64 */
	uint64_t max_literal;
	uint64_t lit_left;		/* literal bytes still to come */
	int in_literal;
	int got_nil;
	struct content *content;

	char log_id[96];
	size_t url_len;
	char url[];
};

static struct imap_fetch *fetches;
static struct imap_conn *conns;
static struct imap_client_opts opts = { NULL, 30000, 4 };
static uint64_t connections_opened;

#define CONN_OF(opp, member) \
	((struct imap_conn *)((char *)(opp) - offsetof(struct imap_conn, member)))

static void conn_fail(struct imap_conn *c, int status, const char *reason);
static void conn_advance(struct imap_conn *c);
static void conn_recv(struct imap_conn *c);
static void conn_send_fetches(struct imap_conn *c);

uint64_t
imap_connections_opened(void)
{
	return connections_opened;
}

int
imap_client_init(const struct imap_client_opts *o)
{
	opts = *o;
	if (opts.max_conns == 0)
		opts.max_conns = 1;
	return tls_init(o->ca_file);
}

/* ------------------------------------------------------------------ */
/* Fetches */

static void
fetch_report(struct imap_fetch *f, int status, const char *reason)
{
	imap_fetch_done done = f->done;
	struct content *c = NULL;

	if (done == NULL)
		return;
	f->done = NULL;
	if (status == 0) {
		c = f->content;
		f->content = NULL;
	}
	done(f->arg, status, reason, c, status == 0 && f->base64);
}

/* A failure ends the fetch for its caller; the fetch itself stays on its
 * connection until the tagged answer, its data skipped. */
static void
fetch_fail(struct imap_fetch *f, int status, const char *reason)
{
	if (f->done != NULL)
		IMAP_LOG(LOGL_INFO, f, "fetch failed: %s", reason);
	f->failed = 1;
	fetch_report(f, status, reason);
}

static void
fetch_free(struct imap_fetch *f)
{
	if (f->content != NULL)
		content_put(f->content);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		fetches = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	free(f);
}

static void
conn_unlink_fetch(struct imap_conn *c, struct imap_fetch *f)
{
	struct imap_fetch **pp = &c->head, *prev = NULL;

	while (*pp != NULL && *pp != f) {
		prev = *pp;
		pp = &(*pp)->cnext;
	}
	if (*pp == NULL)
		return;
	*pp = f->cnext;
	if (c->tail == f)
		c->tail = prev;
	if (c->lit_fetch == f)
		c->lit_fetch = NULL;
	c->n_fetches--;
	f->conn = NULL;
	f->cnext = NULL;
	if (c->n_fetches == 0)
		c->idle_since_ms = loop_now_ms();
}

static void
conn_attach(struct imap_conn *c, struct imap_fetch *f)
{
	f->conn = c;
	f->cnext = NULL;
	if (c->tail != NULL)
		c->tail->cnext = f;
	else
		c->head = f;
	c->tail = f;
	c->n_fetches++;
}

/* ------------------------------------------------------------------ */
/* Connection I/O: one send and one receive in flight at a time */

static void
conn_free_if_idle(struct imap_conn *c)
{
	struct imap_conn **pp;

	if (c->state != CONN_CLOSING || c->pending != 0)
		return;
	if (c->fd >= 0)
		close(c->fd);
	tls_conn_free(c->tls);
	for (pp = &conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	explicit_bzero(c->pass, sizeof(c->pass));
	explicit_bzero(c->sasl, sizeof(c->sasl));
	if (c->q.p != NULL)
		explicit_bzero(c->q.p, c->q.cap);
	if (c->s.p != NULL)
		explicit_bzero(c->s.p, c->s.cap);
	free(c->q.p);
	free(c->s.p);
	free(c);
}

/* Drops the connection; its fetches must be gone already. */
static void
conn_close(struct imap_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	if (c->pending != 0 && c->fd >= 0) {
		/* Whatever is in flight completes with -ECANCELED (or an
		 * error) and frees us from its callback. */
		sqe = loop_sqe(&c->op_cancel);
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		c->pending++;
		shutdown(c->fd, SHUT_RDWR);
	}
	conn_free_if_idle(c);
}

static int
out_append(struct out_buf *b, const void *p, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *np;

	while (cap - b->len < n)
		cap *= 2;
	if (cap != b->cap) {
		np = realloc(b->p, cap);
		if (np == NULL)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* Starts sending the queued bytes unless a send is in flight: the kernel
 * reads s while q keeps growing. */
static void
conn_flush(struct imap_conn *c)
{
	struct out_buf t;
	struct io_uring_sqe *sqe;

	if (c->s.len != 0 || c->q.len == 0 || c->state == CONN_CLOSING ||
	    c->state == CONN_CONNECTING)
		return;
	t = c->s;
	c->s = c->q;
	c->q = t;
	c->soff = 0;
	sqe = loop_sqe(&c->op_send);
	io_uring_prep_send(sqe, c->fd, c->s.p, c->s.len, MSG_NOSIGNAL);
	c->pending++;
}

/* Moves what OpenSSL wrote (records, alerts) to the send queue. */
static int
conn_tls_out(struct imap_conn *c)
{
	char buf[4096];
	size_t n;

	while ((n = tls_take(c->tls, buf, sizeof(buf))) > 0)
		if (out_append(&c->q, buf, n) < 0)
			return -ENOMEM;
	conn_flush(c);
	return 0;
}

static int
conn_write(struct imap_conn *c, const char *p, size_t n)
{
	c->last_cmd_ms = loop_now_ms();
	if (c->tls == NULL) {
		if (out_append(&c->q, p, n) < 0)
			return -ENOMEM;
		conn_flush(c);
		return 0;
	}
	if (tls_write(c->tls, p, n) < 0)
		return -EIO;
	return conn_tls_out(c);
}

/* Each callback keeps its own submission counted in c->pending until it
 * returns, so that a failure inside it cannot free c under its feet. */
static void
op_finish(struct imap_conn *c)
{
	c->pending--;
	conn_free_if_idle(c);
}

static void
on_send(struct loop_op *op, int res)
{
	struct imap_conn *c = CONN_OF(op, op_send);
	struct io_uring_sqe *sqe;

	if (c->state == CONN_CLOSING)
		goto out;
	if (res < 0) {
		conn_fail(c, res, "IMAP connection failed");
		goto out;
	}
	c->soff += (size_t)res;
	if (c->soff < c->s.len) {
		sqe = loop_sqe(&c->op_send);
		io_uring_prep_send(sqe, c->fd, c->s.p + c->soff,
				   c->s.len - c->soff, MSG_NOSIGNAL);
		c->pending++;
		goto out;
	}
	/* Commands may carry a password: nothing of them stays behind. */
	explicit_bzero(c->s.p, c->s.len);
	c->s.len = 0;
	conn_flush(c);
out:
	op_finish(c);
}

static void
conn_recv(struct imap_conn *c)
{
	struct io_uring_sqe *sqe = loop_sqe(&c->op_recv);

	if (c->tls != NULL)
		io_uring_prep_recv(sqe, c->fd, c->net, sizeof(c->net), 0);
	else
		io_uring_prep_recv(sqe, c->fd, c->rbuf + c->rlen,
				   sizeof(c->rbuf) - c->rlen, 0);
	c->pending++;
}

/* Fails every fetch of the connection with the same reason, then drops
 * it.  A fetch sent on a reused connection that died before any answer
 * may have met a server that had just timed the session out: it goes
 * once more on a new connection.
 */
static struct imap_conn *conn_new(const struct imap_fetch_req *r);

/* A new connection of the same identity as c, for a fetch sent again. */
static struct imap_conn *
conn_like(const struct imap_conn *c, const struct imap_fetch *f)
{
	struct imap_fetch_req r = {
		.server = c->addr,
		.host = c->host,
		.security = c->security,
		.plaintext_ok = c->plaintext_ok,
		.user = c->anonymous ? NULL : c->user,
		.pass = c->anonymous ? NULL : c->pass,
		.log_id = f->log_id,
	};

	return conn_new(&r);
}

/* Whether f may go once more on a new connection: it was sent on a
 * pooled connection that had served a fetch before, the server has said
 * nothing of it (no answer, no data) and the connection was lost, not
 * refused: the server may just have timed the idle session out. */
static int
fetch_retryable(const struct imap_conn *c, const struct imap_fetch *f,
		int status)
{
	return c->reused && !f->requeued && !f->answered && !f->failed &&
	       f->content == NULL && f->done != NULL &&
	       (status == -ECONNRESET || status == -EPIPE);
}

static void
conn_fail(struct imap_conn *c, int status, const char *reason)
{
	struct imap_conn *nc = NULL;
	struct imap_fetch *f;

	if (c->state == CONN_CLOSING)
		return;
	if (c->state != CONN_LOGOUT || c->n_fetches != 0)
		CONN_LOG(LOGL_INFO, c, "connection dropped: %s", reason);
	c->state = CONN_CLOSING;
	while ((f = c->head) != NULL) {
		conn_unlink_fetch(c, f);
		if (fetch_retryable(c, f, status) &&
		    (nc != NULL || (nc = conn_like(c, f)) != NULL)) {
			f->requeued = 1;
			f->tag[0] = '\0';
			conn_attach(nc, f);
			continue;
		}
		fetch_fail(f, status, reason);
		fetch_free(f);
	}
	c->state = CONN_LOGOUT;
	conn_close(c);
}

/* ------------------------------------------------------------------ */
/* Commands */

static void
conn_next_tag(struct imap_conn *c, char *tag, size_t cap)
{
	snprintf(tag, cap, "A%u", ++c->tag_seq);
}

/* Sends "TAG VERB[ ARGS]" as a set-up command answered by ctl_tag. */
static int
conn_command(struct imap_conn *c, enum conn_cmd cmd, const char *verb,
	     const char *args)
{
	char line[1024];
	int n;

	conn_next_tag(c, c->ctl_tag, sizeof(c->ctl_tag));
	n = snprintf(line, sizeof(line), "%s %s%s%s\r\n", c->ctl_tag, verb,
		     args ? " " : "", args ? args : "");
	c->cmd = cmd;
	if (cmd != CMD_NOOP)
		c->state = CONN_COMMAND;
	if (n < 0 || (size_t)n >= sizeof(line))
		n = -EINVAL;
	else
		n = conn_write(c, line, (size_t)n);
	explicit_bzero(line, sizeof(line));
	return n;
}

static void
sasl_b64(const char *p, size_t n, char *out, size_t cap)
{
	if (n == 0 || (n + 2) / 3 * 4 + 1 > cap) {
		snprintf(out, cap, "=");	/* RFC 4959: empty response */
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p,
			(int)n);
}

/* SASL: PLAIN (RFC 4616) with an empty authorization identity, or
 * ANONYMOUS (RFC 4505) with a trace string; the initial response goes
 * with the command when the server has SASL-IR (RFC 4959), else after
 * its "+" continuation.
 */
static int
conn_authenticate(struct imap_conn *c, const char *mech)
{
	char msg[280], args[sizeof(c->sasl) + 32];
	size_t n;
	int rc;

	if (c->anonymous)
		n = (size_t)snprintf(msg, sizeof(msg), "anncd");
	else
		n = (size_t)snprintf(msg, sizeof(msg), "%c%s%c%s", 0, c->user,
				     0, c->pass);
	if (n >= sizeof(msg))
		return -EINVAL;
	sasl_b64(msg, n, c->sasl, sizeof(c->sasl));
	explicit_bzero(msg, sizeof(msg));
	if (!(c->caps & IMAP_CAP_SASL_IR))
		return conn_command(c, CMD_AUTH, "AUTHENTICATE", mech);
	snprintf(args, sizeof(args), "%s %s", mech, c->sasl);
	explicit_bzero(c->sasl, sizeof(c->sasl));
	rc = conn_command(c, CMD_AUTH, "AUTHENTICATE", args);
	explicit_bzero(args, sizeof(args));
	return rc;
}

static int
conn_login(struct imap_conn *c)
{
	char args[600], qu[270], qp[270];
	int rc;

	/* The anonymous identity of RFC 4467 section 3: LOGIN with the
	 * user name "anonymous"; the password is informational. */
	if (imap_quote(c->anonymous ? "anonymous" : c->user,
		       strlen(c->anonymous ? "anonymous" : c->user), qu,
		       sizeof(qu)) < 0 ||
	    imap_quote(c->anonymous ? "anncd" : c->pass,
		       strlen(c->anonymous ? "anncd" : c->pass), qp,
		       sizeof(qp)) < 0)
		return -EINVAL;
	snprintf(args, sizeof(args), "%s %s", qu, qp);
	rc = conn_command(c, CMD_AUTH, "LOGIN", args);
	explicit_bzero(args, sizeof(args));
	explicit_bzero(qp, sizeof(qp));
	return rc;
}

/* Logs in as the connection's identity (RFC 3501 section 6.2).  Names
 * and passwords go only over TLS unless the operator allowed plaintext
 * for this server; anonymous needs no secrecy.
 */
static void
conn_auth(struct imap_conn *c)
{
	int rc;

	if (!c->anonymous && c->tls == NULL && !c->plaintext_ok) {
		conn_fail(c, -EPERM, "IMAP server not on TLS: credentials "
			  "withheld");
		return;
	}
	if (c->anonymous)
		rc = c->caps & IMAP_CAP_LOGINDISABLED ?
		     conn_authenticate(c, "ANONYMOUS") : conn_login(c);
	else if (c->caps & IMAP_CAP_AUTH_PLAIN)
		rc = conn_authenticate(c, "PLAIN");
	else if (c->caps & IMAP_CAP_LOGINDISABLED)
		rc = -ENOTSUP;
	else
		rc = conn_login(c);
	if (rc == -ENOTSUP)
		conn_fail(c, rc, "IMAP server offers no login we can use");
	else if (rc < 0)
		conn_fail(c, rc, "IMAP credentials cannot be sent");
}

/* The next set-up step, from what is known so far: STARTTLS first when
 * asked for (never falling back to plaintext), capabilities whenever
 * they are not known (after STARTTLS they must be asked again, 6.2.1),
 * then login, then the fetches.
 */
static void
conn_advance(struct imap_conn *c)
{
	if (c->security == IMAP_SEC_STARTTLS && c->tls == NULL) {
		if (c->authed)
			conn_fail(c, -EPROTO, "IMAP server skipped login "
				  "before STARTTLS (PREAUTH)");
		else if (!c->caps_known)
			conn_command(c, CMD_CAPABILITY, "CAPABILITY", NULL);
		else if (!(c->caps & IMAP_CAP_STARTTLS))
			conn_fail(c, -EPROTO, "IMAP server offers no STARTTLS");
		else
			conn_command(c, CMD_STARTTLS, "STARTTLS", NULL);
		return;
	}
	if (!c->caps_known) {
		conn_command(c, CMD_CAPABILITY, "CAPABILITY", NULL);
		return;
	}
	if (!c->authed) {
		conn_auth(c);
		return;
	}
	c->state = CONN_READY;
	c->cmd = CMD_NONE;
	CONN_LOG(LOGL_DEBUG, c, "ready%s%s", c->tls ? ", TLS" : "",
		 c->caps & IMAP_CAP_URLAUTH_BINARY ? ", URLAUTH=BINARY" : "");
	conn_send_fetches(c);
}

static void
conn_start_tls(struct imap_conn *c)
{
	char why[160], reason[200];
	int rc;

	if (c->tls == NULL)
		c->tls = tls_conn_new(c->host);
	if (c->tls == NULL) {
		conn_fail(c, -ENOMEM, "out of memory for TLS");
		return;
	}
	c->state = CONN_TLS;
	rc = tls_handshake(c->tls, why, sizeof(why));
	if (rc < 0 || conn_tls_out(c) < 0) {
		snprintf(reason, sizeof(reason), "IMAP TLS failed: %s",
			 rc < 0 ? why : "out of memory");
		conn_fail(c, -EPROTO, reason);
	} else if (rc == 1) {
		c->state = CONN_GREETING;
	}
}

/* The URLFETCH command of one fetch.  With URLAUTH=BINARY (RFC 5524
 * section 3) the server decodes the part itself. */
static int
conn_send_fetch(struct imap_conn *c, struct imap_fetch *f)
{
	char *line;
	size_t cap = f->url_len * 2 + 64;
	int n, q, binary = (c->caps & IMAP_CAP_URLAUTH_BINARY) != 0;

	line = malloc(cap);
	if (line == NULL)
		return -ENOMEM;
	conn_next_tag(c, f->tag, sizeof(f->tag));
	n = snprintf(line, cap, "%s URLFETCH %s", f->tag, binary ? "(" : "");
	q = imap_quote(f->url, f->url_len, line + n, cap - (size_t)n);
	if (q < 0) {
		free(line);
		return -EINVAL;
	}
	n += q;
	n += snprintf(line + n, cap - (size_t)n, "%s\r\n",
		      binary ? " BINARY)" : "");
	n = conn_write(c, line, (size_t)n);
	free(line);
	return n;
}

static void
conn_send_fetches(struct imap_conn *c)
{
	struct imap_fetch *f, *next;
	unsigned int inflight = 0;

	for (f = c->head; f != NULL && c->state == CONN_READY; f = next) {
		next = f->cnext;
		if (f->tag[0] != '\0') {
			inflight++;
			continue;
		}
		if (inflight >= IMAP_PIPELINE)
			break;
		if (conn_send_fetch(c, f) < 0) {
			conn_unlink_fetch(c, f);
			fetch_fail(f, -EINVAL,
				   "URL cannot be sent as an IMAP string");
			fetch_free(f);
			continue;
		}
		inflight++;
	}
}

/* ------------------------------------------------------------------ */
/* Responses */

/* Server text goes into SIP reason phrases and logs: keep it short and
 * printable. */
static void
safe_text(const struct imap_str *t, char *out, size_t cap)
{
	size_t i, n = t->n < cap - 1 ? t->n : cap - 1;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t->p[i];

		out[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	out[n] = '\0';
}

static void
conn_fail_resp(struct imap_conn *c, const char *what,
	       const struct imap_resp *r)
{
	char text[96], reason[160];

	safe_text(&r->text, text, sizeof(text));
	snprintf(reason, sizeof(reason), "%s: %s", what, text);
	conn_fail(c, -EPROTO, reason);
}

static int
resp_is_tagged(const struct imap_resp *r, const char *tag)
{
	return r->tag.n == strlen(tag) && memcmp(r->tag.p, tag, r->tag.n) == 0;
}

static void
conn_caps_from(struct imap_conn *c, const struct imap_str *text)
{
	if (imap_parse_capability(text->p, text->n, &c->caps) == 0)
		c->caps_known = 1;
}

static void
on_greeting(struct imap_conn *c, const struct imap_resp *r)
{
	if (r->status != IMAP_ST_OK && r->status != IMAP_ST_PREAUTH) {
		conn_fail_resp(c, "IMAP server refused the connection", r);
		return;
	}
	conn_caps_from(c, &r->text);
	c->authed = r->status == IMAP_ST_PREAUTH;
	conn_advance(c);
}

static void
on_command_done(struct imap_conn *c, const struct imap_resp *r)
{
	enum conn_cmd cmd = c->cmd;

	c->cmd = CMD_NONE;
	if (r->status != IMAP_ST_OK) {
		conn_fail_resp(c, cmd == CMD_AUTH ? "IMAP login refused" :
			       cmd == CMD_STARTTLS ? "IMAP STARTTLS refused" :
			       "IMAP command refused", r);
		return;
	}
	switch (cmd) {
	case CMD_CAPABILITY:
		c->caps_known = 1;
		break;
	case CMD_STARTTLS:
		/* Anything already read came before TLS: a man in the
		 * middle's injection (RFC 3207 section 6 tells why). */
		if (c->rest != 0) {
			conn_fail(c, -EPROTO, "IMAP server sent data after "
				  "STARTTLS");
			return;
		}
		c->caps_known = 0;
		conn_start_tls(c);
		return;
	case CMD_AUTH:
		/* Capabilities change with login (URLAUTH=BINARY, say). */
		c->authed = 1;
		c->caps_known = 0;
		conn_caps_from(c, &r->text);
		break;
	default:
		break;
	}
	conn_advance(c);
}

static void
on_continue(struct imap_conn *c)
{
	char line[sizeof(c->sasl) + 2];
	int n;

	if (c->cmd != CMD_AUTH || c->sasl[0] == '\0') {
		conn_fail(c, -EPROTO, "IMAP server asked for a continuation");
		return;
	}
	n = snprintf(line, sizeof(line), "%s\r\n", c->sasl);
	explicit_bzero(c->sasl, sizeof(c->sasl));
	if (conn_write(c, line, (size_t)n) < 0)
		conn_fail(c, -ENOMEM, "out of memory");
	explicit_bzero(line, sizeof(line));
}

/* The URL as sent against the url of an answer: the view keeps
 * quoted-specials escaped, so compare after undoing them. */
static int
url_matches(const struct imap_fetch *f, const struct imap_str *u)
{
	size_t i = 0, j = 0;

	while (i < u->n && j < f->url_len) {
		if (u->p[i] == '\\' && i + 1 < u->n)
			i++;
		if (u->p[i++] != f->url[j++])
			return 0;
	}
	return i == u->n && j == f->url_len;
}

static struct imap_fetch *
conn_find_url(struct imap_conn *c, const struct imap_str *u)
{
	struct imap_fetch *f;

	for (f = c->head; f != NULL; f = f->cnext)
		if (f->tag[0] != '\0' && !f->answered && url_matches(f, u))
			return f;
	return NULL;
}

static void
start_literal(struct imap_fetch *f, const struct imap_urlfetch *uf)
{
	size_t hint = uf->literal_len;

	if (f->content != NULL) {
		fetch_fail(f, -EPROTO, "IMAP server sent two URLFETCH items");
		return;
	}
	f->content = content_new(hint);
	if (f->content == NULL) {
		fetch_fail(f, -ENOMEM, "out of memory for the content");
		return;
	}
	f->lit_left = uf->literal_len;
	f->in_literal = f->lit_left != 0;
}

static void
fetch_literal_bytes(struct imap_fetch *f, const char *p, size_t n)
{
	if (content_append(f->content, p, n) != 0)
		fetch_fail(f, -ENOMEM, "out of memory for the content");
}

/* One url-data pair of an untagged URLFETCH: a NIL, or the literal that
 * the following bytes carry. */
static void
on_fetch_item(struct imap_conn *c, const struct imap_urlfetch *uf)
{
	struct imap_fetch *f = conn_find_url(c, &uf->url);

	c->lit_fetch = NULL;
	c->lit_left = uf->kind == IMAP_FETCH_LITERAL ? uf->literal_len : 0;
	c->in_urlfetch = uf->kind == IMAP_FETCH_LITERAL;
	if (f == NULL) {
		CONN_LOG(LOGL_DEBUG, c, "URLFETCH answer for no command");
		return;
	}
	f->answered = 1;
	if (uf->kind == IMAP_FETCH_NIL) {
		f->got_nil = 1;
		return;
	}
	/* BINARY data is decoded already (RFC 5524 section 3). */
	f->base64 = f->base64_req && !uf->binary;
	if (f->failed)
		return;
	start_literal(f, uf);
	if (!f->failed)
		c->lit_fetch = f;
}

/* An untagged URLFETCH line, or the rest of one after a literal: every
 * url-data pair on it, in turn. */
static void
on_urlfetch_line(struct imap_conn *c, const char *line, size_t n, int more)
{
	uint64_t max = c->head ? c->head->max_literal : 0;
	struct imap_urlfetch uf;
	const char *why = NULL;
	char reason[160];
	int rc;

	c->in_urlfetch = 0;
	rc = more ? imap_parse_urlfetch_next(line, n, max, &uf, &why)
		  : imap_parse_urlfetch(line, n, max, &uf, &why);
	while (rc == 0) {
		on_fetch_item(c, &uf);
		if (uf.kind == IMAP_FETCH_LITERAL)
			return;
		rc = imap_parse_urlfetch_next(line + uf.next, n - uf.next,
					      max, &uf, &why);
	}
	if (rc < 0) {
		/* The literal cannot be skipped safely: drop the line. */
		snprintf(reason, sizeof(reason), "bad URLFETCH response: %s",
			 why ? why : "malformed");
		conn_fail(c, -EPROTO, reason);
	}
}

/* The tagged answer of one URLFETCH ends that fetch. */
static void
on_fetch_done(struct imap_conn *c, struct imap_fetch *f,
	      const struct imap_resp *r)
{
	conn_unlink_fetch(c, f);
	c->reused = 1;
	if (f->failed || f->done == NULL)
		;
	else if (r->status != IMAP_ST_OK)
		fetch_fail(f, -EPROTO, "URLFETCH refused");
	else if (f->content == NULL)
		/* RFC 4467 section 7: NIL when the URL cannot be resolved,
		 * the token does not verify, or it has expired. */
		fetch_fail(f, -ENOENT, f->got_nil ? "URLFETCH returned NIL" :
			   "URLFETCH returned no content");
	else
		fetch_report(f, 0, "OK");
	fetch_free(f);
	conn_send_fetches(c);
}

static void
on_tagged(struct imap_conn *c, const struct imap_resp *r)
{
	struct imap_fetch *f;

	if (resp_is_tagged(r, c->ctl_tag)) {
		c->ctl_tag[0] = '\0';
		if (c->state == CONN_LOGOUT)
			conn_close(c);
		else if (c->cmd == CMD_NOOP)
			c->cmd = CMD_NONE;
		else
			on_command_done(c, r);
		return;
	}
	for (f = c->head; f != NULL; f = f->cnext)
		if (f->tag[0] != '\0' && resp_is_tagged(r, f->tag)) {
			on_fetch_done(c, f, r);
			return;
		}
	CONN_LOG(LOGL_DEBUG, c, "answer with unknown tag %.*s",
		 (int)(r->tag.n > 12 ? 12 : r->tag.n), r->tag.p);
}

static void
conn_line(struct imap_conn *c, const char *line, size_t n)
{
	struct imap_resp r;

	if (c->in_urlfetch) {
		on_urlfetch_line(c, line, n, 1);
		return;
	}
	if (n == 0 || imap_resp_parse(line, n, &r) < 0) {
		CONN_LOG(LOGL_DEBUG, c, "ignored line of %zu bytes", n);
		return;
	}
	if (c->state == CONN_GREETING) {
		on_greeting(c, &r);
	} else if (r.status == IMAP_ST_BYE) {
		if (c->state == CONN_LOGOUT)
			return;
		conn_fail_resp(c, "IMAP server closed the session", &r);
	} else if (r.status == IMAP_ST_CONTINUE) {
		on_continue(c);
	} else if (!resp_is_tagged(&r, "*")) {
		on_tagged(c, &r);
	} else if (r.text.n >= 8 && strncasecmp(r.text.p, "URLFETCH", 8) == 0) {
		on_urlfetch_line(c, line, n, 0);
	} else if (r.status == IMAP_ST_NONE) {
		conn_caps_from(c, &r.text);	/* "* CAPABILITY ..." */
	} else if (r.status == IMAP_ST_NO || r.status == IMAP_ST_BAD) {
		CONN_LOG(LOGL_INFO, c, "server warns: %.*s",
			 (int)(r.text.n > 80 ? 80 : r.text.n), r.text.p);
	}
}

/* Consumes rbuf: literal bytes first when one is open, then lines. */
static void
conn_parse(struct imap_conn *c)
{
	size_t off = 0, n;
	ssize_t end;

	while (off < c->rlen && c->state != CONN_CLOSING &&
	       c->state != CONN_TLS) {
		if (c->lit_left != 0) {
			n = c->rlen - off;
			if (n > c->lit_left)
				n = (size_t)c->lit_left;
			if (c->lit_fetch != NULL && !c->lit_fetch->failed)
				fetch_literal_bytes(c->lit_fetch,
						    c->rbuf + off, n);
			off += n;
			c->lit_left -= n;
			continue;
		}
		end = imap_line_end(c->rbuf + off, c->rlen - off, IMAP_RBUF);
		if (end == 0)
			break;
		if (end < 0) {
			conn_fail(c, -EPROTO, "IMAP response line too long");
			return;
		}
		off += (size_t)end;
		c->rest = c->rlen - off;	/* for the STARTTLS check */
		conn_line(c, c->rbuf + off - (size_t)end, (size_t)end - 2);
	}
	if (c->state == CONN_CLOSING)
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	if (c->rlen == sizeof(c->rbuf) && c->state != CONN_CLOSING)
		conn_fail(c, -EPROTO, "IMAP response line too long");
}

/* ------------------------------------------------------------------ */
/* Input */

/* Ciphertext in: the handshake, then plaintext into rbuf in as many
 * rounds as rbuf needs. */
static void
conn_tls_input(struct imap_conn *c, size_t n)
{
	char why[160], reason[200];
	ssize_t got;
	int rc;

	if (tls_feed(c->tls, c->net, n) < 0) {
		conn_fail(c, -ENOMEM, "out of memory for TLS");
		return;
	}
	if (c->state == CONN_TLS) {
		rc = tls_handshake(c->tls, why, sizeof(why));
		if (rc < 0 || conn_tls_out(c) < 0) {
			snprintf(reason, sizeof(reason), "IMAP TLS failed: %s",
				 rc < 0 ? why : "out of memory");
			conn_fail(c, -EPROTO, reason);
			return;
		}
		if (rc == 0)
			return;
		CONN_LOG(LOGL_DEBUG, c, "TLS established");
		c->state = CONN_GREETING;
		if (c->security == IMAP_SEC_STARTTLS) {
			c->state = CONN_COMMAND;
			conn_advance(c);
		}
	}
	while (c->state != CONN_CLOSING &&
	       (got = tls_read(c->tls, c->rbuf + c->rlen,
			       sizeof(c->rbuf) - c->rlen)) != 0) {
		if (got < 0) {
			conn_fail(c, -ECONNRESET, c->lit_left ?
				  "IMAP server closed the connection "
				  "mid-literal" :
				  "IMAP server closed the TLS session");
			return;
		}
		c->rlen += (size_t)got;
		conn_parse(c);
	}
	if (c->state != CONN_CLOSING)
		conn_tls_out(c);
}

static void
on_recv(struct loop_op *op, int res)
{
	struct imap_conn *c = CONN_OF(op, op_recv);

	if (c->state == CONN_CLOSING)
		goto out;
	if (res <= 0) {
		if (c->state == CONN_LOGOUT)
			conn_close(c);
		else if (res < 0)
			conn_fail(c, res, "IMAP connection failed");
		else
			conn_fail(c, -ECONNRESET, c->lit_left ?
				  "IMAP server closed the connection "
				  "mid-literal" :
				  "IMAP server closed the connection");
		goto out;
	}
	/* Acknowledge at once: a server that holds its last small segment
	 * (the tagged OK) for our ACK would otherwise wait out the delayed
	 * ACK, 40 ms, on every answer.  The kernel clears the flag again,
	 * so it is set after each receive. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int));
	if (c->tls != NULL) {
		conn_tls_input(c, (size_t)res);
	} else {
		c->rlen += (size_t)res;
		conn_parse(c);
	}
	if (c->state != CONN_CLOSING)
		conn_recv(c);
out:
	op_finish(c);
}

static void
on_connect(struct loop_op *op, int res)
{
	struct imap_conn *c = CONN_OF(op, op_connect);
	char reason[96];

	if (c->state == CONN_CLOSING)
		goto out;
	if (res < 0) {
		snprintf(reason, sizeof(reason), "IMAP connect failed: %s",
			 strerror(-res));
		conn_fail(c, res, reason);
		goto out;
	}
	c->state = CONN_GREETING;
	if (c->security == IMAP_SEC_IMAPS)
		conn_start_tls(c);
	conn_flush(c);
	if (c->state != CONN_CLOSING)
		conn_recv(c);
out:
	op_finish(c);
}

static void
on_cancel(struct loop_op *op, int res)
{
	struct imap_conn *c = CONN_OF(op, op_cancel);

	(void)res;
	op_finish(c);
}

/* ------------------------------------------------------------------ */
/* The pool */

static int
conn_same_identity(const struct imap_conn *c, const struct imap_fetch_req *r)
{
	const char *host = r->host ? r->host : "";

	return c->addr.sin_addr.s_addr == r->server.sin_addr.s_addr &&
	       c->addr.sin_port == r->server.sin_port &&
	       c->security == r->security && strcmp(c->host, host) == 0 &&
	       c->anonymous == (r->user == NULL) &&
	       (c->anonymous || (strcmp(c->user, r->user) == 0 &&
				 strcmp(c->pass, r->pass) == 0));
}

static struct imap_conn *
conn_new(const struct imap_fetch_req *r)
{
	struct imap_conn *c = calloc(1, sizeof(*c));
	struct io_uring_sqe *sqe;

	if (c == NULL)
		return NULL;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		LOG_AT(LOGL_ERR, "imap", "%s: socket() failed: %s",
		       r->log_id, strerror(errno));
		free(c);
		return NULL;
	}
	/* Commands go out whole, sometimes two back to back (pipelined
	 * URLFETCHes): none should wait for the ACK of the one before. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->id = ++connections_opened;
	c->addr = r->server;
	snprintf(c->host, sizeof(c->host), "%s", r->host ? r->host : "");
	c->security = r->security;
	c->plaintext_ok = r->plaintext_ok;
	c->anonymous = r->user == NULL;
	if (!c->anonymous) {
		snprintf(c->user, sizeof(c->user), "%s", r->user);
		snprintf(c->pass, sizeof(c->pass), "%s", r->pass);
	}
	c->op_connect.cb = on_connect;
	c->op_recv.cb = on_recv;
	c->op_send.cb = on_send;
	c->op_cancel.cb = on_cancel;
	c->idle_since_ms = c->last_cmd_ms = loop_now_ms();
	c->next = conns;
	conns = c;
	sqe = loop_sqe(&c->op_connect);
	io_uring_prep_connect(sqe, c->fd, (struct sockaddr *)&c->addr,
			      sizeof(c->addr));
	c->pending++;
	return c;
}

/* An idle connection of this identity first, then a new one while under
 * --imap-max-conns, else the least loaded one: the fetch waits there,
 * pipelined behind the others. */
static struct imap_conn *
conn_pick(const struct imap_fetch_req *r)
{
	struct imap_conn *c, *best = NULL;
	unsigned int n = 0;

	for (c = conns; c != NULL; c = c->next) {
		if (c->state == CONN_CLOSING || c->state == CONN_LOGOUT ||
		    !conn_same_identity(c, r))
			continue;
		n++;
		if (best == NULL || c->n_fetches < best->n_fetches)
			best = c;
	}
	if (best != NULL && (best->n_fetches == 0 || n >= opts.max_conns))
		return best;
	return conn_new(r);
}

/* ------------------------------------------------------------------ */
/* The API */

static struct imap_fetch *
fetch_new(const struct imap_fetch_req *req)
{
	struct imap_fetch *f = calloc(1, sizeof(*f) + req->url_len + 1);

	if (f == NULL)
		return NULL;
	memcpy(f->url, req->url, req->url_len);
	f->url_len = req->url_len;
	f->base64_req = f->base64 = req->base64;
	f->max_literal = req->max_literal;
	f->deadline_ms = loop_now_ms() + req->timeout_ms;
	snprintf(f->log_id, sizeof(f->log_id), "%s", req->log_id);
	return f;
}

struct imap_fetch *
imap_fetch_start(const struct imap_fetch_req *req, imap_fetch_done done,
		 void *arg)
{
	struct imap_fetch *f = fetch_new(req);
	struct imap_conn *c = NULL;

	if (f == NULL)
		return NULL;
	/* Credentials never go in clear unless allowed: refused before
	 * any connection, reported from the next tick. */
	if (req->user == NULL || req->security != IMAP_SEC_PLAIN ||
	    req->plaintext_ok) {
		c = conn_pick(req);
		if (c == NULL) {
			free(f);
			return NULL;
		}
	}
	f->done = done;
	f->arg = arg;
	f->next = fetches;
	if (fetches != NULL)
		fetches->prev = f;
	fetches = f;
	if (c == NULL)
		return f;
	conn_attach(c, f);
	if (c->state == CONN_READY)
		conn_send_fetches(c);
	return f;
}

void
imap_fetch_cancel(struct imap_fetch *f)
{
	struct imap_conn *c = f->conn;

	f->done = NULL;
	/* Sent: it stays until its tagged answer keeps the tags in step. */
	if (c != NULL && f->tag[0] != '\0')
		return;
	if (c != NULL)
		conn_unlink_fetch(c, f);
	fetch_free(f);
}

static const char *
timeout_reason(const struct imap_conn *c)
{
	if (c->state == CONN_CONNECTING)
		return "IMAP connect timed out";
	if (c->state == CONN_TLS)
		return "IMAP TLS handshake timed out";
	return "IMAP server timed out";
}

/* One expired or refused fetch per call: a connection failure frees
 * others, so the caller scans again.  Returns 1 when it did something. */
static int
fetch_tick_one(uint64_t now_ms)
{
	struct imap_fetch *f;

	for (f = fetches; f != NULL; f = f->next) {
		if (f->conn == NULL) {
			fetch_fail(f, -EPERM, "IMAP server not on TLS: "
				   "credentials withheld");
			fetch_free(f);
			return 1;
		}
		if (now_ms >= f->deadline_ms) {
			conn_fail(f->conn, -ETIMEDOUT,
				  timeout_reason(f->conn));
			return 1;
		}
	}
	return 0;
}

/* Idle pooled connections: NOOP at half the idle time so that neither
 * side's timers close them unseen, LOGOUT at the idle time. */
static void
conn_tick(struct imap_conn *c, uint64_t now_ms)
{
	if (c->state == CONN_LOGOUT && now_ms >= c->deadline_ms) {
		conn_close(c);
		return;
	}
	if (c->state != CONN_READY || c->n_fetches != 0)
		return;
	if (now_ms - c->idle_since_ms >= opts.idle_ms) {
		CONN_LOG(LOGL_DEBUG, c, "idle: LOGOUT");
		conn_command(c, CMD_NONE, "LOGOUT", NULL);
		c->state = CONN_LOGOUT;
		c->deadline_ms = now_ms + IMAP_LOGOUT_MS;
	} else if (c->cmd == CMD_NONE &&
		   now_ms - c->last_cmd_ms >= opts.idle_ms / 2) {
		conn_command(c, CMD_NOOP, "NOOP", NULL);
	}
}

void
imap_fetch_tick(uint64_t now_ms)
{
	struct imap_conn *c, *next;
	unsigned int i;

	for (i = 0; i < 100000 && fetch_tick_one(now_ms); i++)
		;
	for (c = conns; c != NULL; c = next) {
		next = c->next;
		conn_tick(c, now_ms);
	}
}

void
imap_client_fini(void)
{
	struct imap_conn *c, *next;

	for (c = conns; c != NULL; c = next) {
		next = c->next;
		/* An idle pooled connection just closes: nothing to report. */
		if (c->n_fetches == 0 && c->state != CONN_CLOSING)
			c->state = CONN_LOGOUT;
		conn_fail(c, -ESHUTDOWN, "media server stopping");
	}
	tls_fini();
}
