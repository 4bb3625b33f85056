/* SIP URIs (RFC 3261 section 19.1) and the announcement parameters of the
 * Request-URI (RFC 4240 section 3, RFC 5616 section 4): turns the INVITE's
 * target into the play URL and the attachment's media description.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "control/sip_uri.h"
#include "core/strnum.h"

static int
uri_fail(const char **why, const char *rule)
{
	if (why != NULL)
		*why = rule;
	return -1;
}

static int
uri_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static int
uri_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Value of the escape "%HH" at s[i] (RFC 3261 section 25.1), or -1. */
static int
uri_escape_at(const char *s, size_t n, size_t i)
{
	int hi, lo;

	if (n - i < 3)
		return -1;
	hi = uri_hex(s[i + 1]);
	lo = uri_hex(s[i + 2]);
	if (hi < 0 || lo < 0)
		return -1;
	return hi * 16 + lo;
}

/* user = 1*( unreserved / escaped / user-unreserved ) and password,
 * RFC 3261 section 25.1.
 */
static int
uri_is_user_char(char c, int password)
{
	if (uri_is_alnum(c) || (c != '\0' && strchr("-_.!~*'()%&=+$,", c)))
		return 1;
	return !password && c != '\0' && strchr(";?/", c) != NULL;
}

/* Finds the '@' ending the userinfo, if the bytes before it can be one.
 * Scanning by the grammar, not for the first '@', keeps a raw play URL
 * ("sip:host;play=imap://a@b") from being read as a user part.
 */
static const char *
uri_userinfo_end(const char *p, const char *end, const char **colon)
{
	int password = 0;

	*colon = NULL;
	for (; p < end; p++) {
		if (*p == '@')
			return p;
		if (*p == ':' && !password) {
			password = 1;
			*colon = p;
		} else if (!uri_is_user_char(*p, password)) {
			return NULL;
		}
	}
	return NULL;
}

static int
uri_check_escapes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && uri_escape_at(s, n, i) < 0)
			return -1;
	}
	return 0;
}

/* hostport: hostname, IPv4address or "[" IPv6address "]", then an
 * optional port (RFC 3261 section 25.1).
 */
static int
uri_hostport(const char **pp, const char *end, struct sip_uri *u)
{
	const char *p = *pp, *q;
	unsigned long port = 0;

	if (p < end && *p == '[') {
		for (q = ++p; q < end && (uri_hex(*q) >= 0 || *q == ':' ||
					  *q == '.'); q++)
			;
		if (q == end || *q != ']' || !memchr(p, ':', (size_t)(q - p)))
			return -1;
		u->host = (struct sip_str){ p, (size_t)(q - p) };
		q++;
	} else {
		for (q = p; q < end && (uri_is_alnum(*q) || *q == '-' ||
					*q == '.'); q++)
			;
		u->host = (struct sip_str){ p, (size_t)(q - p) };
	}
	if (u->host.n == 0)
		return -1;
	if (q < end && *q == ':') {
		for (p = ++q; q < end && *q >= '0' && *q <= '9'; q++) {
			port = port * 10 + (unsigned long)(*q - '0');
			if (port > 65535)
				return -1;
		}
		if (q == p || port == 0)
			return -1;
	}
	u->port = (uint16_t)port;
	*pp = q;
	return 0;
}

/* Parameters and headers are kept raw; only bytes that can never be in a
 * URI (controls, space, quotes, <>) are refused, because the raw form of
 * a play URL brings '@', '=' and ':' that the grammar would not allow.
 * Their escapes are checked by whoever unescapes a value, so that the
 * refusal can name the parameter.
 */
static int
uri_check_tail(const char *p, const char *end)
{
	for (; p < end; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' ||
		    *p == '<' || *p == '>')
			return -1;
	}
	return 0;
}

int
sip_uri_parse(const char *s, size_t n, struct sip_uri *u, const char **why)
{
	const char *end = s + n, *p, *at, *colon, *q;

	memset(u, 0, sizeof(*u));
	p = n ? memchr(s, ':', n) : NULL;
	if (p == NULL)
		return uri_fail(why, "no URI scheme");
	u->scheme = (struct sip_str){ s, (size_t)(p - s) };
	if (!sip_str_caseeq(u->scheme, "sip") &&
	    !sip_str_caseeq(u->scheme, "sips"))
		return uri_fail(why, "unsupported URI scheme");
	p++;

	at = uri_userinfo_end(p, end, &colon);
	if (at != NULL) {
		u->user = (struct sip_str){ p, (size_t)((colon ? colon : at) - p) };
		if (u->user.n == 0 || uri_check_escapes(p, (size_t)(at - p)))
			return uri_fail(why, "bad user part in URI");
		p = at + 1;
	}
	if (uri_hostport(&p, end, u))
		return uri_fail(why, "bad host or port in URI");

	q = p;
	if (q < end && *q == ';') {
		q = memchr(p, '?', (size_t)(end - p));
		q = q ? q : end;
		u->params = (struct sip_str){ p + 1, (size_t)(q - p - 1) };
	}
	if (q < end && *q != '?')
		return uri_fail(why, "bad character after host in URI");
	if (q < end)
		u->headers = (struct sip_str){ q + 1, (size_t)(end - q - 1) };
	if (uri_check_tail(p, end))
		return uri_fail(why, "bad character in URI");
	return 0;
}

/* Steps over one ";name[=value]" of a URI parameter list; empty
 * segments (";;") are skipped.  Returns 0 at the end.
 */
static int
uri_param_next(const char **pp, const char *end, struct sip_str *name,
	       struct sip_str *val)
{
	const char *p = *pp, *seg, *eq;

	while (p < end && *p == ';')
		p++;
	if (p == end)
		return 0;
	seg = memchr(p, ';', (size_t)(end - p));
	seg = seg ? seg : end;
	eq = memchr(p, '=', (size_t)(seg - p));
	*name = (struct sip_str){ p, (size_t)((eq ? eq : seg) - p) };
	*val = eq ? (struct sip_str){ eq + 1, (size_t)(seg - eq - 1) }
		  : (struct sip_str){ seg, 0 };
	*pp = seg;
	return 1;
}

int
sip_param_find(struct sip_str params, const char *name, struct sip_str *val)
{
	const char *p = params.p, *end;
	struct sip_str n, v;

	/* A URI without parameters has a NULL view, and NULL + 0 is
	 * undefined behaviour in C. */
	if (params.n == 0)
		return 0;
	end = params.p + params.n;
	while (uri_param_next(&p, end, &n, &v)) {
		if (sip_str_caseeq(n, name)) {
			*val = v;
			return 1;
		}
	}
	return 0;
}

int
sip_unescape(struct sip_str in, char *out, size_t cap)
{
	size_t o = 0;
	int c;

	if (cap == 0 || in.n > INT_MAX)
		return -1;
	for (size_t i = 0; i < in.n; i++) {
		c = (unsigned char)in.p[i];
		if (c == '%') {
			c = uri_escape_at(in.p, in.n, i);
			i += 2;
		}
		if (c <= 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

/* The parts of an IMAP URL (RFC 5092 section 11, RFC 4467 section 3) that
 * a raw play URL carries after its path, each looking like one more SIP
 * parameter.  ;urlauth= is always the last of them.
 */
static const char *const annc_imap_parts[] = {
	"uidvalidity", "uid", "section", "partial", "expire", "urlauth",
};

static int
annc_is_imap_part(struct sip_str name)
{
	size_t n = sizeof(annc_imap_parts) / sizeof(annc_imap_parts[0]);

	for (size_t i = 0; i < n; i++) {
		if (sip_str_caseeq(name, annc_imap_parts[i]))
			return 1;
	}
	return 0;
}

/* Finds play=.  When the IMAP parts follow it as parameters of their own
 * (the raw form of the profile's examples), they are joined back on, up
 * to and including ;urlauth=; an escaped URL carries them as %3B...
 * inside its value.  Returns 0 when there is no play parameter.
 */
static int
annc_find_play(struct sip_str params, struct sip_str *play)
{
	const char *p = params.p, *end, *next;
	struct sip_str name, val;
	int found = 0;

	if (params.n == 0)
		return 0;
	end = params.p + params.n;
	while (!found && uri_param_next(&p, end, &name, &val))
		found = sip_str_caseeq(name, "play");
	if (!found)
		return 0;
	*play = val;
	while (!sip_str_caseeq(name, "urlauth")) {
		next = p;
		if (!uri_param_next(&next, end, &name, &val) ||
		    !annc_is_imap_part(name))
			break;
		p = next;
		play->n = (size_t)(val.p + val.n - play->p);
	}
	return 1;
}

/* Says which rule a play value breaks once copying it has failed. */
static const char *
annc_play_error(struct sip_str play)
{
	for (size_t i = 0; i < play.n; i++) {
		int c = (unsigned char)play.p[i];

		if (c == '%')
			c = uri_escape_at(play.p, play.n, i);
		if (c < 0)
			return "bad escape in play parameter";
		if (c == 0)
			return play.p[i] == '%' ? "escaped NUL in play parameter"
						: "NUL in play parameter";
		if (play.p[i] == '%')
			i += 2;
	}
	return "play parameter too long";
}

static const char *const annc_param_names[ANNC_NPARAMS] = {
	"param1", "param2", "param3", "param4", "param5", "param6",
	"param7", "param8", "param9",
};

/* Finds name like sip_param_find, and notes in ap when it is there more
 * than once: which of two values was meant cannot be known.
 */
static void
annc_param_once(struct sip_str params, const char *name, struct sip_str *val,
		struct annc_params *ap)
{
	const char *p = params.p, *end;
	struct sip_str n, v;
	int seen = 0;

	if (params.n == 0)
		return;
	end = params.p + params.n;
	while (uri_param_next(&p, end, &n, &v)) {
		if (!sip_str_caseeq(n, name))
			continue;
		if (seen++ == 0)
			*val = v;
		else if (ap->repeated == NULL)
			ap->repeated = name;
	}
}

int
annc_params_parse(const struct sip_uri *u, char *buf, size_t cap,
		  struct annc_params *ap, const char **why)
{
	struct sip_str play, first;
	int n;

	memset(ap, 0, sizeof(*ap));
	if (!annc_find_play(u->params, &play))
		return uri_fail(why, "missing play parameter");
	if (play.n == 0)
		return uri_fail(why, "empty play parameter");
	/* Both forms are unescaped exactly once: in the raw form too the
	 * value is a SIP parameter, whose escapes belong to SIP (RFC 3261
	 * section 19.1.2); an IMAP URL's own escapes arrive as %25XX. */
	n = sip_unescape(play, buf, cap);
	if (n < 0)
		return uri_fail(why, annc_play_error(play));
	ap->play = buf;
	ap->play_len = (size_t)n;

	/* None of these names is an IMAP URL part, so the raw form's
	 * joined-on segments cannot be mistaken for them.  A second play=
	 * or content-type= is refused like the others: an element before
	 * anncd might have read the other one.
	 */
	annc_param_once(u->params, "play", &first, ap);
	annc_param_once(u->params, "content-type", &ap->content_type, ap);
	annc_param_once(u->params, "content-transfer-encoding", &ap->cte, ap);
	annc_param_once(u->params, "repeat", &ap->repeat, ap);
	annc_param_once(u->params, "delay", &ap->delay, ap);
	annc_param_once(u->params, "duration", &ap->duration, ap);
	annc_param_once(u->params, "locale", &ap->locale, ap);
	for (unsigned int i = 0; i < ANNC_NPARAMS; i++)
		annc_param_once(u->params, annc_param_names[i], &ap->param[i],
				ap);
	return 0;
}

/* A decimal value of at most max; a view that is present has p set. */
static int
annc_number(struct sip_str s, uint32_t max, uint32_t *out)
{
	unsigned long v;

	if (strnum_parse(s.p, s.n, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
annc_bad(char *reason, size_t cap, const char *name, struct sip_str v)
{
	snprintf(reason, cap, "Bad %s parameter: %.*s", name,
		 (int)(v.n > 32 ? 32 : v.n), v.p ? v.p : "");
	return -1;
}

int
annc_play_parse(const struct annc_params *ap, uint32_t max_repeat,
		struct annc_play *pl, char *reason, size_t cap)
{
	memset(pl, 0, sizeof(*pl));
	pl->plays = 1;
	if (ap->repeated != NULL) {
		snprintf(reason, cap, "Bad %s parameter: given twice",
			 ap->repeated);
		return -1;
	}
	if (ap->repeat.p != NULL) {
		if (sip_str_caseeq(ap->repeat, "forever")) {
			pl->forever = 1;
			pl->plays = max_repeat;
		} else if (annc_number(ap->repeat, ANNC_MAX_COUNT, &pl->plays) ||
			   pl->plays == 0) {
			return annc_bad(reason, cap, "repeat", ap->repeat);
		}
		if (pl->plays > max_repeat)
			pl->plays = max_repeat;
	}
	if (ap->delay.p != NULL &&
	    annc_number(ap->delay, ANNC_MAX_DELAY_MS, &pl->delay_ms))
		return annc_bad(reason, cap, "delay", ap->delay);
	if (ap->duration.p != NULL &&
	    (annc_number(ap->duration, ANNC_MAX_DURATION_MS, &pl->duration_ms) ||
	     pl->duration_ms == 0))
		return annc_bad(reason, cap, "duration", ap->duration);
	return 0;
}
