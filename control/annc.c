/* The announcement service: SIP requests in, calls out.  An INVITE to
 * sip:annc@host with a play URL (RFC 4240 section 3) becomes a call: a
 * URLFETCH of the pawn-ticket URL (RFC 5616 section 2.4) and 100 Trying
 * unless the content is cached, the 200 OK with the SDP answer once the
 * content is here, the stream after the ACK, and our BYE when the
 * dataplane reports the end.  Our requests in the dialog (BYE, session
 * refreshes) are built and routed by control/dialog.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "control/annc.h"
#include "control/dialog.h"
#include "control/imap_client.h"
#include "control/imap_url.h"
#include "control/loop.h"
#include "control/sdp.h"
#include "control/sip_msg.h"
#include "control/sip_transport.h"
#include "control/sip_txn.h"
#include "control/sip_uas.h"
#include "control/sip_uri.h"
#include "control/stimer.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/media.h"
#include "dataplane/dp.h"
#include "dataplane/dp_decode.h"

#define SIP_MAX_DATAGRAM	65535	/* largest SIP message over UDP */
/* Largest message anncd builds: a response copies the request's Via,
 * From, To and Call-ID, and the BYE the INVITE's route set, each as long
 * as a whole message may be, plus our own lines and SDP. */
#define SIP_OUT_MAX		(SIP_MAX_DATAGRAM + 8192)
#define SIP_RCVBUF_PER_CALL	4096	/* an INVITE as the socket counts it */
#define SIP_RCVBUF_CALLS	4096	/* burst the SIP socket is sized for */
#define CALL_DEFAULT_PTIME	20	/* ms, RFC 3551 section 4.5 */
#define CALL_MAX_PTIME		150	/* keeps a G.711 packet under 1,500 */
#define CACHE_SWEEP_MS		1000	/* ;EXPIRE= is in whole seconds */
#define CALL_END_GRACE_MS	2000	/* the dataplane's end, then ours */
#define CALL_STREAM_BIT		0x80000000u	/* a handle's stream index */
/* A tracked message's cookie: the call's handle, never 0. */
#define CALL_COOKIE(c)		((uint64_t)1 << 32 | (c)->handle)
#define RANDOM_POOL_BYTES	4096	/* getrandom() read at once */
#define CALL_ALLOW \
	"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO\r\n"
#define CALL_SUPPORTED	"Supported: " SIP_UAS_SUPPORTED "\r\n"

#define SIP_LOG(lvl, ...) LOG_AT(lvl, "sip", __VA_ARGS__)
#define CALL_LOG(lvl, c, fmt, ...) \
	LOG_AT(lvl, "call", "%s: " fmt, (c)->log_id, ##__VA_ARGS__)

enum call_state {
	CALL_FREE = 0,
	CALL_FETCHING,		/* waiting on the cache entry, 100 sent */
	CALL_ANSWERED,		/* 200 sent, waiting for the ACK */
	CALL_REJECTED,		/* final error sent, waiting for the ACK */
	CALL_STREAMING,		/* ACK came, the dataplane plays */
	CALL_BYE_SENT,		/* our BYE sent, waiting for its response */
	CALL_CLOSING,		/* over; waits for the stream to let go */
};

/* A retransmitted message: a final response of the INVITE server
 * transaction (timers G and H, RFC 3261 section 17.2.1; the 2xx per
 * section 13.3.1.4) or our BYE (timers E and F, section 17.1.2.2). */
struct call_rtx {
	char *msg;
	size_t len;
	uint64_t next_ms;
	uint64_t interval_ms;
	uint64_t max_interval_ms;	/* T2, or none for timer A */
	uint64_t give_up_ms;
};

/* One stream of a call: its m= line and what the dataplane plays on it. */
struct call_stream {
	struct sdp_stream st;		/* media_index -1: declined; dir
					 * inactive: nothing is sent */
	struct dp_stream_params sp;
	struct media_plan *own_plan;	/* when the entry had no room for it */
	uint64_t play_pkts;		/* packets of every play */
	uint64_t play_ms;		/* the plays and the delays between */
	uint32_t sent;			/* packets, from its event */
	int active;			/* the dataplane holds it */
	int started;			/* it was, once: never again */
};

struct call {
	enum call_state state;
	uint32_t handle;		/* slot index | generation << 20; its
					 * stream k is handle | k << 31 */
	struct call *hnext;		/* Call-ID hash chain */
	struct sip_peer peer;		/* where the INVITE came from */

	char *invite_buf;		/* the INVITE, kept for responses */
	struct sip_msg invite;
	char to_tag[20];
	char log_id[48];
	int last_code;			/* last response sent to the INVITE */
	struct call_rtx resp;		/* final response to the INVITE */
	struct call_rtx bye;		/* our BYE */
	char bye_branch[20];

	/* One use on the entry while waiting or playing: the entry holds
	 * the only owner's reference on the content, content borrows it.
	 */
	struct cache_entry *entry;
	struct cache_waiter waiter;
	struct content *content;
	enum media_type type;
	char ctype[64];
	int base64;
	/* What is sent (RFC 4240 section 3.3 and the SDP agreed on): a
	 * video content's audio goes as a second stream.
	 */
	struct call_stream str[SDP_MAX_STREAMS];
	unsigned int n_str;		/* m= lines of ours */
	unsigned int stream_active;	/* streams the dataplane holds */
	struct annc_play play;
	char play_log[160];		/* the RFC 4240 values, for the log */
	struct sdp_offer *offer;	/* late offer: ours, in the 200 */
	uint64_t end_ms;		/* the call ends by then at the latest */
	/* The dialog once established (RFC 3261 section 12.2.2). */
	struct dialog dlg;
	struct sip_peer hop;		/* where our requests go */
	struct sip_peer hop_uri;	/* the hop's own address (conn 0),
					 * when hop is the caller's
					 * connection; tp UDP: none */
	uint64_t sess_version;		/* o= version of our last SDP */
	char *sdp;			/* our last SDP, for a re-INVITE */
	size_t sdp_len;
	struct call_rtx reresp;		/* 2xx to a re-INVITE, until its ACK */
	uint32_t reinvite_cseq;
	struct sdp_offer *reoffer;	/* ours in that 2xx: no offer came */
	struct stimer stimer;		/* RFC 4028, as last agreed */
	char se_line[80];		/* its header lines for a 2xx */
	uint64_t se_bye_ms;		/* no refresh by then: BYE; 0 none */
	/* anncd as refresher (RFC 4028 section 10): our UPDATE or
	 * re-INVITE, its client transaction and the ACK of its 2xx. */
	uint64_t ref_due_ms;		/* next refresh; 0 none */
	uint64_t se_end_ms;		/* the session expires then */
	struct call_rtx ref;		/* the refresh until its answer */
	char ref_branch[20];
	uint32_t ref_cseq;
	int ref_invite;			/* a re-INVITE, not an UPDATE */
	int caller_update;		/* the caller's Allow has UPDATE */
	char *ref_ack;			/* the ACK of its 2xx */
	size_t ref_ack_len;
	uint64_t t_invite_ms;
	uint64_t t_answer_ms;
	uint32_t packets;
	uint64_t bytes;
	char result[96];
};

static const struct anncd_config *cfg;
static int sip_fd = -1;
static struct loop_dgram_rx sip_rx;
static struct sip_peer udp_peer;
/* Our sent-by and Contact host:port, and the Contact of a 200, per
 * transport (enum sip_tp): the caller's next requests come the same way
 * (RFC 3261 section 8.1.1.8, RFC 5630 section 3 for sips). */
static char local_hostport[3][32];
static char contact_line[3][112];

static struct call *calls;		/* max_calls slots */
static uint32_t *free_slots;		/* stack of free slot indexes */
static unsigned int n_free;
static struct call **buckets;
static uint32_t bucket_mask;
static uint16_t *free_ports;		/* stack of free even RTP ports */
static unsigned int n_free_ports;

/* Within the dialog, further down. */
static int
to_tag_is_ours(const struct call *c, const struct sip_msg *m);
static void
on_reinvite(struct call *c, const struct sip_msg *m,
	    const struct sip_peer *src);
static void
call_take_reanswer(struct call *c, const struct sip_msg *m);
static void
call_stimer_set(struct call *c, const struct stimer *t);

/* ---- call table ---- */

static uint32_t
callid_bucket(struct sip_str id)
{
	return (uint32_t)XXH3_64bits(id.p, id.n) & bucket_mask;
}

static int
str_same(struct sip_str a, struct sip_str b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* Finds the call of a message by Call-ID and the caller's tag, which is
 * in From on the caller's requests and in To on responses to ours. */
static struct call *
call_lookup(struct sip_str call_id, struct sip_str caller_tag)
{
	struct call *c;

	for (c = buckets[callid_bucket(call_id)]; c != NULL; c = c->hnext)
		if (str_same(c->invite.call_id, call_id) &&
		    str_same(c->invite.from_tag, caller_tag))
			return c;
	return NULL;
}

static struct call *
call_find(const struct sip_msg *m)
{
	return call_lookup(m->call_id, m->from_tag);
}

static struct call *
call_by_handle(uint32_t handle)
{
	uint32_t slot = handle & 0xfffff;

	if (slot >= cfg->max_calls ||
	    calls[slot].handle != (handle & ~CALL_STREAM_BIT) ||
	    calls[slot].state == CALL_FREE)
		return NULL;
	return &calls[slot];
}

unsigned int
annc_active_calls(void)
{
	return cfg->max_calls - n_free;
}

/* Tags, branches, SSRCs and RTP bases come from the kernel's CSPRNG, read
 * RANDOM_POOL_BYTES at a time rather than with a system call each.  Every
 * byte is handed out once and wiped as it is, so a tag is as unguessable
 * as a getrandom() call of its own would make it (RFC 3261 section 19.3
 * wants tags cryptographically random, section 8.1.1.7 branches unique);
 * what stays in the pool is never sent. */
static uint8_t random_pool[RANDOM_POOL_BYTES];
static size_t random_left;

static int
random_refill(void)
{
	ssize_t got = getrandom(random_pool, sizeof(random_pool), 0);

	if (got != (ssize_t)sizeof(random_pool)) {
		LOG_AT(LOGL_ERR, "call", "getrandom(%zu) failed: %s",
		       sizeof(random_pool), got < 0 ? strerror(errno)
						    : "short read");
		return -EIO;
	}
	random_left = sizeof(random_pool);
	return 0;
}

static void
random_bytes(void *p, size_t n)
{
	uint8_t *out = p, *from;
	size_t k;

	while (n > 0) {
		if (random_left == 0 && random_refill() < 0)
			return;
		k = n < random_left ? n : random_left;
		from = random_pool + sizeof(random_pool) - random_left;
		memcpy(out, from, k);
		explicit_bzero(from, k);
		random_left -= k;
		out += k;
		n -= k;
	}
}

/* cap - 1 hex digits of fresh randomness (16 in a 17-byte tag: 64 bits,
 * twice the 32 that RFC 3261 section 19.3 asks for). */
static void
random_token(char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[16];
	size_t i, digits = cap > 0 ? cap - 1 : 0;

	if (digits > 2 * sizeof(r))
		digits = 2 * sizeof(r);
	random_bytes(r, (digits + 1) / 2);
	for (i = 0; i < digits; i++)
		out[i] = hex[(r[i / 2] >> (4 * (i & 1))) & 15];
	if (cap > 0)
		out[i] = '\0';
}

static struct call *
call_new(const char *buf, size_t len, const struct sip_peer *src)
{
	struct call *c;
	const char *why;
	uint32_t slot, gen, b;

	if (n_free == 0)
		return NULL;
	slot = free_slots[--n_free];
	c = &calls[slot];
	gen = ((c->handle >> 20) + 1) & 0x7ff;
	memset(c, 0, sizeof(*c));
	c->handle = slot | gen << 20;
	c->invite_buf = malloc(len + 1);
	if (c->invite_buf == NULL) {
		free_slots[n_free++] = slot;
		return NULL;
	}
	memcpy(c->invite_buf, buf, len);
	c->invite_buf[len] = '\0';
	/* Parsed again from our own copy so the views stay valid. */
	sip_parse(c->invite_buf, len, &c->invite, &why);
	c->peer = *src;
	sip_tp_hold(src->conn);
	c->state = CALL_FETCHING;
	c->t_invite_ms = loop_now_ms();
	c->dlg.remote_cseq = c->invite.cseq;
	c->sess_version = 1;
	random_token(c->to_tag, 17);
	snprintf(c->log_id, sizeof(c->log_id), "call %" PRIu32 " %.16s",
		 slot, c->to_tag);
	b = callid_bucket(c->invite.call_id);
	c->hnext = buckets[b];
	buckets[b] = c;
	return c;
}

static void
call_unlink(struct call *c)
{
	struct call **pp = &buckets[callid_bucket(c->invite.call_id)];

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp == c)
		*pp = c->hnext;
}

/* The one line per call an operator reads (no token: see log_id). */
static void
call_log_outcome(struct call *c)
{
	char src[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->peer.addr.sin_addr, src, sizeof(src));
	CALL_LOG(LOGL_INFO, c, "from %s %s:%u type %s%s bytes=%" PRIu64
		 " packets=%" PRIu32 " result=%s", sip_tp_name(c->peer.tp),
		 src, ntohs(c->peer.addr.sin_port),
		 c->ctype[0] ? c->ctype : "-", c->play_log, c->bytes,
		 c->packets, c->result[0] ? c->result : "unknown");
}

/* Lets go of the cache entry: a call still waiting leaves the fetch to
 * the others, and the last one to leave abandons it (core/cache.c).  The
 * content is the entry's; mbufs in flight hold their own references.
 */
static void
call_drop_entry(struct call *c)
{
	if (c->entry == NULL)
		return;
	cache_unwait(&c->waiter);
	cache_put(c->entry);
	c->entry = NULL;
	c->content = NULL;
}

static void
call_free(struct call *c)
{
	call_log_outcome(c);
	call_drop_entry(c);
	for (unsigned int k = 0; k < c->n_str; k++) {
		if (c->str[k].st.port != 0)
			free_ports[n_free_ports++] = c->str[k].st.port;
		media_plan_free(c->str[k].own_plan);
	}
	call_unlink(c);
	sip_tp_release(c->peer.conn);
	free(c->invite_buf);
	free(c->offer);
	free(c->reoffer);
	free(c->reresp.msg);
	free(c->resp.msg);
	free(c->bye.msg);
	free(c->ref.msg);
	free(c->ref_ack);
	free(c->sdp);
	c->state = CALL_FREE;
	free_slots[n_free++] = c->handle & 0xfffff;
}

/* A call is over once nothing is in flight for it any more. */
static void
call_close(struct call *c)
{
	c->state = CALL_CLOSING;
	if (!c->stream_active)
		call_free(c);
}

static void
call_result(struct call *c, const char *fmt, const char *detail)
{
	if (c->result[0] == '\0')
		snprintf(c->result, sizeof(c->result), fmt, detail);
}

/* ---- SIP output ---- */

static void
sip_send(const struct sip_peer *to, const char *msg, size_t len)
{
	int rc;

	/* RFC 3261 section 18.2.2: over a stream, back on the connection
	 * the request came on; a response whose connection has gone goes
	 * over a new one to the request's source and Via port. */
	if (to->tp != SIP_TP_UDP) {
		rc = len > 8 && memcmp(msg, "SIP/2.0 ", 8) == 0 ?
		     sip_tp_reply(to, msg, len) : sip_tp_send(to, msg, len);
		if (rc < 0)
			SIP_LOG(LOGL_DEBUG, "%zu bytes not sent: %s", len,
				strerror(-rc));
		return;
	}
	if (loop_sendto(sip_fd, &to->addr, msg, len) < 0)
		SIP_LOG(LOGL_ERR, "cannot queue %zu bytes: out of memory", len);
}

/* Responds to a request outside any call (or before one exists). */
static void
sip_respond(const struct sip_msg *req, const struct sip_peer *to,
	    int code, const char *reason, const char *extra)
{
	char out[SIP_OUT_MAX], tag[17];
	int n;

	random_token(tag, sizeof(tag));
	n = sip_build_response(out, sizeof(out), req, code, reason,
			       code > 100 ? tag : NULL, extra, NULL, NULL, 0);
	if (n < 0) {
		SIP_LOG(LOGL_WARN, "response %d does not fit %zu bytes", code,
			sizeof(out));
		return;
	}
	sip_send(to, out, (size_t)n);
	if (code >= 200)
		sip_txn_record(req, to, out, (size_t)n, loop_now_ms());
}

static void
rtx_arm(struct call_rtx *r, char *msg, size_t len, uint64_t give_up_after)
{
	uint64_t now = loop_now_ms();
	/* Kept until the ACK: as long as the message, not SIP_OUT_MAX. */
	char *fit = realloc(msg, len);

	free(r->msg);
	r->msg = fit != NULL ? fit : msg;
	r->len = len;
	r->interval_ms = cfg->t1_ms;
	r->max_interval_ms = cfg->t2_ms;
	r->next_ms = now + cfg->t1_ms;
	r->give_up_ms = now + give_up_after;
}

static void
rtx_stop(struct call_rtx *r)
{
	free(r->msg);
	r->msg = NULL;
}

/* Returns 1 when r is due for a retransmission, -1 when it has run out
 * of time, 0 otherwise; doubles the interval up to its cap (T2, or none
 * for timer A, RFC 3261 section 17.1.1.2). */
static int
rtx_due(struct call_rtx *r, uint64_t now)
{
	if (r->msg == NULL)
		return 0;
	if (now >= r->give_up_ms)
		return -1;
	if (now < r->next_ms)
		return 0;
	r->interval_ms *= 2;
	if (r->interval_ms > r->max_interval_ms)
		r->interval_ms = r->max_interval_ms;
	r->next_ms = now + r->interval_ms;
	return 1;
}

/* Our last SDP, offered again unchanged by a refreshing re-INVITE. */
static void
call_keep_sdp(struct call *c, const char *sdp, size_t len)
{
	char *copy = malloc(len);

	if (copy == NULL)
		return;		/* the old one stays: a refresh is no change */
	memcpy(copy, sdp, len);
	free(c->sdp);
	c->sdp = copy;
	c->sdp_len = len;
}

/* Sends a final response to the call's INVITE and keeps it for
 * retransmission until the ACK (RFC 3261 sections 13.3.1.4, 17.2.1). */
static void
call_final(struct call *c, int code, const char *reason, const char *extra,
	   const char *sdp, size_t sdp_len)
{
	char *out = malloc(SIP_OUT_MAX);
	int n = -1;

	if (out != NULL)
		n = sip_build_response(out, SIP_OUT_MAX, &c->invite, code,
				       reason, c->to_tag, extra,
				       sdp ? "application/sdp" : NULL, sdp,
				       sdp_len);
	if (n < 0) {
		free(out);
		CALL_LOG(LOGL_ERR, c, "cannot build response %d", code);
		call_result(c, "%s", "internal error");
		call_close(c);
		return;
	}
	c->last_code = code;
	if (sdp != NULL && code < 300)
		call_keep_sdp(c, sdp, sdp_len);
	sip_send(&c->peer, out, (size_t)n);
	rtx_arm(&c->resp, out, (size_t)n, 64ull * cfg->t1_ms);
	c->state = code < 300 ? CALL_ANSWERED : CALL_REJECTED;
	if (code >= 300) {
		call_result(c, "%s", reason);
		/* Last: reason may be the entry's own. */
		call_drop_entry(c);
	}
}

static void
call_reject(struct call *c, int code, const char *reason)
{
	char res[96];

	/* The result is a log field: a long reason is cut to fit it. */
	snprintf(res, sizeof(res), "%d %.*s", code, (int)sizeof(res) - 12,
		 reason);
	call_result(c, "%s", res);
	call_final(c, code, reason, NULL, NULL, 0);
}

/* ---- the dialog: where our requests go ---- */

/* The next hop of our requests (RFC 3261 section 12.2.1.1 and RFC 3263
 * section 4 without DNS).  A caller over TCP or TLS is reached over its
 * own connection whenever the hop is its host: the port in its Contact
 * is seldom one it listens on behind a NAT or a firewall, and the
 * connection it opened is open.  A host name would need a resolver that
 * blocks the loop, and the SIP sockets are IPv4 only: such a hop falls
 * back to where the INVITE came from, logged once per remote target
 * with the host named.
 */
static void
call_hop_set(struct call *c)
{
	struct dialog_route r;
	const char *why = "";
	int rc;

	dialog_route(&c->dlg, &r);
	rc = dialog_hop_addr(r.hop, &c->hop, &why);
	if (rc < 0) {
		CALL_LOG(LOGL_INFO, c, "next hop %.*s: %s, requests go to "
			 "the INVITE's source", (int)r.hop.n, r.hop.p, why);
		c->hop = c->peer;
		return;
	}
	c->hop_uri.tp = SIP_TP_UDP;
	if (c->peer.tp != SIP_TP_UDP &&
	    c->hop.addr.sin_addr.s_addr == c->peer.addr.sin_addr.s_addr) {
		if (c->hop.tp != SIP_TP_UDP)
			c->hop_uri = c->hop;
		c->hop = c->peer;
	}
}

/* The dialog of section 12.1.1 as our 2xx establishes it.  A Contact
 * that is no SIP URI anncd can keep (a tel: URI, one over
 * DIALOG_MAX_URI) leaves the INVITE's source as remote target.
 */
static void
call_dialog_start(struct call *c)
{
	static const char *const tp_param[3] = { "", ";transport=tcp",
						 ";transport=tls" };
	char ip[INET_ADDRSTRLEN], uri[64];
	const char *why = "";
	int n;

	c->caller_update = sip_list_has(c->invite.allow, c->invite.n_allow,
					"UPDATE");
	if (dialog_init(&c->dlg, &c->invite, c->to_tag, &why) < 0) {
		inet_ntop(AF_INET, &c->peer.addr.sin_addr, ip, sizeof(ip));
		n = snprintf(uri, sizeof(uri), "sip:%s:%u%s", ip,
			     ntohs(c->peer.addr.sin_port), tp_param[c->peer.tp]);
		dialog_set_target(&c->dlg, (struct sip_str){ uri, (size_t)n });
		CALL_LOG(LOGL_INFO, c, "%s: remote target %s", why, uri);
	}
	call_hop_set(c);
}

/* Builds request method in the dialog, from our address on the hop's
 * transport, into a new buffer *out.  Returns the length, or -1 (logged).
 */
static int
call_request(struct call *c, const struct dialog_req *in, char **out)
{
	struct dialog_req rq = *in;
	char via[48], *fit;
	int n = -1;

	snprintf(via, sizeof(via), "SIP/2.0/%s %s", sip_tp_name(c->hop.tp),
		 local_hostport[c->hop.tp]);
	rq.via = via;
	*out = malloc(SIP_OUT_MAX);
	if (*out != NULL)
		n = dialog_build(&c->dlg, &rq, *out, SIP_OUT_MAX);
	if (n >= 0) {
		/* Kept for retransmission: as long as the message. */
		fit = realloc(*out, (size_t)n + 1);
		*out = fit != NULL ? fit : *out;
	}
	if (n < 0) {
		free(*out);
		*out = NULL;
		CALL_LOG(LOGL_ERR, c, "cannot build %s", rq.method);
	}
	return n;
}

/* Sends one of our requests to the dialog's next hop.  A stream hop
 * that is not the caller's connection goes with none (conn 0), for the
 * transport to open one (RFC 3261 section 18.1.1); so does one whose
 * connection the caller has closed, to the hop's own address.  A
 * message the transport drops unsent comes back to on_request_lost().
 */
static void
call_hop_send(struct call *c, const char *msg, size_t len)
{
	char ip[INET_ADDRSTRLEN];
	int rc;

	if (c->hop.tp == SIP_TP_UDP) {
		sip_send(&c->hop, msg, len);
		return;
	}
	rc = sip_tp_send_tracked(&c->hop, msg, len, CALL_COOKIE(c));
	if (rc == -ENOTCONN && c->hop_uri.tp != SIP_TP_UDP) {
		CALL_LOG(LOGL_INFO, c, "the caller's connection has gone: "
			 "requests go to the next hop's own address");
		c->hop = c->hop_uri;
		c->hop_uri.tp = SIP_TP_UDP;
		rc = sip_tp_send_tracked(&c->hop, msg, len, CALL_COOKIE(c));
	}
	if (rc < 0) {
		inet_ntop(AF_INET, &c->hop.addr.sin_addr, ip, sizeof(ip));
		CALL_LOG(LOGL_ERR, c, "sip_tp_send(%s %s:%u) failed: %s",
			 sip_tp_name(c->hop.tp), ip,
			 ntohs(c->hop.addr.sin_port), strerror(-rc));
	}
}

static void
call_refresh_stop(struct call *c)
{
	rtx_stop(&c->ref);
	c->ref_due_ms = 0;
}

/* Our BYE (RFC 3261 section 15.1.1) with the dialog's next CSeq. */
static void
call_send_bye(struct call *c, const char *why)
{
	struct dialog_req rq = { .method = "BYE", .branch = c->bye_branch };
	char *out;
	int n;

	call_result(c, "%s", why);
	call_refresh_stop(c);
	random_token(c->bye_branch, 17);
	rq.cseq = ++c->dlg.local_cseq;
	n = call_request(c, &rq, &out);
	if (n < 0) {
		call_close(c);
		return;
	}
	call_hop_send(c, out, (size_t)n);
	rtx_arm(&c->bye, out, (size_t)n, 64ull * cfg->t1_ms);
	c->state = CALL_BYE_SENT;
}

/* ---- INVITE: checks before anything is fetched ---- */

/* The parameters of the service URI (RFC 4240 section 3, RFC 5616
 * section 2.3) that decide what is fetched and how it is decoded. */
struct invite_req {
	struct annc_params ap;
	char ctype[64];			/* content-type, unescaped */
	char extra[64];			/* header lines for a refusal */
	struct annc_play opts;		/* repeat, delay, duration */
	struct sdp_refusal refusal;	/* a 488's Warning */
	struct stimer stimer;		/* RFC 4028 */
	char play[SIP_MAX_DATAGRAM];
	struct imap_url url;
	enum media_type type;
	struct media_ctype mt;		/* type with its parameters */
	int base64;
	const struct config_imap_server *server;
	const struct config_cred *cred;
};

/* Where s[0..n) has a control character (RFC 2045 section 5.1 allows
 * none in a content-type), or -1: one unescaped from %0D%0A would
 * otherwise reach the reason phrase and the log. */
static int
ctl_at(const char *s, int n)
{
	for (int i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return i;
	}
	return -1;
}

static int
check_content_type(struct invite_req *r, char *reason, size_t cap)
{
	struct sip_str cte = r->ap.cte, ct = r->ap.content_type;
	int n;

	if (ct.n == 0) {
		snprintf(reason, cap, "Missing content-type parameter");
		return 400;
	}
	n = sip_unescape(ct, r->ctype, sizeof(r->ctype));
	if (n < 0 || ctl_at(r->ctype, n) >= 0) {
		snprintf(reason, cap, "Bad content-type parameter: %s: %.*s",
			 n < 0 ? "too long or an escaped NUL" :
			 "control character", (int)(ct.n > 32 ? 32 : ct.n),
			 ct.p);
		return 400;
	}
	r->type = media_type_parse(r->ctype, (size_t)n, &r->mt);
	if (r->type == MEDIA_TYPE_UNSUPPORTED) {
		snprintf(reason, cap, "Unsupported content-type %s", r->ctype);
		return 415;
	}
	r->base64 = cte.n != 0 && sip_str_caseeq(cte, "base64");
	if (cte.n != 0 && !r->base64 && !sip_str_caseeq(cte, "7bit") &&
	    !sip_str_caseeq(cte, "8bit") && !sip_str_caseeq(cte, "binary")) {
		snprintf(reason, cap,
			 "Unsupported content-transfer-encoding %.*s",
			 (int)(cte.n > 32 ? 32 : cte.n), cte.p);
		return 415;
	}
	return 0;
}

/* Chooses the identity to log in with (RFC 4467 section 3): anonymous
 * needs nothing; anything else needs credentials for that server, and a
 * media server without them refuses without connecting (RFC 5616
 * section 2.4). */
static int
check_identity(struct invite_req *r, char *reason, size_t cap)
{
	const struct imap_url *u = &r->url;

	r->cred = NULL;		/* r outlives the INVITE before */
	if (u->access == IMAP_ACCESS_ANONYMOUS)
		return 0;
	r->cred = config_cred_find(cfg, u->host.p, u->host.n, u->port);
	if (r->cred != NULL && u->access == IMAP_ACCESS_USER &&
	    (strlen(r->cred->user) != u->access_name.n ||
	     strncasecmp(r->cred->user, u->access_name.p,
			 u->access_name.n) != 0))
		r->cred = NULL;
	if (r->cred == NULL) {
		snprintf(reason, cap, "Not authorized to access resource");
		return 404;
	}
	return 0;
}

static int
check_play_url(struct invite_req *r, char *reason, size_t cap)
{
	struct imap_url *u = &r->url;
	const char *why = "malformed";

	if (imap_url_parse(r->ap.play, r->ap.play_len, u, &why) < 0) {
		snprintf(reason, cap, "Bad play URL: %s", why);
		return 400;
	}
	if (u->access == IMAP_ACCESS_NONE) {
		snprintf(reason, cap, "Play URL has no URLAUTH");
		return 404;
	}
	/* RFC 4467 section 7 defines INTERNAL, the server's own token
	 * scheme; a URL authorized by any other mechanism cannot be checked
	 * by the server anncd would send it to. */
	if (!(u->mech.n == 8 && strncasecmp(u->mech.p, "internal", 8) == 0)) {
		snprintf(reason, cap, "URLAUTH mechanism %.*s not supported",
			 (int)(u->mech.n > 32 ? 32 : u->mech.n), u->mech.p);
		return 404;
	}
	if (u->has_expire && u->expire <= time(NULL)) {
		snprintf(reason, cap, "URL expired");
		return 404;
	}
	r->server = config_imap_allowed(cfg, u->host.p, u->host.n, u->port);
	if (r->server == NULL) {
		snprintf(reason, cap, "IMAP server %.*s:%u not allowed",
			 (int)(u->host.n > 64 ? 64 : u->host.n), u->host.p,
			 u->port);
		return 404;
	}
	return check_identity(r, reason, cap);
}

/* Whether an offered m= line could carry anything anncd sends: RTP/AVP,
 * a port, a unicast address (RFC 4566 section 5.7 allows multicast, which
 * an announcement to one caller has no use for).  0, or the Warning code
 * of RFC 3261 section 20.43 that says why not.
 */
static int
offer_line_fault(const struct sdp_media *md)
{
	uint32_t a = ntohl(md->addr);

	if (strcmp(md->type, "audio") != 0 && strcmp(md->type, "video") != 0)
		return 304;
	if (strcmp(md->proto, "RTP/AVP") != 0 || md->port == 0)
		return 302;
	if (a == 0 || a == INADDR_BROADCAST || (a >> 28) >= 0xe)
		return 301;
	return 0;
}

static const char *const offer_fault_text[] = {
	[1] = "Offer's media address is not unicast",
	[2] = "Offer has no RTP/AVP stream with a port",
	[4] = "Offer has no audio or video stream",
};

/* Before anything is fetched: an offer that cannot carry any content at
 * all is refused at once.  Which format fits is known only once the
 * content is probed (call_answer_sdp).
 */
static int
offer_precheck(const struct sdp_session *s, struct invite_req *r,
	       char *reason, size_t cap)
{
	int fault, best = 304;

	for (unsigned int i = 0; i < s->n_media; i++) {
		fault = offer_line_fault(&s->media[i]);
		if (fault == 0)
			return 0;
		if (fault < best)
			best = fault;
	}
	r->refusal.warn_code = best;
	snprintf(r->refusal.text, sizeof(r->refusal.text), "%s",
		 offer_fault_text[best - 300]);
	snprintf(reason, cap, "%.96s", r->refusal.text);
	return 488;
}

/* An offer, when there is one, must parse and have a stream anncd could
 * send on; an INVITE without a body gets our offer in the 200 (RFC 3261
 * section 13.2.1).
 */
static int
check_offer(const struct sip_msg *m, struct invite_req *r, char *reason,
	    size_t cap)
{
	struct sdp_session s;
	const char *why = "malformed";

	if (m->body.n == 0)
		return 0;
	if (!sip_str_caseeq(m->content_type, "application/sdp")) {
		snprintf(reason, cap, "SDP offer required");
		return 488;
	}
	if (sdp_parse(m->body.p, m->body.n, &s, &why) < 0) {
		snprintf(reason, cap, "Bad SDP: %s", why);
		return 400;
	}
	return offer_precheck(&s, r, reason, cap);
}

/* Runs every check that needs no IMAP server.  Returns 0 or the status
 * code to refuse with, reason filled. */
static int
invite_check(const struct sip_msg *m, struct invite_req *r, char *reason,
	     size_t cap)
{
	struct sip_uri uri;
	const char *why = "malformed";
	int code;

	if (sip_uri_parse(m->ruri.p, m->ruri.n, &uri, &why) < 0) {
		snprintf(reason, cap, "Bad Request-URI: %s", why);
		return 400;
	}
	if (!sip_str_eq(uri.user, "annc")) {
		snprintf(reason, cap, "No such service");
		return 404;
	}
	code = sip_uas_check_body(m, &why, r->extra, sizeof(r->extra));
	if (code != 0) {
		snprintf(reason, cap, "%s", why);
		return code;
	}
	if (m->contact_uri.n == 0) {
		snprintf(reason, cap, "Missing Contact");
		return 400;
	}
	if (annc_params_parse(&uri, r->play, sizeof(r->play), &r->ap,
			      &why) < 0) {
		snprintf(reason, cap, "Bad play parameter: %s", why);
		return 400;
	}
	if (annc_play_parse(&r->ap, cfg->max_repeat, &r->opts, reason,
			    cap) < 0)
		return 400;
	code = check_content_type(r, reason, cap);
	if (code == 0)
		code = check_play_url(r, reason, cap);
	if (code == 0)
		code = check_offer(m, r, reason, cap);
	return code;
}

/* ---- INVITE: fetch and answer ---- */

static uint16_t
port_take(void)
{
	return n_free_ports ? free_ports[--n_free_ports] : 0;
}

/* The stream's RTP parameters: random SSRC, sequence number and timestamp
 * (RFC 3550 section 5.1), the packets of plan pl. */
static void
stream_plan(struct call *c, unsigned int k, const struct sdp_media *m,
	    uint8_t pt, const struct media_plan *pl)
{
	struct dp_stream_params *sp = &c->str[k].sp;
	uint32_t r[3];

	random_bytes(r, sizeof(r));
	memset(sp, 0, sizeof(*sp));
	sp->handle = c->handle | (k ? CALL_STREAM_BIT : 0);
	sp->dst_ip = m->addr;
	sp->dst_port = m->port;
	sp->src_port = c->str[k].st.port;
	/* RFC 3605, else the port above RTP's (RFC 3550 section 11). */
	sp->dst_rtcp_port = m->rtcp_port ? m->rtcp_port :
					   (uint16_t)(m->port + 1);
	sp->pt = pt;
	sp->ssrc = r[0];
	sp->seq0 = (uint16_t)r[1];
	sp->ts0 = r[2];
	sp->plan = pl;
	sp->repeat = 1;
}

/* The RTP payload formats the content can be sent as, best first. */
static unsigned int
call_fmts(const struct call *c, struct media_fmt *out, unsigned int max)
{
	return media_fmts(&c->content->mi, out, max);
}

/* The plan of stream k's format and ptime: cut once per cache entry and
 * shared by every call that sends the content so.  The ptime is already
 * whole frames within maxptime (sdp_ptime), so the plan is cut to it.
 */
static const struct media_plan *
call_plan(struct call *c, unsigned int k, struct sdp_refusal *why)
{
	struct sdp_stream *st = &c->str[k].st;
	struct media_plan *pl = cache_plan_find(c->entry, &st->fmt, st->ptime);
	const char *perr = "no plan";

	if (pl != NULL)
		return pl;
	if (media_plan_build(c->content, &c->content->mi, &st->fmt,
			     st->ptime, 0, &pl, &perr) < 0) {
		why->warn_code = 305;
		snprintf(why->text, sizeof(why->text), "cannot send as %s: %s",
			 st->fmt.name, perr);
		CALL_LOG(LOGL_ERR, c, "media_plan_build(%s, %u ms) failed: %s",
			 st->fmt.name, st->ptime, perr);
		return NULL;
	}
	CALL_LOG(LOGL_DEBUG, c, "plan %s/%u%s ptime %u ms built: %u packets",
		 st->fmt.name, st->fmt.clock_rate,
		 st->fmt.conversion ? " converted" : "", st->ptime, pl->npkts);
	/* An entry full of plans: this one is the call's alone. */
	if (cache_plan_add(c->entry, &st->fmt, st->ptime, pl) < 0)
		c->str[k].own_plan = pl;
	return pl;
}

/* How long the call may last from its ACK: duration= (RFC 4240 section
 * 3.3) or --max-call-ms, whichever is shorter.
 */
static uint32_t
call_cap_ms(const struct call *c)
{
	uint32_t cap = cfg->max_call_ms;

	if (c->play.duration_ms != 0 && c->play.duration_ms < cap)
		cap = c->play.duration_ms;
	return cap;
}

/* Stream k's parameters, once its format and m= line are agreed on: the
 * plan, and how often and how long the dataplane plays it.
 */
static int
call_plan_stream(struct call *c, unsigned int k, const struct sdp_media *md,
		 struct sdp_refusal *why)
{
	struct call_stream *cs = &c->str[k];
	const struct media_plan *pl = call_plan(c, k, why);

	if (pl == NULL)
		return -1;
	stream_plan(c, k, md, cs->st.pt, pl);
	cs->sp.repeat = c->play.plays;
	cs->sp.delay_ms = c->play.delay_ms;
	cs->sp.duration_ms = call_cap_ms(c);
	cs->play_pkts = (uint64_t)pl->npkts * c->play.plays;
	cs->play_ms = ((uint64_t)pl->span_ts * 1000 / pl->clock_rate) *
		      c->play.plays +
		      (uint64_t)c->play.delay_ms * (c->play.plays - 1);
	return 0;
}

/* The formats of fmts of one kind, in their order. */
static unsigned int
fmts_of_kind(const struct media_fmt *fmts, unsigned int n,
	     enum media_kind kind, struct media_fmt *out)
{
	unsigned int m = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (fmts[i].kind == kind)
			out[m++] = fmts[i];
	}
	return m;
}

/* A stream per kind of media the content has, in the order of its
 * formats: the first kind must fit the offer, a second one (the audio of
 * a video content, RFC 2250 sending each on its own session) goes only
 * when the caller offers that kind too.
 */
static int
call_choose(struct call *c, const struct sdp_session *s,
	    const struct media_fmt *fmts, unsigned int n,
	    struct sdp_refusal *why)
{
	enum media_kind kinds[2] = { fmts[0].kind, fmts[0].kind ==
				     MEDIA_KIND_AUDIO ? MEDIA_KIND_VIDEO :
				     MEDIA_KIND_AUDIO };
	struct media_fmt sub[SDP_MAX_FMT];
	struct sdp_refusal ignored;
	unsigned int m;

	for (unsigned int k = 0; k < 2; k++) {
		m = fmts_of_kind(fmts, n, kinds[k], sub);
		if (m == 0)
			continue;
		if (sdp_choose(s, kinds[k], sub, m, cfg->answer_dir,
			       &c->str[c->n_str].st, k ? &ignored : why) == 0)
			c->n_str++;
		else if (k == 0)
			return -1;
	}
	return 0;
}

/* An RTP port for each stream; -1 when the range is used up. */
static int
call_ports(struct call *c)
{
	for (unsigned int k = 0; k < c->n_str; k++) {
		c->str[k].st.port = port_take();
		if (c->str[k].st.port == 0)
			return -1;
	}
	return 0;
}

/* RFC 3264 section 6: the answer to the INVITE's offer, for the best
 * format of the content that the offer accepts.  -1 with why, or -2 when
 * no RTP port is free.
 */
static int
call_answer_sdp(struct call *c, char *sdp, size_t cap,
		struct sdp_refusal *why)
{
	struct sdp_stream sts[SDP_MAX_STREAMS];
	struct media_fmt fmts[SDP_MAX_FMT];
	struct sdp_session s;
	struct sdp_answer a;
	const char *perr;
	unsigned int n, k;

	if (sdp_parse(c->invite.body.p, c->invite.body.n, &s, &perr) < 0)
		return -1;
	n = call_fmts(c, fmts, SDP_MAX_FMT);
	if (n == 0 || call_choose(c, &s, fmts, n, why) < 0)
		return -1;
	if (call_ports(c) < 0)
		return -2;
	/* An inactive stream too: its plan says how long the call lasts. */
	for (k = 0; k < c->n_str; k++) {
		if (call_plan_stream(c, k, &s.media[c->str[k].st.media_index],
				     why) < 0)
			return -1;
		sts[k] = c->str[k].st;
	}
	memset(&a, 0, sizeof(a));
	a.offer = &s;
	a.streams = sts;
	a.n_streams = c->n_str;
	a.addr = cfg->media_ip;
	a.sess_id = c->handle;
	a.sess_version = 1;
	return sdp_build_answer(sdp, cap, &a);
}

/* RFC 3261 section 13.2.1, RFC 3264 section 5: no offer in the INVITE,
 * so ours goes in the 200: an m= line per kind of media of the content,
 * every format it can be sent as.  -2 when no RTP port is free.
 */
static int
call_offer_sdp(struct call *c, char *sdp, size_t cap, struct sdp_refusal *why)
{
	struct media_fmt fmts[SDP_MAX_FMT], sub[SDP_MAX_FMT];
	unsigned int n = call_fmts(c, fmts, SDP_MAX_FMT), m;
	enum media_kind kind;

	c->offer = calloc(1, sizeof(*c->offer));
	if (c->offer == NULL || n == 0) {
		why->warn_code = 304;
		snprintf(why->text, sizeof(why->text), "%s",
			 "no format to offer for this content");
		return -1;
	}
	for (unsigned int k = 0; k < 2 && c->n_str < SDP_MAX_STREAMS; k++) {
		kind = k == 0 ? fmts[0].kind : fmts[0].kind == MEDIA_KIND_AUDIO ?
		       MEDIA_KIND_VIDEO : MEDIA_KIND_AUDIO;
		m = fmts_of_kind(fmts, n, kind, sub);
		if (m == 0)
			continue;
		c->str[c->n_str].st.port = port_take();
		if (c->str[c->n_str++].st.port == 0)
			return -2;
		sdp_offer_add(c->offer, kind, c->str[c->n_str - 1].st.port, sub,
			      m);
	}
	c->offer->addr = cfg->media_ip;
	c->offer->sess_id = c->handle;
	c->offer->sess_version = 1;
	return sdp_build_offer(sdp, cap, c->offer);
}

static void
call_answer(struct call *c)
{
	static char extra[SIP_OUT_MAX];	/* Record-Route as long as it came */
	char sdp[2048];
	struct sdp_refusal why = { 305, "no format fits" };
	int n, k;

	if (c->invite.body.n == 0)
		n = call_offer_sdp(c, sdp, sizeof(sdp), &why);
	else
		n = call_answer_sdp(c, sdp, sizeof(sdp), &why);
	if (n == -2) {
		call_reject(c, 503, "No RTP port free");
		return;
	}
	if (n < 0) {
		/* RFC 3261 section 21.4.26, with a Warning per 20.43. */
		if (sdp_warning_header(extra, sizeof(extra), "anncd", &why) < 0)
			extra[0] = '\0';
		call_result(c, "488 %s", why.text);
		call_final(c, 488, "Not Acceptable Here", extra, NULL, 0);
		return;
	}
	/* RFC 4028 section 9: the session interval starts with the 2xx. */
	call_dialog_start(c);
	call_stimer_set(c, &c->stimer);
	/* RFC 3261 section 12.1.1: the route set goes back in the 2xx, so
	 * that the caller's requests take the same proxies as ours. */
	k = dialog_rr_lines(&c->invite, extra, SIP_MAX_DATAGRAM + 1);
	if (k < 0) {
		call_reject(c, 500, "Record-Route too long");
		return;
	}
	snprintf(extra + k, sizeof(extra) - (size_t)k,
		 "%s%s" CALL_ALLOW CALL_SUPPORTED, contact_line[c->peer.tp],
		 c->se_line);
	c->t_answer_ms = loop_now_ms();
	call_final(c, 200, "OK", extra, sdp, (size_t)n);
	CALL_LOG(LOGL_DEBUG, c, "answered after %" PRIu64 " ms",
		 c->t_answer_ms - c->t_invite_ms);
}

/* The one fetch of a cache entry, whichever call started it: what the
 * content is to be probed as once it is here, and the IMAP client's
 * handle, to cancel it when no call waits any more.  A base64 literal is
 * then decoded by the dataplane (job.text set until its event comes);
 * entry goes NULL when every call has gone meanwhile.
 */
struct annc_fetch {
	struct cache_entry *entry;
	struct imap_fetch *imap;
	struct media_ctype mt;
	char ctype[64];
	struct dp_decode_job job;
};

/* Calls share an entry only when they ask for the same decoding and the
 * same probe of the part.
 */
static uint32_t
req_form(const struct media_ctype *mt, int base64)
{
	return media_ctype_form(mt) | (uint32_t)(base64 != 0) << 31;
}

/* What the server said about the URL or the part (NIL, NO, a bad
 * literal) stays true for a while and is remembered; a connection that
 * could not be made or was lost says nothing about the next attempt.
 */
static int
fetch_failure_transient(int status)
{
	return status != -ENOENT && status != -EPROTO && status != -EINVAL;
}

/* Once per entry, at ingest: every call that plays the content uses the
 * media_info found here.  0, or -1 with the status and reason to refuse
 * every waiting call with.
 */
static int
fetched_probe(const struct annc_fetch *f, struct content *ct, int *code,
	      char *reason, size_t cap)
{
	const char *why = "unplayable";

	if (content_probe(ct, &f->mt, &why) < 0) {
		snprintf(reason, cap, "Unplayable %s: %s", f->ctype, why);
		*code = 415;
		return -1;
	}
	if (ct->mi.data_len == 0) {
		snprintf(reason, cap, "Attachment holds no audio");
		*code = 404;
		return -1;
	}
	return 0;
}

/* RFC 5616 section 2.4: any failed URLFETCH is a 404 with its reason; a
 * part that cannot be played is refused as well.  Both are one cache_fail
 * for every call waiting.
 */
static void
fetch_ingest(struct annc_fetch *f, int status, const char *reason,
	     struct content *ct)
{
	struct cache_entry *e = f->entry;
	char res[128];
	int code = 404;

	e->fetch = NULL;
	if (status != 0) {
		free(f);
		cache_fail(e, 404, reason, loop_now_ms(),
			   fetch_failure_transient(status));
		return;
	}
	if (fetched_probe(f, ct, &code, res, sizeof(res)) < 0) {
		free(f);
		content_put(ct);
		/* Unplayable as this content-type, perhaps not as another:
		 * not remembered, so a call naming the right type fetches
		 * anew. */
		cache_fail(e, code, res, loop_now_ms(), 1);
		return;
	}
	free(f);
	cache_complete(e, ct, ct->len);
}

/* The base64 text goes to the dataplane, which decodes it in slices into
 * chunks allocated here; the entry stays FETCHING until its event.
 */
static int
fetch_decode(struct annc_fetch *f, struct content *text)
{
	struct content *out;
	int rc;

	out = content_new_reserved(dp_decode_out_max(text->len));
	if (out == NULL)
		return -ENOMEM;
	memset(&f->job, 0, sizeof(f->job));
	f->job.text = text;
	f->job.out = out;
	f->job.slice = cfg->decode_slice;
	rc = dp_decode_submit(&f->job);
	if (rc != 0) {
		content_put(out);
		f->job.text = NULL;
	}
	return rc;
}

static void
on_fetched(void *arg, int status, const char *reason, struct content *ct,
	   int base64)
{
	struct annc_fetch *f = arg;

	f->imap = NULL;
	if (status == 0 && base64) {
		if (fetch_decode(f, ct) == 0)
			return;
		content_put(ct);
		ct = NULL;
		status = -ENOBUFS;
		reason = "Cannot decode the attachment now";
	}
	fetch_ingest(f, status, reason, ct);
}

static void
decode_free(struct annc_fetch *f)
{
	content_put(f->job.text);
	content_put(f->job.out);
	free(f);
}

/* The dataplane's decode is over; the text goes.  An invalid byte is
 * named by its offset in the literal, as the server sent it.
 */
static void
on_decoded(struct dp_decode_job *j)
{
	struct annc_fetch *f = container_of(j, struct annc_fetch, job);
	struct content *out = j->out;
	char reason[96];

	if (f->entry == NULL || j->status == -ECANCELED) {
		decode_free(f);
		return;
	}
	content_put(j->text);
	if (j->status == 0) {
		content_trim(out);
		fetch_ingest(f, 0, "OK", out);
		return;
	}
	content_put(out);
	if (j->status == -EILSEQ)
		snprintf(reason, sizeof(reason), "attachment is not base64: "
			 "byte 0x%02x at offset %" PRIu64, j->err_byte,
			 j->err_offset);
	else
		snprintf(reason, sizeof(reason), "attachment base64 is %s",
			 j->status == -EBADMSG ? "truncated" : "undecodable");
	fetch_ingest(f, -EPROTO, reason, NULL);
}

/* The cache's abandon hook: the last call waiting on a fetch has gone. */
static void
fetch_abandon(void *arg)
{
	struct annc_fetch *f = arg;

	if (f == NULL)
		return;
	if (f->imap != NULL) {
		imap_fetch_cancel(f->imap);
	} else if (f->job.text != NULL) {
		/* The worker holds the job: on_decoded() frees it. */
		f->entry = NULL;
		if (dp_decode_cancel(&f->job) != -ENODEV)
			return;
		decode_free(f);
		return;
	}
	free(f);
}

/* The log names a fetch by server, message and a short hash of the
 * pawn-ticket token, never the token itself. */
static void
fetch_log_id(const struct call *c, const struct imap_url *u, char *out,
	     size_t cap)
{
	uint32_t h = (uint32_t)XXH3_64bits(u->token.p, u->token.n);

	snprintf(out, cap, "%s %.*s:%u uid %.*s section %.*s token#%08" PRIx32,
		 c->log_id, (int)(u->host.n > 32 ? 32 : u->host.n), u->host.p,
		 u->port, (int)(u->uid.n > 12 ? 12 : u->uid.n), u->uid.p,
		 (int)(u->section.n > 12 ? 12 : u->section.n), u->section.p, h);
}

/* Starts the one URLFETCH of a new entry (RFC 4467 section 7). */
static int
entry_fetch(struct call *c, struct cache_entry *e, const struct invite_req *r)
{
	struct imap_fetch_req fr;
	struct annc_fetch *f;
	char log_id[160];

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->entry = e;
	f->mt = r->mt;
	memcpy(f->ctype, r->ctype, sizeof(f->ctype));
	fetch_log_id(c, &r->url, log_id, sizeof(log_id));
	memset(&fr, 0, sizeof(fr));
	fr.url = r->ap.play;
	fr.url_len = r->ap.play_len;
	fr.server = r->server->addr;
	fr.user = r->cred ? r->cred->user : NULL;
	fr.pass = r->cred ? r->cred->pass : NULL;
	fr.base64 = r->base64;
	fr.max_literal = cfg->max_content;
	fr.timeout_ms = cfg->imap_timeout_ms;
	fr.host = r->server->host;
	fr.security = r->server->security;
	fr.plaintext_ok = r->server->plaintext_ok;
	fr.log_id = log_id;
	f->imap = imap_fetch_start(&fr, on_fetched, f);
	if (f->imap == NULL) {
		free(f);
		return -EAGAIN;
	}
	e->fetch = f;
	CALL_LOG(LOGL_DEBUG, c, "fetching %s", log_id);
	return 0;
}

/* The entry is READY or FAILED: answer, or refuse as the fetch was
 * refused, without asking the server again.
 */
static void
call_proceed(struct call *c, struct cache_entry *e)
{
	if (e->state == CACHE_FAILED) {
		call_reject(c, e->status, e->reason);
		return;
	}
	c->content = e->content;
	call_answer(c);
}

static void
on_entry_done(struct cache_waiter *w, struct cache_entry *e)
{
	call_proceed(container_of(w, struct call, waiter), e);
}

/* The content for the play URL: from the cache, from the fetch another
 * call has started, or from a fetch of its own; exactly one URLFETCH per
 * URL and form in flight, keyed by the URL exactly as received and by
 * the content-type and encoding the call names: a caller who names them
 * wrong gets its own entry, and cannot have the URL held as what it
 * said for every caller after it.
 */
static void
call_fetch(struct call *c, const struct invite_req *r)
{
	static char key[sizeof(r->play) + 16];
	uint32_t form = req_form(&r->mt, r->base64);
	struct cache_entry *e;
	int rc, n;

	n = snprintf(key, sizeof(key), "%08" PRIx32 " %s", form, r->ap.play);
	rc = n < 0 || (size_t)n >= sizeof(key) ? -ENOSPC :
	     cache_get(key, (size_t)n, r->url.has_expire ? r->url.expire : 0,
		       loop_now_ms(), time(NULL), &e);
	if (rc < 0) {
		call_reject(c, rc == -ETIME ? 404 : 503, rc == -ETIME ?
			    "URL expired" : "Content cache full");
		return;
	}
	c->entry = e;
	if (rc == 1) {
		e->form = form;
		if (entry_fetch(c, e, r) < 0) {
			call_reject(c, 503, "Cannot reach IMAP server now");
			return;
		}
	} else if (e->state != CACHE_FAILED && e->form != form) {
		call_reject(c, 415, "Part held as another content-type");
		return;
	}
	if (e->state == CACHE_FETCHING)
		cache_wait(e, &c->waiter, on_entry_done);
	else
		call_proceed(c, e);
}

static void
on_invite_retransmission(struct call *c, const struct sip_msg *m,
			 const struct sip_peer *src)
{
	/* RFC 3261 section 17.2.1: resend the last response. */
	if (c->resp.msg != NULL)
		sip_send(src, c->resp.msg, c->resp.len);
	else if (c->state == CALL_FETCHING)
		sip_respond(m, src, 100, "Trying", NULL);
}

/* A refusal before any call exists, answered statelessly, with the
 * header lines its checks asked for; a 488 says in a Warning what did
 * not fit (RFC 3261 section 20.43).
 */
static void
invite_refuse(const struct sip_msg *m, const struct sip_peer *src,
	      int code, const char *reason, struct invite_req *r)
{
	char warn[SDP_WARN_MAX + 32];
	const char *extra = r->extra[0] ? r->extra : NULL;

	if (code == 503)
		extra = "Retry-After: 5\r\n";
	else if (code == 488 && r->refusal.warn_code != 0 &&
		 sdp_warning_header(warn, sizeof(warn), "anncd",
				    &r->refusal) > 0)
		extra = warn;
	sip_respond(m, src, code ? code : 500,
		    code ? reason : "Server Internal Error", extra);
}

/* The RFC 4240 values of the call for its outcome line: raw and cut
 * short, as the caller wrote them.
 */
static void
call_play_log(struct call *c, const struct annc_params *ap)
{
	static const char *const names[] = {
		"repeat", "delay", "duration", "locale",
	};
	const struct sip_str *vals[] = {
		&ap->repeat, &ap->delay, &ap->duration, &ap->locale,
	};
	size_t n = 0, cap = sizeof(c->play_log);

	for (unsigned int i = 0; i < 4 + ANNC_NPARAMS && n < cap; i++) {
		const struct sip_str *v = i < 4 ? vals[i] : &ap->param[i - 4];
		int w;

		if (v->p == NULL)
			continue;
		if (i < 4)
			w = snprintf(c->play_log + n, cap - n, " %s=%.*s",
				     names[i], (int)(v->n > 24 ? 24 : v->n), v->p);
		else
			w = snprintf(c->play_log + n, cap - n, " param%u=%.*s",
				     i - 3, (int)(v->n > 24 ? 24 : v->n), v->p);
		n += w > 0 ? (size_t)w : 0;
	}
}


static void
on_invite(const struct sip_msg *m, const struct sip_peer *src,
	  const char *buf, size_t len)
{
	static struct invite_req r;
	char reason[128];
	struct call *c;
	int code;

	c = call_find(m);
	if (c != NULL) {
		if (m->to_tag.n == 0 && m->cseq == c->invite.cseq &&
		    !str_same(m->branch, c->invite.branch))
			/* RFC 3261 section 8.2.2.2: the same request by
			 * another path. */
			sip_respond(m, src, 482, "Loop Detected", NULL);
		else if (m->to_tag.n == 0 && m->cseq == c->invite.cseq)
			on_invite_retransmission(c, m, src);
		else if (to_tag_is_ours(c, m))
			on_reinvite(c, m, src);
		else
			sip_respond(m, src, 481,
				    "Call/Transaction Does Not Exist", NULL);
		return;
	}
	memset(&r, 0, offsetof(struct invite_req, play));
	code = invite_check(m, &r, reason, sizeof(reason));
	/* RFC 4028 section 9: 422 for an interval under our Min-SE. */
	if (code == 0 && stimer_answer(m, cfg->min_se_s, &r.stimer) != 0) {
		code = 422;
		snprintf(reason, sizeof(reason), "Session Interval Too Small");
		snprintf(r.extra, sizeof(r.extra), "Min-SE: %u\r\n",
			 r.stimer.min_se_s);
	}
	if (code == 0 && n_free == 0) {
		code = 503;
		snprintf(reason, sizeof(reason), "Too many calls");
	}
	if (code == 0)
		c = call_new(buf, len, src);
	if (c == NULL) {
		SIP_LOG(LOGL_INFO, "INVITE %.*s refused: %d %s",
			(int)(m->call_id.n > 40 ? 40 : m->call_id.n),
			m->call_id.p, code ? code : 500,
			code ? reason : "out of memory");
		invite_refuse(m, src, code, reason, &r);
		return;
	}
	memcpy(c->ctype, r.ctype, sizeof(c->ctype));
	c->type = r.type;
	c->base64 = r.base64;
	c->play = r.opts;
	c->stimer = r.stimer;
	call_play_log(c, &r.ap);
	call_fetch(c, &r);
	/* RFC 3261 section 17.2.1: no 100 when the final response has
	 * gone already (a cache hit, a refusal); one while the fetch runs. */
	if (c->state == CALL_FETCHING && c->resp.msg == NULL)
		sip_respond(m, src, 100, "Trying", NULL);
}

/* ---- requests within a call ---- */

static int
to_tag_is_ours(const struct call *c, const struct sip_msg *m)
{
	return sip_str_eq(m->to_tag, c->to_tag);
}

/* RFC 3261 section 17.2.3: the ACK's top Via has the INVITE's branch
 * and sent-by, and its CSeq the INVITE's number; a branch without the
 * magic cookie (RFC 2543) matches by the To tag instead. */
static int
ack_of_invite(const struct call *c, const struct sip_msg *m)
{
	static const char cookie[] = "z9hG4bK";

	if (m->branch.n < sizeof(cookie) - 1 ||
	    memcmp(m->branch.p, cookie, sizeof(cookie) - 1) != 0)
		return to_tag_is_ours(c, m);
	return str_same(m->branch, c->invite.branch) &&
	       str_same(m->via_host, c->invite.via_host) &&
	       m->via_port == c->invite.via_port &&
	       m->cseq == c->invite.cseq;
}

/* Stops every stream the dataplane holds; their events end the call. */
static void
call_stop_streams(struct call *c)
{
	for (unsigned int k = 0; k < c->n_str; k++) {
		if (c->str[k].active)
			dp_stream_stop(c->str[k].sp.handle);
	}
}

/* Starts the streams that send; -1 when the dataplane takes none. */
static int
call_start_streams(struct call *c)
{
	int rc;

	for (unsigned int k = 0; k < c->n_str; k++) {
		struct call_stream *cs = &c->str[k];

		if (cs->st.media_index < 0 || cs->st.dir == SDP_INACTIVE)
			continue;
		rc = dp_stream_start(&cs->sp);
		if (rc < 0) {
			CALL_LOG(LOGL_ERR, c, "dp_stream_start failed: %s",
				 strerror(-rc));
			call_result(c, "%s", "dataplane busy");
			call_stop_streams(c);
			return c->stream_active ? 0 : -1;
		}
		cs->active = cs->started = 1;
		c->stream_active++;
	}
	return 0;
}

/* The longest of the streams' plays: what an inactive call lasts. */
static uint64_t
call_play_ms(const struct call *c)
{
	uint64_t ms = 0;

	for (unsigned int k = 0; k < c->n_str; k++) {
		if (c->str[k].st.media_index >= 0 && c->str[k].play_ms > ms)
			ms = c->str[k].play_ms;
	}
	return ms;
}

/* After the ACK.  An inactive stream (a sendonly or inactive offer, RFC
 * 3264 section 6.1) sends nothing; re-INVITEs that could resume it are not
 * taken, so a call with nothing to send lasts what the announcement
 * would have, then ends with our BYE like a played one.
 */
static void
call_begin(struct call *c)
{
	uint64_t now = loop_now_ms(), cap = call_cap_ms(c), len;

	c->state = CALL_STREAMING;
	if (call_start_streams(c) < 0) {
		call_send_bye(c, "dataplane busy");
		return;
	}
	if (c->stream_active == 0) {
		len = call_play_ms(c);
		c->end_ms = now + (len < cap ? len : cap);
		return;
	}
	/* The dataplane ends the streams at duration_ms; this is the
	 * backstop should their events not come.
	 */
	c->end_ms = now + cap + CALL_END_GRACE_MS;
}

/* The end of a call's time: the streams stop (their events then bring
 * the BYE), or a call with nothing sent ends at once.
 */
static void
call_time_up(struct call *c)
{
	c->end_ms = 0;
	if (!c->stream_active) {
		call_send_bye(c, "ended, stream inactive");
		return;
	}
	call_result(c, "%s", "no end from the dataplane");
	call_stop_streams(c);
}

/* ---- session timer (RFC 4028) ---- */

/* The session timer as last agreed, from now: the caller refreshes and
 * anncd ends the session it leaves unrefreshed, or anncd refreshes at
 * half the interval (RFC 4028 section 10).
 */
static void
call_stimer_set(struct call *c, const struct stimer *t)
{
	uint64_t now = loop_now_ms();

	c->stimer = *t;
	if (stimer_headers(t, c->se_line, sizeof(c->se_line)) < 0)
		c->se_line[0] = '\0';
	c->se_bye_ms = t->use == STIMER_UAC ?
		       stimer_bye_ms(now, t->interval_s) : 0;
	c->ref_due_ms = t->use == STIMER_UAS ?
			stimer_refresh_ms(now, t->interval_s) : 0;
	c->se_end_ms = now + (uint64_t)t->interval_s * 1000;
}

/* Ends a call that is established now: its streams stop and their
 * events bring the BYE, or the BYE goes at once when none plays.
 */
static void
call_end_now(struct call *c, const char *why)
{
	call_result(c, "%s", why);
	if (c->stream_active)
		call_stop_streams(c);
	else
		call_send_bye(c, why);
}

/* ---- anncd as session refresher (RFC 4028 section 10) ---- */

/* Our refresh: an UPDATE without a body when the caller takes UPDATE
 * (section 7.1 prefers it), else a re-INVITE offering our last SDP again
 * with its o= version unchanged (RFC 3264 section 8: no change).  Both
 * are target refresh requests and carry our Contact (RFC 3311 section
 * 5.1), the one of the 200 the caller reached: its requests keep coming
 * the way they came.  Over UDP, timers E or A resend it (RFC 3261
 * section 17.1).
 */
static void
call_refresh_send(struct call *c)
{
	struct dialog_req rq = { .branch = c->ref_branch };
	uint32_t min_se = c->stimer.min_se_s > cfg->min_se_s ?
			  c->stimer.min_se_s : cfg->min_se_s;
	char extra[384];
	char *out;
	int n;

	c->ref_due_ms = 0;
	c->ref_invite = !c->caller_update && c->sdp != NULL;
	rq.method = c->ref_invite ? "INVITE" : "UPDATE";
	rq.body = c->ref_invite ? c->sdp : NULL;
	rq.body_len = c->ref_invite ? c->sdp_len : 0;
	snprintf(extra, sizeof(extra), "%sSession-Expires: %u;refresher=uac"
		 "\r\nMin-SE: %u\r\n" CALL_ALLOW CALL_SUPPORTED,
		 contact_line[c->peer.tp], c->stimer.interval_s, min_se);
	rq.extra = extra;
	random_token(c->ref_branch, 17);
	c->ref_cseq = rq.cseq = ++c->dlg.local_cseq;
	free(c->ref_ack);
	c->ref_ack = NULL;
	n = call_request(c, &rq, &out);
	if (n < 0) {
		c->se_bye_ms = c->se_end_ms;
		return;
	}
	call_hop_send(c, out, (size_t)n);
	rtx_arm(&c->ref, out, (size_t)n, 64ull * cfg->t1_ms);
	if (c->ref_invite)
		c->ref.max_interval_ms = UINT64_MAX;	/* timer A */
	CALL_LOG(LOGL_DEBUG, c, "session refresh: %s CSeq %" PRIu32,
		 rq.method, rq.cseq);
}

/* The ACK to a final answer to our re-INVITE, sent again for each copy
 * of that answer: on a branch of its own for a 2xx (RFC 3261 section
 * 13.2.2.4), in the INVITE's transaction for an error (17.1.1.3).
 */
static void
call_refresh_ack(struct call *c, const struct sip_msg *m)
{
	struct dialog_req rq = { .method = "ACK", .cseq = c->ref_cseq,
				 .branch = c->ref_branch };
	char branch[20];
	char *out;
	int n;

	if (c->ref_ack == NULL) {
		if (m->status < 300) {
			random_token(branch, 17);
			rq.branch = branch;
		}
		n = call_request(c, &rq, &out);
		if (n < 0)
			return;
		c->ref_ack = out;
		c->ref_ack_len = (size_t)n;
	}
	call_hop_send(c, c->ref_ack, c->ref_ack_len);
}

/* What the final answer to our refresh leaves (RFC 4028 section 10): a
 * 2xx restarts the timer as it says; 422 asks again with its Min-SE
 * (section 7.4); 491 again after 2.1 to 4 s, the caller owning the
 * Call-ID (RFC 3261 section 14.1); 408 and 481 end the call (RFC 3261
 * section 12.2.1.2); any other failure leaves the session to expire.
 */
static void
call_refresh_outcome(struct call *c, const struct sip_msg *m)
{
	char res[48];
	struct stimer t;
	uint16_t r;

	switch (stimer_on_answer(m->status, m->min_se, &c->stimer.interval_s)) {
	case STIMER_RESTART:
		stimer_from_2xx(m, &t);
		call_stimer_set(c, &t);
		break;
	case STIMER_RETRY_NOW:
		c->stimer.min_se_s = m->min_se;
		c->ref_due_ms = loop_now_ms();
		break;
	case STIMER_RETRY_LATER:
		random_bytes(&r, sizeof(r));
		c->ref_due_ms = loop_now_ms() + 2100 + r % 1901;
		break;
	case STIMER_END:
		snprintf(res, sizeof(res), "session refresh answered %d",
			 m->status);
		call_end_now(c, res);
		break;
	default:
		CALL_LOG(LOGL_INFO, c, "session refresh answered %d: the "
			 "session ends at its expiry", m->status);
		c->se_bye_ms = c->se_end_ms;
		break;
	}
}

static void
on_refresh_response(struct call *c, const struct sip_msg *m)
{
	if (c->ref_invite && m->status >= 200)
		call_refresh_ack(c, m);
	if (c->ref.msg == NULL)
		return;		/* a copy of an answer already taken */
	if (m->status < 200) {
		/* Proceeding: timer A stops (section 17.1.1.2); the give-up
		 * time stays, as the session cannot wait past it. */
		if (c->ref_invite)
			c->ref.next_ms = UINT64_MAX;
		return;
	}
	rtx_stop(&c->ref);
	call_refresh_outcome(c, m);
}

/* The refresh's client transaction over time: due once no INVITE
 * transaction is open either way (RFC 3261 section 14.1), resent over
 * UDP, and unanswered by timer F or B it ends the call (RFC 4028
 * section 10).  Returns 1 when the call ended.
 */
static int
call_refresh_timers(struct call *c, uint64_t now)
{
	int due;

	if (c->state != CALL_STREAMING)
		return 0;
	if (c->ref_due_ms != 0 && now >= c->ref_due_ms &&
	    c->ref.msg == NULL && c->reresp.msg == NULL) {
		call_refresh_send(c);
		return 0;
	}
	due = rtx_due(&c->ref, now);
	if (due > 0 && c->hop.tp == SIP_TP_UDP)
		call_hop_send(c, c->ref.msg, c->ref.len);
	if (due >= 0)
		return 0;
	rtx_stop(&c->ref);
	call_end_now(c, "session refresh unanswered");
	return 1;
}

/* A request of ours dropped unsent: the connection opened for it
 * failed.  The answer cannot come, so the call does not wait for its
 * timers: an undelivered BYE ends the call at once, an undelivered
 * refresh as an unanswered one does (RFC 4028 section 10).  A lost ACK
 * leaves the caller to resend its 2xx, which brings another ACK.
 */
static void
on_request_lost(uint64_t cookie, const struct sip_peer *to, int err)
{
	struct call *c = call_by_handle((uint32_t)cookie);

	(void)to;
	if (c == NULL)
		return;
	if (c->state == CALL_BYE_SENT && c->bye.msg != NULL) {
		CALL_LOG(LOGL_INFO, c, "BYE not delivered: %s",
			 strerror(-err));
		rtx_stop(&c->bye);
		call_close(c);
	} else if (c->state == CALL_STREAMING && c->ref.msg != NULL) {
		rtx_stop(&c->ref);
		call_end_now(c, "session refresh not delivered");
	}
}

/* RFC 3264 section 7: the answer to our late offer, in the ACK.  Without
 * one, or with one that does not fit, the dialog is established all the
 * same and is ended with a BYE (RFC 3261 section 13.2.2.4 for the UAC
 * side of the same fault).
 */
static int
call_take_answer(struct call *c, const struct sip_msg *m)
{
	struct sdp_stream st[SDP_MAX_STREAMS];
	struct sdp_refusal why = { 0, "" };
	struct sdp_session s;
	const char *perr = "none";
	char res[SDP_WARN_MAX + 32];
	unsigned int sent, k;

	if (m->body.n == 0 ||
	    !sip_str_caseeq(m->content_type, "application/sdp") ||
	    sdp_parse(m->body.p, m->body.n, &s, &perr) < 0)
		snprintf(why.text, sizeof(why.text), "%s", perr);
	else if (sdp_take_answer(c->offer, &s, st, &sent, &why) == 0) {
		for (k = 0; k < c->n_str; k++) {
			c->str[k].st = st[k];
			if (st[k].media_index >= 0 &&
			    call_plan_stream(c, k, &s.media[k], &why) < 0)
				break;
		}
		if (k == c->n_str)
			return 0;
	}
	snprintf(res, sizeof(res), "bad SDP answer in ACK: %s", why.text);
	call_send_bye(c, res);
	return -1;
}

static void
on_ack(const struct sip_msg *m)
{
	struct call *c = call_find(m);

	if (c == NULL)
		return;		/* RFC 3261 17.2.3: nothing to match, drop */
	/* RFC 3261 section 17.2.3: the ACK of a non-2xx answer is part of
	 * the INVITE's transaction, matched by its top Via, not by the To
	 * tag, which a caller that never read the answer's lacks. */
	if (c->state == CALL_REJECTED && ack_of_invite(c, m)) {
		rtx_stop(&c->resp);
		call_close(c);
		return;
	}
	if (!to_tag_is_ours(c, m))
		return;
	if (c->state == CALL_ANSWERED) {
		rtx_stop(&c->resp);
		if (c->offer == NULL || call_take_answer(c, m) == 0)
			call_begin(c);
	} else if (c->state == CALL_REJECTED) {
		rtx_stop(&c->resp);
		call_close(c);
	} else if (c->reresp.msg != NULL && m->cseq == c->reinvite_cseq) {
		rtx_stop(&c->reresp);
		if (c->reoffer != NULL)
			call_take_reanswer(c, m);
	}
}

static void
on_bye(const struct sip_msg *m, const struct sip_peer *src)
{
	struct call *c = call_find(m);

	if (c == NULL || !to_tag_is_ours(c, m) ||
	    c->state == CALL_CLOSING) {
		sip_respond(m, src, 481, "Call/Transaction Does Not Exist",
			    NULL);
		return;
	}
	sip_respond(m, src, 200, "OK", NULL);
	rtx_stop(&c->resp);
	rtx_stop(&c->bye);
	call_refresh_stop(c);
	call_result(c, "%s", "caller hung up");
	call_stop_streams(c);
	call_close(c);
}

static void
on_cancel(const struct sip_msg *m, const struct sip_peer *src)
{
	struct call *c = call_find(m);

	/* RFC 3261 section 9.2: a CANCEL names its INVITE by the branch of
	 * their common top Via. */
	if (c == NULL || !str_same(m->branch, c->invite.branch)) {
		sip_respond(m, src, 481, "Call/Transaction Does Not Exist",
			    NULL);
		return;
	}
	/* RFC 3261 section 9.2: 200 to the CANCEL; a pending INVITE also
	 * gets its 487. */
	sip_respond(m, src, 200, "OK", NULL);
	if (c->state != CALL_FETCHING)
		return;
	/* The fetch goes on for any other call waiting on it. */
	call_reject(c, 487, "Request Terminated");
}

/* Whether m's top Via has our branch b (magic cookie, then b). */
static int
branch_is(const struct sip_msg *m, const char *b)
{
	size_t n = strlen(b);

	return m->branch.n == 7 + n && memcmp(m->branch.p, "z9hG4bK", 7) == 0 &&
	       memcmp(m->branch.p + 7, b, n) == 0;
}

/* A response to our refresh, or to our BYE, which ends the call; a
 * response matches its request by branch and CSeq (RFC 3261 section
 * 17.1.3).
 */
static void
on_response(const struct sip_msg *m)
{
	struct call *c = call_lookup(m->call_id, m->to_tag);

	if (c == NULL || !sip_str_eq(m->from_tag, c->to_tag))
		return;
	if (c->state == CALL_STREAMING && c->ref_cseq != 0 &&
	    m->cseq == c->ref_cseq && branch_is(m, c->ref_branch))
		on_refresh_response(c, m);
	else if (c->state == CALL_BYE_SENT && m->status >= 200 &&
		 sip_str_eq(m->cseq_method, "BYE") &&
		 branch_is(m, c->bye_branch)) {
		rtx_stop(&c->bye);
		call_close(c);
	}
}

/* ---- offers within the dialog: re-INVITE and UPDATE ---- */

/* Stream k as a new offer s leaves it (RFC 3264 section 8): the same m=
 * line, and the format the stream already sends, since its plan and the
 * dataplane's payload type are fixed for the call.  Hold is a direction
 * that does not let anncd send, c=0.0.0.0 (RFC 3264 section 8.4, the
 * RFC 2543 way) or port 0; the answer then says inactive.
 */
static int
reoffer_stream(const struct call *c, unsigned int k,
	       const struct sdp_session *s, struct sdp_stream *st,
	       struct sdp_refusal *why)
{
	const struct sdp_media *md;
	enum sdp_dir d;
	int oa, pt;

	*st = c->str[k].st;
	if (st->media_index < 0)
		return 0;
	if ((unsigned int)st->media_index >= s->n_media) {
		why->warn_code = 304;
		snprintf(why->text, sizeof(why->text), "m= line %d is gone",
			 st->media_index + 1);
		return -1;
	}
	md = &s->media[st->media_index];
	/* Not to a group or everyone either, as in the first offer;
	 * 0.0.0.0 is a hold. */
	if (md->addr != 0 && offer_line_fault(md) == 301) {
		why->warn_code = 301;
		snprintf(why->text, sizeof(why->text), "%s",
			 offer_fault_text[1]);
		return -1;
	}
	pt = sdp_match(md, &st->fmt, &oa);
	if (pt != st->pt) {
		why->warn_code = 305;
		snprintf(why->text, sizeof(why->text),
			 "%s as payload type %u no longer offered",
			 st->fmt.name, st->pt);
		return -1;
	}
	d = sdp_answer_dir(md->dir, cfg->answer_dir);
	if ((d != SDP_SENDONLY && d != SDP_SENDRECV) || md->addr == 0 ||
	    md->port == 0)
		d = SDP_INACTIVE;
	st->dir = d;
	return 0;
}

/* The answer to an offer within the dialog: the same session id, the
 * version one up (RFC 3264 section 8).  Fills sts; -1 with why.
 */
static int
call_reanswer(struct call *c, const struct sip_msg *m, struct sdp_session *s,
	      struct sdp_stream *sts, char *sdp, size_t cap,
	      struct sdp_refusal *why)
{
	struct sdp_answer a;
	const char *perr = "bad SDP";

	if (!sip_str_caseeq(m->content_type, "application/sdp") ||
	    sdp_parse(m->body.p, m->body.n, s, &perr) < 0) {
		why->warn_code = 399;
		snprintf(why->text, sizeof(why->text), "%s", perr);
		return -1;
	}
	for (unsigned int k = 0; k < c->n_str; k++) {
		if (reoffer_stream(c, k, s, &sts[k], why) < 0)
			return -1;
	}
	memset(&a, 0, sizeof(a));
	a.offer = s;
	a.streams = sts;
	a.n_streams = c->n_str;
	a.addr = cfg->media_ip;
	a.sess_id = c->handle;
	a.sess_version = c->sess_version + 1;
	return sdp_build_answer(sdp, cap, &a);
}

/* Stream k goes on as st says, to md's address: held, resumed or
 * redirected in the dataplane, or started when the call began on hold
 * and is now resumed (its plan was made with the first answer).
 */
static void
call_stream_change(struct call *c, unsigned int k, const struct sdp_media *md,
		   const struct sdp_stream *st)
{
	struct call_stream *cs = &c->str[k];
	int paused = st->dir == SDP_INACTIVE;

	cs->st.dir = st->dir;
	if (!paused) {
		cs->sp.dst_ip = md->addr;
		cs->sp.dst_port = md->port;
		cs->sp.dst_rtcp_port = md->rtcp_port ? md->rtcp_port :
						     (uint16_t)(md->port + 1);
	}
	if (cs->active) {
		dp_stream_update(cs->sp.handle, cs->sp.dst_ip, cs->sp.dst_port,
				 cs->sp.dst_rtcp_port, paused);
		return;
	}
	if (paused || cs->started || cs->sp.plan == NULL ||
	    dp_stream_start(&cs->sp) < 0)
		return;
	cs->active = cs->started = 1;
	c->stream_active++;
	c->end_ms = loop_now_ms() + call_cap_ms(c) + CALL_END_GRACE_MS;
}

static void
call_apply_offer(struct call *c, const struct sdp_session *s,
		 const struct sdp_stream *sts)
{
	c->sess_version++;
	for (unsigned int k = 0; k < c->n_str; k++) {
		if (sts[k].media_index >= 0)
			call_stream_change(c, k, &s->media[sts[k].media_index],
					   &sts[k]);
	}
	CALL_LOG(LOGL_DEBUG, c, "offer %" PRIu64 " taken: %s",
		 c->sess_version, c->str[0].st.dir == SDP_INACTIVE ?
		 "on hold" : "sending");
}

/* A 2xx to a re-INVITE or UPDATE: its Contact becomes the remote
 * target (RFC 3261 section 12.2.2), its Allow says what our refresh may
 * be.  A Contact that is no SIP URI leaves the target as it was.
 */
static void
call_target_refresh(struct call *c, const struct sip_msg *m)
{
	if (!sip_str_eq(m->method, "INVITE") &&
	    !sip_str_eq(m->method, "UPDATE"))
		return;
	if (m->n_allow > 0)
		c->caller_update = sip_list_has(m->allow, m->n_allow,
						"UPDATE");
	if (m->contact_uri.n == 0)
		return;
	if (dialog_set_target(&c->dlg, m->contact_uri) < 0) {
		CALL_LOG(LOGL_INFO, c, "Contact %.*s not taken as target",
			 (int)m->contact_uri.n, m->contact_uri.p);
		return;
	}
	call_hop_set(c);
}

/* Responds within the call with our Contact, Allow and Supported; the
 * response is kept for the transaction layer's retransmissions unless
 * rtx takes it (a 2xx to an INVITE, RFC 3261 section 13.3.1.4).
 */
static void
call_respond(struct call *c, const struct sip_msg *m,
	     const struct sip_peer *src, int code, const char *reason,
	     const char *more, const char *sdp, size_t sdp_len,
	     struct call_rtx *rtx)
{
	char extra[SDP_WARN_MAX + 512];
	char *out = malloc(SIP_OUT_MAX);
	int n = -1;

	int timed = code < 300 && !sip_str_eq(m->method, "INFO");

	snprintf(extra, sizeof(extra), "%s%s%s" CALL_ALLOW CALL_SUPPORTED,
		 code < 300 ? contact_line[c->peer.tp] : "", more ? more : "",
		 timed ? c->se_line : "");
	if (out != NULL)
		n = sip_build_response(out, SIP_OUT_MAX, m, code, reason,
				       c->to_tag, extra,
				       sdp ? "application/sdp" : NULL, sdp,
				       sdp_len);
	if (n < 0) {
		free(out);
		CALL_LOG(LOGL_ERR, c, "cannot build response %d", code);
		return;
	}
	if (code < 300) {
		call_target_refresh(c, m);
		if (sdp != NULL)
			call_keep_sdp(c, sdp, sdp_len);
	}
	sip_send(src, out, (size_t)n);
	if (rtx != NULL) {
		rtx_arm(rtx, out, (size_t)n, 64ull * cfg->t1_ms);
		return;
	}
	sip_txn_record(m, src, out, (size_t)n, loop_now_ms());
	free(out);
}

/* 500 with Retry-After between 0 and 10 s (RFC 3261 section 14.2). */
static void
call_retry_later(struct call *c, const struct sip_msg *m,
		 const struct sip_peer *src, const char *why)
{
	char ra[48];
	uint8_t r;

	random_bytes(&r, 1);
	snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", r % 11u);
	CALL_LOG(LOGL_INFO, c, "%.*s refused: %s", (int)m->method.n,
		 m->method.p, why);
	call_respond(c, m, src, 500, "Server Internal Error", ra, NULL, 0,
		     NULL);
}

/* An offer within the dialog, in a re-INVITE (rtx set) or an UPDATE:
 * answered 200 with the session timer t, or 488 with a Warning and the
 * call going on as before, its timer too (RFC 3261 section 14.2, RFC
 * 3311 section 5.2, RFC 4028 section 10: only a 2xx refreshes).
 */
static void
call_take_offer(struct call *c, const struct sip_msg *m,
		const struct sip_peer *src, struct call_rtx *rtx,
		const struct stimer *t)
{
	struct sdp_stream sts[SDP_MAX_STREAMS];
	struct sdp_refusal why = { 305, "no format fits" };
	static struct sdp_session s;	/* over 10 kB: off the stack */
	char sdp[2048], warn[SDP_WARN_MAX + 32];
	const char *reason;
	int n;

	/* RFC 3261 section 8.2.3: a body anncd cannot read, or an answer
	 * the caller would not take, as for the first INVITE. */
	n = sip_uas_check_body(m, &reason, warn, sizeof(warn));
	if (n != 0) {
		CALL_LOG(LOGL_INFO, c, "new offer refused: %d %s", n, reason);
		call_respond(c, m, src, n, reason, warn, NULL, 0, NULL);
		return;
	}
	n = call_reanswer(c, m, &s, sts, sdp, sizeof(sdp), &why);
	if (n < 0) {
		if (sdp_warning_header(warn, sizeof(warn), "anncd", &why) < 0)
			warn[0] = '\0';
		CALL_LOG(LOGL_INFO, c, "new offer refused: %s", why.text);
		call_respond(c, m, src, 488, "Not Acceptable Here", warn,
			     NULL, 0, NULL);
		return;
	}
	call_stimer_set(c, t);
	call_respond(c, m, src, 200, "OK", NULL, sdp, (size_t)n, rtx);
	call_apply_offer(c, &s, sts);
}

/* Whether a request within the call is in order (RFC 3261 section
 * 12.2.2): a CSeq under the last one gets 500.  Returns 1 when taken.
 */
static int
call_cseq_ok(struct call *c, const struct sip_msg *m,
	     const struct sip_peer *src)
{
	if (m->cseq <= c->dlg.remote_cseq) {
		call_respond(c, m, src, 500, "CSeq Out of Order", NULL, NULL,
			     0, NULL);
		return 0;
	}
	c->dlg.remote_cseq = m->cseq;
	return 1;
}

/* The session timer a re-INVITE or UPDATE asks for, applied by its 2xx
 * (RFC 4028 sections 9 and 10); an interval under our Min-SE gets 422.
 * Returns -1 when refused.
 */
static int
call_session_timer(struct call *c, const struct sip_msg *m,
		   const struct sip_peer *src, struct stimer *t)
{
	char minse[32];

	if (stimer_answer(m, cfg->min_se_s, t) != 0) {
		snprintf(minse, sizeof(minse), "Min-SE: %u\r\n", t->min_se_s);
		call_respond(c, m, src, 422, "Session Interval Too Small",
			     minse, NULL, 0, NULL);
		return -1;
	}
	return 0;
}

/* A re-INVITE without an offer (RFC 3261 section 14.2, RFC 3264 section
 * 8): ours goes in the 200, each stream with the one format it sends,
 * on the same port; the answer comes in the ACK.
 */
static void
call_reoffer(struct call *c, const struct sip_msg *m,
	     const struct sip_peer *src)
{
	char sdp[2048];
	int n = -1;

	free(c->reoffer);
	c->reoffer = calloc(1, sizeof(*c->reoffer));
	for (unsigned int k = 0; c->reoffer != NULL && k < c->n_str; k++) {
		struct sdp_stream *st = &c->str[k].st;

		if (st->media_index != (int)k) {
			n = -1;	/* a declined m= line: see ARCHITECTURE */
			break;
		}
		sdp_offer_add(c->reoffer, st->fmt.kind, st->port, &st->fmt, 1);
		c->reoffer->media[k].pt[0] = st->pt;
		n = 0;
	}
	if (c->reoffer != NULL && n == 0 && c->reoffer->n_media == c->n_str) {
		c->reoffer->addr = cfg->media_ip;
		c->reoffer->sess_id = c->handle;
		c->reoffer->sess_version = ++c->sess_version;
		n = sdp_build_offer(sdp, sizeof(sdp), c->reoffer);
	}
	if (n <= 0) {
		free(c->reoffer);
		c->reoffer = NULL;
		call_retry_later(c, m, src, "no offer to make");
		return;
	}
	call_respond(c, m, src, 200, "OK", NULL, sdp, (size_t)n, &c->reresp);
}

/* The answer to our re-offer, in the ACK: each stream sends again or is
 * held as it says.  One that does not fit leaves the call as it was.
 */
static void
call_take_reanswer(struct call *c, const struct sip_msg *m)
{
	struct sdp_stream st[SDP_MAX_STREAMS];
	struct sdp_refusal why = { 0, "" };
	static struct sdp_session s;	/* off the stack, as above */
	const char *perr = "no SDP";
	unsigned int sent;

	if (m->body.n == 0 ||
	    !sip_str_caseeq(m->content_type, "application/sdp") ||
	    sdp_parse(m->body.p, m->body.n, &s, &perr) < 0 ||
	    sdp_take_answer(c->reoffer, &s, st, &sent, &why) < 0) {
		CALL_LOG(LOGL_INFO, c, "answer in ACK ignored: %s",
			 why.text[0] ? why.text : perr);
	} else {
		for (unsigned int k = 0; k < c->reoffer->n_media; k++) {
			if (st[k].media_index < 0)
				st[k].dir = SDP_INACTIVE;
			call_stream_change(c, k, &s.media[k], &st[k]);
		}
	}
	free(c->reoffer);
	c->reoffer = NULL;
}

/* Whether an offer of ours awaits its answer: our late offer before the
 * ACK, or the re-INVITE of our session refresh (RFC 3261 section 14.1,
 * RFC 3311 section 5.2: a new offer then gets 491).
 */
static int
call_offer_pending(const struct call *c)
{
	return (c->state == CALL_ANSWERED && c->offer != NULL) ||
	       (c->ref.msg != NULL && c->ref_invite);
}

/* A re-INVITE (RFC 3261 section 14.2).  One at a time: another while the
 * 2xx of the last awaits its ACK gets 491; before the first INVITE's
 * ACK, or once the call ends, 500 with Retry-After.
 */
static void
on_reinvite(struct call *c, const struct sip_msg *m,
	    const struct sip_peer *src)
{
	struct stimer t;

	if (m->cseq == c->reinvite_cseq && c->reresp.msg != NULL) {
		sip_send(src, c->reresp.msg, c->reresp.len);
		return;
	}
	/* No dialog after a refusal or once a BYE went either way: 481, as
	 * for UPDATE, not a 500 inviting a retry. */
	if (c->state == CALL_REJECTED || c->state == CALL_BYE_SENT ||
	    c->state == CALL_CLOSING) {
		sip_respond(m, src, 481, "Call/Transaction Does Not Exist",
			    NULL);
		return;
	}
	if (!call_cseq_ok(c, m, src))
		return;
	if (c->reresp.msg != NULL || call_offer_pending(c)) {
		call_respond(c, m, src, 491, "Request Pending", NULL, NULL, 0,
			     NULL);
		return;
	}
	if (c->state != CALL_STREAMING) {
		call_retry_later(c, m, src, "call not established");
		return;
	}
	if (call_session_timer(c, m, src, &t) < 0)
		return;
	c->reinvite_cseq = m->cseq;
	if (m->body.n == 0) {
		call_stimer_set(c, &t);
		call_reoffer(c, m, src);
		return;
	}
	call_take_offer(c, m, src, &c->reresp, &t);
}

/* UPDATE (RFC 3311): an offer is taken as a re-INVITE's; without one it
 * only refreshes the session (RFC 4028 section 10).  INFO carries
 * nothing an announcement acts on, and is answered 200.
 */
static void
on_update_info(const struct sip_msg *m, const struct sip_peer *src)
{
	struct call *c = call_find(m);
	struct stimer t;

	if (c == NULL || !to_tag_is_ours(c, m) ||
	    c->state == CALL_CLOSING || c->state == CALL_BYE_SENT) {
		sip_respond(m, src, 481, "Call/Transaction Does Not Exist",
			    NULL);
		return;
	}
	if (!call_cseq_ok(c, m, src))
		return;
	if (sip_str_eq(m->method, "INFO") || m->body.n == 0) {
		if (sip_str_eq(m->method, "UPDATE")) {
			if (call_session_timer(c, m, src, &t) < 0)
				return;
			call_stimer_set(c, &t);
		}
		call_respond(c, m, src, 200, "OK", NULL, NULL, 0, NULL);
		return;
	}
	if (c->reoffer != NULL || call_offer_pending(c)) {
		call_respond(c, m, src, 491, "Request Pending", NULL, NULL, 0,
			     NULL);
		return;
	}
	if (c->state != CALL_STREAMING) {
		call_retry_later(c, m, src, "call not established");
		return;
	}
	if (call_session_timer(c, m, src, &t) == 0)
		call_take_offer(c, m, src, NULL, &t);
}

/* RFC 3261 section 8.2.1: 405 for a method anncd knows but does not
 * serve, 501 for one it does not know.  Returns 1 when refused.
 */
static int
method_refused(const struct sip_msg *m, const struct sip_peer *src)
{
	static const char *const served[] = {
		"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "INFO",
	};
	static const char *const not_allowed[] = {
		"REGISTER", "SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE",
		"REFER", "PRACK",
	};
	unsigned int i;

	for (i = 0; i < sizeof(served) / sizeof(*served); i++)
		if (sip_str_eq(m->method, served[i]))
			return 0;
	for (i = 0; i < sizeof(not_allowed) / sizeof(*not_allowed); i++)
		if (sip_str_eq(m->method, not_allowed[i])) {
			sip_respond(m, src, 405, "Method Not Allowed",
				    CALL_ALLOW);
			return 1;
		}
	sip_respond(m, src, 501, "Not Implemented", CALL_ALLOW);
	return 1;
}

static void
on_request(const struct sip_msg *m, const struct sip_peer *src,
	   const char *buf, size_t len)
{
	char extra[256];
	const char *reason;
	int code;

	if (sip_txn_absorb(m, src, loop_now_ms()) || method_refused(m, src))
		return;
	code = sip_uas_screen(m, &reason, extra, sizeof(extra));
	if (code != 0) {
		if (!sip_str_eq(m->method, "ACK"))
			sip_respond(m, src, code, reason, extra);
		return;
	}
	if (sip_str_eq(m->method, "INVITE"))
		on_invite(m, src, buf, len);
	else if (sip_str_eq(m->method, "ACK"))
		on_ack(m);
	else if (sip_str_eq(m->method, "BYE"))
		on_bye(m, src);
	else if (sip_str_eq(m->method, "CANCEL"))
		on_cancel(m, src);
	else if (sip_str_eq(m->method, "UPDATE") ||
		 sip_str_eq(m->method, "INFO"))
		on_update_info(m, src);
	else
		sip_respond(m, src, 200, "OK", CALL_ALLOW
			    "Accept: " SIP_UAS_ACCEPT "\r\n" CALL_SUPPORTED);
}

/* ---- SIP input ---- */

static void
sip_on_datagram(const char *buf, size_t len, const struct sip_peer *src)
{
	struct sip_msg m;
	const char *why = "malformed";
	char addr[INET_ADDRSTRLEN];

	if (sip_parse(buf, len, &m, &why) < 0) {
		/* Answer 400 when the request can be answered at all
		 * (RFC 3261 section 8.2.1 ff.), else drop it. */
		inet_ntop(AF_INET, &src->addr.sin_addr, addr, sizeof(addr));
		SIP_LOG(LOGL_INFO, "bad message from %s %s:%u: %s",
			sip_tp_name(src->tp), addr, ntohs(src->addr.sin_port),
			why);
		if (m.is_request && m.n_via > 0 && m.call_id.n > 0 &&
		    m.from.n > 0 && m.to.n > 0 && m.cseq_value.n > 0 &&
		    !sip_str_eq(m.method, "ACK"))
			sip_respond(&m, src, m.fail_code, why, NULL);
		return;
	}
	if (m.is_request)
		on_request(&m, src, buf, len);
	else
		on_response(&m);
}

/* Every datagram waiting is taken in one loop round (loop.h); one over
 * --sip-max-message-bytes comes truncated and is dropped. */
static void
sip_on_recv(struct loop_dgram_rx *rx, char *buf, long len,
	    const struct sockaddr_in *src)
{
	(void)rx;
	if (len > 0) {
		udp_peer.addr = *src;
		sip_on_datagram(buf, (size_t)len, &udp_peer);
	} else if (len == -EMSGSIZE) {
		SIP_LOG(LOGL_INFO, "datagram over %zu bytes dropped",
			cfg->sip_max_msg);
	} else if (len < 0) {
		SIP_LOG(LOGL_WARN, "recvmsg failed: %s", strerror((int)-len));
	}
}

/* ---- timers and dataplane events ---- */

/* The answers anncd retransmits as server: the 2xx or error to the
 * INVITE (timers G and H, RFC 3261 section 17.2.1; over any transport
 * for the 2xx, section 13.3.1.4) and the 2xx to a re-INVITE.  Returns 1
 * when the call ended.
 */
static int
call_server_timers(struct call *c, uint64_t now)
{
	int due = rtx_due(&c->resp, now);

	if (rtx_due(&c->reresp, now) > 0)
		sip_send(&c->peer, c->reresp.msg, c->reresp.len);
	else if (c->reresp.msg != NULL && now >= c->reresp.give_up_ms) {
		/* RFC 3261 section 13.3.1.4, for the re-INVITE's 2xx. */
		rtx_stop(&c->reresp);
		if (c->state == CALL_STREAMING) {
			call_end_now(c, "no ACK for re-INVITE");
			return 1;
		}
	}
	if (due > 0 && (c->peer.tp == SIP_TP_UDP || c->state == CALL_ANSWERED))
		sip_send(&c->peer, c->resp.msg, c->resp.len);
	else if (due < 0) {
		rtx_stop(&c->resp);
		/* RFC 3261 section 13.3.1.4: no ACK for the 2xx, so the
		 * dialog is ended with a BYE; timer H for an error. */
		if (c->state == CALL_ANSWERED)
			call_send_bye(c, "no ACK");
		else
			call_close(c);
		return 1;
	}
	return 0;
}

static void
call_timers(struct call *c, uint64_t now)
{
	int due;

	if (c->end_ms != 0 && now >= c->end_ms &&
	    c->state == CALL_STREAMING) {
		call_time_up(c);
		return;
	}
	/* RFC 4028 section 10: no refresh came in time. */
	if (c->se_bye_ms != 0 && now >= c->se_bye_ms &&
	    c->state == CALL_STREAMING) {
		c->se_bye_ms = 0;
		call_end_now(c, "session expired");
		return;
	}
	if (call_refresh_timers(c, now) || call_server_timers(c, now))
		return;
	/* Timer E resends our BYE over UDP only (section 17.1.2.2). */
	due = rtx_due(&c->bye, now);
	if (due > 0 && c->hop.tp == SIP_TP_UDP)
		call_hop_send(c, c->bye.msg, c->bye.len);
	else if (due < 0) {
		rtx_stop(&c->bye);
		call_close(c);
	}
}

/* A stream that ended before its last packet was cut by duration_ms. */
static const char *
call_end_reason(const struct call *c)
{
	for (unsigned int k = 0; k < c->n_str; k++) {
		if (c->str[k].sp.handle != 0 &&
		    c->str[k].sent < c->str[k].play_pkts &&
		    c->str[k].st.dir != SDP_INACTIVE &&
		    c->str[k].st.media_index >= 0)
			return c->play.duration_ms != 0 &&
			       c->play.duration_ms <= cfg->max_call_ms ?
			       "duration reached" : "max call length reached";
	}
	return "played";
}

/* A stream's end.  The call goes on while another stream plays, unless
 * this one failed or was stopped: then the others stop too.
 */
static void
on_dp_event(const struct dp_event *ev)
{
	struct call_stream *cs;
	struct call *c;

	if (ev->type == DP_EV_DECODED) {
		on_decoded(ev->job);
		return;
	}
	c = call_by_handle(ev->handle);
	if (c == NULL)
		return;
	cs = &c->str[ev->handle & CALL_STREAM_BIT ? 1 : 0];
	if (!cs->active)
		return;
	cs->active = 0;
	cs->sent = ev->packets;
	c->stream_active--;
	c->packets += ev->packets;
	c->bytes += ev->bytes;
	if (c->stream_active > 0) {
		if (ev->type != DP_EV_ENDED)
			call_stop_streams(c);
		return;
	}
	call_drop_entry(c);
	if (c->state == CALL_CLOSING)
		call_free(c);
	else if (c->state == CALL_BYE_SENT)
		return;		/* stopped after our BYE went out */
	else if (ev->type == DP_EV_ENDED)
		call_send_bye(c, call_end_reason(c));
	else if (ev->type == DP_EV_FAILED)
		call_send_bye(c, "caller unreachable (no ARP answer)");
	else
		call_send_bye(c, "stopped");
}

void
annc_tick(uint64_t now_ms)
{
	static uint64_t next_sweep_ms;
	struct dp_event ev[32];
	unsigned int i, n, open;

	imap_fetch_tick(now_ms);
	sip_txn_tick(now_ms);
	sip_tp_tick(now_ms);
	if (now_ms >= next_sweep_ms) {
		cache_tick(now_ms, time(NULL));
		next_sweep_ms = now_ms + CACHE_SWEEP_MS;
	}
	do {
		n = dp_poll_events(ev, 32);
		for (i = 0; i < n; i++)
			on_dp_event(&ev[i]);
	} while (n == 32);
	/* Slots are taken from the top of a stack, so the calls open sit
	 * mostly at low indexes: the scan stops at the last of them rather
	 * than visiting all --max-calls slots every tick. */
	open = cfg->max_calls - n_free;
	for (i = 0; i < cfg->max_calls && open > 0; i++)
		if (calls[i].state != CALL_FREE) {
			open--;
			call_timers(&calls[i], now_ms);
		}
	content_reap();
}

/* ---- set-up ---- */

static int
tables_init(void)
{
	unsigned int i, nb = 1, nports;

	while (nb < 2 * cfg->max_calls)
		nb <<= 1;
	nports = (cfg->rtp_port_max - cfg->rtp_port_min) / 2 + 1;
	calls = calloc(cfg->max_calls, sizeof(*calls));
	free_slots = calloc(cfg->max_calls, sizeof(*free_slots));
	buckets = calloc(nb, sizeof(*buckets));
	free_ports = calloc(nports, sizeof(*free_ports));
	if (!calls || !free_slots || !buckets || !free_ports)
		return -ENOMEM;
	bucket_mask = nb - 1;
	for (i = 0; i < cfg->max_calls; i++)
		free_slots[n_free++] = cfg->max_calls - 1 - i;
	for (i = 0; i < nports; i++)
		free_ports[n_free_ports++] =
			(uint16_t)(cfg->rtp_port_max & ~1u) - 2 * i;
	return 0;
}

/* Every caller of one URL may send its INVITE at once, and each is
 * retransmitted in step with the others by its timer A (RFC 3261 section
 * 17.1.1.2): the socket must hold a burst of --max-calls requests, where
 * the default buffer holds about a hundred and drops the same tail again
 * at each retransmission.  Past net.core.rmem_max only with CAP_NET_ADMIN;
 * without it the kernel caps the size, which is logged.
 */
static void
sip_socket_rcvbuf(int fd)
{
	int want, got = 0;
	socklen_t len = sizeof(got);

	want = (int)(cfg->max_calls < SIP_RCVBUF_CALLS ? cfg->max_calls
						       : SIP_RCVBUF_CALLS);
	want *= SIP_RCVBUF_PER_CALL;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want,
		       sizeof(want)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) < 0)
		LOG_AT(LOGL_WARN, "sip", "setsockopt(SO_RCVBUF, %d) failed: %s",
		       want, strerror(errno));
	/* The kernel reports twice what it grants as payload. */
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 &&
	    got / 2 < want)
		LOG_AT(LOGL_WARN, "sip", "receive buffer %d bytes, wanted %d: "
		       "a burst of INVITEs may be dropped", got / 2, want);
}

static int
sip_socket(void)
{
	char ip[INET_ADDRSTRLEN];
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *)&cfg->sip_addr,
			   sizeof(cfg->sip_addr)) < 0) {
		inet_ntop(AF_INET, &cfg->sip_addr.sin_addr, ip, sizeof(ip));
		LOG_AT(LOGL_ERR, "sip", "bind(%s:%u) failed: %s", ip,
		       ntohs(cfg->sip_addr.sin_port), strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	sip_socket_rcvbuf(fd);
	return fd;
}

/* Our host:port and Contact on transport tp, listening on a.  A
 * wildcard listener names itself by the media address.  Over TLS the
 * Contact is a sips URI (RFC 5630 section 3), over TCP it says so
 * (RFC 3261 section 19.1.1).  Without a listener (port 0) the host
 * stands alone: a request sent on a connection anncd opened has its
 * answers come back on it (section 18.2.2), not to a port. */
static void
local_names(enum sip_tp tp, const struct sockaddr_in *a)
{
	static const char *const form[3] = {
		"Contact: <sip:annc@%s>\r\n",
		"Contact: <sip:annc@%s;transport=tcp>\r\n",
		"Contact: <sips:annc@%s>\r\n",
	};
	char ip[INET_ADDRSTRLEN];
	struct in_addr host = a->sin_addr;

	if (host.s_addr == INADDR_ANY)
		host.s_addr = cfg->media_ip;
	inet_ntop(AF_INET, &host, ip, sizeof(ip));
	if (a->sin_port == 0)
		snprintf(local_hostport[tp], sizeof(local_hostport[tp]), "%s",
			 ip);
	else
		snprintf(local_hostport[tp], sizeof(local_hostport[tp]),
			 "%s:%u", ip, ntohs(a->sin_port));
	snprintf(contact_line[tp], sizeof(contact_line[tp]), form[tp],
		 local_hostport[tp]);
}

/* TCP and TLS listeners, when asked for. */
static int
sip_streams(void)
{
	struct sip_tp_config tc = {
		.tcp_addr = cfg->sip_tcp_addr,
		.tls_addr = cfg->sip_tls_addr,
		.tls_cert = cfg->sip_tls_cert,
		.tls_key = cfg->sip_tls_key,
		.max_conns = cfg->sip_max_conns,
		.max_msg = cfg->sip_max_msg,
		.idle_ms = cfg->sip_idle_ms,
		.connect_ms = cfg->sip_connect_ms,
		.max_queue = cfg->sip_max_queue,
		.max_per_ip = cfg->sip_max_per_ip,
		.tls_verify = cfg->sip_tls_verify,
	};

	local_names(SIP_TP_UDP, &cfg->sip_addr);
	local_names(SIP_TP_TCP, &cfg->sip_tcp_addr);
	local_names(SIP_TP_TLS, &cfg->sip_tls_addr);
	sip_tp_on_lost(on_request_lost);
	return sip_tp_init(&tc, sip_on_datagram);
}

static int
cache_setup(void)
{
	struct cache_config cc = {
		.max_bytes = cfg->cache_bytes,
		.max_entries = cfg->cache_entries,
		.neg_ttl_ms = cfg->cache_negative_ms,
		.abandon = fetch_abandon,
		.plan_free = media_plan_free,
	};
	int rc = cache_init(&cc);

	if (rc < 0)
		LOG_AT(LOGL_ERR, "cache", "cache_init(%u entries) failed: %s",
		       cfg->cache_entries, strerror(-rc));
	return rc;
}

int
annc_init(const struct anncd_config *config)
{
	int rc;
	struct sip_txn_config tc = {
		.max = config->sip_transactions,
		.t1_ms = config->t1_ms,
		.t2_ms = config->t2_ms,
		.t4_ms = config->t4_ms,
	};
	struct sip_limits sl = {
		.max_headers = config->sip_max_headers,
		.max_line = config->sip_max_line,
	};

	cfg = config;
	sip_set_limits(&sl);
	rc = tables_init();
	if (rc == 0)
		rc = sip_txn_init(&tc, sip_send);
	if (rc == 0)
		rc = cache_setup();
	if (rc < 0)
		return rc;
	sip_fd = sip_socket();
	if (sip_fd < 0)
		return sip_fd;
	rc = loop_dgram_rx_start(&sip_rx, sip_fd, cfg->sip_max_msg,
				 sip_on_recv);
	if (rc == 0)
		rc = sip_streams();
	/* Last: the tests take this line as "ready". */
	if (rc == 0)
		LOG_AT(LOGL_INFO, "sip", "sip listening on udp %s",
		       local_hostport[SIP_TP_UDP]);
	return rc;
}

/* Ends a call because the server is stopping: whoever is waiting on
 * anncd hears so (503 to a pending INVITE, BYE to an established call). */
static void
call_shutdown(struct call *c)
{
	switch (c->state) {
	case CALL_FETCHING:
		/* Retransmitted until the ACK like any final response (RFC
		 * 3261 section 17.2.1), for as long as the drain lasts. */
		call_reject(c, 503, "Server shutting down");
		break;
	case CALL_STREAMING:
		call_stop_streams(c);
		/* fall through */
	case CALL_ANSWERED:
		call_result(c, "%s", "server shutting down");
		rtx_stop(&c->resp);
		call_send_bye(c, "server shutting down");
		break;
	default:
		break;
	}
}

unsigned int
annc_shutdown(void)
{
	unsigned int i;

	for (i = 0; i < cfg->max_calls; i++)
		if (calls[i].state != CALL_FREE)
			call_shutdown(&calls[i]);
	return annc_active_calls();
}

void
annc_fini(void)
{
	unsigned int i;

	/* The dataplane has stopped and freed its packets: what is still
	 * open (a BYE unanswered) is released here, with its outcome line. */
	for (i = 0; i < cfg->max_calls; i++) {
		if (calls[i].state == CALL_FREE)
			continue;
		calls[i].stream_active = 0;
		call_free(&calls[i]);
	}
	sip_txn_fini();
	sip_tp_fini();
	cache_fini();
}

/* One line an operator (or a test) can compare before and after: how
 * often the cache spared the IMAP server a fetch.
 */
void
annc_log_counters(void)
{
	struct sip_txn_stats ts;
	struct cache_stats st;
	const uint64_t *ev = st.evictions;

	cache_get_stats(&st);
	LOG_AT(LOGL_INFO, "cache", "counters lookups=%" PRIu64 " hits=%" PRIu64
	       " misses=%" PRIu64 " joins=%" PRIu64 " negative_hits=%" PRIu64
	       " evicted_budget=%" PRIu64 " evicted_entries=%" PRIu64
	       " expired=%" PRIu64 " negative_expired=%" PRIu64
	       " not_remembered=%" PRIu64 " abandoned=%" PRIu64
	       " entries=%u bytes=%zu imap_connections=%" PRIu64,
	       st.lookups, st.hits, st.misses, st.joins, st.negative_hits,
	       ev[CACHE_EVICT_BUDGET], ev[CACHE_EVICT_ENTRIES],
	       ev[CACHE_EVICT_EXPIRED], ev[CACHE_EVICT_NEGATIVE],
	       ev[CACHE_EVICT_TRANSIENT], st.abandoned, st.entries, st.bytes,
	       imap_connections_opened());
	sip_txn_get_stats(&ts);
	LOG_AT(LOGL_INFO, "sip", "counters transactions=%u absorbed=%" PRIu64
	       " acked=%" PRIu64 " timed_out=%" PRIu64 " stateless=%" PRIu64,
	       ts.live, ts.absorbed, ts.acked, ts.timed_out, ts.full);
}
