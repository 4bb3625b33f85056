/* Negotiation and plans: the formats a call's content can be sent as,
 * the packet plan of each stream, and the SDP answer (RFC 3264) or our
 * late offer in the 200 OK.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/call.h"

/* ---- INVITE: fetch and answer ---- */

/* The stream's RTP parameters: random SSRC, sequence number and timestamp
 * (RFC 3550 section 5.1), the packets of plan pl. */
static void
stream_plan(struct call *c, unsigned int k, const struct sdp_media *m,
	    uint8_t pt, const struct media_plan *pl)
{
	struct dp_stream_params *sp = &c->str[k].sp;
	uint32_t r[3];

	rand_bytes(r, sizeof(r));
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
uint32_t
call_cap_ms(const struct call *c)
{
	uint32_t cap = annc_cfg->max_call_ms;

	if (c->play.duration_ms != 0 && c->play.duration_ms < cap)
		cap = c->play.duration_ms;
	return cap;
}

/* Stream k's parameters, once its format and m= line are agreed on: the
 * plan, and how often and how long the dataplane plays it.
 */
int
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
		if (sdp_choose(s, kinds[k], sub, m, annc_cfg->answer_dir,
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
		c->str[k].st.port = call_port_take();
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
	a.addr = annc_cfg->media_ip;
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
		c->str[c->n_str].st.port = call_port_take();
		if (c->str[c->n_str++].st.port == 0)
			return -2;
		sdp_offer_add(c->offer, kind, c->str[c->n_str - 1].st.port, sub,
			      m);
	}
	c->offer->addr = annc_cfg->media_ip;
	c->offer->sess_id = c->handle;
	c->offer->sess_version = 1;
	return sdp_build_offer(sdp, cap, c->offer);
}

void
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
		 "%s%s" CALL_ALLOW CALL_SUPPORTED, annc_contact_line[c->peer.tp],
		 c->se_line);
	c->t_answer_ms = loop_now_ms();
	call_final(c, 200, "OK", extra, sdp, (size_t)n);
	CALL_LOG(LOGL_DEBUG, c, "answered after %" PRIu64 " ms",
		 c->t_answer_ms - c->t_invite_ms);
}

