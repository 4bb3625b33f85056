/* SDP for one announcement stream: reads the caller's offer (RFC 4566),
 * picks the m= line anncd sends on, and writes the answer (RFC 3264
 * section 6) that goes into the 200 OK.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "control/sdp.h"
#include "core/strbuf.h"
#include "core/strnum.h"

/* G.711 runs at 8000 Hz whatever the payload type (RFC 3551 section 6). */
#define SDP_G711_CLOCK	8000

struct sdp_tok {
	const char *p;
	size_t n;
};

struct sdp_parser {
	struct sdp_session *s;
	enum sdp_dir sess_dir;		/* default for the m= lines */
	int sess_has_c;
	unsigned int media_has_c;	/* bit i: m= line i has its own c= */
};

static const char *const sdp_dir_names[] = {
	[SDP_SENDRECV] = "sendrecv",
	[SDP_SENDONLY] = "sendonly",
	[SDP_RECVONLY] = "recvonly",
	[SDP_INACTIVE] = "inactive",
};

static const struct sdp_codec {
	enum media_codec codec;
	uint8_t static_pt;		/* RFC 3551 section 6, table 4 */
	const char *name;
} sdp_codecs[] = {
	{ MEDIA_CODEC_PCMU, 0, "PCMU" },
	{ MEDIA_CODEC_PCMA, 8, "PCMA" },
};

static int
sdp_fail(const char **why, const char *rule)
{
	if (why != NULL)
		*why = rule;
	return -1;
}

/* Next field of a line; fields are separated by single spaces (RFC 4566
 * section 5), more are tolerated.  Returns 0 when there is none.
 */
static int
sdp_field(const char **pp, const char *end, struct sdp_tok *t)
{
	const char *p = *pp;

	while (p < end && *p == ' ')
		p++;
	if (p == end)
		return 0;
	t->p = p;
	while (p < end && *p != ' ')
		p++;
	t->n = (size_t)(p - t->p);
	*pp = p;
	return 1;
}

static int
sdp_tok_eq(struct sdp_tok t, const char *c)
{
	return t.n == strlen(c) && memcmp(t.p, c, t.n) == 0;
}

/* token of RFC 4566 section 9, or with slash set a proto (tokens joined
 * by '/').  The answer repeats the media type and proto of every m= line,
 * so a NUL, CR or other byte outside the grammar must not get through.
 */
static int
sdp_is_token(struct sdp_tok t, int slash)
{
	for (size_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.p[i];

		if (c == '/' && slash)
			continue;
		if (c < 0x21 || c > 0x7e || strchr("\"(),/:;<=>?@[\\]", c))
			return 0;
	}
	return 1;
}

static int
sdp_uint(struct sdp_tok t, unsigned long max, unsigned long *out)
{
	return strnum_parse(t.p, t.n, max, out);
}

/* Dotted-quad IPv4 address, with an optional "/ttl" of a multicast
 * connection address (RFC 4566 section 5.7) ignored.
 */
static int
sdp_ipv4(struct sdp_tok t, uint32_t *addr)
{
	const char *p = t.p, *end = t.p + t.n, *slash;
	unsigned long v;
	uint8_t b[4];

	slash = memchr(p, '/', t.n);
	end = slash ? slash : end;
	for (int i = 0; i < 4; i++) {
		const char *q = p;

		while (q < end && q - p < 3 && *q >= '0' && *q <= '9')
			q++;
		if (sdp_uint((struct sdp_tok){ p, (size_t)(q - p) }, 255, &v))
			return -1;
		b[i] = (uint8_t)v;
		if (i < 3 && (q == end || *q++ != '.'))
			return -1;
		p = q;
	}
	if (p != end)
		return -1;
	memcpy(addr, b, sizeof(b));
	return 0;
}

static int
sdp_line_v(struct sdp_parser *ps, const char *p, const char *end,
	   const char **why)
{
	(void)ps;
	if (end - p != 1 || *p != '0')
		return sdp_fail(why, "bad v= line");
	return 0;
}

/* c= before the first m= is the session's, after it the media's (RFC
 * 4566 section 5.7).  anncd sends IPv4 only.
 */
static int
sdp_line_c(struct sdp_parser *ps, const char *p, const char *end,
	   const char **why)
{
	struct sdp_session *s = ps->s;
	struct sdp_tok net, type, addr, extra;
	uint32_t a;

	if (!sdp_field(&p, end, &net) || !sdp_field(&p, end, &type) ||
	    !sdp_field(&p, end, &addr) || sdp_field(&p, end, &extra))
		return sdp_fail(why, "bad c= line");
	if (!sdp_tok_eq(net, "IN") || !sdp_tok_eq(type, "IP4"))
		return sdp_fail(why, "c= line not IN IP4");
	if (sdp_ipv4(addr, &a))
		return sdp_fail(why, "bad address in c= line");
	if (s->n_media == 0) {
		s->addr = a;
		ps->sess_has_c = 1;
	} else {
		s->media[s->n_media - 1].addr = a;
		ps->media_has_c |= 1u << (s->n_media - 1);
	}
	return 0;
}

/* "port" or "port/count" (RFC 4566 section 5.14); the count of a
 * hierarchically encoded stream does not matter to a single stream.
 */
static int
sdp_port(struct sdp_tok t, uint16_t *port)
{
	const char *slash = memchr(t.p, '/', t.n);
	unsigned long v, count;

	if (slash != NULL) {
		struct sdp_tok c = { slash + 1, (size_t)(t.p + t.n - slash - 1) };

		if (sdp_uint(c, 65535, &count) || count == 0)
			return -1;
		t.n = (size_t)(slash - t.p);
	}
	if (sdp_uint(t, 65535, &v))
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Under an RTP profile every format is a payload type, 0 to 127 (RFC
 * 3551 section 3); under any other proto, formats that are not such
 * numbers ("webrtc-datachannel") are skipped.
 */
static int
sdp_fmts(struct sdp_media *md, const char *p, const char *end)
{
	int rtp = strstr(md->proto, "RTP/") != NULL;
	struct sdp_tok f;
	unsigned long pt;
	unsigned int seen = 0;

	while (sdp_field(&p, end, &f)) {
		seen++;
		if (sdp_uint(f, 127, &pt)) {
			if (rtp)
				return -1;
			continue;
		}
		if (md->n_fmt < SDP_MAX_FMT)
			md->fmt[md->n_fmt++] = (uint8_t)pt;
	}
	return seen ? 0 : -1;
}

static int
sdp_line_m(struct sdp_parser *ps, const char *p, const char *end,
	   const char **why)
{
	struct sdp_session *s = ps->s;
	struct sdp_tok type, port, proto;
	struct sdp_media *md;

	if (s->n_media == SDP_MAX_MEDIA)
		return sdp_fail(why, "too many m= lines");
	md = &s->media[s->n_media];
	if (!sdp_field(&p, end, &type) || !sdp_field(&p, end, &port) ||
	    !sdp_field(&p, end, &proto) || type.n >= sizeof(md->type) ||
	    proto.n >= sizeof(md->proto) || !sdp_is_token(type, 0) ||
	    !sdp_is_token(proto, 1))
		return sdp_fail(why, "bad m= line");

	memset(md, 0, sizeof(*md));
	memcpy(md->type, type.p, type.n);
	memcpy(md->proto, proto.p, proto.n);
	md->dir = ps->sess_dir;
	md->addr = s->addr;
	if (sdp_port(port, &md->port))
		return sdp_fail(why, "bad port in m= line");
	if (sdp_fmts(md, p, end))
		return sdp_fail(why, "bad format in m= line");
	s->n_media++;
	return 0;
}

/* a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]
 * (RFC 4566 section 6).  One that cannot be read is ignored like an
 * unknown attribute: RFC 4475's bodies carry "a=rtpmap:31 LPC".
 */
static void
sdp_rtpmap(struct sdp_media *md, struct sdp_tok v)
{
	const char *p = v.p, *end = v.p + v.n, *slash, *clk_end;
	struct sdp_tok pt, enc, extra;
	unsigned long n, clock;
	struct sdp_rtpmap *r;

	if (!sdp_field(&p, end, &pt) || !sdp_field(&p, end, &enc) ||
	    sdp_field(&p, end, &extra) || sdp_uint(pt, 127, &n) ||
	    md->n_rtpmap == SDP_MAX_FMT)
		return;
	slash = memchr(enc.p, '/', enc.n);
	if (slash == NULL || slash == enc.p ||
	    (size_t)(slash - enc.p) >= sizeof(r->name))
		return;
	clk_end = memchr(slash + 1, '/', (size_t)(enc.p + enc.n - slash - 1));
	clk_end = clk_end ? clk_end : enc.p + enc.n;
	if (sdp_uint((struct sdp_tok){ slash + 1, (size_t)(clk_end - slash - 1) },
		     UINT32_MAX, &clock))
		return;
	r = &md->rtpmap[md->n_rtpmap++];
	r->pt = (uint8_t)n;
	memcpy(r->name, enc.p, (size_t)(slash - enc.p));
	r->name[slash - enc.p] = '\0';
	r->clock = (uint32_t)clock;
}

/* a=rtcp:<port> [<nettype> <addrtype> <address>] (RFC 3605 section 2.1).
 * Only the port is kept: RTCP goes to the media's address.  One that
 * cannot be read is ignored, and RTCP goes to the RTP port + 1.
 */
static void
sdp_rtcp(struct sdp_media *md, struct sdp_tok v)
{
	const char *p = v.p, *end = v.p + v.n;
	struct sdp_tok port;
	unsigned long n;

	if (sdp_field(&p, end, &port) && !sdp_uint(port, 65535, &n) && n != 0)
		md->rtcp_port = (uint16_t)n;
}

/* Direction attributes apply to the session before the first m= line and
 * to their media after it (RFC 4566 section 6, RFC 3264 section 5.1);
 * rtpmap, ptime and rtcp only mean something under an m= line.
 */
static int
sdp_line_a(struct sdp_parser *ps, const char *p, const char *end,
	   const char **why)
{
	struct sdp_session *s = ps->s;
	struct sdp_media *md = s->n_media ? &s->media[s->n_media - 1] : NULL;
	const char *colon = memchr(p, ':', (size_t)(end - p));
	struct sdp_tok name = { p, (size_t)((colon ? colon : end) - p) };
	struct sdp_tok val = { colon ? colon + 1 : end, 0 };
	unsigned long ptime;

	(void)why;
	val.n = (size_t)(end - val.p);
	for (int d = SDP_SENDRECV; d <= SDP_INACTIVE; d++) {
		if (!sdp_tok_eq(name, sdp_dir_names[d]))
			continue;
		if (md != NULL)
			md->dir = (enum sdp_dir)d;
		else
			ps->sess_dir = (enum sdp_dir)d;
		return 0;
	}
	if (md == NULL)
		return 0;
	if (sdp_tok_eq(name, "rtpmap"))
		sdp_rtpmap(md, val);
	else if (sdp_tok_eq(name, "ptime") && !sdp_uint(val, 10000, &ptime))
		md->ptime = (unsigned int)ptime;
	else if (sdp_tok_eq(name, "rtcp"))
		sdp_rtcp(md, val);
	return 0;
}

typedef int (*sdp_line_fn)(struct sdp_parser *, const char *, const char *,
			   const char **);

/* The lines anncd needs; o=, s=, t= and the rest are read past. */
static const struct {
	char type;
	sdp_line_fn parse;
} sdp_lines[] = {
	{ 'v', sdp_line_v },
	{ 'c', sdp_line_c },
	{ 'm', sdp_line_m },
	{ 'a', sdp_line_a },
};

/* One "<type>=<value>" line (RFC 4566 section 5); v= comes first. */
static int
sdp_line(struct sdp_parser *ps, const char *p, const char *end,
	 unsigned int index, const char **why)
{
	size_t n = sizeof(sdp_lines) / sizeof(sdp_lines[0]);

	if (end - p < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
		return sdp_fail(why, "bad SDP line");
	if (index == 0 && p[0] != 'v')
		return sdp_fail(why, "no v= line");
	for (size_t i = 0; i < n; i++) {
		if (sdp_lines[i].type == p[0])
			return sdp_lines[i].parse(ps, p + 2, end, why);
	}
	return 0;
}

int
sdp_parse(const char *body, size_t len, struct sdp_session *s,
	  const char **why)
{
	struct sdp_parser ps = { s, SDP_SENDRECV, 0, 0 };
	const char *p = body, *end = body + len, *lf, *eol;
	unsigned int lines = 0;

	memset(s, 0, sizeof(*s));
	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		eol = lf ? lf : end;
		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol > p && sdp_line(&ps, p, eol, lines++, why))
			return -1;
		p = lf ? lf + 1 : end;
	}
	if (lines == 0)
		return sdp_fail(why, "empty SDP");

	/* Each m= line needs a c= of its own or the session's (RFC 4566
	 * section 5.7).
	 */
	for (unsigned int i = 0; i < s->n_media; i++) {
		if (!ps.sess_has_c && !(ps.media_has_c & (1u << i)))
			return sdp_fail(why, "no c= line");
	}
	return 0;
}

static const struct sdp_codec *
sdp_codec_find(enum media_codec codec)
{
	size_t n = sizeof(sdp_codecs) / sizeof(sdp_codecs[0]);

	for (size_t i = 0; i < n; i++) {
		if (sdp_codecs[i].codec == codec)
			return &sdp_codecs[i];
	}
	return NULL;
}

/* The first format of md that is c: by an rtpmap naming it at 8000 Hz
 * (any payload type, names case-insensitive per RFC 4855 section 3), or
 * by its static payload type when no rtpmap redefines that.
 */
static int
sdp_media_offers(const struct sdp_media *md, const struct sdp_codec *c)
{
	for (unsigned int i = 0; i < md->n_fmt; i++) {
		const struct sdp_rtpmap *rm = NULL;

		for (unsigned int j = 0; j < md->n_rtpmap && rm == NULL; j++) {
			if (md->rtpmap[j].pt == md->fmt[i])
				rm = &md->rtpmap[j];
		}
		if (rm != NULL && strcasecmp(rm->name, c->name) == 0 &&
		    rm->clock == SDP_G711_CLOCK)
			return md->fmt[i];
		if (rm == NULL && md->fmt[i] == c->static_pt)
			return md->fmt[i];
	}
	return -1;
}

int
sdp_pick(const struct sdp_session *s, enum media_codec codec, uint8_t *pt)
{
	const struct sdp_codec *c = sdp_codec_find(codec);
	int r;

	if (c == NULL)
		return -1;
	for (unsigned int i = 0; i < s->n_media; i++) {
		const struct sdp_media *md = &s->media[i];

		if (strcmp(md->type, "audio") != 0 || md->port == 0 ||
		    strcmp(md->proto, "RTP/AVP") != 0)
			continue;
		r = sdp_media_offers(md, c);
		if (r >= 0) {
			*pt = (uint8_t)r;
			return (int)i;
		}
	}
	return -1;
}

/* Bit 0: the side whose direction this is sends; bit 1: it receives. */
static const unsigned int sdp_dir_bits[] = {
	[SDP_SENDRECV] = 3,
	[SDP_SENDONLY] = 1,
	[SDP_RECVONLY] = 2,
	[SDP_INACTIVE] = 0,
};

static const enum sdp_dir sdp_bits_dir[] = {
	SDP_INACTIVE, SDP_SENDONLY, SDP_RECVONLY, SDP_SENDRECV,
};

enum sdp_dir
sdp_answer_dir(enum sdp_dir offered, enum sdp_dir wanted)
{
	unsigned int off, ans;

	if ((unsigned int)offered > SDP_INACTIVE ||
	    (unsigned int)wanted > SDP_INACTIVE)
		return SDP_INACTIVE;
	off = sdp_dir_bits[offered];
	/* We send what the offerer receives, and receive what it sends. */
	ans = sdp_dir_bits[wanted] & (((off >> 1) & 1u) | ((off & 1u) << 1));
	return sdp_bits_dir[ans];
}

static void
sdp_put_addr(struct strbuf *o, const char *prefix, uint32_t addr)
{
	uint8_t b[4];

	memcpy(b, &addr, sizeof(b));
	strbuf_putf(o, "%sIN IP4 %u.%u.%u.%u\r\n", prefix, b[0], b[1], b[2], b[3]);
}

/* A declined stream keeps its place with port 0 and its formats (RFC
 * 3264 section 6); "*" stands in when none of them was a number.
 */
static void
sdp_put_declined(struct strbuf *o, const struct sdp_media *md)
{
	strbuf_putf(o, "m=%s 0 %s", md->type, md->proto);
	for (unsigned int i = 0; i < md->n_fmt; i++)
		strbuf_putf(o, " %u", md->fmt[i]);
	strbuf_putf(o, "%s\r\n", md->n_fmt ? "" : " *");
}

static void
sdp_put_streamed(struct strbuf *o, const struct sdp_answer *a,
		 const struct sdp_codec *c)
{
	strbuf_putf(o, "m=audio %u RTP/AVP %u\r\n", a->port, a->pt);
	strbuf_putf(o, "a=rtpmap:%u %s/%u\r\n", a->pt, c->name, SDP_G711_CLOCK);
	if (a->ptime != 0)
		strbuf_putf(o, "a=ptime:%u\r\n", a->ptime);
	strbuf_putf(o, "a=%s\r\n", sdp_dir_names[a->dir]);
}

int
sdp_build_answer(char *out, size_t cap, const struct sdp_answer *a)
{
	struct strbuf o;
	const struct sdp_codec *c = sdp_codec_find(a->codec);
	const struct sdp_session *s = a->offer;

	strbuf_init(&o, out, cap);
	if (c == NULL || s == NULL || a->media_index < 0 ||
	    (unsigned int)a->media_index >= s->n_media ||
	    (unsigned int)a->dir > SDP_INACTIVE)
		return -1;
	strbuf_putf(&o, "v=0\r\no=anncd %" PRIu64 " %" PRIu64 " ",
		 a->sess_id, a->sess_version);
	sdp_put_addr(&o, "", a->addr);
	strbuf_putf(&o, "s=-\r\n");
	sdp_put_addr(&o, "c=", a->addr);
	strbuf_putf(&o, "t=0 0\r\n");
	for (unsigned int i = 0; i < s->n_media; i++) {
		if (i == (unsigned int)a->media_index)
			sdp_put_streamed(&o, a, c);
		else
			sdp_put_declined(&o, &s->media[i]);
	}
	return strbuf_result(&o);
}
