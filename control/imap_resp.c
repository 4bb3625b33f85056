/* IMAP response reading for the URLFETCH client: CRLF line framing, the
 * tag and status of each line, and the "* URLFETCH" data that announces
 * the literal holding an attachment (RFC 3501 section 7, RFC 4467 7).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "control/imap_resp.h"

/* Error texts that carry numbers; read by the caller before the next parse
 * on the same thread.
 */
static _Thread_local char imap_why_buf[96];

ssize_t
imap_line_end(const char *buf, size_t len, size_t max_line)
{
	size_t lim = len < max_line ? len : max_line;
	const char *p = buf, *lf;

	/* RFC 3501 section 2.2: lines end in CRLF; a bare LF is data. */
	while ((lf = memchr(p, '\n', lim - (size_t)(p - buf))) != NULL) {
		if (lf > buf && lf[-1] == '\r')
			return lf - buf + 1;
		p = lf + 1;
	}
	return len >= max_line ? -1 : 0;
}

/* ASTRING-CHAR of RFC 3501 section 9: any 7-bit CHAR but CTL, SP and
 * atom-specials, except that resp-specials (']') is allowed.
 */
static int
imap_is_astring_char(char c)
{
	return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\", c);
}

static const struct {
	const char *word;
	enum imap_status status;
	int untagged_only;	/* BYE and PREAUTH (RFC 3501 7.1.4, 7.1.5) */
} imap_statuses[] = {
	{ "OK", IMAP_ST_OK, 0 },
	{ "NO", IMAP_ST_NO, 0 },
	{ "BAD", IMAP_ST_BAD, 0 },
	{ "BYE", IMAP_ST_BYE, 1 },
	{ "PREAUTH", IMAP_ST_PREAUTH, 1 },
};

static enum imap_status
imap_status_word(const char *p, size_t n, int tagged)
{
	size_t i;

	for (i = 0; i < sizeof(imap_statuses) / sizeof(imap_statuses[0]); i++)
		if (strlen(imap_statuses[i].word) == n &&
		    strncasecmp(p, imap_statuses[i].word, n) == 0 &&
		    !(tagged && imap_statuses[i].untagged_only))
			return imap_statuses[i].status;
	return IMAP_ST_NONE;
}

int
imap_resp_parse(const char *line, size_t n, struct imap_resp *r)
{
	const char *end = line + n, *p = line, *w;

	memset(r, 0, sizeof(*r));
	/* continue-req = "+" SP (resp-text / base64); some servers drop
	 * the SP when the text is empty.
	 */
	if (n > 0 && line[0] == '+') {
		r->tag = (struct imap_str){ line, 1 };
		r->status = IMAP_ST_CONTINUE;
		p = n > 1 && line[1] == ' ' ? line + 2 : line + 1;
		r->text = (struct imap_str){ p, (size_t)(end - p) };
		return n == 1 || line[1] == ' ' ? 0 : -1;
	}

	/* tag = 1*<any ASTRING-CHAR except "+">, or "*" for untagged */
	if (n > 0 && line[0] == '*')
		p++;
	else
		while (p < end && imap_is_astring_char(*p) && *p != '+')
			p++;
	if (p == line || p == end || *p != ' ')
		return -1;
	r->tag = (struct imap_str){ line, (size_t)(p - line) };

	for (w = ++p; p < end && *p != ' '; p++)
		;
	r->status = imap_status_word(w, (size_t)(p - w), line[0] != '*');
	if (r->status == IMAP_ST_NONE) {
		/* Tagged lines are always status responses (7.1). */
		if (line[0] != '*')
			return -1;
		p = w;
	} else if (p < end) {
		p++;
	}
	r->text = (struct imap_str){ p, (size_t)(end - p) };
	return 0;
}

/* The url of urlfetch-data (RFC 4467 section 7) is an astring: a quoted
 * string as Cyrus sends it, or an atom.  The view keeps quoted-specials
 * escaped, so it compares equal to the URL as sent only when it has none.
 */
static int
imap_fetch_url(const char **pp, const char *end, struct imap_str *url)
{
	const char *p = *pp, *b;

	if (p < end && *p == '"') {
		for (b = ++p; p < end && *p != '"'; p++) {
			if (*p == '\\' && (end - p < 2 ||
					   (p[1] != '"' && p[1] != '\\')))
				return -1;
			if (*p == '\\')
				p++;
			else if (*p == '\0' || *p == '\r' || *p == '\n' ||
				 (unsigned char)*p >= 0x80)
				return -1;
		}
		if (p == end)
			return -1;
		*url = (struct imap_str){ b, (size_t)(p - b) };
		*pp = p + 1;
		return 0;
	}
	/* '%' and '*' are list-wildcards, not ATOM-CHARs, yet URLs carry
	 * '%' escapes and servers send them in atoms anyway.
	 */
	for (b = p; p < end && (imap_is_astring_char(*p) || *p == '%' ||
				*p == '*'); p++)
		;
	if (p == b)
		return -1;
	*url = (struct imap_str){ b, (size_t)(p - b) };
	*pp = p;
	return 0;
}

/* "{" number ["+"] "}", optionally after "~" (RFC 3516 literal8), ending
 * the line; "+" is the non-synchronizing form of RFC 7888, which a server
 * has no reason to send but may.  The digits are bounded before each step
 * so that no length, however long, wraps; the limit is applied before the
 * caller allocates anything.
 */
static int
imap_fetch_literal(const char *p, const char *end, uint64_t max_literal,
		   uint64_t *len, const char **why)
{
	const char *d, *last;
	uint64_t v = 0;

	if (p < end && *p == '~')
		p++;
	if (end - p < 3 || *p != '{' || end[-1] != '}') {
		*why = "URLFETCH: bad literal";
		return -1;
	}
	last = end[-2] == '+' && end - p > 3 ? end - 2 : end - 1;
	for (d = p + 1; d < last; d++) {
		if (*d < '0' || *d > '9') {
			*why = "URLFETCH: bad literal length";
			return -1;
		}
		if (v > (UINT64_MAX - (uint64_t)(*d - '0')) / 10) {
			*why = "URLFETCH: literal length overflows";
			return -1;
		}
		v = v * 10 + (uint64_t)(*d - '0');
	}
	if (v > max_literal) {
		snprintf(imap_why_buf, sizeof(imap_why_buf),
			 "literal of %" PRIu64 " bytes over limit %" PRIu64,
			 v, max_literal);
		*why = imap_why_buf;
		return -1;
	}
	*len = v;
	return 0;
}

static int
imap_is_word(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);

	return (size_t)(end - p) >= n && strncasecmp(p, w, n) == 0 &&
	       ((size_t)(end - p) == n || p[n] == ' ' || p[n] == ')');
}

/* Skips one value of metadata that is not wanted (BODYPARTSTRUCTURE):
 * an atom, a quoted string or a parenthesized list, nested lists and
 * quoted strings included.  A literal inside it is not supported.
 */
static int
imap_skip_value(const char **pp, const char *end)
{
	const char *p = *pp;
	unsigned int depth = 0;

	do {
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return -1;
			p++;
		} else if (p < end && *p == '(') {
			depth++;
			p++;
		} else if (p < end && *p == ')' && depth > 0) {
			depth--;
			p++;
		} else if (p < end && *p == '{') {
			return -1;
		} else {
			while (p < end && *p != ' ' && *p != '(' &&
			       *p != ')' && *p != '"')
				p++;
		}
		while (depth > 0 && p < end && *p == ' ')
			p++;
	} while (depth > 0 && p < end);
	*pp = p;
	return depth == 0 ? 0 : -1;
}

/* The data of one URL: NIL, a literal ending the line, or the RFC 5524
 * list "(" *(name SP value) ")" whose BINARY or BODY value is the data.
 * Cyrus 3.6 answers a BINARY fetch that it refuses with the URL alone.
 */
static int
imap_fetch_data(const char **pp, const char *end, uint64_t max_literal,
		struct imap_urlfetch *uf, const char **why)
{
	const char *p = *pp;
	unsigned int lists = 0;

	for (;;) {
		if (p < end && *p == ')' && lists > 0) {
			lists--;
			p++;
		} else if (p == end || *p == ')' || imap_is_word(p, end, "NIL")) {
			uf->kind = IMAP_FETCH_NIL;
			*pp = p == end || *p == ')' ? p : p + 3;
			return 0;
		} else if (*p == '{' || *p == '~') {
			uf->kind = IMAP_FETCH_LITERAL;
			*pp = end;
			return imap_fetch_literal(p, end, max_literal,
						  &uf->literal_len, why);
		} else if (*p == '"') {
			*why = "URLFETCH: data as quoted string not supported";
			return -1;
		} else if (*p == '(' && lists < 2) {
			lists++;
			p++;
		} else if (imap_is_word(p, end, "BINARY") ||
			   imap_is_word(p, end, "BODY")) {
			uf->binary = imap_is_word(p, end, "BINARY");
			p += uf->binary ? 6 : 4;
		} else if (lists > 0 || imap_is_word(p, end,
						     "BODYPARTSTRUCTURE")) {
			/* BODYPARTSTRUCTURE and its value, or what a later
			 * extension adds: skipped. */
			while (p < end && *p != ' ' && *p != ')')
				p++;
			if (p < end && *p == ' ')
				p++;
			if (imap_skip_value(&p, end) < 0) {
				*why = "URLFETCH: bad metadata";
				return -1;
			}
		} else {
			*why = "URLFETCH: bad literal";
			return -1;
		}
		while (p < end && *p == ' ')
			p++;
	}
}

/* One url-data pair, bare (RFC 4467) or in the parenthesized form of
 * RFC 5524 section 3, "(" url SP data ")".
 */
static int
imap_fetch_item(const char *line, const char *p, const char *end,
		uint64_t max_literal, struct imap_urlfetch *uf,
		const char **why)
{
	int paren = p < end && *p == '(';

	memset(uf, 0, sizeof(*uf));
	p += paren;
	if (imap_fetch_url(&p, end, &uf->url) != 0) {
		*why = "URLFETCH: bad url";
		return -1;
	}
	/* Cyrus' refused BINARY fetch: the url and nothing else. */
	if (p != end && *p != ' ' && !(*p == ')' && paren)) {
		*why = "URLFETCH: missing data after url";
		return -1;
	}
	if (p == end && p[-1] != '"') {
		*why = "URLFETCH: missing data after url";
		return -1;
	}
	if (p != end && *p == ' ' && ++p == end) {
		*why = "URLFETCH: bad literal";
		return -1;
	}
	if (imap_fetch_data(&p, end, max_literal, uf, why) < 0)
		return -1;
	uf->next = (size_t)(p - line);
	return 0;
}

int
imap_parse_urlfetch(const char *line, size_t n, uint64_t max_literal,
		    struct imap_urlfetch *uf, const char **why)
{
	const char *end = line + n;

	memset(uf, 0, sizeof(*uf));
	if (n < 10 || strncasecmp(line, "* URLFETCH", 10) != 0 ||
	    (n > 10 && line[10] != ' '))
		return 1;
	return imap_fetch_item(line, line + 10 + (n > 10), end, max_literal,
			       uf, why);
}

int
imap_parse_urlfetch_next(const char *line, size_t n, uint64_t max_literal,
			 struct imap_urlfetch *uf, const char **why)
{
	const char *end = line + n, *p = line;

	/* What closes the previous item's lists, then maybe another item
	 * (several URLs in one command come back on one line, 7). */
	while (p < end && (*p == ')' || *p == ' '))
		p++;
	if (p == end)
		return 1;
	return imap_fetch_item(line, p, end, max_literal, uf, why);
}

static const struct {
	const char *name;
	unsigned int flag;
} imap_caps[] = {
	{ "STARTTLS", IMAP_CAP_STARTTLS },
	{ "LOGINDISABLED", IMAP_CAP_LOGINDISABLED },
	{ "AUTH=PLAIN", IMAP_CAP_AUTH_PLAIN },
	{ "AUTH=ANONYMOUS", IMAP_CAP_AUTH_ANONYMOUS },
	{ "SASL-IR", IMAP_CAP_SASL_IR },
	{ "URLAUTH", IMAP_CAP_URLAUTH },
	{ "URLAUTH=BINARY", IMAP_CAP_URLAUTH_BINARY },
};

static unsigned int
imap_cap_flag(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(imap_caps) / sizeof(imap_caps[0]); i++)
		if (strlen(imap_caps[i].name) == n &&
		    strncasecmp(p, imap_caps[i].name, n) == 0)
			return imap_caps[i].flag;
	return 0;
}

int
imap_parse_capability(const char *text, size_t n, unsigned int *caps)
{
	const char *p = text, *end = text + n, *w;

	/* resp-text-code "[CAPABILITY ...]" (RFC 3501 section 7.1) or the
	 * data of "* CAPABILITY ..." (7.2.1). */
	if (n >= 12 && strncasecmp(p, "[CAPABILITY ", 12) == 0) {
		p += 12;
		w = memchr(p, ']', (size_t)(end - p));
		if (w == NULL)
			return -1;
		end = w;
	} else if (n >= 11 && strncasecmp(p, "CAPABILITY ", 11) == 0) {
		p += 11;
	} else {
		return 1;
	}
	*caps = 0;
	while (p < end) {
		for (w = p; p < end && *p != ' '; p++)
			;
		*caps |= imap_cap_flag(w, (size_t)(p - w));
		if (p < end)
			p++;
	}
	return 0;
}

int
imap_quote(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0, esc;

	/* quoted = DQUOTE *QUOTED-CHAR DQUOTE (RFC 3501 section 9): 7-bit
	 * TEXT-CHAR, with '"' and '\' escaped; anything else needs a literal.
	 */
	if (cap < 3 || n > (size_t)INT32_MAX / 2)
		return -1;
	out[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80)
			return -1;
		esc = c == '"' || c == '\\';
		/* room for this char, its escape, the closing '"' and NUL */
		if (cap - o < 3 + esc)
			return -1;
		if (esc)
			out[o++] = '\\';
		out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return (int)o;
}
