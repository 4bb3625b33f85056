/* anncd's own requests in a dialog: where they go (the dialog's remote
 * target or the caller's connection), our BYE, and anncd as session
 * refresher (RFC 4028 section 10) with the client transaction of its
 * UPDATE or re-INVITE.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/call.h"

/* ---- the dialog: where our requests go ---- */

static int
same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_port != 0 && a->sin_port == b->sin_port &&
	       a->sin_addr.s_addr == b->sin_addr.s_addr;
}

static int
hop_is_ours(const struct sockaddr_in *a)
{
	return same_addr(&annc_cfg->sip_addr, a) ||
	       same_addr(&annc_cfg->sip_tcp_addr, a) ||
	       same_addr(&annc_cfg->sip_tls_addr, a);
}

/* The next hop of our requests (RFC 3261 section 12.2.1.1 and RFC 3263
 * section 4 without DNS).  A caller over TCP or TLS is reached over its
 * own connection whenever the hop is its host: the port in its Contact
 * is seldom one it listens on behind a NAT or a firewall, and the
 * connection it opened is open.  A host name would need a resolver that
 * blocks the loop, and the SIP sockets are IPv4 only: such a hop falls
 * back to where the INVITE came from, logged once per remote target
 * with the host named.  So does a hop at one of anncd's own SIP
 * addresses: its requests would come back to it, not to the caller.
 */
void
call_hop_set(struct call *c)
{
	struct dialog_route r;
	const char *why = "";
	int rc;

	memset(&c->hop_uri, 0, sizeof(c->hop_uri));
	dialog_route(&c->dlg, &r);
	rc = dialog_hop_addr(r.hop, &c->hop, &why);
	if (rc == 0 && hop_is_ours(&c->hop.addr)) {
		rc = -EADDRINUSE;
		why = "anncd's own address";
	}
	if (rc < 0) {
		CALL_LOG(LOGL_INFO, c, "next hop %.*s: %s, requests go to "
			 "the INVITE's source", (int)r.hop.n, r.hop.p, why);
		c->hop = c->peer;
		return;
	}
	if (c->peer.tp != SIP_TP_UDP &&
	    c->hop.addr.sin_addr.s_addr == c->peer.addr.sin_addr.s_addr) {
		c->hop_uri = c->hop;
		c->hop = c->peer;
	}
}

/* The dialog of section 12.1.1 as our 2xx establishes it.  A Contact
 * that is no SIP URI anncd can keep (a tel: URI, one over
 * DIALOG_MAX_URI) leaves the INVITE's source as remote target.
 */
void
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
		 annc_local_hostport[c->hop.tp]);
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

static int
hop_send_once(struct call *c, const char *msg, size_t len)
{
	if (c->hop.tp == SIP_TP_UDP) {
		annc_sip_send(&c->hop, msg, len);
		return 0;
	}
	return sip_tp_send_tracked(&c->hop, msg, len, CALL_COOKIE(c));
}

/* Sends one of our requests to the dialog's next hop.  A stream hop
 * that is not the caller's connection goes with none (conn 0), for the
 * transport to open one (RFC 3261 section 18.1.1); so does one whose
 * connection the caller has closed, to the hop's own address.  A
 * message the transport drops unsent later comes back to
 * annc_on_request_lost(); one it refuses at once gives -errno here.
 */
int
call_hop_send(struct call *c, const char *msg, size_t len)
{
	char ip[INET_ADDRSTRLEN];
	int rc = hop_send_once(c, msg, len);

	if (rc == -ENOTCONN && c->hop_uri.addr.sin_family != 0) {
		CALL_LOG(LOGL_INFO, c, "the caller's connection has gone: "
			 "requests go to the next hop's own address");
		c->hop = c->hop_uri;
		memset(&c->hop_uri, 0, sizeof(c->hop_uri));
		rc = hop_send_once(c, msg, len);
	}
	if (rc < 0) {
		inet_ntop(AF_INET, &c->hop.addr.sin_addr, ip, sizeof(ip));
		CALL_LOG(LOGL_ERR, c, "sip_tp_send(%s %s:%u) failed: %s",
			 sip_tp_name(c->hop.tp), ip,
			 ntohs(c->hop.addr.sin_port), strerror(-rc));
	}
	return rc;
}

void
call_refresh_stop(struct call *c)
{
	call_rtx_stop(&c->ref);
	c->ref_due_ms = 0;
}

/* Our BYE (RFC 3261 section 15.1.1) with the dialog's next CSeq. */
void
call_send_bye(struct call *c, const char *why)
{
	struct dialog_req rq = { .method = "BYE", .branch = c->bye_branch };
	char *out;
	int n;

	call_result(c, "%s", why);
	call_refresh_stop(c);
	rand_token(c->bye_branch, 17);
	rq.cseq = ++c->dlg.local_cseq;
	n = call_request(c, &rq, &out);
	if (n < 0) {
		call_close(c);
		return;
	}
	if (call_hop_send(c, out, (size_t)n) < 0) {
		/* No answer can come to a BYE that did not go. */
		free(out);
		call_close(c);
		return;
	}
	call_rtx_arm(&c->bye, out, (size_t)n, 64ull * annc_cfg->t1_ms);
	c->state = CALL_BYE_SENT;
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
	uint32_t min_se = c->stimer.min_se_s > annc_cfg->min_se_s ?
			  c->stimer.min_se_s : annc_cfg->min_se_s;
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
		 annc_contact_line[c->peer.tp], c->stimer.interval_s, min_se);
	rq.extra = extra;
	rand_token(c->ref_branch, 17);
	c->ref_cseq = rq.cseq = ++c->dlg.local_cseq;
	free(c->ref_ack);
	c->ref_ack = NULL;
	n = call_request(c, &rq, &out);
	if (n < 0) {
		c->se_bye_ms = c->se_end_ms;
		return;
	}
	if (call_hop_send(c, out, (size_t)n) < 0) {
		free(out);
		call_end_now(c, "session refresh not delivered");
		return;
	}
	call_rtx_arm(&c->ref, out, (size_t)n, 64ull * annc_cfg->t1_ms);
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
			rand_token(branch, 17);
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
 * section 12.2.1.2); any other failure leaves the session to expire,
 * and so do more than CALL_REFRESH_RETRIES 422s and 491s in a row.
 */
static void
call_refresh_outcome(struct call *c, const struct sip_msg *m)
{
	enum stimer_next next;
	char res[48];
	struct stimer t;
	uint16_t r;

	next = stimer_on_answer(m->status, m->min_se, &c->stimer.interval_s);
	if (next == STIMER_RESTART)
		c->ref_retries = 0;
	else if ((next == STIMER_RETRY_NOW || next == STIMER_RETRY_LATER) &&
		 ++c->ref_retries > CALL_REFRESH_RETRIES)
		next = STIMER_RUN_OUT;	/* a caller that never agrees */
	switch (next) {
	case STIMER_RESTART:
		stimer_from_2xx(m, &t);
		call_stimer_set(c, &t);
		break;
	case STIMER_RETRY_NOW:
		c->stimer.min_se_s = m->min_se;
		c->ref_due_ms = loop_now_ms();
		break;
	case STIMER_RETRY_LATER:
		rand_bytes(&r, sizeof(r));
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

void
annc_on_refresh_response(struct call *c, const struct sip_msg *m)
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
	call_rtx_stop(&c->ref);
	call_refresh_outcome(c, m);
}

/* The refresh's client transaction over time: due once no INVITE
 * transaction is open either way (RFC 3261 section 14.1), resent over
 * UDP, and unanswered by timer F or B it ends the call (RFC 4028
 * section 10).  Returns 1 when the call ended.
 */
int
call_refresh_timers(struct call *c, uint64_t now)
{
	int due;

	if (c->state != CALL_STREAMING)
		return 0;
	if (c->ref_due_ms != 0 && now >= c->ref_due_ms &&
	    c->ref.msg == NULL && c->reresp.msg == NULL) {
		call_refresh_send(c);
		return c->state != CALL_STREAMING;	/* it could not go */
	}
	due = call_rtx_due(&c->ref, now);
	if (due > 0 && c->hop.tp == SIP_TP_UDP)
		call_hop_send(c, c->ref.msg, c->ref.len);
	if (due >= 0)
		return 0;
	call_rtx_stop(&c->ref);
	call_end_now(c, "session refresh unanswered");
	return 1;
}

/* A request of ours dropped unsent: the connection opened for it
 * failed.  The answer cannot come, so the call does not wait for its
 * timers: an undelivered BYE ends the call at once, an undelivered
 * refresh as an unanswered one does (RFC 4028 section 10).  A lost ACK
 * leaves the caller to resend its 2xx, which brings another ACK.
 */
void
annc_on_request_lost(uint64_t cookie, const struct sip_peer *to, int err)
{
	struct call *c = call_by_handle((uint32_t)cookie);

	(void)to;
	if (c == NULL)
		return;
	if (c->state == CALL_BYE_SENT && c->bye.msg != NULL) {
		CALL_LOG(LOGL_INFO, c, "BYE not delivered: %s",
			 strerror(-err));
		call_rtx_stop(&c->bye);
		call_close(c);
	} else if (c->state == CALL_STREAMING && c->ref.msg != NULL) {
		call_rtx_stop(&c->ref);
		call_end_now(c, "session refresh not delivered");
	}
}

