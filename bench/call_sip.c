/* The SIP half of anncd-call: a user agent client over UDP (RFC 3261) that
 * places one announcement call (RFC 4240 section 3) per media server until
 * one does not refuse it, receives the RTP stream and answers the BYE that
 * ends the announcement.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "bench/call.h"
#include "control/sdp.h"
#include "control/sip_msg.h"
#include "control/sip_uri.h"

#define T1		0.5	/* RFC 3261 section 17.1.1.1 */
#define T2		4.0
#define BYE_GRACE	4.0	/* our own BYE may run past the deadline */
#define SIP_BUF		65536

enum uac_state {
	UAC_CALLING,		/* INVITE sent, nothing heard */
	UAC_PROCEEDING,		/* a provisional response came */
	UAC_ANSWERED,		/* 2xx, ACK held back (--ack-after) */
	UAC_CONFIRMED,		/* 2xx, ACK sent: media flows */
	UAC_ENDED,		/* the server's BYE came and was answered */
	UAC_REFUSED,		/* final >= 300, ACK sent */
	UAC_NO_ANSWER,		/* timer B ran out */
};

/* A request sent and not yet answered, resent by timer A or E. */
struct retx {
	int on;
	char buf[SIP_BUF];
	size_t len;
	struct sockaddr_in to;
	double at, interval, cap, give_up;
};

struct uac {
	const struct call_opts *o;
	const char *ruri_params;
	struct rtp_store *s;
	struct call_result *r;
	int sip_fd, rtp_fd, rtcp_fd;
	int more_fd[2 * CALL_MAX_MEDIA];	/* RTP and RTCP of the further
						 * m= lines: bound, not read */
	enum uac_state state;

	const char *server_hp;
	struct sockaddr_in server;
	char ruri[CALL_URL_MAX * 3 + 512];
	char call_id[64], from_tag[24];
	char invite_branch[40], invite_to[160];
	struct retx req;		/* the INVITE, then our BYE */
	int bye_sent, bye_answered;

	/* the dialog (RFC 3261 section 12.1.2) once a 2xx came */
	char to_hdr[512];
	char target[CALL_URL_MAX * 3 + 512];	/* remote target: Contact */
	char route[2048];		/* "Route: ...\r\n" or empty */
	struct sockaddr_in next_hop;

	char ack[SIP_BUF];		/* resent on each repeated final */
	size_t ack_len;
	struct sockaddr_in ack_to;
};

static void
rand_hex(char *out, size_t nhex)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[32];
	size_t i;

	if (nhex > 2 * sizeof(b))
		nhex = 2 * sizeof(b);
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		memset(b, 0x5a, sizeof(b));
	for (i = 0; i < nhex; i++)
		out[i] = hex[(b[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	out[nhex] = '\0';
}

static void
sip_send(struct uac *u, const char *buf, size_t len,
	 const struct sockaddr_in *to)
{
	if (u->o->verbose)
		fprintf(stderr, "sip -> %s:%u %.*s\n", inet_ntoa(to->sin_addr),
			ntohs(to->sin_port), (int)strcspn(buf, "\r"), buf);
	if (sendto(u->sip_fd, buf, len, 0, (const struct sockaddr *)to,
		   sizeof(*to)) < 0)
		fprintf(stderr, "sip: sendto: %s\n", strerror(errno));
}

/* The SDP offer (RFC 3264 section 5): one audio stream to receive. */
static int
sdp_offer(const struct call_opts *o, char *out, size_t cap)
{
	unsigned int i, clock = 8000;
	const char *name;
	size_t k;
	int n;

	n = snprintf(out, cap, "v=0\r\no=anncd-call %ld 1 IN IP4 %s\r\n"
		     "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\n",
		     (long)time(NULL), o->local,
		     o->sdp_addr ? o->sdp_addr : o->local);
	if (o->n_offers > 0 && n > 0 && (size_t)n < cap) {
		k = (size_t)n;
		n = call_offer_media(o, out + k, cap - k);
		return n < 0 ? n : (int)k + n;
	}
	if (n > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "m=audio %u RTP/AVP",
			      o->rtp_port);
	for (i = 0; i < o->n_pts && n > 0 && (size_t)n < cap; i++)
		n += snprintf(out + n, cap - (size_t)n, " %u", o->pts[i]);
	for (i = 0; i < o->n_pts && n > 0 && (size_t)n < cap; i++) {
		/* apart: it sets clock, and arguments have no order */
		name = call_codec_name(o->pts[i], &clock);
		n += snprintf(out + n, cap - (size_t)n, "\r\na=rtpmap:%u %s/%u",
			      o->pts[i], name, clock);
	}
	k = n > 0 ? (size_t)n : cap;
	if (k < cap)
		n += snprintf(out + k, cap - k, "\r\na=ptime:%u\r\na=%s\r\n",
			      o->ptime, o->direction);
	return n < 0 || (size_t)n >= cap ? -EMSGSIZE : n;
}

/* Writes a request of the dialog or of the INVITE transaction. */
static size_t
uac_request(struct uac *u, char *out, const char *method, const char *ruri,
	    const char *branch, unsigned int cseq, const char *to,
	    const char *extra, const char *body)
{
	size_t blen = body ? strlen(body) : 0;
	int n;

	n = snprintf(out, SIP_BUF,
		     "%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:anncd-call@%s>;tag=%s\r\n"
		     "To: %s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, ruri, u->o->local, u->o->sip_port, branch,
		     u->o->local, u->from_tag, to, u->call_id, cseq, method,
		     extra ? extra : "", blen, body ? body : "");
	return n < 0 || n >= SIP_BUF ? 0 : (size_t)n;
}

static void
retx_start(struct retx *t, double interval, double cap, double life)
{
	double now = call_now();

	t->on = 1;
	t->interval = interval;
	t->cap = cap;
	t->at = now + interval;
	t->give_up = now + life;
}

static int
uac_send_invite(struct uac *u)
{
	char sdp[2048], extra[512];
	int n;

	rand_hex(u->call_id, 24);
	strcat(u->call_id, "@anncd-call");
	rand_hex(u->from_tag, 16);
	memcpy(u->invite_branch, "z9hG4bK", 7);
	rand_hex(u->invite_branch + 7, 24);
	n = snprintf(u->ruri, sizeof(u->ruri), "sip:annc@%s%s", u->server_hp,
		     u->ruri_params);
	if (n < 0 || (size_t)n >= sizeof(u->ruri) ||
	    sdp_offer(u->o, sdp, sizeof(sdp)) < 0)
		return -EMSGSIZE;
	snprintf(u->invite_to, sizeof(u->invite_to), "<sip:annc@%s>",
		 u->server_hp);
	snprintf(extra, sizeof(extra), "Contact: <sip:anncd-call@%s:%u>\r\n"
		 "Content-Type: application/sdp\r\n", u->o->local,
		 u->o->sip_port);
	u->req.len = uac_request(u, u->req.buf, "INVITE", u->ruri,
				 u->invite_branch, 1, u->invite_to, extra, sdp);
	if (u->req.len == 0)
		return -EMSGSIZE;
	u->req.to = u->server;
	/* timer A doubles without a cap; timer B gives up at 64*T1 */
	retx_start(&u->req, T1, 1e9, 64 * T1);
	u->r->invite_t = call_now();
	u->state = UAC_CALLING;
	sip_send(u, u->req.buf, u->req.len, &u->req.to);
	return 0;
}

static int
uri_next_hop(struct sip_str uri, struct sockaddr_in *sa)
{
	struct sip_uri pu;
	const char *why;
	char hp[300];

	if (uri.n > 0 && uri.p[0] == '<') {
		uri.p++;
		uri.n -= uri.n > 1 && uri.p[uri.n - 2] == '>' ? 2 : 1;
	}
	if (sip_uri_parse(uri.p, uri.n, &pu, &why) < 0 || pu.host.n > 255)
		return -EINVAL;
	snprintf(hp, sizeof(hp), "%.*s:%u", (int)pu.host.n, pu.host.p,
		 pu.port ? pu.port : 5060);
	return call_resolve(hp, 5060, sa);
}

/* RFC 3261 section 12.1.2: the route set is the Record-Route of the 2xx
 * in reverse order, and the remote target is its Contact.  With a route
 * set (loose routing) the first route is the next hop.
 */
static void
uac_dialog(struct uac *u, const struct sip_msg *m)
{
	size_t k = 0;
	unsigned int i;

	snprintf(u->to_hdr, sizeof(u->to_hdr), "%.*s", (int)m->to.n, m->to.p);
	if (m->contact_uri.n > 0)
		snprintf(u->target, sizeof(u->target), "%.*s",
			 (int)m->contact_uri.n, m->contact_uri.p);
	else
		snprintf(u->target, sizeof(u->target), "%s", u->ruri);
	u->next_hop = u->server;
	u->route[0] = '\0';
	for (i = m->n_rr; i > 0 && k < sizeof(u->route) - 600; i--)
		k += (size_t)snprintf(u->route + k, sizeof(u->route) - k,
				      "Route: %.*s\r\n",
				      (int)m->record_route[i - 1].n,
				      m->record_route[i - 1].p);
	if (m->n_rr > 0)
		uri_next_hop(m->record_route[m->n_rr - 1], &u->next_hop);
	else if (m->contact_uri.n > 0)
		uri_next_hop(m->contact_uri, &u->next_hop);
}

static void
uac_note_answer(struct uac *u, const struct sip_msg *m)
{
	struct sdp_session sess;
	struct in_addr a;
	const char *why;

	if (m->body.n == 0 || sdp_parse(m->body.p, m->body.n, &sess, &why) < 0
	    || sess.n_media == 0) {
		snprintf(u->r->remote_media, sizeof(u->r->remote_media),
			 "no usable SDP answer");
		return;
	}
	a.s_addr = sess.media[0].addr;
	snprintf(u->r->remote_media, sizeof(u->r->remote_media), "%s:%u",
		 inet_ntoa(a), sess.media[0].port);
	u->r->answer_pt = sess.media[0].n_fmt ? sess.media[0].fmt[0] : -1;
}

static void
uac_ack_2xx(struct uac *u)
{
	char branch[40] = "z9hG4bK";

	/* RFC 3261 section 13.2.2.4: the ACK of a 2xx is a transaction of
	 * its own, with a new branch, sent along the dialog's route
	 */
	rand_hex(branch + 7, 24);
	u->ack_len = uac_request(u, u->ack, "ACK", u->target, branch, 1,
				 u->to_hdr, u->route, NULL);
	u->ack_to = u->next_hop;
	sip_send(u, u->ack, u->ack_len, &u->ack_to);
}

static void
uac_ack_final(struct uac *u, const struct sip_msg *m)
{
	char to[512];

	/* RFC 3261 section 17.1.1.3: the ACK of a non-2xx belongs to the
	 * INVITE transaction: same branch and Request-URI, the response's To
	 */
	snprintf(to, sizeof(to), "%.*s", (int)m->to.n, m->to.p);
	u->ack_len = uac_request(u, u->ack, "ACK", u->ruri, u->invite_branch,
				 1, to, NULL, NULL);
	u->ack_to = u->server;
	sip_send(u, u->ack, u->ack_len, &u->ack_to);
}

static void
uac_on_invite_response(struct uac *u, const struct sip_msg *m)
{
	struct call_result *r = u->r;

	if (m->status < 200) {
		/* section 17.1.1.2: no more retransmissions once proceeding */
		if (u->state == UAC_CALLING)
			u->state = UAC_PROCEEDING;
		u->req.on = 0;
		return;
	}
	if (m->status < 300)
		r->ok_copies++;
	if (u->state == UAC_ANSWERED) {
		/* the server retransmits its 2xx until the ACK comes */
		if (r->ok_copies >= u->o->ack_after) {
			uac_ack_2xx(u);
			u->state = UAC_CONFIRMED;
		}
		return;
	}
	if (u->state != UAC_CALLING && u->state != UAC_PROCEEDING) {
		/* a retransmitted final: our ACK was lost or is late */
		if (u->ack_len > 0)
			sip_send(u, u->ack, u->ack_len, &u->ack_to);
		return;
	}
	u->req.on = 0;
	r->status = m->status;
	snprintf(r->reason, sizeof(r->reason), "%.*s", (int)m->reason.n,
		 m->reason.p);
	if (m->status >= 300) {
		uac_ack_final(u, m);
		u->state = UAC_REFUSED;
		return;
	}
	r->setup_ms = (call_now() - r->invite_t) * 1000.0;
	uac_dialog(u, m);
	uac_note_answer(u, m);
	if (r->ok_copies < u->o->ack_after) {
		u->state = UAC_ANSWERED;
		return;
	}
	uac_ack_2xx(u);
	u->state = UAC_CONFIRMED;
}

static void
uac_on_rtp(struct uac *u)
{
	static uint8_t buf[SIP_BUF];
	ssize_t n;

	/* drain what is queued, each packet stamped as it is read */
	for (int i = 0; i < 256; i++) {
		n = recv(u->rtp_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return;
		if (u->state == UAC_ENDED)
			u->s->after_bye++;
		else if (!u->bye_sent &&
			 rtp_store_add(u->s, buf, (size_t)n, call_now()) < 0)
			u->s->bad++;
	}
}

/* Requests from the server: the BYE that ends the announcement (RFC 5616
 * section 2.2), and whatever else, answered so that nothing retransmits.
 */
static void
uac_on_request(struct uac *u, const struct sip_msg *m,
	       const struct sockaddr_in *from)
{
	char out[SIP_BUF];
	int code = 200, ours = sip_str_eq(m->call_id, u->call_id), n;
	const char *reason = "OK";

	if (sip_str_eq(m->method, "ACK"))
		return;
	if (sip_str_eq(m->method, "BYE")) {
		if (ours && u->state == UAC_CONFIRMED && !u->bye_sent) {
			/* what is queued on the RTP socket now arrived before
			 * this BYE was read: it belongs to the announcement */
			uac_on_rtp(u);
			u->state = UAC_ENDED;
			u->r->bye = 1;
			u->r->bye_t = call_now();
		} else if (!ours || u->state != UAC_ENDED) {
			code = 481;
			reason = "Call/Transaction Does Not Exist";
		}
	} else if (!sip_str_eq(m->method, "OPTIONS")) {
		code = 501;
		reason = "Not Implemented";
	}
	n = sip_build_response(out, sizeof(out), m, code, reason,
			       u->from_tag, NULL, NULL, NULL, 0);
	/* RFC 3581: answer where the request came from */
	if (n > 0)
		sip_send(u, out, (size_t)n, from);
}

static void
uac_on_sip(struct uac *u)
{
	static char buf[SIP_BUF];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct sip_msg m;
	const char *why;
	ssize_t n;

	n = recvfrom(u->sip_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT,
		     (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return;
	if (sip_parse(buf, (size_t)n, &m, &why) < 0) {
		fprintf(stderr, "sip: bad message from %s: %s\n",
			inet_ntoa(from.sin_addr), why);
		return;
	}
	if (u->o->verbose)
		fprintf(stderr, "sip <- %s:%u %.*s\n", inet_ntoa(from.sin_addr),
			ntohs(from.sin_port), (int)strcspn(buf, "\r"), buf);
	if (m.is_request) {
		uac_on_request(u, &m, &from);
		return;
	}
	if (!sip_str_eq(m.call_id, u->call_id))
		return;		/* a late answer to an earlier server */
	if (sip_str_caseeq(m.cseq_method, "INVITE"))
		uac_on_invite_response(u, &m);
	else if (sip_str_caseeq(m.cseq_method, "BYE") && m.status >= 200) {
		u->bye_answered = 1;
		u->req.on = 0;
	}
}

/* Walks a compound RTCP packet by its length fields (RFC 3550 section
 * 6.1): an SR first, a BYE anywhere.
 */
static void
uac_rtcp_kinds(struct rtp_store *s, const uint8_t *p, size_t n)
{
	size_t off = 0, len;

	if (n >= 8 && p[1] == 200)
		s->rtcp_sr++;
	while (off + 4 <= n && p[off] >> 6 == 2) {
		if (p[off + 1] == 203) {
			s->rtcp_bye++;
			return;
		}
		len = ((size_t)(p[off + 2] << 8 | p[off + 3]) + 1) * 4;
		off += len;
	}
}

static void
uac_on_rtcp(struct uac *u)
{
	uint8_t buf[2048];
	ssize_t n;

	for (int i = 0; i < 64; i++) {
		n = recv(u->rtcp_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return;
		u->s->rtcp++;
		uac_rtcp_kinds(u->s, buf, (size_t)n);
	}
}

/* Timer A for the INVITE, timer E for our BYE (RFC 3261 section 17.1). */
static void
retx_tick(struct uac *u)
{
	struct retx *t = &u->req;
	double now = call_now();

	if (!t->on || now < t->at)
		return;
	if (now >= t->give_up) {
		t->on = 0;
		if (u->state == UAC_CALLING)
			u->state = UAC_NO_ANSWER;
		return;
	}
	sip_send(u, t->buf, t->len, &t->to);
	t->interval = t->interval * 2 < t->cap ? t->interval * 2 : t->cap;
	t->at = now + t->interval;
}

static int
uac_done(const struct uac *u, double until)
{
	double now = call_now();

	if (now >= until || u->bye_answered)
		return 1;
	if (u->state == UAC_REFUSED || u->state == UAC_NO_ANSWER)
		return 1;
	return u->state == UAC_ENDED &&
	       now >= u->r->bye_t + u->o->linger_ms / 1000.0;
}

static void
uac_pump(struct uac *u, double until)
{
	struct pollfd pfd[3] = {
		{ .fd = u->sip_fd, .events = POLLIN },
		{ .fd = u->rtp_fd, .events = POLLIN },
		{ .fd = u->rtcp_fd, .events = POLLIN },
	};
	double now, wake;

	for (long i = 0; i < 50000000 && !uac_done(u, until); i++) {
		now = call_now();
		wake = until;
		if (u->req.on && u->req.at < wake)
			wake = u->req.at;
		if (u->state == UAC_ENDED &&
		    u->r->bye_t + u->o->linger_ms / 1e3 < wake)
			wake = u->r->bye_t + u->o->linger_ms / 1e3;
		if (poll(pfd, 3, wake > now ? (int)((wake - now) * 1e3) + 1
					    : 0) < 0 && errno != EINTR)
			return;
		/* RTP first: a BYE read in the same wake came after it */
		if (pfd[1].revents & POLLIN)
			uac_on_rtp(u);
		if (pfd[0].revents & POLLIN)
			uac_on_sip(u);
		if (pfd[2].revents & POLLIN)
			uac_on_rtcp(u);
		retx_tick(u);
	}
}

/* The deadline came with the call up and no BYE from the server: hang up
 * ourselves (RFC 3261 section 15.1.1), BYE retransmitted by timer E.
 */
static void
uac_hang_up(struct uac *u)
{
	char branch[40] = "z9hG4bK";

	rand_hex(branch + 7, 24);
	u->req.len = uac_request(u, u->req.buf, "BYE", u->target, branch, 2,
				 u->to_hdr, u->route, NULL);
	u->req.to = u->next_hop;
	retx_start(&u->req, T1, T2, 64 * T1);
	u->bye_sent = 1;
	sip_send(u, u->req.buf, u->req.len, &u->req.to);
	uac_pump(u, call_now() + BYE_GRACE);
}

/* The deadline came before a final response: CANCEL a proceeding INVITE
 * (section 9.1) and stay a moment to ACK its 487.
 */
static void
uac_give_up(struct uac *u)
{
	char buf[SIP_BUF];
	size_t n;

	if (u->state == UAC_PROCEEDING) {
		n = uac_request(u, buf, "CANCEL", u->ruri, u->invite_branch,
				1, u->invite_to, NULL, NULL);
		sip_send(u, buf, n, &u->server);
		uac_pump(u, call_now() + 1.0);
	}
	u->r->status = 0;
	snprintf(u->r->reason, sizeof(u->r->reason),
		 "no final response before the timeout");
}

static int
uac_call(struct uac *u)
{
	int rc = uac_send_invite(u);

	if (rc < 0)
		return rc;
	uac_pump(u, call_deadline);
	switch (u->state) {
	case UAC_CALLING:
	case UAC_PROCEEDING:
		u->r->timed_out = 1;
		uac_give_up(u);
		break;
	case UAC_ANSWERED:
		uac_ack_2xx(u);
		/* the dialog is up: hang it up */
		__attribute__((fallthrough));
	case UAC_CONFIRMED:
		u->r->timed_out = 1;
		uac_hang_up(u);
		break;
	case UAC_NO_ANSWER:
		u->r->status = 0;
		snprintf(u->r->reason, sizeof(u->r->reason),
			 "no response (timer B)");
		break;
	default:
		break;
	}
	return 0;
}

static int
udp_bind(const char *ip, uint16_t port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, rc;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		fprintf(stderr, "bind %s:%u: %s\n", ip, port, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

static int
uac_open(struct uac *u)
{
	u->sip_fd = udp_bind(u->o->local, u->o->sip_port, 0);
	if (u->sip_fd < 0)
		return u->sip_fd;
	/* a few seconds of packets may queue while the loop is busy */
	u->rtp_fd = udp_bind(u->o->local, u->o->rtp_port, 4 << 20);
	if (u->rtp_fd < 0)
		return u->rtp_fd;
	u->rtcp_fd = udp_bind(u->o->local, u->o->rtp_port + 1, 0);
	if (u->rtcp_fd < 0)
		return u->rtcp_fd;
	/* the capture on the wire sees their packets; a bound port keeps
	 * the kernel from answering them with port unreachable */
	for (unsigned int i = 2; i < 2 * u->o->n_offers; i++) {
		u->more_fd[i] = udp_bind(u->o->local,
					 (uint16_t)(u->o->rtp_port + i),
					 i % 2 ? 0 : 4 << 20);
		if (u->more_fd[i] < 0)
			return u->more_fd[i];
	}
	return 0;
}

static struct uac uac;		/* large buffers: not on the stack */

int
call_sip_run(const struct call_opts *o, const char *ruri_params,
	     struct rtp_store *s, struct call_result *r)
{
	struct uac *u = &uac;
	unsigned int i;
	int rc;

	memset(u, 0, sizeof(*u));
	u->o = o;
	u->ruri_params = ruri_params;
	u->s = s;
	u->r = r;
	u->sip_fd = u->rtp_fd = u->rtcp_fd = -1;
	for (i = 0; i < 2 * CALL_MAX_MEDIA; i++)
		u->more_fd[i] = -1;
	rc = uac_open(u);
	for (i = 0; rc == 0 && i < o->n_servers; i++) {
		memset(r, 0, sizeof(*r));
		r->answer_pt = -1;
		u->req.on = 0;
		u->ack_len = 0;
		u->bye_sent = u->bye_answered = 0;
		u->server_hp = o->servers[i];
		snprintf(r->server, sizeof(r->server), "%s", o->servers[i]);
		rc = call_resolve(o->servers[i], 5060, &u->server);
		if (rc == 0)
			rc = uac_call(u);
		printf("server %s: %d %s\n", o->servers[i], r->status,
		       r->reason);
		/* RFC 5616 section 2.3: a 404 means this media server could
		 * not fetch the content; another one may
		 */
		if (r->timed_out || (r->status != 404 && r->status != 0))
			break;
	}
	if (u->sip_fd >= 0)
		close(u->sip_fd);
	if (u->rtp_fd >= 0)
		close(u->rtp_fd);
	if (u->rtcp_fd >= 0)
		close(u->rtcp_fd);
	for (i = 0; i < 2 * CALL_MAX_MEDIA; i++)
		if (u->more_fd[i] >= 0)
			close(u->more_fd[i]);
	return rc;
}
