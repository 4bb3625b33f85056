/* SIP message parser and response builder (RFC 3261 sections 7, 8.2.6 and
 * 20): every datagram the control loop receives passes through sip_parse
 * before any transaction or dialog logic looks at it.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control/sip_msg.h"
#include "core/strbuf.h"
#include "core/strnum.h"

/* Largest CSeq sequence number (RFC 3261 section 8.1.1.5). */
#define SIP_CSEQ_MAX		0x7fffffffUL
/* Content-Length above this cannot describe a datagram we hold. */
#define SIP_CLEN_MAX		0x7fffffffUL

static struct sip_limits sip_lim = {
	.max_headers = SIP_MAX_HEADERS_DEFAULT,
	.max_line = SIP_MAX_LINE_BYTES_DEFAULT,
};

void
sip_set_limits(const struct sip_limits *l)
{
	sip_lim = *l;
}

static int
sip_fail(const char **why, const char *rule)
{
	if (why != NULL)
		*why = rule;
	return -1;
}

/* The text of a failure that names the value: valid until the next
 * parse, which is as long as a caller keeps *why. */
static char sip_fail_text[64 + STRBUF_QUOTED_ROOM];

/* rule ": " and v quoted (core/strbuf.h), so that a log line or the
 * 400's reason phrase says what was wrong with what. */
static int
sip_fail_value(const char **why, const char *rule, struct sip_str v)
{
	struct strbuf o;

	strbuf_init(&o, sip_fail_text, sizeof(sip_fail_text));
	strbuf_puts(&o, rule);
	strbuf_putl(&o, ": ");
	strbuf_put_quoted(&o, v.p, v.n);
	return sip_fail(why, o.full ? rule : sip_fail_text);
}

static int
sip_is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Inside a header value CR and LF only occur as part of a fold, so they
 * count as linear white space there (RFC 3261 section 7.3.1).
 */
static int
sip_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
sip_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* token characters of RFC 3261 section 25.1 */
static int
sip_is_token(char c)
{
	return sip_is_alnum(c) || (c != '\0' && strchr("-.!%*_+`'~", c));
}

static int
sip_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *
sip_skip_lws(const char *p, const char *end)
{
	while (p < end && sip_is_lws(*p))
		p++;
	return p;
}

static const char *
sip_skip_token(const char *p, const char *end)
{
	while (p < end && sip_is_token(*p))
		p++;
	return p;
}

static struct sip_str
sip_str_make(const char *p, const char *end)
{
	struct sip_str s = { p, (size_t)(end - p) };

	return s;
}

static struct sip_str
sip_str_trim(struct sip_str s)
{
	while (s.n > 0 && sip_is_lws(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && sip_is_lws(s.p[s.n - 1]))
		s.n--;
	return s;
}

int
sip_str_eq(struct sip_str s, const char *c)
{
	size_t n = strlen(c);

	return s.n == n && memcmp(s.p, c, n) == 0;
}

int
sip_list_has(const struct sip_str *list, unsigned int n, const char *tag)
{
	const char *p, *end, *q;

	for (unsigned int i = 0; i < n; i++) {
		end = list[i].p + list[i].n;
		for (p = list[i].p; p < end; p = q + 1) {
			p = sip_skip_lws(p, end);
			for (q = p; q < end && *q != ','; q++)
				;
			if (sip_str_caseeq(sip_str_make(p,
				sip_skip_token(p, q)), tag))
				return 1;
		}
	}
	return 0;
}

int
sip_str_caseeq(struct sip_str s, const char *c)
{
	size_t n = strlen(c);

	if (s.n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char a = s.p[i], b = c[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

static int
sip_uint(struct sip_str s, unsigned long max, unsigned long *out)
{
	return strnum_parse(s.p, s.n, max, out);
}

/* Returns the byte after the closing quote of the quoted-string at p, or
 * NULL when it is not terminated (RFC 4475 section 3.1.2.6).
 */
static const char *
sip_skip_quoted(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p == end)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Cuts a header value at the commas that separate values (RFC 3261
 * section 7.3.1), ignoring those inside quoted strings and <>, and hands
 * each trimmed value to each().
 */
static int
sip_split_values(struct sip_msg *m, struct sip_str v, const char **why,
		 int (*each)(struct sip_msg *, struct sip_str, const char **))
{
	const char *p = v.p, *end = v.p + v.n, *start = p;
	int angle = 0;

	while (p < end) {
		if (*p == '"') {
			p = sip_skip_quoted(p, end);
			if (p == NULL)
				return sip_fail(why, "unterminated quoted string");
			continue;
		}
		if (*p == '<')
			angle = 1;
		else if (*p == '>')
			angle = 0;
		else if (*p == ',' && !angle) {
			if (each(m, sip_str_trim(sip_str_make(start, p)), why))
				return -1;
			start = p + 1;
		}
		p++;
	}
	return each(m, sip_str_trim(sip_str_make(start, end)), why);
}

/* Steps over one ";name[=value]" of a header's parameter list, LWS
 * allowed around each part (RFC 3261 section 7.3.1 and the generic-param
 * rule of section 25.1).  Returns 1 with name and value, 0 at the end,
 * -1 on an empty name or trailing garbage (RFC 4475 section 3.1.2.1).
 */
static int
sip_hparam_next(const char **pp, const char *end, struct sip_str *name,
		struct sip_str *val)
{
	const char *p = sip_skip_lws(*pp, end), *v;

	if (p == end)
		return 0;
	if (*p != ';')
		return -1;
	p = sip_skip_lws(p + 1, end);
	v = sip_skip_token(p, end);
	if (v == p)
		return -1;
	*name = sip_str_make(p, v);
	*val = sip_str_make(v, v);
	p = sip_skip_lws(v, end);
	if (p < end && *p == '=') {
		p = sip_skip_lws(p + 1, end);
		if (p < end && *p == '"') {
			v = sip_skip_quoted(p, end);
			if (v == NULL)
				return -1;
		} else {
			v = p;
			while (v < end && !sip_is_lws(*v) && *v != ';')
				v++;
		}
		*val = sip_str_make(p, v);
		p = v;
	}
	*pp = p;
	return 1;
}

/* An unquoted display name is tokens and LWS only (RFC 3261 section
 * 25.1): "Bell, Alexander" must be quoted (RFC 4475 section 3.1.2.15).
 */
static int
sip_display_tokens(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (!sip_is_token(*p) && !sip_is_lws(*p))
			return 0;
	}
	return 1;
}

/* Splits a name-addr or addr-spec (RFC 3261 section 20.10) into the URI
 * and what follows it.  Without <> every ';' starts a header parameter;
 * the display name may be quoted (and hold ';' or '<') or bare tokens.
 */
static int
sip_addr_split(struct sip_str v, struct sip_str *uri, struct sip_str *rest)
{
	const char *p = v.p, *end = v.p + v.n, *q;

	if (p < end && *p == '"') {
		p = sip_skip_quoted(p, end);
		if (p == NULL)
			return -1;
		p = sip_skip_lws(p, end);
		if (p == end || *p != '<')
			return -1;
	} else {
		for (q = p; q < end && *q != '<' && *q != ';'; q++)
			;
		if (q < end && *q == '<') {
			if (!sip_display_tokens(p, q))
				return -1;
			p = q;
		}
	}
	if (p < end && *p == '<') {
		q = memchr(p, '>', (size_t)(end - p));
		if (q == NULL)
			return -1;
		*uri = sip_str_make(p + 1, q);
		*rest = sip_str_make(q + 1, end);
		return 0;
	}
	for (q = p; q < end && *q != ';' && !sip_is_lws(*q); q++)
		;
	*uri = sip_str_make(p, q);
	*rest = sip_str_make(q, end);
	return uri->n ? 0 : -1;
}

/* Finds the tag parameter of a From or To value; tag stays empty when
 * there is none.
 */
static int
sip_addr_tag(struct sip_str v, struct sip_str *tag)
{
	struct sip_str uri, rest, name, val;
	const char *p;
	int r;

	if (sip_addr_split(v, &uri, &rest))
		return -1;
	p = rest.p;
	while ((r = sip_hparam_next(&p, rest.p + rest.n, &name, &val)) > 0) {
		if (sip_str_caseeq(name, "tag") && tag->n == 0)
			*tag = val;
	}
	return r;
}

/* Reads the parameters of the top Via: branch, received and rport (RFC
 * 3261 section 18.2.1, RFC 3581 section 4).
 */
static int
sip_via_params(struct sip_msg *m, const char *p, const char *end)
{
	struct sip_str name, val;
	unsigned long port;
	int r;

	while ((r = sip_hparam_next(&p, end, &name, &val)) > 0) {
		if (sip_str_caseeq(name, "branch")) {
			m->branch = val;
		} else if (sip_str_caseeq(name, "received")) {
			m->via_received = val;
		} else if (sip_str_caseeq(name, "rport") && val.n > 0) {
			if (sip_uint(val, 65535, &port) || port == 0)
				return -1;
			m->via_rport = (uint16_t)port;
		}
	}
	return r;
}

/* The top Via says where the response goes (RFC 3261 section 18.2.2):
 * sent-protocol "SIP / 2.0 / transport", LWS allowed around each '/',
 * then sent-by host and optional port, then parameters.
 */
static int
sip_via_top(struct sip_msg *m)
{
	static const char *const proto[3] = { "SIP", "2.0", NULL };
	const char *p = m->via[0].p, *end = p + m->via[0].n, *q;
	unsigned long port;

	for (int i = 0; i < 3; i++) {
		p = sip_skip_lws(p, end);
		q = sip_skip_token(p, end);
		if (q == p || (proto[i] != NULL &&
			       !sip_str_caseeq(sip_str_make(p, q), proto[i])))
			return -1;
		p = sip_skip_lws(q, end);
		if (i < 2 && (p == end || *p++ != '/'))
			return -1;
	}
	if (p < end && *p == '[') {
		q = memchr(p, ']', (size_t)(end - p));
		if (q == NULL)
			return -1;
		m->via_host = sip_str_make(p + 1, q++);
	} else {
		for (q = p; q < end && (sip_is_alnum(*q) || *q == '-' ||
					*q == '.'); q++)
			;
		m->via_host = sip_str_make(p, q);
	}
	if (m->via_host.n == 0)
		return -1;
	p = sip_skip_lws(q, end);
	if (p < end && *p == ':') {
		p = sip_skip_lws(p + 1, end);
		for (q = p; q < end && sip_is_digit(*q); q++)
			;
		if (sip_uint(sip_str_make(p, q), 65535, &port) || port == 0)
			return -1;
		m->via_port = (uint16_t)port;
		p = q;
	}
	return sip_via_params(m, p, end);
}

static int
sip_via_value(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (v.n == 0)
		return sip_fail(why, "empty Via value");
	if (m->n_via == SIP_MAX_VIA)
		return sip_fail(why, "too many Via values");
	m->via[m->n_via++] = v;
	return 0;
}

static int
sip_hdr_via(struct sip_msg *m, struct sip_str v, const char **why)
{
	return sip_split_values(m, v, why, sip_via_value);
}

static int
sip_hdr_from(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (m->from.p != NULL)
		return sip_fail(why, "duplicate From");
	m->from = v;
	if (sip_addr_tag(v, &m->from_tag))
		return sip_fail(why, "bad From");
	return 0;
}

static int
sip_hdr_to(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (m->to.p != NULL)
		return sip_fail(why, "duplicate To");
	m->to = v;
	if (sip_addr_tag(v, &m->to_tag))
		return sip_fail(why, "bad To");
	return 0;
}

static int
sip_hdr_call_id(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (m->call_id.p != NULL)
		return sip_fail(why, "duplicate Call-ID");
	if (v.n == 0)
		return sip_fail(why, "bad Call-ID");
	for (size_t i = 0; i < v.n; i++) {
		if (sip_is_lws(v.p[i]))
			return sip_fail(why, "bad Call-ID");
	}
	m->call_id = v;
	return 0;
}

/* CSeq is a number below 2^31 and the request's method, with LWS
 * between (RFC 3261 sections 8.1.1.5 and 20.16).
 */
static int
sip_hdr_cseq(struct sip_msg *m, struct sip_str v, const char **why)
{
	const char *p = v.p, *end = v.p + v.n, *q;
	unsigned long seq;

	if (m->cseq_value.p != NULL)
		return sip_fail(why, "duplicate CSeq");
	m->cseq_value = v;	/* copied into the answer, even a 400 */
	for (q = p; q < end && sip_is_digit(*q); q++)
		;
	if (sip_uint(sip_str_make(p, q), SIP_CSEQ_MAX, &seq))
		return sip_fail(why, "bad CSeq");
	p = sip_skip_lws(q, end);
	if (p == q)
		return sip_fail(why, "bad CSeq");
	q = sip_skip_token(p, end);
	if (q == p || q != end)
		return sip_fail(why, "bad CSeq");
	m->cseq = (uint32_t)seq;
	m->cseq_method = sip_str_make(p, q);
	return 0;
}

/* Only the first Contact matters to a UAS: it is the remote target of the
 * dialog (RFC 3261 section 12.1.1).
 */
static int
sip_contact_value(struct sip_msg *m, struct sip_str v, const char **why)
{
	struct sip_str rest;

	if (m->contact_uri.p != NULL)
		return 0;
	if (sip_addr_split(v, &m->contact_uri, &rest))
		return sip_fail(why, "bad Contact");
	return 0;
}

static int
sip_hdr_contact(struct sip_msg *m, struct sip_str v, const char **why)
{
	return sip_split_values(m, v, why, sip_contact_value);
}

static int
sip_rr_value(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (v.n == 0)
		return sip_fail(why, "empty Record-Route value");
	if (m->n_rr == SIP_MAX_RR)
		return sip_fail(why, "too many Record-Route values");
	m->record_route[m->n_rr++] = v;
	return 0;
}

/* Record-Route values are kept in order: a UAS copies them into its
 * response and its route set (RFC 3261 sections 12.1.1 and 16.6).
 */
static int
sip_hdr_rr(struct sip_msg *m, struct sip_str v, const char **why)
{
	return sip_split_values(m, v, why, sip_rr_value);
}

static int
sip_hdr_ctype(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (m->content_type.p != NULL)
		return sip_fail(why, "duplicate Content-Type");
	m->content_type = v;
	return 0;
}

static int
sip_hdr_require(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (m->n_require == SIP_MAX_LIST)
		return sip_fail(why, "too many Require headers");
	m->require[m->n_require++] = v;
	return 0;
}

static int
sip_hdr_accept(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (m->n_accept == SIP_MAX_LIST)
		return sip_fail(why, "too many Accept headers");
	m->accept[m->n_accept++] = v;
	return 0;
}

static int
sip_hdr_allow(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (m->n_allow == SIP_MAX_LIST)
		return sip_fail(why, "too many Allow headers");
	m->allow[m->n_allow++] = v;
	return 0;
}

static int
sip_hdr_supported(struct sip_msg *m, struct sip_str v, const char **why)
{
	if (m->n_supported == SIP_MAX_LIST)
		return sip_fail(why, "too many Supported headers");
	m->supported[m->n_supported++] = v;
	return 0;
}

/* Session-Expires: delta-seconds, then parameters of which refresher
 * is kept (RFC 4028 section 4).  0 seconds is well formed: shorter
 * than any Min-SE, it gets 422 (section 9) like any interval too small.
 */
static int
sip_hdr_session_expires(struct sip_msg *m, struct sip_str v,
			const char **why)
{
	const char *p = v.p, *end = v.p + v.n, *q;
	struct sip_str name, val;
	unsigned long se;
	int r;

	if (m->has_session_expires)
		return sip_fail(why, "duplicate Session-Expires");
	for (q = p; q < end && sip_is_digit(*q); q++)
		;
	if (sip_uint(sip_str_make(p, q), UINT32_MAX, &se))
		return sip_fail_value(why, "bad Session-Expires", v);
	p = q;
	while ((r = sip_hparam_next(&p, end, &name, &val)) > 0) {
		if (sip_str_caseeq(name, "refresher"))
			m->se_refresher = val;
	}
	if (r < 0 || (m->se_refresher.n != 0 &&
		      !sip_str_caseeq(m->se_refresher, "uac") &&
		      !sip_str_caseeq(m->se_refresher, "uas")))
		return sip_fail_value(why, "bad Session-Expires", v);
	m->has_session_expires = 1;
	m->session_expires = (uint32_t)se;
	return 0;
}

/* Min-SE: delta-seconds, parameters ignored (RFC 4028 section 5). */
static int
sip_hdr_min_se(struct sip_msg *m, struct sip_str v, const char **why)
{
	const char *p = v.p, *end = v.p + v.n, *q;
	unsigned long se;

	if (m->min_se != 0)
		return sip_fail(why, "duplicate Min-SE");
	for (q = p; q < end && sip_is_digit(*q); q++)
		;
	if (sip_uint(sip_str_make(p, q), UINT32_MAX, &se) || se == 0 ||
	    (q < end && *sip_skip_lws(q, end) != ';'))
		return sip_fail_value(why, "bad Min-SE", v);
	m->min_se = (uint32_t)se;
	return 0;
}

static int
sip_hdr_max_forwards(struct sip_msg *m, struct sip_str v, const char **why)
{
	unsigned long mf;

	if (m->max_forwards >= 0)
		return sip_fail(why, "duplicate Max-Forwards");
	if (sip_uint(v, 255, &mf))
		return sip_fail(why, "bad Max-Forwards");
	m->max_forwards = (int)mf;
	return 0;
}

/* A second Content-Length leaves the framing unknowable (RFC 4475
 * section 3.3.9), and a negative one is malformed (section 3.1.2.3).
 */
static int
sip_hdr_clen(struct sip_msg *m, struct sip_str v, const char **why)
{
	unsigned long len;

	if (m->content_length >= 0)
		return sip_fail(why, "duplicate Content-Length");
	if (sip_uint(v, SIP_CLEN_MAX, &len))
		return sip_fail_value(why, "bad Content-Length", v);
	m->content_length = (long)len;
	return 0;
}

typedef int (*sip_hdr_fn)(struct sip_msg *, struct sip_str, const char **);

/* Headers anncd reads, with their compact forms (RFC 3261 section 7.3.3).
 * Recognised headers without a handler are known but not needed.
 */
static const struct sip_hdr_def {
	const char *name;
	char compact;
	sip_hdr_fn parse;
} sip_hdrs[] = {
	{ "Via",		'v',	sip_hdr_via },
	{ "From",		'f',	sip_hdr_from },
	{ "To",			't',	sip_hdr_to },
	{ "Call-ID",		'i',	sip_hdr_call_id },
	{ "CSeq",		0,	sip_hdr_cseq },
	{ "Contact",		'm',	sip_hdr_contact },
	{ "Record-Route",	0,	sip_hdr_rr },
	{ "Content-Type",	'c',	sip_hdr_ctype },
	{ "Max-Forwards",	0,	sip_hdr_max_forwards },
	{ "Content-Length",	'l',	sip_hdr_clen },
	{ "Require",		0,	sip_hdr_require },
	{ "Accept",		0,	sip_hdr_accept },
	{ "Supported",		'k',	sip_hdr_supported },
	{ "Allow",		0,	sip_hdr_allow },
	{ "Session-Expires",	'x',	sip_hdr_session_expires },
	{ "Min-SE",		0,	sip_hdr_min_se },
	{ "Subject",		's',	NULL },
	{ "Content-Encoding",	'e',	NULL },
};

static const struct sip_hdr_def *
sip_hdr_lookup(struct sip_str name)
{
	size_t n = sizeof(sip_hdrs) / sizeof(sip_hdrs[0]);

	for (size_t i = 0; i < n; i++) {
		char c = sip_hdrs[i].compact;

		if (sip_str_caseeq(name, sip_hdrs[i].name))
			return &sip_hdrs[i];
		if (c != 0 && name.n == 1 && (name.p[0] | 0x20) == c)
			return &sip_hdrs[i];
	}
	return NULL;
}

static void
sip_note(const char **first, const char *rule)
{
	if (*first == NULL)
		*first = rule;
}

/* One header field, folds included: name, LWS, ':', value. */
static int
sip_parse_header(struct sip_msg *m, struct sip_str line, const char **why)
{
	const char *p = line.p, *end = line.p + line.n, *q;
	const struct sip_hdr_def *def;

	q = sip_skip_token(p, end);
	if (q == p)
		return sip_fail(why, "bad header name");
	def = sip_hdr_lookup(sip_str_make(p, q));
	p = sip_skip_lws(q, end);
	if (p == end || *p != ':')
		return sip_fail(why, "bad header line");
	if (def == NULL || def->parse == NULL)
		return 0;
	return def->parse(m, sip_str_trim(sip_str_make(p + 1, end)), why);
}

/* Returns the LF ending the header field at p, after any continuation
 * lines (those that start with SP or HT), or NULL when the header section
 * is not terminated within the buffer.
 */
static const char *
sip_field_end(const char *p, const char *end)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	while (lf != NULL && lf + 1 < end && sip_is_ws(lf[1]))
		lf = memchr(lf + 1, '\n', (size_t)(end - lf - 1));
	return lf;
}

/* Walks the header fields; returns the first byte of the body, after the
 * empty line, or NULL when the header section cannot be delimited.  A
 * header that breaks its own rule, or is longer than the line limit, is
 * noted in *first (unless a rule has failed before) and passed over, so
 * that the headers a 400 copies (RFC 3261 section 8.2.6) are read even
 * after it.  Past the header count limit nothing more is read: the 400
 * goes out if the fields before it are enough to answer.
 */
static const char *
sip_parse_headers(struct sip_msg *m, const char *p, const char *end,
		  const char **first)
{
	const char *lf, *why = NULL;
	unsigned int count = 0;
	size_t n;

	for (;;) {
		if (p < end && *p == '\n')
			return p + 1;
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			return p + 2;
		lf = sip_field_end(p, end);
		if (lf == NULL) {
			sip_note(first, "header section not terminated");
			return NULL;
		}
		n = (size_t)(lf - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (sip_is_ws(*p)) {
			sip_note(first, "bad header line");
			return NULL;
		}
		if (++count > sip_lim.max_headers) {
			sip_note(first, "header fields over --sip-max-headers");
			return NULL;
		}
		if (n > sip_lim.max_line)
			sip_note(first, "header line over --sip-max-line-bytes");
		else if (sip_parse_header(m, sip_str_make(p, p + n), &why))
			sip_note(first, why);
		p = lf + 1;
	}
}

/* Status-Line (RFC 3261 section 7.2): a three-digit code, so 4294967301
 * never wraps into something small (RFC 4475 section 3.1.2.19), and a
 * reason phrase that may be empty (section 3.1.1.13).
 */
static int
sip_parse_status_line(struct sip_msg *m, const char *p, const char *end,
		      const char **why)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p)), *c;
	unsigned long code;

	if (sp == NULL)
		return sip_fail(why, "bad status line");
	if (!sip_str_caseeq(sip_str_make(p, sp), "SIP/2.0"))
		return sip_fail(why, "unsupported SIP version");
	c = sp + 1;
	if (end - c < 3 || (end - c > 3 && c[3] != ' ') ||
	    sip_uint(sip_str_make(c, c + 3), 699, &code) || code < 100)
		return sip_fail(why, "bad status code");
	m->status = (int)code;
	m->reason = sip_str_make(end - c > 3 ? c + 4 : end, end);
	return 0;
}

static int
sip_is_uri_char(char c)
{
	return c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '"';
}

/* Request-Line (RFC 3261 section 7.1): single spaces only, so a URI with
 * embedded LWS (RFC 4475 section 3.1.2.8) or in <> (section 3.1.2.7) and
 * stray spaces (sections 3.1.2.9 and 3.1.2.10) are refused.
 */
static int
sip_parse_request_line(struct sip_msg *m, const char *p, const char *end,
		       const char **why)
{
	const char *q = sip_skip_token(p, end), *sp;

	if (q == p || q == end || *q != ' ')
		return sip_fail(why, "bad request line");
	m->is_request = 1;
	m->method = sip_str_make(p, q);
	p = q + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || sp == p || memchr(sp + 1, ' ', (size_t)(end - sp - 1)))
		return sip_fail(why, "bad request line");
	for (q = p; q < sp; q++) {
		if (!sip_is_uri_char(*q))
			return sip_fail(why, "bad Request-URI");
	}
	m->ruri = sip_str_make(p, sp);
	if (!sip_str_caseeq(sip_str_make(sp + 1, end), "SIP/2.0")) {
		m->fail_code = 505;	/* RFC 3261 section 8.2.2 */
		return sip_fail(why, "unsupported SIP version");
	}
	return 0;
}

/* The headers every request and response carries (RFC 3261 section
 * 8.1.1), checked before anything relies on them.
 */
static int
sip_check_mandatory(struct sip_msg *m, const char **why)
{
	if (m->n_via == 0)
		return sip_fail(why, "missing Via");
	if (m->from.p == NULL)
		return sip_fail(why, "missing From");
	if (m->to.p == NULL)
		return sip_fail(why, "missing To");
	if (m->call_id.p == NULL)
		return sip_fail(why, "missing Call-ID");
	if (m->cseq_method.p == NULL)
		return sip_fail(why, "missing CSeq");
	if (sip_via_top(m))
		return sip_fail(why, "bad Via");
	if (m->is_request && (m->cseq_method.n != m->method.n ||
	    memcmp(m->cseq_method.p, m->method.p, m->method.n) != 0))
		return sip_fail(why, "CSeq method does not match request");
	return 0;
}

/* The body is framed by Content-Length and nothing else: it may hold NUL
 * bytes (RFC 4475 section 3.1.1.11), and bytes past it in a datagram are
 * ignored (section 3.1.1.8).  Without Content-Length a datagram's body is
 * the rest of it (RFC 3261 section 18.3).
 */
static int
sip_frame_body(struct sip_msg *m, const char *p, const char *end,
	       const char **why)
{
	size_t avail = (size_t)(end - p);

	if (m->content_length < 0) {
		m->body = sip_str_make(p, end);
		return 0;
	}
	if ((unsigned long)m->content_length > avail) {
		snprintf(sip_fail_text, sizeof(sip_fail_text),
			 "Content-Length %ld larger than the %zu bytes of body",
			 m->content_length, avail);
		return sip_fail(why, sip_fail_text);
	}
	m->body = sip_str_make(p, p + m->content_length);
	return 0;
}

int
sip_parse(const char *buf, size_t len, struct sip_msg *m, const char **why)
{
	const char *p = buf, *end = buf + len, *lf, *eol;
	const char *rule = NULL, *w = NULL;

	memset(m, 0, sizeof(*m));
	m->max_forwards = -1;
	m->content_length = -1;
	if (len == 0)
		return sip_fail(why, "empty message");

	/* CRLFs before the start line are keep-alives (section 7.5). */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	lf = memchr(p, '\n', (size_t)(end - p));
	if (lf == NULL)
		return sip_fail(why, "no start line");
	eol = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
	if (end - p >= 4 && memcmp(p, "SIP/", 4) == 0) {
		if (sip_parse_status_line(m, p, eol, why))
			return -1;	/* a response is only dropped */
	} else {
		sip_parse_request_line(m, p, eol, &rule);
	}

	/* Past a broken request line or header the rest is still read, for
	 * the answer; the first rule broken is the one reported.
	 */
	p = sip_parse_headers(m, lf + 1, end, &rule);
	if (p != NULL && sip_check_mandatory(m, &w) && rule == NULL)
		rule = w;
	if (p != NULL && rule == NULL && sip_frame_body(m, p, end, &w))
		rule = w;
	if (rule == NULL)
		return 0;
	if (m->fail_code == 0)
		m->fail_code = 400;
	return sip_fail(why, rule);
}

/* Copies a header value with each fold turned into one SP, so a response
 * never carries the peer's line breaks.
 */
static void
sip_put_value(struct strbuf *o, struct sip_str v)
{
	size_t i = 0, start = 0;

	while (i < v.n) {
		if (v.p[i] != '\r' && v.p[i] != '\n') {
			i++;
			continue;
		}
		strbuf_put(o, v.p + start, i - start);
		while (i < v.n && sip_is_lws(v.p[i]))
			i++;
		strbuf_put(o, " ", 1);
		start = i;
	}
	strbuf_put(o, v.p + start, i - start);
}

static void
sip_put_header(struct strbuf *o, const char *name, struct sip_str v)
{
	strbuf_puts(o, name);
	sip_put_value(o, v);
	strbuf_put(o, "\r\n", 2);
}

int
sip_build_response(char *out, size_t cap, const struct sip_msg *req,
		   int code, const char *reason, const char *to_tag,
		   const char *extra, const char *body_type,
		   const char *body, size_t body_len)
{
	struct strbuf o;

	strbuf_init(&o, out, cap);
	if (code < 100 || code > 699)
		return -1;
	/* Appended piece by piece: no format is parsed for a response. */
	strbuf_putl(&o, "SIP/2.0 ");
	strbuf_putu(&o, (unsigned int)code);
	strbuf_putl(&o, " ");
	/* A reason may quote the caller's words: no line break in it (RFC
	 * 3261 section 25.1, Reason-Phrase), or it would add header lines. */
	if (reason != NULL)
		sip_put_value(&o, (struct sip_str){ .p = reason,
						    .n = strlen(reason) });
	strbuf_putl(&o, "\r\n");
	for (unsigned int i = 0; i < req->n_via; i++)
		sip_put_header(&o, "Via: ", req->via[i]);
	sip_put_header(&o, "From: ", req->from);
	strbuf_putl(&o, "To: ");
	sip_put_value(&o, req->to);
	if (to_tag != NULL && req->to_tag.n == 0) {
		strbuf_putl(&o, ";tag=");
		strbuf_puts(&o, to_tag);
	}
	strbuf_putl(&o, "\r\n");
	sip_put_header(&o, "Call-ID: ", req->call_id);
	if (req->cseq_method.n > 0) {
		strbuf_putl(&o, "CSeq: ");
		strbuf_putu(&o, req->cseq);
		sip_put_header(&o, " ", req->cseq_method);
	} else {
		/* A 400 for a CSeq out of range carries it as it came. */
		sip_put_header(&o, "CSeq: ", req->cseq_value);
	}
	if (extra != NULL)
		strbuf_puts(&o, extra);
	if (body != NULL && body_type != NULL) {
		strbuf_putl(&o, "Content-Type: ");
		strbuf_puts(&o, body_type);
		strbuf_putl(&o, "\r\n");
	}
	strbuf_putl(&o, "Content-Length: ");
	strbuf_putu(&o, body ? body_len : 0);
	strbuf_putl(&o, "\r\n\r\n");
	if (body != NULL)
		strbuf_put(&o, body, body_len);
	return strbuf_result(&o);
}
