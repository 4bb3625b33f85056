/* The checks of an INVITE before anything is fetched: the service URI's
 * parameters (RFC 4240 section 3, RFC 5616 section 2.3), the play URL
 * and the offer, each refused with the field and the value named.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "control/call.h"

/* ---- INVITE: checks before anything is fetched ---- */

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
	r->cred = config_cred_find(annc_cfg, u->host.p, u->host.n, u->port);
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
	r->server = config_imap_allowed(annc_cfg, u->host.p, u->host.n, u->port);
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
int
annc_offer_line_fault(const struct sdp_media *md)
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

const char *const annc_offer_fault_text[] = {
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
		fault = annc_offer_line_fault(&s->media[i]);
		if (fault == 0)
			return 0;
		if (fault < best)
			best = fault;
	}
	r->refusal.warn_code = best;
	snprintf(r->refusal.text, sizeof(r->refusal.text), "%s",
		 annc_offer_fault_text[best - 300]);
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
int
annc_invite_check(const struct sip_msg *m, struct invite_req *r, char *reason,
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
	if (annc_play_parse(&r->ap, annc_cfg->max_repeat, &r->opts, reason,
			    cap) < 0)
		return 400;
	code = check_content_type(r, reason, cap);
	if (code == 0)
		code = check_play_url(r, reason, cap);
	if (code == 0)
		code = check_offer(m, r, reason, cap);
	return code;
}

