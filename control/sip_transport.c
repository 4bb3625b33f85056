/* The stream connections of control/sip_transport.h, those callers open
 * and those anncd opens itself.  Each connection has at most one receive
 * and one send (or its connect) in flight on the loop; a connection being
 * closed is shut down at once and freed when both have completed, so that
 * no completion ever points at freed memory.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/loop.h"
#include "control/sip_frame.h"
#include "control/sip_msg.h"
#include "control/sip_transport.h"
#include "control/tls.h"
#include "core/log.h"
#include "core/rand.h"

#define TP_RBUF_START	4096	/* grown by doubling up to the limit */
#define TP_CHUNK	16384	/* ciphertext read at once; a TLS record */
#define TP_OUT_MSGS	16	/* tracked messages waiting on a connect */
#define TP_LOG_PER_SEC	20	/* peer-caused closes logged per second */
#define TP_SWEEP_MS	50	/* how often idle connections are looked for */
#define TP_LOST_LOG_MS	10000	/* a failed connect logged once per address
				 * and transport this often */
#define TP_LOST_SLOTS	64	/* addresses remembered for that */
#define TP_BACKLOG	128
#define TP_CONNECTING_SHARE 2	/* at most 1/this of --sip-max-connections
				 * may be our own connects in flight */
#define TP_LINGER_MS	2000	/* after a refusal, the peer's close is
				 * waited for this long */
#define TP_REFUSAL_MAX	8192	/* largest 400 built for a framing fault */
#define TP_PORT_TCP	5060	/* RFC 3261 section 19.1.2 */
#define TP_PORT_TLS	5061

#define TP_LOG(lvl, ...) LOG_AT(lvl, "sip", __VA_ARGS__)

struct tp_buf {
	char *p;
	size_t len, cap;
};

struct tp_conn {
	struct loop_op rd_op;
	struct loop_op wr_op;
	int fd;
	int live, closing, wr_busy, handshaken;
	int ending;			/* refused: 1 sending the answer, 2 its
					 * FIN sent; nothing more is read */
	int connecting;			/* ours, not yet connected (TLS: not
					 * yet handshaken) */
	int ours;			/* opened by anncd, not accepted */
	int err;			/* -errno of a failed connect */
	unsigned int holds;		/* dialogs on it: no idle close */
	int rd_busy;			/* 1 in flight, 2 in its completion */
	struct sip_peer peer;
	struct tls_conn *tls;
	struct tp_buf in;		/* plaintext not yet framed */
	struct tp_buf out;		/* queued, not yet handed to send */
	struct tp_buf wire;		/* being sent, from woff */
	size_t woff;
	struct tp_buf pend;		/* plaintext queued while connecting */
	uint64_t cookies[TP_OUT_MSGS];	/* of the tracked messages in pend */
	unsigned int n_cookies, n_pend;
	char *cipher;			/* TLS: ciphertext read */
	uint64_t last_rx_ms;		/* a byte came or a message was queued */
	uint64_t msg_since_ms;		/* a partial message since; 0: none */
	uint64_t since_ms;		/* connecting or ending since */
};

struct tp_listener {
	struct loop_op op;
	int fd;
	enum sip_tp tp;
	struct sockaddr_in from;
	socklen_t from_len;
};

static struct sip_tp_config conf;
static sip_tp_deliver_fn deliver_fn;
static sip_tp_lost_fn lost_fn;
static struct tp_conn *conns;
static uint32_t *free_slots;
static unsigned int n_free;
static struct tp_listener listeners[2];
static uint64_t next_sweep_ms;
static uint64_t log_second;
static unsigned int log_count, log_dropped;
static uint64_t lost_msgs;		/* dropped on connects that failed */

/* When a failed connect to an address was last logged, for which
 * cause, and how many since were not: a response retransmitted over a
 * connection that cannot be made fails once per retransmission (RFC 3261
 * section 17.2.1), which is one cause, not eleven.  A new cause is
 * logged at once. */
struct tp_lost_log {
	struct sockaddr_in addr;
	enum sip_tp tp;
	uint64_t at_ms;
	unsigned int quiet;
	char why[48];
};

static struct tp_lost_log lost_log[TP_LOST_SLOTS];

static void conn_arm_recv(struct tp_conn *c);
static void conn_flush(struct tp_conn *c);
static int conn_established(struct tp_conn *c);
static int conn_connect(enum sip_tp tp, const struct sockaddr_in *a,
			struct tp_conn **out);

const char *
sip_tp_name(enum sip_tp tp)
{
	return tp == SIP_TP_TLS ? "TLS" : tp == SIP_TP_TCP ? "TCP" : "UDP";
}

unsigned int
sip_tp_open_conns(void)
{
	return conf.max_conns - n_free;
}

uint64_t
sip_tp_lost_msgs(void)
{
	return lost_msgs;
}

/* A peer can cause as many closes as it opens connections: at most
 * TP_LOG_PER_SEC lines a second, the rest counted in the next line. */
static void
tp_log_peer(const struct sip_peer *p, const char *what, const char *why)
{
	uint64_t sec = loop_now_ms() / 1000;
	char ip[INET_ADDRSTRLEN];

	if (sec != log_second) {
		log_second = sec;
		log_count = 0;
	}
	if (log_count++ >= TP_LOG_PER_SEC) {
		log_dropped++;
		return;
	}
	inet_ntop(AF_INET, &p->addr.sin_addr, ip, sizeof(ip));
	if (log_dropped > 0)
		TP_LOG(LOGL_INFO, "%u lines on closed connections not logged",
		       log_dropped);
	TP_LOG(LOGL_INFO, "%s %s %s:%u: %s", what, sip_tp_name(p->tp), ip,
	       ntohs(p->addr.sin_port), why);
	log_dropped = 0;
}

static struct tp_conn *
conn_by_id(uint32_t id)
{
	struct tp_conn *c;

	if (conns == NULL || (id & 0xfffff) >= conf.max_conns)
		return NULL;
	c = &conns[id & 0xfffff];
	return c->live && !c->closing && !c->ending && c->peer.conn == id ?
	       c : NULL;
}

static void
conn_free(struct tp_conn *c)
{
	close(c->fd);
	tls_conn_free(c->tls);
	free(c->in.p);
	free(c->out.p);
	free(c->wire.p);
	free(c->pend.p);
	free(c->cipher);
	c->live = 0;
	free_slots[n_free++] = c->peer.conn & 0xfffff;
}

/* The slot that remembers p, or NULL when one was logged for it within
 * TP_LOST_LOG_MS (its quiet count then grows). */
static struct tp_lost_log *
tp_lost_slot(const struct sip_peer *p, const char *why, uint64_t now_ms)
{
	uint32_t h = (p->addr.sin_addr.s_addr * 2654435761u) ^
		     p->addr.sin_port ^ p->tp;
	struct tp_lost_log *l = &lost_log[h % TP_LOST_SLOTS];
	int same = l->tp == p->tp &&
		   l->addr.sin_addr.s_addr == p->addr.sin_addr.s_addr &&
		   l->addr.sin_port == p->addr.sin_port;

	if (same && l->at_ms != 0 && now_ms - l->at_ms < TP_LOST_LOG_MS &&
	    strncmp(l->why, why, sizeof(l->why) - 1) == 0) {
		l->quiet++;
		return NULL;
	}
	if (!same)
		l->quiet = 0;
	l->addr = p->addr;
	l->tp = p->tp;
	l->at_ms = now_ms;
	snprintf(l->why, sizeof(l->why), "%s", why);
	return l;
}

/* A connection anncd opened that never carried what was queued on it:
 * the messages are dropped, and those sent tracked are reported. */
static void
conn_lost(struct tp_conn *c, const char *why)
{
	const char *cause = why != NULL ? why : "closed by the peer";
	struct tp_lost_log *l = tp_lost_slot(&c->peer, cause, loop_now_ms());
	char line[192];
	unsigned int i;

	lost_msgs += c->n_pend;
	if (l != NULL) {
		snprintf(line, sizeof(line), "%s; %u message%s dropped "
			 "(%u failures since not logged, %llu messages "
			 "dropped in all)", cause, c->n_pend,
			 c->n_pend == 1 ? "" : "s", l->quiet,
			 (unsigned long long)lost_msgs);
		l->quiet = 0;
		tp_log_peer(&c->peer, "cannot connect to", line);
	}
	for (i = 0; i < c->n_cookies && lost_fn != NULL; i++)
		lost_fn(c->cookies[i], &c->peer, c->err ? c->err : -ECONNRESET);
	c->n_cookies = 0;
	c->n_pend = 0;
	c->pend.len = 0;
}

/* Shuts the socket so that whatever is in flight completes; the last
 * completion frees the connection. */
static void
conn_close(struct tp_conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->connecting)
		conn_lost(c, why);
	else if (why != NULL)
		tp_log_peer(&c->peer, "closing", why);
	shutdown(c->fd, SHUT_RDWR);
	/* Not from within the receive's own completion (rd_busy 2): the
	 * slot may be reused before the cancel is submitted. */
	if (c->rd_busy == 1)
		io_uring_prep_cancel(loop_sqe(NULL), &c->rd_op, 0);
	if (c->connecting && c->wr_busy)
		io_uring_prep_cancel(loop_sqe(NULL), &c->wr_op, 0);
	if (!c->rd_busy && !c->wr_busy)
		conn_free(c);
}

/* Bytes handed to c that the kernel has not taken yet. */
static size_t
conn_queued(const struct tp_conn *c)
{
	return c->out.len + c->wire.len - c->woff;
}

/* The peer leaves our answers unread: the bytes waiting and the one
 * message that did not fit name why. */
static void
conn_close_unread(struct tp_conn *c, size_t more)
{
	char why[128];

	snprintf(why, sizeof(why), "peer reads too little: %zu bytes queued, "
		 "%zu more over --sip-max-send-queue-bytes %zu",
		 conn_queued(c), more, conf.max_queue);
	conn_close(c, why);
}

static int
buf_reserve(struct tp_buf *b, size_t more, size_t limit)
{
	size_t cap = b->cap ? b->cap : TP_RBUF_START;
	char *p;

	if (b->len + more <= b->cap)
		return 0;
	if (b->len + more > limit)
		return -ENOBUFS;
	while (cap < b->len + more)
		cap *= 2;
	if (cap > limit)
		cap = limit;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Queues bytes for the peer, as they go on the wire; at most max_queue
 * of them wait, so that a peer that sends and never reads holds no more
 * of our memory than that. */
static int
conn_queue_raw(struct tp_conn *c, const void *data, size_t n)
{
	int rc;

	if (conn_queued(c) + n > conf.max_queue)
		return -ENOBUFS;
	rc = buf_reserve(&c->out, n, conf.max_queue);
	if (rc < 0)
		return rc;
	memcpy(c->out.p + c->out.len, data, n);
	c->out.len += n;
	return 0;
}

/* Moves what OpenSSL has written to the queue. */
static int
conn_take_tls(struct tp_conn *c)
{
	size_t n;

	do {
		if (buf_reserve(&c->out, TP_CHUNK,
				conf.max_queue + TP_CHUNK) < 0)
			return -ENOBUFS;
		n = tls_take(c->tls, c->out.p + c->out.len, TP_CHUNK);
		c->out.len += n;
	} while (n == TP_CHUNK);
	return 0;
}

static int
conn_queue(struct tp_conn *c, const void *data, size_t n)
{
	if (c->tls == NULL)
		return conn_queue_raw(c, data, n);
	if (conn_queued(c) + n > conf.max_queue)
		return -ENOBUFS;
	if (tls_write(c->tls, data, n) < 0)
		return -ENOMEM;
	return conn_take_tls(c);
}

void
sip_tp_hold(uint32_t id)
{
	struct tp_conn *c = conn_by_id(id);

	if (c != NULL)
		c->holds++;
}

void
sip_tp_release(uint32_t id)
{
	struct tp_conn *c = conn_by_id(id);

	if (c == NULL || c->holds == 0)
		return;
	/* Silence is counted from here, not from the last request. */
	if (--c->holds == 0)
		c->last_rx_ms = loop_now_ms();
}

static void
conn_on_sent(struct loop_op *op, int res)
{
	struct tp_conn *c = (struct tp_conn *)((char *)op -
					       offsetof(struct tp_conn, wr_op));

	c->wr_busy = 0;
	if (c->closing) {
		if (!c->rd_busy)
			conn_free(c);
		return;
	}
	if (res <= 0) {
		conn_close(c, res < 0 ? strerror(-res) : "send made no progress");
		return;
	}
	c->woff += (size_t)res;
	conn_flush(c);
}

/* One send in flight at a time: the queue becomes the wire buffer, the
 * old wire buffer the next queue. */
static void
conn_flush(struct tp_conn *c)
{
	struct io_uring_sqe *sqe;
	struct tp_buf t;

	if (c->wr_busy || c->closing)
		return;
	if (c->woff == c->wire.len) {
		if (c->out.len == 0) {
			/* A refusal has gone: FIN, and wait for the peer's. */
			if (c->ending == 1) {
				shutdown(c->fd, SHUT_WR);
				c->ending = 2;
			}
			return;
		}
		t = c->wire;
		c->wire = c->out;
		c->out = t;
		c->out.len = 0;
		c->woff = 0;
	}
	c->wr_busy = 1;
	sqe = loop_sqe(&c->wr_op);
	io_uring_prep_send(sqe, c->fd, c->wire.p + c->woff,
			   c->wire.len - c->woff, MSG_NOSIGNAL);
}

/* Queues msg on c; while c connects, as plaintext beside it, with the
 * cookie to report should the connection never be made. */
static int
conn_send(struct tp_conn *c, const char *msg, size_t len, uint64_t cookie)
{
	int rc;

	/* Silence is counted from our last message too: a connection we
	 * opened to deliver answers stays while they are resent. */
	c->last_rx_ms = loop_now_ms();
	if (c->connecting) {
		if (c->n_cookies == TP_OUT_MSGS ||
		    buf_reserve(&c->pend, len, conf.max_queue) < 0)
			return -ENOBUFS;
		memcpy(c->pend.p + c->pend.len, msg, len);
		c->pend.len += len;
		c->n_pend++;
		if (cookie != 0)
			c->cookies[c->n_cookies++] = cookie;
		return 0;
	}
	rc = conn_queue(c, msg, len);
	if (rc < 0) {
		conn_close_unread(c, len);
		return rc;
	}
	conn_flush(c);
	return 0;
}

/* RFC 3261 section 18.1.1 and 18.3: a connection already open to the
 * address over the transport is used again, whoever opened it. */
static struct tp_conn *
conn_find(enum sip_tp tp, const struct sockaddr_in *a)
{
	struct tp_conn *c;
	unsigned int i;

	for (i = 0; i < conf.max_conns; i++) {
		c = &conns[i];
		if (c->live && !c->closing && !c->ending && c->peer.tp == tp &&
		    c->peer.addr.sin_addr.s_addr == a->sin_addr.s_addr &&
		    c->peer.addr.sin_port == a->sin_port)
			return c;
	}
	return NULL;
}

int
sip_tp_send_tracked(const struct sip_peer *to, const char *msg, size_t len,
		    uint64_t cookie)
{
	struct tp_conn *c;
	int rc;

	if (to->tp == SIP_TP_UDP || conns == NULL)
		return -EINVAL;
	if (to->conn != 0) {
		c = conn_by_id(to->conn);
		return c == NULL ? -ENOTCONN : conn_send(c, msg, len, cookie);
	}
	c = conn_find(to->tp, &to->addr);
	if (c == NULL) {
		rc = conn_connect(to->tp, &to->addr, &c);
		if (rc < 0)
			return rc;
	}
	return conn_send(c, msg, len, cookie);
}

int
sip_tp_send(const struct sip_peer *to, const char *msg, size_t len)
{
	return sip_tp_send_tracked(to, msg, len, 0);
}

/* The top Via's sent-by port of our own response, 0 when it has none. */
static int
tp_via_port(const char *msg, size_t len, uint16_t *port)
{
	struct sip_msg m;
	const char *why;

	/* A header that breaks its rule elsewhere leaves Via read. */
	sip_parse(msg, len, &m, &why);
	if (m.is_request || m.n_via == 0)
		return -EINVAL;
	*port = m.via_port;
	return 0;
}

int
sip_tp_reply(const struct sip_peer *to, const char *msg, size_t len)
{
	struct sip_peer alt = *to;
	uint16_t port;

	if (to->conn == 0 || conn_by_id(to->conn) != NULL)
		return sip_tp_send(to, msg, len);
	/* RFC 3261 section 18.2.2: the address the request came from,
	 * which is what received= holds when sent-by differs, and the
	 * sent-by port, or the transport's default. */
	if (tp_via_port(msg, len, &port) < 0)
		return -ENOTCONN;
	if (port == 0)
		port = to->tp == SIP_TP_TLS ? TP_PORT_TLS : TP_PORT_TCP;
	alt.conn = 0;
	alt.addr.sin_port = htons(port);
	return sip_tp_send(&alt, msg, len);
}

/* RFC 3261 section 18.3: a stream whose framing is lost cannot be read
 * on, but a request whose header section is whole still gets a 400
 * naming the fault and the value (sections 8.2.6, 21.4.1), as over UDP.
 * Returns 0 when it is queued. */
static int
conn_refuse(struct tp_conn *c, const char *hdr, const struct sip_frame *f,
	    const char *why)
{
	char out[TP_REFUSAL_MAX], reason[128], tag[17];
	struct sip_msg m;
	const char *perr;
	int n;

	/* A fault of its own is not the one named: the parse may fail. */
	sip_parse(hdr, f->hlen, &m, &perr);
	if (!m.is_request || m.n_via == 0 || m.call_id.n == 0 ||
	    m.from.n == 0 || m.to.n == 0 || m.cseq_value.n == 0 ||
	    sip_str_eq(m.method, "ACK"))
		return -1;
	snprintf(reason, sizeof(reason), "%c%s%s%s", toupper(why[0]), why + 1,
		 f->detail[0] != '\0' ? ": " : "", f->detail);
	rand_token(tag, sizeof(tag));
	n = sip_build_response(out, sizeof(out), &m, 400, reason, tag, NULL,
			       NULL, NULL, 0);
	if (n < 0 || conn_queue(c, out, (size_t)n) < 0)
		return -1;
	return 0;
}

/* Ends c once what is queued has gone (a refusal, or the answers to the
 * messages before a framing fault); what the peer sends after it is read
 * and dropped until it closes, so that no reset overtakes the answer. */
static void
conn_end(struct tp_conn *c, const char *why, int refused)
{
	char line[160 + SIP_FRAME_DETAIL];

	snprintf(line, sizeof(line), "%s%s", why,
		 refused ? ", answered 400" : ", after the answers queued");
	tp_log_peer(&c->peer, "closing", line);
	c->ending = 1;
	c->since_ms = loop_now_ms();
	c->in.len = 0;
	c->msg_since_ms = 0;
	conn_flush(c);
}

/* The framing of c is lost at hdr: a 400 when the request can be
 * answered, and the close, which waits for what is queued (a shutdown
 * now would discard the answers to the good messages before the fault).
 * The line names the value at fault.  Returns 0, or -1 after closing c.
 */
static int
conn_fault(struct tp_conn *c, const char *hdr, const struct sip_frame *f,
	   const char *why)
{
	char line[96 + SIP_FRAME_DETAIL];

	snprintf(line, sizeof(line), f->detail[0] ? "%s: \"%s\"" : "%s", why,
		 f->detail);
	if (f->hlen > 0 && conn_refuse(c, hdr, f, why) == 0) {
		conn_end(c, line, 1);
		return 0;
	}
	if (c->wr_busy || c->out.len > 0) {
		conn_end(c, line, 0);
		return 0;
	}
	conn_close(c, line);
	return -1;
}

/* Frames and delivers every whole message in c->in, answering pings
 * (RFC 5626 section 3.5.1: a CRLF pong to each double-CRLF ping).
 * Returns 0, or -1 after closing c. */
static int
conn_frame(struct tp_conn *c)
{
	struct sip_frame f;
	const char *why = NULL;
	size_t off = 0;
	char saved;
	int rc;

	if (c->ending)
		return 0;
	for (;;) {
		rc = sip_frame_next(c->in.p + off, c->in.len - off,
				    conf.max_msg, &f, &why);
		for (; f.pings > 0; f.pings--)
			if (conn_queue(c, "\r\n", 2) < 0)
				rc = -1, why = "peer reads too little";
		off += f.skip;
		if (rc <= 0)
			break;
		saved = c->in.p[off + f.len];
		c->in.p[off + f.len] = '\0';
		deliver_fn(c->in.p + off, f.len, &c->peer);
		c->in.p[off + f.len] = saved;
		off += f.len;
		if (c->closing)
			return -1;
	}
	if (rc < 0)
		return conn_fault(c, c->in.p + off, &f, why);
	memmove(c->in.p, c->in.p + off, c->in.len - off);
	c->in.len -= off;
	/* Half a ping is no message under way (f.skip stopped before it). */
	if (c->in.len == 0 || (c->in.len < 4 && c->in.p[0] == '\r'))
		c->msg_since_ms = 0;
	else if (c->msg_since_ms == 0)
		c->msg_since_ms = loop_now_ms();
	return 0;
}

/* Room for the next read: a whole message of max_msg bytes and the byte
 * after it, which conn_frame borrows for a NUL. */
static size_t
conn_room(struct tp_conn *c)
{
	if (c->in.len + 1 >= c->in.cap &&
	    buf_reserve(&c->in, c->in.cap ? c->in.cap : TP_RBUF_START,
			conf.max_msg + 1) < 0 &&
	    buf_reserve(&c->in, conf.max_msg + 1 - c->in.len,
			conf.max_msg + 1) < 0)
		return 0;
	return c->in.cap - c->in.len - 1;
}

/* TLS: ciphertext in, handshake, then plaintext framed as it comes. */
static int
conn_on_cipher(struct tp_conn *c, size_t n)
{
	char why[128];
	ssize_t got;
	size_t room;
	int rc;

	if (tls_feed(c->tls, c->cipher, n) < 0) {
		conn_close(c, "out of memory");
		return -1;
	}
	if (!c->handshaken) {
		rc = tls_handshake(c->tls, why, sizeof(why));
		if (rc < 0 || conn_take_tls(c) < 0) {
			c->err = -EPROTO;
			conn_close(c, rc < 0 ? why : "handshake output");
			return -1;
		}
		c->handshaken = rc;
		if (rc == 1)
			c->msg_since_ms = 0;
		if (rc == 1 && c->connecting && conn_established(c) < 0)
			return -1;
	}
	while (c->handshaken && !c->ending && (room = conn_room(c)) > 0) {
		got = tls_read(c->tls, c->in.p + c->in.len, room);
		if (got < 0) {
			/* A close_notify between messages is a clean end. */
			conn_close(c, c->in.len > 0 ?
				   "TLS session ended mid-message" : NULL);
			return -1;
		}
		if (got == 0)
			break;
		c->in.len += (size_t)got;
		if (conn_frame(c) < 0)
			return -1;
	}
	/* What reading made OpenSSL write (an alert, a key update) goes out
	 * now, not only with our next message. */
	if (c->handshaken && tls_output_pending(c->tls) &&
	    conn_take_tls(c) < 0) {
		conn_close_unread(c, 0);
		return -1;
	}
	/* A handshake, or a record not yet whole, is a message under way
	 * too: it must end within idle_ms of its first byte. */
	if (c->msg_since_ms == 0 &&
	    (!c->handshaken || tls_record_pending(c->tls)))
		c->msg_since_ms = loop_now_ms();
	return 0;
}

static void
conn_on_recv(struct loop_op *op, int res)
{
	struct tp_conn *c = (struct tp_conn *)((char *)op -
					       offsetof(struct tp_conn, rd_op));
	int rc = 0;

	c->rd_busy = 2;
	if (!c->closing && res <= 0)
		conn_close(c, c->ending ? NULL : c->in.len > 0 || res < 0 ?
			   (res < 0 ? strerror(-res) : "closed mid-message") :
			   NULL);
	if (!c->closing) {
		c->last_rx_ms = loop_now_ms();
		if (c->ending) {
			rc = 0;		/* after a refusal: dropped */
		} else if (c->tls != NULL) {
			rc = conn_on_cipher(c, (size_t)res);
		} else {
			c->in.len += (size_t)res;
			rc = conn_frame(c);
		}
	}
	if (rc == 0 && !c->closing) {
		conn_flush(c);
		conn_arm_recv(c);
		return;
	}
	c->rd_busy = 0;
	if (!c->wr_busy)
		conn_free(c);
}

static void
conn_arm_recv(struct tp_conn *c)
{
	struct io_uring_sqe *sqe;
	size_t room = c->tls ? TP_CHUNK : conn_room(c);
	char *to = c->tls ? c->cipher : c->in.p + c->in.len;

	if (room == 0) {
		/* conn_frame refuses a message over the limit first. */
		c->rd_busy = 0;
		conn_close(c, "receive buffer full");
		return;
	}
	c->rd_busy = 1;
	sqe = loop_sqe(&c->rd_op);
	io_uring_prep_recv(sqe, c->fd, to, room, 0);
}

/* A slot for a new connection on fd; NULL when its TLS session cannot be
 * had (fd is closed then). */
static struct tp_conn *
conn_setup(int fd, enum sip_tp tp, const struct sockaddr_in *a, int ours)
{
	uint32_t slot = free_slots[--n_free], gen;
	struct tp_conn *c = &conns[slot];
	char ip[INET_ADDRSTRLEN];
	int one = 1;

	/* The generation keeps a stale id from reaching a reused slot; 0
	 * is never an id, so that a UDP peer names no connection. */
	gen = ((c->peer.conn >> 20) + 1) & 0xfff;
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->live = 1;
	c->peer.tp = tp;
	c->peer.addr = *a;
	c->peer.conn = slot | (gen ? gen : 1) << 20;
	c->rd_op.cb = conn_on_recv;
	c->wr_op.cb = conn_on_sent;
	c->last_rx_ms = loop_now_ms();
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tp != SIP_TP_TLS)
		return c;
	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	c->tls = ours ? tls_conn_new_sip(ip) : tls_conn_new_server();
	c->cipher = malloc(TP_CHUNK);
	if (c->tls == NULL || c->cipher == NULL) {
		TP_LOG(LOGL_ERR, "TLS session for a new connection: out of "
		       "memory");
		conn_close(c, NULL);
		return NULL;
	}
	return c;
}

static void
conn_open(int fd, const struct tp_listener *l)
{
	struct tp_conn *c = conn_setup(fd, l->tp, &l->from, 0);

	if (c != NULL)
		conn_arm_recv(c);
}

/* Connected (TLS: handshaken): what waited goes out.  Returns 0, or -1
 * after closing c. */
static int
conn_established(struct tp_conn *c)
{
	int rc;

	c->connecting = 0;
	c->n_cookies = 0;
	c->n_pend = 0;
	rc = conn_queue(c, c->pend.p, c->pend.len);
	c->pend.len = 0;
	if (rc < 0) {
		conn_close(c, "out of memory");
		return -1;
	}
	return 0;
}

static void
conn_on_connect(struct loop_op *op, int res)
{
	struct tp_conn *c = (struct tp_conn *)((char *)op -
					       offsetof(struct tp_conn, wr_op));
	char why[128];

	c->wr_busy = 0;
	c->wr_op.cb = conn_on_sent;
	if (c->closing) {
		if (!c->rd_busy)
			conn_free(c);
		return;
	}
	if (res < 0) {
		c->err = res;
		conn_close(c, strerror(-res));
		return;
	}
	c->last_rx_ms = loop_now_ms();
	if (c->tls == NULL) {
		if (conn_established(c) < 0)
			return;
	} else if (tls_handshake(c->tls, why, sizeof(why)) < 0 ||
		   conn_take_tls(c) < 0) {
		c->err = -EPROTO;
		conn_close(c, "TLS client hello");
		return;
	}
	conn_flush(c);
	conn_arm_recv(c);
}

/* Our connects not yet connected (TLS: handshaken), closing or not:
 * each holds a slot for up to --sip-connect-timeout-ms. */
static unsigned int
tp_connecting(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < conf.max_conns; i++)
		if (conns[i].live && conns[i].ours && conns[i].connecting)
			n++;
	return n;
}

/* Whether a connect may take a slot: the table has one, and callers'
 * Contacts at addresses that never answer (one caller can name any
 * number of them) leave at least half of it to the connections callers
 * open themselves. */
static int
conn_may_connect(char *why, size_t cap)
{
	unsigned int most = conf.max_conns / TP_CONNECTING_SHARE;

	if (n_free == 0) {
		snprintf(why, cap, "%u connections open already",
			 conf.max_conns);
		return -EMFILE;
	}
	if (tp_connecting() >= (most > 0 ? most : 1)) {
		snprintf(why, cap, "%u connects in flight already (half of "
			 "--sip-max-connections)", most > 0 ? most : 1);
		return -EAGAIN;
	}
	return 0;
}

/* RFC 3261 section 18.1.1: a connection of our own, connected on the
 * loop; messages wait in pend until it is (TLS: handshaken), at most
 * --sip-connect-timeout-ms.  Counts against --sip-max-connections. */
static int
conn_connect(enum sip_tp tp, const struct sockaddr_in *a,
	     struct tp_conn **out)
{
	struct sip_peer p = { .tp = tp, .addr = *a };
	struct tp_conn *c;
	char why[96];
	int fd, rc;

	rc = conn_may_connect(why, sizeof(why));
	if (rc < 0) {
		tp_log_peer(&p, "not connecting to", why);
		return rc;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		TP_LOG(LOGL_ERR, "socket(AF_INET, SOCK_STREAM) failed: %s",
		       strerror(-rc));
		return rc;
	}
	c = conn_setup(fd, tp, a, 1);
	if (c == NULL)
		return -ENOMEM;
	c->ours = 1;
	c->connecting = 1;
	c->since_ms = loop_now_ms();
	c->wr_busy = 1;
	c->wr_op.cb = conn_on_connect;
	io_uring_prep_connect(loop_sqe(&c->wr_op), fd,
			      (const struct sockaddr *)&c->peer.addr,
			      sizeof(c->peer.addr));
	*out = c;
	return 0;
}

static void
listener_arm(struct tp_listener *l)
{
	struct io_uring_sqe *sqe = loop_sqe(&l->op);

	l->from_len = sizeof(l->from);
	io_uring_prep_accept(sqe, l->fd, (struct sockaddr *)&l->from,
			     &l->from_len, SOCK_CLOEXEC);
}

/* Connections accepted from addr and still open: one host must not
 * hold every slot (the scan is per accept, not per message). */
static unsigned int
tp_conns_from(const struct in_addr *addr)
{
	unsigned int i, n = 0;

	for (i = 0; i < conf.max_conns; i++)
		if (conns[i].live && !conns[i].closing && !conns[i].ours &&
		    conns[i].peer.addr.sin_addr.s_addr == addr->s_addr)
			n++;
	return n;
}

static void
listener_on_accept(struct loop_op *op, int res)
{
	struct tp_listener *l = (struct tp_listener *)op;
	struct sip_peer p = { .tp = l->tp, .addr = l->from };
	char why[96];

	if (res < 0) {
		TP_LOG(LOGL_WARN, "accept on %s failed: %s", sip_tp_name(l->tp),
		       strerror(-res));
	} else if (n_free == 0) {
		snprintf(why, sizeof(why), "%u connections open already",
			 conf.max_conns);
		tp_log_peer(&p, "refusing", why);
		close(res);
	} else if (conf.max_per_ip != 0 &&
		   tp_conns_from(&l->from.sin_addr) >= conf.max_per_ip) {
		snprintf(why, sizeof(why), "%u connections from this address "
			 "open already (--sip-max-connections-per-ip)",
			 conf.max_per_ip);
		tp_log_peer(&p, "refusing", why);
		close(res);
	} else {
		conn_open(res, l);
	}
	listener_arm(l);
}

static int
listener_open(struct tp_listener *l, enum sip_tp tp,
	      const struct sockaddr_in *a)
{
	char ip[INET_ADDRSTRLEN];
	int one = 1, rc;

	l->tp = tp;
	l->op.cb = listener_on_accept;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one,
		       sizeof(one)) < 0 ||
	    bind(l->fd, (const struct sockaddr *)a, sizeof(*a)) < 0 ||
	    listen(l->fd, TP_BACKLOG) < 0) {
		rc = -errno;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		TP_LOG(LOGL_ERR, "listening on %s %s:%u failed: %s",
		       sip_tp_name(tp), ip, ntohs(a->sin_port), strerror(-rc));
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		return rc;
	}
	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	TP_LOG(LOGL_INFO, "sip accepting %s on %s:%u", tp == SIP_TP_TLS ?
	       "tls" : "tcp", ip, ntohs(a->sin_port));
	listener_arm(l);
	return 0;
}

/* Whether c has outlived a limit: its connect, its linger after a
 * refusal, its message's arrival or its silence. */
static void
conn_sweep(struct tp_conn *c, uint64_t now_ms)
{
	if (c->connecting) {
		if (now_ms - c->since_ms >= conf.connect_ms) {
			c->err = -ETIMEDOUT;
			conn_close(c, "not connected within "
				   "--sip-connect-timeout-ms");
		}
	} else if (c->ending) {
		if (now_ms - c->since_ms >= TP_LINGER_MS)
			conn_close(c, NULL);
	} else if (c->msg_since_ms != 0 &&
		   now_ms - c->msg_since_ms >= conf.idle_ms) {
		/* A message must be whole within idle_ms of its first
		 * byte, however slowly the rest trickles in. */
		conn_close(c, c->handshaken || c->tls == NULL ?
			   "message incomplete within --sip-idle-ms" :
			   "TLS handshake incomplete within --sip-idle-ms");
	} else if (c->holds == 0 && now_ms - c->last_rx_ms >= conf.idle_ms) {
		conn_close(c, "idle for --sip-idle-ms");
	}
}

void
sip_tp_tick(uint64_t now_ms)
{
	unsigned int i;

	if (now_ms < next_sweep_ms || conns == NULL)
		return;
	next_sweep_ms = now_ms + TP_SWEEP_MS;
	for (i = 0; i < conf.max_conns; i++)
		if (conns[i].live && !conns[i].closing)
			conn_sweep(&conns[i], now_ms);
}

void
sip_tp_on_lost(sip_tp_lost_fn fn)
{
	lost_fn = fn;
}

int
sip_tp_init(const struct sip_tp_config *c, sip_tp_deliver_fn deliver)
{
	int rc;

	conf = *c;
	if (conf.max_queue == 0)
		conf.max_queue = 2 * conf.max_msg;
	deliver_fn = deliver;
	listeners[0].fd = listeners[1].fd = -1;
	/* Even without listeners: a dialog's next hop may be a stream. */
	conns = calloc(c->max_conns, sizeof(*conns));
	free_slots = malloc(c->max_conns * sizeof(*free_slots));
	if (conns == NULL || free_slots == NULL)
		return -ENOMEM;
	for (n_free = 0; n_free < c->max_conns; n_free++)
		free_slots[n_free] = c->max_conns - 1 - n_free;
	rc = tls_sip_client_init(c->tls_verify);
	if (rc == 0 && c->tls_addr.sin_port != 0)
		rc = tls_server_init(c->tls_cert, c->tls_key);
	if (rc == 0 && c->tcp_addr.sin_port != 0)
		rc = listener_open(&listeners[0], SIP_TP_TCP, &c->tcp_addr);
	if (rc == 0 && c->tls_addr.sin_port != 0)
		rc = listener_open(&listeners[1], SIP_TP_TLS, &c->tls_addr);
	return rc;
}

/* After the loop has stopped: nothing completes any more. */
void
sip_tp_fini(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (listeners[i].fd >= 0)
			close(listeners[i].fd);
	/* Shut first: a receive still queued then ends without writing
	 * into the buffer freed here. */
	for (i = 0; conns != NULL && i < conf.max_conns; i++)
		if (conns[i].live) {
			shutdown(conns[i].fd, SHUT_RDWR);
			conn_free(&conns[i]);
		}
	free(conns);
	free(free_slots);
	conns = NULL;
	free_slots = NULL;
	tls_server_fini();
	tls_sip_client_fini();
}
