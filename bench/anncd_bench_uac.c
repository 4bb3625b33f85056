/* anncd-bench: thousands of SIP user agent clients (RFC 3261) on one UDP
 * socket and one io_uring.  Each call is INVITE, 100, 200, ACK, then
 * either anncd's BYE at the end of the announcement (answered 200) or our
 * BYE --hold-ms after the 200.  Its RTP arrives on one of a few sockets
 * and is told apart by anncd's source port, which the SDP answer names;
 * every packet is checked (anncd_bench_rtp.c) with its kernel receive
 * timestamp, so that the bench's own lag does not count as jitter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <liburing.h>

#include "bench/anncd_bench.h"
#include "bench/bench_param.h"
#include "control/sdp.h"
#include "control/sip_msg.h"

#define RING_ENTRIES	4096
#define SIP_RX_OPS	256	/* receives kept posted on the SIP socket */
#define RTP_RX_OPS	32	/* per RTP socket */
#define RTCP_RX_OPS	4	/* per RTCP socket */
#define SIP_RX_BUF	8192
#define RTP_RX_BUF	2048
#define SIP_RCVBUF	(16 << 20)
#define RTP_RCVBUF	(4 << 20)
#define T1_MS		500	/* RFC 3261 section 17.1.1.1 */
#define T2_MS		4000
#define SCAN_NS		5000000	/* timers are looked at this often */
#define RUN_DOMAIN	"anncd-bench"

enum op_kind { OP_SIP, OP_RTP, OP_RTCP, OP_TX };

struct rx_op {
	uint8_t kind;
	uint8_t sock;
	struct rx_op *all;		/* every one made, to free at the end */
	int fd;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_in from;
	char ctl[CMSG_SPACE(sizeof(struct timespec)) + 16];
	uint8_t buf[];
};

struct tx_op {
	uint8_t kind;
	struct tx_op *next;		/* free list */
	struct tx_op *all;		/* every one made, to free at the end */
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_in to;
	char buf[BENCH_MSG_MAX];
};

enum call_state { BC_FREE, BC_CALLING, BC_UP, BC_BYE };

struct bcall {
	uint8_t state;
	uint8_t full;			/* plays to anncd's BYE, checked */
	uint8_t step;
	uint8_t sock;			/* RTP socket of the offer */
	uint8_t got_rtp;
	uint32_t gen;
	uint16_t media_port;		/* anncd's RTP source port */
	unsigned int rtx_ms;
	int64_t t_invite, t_next, t_give_up, t_hangup;
	char to_tag[48];
	struct bench_stream st;
};

static struct io_uring ring;
static struct bench_run *run;
static const struct bench_opts *opt;
static int sip_fd = -1;
static int rtp_fd[BENCH_MAX_RTP_SOCKS], rtcp_fd[BENCH_MAX_RTP_SOCKS];
static struct bcall *calls;
static uint32_t *free_idx;
static unsigned int n_free, n_open, n_streams;
static uint32_t port_owner[65536];	/* call index + 1 by source port */
static struct tx_op *tx_free, *tx_all;
static unsigned int tx_inflight, rx_posted;
static int stopping;			/* no receive is posted again */
static struct rx_op *rx_all;
static char *ruri;			/* sip:annc@server;play=... */
static char target[96];			/* sip:annc@server: the dialog's */
static char contact[160];		/* of the INVITE, with its type */
static unsigned int run_id, call_seq, clock_hz = 8000, spp;
static int64_t next_scan;
static struct sip_msg rx_msg;		/* large: not on the stack */

int64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct io_uring_sqe *
sqe_get(void *data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	while (sqe == NULL) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	io_uring_sqe_set_data(sqe, data);
	return sqe;
}

static void
rx_arm(struct rx_op *op, size_t cap)
{
	op->iov.iov_base = op->buf;
	op->iov.iov_len = cap;
	memset(&op->msg, 0, sizeof(op->msg));
	op->msg.msg_name = &op->from;
	op->msg.msg_namelen = sizeof(op->from);
	op->msg.msg_iov = &op->iov;
	op->msg.msg_iovlen = 1;
	op->msg.msg_control = op->ctl;
	op->msg.msg_controllen = sizeof(op->ctl);
	io_uring_prep_recvmsg(sqe_get(op), op->fd, &op->msg, 0);
}

static size_t
rx_cap(const struct rx_op *op)
{
	return op->kind == OP_SIP ? SIP_RX_BUF - 1 : RTP_RX_BUF;
}

/* The kernel's receive time of the datagram (SO_TIMESTAMPNS), or now. */
static int64_t
rx_time(struct msghdr *msg)
{
	struct cmsghdr *cm;
	struct timespec ts;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	return bench_now_ns();
}

static struct tx_op *
tx_get(void)
{
	struct tx_op *t = tx_free;

	if (t != NULL) {
		tx_free = t->next;
		return t;
	}
	t = malloc(sizeof(*t));
	if (t == NULL)
		return NULL;
	t->kind = OP_TX;
	t->all = tx_all;
	tx_all = t;
	return t;
}

static void
tx_send(struct tx_op *t, size_t len, const struct sockaddr_in *to)
{
	t->to = *to;
	t->iov.iov_base = t->buf;
	t->iov.iov_len = len;
	memset(&t->msg, 0, sizeof(t->msg));
	t->msg.msg_name = &t->to;
	t->msg.msg_namelen = sizeof(t->to);
	t->msg.msg_iov = &t->iov;
	t->msg.msg_iovlen = 1;
	io_uring_prep_sendmsg(sqe_get(t), sip_fd, &t->msg, 0);
	tx_inflight++;
}

/* ---- messages ---- */

static uint32_t
call_index(const struct bcall *c)
{
	return (uint32_t)(c - calls);
}

/* The SDP offer (RFC 3264 section 5): PCMU to receive only. */
static int
sdp_offer(const struct bcall *c, char *out, size_t cap)
{
	return snprintf(out, cap, "v=0\r\no=bench %u 1 IN IP4 %s\r\ns=-\r\n"
			"c=IN IP4 %s\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n"
			"a=rtpmap:0 PCMU/8000\r\na=ptime:%u\r\na=recvonly\r\n",
			call_index(c), opt->local, opt->local,
			opt->rtp_port + 2u * c->sock, opt->ptime);
}

/* A request of call c.  The Call-ID, tags and branches are made of the
 * call's slot and generation, so that a retransmission is the same
 * message and an answer finds its call without a table.
 */
static int
request(const struct bcall *c, char *out, const char *method,
	unsigned int cseq, char kind, const char *body)
{
	uint32_t i = call_index(c);
	int n;

	n = snprintf(out, BENCH_MSG_MAX,
		     "%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK%c%x.%x.%x;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:bench@%s>;tag=f%x.%x\r\n"
		     "To: <sip:annc@%s>%s%s\r\n"
		     "Call-ID: %x.%x.%x@" RUN_DOMAIN "\r\n"
		     "CSeq: %u %s\r\n%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, kind == 'i' ? ruri : target,
		     opt->local, opt->sip_port, kind, i, c->gen, run_id,
		     opt->local, i, c->gen, opt->server,
		     c->to_tag[0] ? ";tag=" : "", c->to_tag,
		     i, c->gen, run_id, cseq, method,
		     body ? contact : "",
		     body ? strlen(body) : 0, body ? body : "");
	return n < 0 || n >= BENCH_MSG_MAX ? -EMSGSIZE : n;
}

static void
send_request(const struct bcall *c, const char *method, unsigned int cseq,
	     char kind, const char *body)
{
	struct tx_op *t = tx_get();
	int n;

	if (t == NULL)
		return;
	n = request(c, t->buf, method, cseq, kind, body);
	if (n < 0) {
		t->next = tx_free;
		tx_free = t;
		return;
	}
	tx_send(t, (size_t)n, &opt->server_sa);
}

static void
send_invite(const struct bcall *c)
{
	char sdp[512];

	sdp_offer(c, sdp, sizeof(sdp));
	send_request(c, "INVITE", 1, 'i', sdp);
}

static void
respond(const struct sip_msg *m, const struct sockaddr_in *to, int code,
	const char *reason)
{
	struct tx_op *t = tx_get();
	int n;

	if (t == NULL)
		return;
	n = sip_build_response(t->buf, BENCH_MSG_MAX, m, code, reason, NULL,
			       NULL, NULL, NULL, 0);
	if (n < 0) {
		t->next = tx_free;
		tx_free = t;
		return;
	}
	tx_send(t, (size_t)n, to);
}

/* ---- calls ---- */

static struct bench_step *
call_step(const struct bcall *c)
{
	return &run->step[c->step];
}

/* The stream of a call that played to the end: complete when nothing was
 * lost or out of step, the first packet had the marker (RFC 3551 section
 * 4.1) and, when known, every packet of the attachment came.
 */
static void
stream_verdict(const struct bcall *c)
{
	const struct bench_stream *s = &c->st;
	struct bench_step *st = call_step(c);
	long lost = bench_stream_lost(s);
	int whole = opt->expect_packets < 0 ||
		    (long)s->received == opt->expect_packets;

	/* a loss at either end shows only against the known length */
	if (opt->expect_packets > 0 &&
	    opt->expect_packets - (long)s->received > lost)
		lost = opt->expect_packets - (long)s->received;

	st->full++;
	st->lost += lost > 0 ? (unsigned long)lost : 0;
	st->seq_errors += s->seq_errors;
	st->ts_errors += s->ts_errors;
	if (s->have)
		bench_sample_add(&st->jitter_ms, s->jitter * 1e3 / clock_hz);
	if (s->have && lost == 0 && s->seq_errors == 0 && s->ts_errors == 0
	    && s->marker_first && whole)
		st->complete++;
	else if (opt->verbose)
		fprintf(stderr, "call %u: stream received %u expected %u "
			"seq_errors %u ts_errors %u marker %u\n",
			call_index(c), s->received, bench_stream_expected(s),
			s->seq_errors, s->ts_errors, s->marker_first);
}

enum outcome { END_OK, END_REFUSED, END_TIMEOUT };

static void
call_end(struct bcall *c, enum outcome how)
{
	struct bench_step *st = call_step(c);

	if (how == END_OK) {
		st->ended++;
		if (c->full)
			stream_verdict(c);
	} else {
		st->failed++;
		if (how == END_REFUSED)
			st->refused++;
		else
			st->timed_out++;
	}
	if (c->state != BC_CALLING)
		n_streams--;
	if (c->media_port && port_owner[c->media_port] == call_index(c) + 1)
		port_owner[c->media_port] = 0;
	c->state = BC_FREE;
	c->gen++;
	n_open--;
	free_idx[n_free++] = call_index(c);
}

int
bench_uac_start(unsigned int step)
{
	struct bcall *c;
	int64_t now = bench_now_ns();

	if (n_free == 0) {
		run->step[step].skipped++;
		return -EBUSY;
	}
	c = &calls[free_idx[--n_free]];
	c->state = BC_CALLING;
	c->full = opt->full_every > 0 && call_seq % opt->full_every == 0;
	c->step = (uint8_t)step;
	c->sock = (uint8_t)(call_seq % opt->rtp_socks);
	c->got_rtp = 0;
	c->media_port = 0;
	c->to_tag[0] = '\0';
	memset(&c->st, 0, sizeof(c->st));
	c->t_invite = now;
	c->rtx_ms = T1_MS;
	c->t_next = now + (int64_t)T1_MS * 1000000;
	c->t_give_up = now + (int64_t)opt->timeout_ms * 1000000;
	call_seq++;
	n_open++;
	run->step[step].started++;
	send_invite(c);
	return 0;
}

static void
send_bye(struct bcall *c, int64_t now)
{
	c->state = BC_BYE;
	c->rtx_ms = T1_MS;
	c->t_next = now + (int64_t)T1_MS * 1000000;
	c->t_give_up = now + (int64_t)opt->timeout_ms * 1000000;
	send_request(c, "BYE", 2, 'b', NULL);
}

/* The media port of the SDP answer names the stream's source. */
static void
note_answer(struct bcall *c, const struct sip_msg *m)
{
	struct sdp_session sess;
	const char *why;

	if (m->body.n == 0 || sdp_parse(m->body.p, m->body.n, &sess, &why) < 0
	    || sess.n_media == 0 || sess.media[0].port == 0)
		return;
	c->media_port = sess.media[0].port;
	port_owner[c->media_port] = call_index(c) + 1;
}

static void
on_2xx(struct bcall *c, const struct sip_msg *m, int64_t t)
{
	struct bench_step *st = call_step(c);
	int64_t now = bench_now_ns();

	snprintf(c->to_tag, sizeof(c->to_tag), "%.*s",
		 (int)(m->to_tag.n < sizeof(c->to_tag) ? m->to_tag.n : 0),
		 m->to_tag.p);
	st->answered++;
	run->answers++;
	bench_sample_add(&st->setup_ms, (double)(t - c->t_invite) / 1e6);
	note_answer(c, m);
	c->state = BC_UP;
	if (++n_streams > st->max_active)
		st->max_active = n_streams;
	/* RFC 3261 section 13.2.2.4: the ACK of a 2xx is a transaction of
	 * its own, with a branch of its own */
	send_request(c, "ACK", 1, 'a', NULL);
	c->t_hangup = c->full ? 0 : now + (int64_t)opt->hold_ms * 1000000;
	c->t_give_up = now + (int64_t)opt->call_ms_max * 1000000;
	if (!c->full && opt->hold_ms == 0)
		send_bye(c, now);
}

static void
on_invite_response(struct bcall *c, const struct sip_msg *m, int64_t t)
{
	if (m->status < 200) {
		/* section 17.1.1.2: proceeding, no more retransmissions */
		if (c->state == BC_CALLING)
			c->rtx_ms = 0;
		return;
	}
	if (c->state != BC_CALLING) {
		/* a retransmitted 2xx: our ACK was lost or late */
		if (m->status < 300)
			send_request(c, "ACK", 1, 'a', NULL);
		return;
	}
	if (m->status < 300) {
		on_2xx(c, m, t);
		return;
	}
	/* section 17.1.1.3: the ACK of an error is the INVITE's own */
	snprintf(c->to_tag, sizeof(c->to_tag), "%.*s",
		 (int)(m->to_tag.n < sizeof(c->to_tag) ? m->to_tag.n : 0),
		 m->to_tag.p);
	send_request(c, "ACK", 1, 'i', NULL);
	if (opt->verbose)
		fprintf(stderr, "call %u: %d %.*s\n", call_index(c),
			m->status, (int)m->reason.n, m->reason.p);
	call_end(c, END_REFUSED);
}

/* The call a message belongs to, from its Call-ID, or NULL. */
static struct bcall *
call_of(const struct sip_msg *m)
{
	char id[64];
	unsigned int i, gen, rid;

	if (m->call_id.n >= sizeof(id))
		return NULL;
	memcpy(id, m->call_id.p, m->call_id.n);
	id[m->call_id.n] = '\0';
	if (sscanf(id, "%x.%x.%x@", &i, &gen, &rid) != 3 || rid != run_id ||
	    i >= opt->max_active || calls[i].gen != gen ||
	    calls[i].state == BC_FREE)
		return NULL;
	return &calls[i];
}

/* anncd's BYE at the end of the announcement (RFC 5616 section 2.2). */
static void
on_request(const struct sip_msg *m, const struct sockaddr_in *from)
{
	struct bcall *c = call_of(m);

	if (sip_str_eq(m->method, "ACK"))
		return;
	if (!sip_str_eq(m->method, "BYE")) {
		respond(m, from, 501, "Not Implemented");
		return;
	}
	if (c == NULL || c->state == BC_CALLING) {
		respond(m, from, 481, "Call/Transaction Does Not Exist");
		return;
	}
	respond(m, from, 200, "OK");
	call_end(c, END_OK);
}

static void
on_sip(struct rx_op *op, size_t n, int64_t t)
{
	struct sip_msg *m = &rx_msg;
	struct bcall *c;
	const char *why;

	op->buf[n] = '\0';
	if (sip_parse((const char *)op->buf, n, m, &why) < 0) {
		if (opt->verbose)
			fprintf(stderr, "sip: bad message: %s\n", why);
		return;
	}
	if (m->is_request) {
		on_request(m, &op->from);
		return;
	}
	c = call_of(m);
	if (c == NULL)
		return;		/* a late answer to a call given up */
	if (sip_str_caseeq(m->cseq_method, "INVITE"))
		on_invite_response(c, m, t);
	else if (sip_str_caseeq(m->cseq_method, "BYE") && m->status >= 200 &&
		 c->state == BC_BYE)
		call_end(c, END_OK);
}

static void
on_rtp(struct rx_op *op, size_t n, int64_t t)
{
	uint32_t owner = port_owner[ntohs(op->from.sin_port)];
	struct bcall *c;

	run->rtp_packets++;
	c = owner ? &calls[owner - 1] : NULL;
	if (c == NULL || c->sock != op->sock) {
		run->stray_rtp++;
		return;
	}
	bench_stream_add(&c->st, op->buf, n, t, clock_hz, spp,
			 c->full ? &run->hist : NULL);
	if (!c->got_rtp && c->st.have) {
		c->got_rtp = 1;
		bench_sample_add(&call_step(c)->first_rtp_ms,
				 (double)(t - c->t_invite) / 1e6);
	}
}

/* ---- timers ---- */

/* Timer A of the INVITE (doubling, no cap) and timer E of our BYE (up to
 * T2), RFC 3261 section 17.1; a rtx_ms of 0 stops them.
 */
static void
call_retransmit(struct bcall *c, int64_t now)
{
	if (c->rtx_ms == 0 || now < c->t_next)
		return;
	if (c->state == BC_CALLING)
		send_invite(c);
	else
		send_request(c, "BYE", 2, 'b', NULL);
	c->rtx_ms *= 2;
	if (c->state == BC_BYE && c->rtx_ms > T2_MS)
		c->rtx_ms = T2_MS;
	c->t_next = now + (int64_t)c->rtx_ms * 1000000;
}

static void
call_timers(struct bcall *c, int64_t now)
{
	if (c->state == BC_UP && c->t_hangup != 0 && now >= c->t_hangup) {
		send_bye(c, now);
		return;
	}
	if (now >= c->t_give_up) {
		if (opt->verbose)
			fprintf(stderr, "call %u: timed out in state %u\n",
				call_index(c), c->state);
		if (c->state == BC_UP)
			send_request(c, "BYE", 2, 'b', NULL);
		call_end(c, END_TIMEOUT);
		return;
	}
	if (c->state == BC_CALLING || c->state == BC_BYE)
		call_retransmit(c, now);
}

static void
timers_scan(int64_t now)
{
	unsigned int i;

	for (i = 0; i < opt->max_active; i++)
		if (calls[i].state != BC_FREE)
			call_timers(&calls[i], now);
}

/* ---- completions ---- */

static void
on_completion(void *data, int res)
{
	struct rx_op *op = data;
	struct tx_op *t = data;
	int64_t at;

	if (op->kind == OP_TX) {
		if (res < 0 && opt->verbose)
			fprintf(stderr, "sip: sendmsg: %s\n", strerror(-res));
		t->next = tx_free;
		tx_free = t;
		tx_inflight--;
		return;
	}
	if (res > 0 && !(op->msg.msg_flags & MSG_TRUNC)) {
		at = rx_time(&op->msg);
		if (op->kind == OP_SIP)
			on_sip(op, (size_t)res, at);
		else if (op->kind == OP_RTP)
			on_rtp(op, (size_t)res, at);
		else
			run->rtcp_packets++;
	}
	if (stopping)
		rx_posted--;
	else
		rx_arm(op, rx_cap(op));
}

int
bench_uac_poll(int64_t wait_ns)
{
	struct __kernel_timespec ts = {
		.tv_sec = wait_ns / 1000000000,
		.tv_nsec = wait_ns % 1000000000,
	};
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int64_t now;
	int rc;

	rc = io_uring_submit_and_wait_timeout(&ring, &cqe, 1,
					      wait_ns > 0 ? &ts : NULL, NULL);
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN)
		return rc;
	io_uring_for_each_cqe(&ring, head, cqe) {
		if (io_uring_cqe_get_data(cqe) != NULL)
			on_completion(io_uring_cqe_get_data(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(&ring, n);
	now = bench_now_ns();
	if (now >= next_scan) {
		timers_scan(now);
		next_scan = now + SCAN_NS;
	}
	return 0;
}

/* The answers queued by the last completions (the 200 to the last BYE)
 * go out before the end, within a second.
 */
void
bench_uac_flush(void)
{
	int64_t until = bench_now_ns() + 1000000000;

	while (tx_inflight > 0 && bench_now_ns() < until)
		if (bench_uac_poll(10000000) < 0)
			return;
}

unsigned int
bench_uac_open(void)
{
	return n_open;
}

unsigned int
bench_uac_streams(void)
{
	return n_streams;
}

/* ---- set-up ---- */

static int
udp_socket(uint16_t port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, on = 1;

	if (inet_pton(AF_INET, opt->local, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* past net.core.rmem_max as root; the plain size otherwise */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "anncd-bench: bind %s:%u: %s\n", opt->local,
			port, strerror(errno));
		close(fd);
		return -EADDRINUSE;
	}
	return fd;
}

static int
rx_post(int fd, uint8_t kind, uint8_t sock, unsigned int n, size_t cap)
{
	struct rx_op *op;
	unsigned int i;

	for (i = 0; i < n; i++) {
		op = calloc(1, sizeof(*op) + cap + 1);
		if (op == NULL)
			return -ENOMEM;
		op->kind = kind;
		op->sock = sock;
		op->fd = fd;
		op->all = rx_all;
		rx_all = op;
		rx_posted++;
		rx_arm(op, kind == OP_SIP ? cap - 1 : cap);
	}
	return 0;
}

static int
sockets_open(void)
{
	unsigned int k;
	int rc;

	sip_fd = udp_socket(opt->sip_port, SIP_RCVBUF);
	if (sip_fd < 0)
		return sip_fd;
	rc = rx_post(sip_fd, OP_SIP, 0, SIP_RX_OPS, SIP_RX_BUF);
	for (k = 0; rc == 0 && k < opt->rtp_socks; k++) {
		uint16_t p = (uint16_t)(opt->rtp_port + 2 * k);

		rtp_fd[k] = udp_socket(p, RTP_RCVBUF);
		rtcp_fd[k] = udp_socket((uint16_t)(p + 1), 1 << 20);
		if (rtp_fd[k] < 0 || rtcp_fd[k] < 0)
			return -EADDRINUSE;
		rc = rx_post(rtp_fd[k], OP_RTP, (uint8_t)k, RTP_RX_OPS,
			     RTP_RX_BUF);
		if (rc == 0)
			rc = rx_post(rtcp_fd[k], OP_RTCP, (uint8_t)k,
				     RTCP_RX_OPS, RTP_RX_BUF);
	}
	return rc;
}

static int
ruri_make(void)
{
	char url[BENCH_MSG_MAX], ct[200], cte[100];
	size_t cap = 3 * BENCH_MSG_MAX;

	ruri = malloc(cap);
	if (ruri == NULL)
		return -ENOMEM;
	if (bench_param_escape(url, sizeof(url), opt->play_url, 0) < 0 ||
	    bench_param_escape(ct, sizeof(ct), opt->content_type, 0) < 0 ||
	    bench_param_escape(cte, sizeof(cte), opt->cte, 0) < 0)
		return -ENAMETOOLONG;
	snprintf(ruri, cap, "sip:annc@%s;play=%s;content-type=%s%s%s",
		 opt->server, url, ct, cte[0] ? ";content-transfer-encoding="
					      : "", cte);
	snprintf(target, sizeof(target), "sip:annc@%s", opt->server);
	snprintf(contact, sizeof(contact), "Contact: <sip:bench@%s:%u>\r\n"
		 "Content-Type: application/sdp\r\n", opt->local, opt->sip_port);
	/* the INVITE must fit with its headers and SDP */
	return strlen(ruri) + 1024 < BENCH_MSG_MAX ? 0 : -ENAMETOOLONG;
}

int
bench_uac_init(struct bench_run *r)
{
	unsigned int i;
	int rc;

	run = r;
	opt = r->o;
	spp = clock_hz / 1000 * opt->ptime;
	if (getrandom(&run_id, sizeof(run_id), 0) != sizeof(run_id))
		run_id = (unsigned int)getpid();
	calls = calloc(opt->max_active, sizeof(*calls));
	free_idx = calloc(opt->max_active, sizeof(*free_idx));
	if (calls == NULL || free_idx == NULL)
		return -ENOMEM;
	for (i = 0; i < opt->max_active; i++)
		free_idx[n_free++] = opt->max_active - 1 - i;
	rc = ruri_make();
	if (rc < 0)
		return rc;
	rc = io_uring_queue_init(RING_ENTRIES, &ring, 0);
	if (rc < 0)
		return rc;
	return sockets_open();
}

/* The receives still posted hold their sockets: cancelled and reaped,
 * the ports are free again as soon as the program ends.
 */
static void
rx_cancel(void)
{
	int64_t until = bench_now_ns() + 1000000000;

	stopping = 1;
	io_uring_prep_cancel64(sqe_get(NULL), 0, IORING_ASYNC_CANCEL_ANY);
	while ((rx_posted > 0 || tx_inflight > 0) && bench_now_ns() < until)
		if (bench_uac_poll(10000000) < 0)
			return;
}

void
bench_uac_fini(void)
{
	unsigned int k;
	void *next;

	rx_cancel();
	io_uring_queue_exit(&ring);
	for (; rx_all != NULL; rx_all = next) {
		next = rx_all->all;
		free(rx_all);
	}
	for (; tx_all != NULL; tx_all = next) {
		next = tx_all->all;
		free(tx_all);
	}
	if (sip_fd >= 0)
		close(sip_fd);
	for (k = 0; k < opt->rtp_socks; k++) {
		close(rtp_fd[k]);
		close(rtcp_fd[k]);
	}
	free(calls);
	free(free_idx);
	free(ruri);
}
