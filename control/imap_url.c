/* IMAP URL parser (RFC 5092 section 11 grammar, RFC 4467 section 9 for
 * URLAUTH): runs on each play= URL of an INVITE so that the access rule and
 * the expiry can be policed before any IMAP connection is made.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "control/imap_url.h"
#include "core/strbuf.h"

/* The text of a failure that names the value, valid until the next
 * parse. */
static char imap_url_fail_text[64 + STRBUF_QUOTED_ROOM];

/* rule ": " and the n bytes at p quoted (core/strbuf.h).  Never given
 * the URLAUTH token: a log line must not carry it. */
static int
imap_url_fail_value(const char **why, const char *rule, const char *p,
		    size_t n)
{
	struct strbuf o;

	strbuf_init(&o, imap_url_fail_text, sizeof(imap_url_fail_text));
	strbuf_puts(&o, rule);
	strbuf_putl(&o, ": ");
	strbuf_put_quoted(&o, p, n);
	*why = o.full ? rule : imap_url_fail_text;
	return -1;
}

#define IMAP_URL_DEFAULT_PORT	143	/* RFC 5092 section 3 */

/* Characters allowed beside unreserved, pct-encoded and sub-delims-sh
 * (RFC 5092 section 11) in each kind of URL part.
 */
#define IMAP_URL_ACHAR	"&="		/* enc-user, enc-auth-type */
#define IMAP_URL_BCHAR	"&=:@/"		/* enc-mailbox, enc-section */
#define IMAP_URL_REGNAME "&;="		/* RFC 3986 reg-name sub-delims */

static int
imap_url_is_unreserved(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static int
imap_url_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* Checks that p[0..n) is a non-empty run of unreserved, %HH,
 * sub-delims-sh and the given extra characters.
 */
static int
imap_url_run_ok(const char *p, size_t n, const char *extra)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '%') {
			if (n - i < 3 || !imap_url_is_hex(p[i + 1]) ||
			    !imap_url_is_hex(p[i + 2]))
				return 0;
			i += 2;
		} else if (c == '\0' || (!imap_url_is_unreserved(c) &&
			   !strchr("!$'()*+,", c) && !strchr(extra, c))) {
			return 0;
		}
	}
	return 1;
}

static int
imap_url_prefix(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - p) >= n && strncasecmp(p, word, n) == 0;
}

/* nz-number and number of RFC 3501: unsigned 32-bit decimal; nz-number
 * has no leading zero.
 */
static int
imap_url_number(struct imap_str v, int nonzero)
{
	uint64_t x = 0;
	size_t i;

	if (v.n == 0 || v.n > 10 || (v.n > 1 && v.p[0] == '0'))
		return 0;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 0;
		x = x * 10 + (uint64_t)(v.p[i] - '0');
	}
	return x <= UINT32_MAX && (!nonzero || x != 0);
}

/* iuserinfo = enc-user [iauth] / [enc-user] iauth, with
 * iauth = ";AUTH=" ( "*" / enc-auth-type ).
 */
static int
imap_url_userinfo(const char *p, const char *end, struct imap_url *u,
		  const char **why)
{
	const char *semi = memchr(p, ';', (size_t)(end - p));

	u->user.p = p;
	u->user.n = (size_t)((semi ? semi : end) - p);
	if (semi) {
		if (!imap_url_prefix(semi, end, ";AUTH=")) {
			*why = "bad ;AUTH= in user";
			return -1;
		}
		u->auth.p = semi + 6;
		u->auth.n = (size_t)(end - u->auth.p);
		if (!(u->auth.n == 1 && u->auth.p[0] == '*') &&
		    !imap_url_run_ok(u->auth.p, u->auth.n, IMAP_URL_ACHAR)) {
			*why = "bad ;AUTH= mechanism";
			return -1;
		}
	}
	if ((u->user.n > 0 || !semi) &&
	    !imap_url_run_ok(u->user.p, u->user.n, IMAP_URL_ACHAR)) {
		*why = "bad user";
		return -1;
	}
	return 0;
}

static int
imap_url_port(const char *p, const char *end, struct imap_url *u,
	      const char **why)
{
	unsigned long v = 0;
	const char *q;

	for (q = p; q < end && q - p <= 5; q++) {
		if (*q < '0' || *q > '9')
			break;
		v = v * 10 + (unsigned long)(*q - '0');
	}
	if (q == p || q != end || v == 0 || v > 65535) {
		*why = "bad port";
		return -1;
	}
	u->port = (uint16_t)v;
	u->has_port = 1;
	return 0;
}

/* host [":" port] of RFC 3986 section 3.2.2: an IP-literal in brackets
 * (IPv6 only; IPvFuture has no use here), or an IPv4 address or reg-name,
 * which share one character set.
 */
static int
imap_url_hostport(const char *p, const char *end, struct imap_url *u,
		  const char **why)
{
	const char *h = p, *he;
	size_t i;

	if (p < end && *p == '[') {
		h = p + 1;
		he = memchr(h, ']', (size_t)(end - h));
		for (i = 0; he && h + i < he; i++)
			if (!imap_url_is_hex(h[i]) && h[i] != ':' &&
			    h[i] != '.')
				break;
		if (!he || h + i != he || !memchr(h, ':', i)) {
			*why = "bad IPv6 host";
			return -1;
		}
		p = he + 1;
	} else {
		for (he = h; he < end && *he != ':'; he++)
			;
		if (!imap_url_run_ok(h, (size_t)(he - h), IMAP_URL_REGNAME))
			return imap_url_fail_value(why, "bad host", h,
						   (size_t)(he - h));
		p = he;
	}
	u->host.p = h;
	u->host.n = (size_t)(he - h);

	if (p == end)
		return 0;
	if (*p != ':')
		return imap_url_fail_value(why, "bad host", h,
					   (size_t)(end - h));
	return imap_url_port(p + 1, end, u, why);
}

/* ";EXPIRE=" date-time (RFC 4467 section 3, RFC 3339 section 5.6). */
static int
imap_url_ndigits(const char *p, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		*v = *v * 10 + (p[i] - '0');
	}
	return 1;
}

static int
imap_url_mdays(int y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* full-date "T" partial-time: "YYYY-MM-DDThh:mm:ss", 19 bytes, fields
 * range-checked here because timegm() would silently normalise them.
 * Seconds may be 60 (a leap second); timegm() carries it into the minute.
 */
static int
imap_url_date_time(const char *p, struct tm *tm)
{
	int y, mo, d, h, mi, s;

	if (!imap_url_ndigits(p, 4, &y) || p[4] != '-' ||
	    !imap_url_ndigits(p + 5, 2, &mo) || p[7] != '-' ||
	    !imap_url_ndigits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't') ||
	    !imap_url_ndigits(p + 11, 2, &h) || p[13] != ':' ||
	    !imap_url_ndigits(p + 14, 2, &mi) || p[16] != ':' ||
	    !imap_url_ndigits(p + 17, 2, &s))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > imap_url_mdays(y, mo) ||
	    h > 23 || mi > 59 || s > 60)
		return -1;

	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = s;
	return 0;
}

/* [time-secfrac] time-offset, all of what follows the seconds; the
 * fraction is dropped, as expiry is checked to the second.  Returns the
 * offset east of UTC in seconds through *off.
 */
static int
imap_url_offset(const char *p, size_t n, long *off)
{
	size_t i = 0;
	int oh, om;

	if (n > 0 && p[0] == '.') {
		for (i = 1; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == 1)
			return -1;
	}
	*off = 0;
	if (n - i == 1 && (p[i] == 'Z' || p[i] == 'z'))
		return 0;
	if (n - i != 6 || (p[i] != '+' && p[i] != '-') ||
	    !imap_url_ndigits(p + i + 1, 2, &oh) || p[i + 3] != ':' ||
	    !imap_url_ndigits(p + i + 4, 2, &om) || oh > 23 || om > 59)
		return -1;
	*off = (p[i] == '-' ? -1L : 1L) * (oh * 3600L + om * 60L);
	return 0;
}

static int
imap_url_set_expire(struct imap_url *u, struct imap_str v, const char **why)
{
	struct tm tm;
	long off;
	time_t t;

	if (v.n < 20 || imap_url_date_time(v.p, &tm) != 0 ||
	    imap_url_offset(v.p + 19, v.n - 19, &off) != 0) {
		*why = "bad expire";
		return -1;
	}
	t = timegm(&tm);
	if (t == (time_t)-1) {
		*why = "bad expire";
		return -1;
	}
	u->expire = t - off;
	u->has_expire = 1;
	return 0;
}

/* access = ("submit+" enc-user) / ("user+" enc-user) / "authuser" /
 * "anonymous" (RFC 4467 section 9), keywords case-insensitive.
 */
static int
imap_url_access(struct imap_url *u, const char *p, const char *end)
{
	static const struct {
		const char *word;
		enum imap_access access;
		int named;
	} kinds[] = {
		{ "anonymous", IMAP_ACCESS_ANONYMOUS, 0 },
		{ "authuser", IMAP_ACCESS_AUTHUSER, 0 },
		{ "user+", IMAP_ACCESS_USER, 1 },
		{ "submit+", IMAP_ACCESS_SUBMIT, 1 },
	};
	size_t i, n;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = strlen(kinds[i].word);
		if (!imap_url_prefix(p, end, kinds[i].word))
			continue;
		if (!kinds[i].named && p + n != end)
			continue;
		if (kinds[i].named) {
			u->access_name.p = p + n;
			u->access_name.n = (size_t)(end - p) - n;
			if (!imap_url_run_ok(u->access_name.p,
					     u->access_name.n, IMAP_URL_ACHAR))
				return -1;
		}
		u->access = kinds[i].access;
		return 0;
	}
	return -1;
}

/* ";URLAUTH=" access ":" uauth-mechanism ":" enc-urlauth.  A rump URL
 * (no verifier) is only good for GENURLAUTH, so it is refused here.  The
 * token should be 32 or more hex digits; any unreserved run is taken so
 * that the server, not this parser, judges it.
 */
static int
imap_url_set_urlauth(struct imap_url *u, struct imap_str v, const char **why)
{
	const char *end = v.p + v.n, *c1, *c2;
	size_t i;

	c1 = memchr(v.p, ':', v.n);
	if (imap_url_access(u, v.p, c1 ? c1 : end) != 0) {
		*why = "bad urlauth access";
		return -1;
	}
	c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
	if (!c2) {
		*why = "urlauth without mechanism and token";
		return -1;
	}
	u->mech.p = c1 + 1;
	u->mech.n = (size_t)(c2 - u->mech.p);
	for (i = 0; i < u->mech.n; i++)
		if (!imap_url_is_unreserved(u->mech.p[i]) ||
		    u->mech.p[i] == '_' || u->mech.p[i] == '~')
			break;
	if (u->mech.n == 0 || i != u->mech.n)
		return imap_url_fail_value(why, "bad urlauth mechanism",
					   u->mech.p, u->mech.n);
	u->token.p = c2 + 1;
	u->token.n = (size_t)(end - u->token.p);
	for (i = 0; i < u->token.n; i++)
		if (!imap_url_is_unreserved(u->token.p[i]))
			break;
	if (u->token.n == 0 || i != u->token.n) {
		*why = "bad urlauth token";
		return -1;
	}
	return 0;
}

static int
imap_url_set_uidvalidity(struct imap_url *u, struct imap_str v,
			 const char **why)
{
	if (!imap_url_number(v, 1)) {
		*why = "bad uidvalidity";
		return -1;
	}
	u->uidvalidity = v;
	return 0;
}

static int
imap_url_set_uid(struct imap_url *u, struct imap_str v, const char **why)
{
	if (!imap_url_number(v, 1)) {
		*why = "bad uid";
		return -1;
	}
	u->uid = v;
	return 0;
}

static int
imap_url_set_section(struct imap_url *u, struct imap_str v, const char **why)
{
	if (!imap_url_run_ok(v.p, v.n, IMAP_URL_BCHAR)) {
		*why = "bad section";
		return -1;
	}
	u->section = v;
	return 0;
}

/* partial-range = number ["." nz-number] */
static int
imap_url_set_partial(struct imap_url *u, struct imap_str v, const char **why)
{
	const char *dot = memchr(v.p, '.', v.n);
	struct imap_str a = { v.p, dot ? (size_t)(dot - v.p) : v.n };
	struct imap_str b = { dot ? dot + 1 : NULL, dot ? v.n - a.n - 1 : 0 };

	if (!imap_url_number(a, 0) || (dot && !imap_url_number(b, 1))) {
		*why = "bad partial";
		return -1;
	}
	u->partial = v;
	return 0;
}

enum imap_url_slash {
	IMAP_URL_SL_NO,		/* directly after the previous part */
	IMAP_URL_SL_YES,	/* after a "/" */
	IMAP_URL_SL_EITHER,
};

/* The path parameters in the only order RFC 5092 allows them.
 * UIDVALIDITY belongs right after the mailbox ("INBOX;UIDVALIDITY=1"), but
 * "INBOX/;UIDVALIDITY=1" is also seen in the wild and means the same: a
 * mailbox name does not end with its hierarchy delimiter.
 */
static const struct imap_url_param {
	const char *name;
	enum imap_url_slash slash;
	int (*set)(struct imap_url *u, struct imap_str v, const char **why);
} imap_url_params[] = {
	{ ";UIDVALIDITY=", IMAP_URL_SL_EITHER, imap_url_set_uidvalidity },
	{ ";UID=", IMAP_URL_SL_YES, imap_url_set_uid },
	{ ";SECTION=", IMAP_URL_SL_YES, imap_url_set_section },
	{ ";PARTIAL=", IMAP_URL_SL_YES, imap_url_set_partial },
	{ ";EXPIRE=", IMAP_URL_SL_NO, imap_url_set_expire },
	{ ";URLAUTH=", IMAP_URL_SL_NO, imap_url_set_urlauth },
};

#define IMAP_URL_NPARAMS (sizeof(imap_url_params) / sizeof(imap_url_params[0]))

/* Cuts the value that starts at *pp, up to the next ';' or the end.  A
 * '/' just before that ';' separates the next parameter, not part of the
 * value, and is reported through *slash.
 */
static struct imap_str
imap_url_value(const char **pp, const char *end, int *slash)
{
	const char *p = *pp, *semi = memchr(p, ';', (size_t)(end - p));
	struct imap_str v = { p, (size_t)((semi ? semi : end) - p) };

	*slash = semi && v.n > 0 && p[v.n - 1] == '/';
	v.n -= (size_t)*slash;
	*pp = p + v.n + (size_t)*slash;
	return v;
}

static int
imap_url_find_param(const char *p, const char *end, unsigned int next,
		    int slash, const char **why)
{
	unsigned int i;

	for (i = 0; i < IMAP_URL_NPARAMS; i++)
		if (imap_url_prefix(p, end, imap_url_params[i].name))
			break;
	if (i == IMAP_URL_NPARAMS) {
		*why = "unknown parameter";
		return -1;
	}
	if (i < next) {
		*why = "parameter repeated or out of order";
		return -1;
	}
	if ((imap_url_params[i].slash == IMAP_URL_SL_NO && slash) ||
	    (imap_url_params[i].slash == IMAP_URL_SL_YES && !slash)) {
		*why = "parameter with a misplaced '/'";
		return -1;
	}
	return (int)i;
}

/* ipath-query for an imessagepart [iurlauth]: enc-mailbox, then the
 * ;NAME=value parameters, each cut at the next ';'.
 */
static int
imap_url_path(const char *p, const char *end, struct imap_url *u,
	      const char **why)
{
	unsigned int next = 0;
	struct imap_str v;
	int slash, i;

	u->mailbox = imap_url_value(&p, end, &slash);
	if (!imap_url_run_ok(u->mailbox.p, u->mailbox.n, IMAP_URL_BCHAR)) {
		*why = u->mailbox.n ? "bad mailbox" : "missing mailbox";
		return -1;
	}
	while (p < end) {
		i = imap_url_find_param(p, end, next, slash, why);
		if (i < 0)
			return -1;
		p += strlen(imap_url_params[i].name);
		v = imap_url_value(&p, end, &slash);
		if (imap_url_params[i].set(u, v, why) != 0)
			return -1;
		next = (unsigned int)i + 1;
	}

	if (u->uid.n == 0) {
		*why = "missing uid";
		return -1;
	}
	if (u->has_expire && u->access == IMAP_ACCESS_NONE) {
		*why = "expire without urlauth";
		return -1;
	}
	return 0;
}

int
imap_url_parse(const char *s, size_t n, struct imap_url *u, const char **why)
{
	const char *end = s + n, *p, *slash, *at;

	memset(u, 0, sizeof(*u));
	u->port = IMAP_URL_DEFAULT_PORT;
	if (!imap_url_prefix(s, end, "imap://")) {
		*why = "not an imap URL";
		return -1;
	}
	p = s + 7;

	/* The authority ends at the first '/' (RFC 3986 section 3.2); the
	 * userinfo at the first '@', which enc-user cannot hold unencoded.
	 */
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash) {
		*why = "missing mailbox";
		return -1;
	}
	at = memchr(p, '@', (size_t)(slash - p));
	if (at && imap_url_userinfo(p, at, u, why) != 0)
		return -1;
	if (imap_url_hostport(at ? at + 1 : p, slash, u, why) != 0)
		return -1;
	return imap_url_path(slash + 1, end, u, why);
}
