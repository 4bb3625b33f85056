/* The streams of a call on the dataplane: started after the ACK, how
 * long they play (RFC 4240 section 3.3), stopped, and the events that
 * report their end.
 */

#include "control/call.h"

/* ---- the streams of a call ---- */

/* Stops every stream the dataplane holds; their events end the call. */
void
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
void
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
void
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
			       c->play.duration_ms <= annc_cfg->max_call_ms ?
			       "duration reached" : "max call length reached";
	}
	return "played";
}

/* A stream's end.  The call goes on while another stream plays, unless
 * this one failed or was stopped: then the others stop too.
 */
void
annc_on_dp_event(const struct dp_event *ev)
{
	struct call_stream *cs;
	struct call *c;

	if (ev->type == DP_EV_DECODED) {
		annc_on_decoded(ev->job);
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
