/* Offers within the dialog: a re-INVITE or an UPDATE from the caller
 * (RFC 3264 section 8, RFC 3311), its answer, the target refresh and
 * the session timer it carries (RFC 4028).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/call.h"

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
	if (md->addr != 0 && annc_offer_line_fault(md) == 301) {
		why->warn_code = 301;
		snprintf(why->text, sizeof(why->text), "%s",
			 annc_offer_fault_text[1]);
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
	d = sdp_answer_dir(md->dir, annc_cfg->answer_dir);
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
	a.addr = annc_cfg->media_ip;
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
		 code < 300 ? annc_contact_line[c->peer.tp] : "", more ? more : "",
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
	annc_sip_send(src, out, (size_t)n);
	if (rtx != NULL) {
		call_rtx_arm(rtx, out, (size_t)n, 64ull * annc_cfg->t1_ms);
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

	rand_bytes(&r, 1);
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

	if (stimer_answer(m, annc_cfg->min_se_s, t) != 0) {
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
		c->reoffer->addr = annc_cfg->media_ip;
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
void
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
void
annc_on_reinvite(struct call *c, const struct sip_msg *m,
		 const struct sip_peer *src)
{
	struct stimer t;

	if (m->cseq == c->reinvite_cseq && c->reresp.msg != NULL) {
		annc_sip_send(src, c->reresp.msg, c->reresp.len);
		return;
	}
	/* No dialog after a refusal or once a BYE went either way: 481, as
	 * for UPDATE, not a 500 inviting a retry. */
	if (c->state == CALL_REJECTED || c->state == CALL_BYE_SENT ||
	    c->state == CALL_CLOSING) {
		annc_sip_respond(m, src, 481, "Call/Transaction Does Not Exist",
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
void
annc_on_update_info(const struct sip_msg *m, const struct sip_peer *src)
{
	struct call *c = call_find(m);
	struct stimer t;

	if (c == NULL || !call_to_tag_is_ours(c, m) ||
	    c->state == CALL_CLOSING || c->state == CALL_BYE_SENT) {
		annc_sip_respond(m, src, 481, "Call/Transaction Does Not Exist",
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
