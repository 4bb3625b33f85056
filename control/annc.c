/* The announcement service: SIP requests in, calls out.  An INVITE to
 * sip:annc@host with a play URL (RFC 4240 section 3) becomes a call: a
 * URLFETCH of the pawn-ticket URL (RFC 5616 section 2.4) and 100 Trying
 * unless the content is cached, the 200 OK with the SDP answer once the
 * content is here, the stream after the ACK, and our BYE when the
 * dataplane reports the end.  Our requests in the dialog (BYE, session
 * refreshes) are built and routed by control/dialog.c.  This file holds
 * the call table, SIP output and input, the request dispatch, timers and
 * start-up; the INVITE's checks, negotiation, fetch, our own in-dialog
 * requests, the caller's re-offers and the streams on the dataplane are
 * in annc_*.c, sharing call.h.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "control/annc.h"
#include "control/call.h"

#define SIP_RCVBUF_PER_CALL	4096	/* an INVITE as the socket counts it */
#define SIP_RCVBUF_CALLS	4096	/* burst the SIP socket is sized for */
#define CACHE_SWEEP_MS		1000	/* ;EXPIRE= is in whole seconds */
#define SIP_LOG(lvl, ...) LOG_AT(lvl, "sip", __VA_ARGS__)

const struct anncd_config *annc_cfg;
static int sip_fd = -1;
static struct loop_dgram_rx sip_rx;
static struct sip_peer udp_peer;
/* Our sent-by and Contact host:port, and the Contact of a 200, per
 * transport (enum sip_tp): the caller's next requests come the same way
 * (RFC 3261 section 8.1.1.8, RFC 5630 section 3 for sips). */
char annc_local_hostport[3][32];
char annc_contact_line[3][112];

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

struct call *
call_find(const struct sip_msg *m)
{
	return call_lookup(m->call_id, m->from_tag);
}

struct call *
call_by_handle(uint32_t handle)
{
	uint32_t slot = handle & 0xfffff;

	if (slot >= annc_cfg->max_calls ||
	    calls[slot].handle != (handle & ~CALL_STREAM_BIT) ||
	    calls[slot].state == CALL_FREE)
		return NULL;
	return &calls[slot];
}

unsigned int
annc_active_calls(void)
{
	return annc_cfg->max_calls - n_free;
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
	rand_token(c->to_tag, 17);
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
void
call_drop_entry(struct call *c)
{
	if (c->entry == NULL)
		return;
	cache_unwait(&c->waiter);
	cache_put(c->entry);
	c->entry = NULL;
	c->content = NULL;
}

void
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
void
call_close(struct call *c)
{
	c->state = CALL_CLOSING;
	if (!c->stream_active)
		call_free(c);
}

void
call_result(struct call *c, const char *fmt, const char *detail)
{
	if (c->result[0] == '\0')
		snprintf(c->result, sizeof(c->result), fmt, detail);
}

uint16_t
call_port_take(void)
{
	return n_free_ports ? free_ports[--n_free_ports] : 0;
}

/* ---- SIP output ---- */

void
annc_sip_send(const struct sip_peer *to, const char *msg, size_t len)
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
void
annc_sip_respond(const struct sip_msg *req, const struct sip_peer *to,
		 int code, const char *reason, const char *extra)
{
	char out[SIP_OUT_MAX], tag[17];
	int n;

	rand_token(tag, sizeof(tag));
	n = sip_build_response(out, sizeof(out), req, code, reason,
			       code > 100 ? tag : NULL, extra, NULL, NULL, 0);
	if (n < 0) {
		SIP_LOG(LOGL_WARN, "response %d does not fit %zu bytes", code,
			sizeof(out));
		return;
	}
	annc_sip_send(to, out, (size_t)n);
	if (code >= 200)
		sip_txn_record(req, to, out, (size_t)n, loop_now_ms());
}

void
call_rtx_arm(struct call_rtx *r, char *msg, size_t len, uint64_t give_up_after)
{
	uint64_t now = loop_now_ms();
	/* Kept until the ACK: as long as the message, not SIP_OUT_MAX. */
	char *fit = realloc(msg, len);

	free(r->msg);
	r->msg = fit != NULL ? fit : msg;
	r->len = len;
	r->interval_ms = annc_cfg->t1_ms;
	r->max_interval_ms = annc_cfg->t2_ms;
	r->next_ms = now + annc_cfg->t1_ms;
	r->give_up_ms = now + give_up_after;
}

void
call_rtx_stop(struct call_rtx *r)
{
	free(r->msg);
	r->msg = NULL;
}

/* Returns 1 when r is due for a retransmission, -1 when it has run out
 * of time, 0 otherwise; doubles the interval up to its cap (T2, or none
 * for timer A, RFC 3261 section 17.1.1.2). */
int
call_rtx_due(struct call_rtx *r, uint64_t now)
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
void
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
void
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
	annc_sip_send(&c->peer, out, (size_t)n);
	call_rtx_arm(&c->resp, out, (size_t)n, 64ull * annc_cfg->t1_ms);
	c->state = code < 300 ? CALL_ANSWERED : CALL_REJECTED;
	if (code >= 300) {
		call_result(c, "%s", reason);
		/* Last: reason may be the entry's own. */
		call_drop_entry(c);
	}
}

void
call_reject(struct call *c, int code, const char *reason)
{
	char res[96];

	/* The result is a log field: a long reason is cut to fit it. */
	snprintf(res, sizeof(res), "%d %.*s", code, (int)sizeof(res) - 12,
		 reason);
	call_result(c, "%s", res);
	call_final(c, code, reason, NULL, NULL, 0);
}


static void
on_invite_retransmission(struct call *c, const struct sip_msg *m,
			 const struct sip_peer *src)
{
	/* RFC 3261 section 17.2.1: resend the last response. */
	if (c->resp.msg != NULL)
		annc_sip_send(src, c->resp.msg, c->resp.len);
	else if (c->state == CALL_FETCHING)
		annc_sip_respond(m, src, 100, "Trying", NULL);
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
	annc_sip_respond(m, src, code ? code : 500,
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
			annc_sip_respond(m, src, 482, "Loop Detected", NULL);
		else if (m->to_tag.n == 0 && m->cseq == c->invite.cseq)
			on_invite_retransmission(c, m, src);
		else if (call_to_tag_is_ours(c, m))
			annc_on_reinvite(c, m, src);
		else
			annc_sip_respond(m, src, 481,
					 "Call/Transaction Does Not Exist", NULL);
		return;
	}
	memset(&r, 0, offsetof(struct invite_req, play));
	code = annc_invite_check(m, &r, reason, sizeof(reason));
	/* RFC 4028 section 9: 422 for an interval under our Min-SE. */
	if (code == 0 && stimer_answer(m, annc_cfg->min_se_s, &r.stimer) != 0) {
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
		annc_sip_respond(m, src, 100, "Trying", NULL);
}

/* ---- requests within a call ---- */

int
call_to_tag_is_ours(const struct call *c, const struct sip_msg *m)
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
		return call_to_tag_is_ours(c, m);
	return str_same(m->branch, c->invite.branch) &&
	       str_same(m->via_host, c->invite.via_host) &&
	       m->via_port == c->invite.via_port &&
	       m->cseq == c->invite.cseq;
}

/* ---- session timer (RFC 4028) ---- */

/* The session timer as last agreed, from now: the caller refreshes and
 * anncd ends the session it leaves unrefreshed, or anncd refreshes at
 * half the interval (RFC 4028 section 10).
 */
void
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
void
call_end_now(struct call *c, const char *why)
{
	call_result(c, "%s", why);
	if (c->stream_active)
		call_stop_streams(c);
	else
		call_send_bye(c, why);
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
		call_rtx_stop(&c->resp);
		call_close(c);
		return;
	}
	if (!call_to_tag_is_ours(c, m))
		return;
	if (c->state == CALL_ANSWERED) {
		call_rtx_stop(&c->resp);
		if (c->offer == NULL || call_take_answer(c, m) == 0)
			call_begin(c);
	} else if (c->state == CALL_REJECTED) {
		call_rtx_stop(&c->resp);
		call_close(c);
	} else if (c->reresp.msg != NULL && m->cseq == c->reinvite_cseq) {
		call_rtx_stop(&c->reresp);
		if (c->reoffer != NULL)
			call_take_reanswer(c, m);
	}
}

static void
on_bye(const struct sip_msg *m, const struct sip_peer *src)
{
	struct call *c = call_find(m);

	if (c == NULL || !call_to_tag_is_ours(c, m) ||
	    c->state == CALL_CLOSING) {
		annc_sip_respond(m, src, 481, "Call/Transaction Does Not Exist",
				 NULL);
		return;
	}
	annc_sip_respond(m, src, 200, "OK", NULL);
	call_rtx_stop(&c->resp);
	call_rtx_stop(&c->bye);
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
		annc_sip_respond(m, src, 481, "Call/Transaction Does Not Exist",
				 NULL);
		return;
	}
	/* RFC 3261 section 9.2: 200 to the CANCEL; a pending INVITE also
	 * gets its 487. */
	annc_sip_respond(m, src, 200, "OK", NULL);
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
		annc_on_refresh_response(c, m);
	else if (c->state == CALL_BYE_SENT && m->status >= 200 &&
		 sip_str_eq(m->cseq_method, "BYE") &&
		 branch_is(m, c->bye_branch)) {
		call_rtx_stop(&c->bye);
		call_close(c);
	}
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
			annc_sip_respond(m, src, 405, "Method Not Allowed",
					 CALL_ALLOW);
			return 1;
		}
	annc_sip_respond(m, src, 501, "Not Implemented", CALL_ALLOW);
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
			annc_sip_respond(m, src, code, reason, extra);
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
		annc_on_update_info(m, src);
	else
		annc_sip_respond(m, src, 200, "OK", CALL_ALLOW
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
			annc_sip_respond(&m, src, m.fail_code, why, NULL);
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
			annc_cfg->sip_max_msg);
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
	int due = call_rtx_due(&c->resp, now);

	if (call_rtx_due(&c->reresp, now) > 0)
		annc_sip_send(&c->peer, c->reresp.msg, c->reresp.len);
	else if (c->reresp.msg != NULL && now >= c->reresp.give_up_ms) {
		/* RFC 3261 section 13.3.1.4, for the re-INVITE's 2xx. */
		call_rtx_stop(&c->reresp);
		if (c->state == CALL_STREAMING) {
			call_end_now(c, "no ACK for re-INVITE");
			return 1;
		}
	}
	if (due > 0 && (c->peer.tp == SIP_TP_UDP || c->state == CALL_ANSWERED))
		annc_sip_send(&c->peer, c->resp.msg, c->resp.len);
	else if (due < 0) {
		call_rtx_stop(&c->resp);
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
	due = call_rtx_due(&c->bye, now);
	if (due > 0 && c->hop.tp == SIP_TP_UDP)
		call_hop_send(c, c->bye.msg, c->bye.len);
	else if (due < 0) {
		call_rtx_stop(&c->bye);
		call_close(c);
	}
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
			annc_on_dp_event(&ev[i]);
	} while (n == 32);
	/* Slots are taken from the top of a stack, so the calls open sit
	 * mostly at low indexes: the scan stops at the last of them rather
	 * than visiting all --max-calls slots every tick. */
	open = annc_cfg->max_calls - n_free;
	for (i = 0; i < annc_cfg->max_calls && open > 0; i++)
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

	while (nb < 2 * annc_cfg->max_calls)
		nb <<= 1;
	nports = (annc_cfg->rtp_port_max - annc_cfg->rtp_port_min) / 2 + 1;
	calls = calloc(annc_cfg->max_calls, sizeof(*calls));
	free_slots = calloc(annc_cfg->max_calls, sizeof(*free_slots));
	buckets = calloc(nb, sizeof(*buckets));
	free_ports = calloc(nports, sizeof(*free_ports));
	if (!calls || !free_slots || !buckets || !free_ports)
		return -ENOMEM;
	bucket_mask = nb - 1;
	for (i = 0; i < annc_cfg->max_calls; i++)
		free_slots[n_free++] = annc_cfg->max_calls - 1 - i;
	for (i = 0; i < nports; i++)
		free_ports[n_free_ports++] =
			(uint16_t)(annc_cfg->rtp_port_max & ~1u) - 2 * i;
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

	want = (int)(annc_cfg->max_calls < SIP_RCVBUF_CALLS ? annc_cfg->max_calls
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
	if (fd < 0 || bind(fd, (const struct sockaddr *)&annc_cfg->sip_addr,
			   sizeof(annc_cfg->sip_addr)) < 0) {
		inet_ntop(AF_INET, &annc_cfg->sip_addr.sin_addr, ip, sizeof(ip));
		LOG_AT(LOGL_ERR, "sip", "bind(%s:%u) failed: %s", ip,
		       ntohs(annc_cfg->sip_addr.sin_port), strerror(errno));
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
		host.s_addr = annc_cfg->media_ip;
	inet_ntop(AF_INET, &host, ip, sizeof(ip));
	if (a->sin_port == 0)
		snprintf(annc_local_hostport[tp], sizeof(annc_local_hostport[tp]), "%s",
			 ip);
	else
		snprintf(annc_local_hostport[tp], sizeof(annc_local_hostport[tp]),
			 "%s:%u", ip, ntohs(a->sin_port));
	snprintf(annc_contact_line[tp], sizeof(annc_contact_line[tp]), form[tp],
		 annc_local_hostport[tp]);
}

/* TCP and TLS listeners, when asked for. */
static int
sip_streams(void)
{
	struct sip_tp_config tc = {
		.tcp_addr = annc_cfg->sip_tcp_addr,
		.tls_addr = annc_cfg->sip_tls_addr,
		.tls_cert = annc_cfg->sip_tls_cert,
		.tls_key = annc_cfg->sip_tls_key,
		.max_conns = annc_cfg->sip_max_conns,
		.max_msg = annc_cfg->sip_max_msg,
		.idle_ms = annc_cfg->sip_idle_ms,
		.connect_ms = annc_cfg->sip_connect_ms,
		.max_queue = annc_cfg->sip_max_queue,
		.max_per_ip = annc_cfg->sip_max_per_ip,
		.tls_verify = annc_cfg->sip_tls_verify,
	};

	local_names(SIP_TP_UDP, &annc_cfg->sip_addr);
	local_names(SIP_TP_TCP, &annc_cfg->sip_tcp_addr);
	local_names(SIP_TP_TLS, &annc_cfg->sip_tls_addr);
	sip_tp_on_lost(annc_on_request_lost);
	return sip_tp_init(&tc, sip_on_datagram);
}

static int
cache_setup(void)
{
	struct cache_config cc = {
		.max_bytes = annc_cfg->cache_bytes,
		.max_entries = annc_cfg->cache_entries,
		.neg_ttl_ms = annc_cfg->cache_negative_ms,
		.abandon = annc_fetch_abandon,
		.plan_free = media_plan_free,
	};
	int rc = cache_init(&cc);

	if (rc < 0)
		LOG_AT(LOGL_ERR, "cache", "cache_init(%u entries) failed: %s",
		       annc_cfg->cache_entries, strerror(-rc));
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

	annc_cfg = config;
	sip_set_limits(&sl);
	rc = tables_init();
	if (rc == 0)
		rc = sip_txn_init(&tc, annc_sip_send);
	if (rc == 0)
		rc = cache_setup();
	if (rc < 0)
		return rc;
	sip_fd = sip_socket();
	if (sip_fd < 0)
		return sip_fd;
	rc = loop_dgram_rx_start(&sip_rx, sip_fd, annc_cfg->sip_max_msg,
				 sip_on_recv);
	if (rc == 0)
		rc = sip_streams();
	/* Last: the tests take this line as "ready". */
	if (rc == 0)
		LOG_AT(LOGL_INFO, "sip", "sip listening on udp %s",
		       annc_local_hostport[SIP_TP_UDP]);
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
		call_rtx_stop(&c->resp);
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

	for (i = 0; i < annc_cfg->max_calls; i++)
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
	for (i = 0; i < annc_cfg->max_calls; i++) {
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
