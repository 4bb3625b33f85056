/* Request screening of a user agent server (RFC 3261 section 8.2), done
 * before anncd looks at a request's purpose, in the order of the RFC:
 * scheme, required extensions, then the body.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "control/sip_uas.h"

static int
uas_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next comma-separated item of v from *pos, trimmed; 0 at the end. */
static int
uas_next_item(struct sip_str v, size_t *pos, struct sip_str *item)
{
	size_t b = *pos, e;

	if (b > v.n)
		return 0;
	for (e = b; e < v.n && v.p[e] != ','; e++)
		;
	*pos = e + 1;
	while (b < e && uas_is_lws(v.p[b]))
		b++;
	while (e > b && uas_is_lws(v.p[e - 1]))
		e--;
	item->p = v.p + b;
	item->n = e - b;
	return 1;
}

/* An option tag anncd supports (RFC 3261 section 19.2): timer, the
 * session timer of RFC 4028. */
static int
uas_option_supported(struct sip_str tag)
{
	return sip_str_caseeq(tag, "timer");
}

/* Writes "Unsupported: a, b\r\n" for every tag of Require anncd lacks;
 * returns how many there were.
 */
static unsigned int
uas_unsupported(const struct sip_msg *m, char *out, size_t cap)
{
	struct sip_str tag;
	unsigned int i, n = 0;
	size_t pos, len = 0;
	int w;

	for (i = 0; i < m->n_require; i++) {
		pos = 0;
		while (uas_next_item(m->require[i], &pos, &tag)) {
			if (tag.n == 0 || uas_option_supported(tag))
				continue;
			w = snprintf(out + len, cap - len, "%s%.*s",
				     n ? ", " : "Unsupported: ", (int)tag.n,
				     tag.p);
			if (w < 0 || (size_t)w >= cap - len - 2)
				break;	/* the list is cut, the 420 stays */
			len += (size_t)w;
			n++;
		}
	}
	if (n > 0)
		memcpy(out + len, "\r\n", 3);
	return n;
}

static int
uas_scheme_ok(struct sip_str ruri)
{
	return (ruri.n > 4 && strncasecmp(ruri.p, "sip:", 4) == 0) ||
	       (ruri.n > 5 && strncasecmp(ruri.p, "sips:", 5) == 0);
}

int
sip_uas_screen(const struct sip_msg *m, const char **reason, char *extra,
	       size_t cap)
{
	extra[0] = '\0';
	if (!uas_scheme_ok(m->ruri)) {
		*reason = "Unsupported URI Scheme";
		return 416;
	}
	if (sip_str_eq(m->method, "ACK") || sip_str_eq(m->method, "CANCEL"))
		return 0;
	if (uas_unsupported(m, extra, cap) > 0) {
		*reason = "Bad Extension";
		return 420;
	}
	return 0;
}

/* Whether a media type, parameters after ';' ignored, is SDP. */
static int
uas_is_sdp(struct sip_str t)
{
	size_t n = 0;

	while (n < t.n && t.p[n] != ';' && !uas_is_lws(t.p[n]))
		n++;
	return n == strlen(SIP_UAS_ACCEPT) &&
	       strncasecmp(t.p, SIP_UAS_ACCEPT, n) == 0;
}

/* Whether a media range of Accept (RFC 3261 section 20.1) admits SDP:
 * application/sdp, application/any or any/any, perhaps with q=.  A q of
 * 0 is not read as a refusal: no SIP stack sends one for SDP.
 */
static int
uas_range_admits_sdp(struct sip_str r)
{
	static const char *const any[] = { "*/*", "application/*" };
	size_t n = 0, i;

	if (uas_is_sdp(r))
		return 1;
	while (n < r.n && r.p[n] != ';' && !uas_is_lws(r.p[n]))
		n++;
	for (i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if (n == strlen(any[i]) && strncasecmp(r.p, any[i], n) == 0)
			return 1;
	return 0;
}

static int
uas_accepts_sdp(const struct sip_msg *m)
{
	struct sip_str range;
	unsigned int i;
	size_t pos;

	if (m->n_accept == 0)
		return 1;	/* absent: application/sdp (section 20.1) */
	for (i = 0; i < m->n_accept; i++) {
		pos = 0;
		while (uas_next_item(m->accept[i], &pos, &range))
			if (range.n > 0 && uas_range_admits_sdp(range))
				return 1;
	}
	return 0;
}

int
sip_uas_check_body(const struct sip_msg *m, const char **reason,
		   char *extra, size_t cap)
{
	extra[0] = '\0';
	if (m->body.n > 0 && !uas_is_sdp(m->content_type)) {
		snprintf(extra, cap, "Accept: " SIP_UAS_ACCEPT "\r\n");
		*reason = "Unsupported Media Type";
		return 415;
	}
	if (!uas_accepts_sdp(m)) {
		*reason = "Not Acceptable: answers are application/sdp";
		return 406;
	}
	return 0;
}
