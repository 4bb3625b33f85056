/* One URLFETCH (RFC 4467 section 7) over one TCP connection, driven by the
 * io_uring loop: connect, greeting, LOGIN, URLFETCH, LOGOUT.  The result
 * is reported as soon as the URLFETCH is answered; the LOGOUT finishes in
 * the background.  The literal is decoded into the content as it arrives,
 * so nothing of the attachment is held twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/imap_client.h"
#include "control/imap_resp.h"
#include "control/loop.h"
#include "core/b64.h"
#include "core/log.h"

#define IMAP_RBUF	16384	/* longest response line accepted */
#define IMAP_WBUF	8192	/* longest command sent */

#define IMAP_LOG(lvl, f, fmt, ...) \
	LOG_AT(lvl, "imap", "%s: " fmt, (f)->log_id, ##__VA_ARGS__)

enum imap_state {
	IMAP_CONNECTING,
	IMAP_GREETING,
	IMAP_LOGIN,
	IMAP_URLFETCH,
	IMAP_LOGOUT,
	IMAP_CLOSING,
};

struct imap_fetch {
	struct imap_fetch *prev, *next;	/* all fetches, for the tick */
	enum imap_state state;
	int fd;
	unsigned int pending;		/* submissions not yet completed */
	struct loop_op op_connect, op_recv, op_send, op_cancel;
	uint64_t deadline_ms;

	imap_fetch_done done;		/* NULL once reported or cancelled */
	void *arg;

	char rbuf[IMAP_RBUF];
	size_t rlen;
	char wbuf[IMAP_WBUF];
	size_t wlen, woff;

	int base64;
	uint64_t max_literal;
	uint64_t lit_left;		/* literal bytes still to come */
	int in_literal;
	int got_nil;
	struct b64_dec dec;
	struct content *content;

	struct sockaddr_in server;
	char log_id[96];
	char user[128];
	char pass[128];
	int anonymous;
	char url[];
};

static struct imap_fetch *fetches;
static uint64_t connections_opened;

#define FETCH_OF(opp, member) \
	((struct imap_fetch *)((char *)(opp) - offsetof(struct imap_fetch, member)))

static void fetch_close(struct imap_fetch *f);
static void fetch_recv(struct imap_fetch *f);

uint64_t
imap_connections_opened(void)
{
	return connections_opened;
}

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
	done(f->arg, status, reason, c);
}

/* A failure ends the fetch: report it and drop the connection. */
static void
fetch_fail(struct imap_fetch *f, int status, const char *reason)
{
	IMAP_LOG(LOGL_INFO, f, "fetch failed: %s", reason);
	fetch_report(f, status, reason);
	fetch_close(f);
}

static void
fetch_free_if_idle(struct imap_fetch *f)
{
	if (f->state != IMAP_CLOSING || f->pending != 0)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->content != NULL)
		content_put(f->content);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		fetches = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	explicit_bzero(f->pass, sizeof(f->pass));
	free(f);
}

static void
fetch_close(struct imap_fetch *f)
{
	struct io_uring_sqe *sqe;

	if (f->state == IMAP_CLOSING)
		return;
	f->state = IMAP_CLOSING;
	if (f->pending != 0 && f->fd >= 0) {
		/* Whatever is in flight on the socket completes with
		 * -ECANCELED (or an error) and frees us from its callback. */
		sqe = loop_sqe(&f->op_cancel);
		io_uring_prep_cancel_fd(sqe, f->fd, IORING_ASYNC_CANCEL_ALL);
		f->pending++;
		shutdown(f->fd, SHUT_RDWR);
	}
	fetch_free_if_idle(f);
}

static void
fetch_send(struct imap_fetch *f)
{
	struct io_uring_sqe *sqe = loop_sqe(&f->op_send);

	io_uring_prep_send(sqe, f->fd, f->wbuf + f->woff, f->wlen - f->woff,
			   MSG_NOSIGNAL);
	f->pending++;
}

static int
fetch_command(struct imap_fetch *f, const char *fmt, const char *a,
	      const char *b)
{
	char qa[IMAP_WBUF / 2], qb[256];
	int n;

	qa[0] = qb[0] = '\0';
	if (a != NULL && imap_quote(a, strlen(a), qa, sizeof(qa)) < 0)
		return -1;
	if (b != NULL && imap_quote(b, strlen(b), qb, sizeof(qb)) < 0)
		return -1;
	n = snprintf(f->wbuf, sizeof(f->wbuf), fmt, qa, qb);
	if (n < 0 || (size_t)n >= sizeof(f->wbuf))
		return -1;
	f->wlen = (size_t)n;
	f->woff = 0;
	fetch_send(f);
	return 0;
}

static void
send_login(struct imap_fetch *f)
{
	int rc;

	f->state = IMAP_LOGIN;
	/* The anonymous identity of RFC 4467 section 3: LOGIN with the
	 * user name "anonymous"; the password is informational. */
	if (f->anonymous)
		rc = fetch_command(f, "a1 LOGIN %s %s\r\n", "anonymous",
				   "anncd");
	else
		rc = fetch_command(f, "a1 LOGIN %s %s\r\n", f->user, f->pass);
	if (rc < 0)
		fetch_fail(f, -EINVAL, "IMAP credentials cannot be quoted");
}

static void
send_urlfetch(struct imap_fetch *f)
{
	f->state = IMAP_URLFETCH;
	if (fetch_command(f, "a2 URLFETCH %s%s\r\n", f->url, NULL) < 0)
		fetch_fail(f, -EINVAL, "URL cannot be sent as an IMAP string");
}

static void
send_logout(struct imap_fetch *f)
{
	f->state = IMAP_LOGOUT;
	if (fetch_command(f, "a3 LOGOUT%s%s\r\n", NULL, NULL) < 0)
		fetch_close(f);
}

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
fetch_fail_resp(struct imap_fetch *f, const char *what,
		const struct imap_resp *r)
{
	char text[96], reason[160];

	safe_text(&r->text, text, sizeof(text));
	snprintf(reason, sizeof(reason), "%s: %s", what, text);
	fetch_fail(f, -EPROTO, reason);
}

static int
resp_is_tagged(const struct imap_resp *r, const char *tag)
{
	return r->tag.n == strlen(tag) && memcmp(r->tag.p, tag, r->tag.n) == 0;
}

static void
on_greeting(struct imap_fetch *f, const struct imap_resp *r)
{
	if (r->status == IMAP_ST_OK)
		send_login(f);
	else if (r->status == IMAP_ST_PREAUTH)
		send_urlfetch(f);
	else
		fetch_fail_resp(f, "IMAP server refused the connection", r);
}

static void
on_login(struct imap_fetch *f, const struct imap_resp *r)
{
	if (r->status == IMAP_ST_BYE)
		fetch_fail_resp(f, "IMAP server closed the session", r);
	else if (!resp_is_tagged(r, "a1"))
		return;
	else if (r->status == IMAP_ST_OK)
		send_urlfetch(f);
	else
		fetch_fail_resp(f, "IMAP login refused", r);
}

static void
start_literal(struct imap_fetch *f, const struct imap_urlfetch *uf)
{
	size_t hint = f->base64 ? uf->literal_len / 4 * 3
				: uf->literal_len;

	if (f->content != NULL) {
		fetch_fail(f, -EPROTO, "IMAP server sent two URLFETCH items");
		return;
	}
	f->content = content_new(hint);
	if (f->content == NULL) {
		fetch_fail(f, -ENOMEM, "out of memory for the content");
		return;
	}
	b64_init(&f->dec);
	f->lit_left = uf->literal_len;
	f->in_literal = f->lit_left != 0;
}

static void
on_untagged_fetch(struct imap_fetch *f, const char *line, size_t n)
{
	struct imap_urlfetch uf;
	const char *why = NULL;
	char reason[160];
	int rc;

	rc = imap_parse_urlfetch(line, n, f->max_literal, &uf, &why);
	if (rc == 1)
		return;
	if (rc < 0) {
		snprintf(reason, sizeof(reason), "bad URLFETCH response: %s",
			 why ? why : "malformed");
		fetch_fail(f, -EPROTO, reason);
		return;
	}
	if (uf.kind == IMAP_FETCH_NIL)
		f->got_nil = 1;
	else
		start_literal(f, &uf);
}

static void
on_fetch_done(struct imap_fetch *f, const struct imap_resp *r)
{
	if (r->status != IMAP_ST_OK) {
		fetch_fail_resp(f, "URLFETCH refused", r);
		return;
	}
	if (f->content == NULL) {
		/* RFC 4467 section 7: NIL when the URL cannot be resolved,
		 * the token does not verify, or it has expired. */
		fetch_fail(f, -ENOENT, f->got_nil ?
			   "URLFETCH returned NIL" :
			   "URLFETCH returned no content");
		return;
	}
	if (f->base64 && b64_finish(&f->dec) < 0) {
		fetch_fail(f, -EPROTO, "attachment base64 is truncated");
		return;
	}
	IMAP_LOG(LOGL_DEBUG, f, "fetched %zu bytes", f->content->len);
	fetch_report(f, 0, "OK");
	send_logout(f);
}

static void
on_urlfetch(struct imap_fetch *f, const char *line, size_t n,
	    const struct imap_resp *r)
{
	if (r->status == IMAP_ST_BYE) {
		fetch_fail_resp(f, "IMAP server closed the session", r);
		return;
	}
	if (resp_is_tagged(r, "a2"))
		on_fetch_done(f, r);
	else if (resp_is_tagged(r, "*"))
		on_untagged_fetch(f, line, n);
}

static void
fetch_line(struct imap_fetch *f, const char *line, size_t n)
{
	struct imap_resp r;

	/* What follows a literal up to the CRLF is the rest of the
	 * URLFETCH response: nothing, or a closing parenthesis. */
	if (n == 0 || imap_resp_parse(line, n, &r) < 0) {
		if (n != 0 && f->state != IMAP_LOGOUT)
			IMAP_LOG(LOGL_DEBUG, f, "ignored line of %zu bytes", n);
		return;
	}
	switch (f->state) {
	case IMAP_GREETING:
		on_greeting(f, &r);
		break;
	case IMAP_LOGIN:
		on_login(f, &r);
		break;
	case IMAP_URLFETCH:
		on_urlfetch(f, line, n, &r);
		break;
	case IMAP_LOGOUT:
		if (resp_is_tagged(&r, "a3"))
			fetch_close(f);
		break;
	default:
		break;
	}
}

static void
fetch_literal_bytes(struct imap_fetch *f, const char *p, size_t n)
{
	char reason[96];
	int rc;

	if (!f->base64)
		rc = content_append(f->content, p, n);
	else
		rc = content_append_b64(f->content, &f->dec, p, n);
	if (rc == -ENOMEM) {
		fetch_fail(f, -ENOMEM, "out of memory for the content");
	} else if (rc != 0) {
		snprintf(reason, sizeof(reason),
			 "attachment is not base64: byte 0x%02x at offset %"
			 PRIu64, f->dec.err_byte, f->dec.err_offset);
		fetch_fail(f, -EPROTO, reason);
	}
}

/* Consumes rbuf: literal bytes first when one is open, then lines. */
static void
fetch_parse(struct imap_fetch *f)
{
	size_t off = 0;
	ssize_t end;

	while (off < f->rlen && f->state != IMAP_CLOSING) {
		if (f->in_literal) {
			size_t n = f->rlen - off;

			if (n > f->lit_left)
				n = (size_t)f->lit_left;
			fetch_literal_bytes(f, f->rbuf + off, n);
			off += n;
			f->lit_left -= n;
			f->in_literal = f->lit_left != 0;
			continue;
		}
		end = imap_line_end(f->rbuf + off, f->rlen - off, IMAP_RBUF);
		if (end == 0)
			break;
		if (end < 0) {
			fetch_fail(f, -EPROTO, "IMAP response line too long");
			return;
		}
		fetch_line(f, f->rbuf + off, (size_t)end - 2);
		off += (size_t)end;
	}
	memmove(f->rbuf, f->rbuf + off, f->rlen - off);
	f->rlen -= off;
	if (f->rlen == sizeof(f->rbuf) && f->state != IMAP_CLOSING)
		fetch_fail(f, -EPROTO, "IMAP response line too long");
}

/* Each callback keeps its own submission counted in f->pending until it
 * returns, so that a failure inside it cannot free f under its feet. */
static void
op_finish(struct imap_fetch *f)
{
	f->pending--;
	fetch_free_if_idle(f);
}

static void
on_recv(struct loop_op *op, int res)
{
	struct imap_fetch *f = FETCH_OF(op, op_recv);

	if (f->state == IMAP_CLOSING)
		goto out;
	if (res <= 0) {
		if (f->state == IMAP_LOGOUT)
			fetch_close(f);
		else
			fetch_fail(f, res < 0 ? res : -ECONNRESET, res < 0 ?
				   "IMAP connection failed" :
				   "IMAP server closed the connection");
		goto out;
	}
	f->rlen += (size_t)res;
	fetch_parse(f);
	if (f->state != IMAP_CLOSING)
		fetch_recv(f);
out:
	op_finish(f);
}

static void
fetch_recv(struct imap_fetch *f)
{
	struct io_uring_sqe *sqe = loop_sqe(&f->op_recv);

	io_uring_prep_recv(sqe, f->fd, f->rbuf + f->rlen,
			   sizeof(f->rbuf) - f->rlen, 0);
	f->pending++;
}

static void
on_send(struct loop_op *op, int res)
{
	struct imap_fetch *f = FETCH_OF(op, op_send);

	if (f->state == IMAP_CLOSING)
		goto out;
	if (res < 0) {
		fetch_fail(f, res, "IMAP connection failed");
		goto out;
	}
	f->woff += (size_t)res;
	if (f->woff < f->wlen)
		fetch_send(f);
out:
	op_finish(f);
}

static void
on_connect(struct loop_op *op, int res)
{
	struct imap_fetch *f = FETCH_OF(op, op_connect);
	char reason[96];

	if (f->state == IMAP_CLOSING)
		goto out;
	if (res < 0) {
		snprintf(reason, sizeof(reason), "IMAP connect failed: %s",
			 strerror(-res));
		fetch_fail(f, res, reason);
		goto out;
	}
	f->state = IMAP_GREETING;
	fetch_recv(f);
out:
	op_finish(f);
}

static void
on_cancel(struct loop_op *op, int res)
{
	struct imap_fetch *f = FETCH_OF(op, op_cancel);

	(void)res;
	op_finish(f);
}

static struct imap_fetch *
fetch_new(const struct imap_fetch_req *req)
{
	struct imap_fetch *f = calloc(1, sizeof(*f) + req->url_len + 1);

	if (f == NULL)
		return NULL;
	memcpy(f->url, req->url, req->url_len);
	f->fd = -1;
	f->server = req->server;
	f->base64 = req->base64;
	f->max_literal = req->max_literal;
	f->deadline_ms = loop_now_ms() + req->timeout_ms;
	f->anonymous = req->user == NULL;
	if (!f->anonymous) {
		snprintf(f->user, sizeof(f->user), "%s", req->user);
		snprintf(f->pass, sizeof(f->pass), "%s", req->pass);
	}
	snprintf(f->log_id, sizeof(f->log_id), "%s", req->log_id);
	f->op_connect.cb = on_connect;
	f->op_recv.cb = on_recv;
	f->op_send.cb = on_send;
	f->op_cancel.cb = on_cancel;
	return f;
}

struct imap_fetch *
imap_fetch_start(const struct imap_fetch_req *req, imap_fetch_done done,
		 void *arg)
{
	struct imap_fetch *f = fetch_new(req);
	struct io_uring_sqe *sqe;

	if (f == NULL)
		return NULL;
	f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		LOG_AT(LOGL_ERR, "imap", "%s: socket() failed: %s",
		       req->log_id, strerror(errno));
		free(f);
		return NULL;
	}
	f->done = done;
	f->arg = arg;
	f->next = fetches;
	if (fetches != NULL)
		fetches->prev = f;
	fetches = f;
	connections_opened++;
	sqe = loop_sqe(&f->op_connect);
	io_uring_prep_connect(sqe, f->fd, (struct sockaddr *)&f->server,
			      sizeof(f->server));
	f->pending++;
	return f;
}

void
imap_fetch_cancel(struct imap_fetch *f)
{
	f->done = NULL;
	fetch_close(f);
}

void
imap_fetch_tick(uint64_t now_ms)
{
	struct imap_fetch *f, *next;

	for (f = fetches; f != NULL; f = next) {
		next = f->next;
		if (f->state == IMAP_CLOSING || now_ms < f->deadline_ms)
			continue;
		if (f->done == NULL)
			fetch_close(f);	/* LOGOUT not answered: fine */
		else
			fetch_fail(f, -ETIMEDOUT, "IMAP server timed out");
	}
}
