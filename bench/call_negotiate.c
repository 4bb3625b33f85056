/* anncd-call's SDP for the negotiation tests: an offer whose formats all
 * carry dynamic payload types (RFC 3551 section 3), and, for an INVITE
 * sent without an offer (RFC 3261 section 13.2.1), the answer that goes
 * in the ACK to the offer of the 2xx, or a deliberately bad one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bench/call.h"
#include "control/sdp.h"

#define NEG_DYN_PT	96	/* first dynamic payload type offered */

/* The offer of --dynamic-pts: each codec of --codecs at 96, 97, ...,
 * named by its rtpmap in lowercase, which RFC 4855 section 3 lets the
 * answerer match case-insensitively.
 */
int
call_neg_offer_dynamic(const struct call_opts *o, char *out, size_t cap)
{
	int n;

	n = snprintf(out, cap, "v=0\r\no=anncd-call %ld 1 IN IP4 %s\r\n"
		     "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %u RTP/AVP",
		     (long)time(NULL), o->local,
		     o->sdp_addr ? o->sdp_addr : o->local, o->rtp_port);
	return call_sdp_formats(o, out, cap, n, NEG_DYN_PT);
}

/* The first payload type of the offer's first m= line whose rtpmap (or
 * static type) names one of --codecs, or -1.
 */
static int
neg_pick(const struct call_opts *o, const struct sdp_media *md)
{
	unsigned int clock;
	const char *want;

	for (unsigned int i = 0; i < md->n_fmt; i++) {
		for (unsigned int j = 0; j < md->n_rtpmap; j++) {
			if (md->rtpmap[j].pt != md->fmt[i])
				continue;
			for (unsigned int k = 0; k < o->n_pts; k++) {
				want = call_codec_name(o->pts[k], &clock);
				if (strcasecmp(md->rtpmap[j].name, want) == 0 &&
				    md->rtpmap[j].clock == clock)
					return md->fmt[i];
			}
		}
	}
	return -1;
}

/* One m= line of the answer: port 0 declines it (RFC 3264 section 6). */
static int
neg_answer_line(const struct call_opts *o, const struct sdp_media *md,
		unsigned int i, char *out, size_t cap, int *pt)
{
	int decline = strcmp(o->ack_answer, "decline") == 0;

	*pt = neg_pick(o, md);
	/* Formats --codecs has no name for (MPV, MPA): the first offered. */
	if (*pt < 0 && md->n_fmt > 0)
		*pt = md->fmt[0];
	if (*pt < 0) {
		fprintf(stderr, "late offer: m= line %u has no format\n", i);
		return -1;
	}
	return snprintf(out, cap, "m=%s %u RTP/AVP %d\r\na=ptime:%u\r\n"
			"a=recvonly\r\n", md->type,
			decline ? 0 : o->rtp_port + 2 * i, *pt, o->ptime);
}

/* The body of the ACK (RFC 3264 section 6) per --ack-answer: "ok" takes
 * on each m= line the first offered format of --codecs (else the first
 * offered) and receives it on --rtp-port + 2 i, "decline" sets
 * the ports to 0, "garbage" is no SDP, "none" leaves the ACK empty.
 * Returns its length (0 for none), or -1.  *pt gets the first line's.
 */
int
call_neg_ack_answer(const struct call_opts *o, const char *offer,
		    size_t offer_len, char *out, size_t cap, int *pt)
{
	struct sdp_session s;
	const char *why;
	int n, k, line_pt;

	*pt = -1;
	if (strcmp(o->ack_answer, "none") == 0)
		return 0;
	if (strcmp(o->ack_answer, "garbage") == 0)
		return snprintf(out, cap, "this is not SDP\r\n");
	if (sdp_parse(offer, offer_len, &s, &why) < 0 || s.n_media == 0) {
		fprintf(stderr, "late offer: no usable offer in the 2xx\n");
		return -1;
	}
	n = snprintf(out, cap, "v=0\r\no=anncd-call %ld 1 IN IP4 %s\r\n"
		     "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", (long)time(NULL),
		     o->local, o->sdp_addr ? o->sdp_addr : o->local);
	for (unsigned int i = 0; i < s.n_media && n > 0 && (size_t)n < cap;
	     i++) {
		k = neg_answer_line(o, &s.media[i], i, out + n,
				    cap - (size_t)n, &line_pt);
		if (k < 0)
			return -1;
		if (i == 0)
			*pt = line_pt;
		n += k;
	}
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
