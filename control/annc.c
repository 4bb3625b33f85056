/* The announcement service: SIP requests in, calls out.  An INVITE to
 * sip:annc@host with a play URL (RFC 4240 section 3) becomes a call: 100
 * Trying at once, a URLFETCH of the pawn-ticket URL (RFC 5616 section 2.4),
 * the 200 OK with the SDP answer once the content is here, the stream
 * after the ACK, and our BYE when the dataplane reports the end.
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
#include "control/imap_client.h"
#include "control/imap_url.h"
#include "control/loop.h"
#include "control/sdp.h"
#include "control/sip_msg.h"
#include "control/sip_txn.h"
#include "control/sip_uas.h"
#include "control/sip_uri.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/media.h"
#include "dataplane/dp.h"
#include "dataplane/dp_decode.h"

#define SIP_MAX_DATAGRAM	65535	/* largest SIP message over UDP */
#define SIP_OUT_MAX		8192	/* largest message anncd builds */
#define SIP_RCVBUF_PER_CALL	4096	/* an INVITE as the socket counts it */
#define SIP_RCVBUF_CALLS	4096	/* burst the SIP socket is sized for */
#define CALL_DEFAULT_PTIME	20	/* ms, RFC 3551 section 4.5 */
#define CALL_MAX_PTIME		150	/* keeps a G.711 packet under 1,500 */
#define CACHE_SWEEP_MS		1000	/* ;EXPIRE= is in whole seconds */
#define CALL_ALLOW \
	"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n"

#define SIP_LOG(lvl, ...) LOG_AT(lvl, "sip", __VA_ARGS__)
#define CALL_LOG(lvl, c, fmt, ...) \
	LOG_AT(lvl, "call", "%s: " fmt, (c)->log_id, ##__VA_ARGS__)

enum call_state {
	CALL_FREE = 0,
	CALL_FETCHING,		/* 100 sent, waiting on the cache entry */
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
	uint64_t give_up_ms;
};

struct call {
	enum call_state state;
	uint32_t handle;		/* slot index | generation << 20 */
	struct call *hnext;		/* Call-ID hash chain */
	struct sockaddr_in peer;	/* where the INVITE came from */

	char *invite_buf;		/* the INVITE, kept for responses */
	struct sip_msg invite;
	char to_tag[20];
	char log_id[48];
	int last_code;			/* last response sent to the INVITE */
	struct call_rtx resp;		/* final response to the INVITE */
	struct call_rtx bye;		/* our BYE */
	char bye_branch[32];

	/* One use on the entry while waiting or playing: the entry holds
	 * the only owner's reference on the content, content borrows it.
	 */
	struct cache_entry *entry;
	struct cache_waiter waiter;
	struct content *content;
	enum media_type type;
	char ctype[64];
	int base64;
	int stream_active;		/* the dataplane holds the stream */
	uint16_t rtp_port;
	struct dp_stream_params sp;
	struct media_plan plan;		/* what sp plays, over content */
	uint64_t t_invite_ms;
	uint64_t t_answer_ms;
	uint32_t packets;
	uint64_t bytes;
	char result[96];
};

static const struct anncd_config *cfg;
static int sip_fd = -1;
static struct loop_op sip_recv_op;
static char sip_rbuf[SIP_MAX_DATAGRAM + 1];
static struct sockaddr_in sip_src;
static struct iovec sip_iov;
static struct msghdr sip_rmsg;
static char local_hostport[32];	/* our sent-by and Contact host:port */
static char contact_line[96];

static struct call *calls;		/* max_calls slots */
static uint32_t *free_slots;		/* stack of free slot indexes */
static unsigned int n_free;
static struct call **buckets;
static uint32_t bucket_mask;
static uint16_t *free_ports;		/* stack of free even RTP ports */
static unsigned int n_free_ports;

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

	if (slot >= cfg->max_calls || calls[slot].handle != handle ||
	    calls[slot].state == CALL_FREE)
		return NULL;
	return &calls[slot];
}

unsigned int
annc_active_calls(void)
{
	return cfg->max_calls - n_free;
}

static void
random_bytes(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n)
		LOG_AT(LOGL_ERR, "call", "getrandom(%zu) failed: %s", n,
		       strerror(errno));
}

static void
random_token(char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[16];
	size_t i;

	random_bytes(r, sizeof(r));
	for (i = 0; i + 1 < cap && i < 2 * sizeof(r); i++)
		out[i] = hex[(r[i / 2] >> (4 * (i & 1))) & 15];
	out[i] = '\0';
}

static struct call *
call_new(const char *buf, size_t len, const struct sockaddr_in *src)
{
	struct call *c;
	const char *why;
	uint32_t slot, gen, b;

	if (n_free == 0)
		return NULL;
	slot = free_slots[--n_free];
	c = &calls[slot];
	gen = ((c->handle >> 20) + 1) & 0xfff;
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
	c->state = CALL_FETCHING;
	c->t_invite_ms = loop_now_ms();
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

	inet_ntop(AF_INET, &c->peer.sin_addr, src, sizeof(src));
	CALL_LOG(LOGL_INFO, c, "from %s:%u type %s bytes=%" PRIu64
		 " packets=%" PRIu32 " result=%s", src,
		 ntohs(c->peer.sin_port), c->ctype[0] ? c->ctype : "-",
		 c->bytes, c->packets, c->result[0] ? c->result : "unknown");
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
	if (c->rtp_port != 0)
		free_ports[n_free_ports++] = c->rtp_port;
	call_unlink(c);
	free(c->invite_buf);
	free(c->resp.msg);
	free(c->bye.msg);
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
sip_send(const struct sockaddr_in *to, const char *msg, size_t len)
{
	if (loop_sendto(sip_fd, to, msg, len) < 0)
		SIP_LOG(LOGL_ERR, "cannot queue %zu bytes: out of memory", len);
}

/* Responds to a request outside any call (or before one exists). */
static void
sip_respond(const struct sip_msg *req, const struct sockaddr_in *to,
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

	free(r->msg);
	r->msg = msg;
	r->len = len;
	r->interval_ms = cfg->t1_ms;
	r->next_ms = now + cfg->t1_ms;
	r->give_up_ms = now + give_up_after;
}

static void
rtx_stop(struct call_rtx *r)
{
	free(r->msg);
	r->msg = NULL;
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

	snprintf(res, sizeof(res), "%d %s", code, reason);
	call_result(c, "%s", res);
	call_final(c, code, reason, NULL, NULL, 0);
}

/* Our BYE (RFC 3261 section 15.1.1): From and To swapped from the
 * INVITE, the route set taken from its Record-Route in order (section
 * 12.1.1), sent to the remote target. */
static int
bye_build(struct call *c, char *out, size_t cap)
{
	const struct sip_msg *iv = &c->invite;
	char route[2048] = "";
	size_t rl = 0;
	unsigned int i;
	int n;

	for (i = 0; i < iv->n_rr && rl < sizeof(route); i++)
		rl += (size_t)snprintf(route + rl, sizeof(route) - rl,
				       "Route: %.*s\r\n",
				       (int)iv->record_route[i].n,
				       iv->record_route[i].p);
	if (rl >= sizeof(route))
		return -1;
	random_token(c->bye_branch, 17);
	n = snprintf(out, cap,
		     "BYE %.*s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n"
		     "Max-Forwards: 70\r\n%s"
		     "From: %.*s;tag=%s\r\n"
		     "To: %.*s\r\n"
		     "Call-ID: %.*s\r\n"
		     "CSeq: 1 BYE\r\n"
		     "Content-Length: 0\r\n\r\n",
		     (int)iv->contact_uri.n, iv->contact_uri.p,
		     local_hostport, c->bye_branch, route,
		     (int)iv->to.n, iv->to.p, c->to_tag,
		     (int)iv->from.n, iv->from.p,
		     (int)iv->call_id.n, iv->call_id.p);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

static void
call_send_bye(struct call *c, const char *why)
{
	char *out = malloc(SIP_OUT_MAX);
	int n = out ? bye_build(c, out, SIP_OUT_MAX) : -1;

	call_result(c, "%s", why);
	if (n < 0) {
		free(out);
		CALL_LOG(LOGL_ERR, c, "cannot build BYE");
		call_close(c);
		return;
	}
	sip_send(&c->peer, out, (size_t)n);
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
	char play[SIP_MAX_DATAGRAM];
	struct imap_url url;
	enum media_type type;
	struct media_ctype mt;		/* type with its parameters */
	int base64;
	const struct config_imap_server *server;
	const struct config_cred *cred;
};

static int
check_content_type(struct invite_req *r, char *reason, size_t cap)
{
	struct sip_str cte = r->ap.cte;
	int n;

	if (r->ap.content_type.n == 0) {
		snprintf(reason, cap, "Missing content-type parameter");
		return 400;
	}
	n = sip_unescape(r->ap.content_type, r->ctype, sizeof(r->ctype));
	if (n < 0) {
		snprintf(reason, cap, "Bad content-type parameter");
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

/* Whether the offered stream can receive what anncd sends: a unicast
 * address (RFC 4566 section 5.7 allows multicast, which an announcement
 * to one caller has no use for) and a direction that lets anncd send
 * (RFC 3264 section 6.1: to a sendonly or inactive offer nothing may be
 * sent).  Returns 0 or -1 with the reason. */
static int
offer_media_usable(const struct sdp_media *md, char *reason, size_t cap)
{
	uint32_t a = ntohl(md->addr);

	if (a == 0 || a == INADDR_BROADCAST) {
		snprintf(reason, cap, "Offer has no unicast media address");
		return -1;
	}
	if ((a >> 28) >= 0xe) {
		snprintf(reason, cap, "Offer's media address is multicast");
		return -1;
	}
	if (md->dir == SDP_SENDONLY || md->dir == SDP_INACTIVE) {
		snprintf(reason, cap, "Offer does not accept media (%s)",
			 md->dir == SDP_SENDONLY ? "sendonly" : "inactive");
		return -1;
	}
	return 0;
}

/* The offered stream that can carry codec, checked for use; -1 with the
 * reason when there is none. */
static int
offer_pick(const struct sdp_session *s, enum media_codec codec,
	   uint8_t *pt, char *reason, size_t cap)
{
	int idx = sdp_pick(s, codec, pt);

	if (idx < 0) {
		snprintf(reason, cap, "Offer has no %s for this content",
			 media_codec_name(codec));
		return -1;
	}
	return offer_media_usable(&s->media[idx], reason, cap) < 0 ? -1 : idx;
}

/* An offer must be there (late offers are not taken yet) and hold a
 * codec that some supported content could be played as. */
static int
check_offer(const struct sip_msg *m, enum media_type type, char *reason,
	    size_t cap)
{
	struct sdp_session s;
	const char *why = "malformed";
	uint8_t pt;

	if (m->body.n == 0 || !sip_str_caseeq(m->content_type,
					      "application/sdp")) {
		snprintf(reason, cap, "SDP offer required");
		return 488;
	}
	if (sdp_parse(m->body.p, m->body.n, &s, &why) < 0) {
		snprintf(reason, cap, "Bad SDP: %s", why);
		return 400;
	}
	if ((type != MEDIA_TYPE_AUDIO_PCMA &&
	     offer_pick(&s, MEDIA_CODEC_PCMU, &pt, reason, cap) >= 0) ||
	    (type != MEDIA_TYPE_AUDIO_PCMU &&
	     offer_pick(&s, MEDIA_CODEC_PCMA, &pt, reason, cap) >= 0))
		return 0;
	if (sdp_pick(&s, MEDIA_CODEC_PCMU, &pt) < 0 &&
	    sdp_pick(&s, MEDIA_CODEC_PCMA, &pt) < 0)
		snprintf(reason, cap, "No offered codec fits the content");
	return 488;
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
	code = check_content_type(r, reason, cap);
	if (code == 0)
		code = check_play_url(r, reason, cap);
	if (code == 0)
		code = check_offer(m, r->type, reason, cap);
	return code;
}

/* ---- INVITE: fetch and answer ---- */

static uint16_t
port_take(void)
{
	return n_free_ports ? free_ports[--n_free_ports] : 0;
}

/* G.711 content cut into packets of ptime ms, the last one shorter. */
static void
stream_plan_uniform(struct media_plan *pl, struct content *content,
		    unsigned int ptime)
{
	const struct media_info *mi = &content->mi;
	uint32_t len = mi->bytes_per_ms * ptime;

	memset(pl, 0, sizeof(*pl));
	pl->content = content;
	pl->clock_rate = mi->clock_rate;
	pl->uni_off = mi->data_offset;
	pl->uni_total = mi->data_len;
	pl->uni_len = len;
	pl->uni_ts = mi->clock_rate / 1000 * ptime;
	pl->npkts = (uint32_t)((mi->data_len + len - 1) / len);
	/* The last packet's duration is its share of a full one's. */
	pl->span_ts = (uint32_t)(mi->data_len * pl->uni_ts / len);
}

/* The stream's RTP parameters: random SSRC, sequence number and timestamp
 * (RFC 3550 section 5.1), packets of ptime ms. */
static void
stream_plan(struct call *c, const struct sdp_media *m, uint8_t pt,
	    unsigned int ptime)
{
	struct dp_stream_params *sp = &c->sp;
	uint32_t r[3];

	random_bytes(r, sizeof(r));
	memset(sp, 0, sizeof(*sp));
	sp->handle = c->handle;
	sp->dst_ip = m->addr;
	sp->dst_port = m->port;
	sp->src_port = c->rtp_port;
	/* RFC 3605, else the port above RTP's (RFC 3550 section 11). */
	sp->dst_rtcp_port = m->rtcp_port ? m->rtcp_port :
					   (uint16_t)(m->port + 1);
	sp->pt = pt;
	sp->ssrc = r[0];
	sp->seq0 = (uint16_t)r[1];
	sp->ts0 = r[2];
	stream_plan_uniform(&c->plan, c->content, ptime);
	sp->plan = &c->plan;
	sp->repeat = 1;
}

static unsigned int
answer_ptime(const struct sdp_media *m)
{
	/* RFC 4566 section 6: ptime is the offerer's wish; honour it when
	 * a packet of that length fits, else use the RFC 3551 default. */
	if (m->ptime >= 10 && m->ptime <= CALL_MAX_PTIME)
		return m->ptime;
	return CALL_DEFAULT_PTIME;
}

static int
call_answer_sdp(struct call *c, char *sdp, size_t cap, char *reason,
		size_t rcap)
{
	struct sdp_session s;
	struct sdp_answer a;
	const char *why;
	int idx, n;

	memset(&a, 0, sizeof(a));
	if (sdp_parse(c->invite.body.p, c->invite.body.n, &s, &why) < 0)
		return -1;
	idx = offer_pick(&s, c->content->mi.codec, &a.pt, reason, rcap);
	if (idx < 0)
		return -1;
	a.offer = &s;
	a.media_index = idx;
	a.codec = c->content->mi.codec;
	a.ptime = answer_ptime(&s.media[idx]);
	a.addr = cfg->media_ip;
	a.port = c->rtp_port;
	a.sess_id = c->handle;
	a.sess_version = 1;
	/* RFC 3264 section 6.1: sendonly, or sendrecv where phones drop
	 * the receive side of a sendonly answer (--answer-direction). */
	a.dir = sdp_answer_dir(s.media[idx].dir, cfg->answer_dir);
	n = sdp_build_answer(sdp, cap, &a);
	if (n > 0)
		stream_plan(c, &s.media[idx], a.pt, a.ptime);
	return n;
}

static void
call_answer(struct call *c)
{
	char sdp[2048], reason[96], extra[160];
	int n;

	c->rtp_port = port_take();
	if (c->rtp_port == 0) {
		call_reject(c, 503, "No RTP port free");
		return;
	}
	reason[0] = '\0';
	n = call_answer_sdp(c, sdp, sizeof(sdp), reason, sizeof(reason));
	if (n < 0) {
		/* RFC 3261 section 21.4.26, with a Warning per 20.43. */
		call_result(c, "488 %s", reason);
		snprintf(extra, sizeof(extra),
			 "Warning: 305 anncd \"Incompatible media format\"\r\n");
		call_final(c, 488, reason[0] ? reason : "Not Acceptable Here",
			   extra, NULL, 0);
		return;
	}
	snprintf(extra, sizeof(extra), "%s" CALL_ALLOW, contact_line);
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
 * URL in flight, keyed by the URL exactly as received.
 */
static void
call_fetch(struct call *c, const struct invite_req *r)
{
	uint32_t form = req_form(&r->mt, r->base64);
	struct cache_entry *e;
	int rc;

	rc = cache_get(r->ap.play, r->ap.play_len,
		       r->url.has_expire ? r->url.expire : 0, loop_now_ms(),
		       time(NULL), &e);
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
			 const struct sockaddr_in *src)
{
	/* RFC 3261 section 17.2.1: resend the last response. */
	if (c->resp.msg != NULL)
		sip_send(src, c->resp.msg, c->resp.len);
	else if (c->state == CALL_FETCHING)
		sip_respond(m, src, 100, "Trying", NULL);
}

static void
on_invite(const struct sip_msg *m, const struct sockaddr_in *src,
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
		else
			sip_respond(m, src, 488, "Re-INVITE not supported",
				    NULL);
		return;
	}
	memset(&r, 0, offsetof(struct invite_req, play));
	code = invite_check(m, &r, reason, sizeof(reason));
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
		if (code == 503)
			snprintf(r.extra, sizeof(r.extra), "Retry-After: 5\r\n");
		sip_respond(m, src, code ? code : 500,
			    code ? reason : "Server Internal Error",
			    r.extra[0] ? r.extra : NULL);
		return;
	}
	memcpy(c->ctype, r.ctype, sizeof(c->ctype));
	c->type = r.type;
	c->base64 = r.base64;
	sip_respond(m, src, 100, "Trying", NULL);
	call_fetch(c, &r);
}

/* ---- requests within a call ---- */

static int
to_tag_is_ours(const struct call *c, const struct sip_msg *m)
{
	return sip_str_eq(m->to_tag, c->to_tag);
}

static void
call_start_stream(struct call *c)
{
	int rc = dp_stream_start(&c->sp);

	if (rc < 0) {
		CALL_LOG(LOGL_ERR, c, "dp_stream_start failed: %s",
			 strerror(-rc));
		call_send_bye(c, "dataplane busy");
		return;
	}
	c->stream_active = 1;
	c->state = CALL_STREAMING;
}

static void
on_ack(const struct sip_msg *m)
{
	struct call *c = call_find(m);

	if (c == NULL || !to_tag_is_ours(c, m))
		return;		/* RFC 3261 17.2.3: nothing to match, drop */
	if (c->state == CALL_ANSWERED) {
		rtx_stop(&c->resp);
		call_start_stream(c);
	} else if (c->state == CALL_REJECTED) {
		rtx_stop(&c->resp);
		call_close(c);
	}
}

static void
on_bye(const struct sip_msg *m, const struct sockaddr_in *src)
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
	call_result(c, "%s", "caller hung up");
	if (c->stream_active)
		dp_stream_stop(c->handle);
	call_close(c);
}

static void
on_cancel(const struct sip_msg *m, const struct sockaddr_in *src)
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

/* A response to our BYE ends the call. */
static void
on_response(const struct sip_msg *m)
{
	struct call *c = call_lookup(m->call_id, m->to_tag);

	if (c == NULL || c->state != CALL_BYE_SENT || m->status < 200 ||
	    !sip_str_eq(m->cseq_method, "BYE") ||
	    !sip_str_eq(m->from_tag, c->to_tag))
		return;
	rtx_stop(&c->bye);
	call_close(c);
}

/* RFC 3261 section 8.2.1: 405 for a method anncd knows but does not
 * serve, 501 for one it does not know.  Returns 1 when refused.
 */
static int
method_refused(const struct sip_msg *m, const struct sockaddr_in *src)
{
	static const char *const served[] = {
		"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS",
	};
	static const char *const not_allowed[] = {
		"REGISTER", "SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE",
		"REFER", "INFO", "UPDATE", "PRACK",
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
on_request(const struct sip_msg *m, const struct sockaddr_in *src,
	   const char *buf, size_t len)
{
	char extra[256];
	const char *reason;
	int code;

	if (sip_txn_absorb(m, src) || method_refused(m, src))
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
	else
		sip_respond(m, src, 200, "OK", CALL_ALLOW
			    "Accept: " SIP_UAS_ACCEPT "\r\n"
			    "Supported: " SIP_UAS_SUPPORTED "\r\n");
}

/* ---- SIP input ---- */

static void
sip_recv_arm(void)
{
	struct io_uring_sqe *sqe = loop_sqe(&sip_recv_op);

	sip_iov.iov_base = sip_rbuf;
	sip_iov.iov_len = SIP_MAX_DATAGRAM;
	memset(&sip_rmsg, 0, sizeof(sip_rmsg));
	sip_rmsg.msg_name = &sip_src;
	sip_rmsg.msg_namelen = sizeof(sip_src);
	sip_rmsg.msg_iov = &sip_iov;
	sip_rmsg.msg_iovlen = 1;
	io_uring_prep_recvmsg(sqe, sip_fd, &sip_rmsg, 0);
}

static void
sip_on_datagram(const char *buf, size_t len, const struct sockaddr_in *src)
{
	struct sip_msg m;
	const char *why = "malformed";
	char addr[INET_ADDRSTRLEN];

	if (sip_parse(buf, len, &m, &why) < 0) {
		/* Answer 400 when the request can be answered at all
		 * (RFC 3261 section 8.2.1 ff.), else drop it. */
		inet_ntop(AF_INET, &src->sin_addr, addr, sizeof(addr));
		SIP_LOG(LOGL_INFO, "bad message from %s:%u: %s", addr,
			ntohs(src->sin_port), why);
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

static void
sip_on_recv(struct loop_op *op, int res)
{
	(void)op;
	if (res > 0 && (sip_rmsg.msg_flags & MSG_TRUNC) == 0) {
		sip_rbuf[res] = '\0';
		sip_on_datagram(sip_rbuf, (size_t)res, &sip_src);
	} else if (res < 0) {
		SIP_LOG(LOGL_WARN, "recvmsg failed: %s", strerror(-res));
	} else if (res > 0) {
		SIP_LOG(LOGL_INFO, "datagram over %d bytes dropped",
			SIP_MAX_DATAGRAM);
	}
	sip_recv_arm();
}

/* ---- timers and dataplane events ---- */

/* Returns 1 when r is due for a retransmission, -1 when it has run out
 * of time, 0 otherwise; doubles the interval up to T2. */
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
	if (r->interval_ms > cfg->t2_ms)
		r->interval_ms = cfg->t2_ms;
	r->next_ms = now + r->interval_ms;
	return 1;
}

static void
call_timers(struct call *c, uint64_t now)
{
	int due = rtx_due(&c->resp, now);

	if (due > 0)
		sip_send(&c->peer, c->resp.msg, c->resp.len);
	else if (due < 0) {
		rtx_stop(&c->resp);
		/* RFC 3261 section 13.3.1.4: no ACK for the 2xx, so the
		 * dialog is ended with a BYE; timer H for an error. */
		if (c->state == CALL_ANSWERED)
			call_send_bye(c, "no ACK");
		else
			call_close(c);
		return;
	}
	due = rtx_due(&c->bye, now);
	if (due > 0)
		sip_send(&c->peer, c->bye.msg, c->bye.len);
	else if (due < 0) {
		rtx_stop(&c->bye);
		call_close(c);
	}
}

static void
on_dp_event(const struct dp_event *ev)
{
	struct call *c;

	if (ev->type == DP_EV_DECODED) {
		on_decoded(ev->job);
		return;
	}
	c = call_by_handle(ev->handle);
	if (c == NULL)
		return;
	c->stream_active = 0;
	c->packets = ev->packets;
	c->bytes = ev->bytes;
	call_drop_entry(c);
	if (c->state == CALL_CLOSING)
		call_free(c);
	else if (c->state == CALL_BYE_SENT)
		return;		/* stopped after our BYE went out */
	else if (ev->type == DP_EV_ENDED)
		call_send_bye(c, "played");
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
	unsigned int i, n;

	imap_fetch_tick(now_ms);
	sip_txn_tick(now_ms);
	if (now_ms >= next_sweep_ms) {
		cache_tick(now_ms, time(NULL));
		next_sweep_ms = now_ms + CACHE_SWEEP_MS;
	}
	do {
		n = dp_poll_events(ev, 32);
		for (i = 0; i < n; i++)
			on_dp_event(&ev[i]);
	} while (n == 32);
	for (i = 0; i < cfg->max_calls; i++)
		if (calls[i].state != CALL_FREE)
			call_timers(&calls[i], now_ms);
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
	struct in_addr host;
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
	/* A wildcard listener names itself by the media address. */
	host = cfg->sip_addr.sin_addr;
	if (host.s_addr == INADDR_ANY)
		host.s_addr = cfg->media_ip;
	inet_ntop(AF_INET, &host, ip, sizeof(ip));
	snprintf(local_hostport, sizeof(local_hostport), "%s:%u", ip,
		 ntohs(cfg->sip_addr.sin_port));
	snprintf(contact_line, sizeof(contact_line),
		 "Contact: <sip:annc@%s>\r\n", local_hostport);
	return fd;
}

static int
cache_setup(void)
{
	struct cache_config cc = {
		.max_bytes = cfg->cache_bytes,
		.max_entries = cfg->cache_entries,
		.neg_ttl_ms = cfg->cache_negative_ms,
		.abandon = fetch_abandon,
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
	};

	cfg = config;
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
	sip_recv_op.cb = sip_on_recv;
	sip_recv_arm();
	LOG_AT(LOGL_INFO, "sip", "sip listening on udp %s", local_hostport);
	return 0;
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
		dp_stream_stop(c->handle);
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
