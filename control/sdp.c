/* SDP for the announcement streams: reads the caller's offer (RFC 4566),
 * chooses the m= line and payload format of each stream anncd sends, and
 * writes the answer (RFC 3264 section 6) that goes into the 200 OK; or,
 * for an INVITE without a body, writes the offer and reads the answer.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "control/sdp.h"
#include "core/strbuf.h"
#include "core/strnum.h"

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

/* <encoding name>/<clock rate>[/<channels>] of an rtpmap into r. */
static int
sdp_rtpmap_enc(struct sdp_tok enc, struct sdp_rtpmap *r)
{
	const char *slash, *end = enc.p + enc.n, *clk_end;
	unsigned long clock, ch = 1;

	slash = memchr(enc.p, '/', enc.n);
	if (slash == NULL || slash == enc.p ||
	    (size_t)(slash - enc.p) >= sizeof(r->name))
		return -1;
	clk_end = memchr(slash + 1, '/', (size_t)(end - slash - 1));
	if (clk_end != NULL &&
	    sdp_uint((struct sdp_tok){ clk_end + 1,
				       (size_t)(end - clk_end - 1) }, 255, &ch))
		return -1;
	clk_end = clk_end ? clk_end : end;
	if (sdp_uint((struct sdp_tok){ slash + 1, (size_t)(clk_end - slash - 1) },
		     UINT32_MAX, &clock) || ch == 0)
		return -1;
	memcpy(r->name, enc.p, (size_t)(slash - enc.p));
	r->name[slash - enc.p] = '\0';
	r->clock = (uint32_t)clock;
	r->channels = (uint8_t)ch;
	return 0;
}

/* a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]
 * (RFC 4566 section 6).  One that cannot be read is ignored like an
 * unknown attribute: RFC 4475's bodies carry "a=rtpmap:31 LPC".
 */
static void
sdp_rtpmap(struct sdp_media *md, struct sdp_tok v)
{
	const char *p = v.p, *end = v.p + v.n;
	struct sdp_tok pt, enc, extra;
	unsigned long n;
	struct sdp_rtpmap *r;

	if (!sdp_field(&p, end, &pt) || !sdp_field(&p, end, &enc) ||
	    sdp_field(&p, end, &extra) || sdp_uint(pt, 127, &n) ||
	    md->n_rtpmap == SDP_MAX_FMT)
		return;
	r = &md->rtpmap[md->n_rtpmap];
	memset(r, 0, sizeof(*r));
	if (sdp_rtpmap_enc(enc, r) < 0)
		return;
	r->pt = (uint8_t)n;
	md->n_rtpmap++;
}

/* mode-set=0,2,5,7 (RFC 4867 section 8.1): modes 0 to 8 of AMR-WB. */
static uint16_t
sdp_mode_set(struct sdp_tok v)
{
	const char *p = v.p, *end = v.p + v.n, *comma;
	unsigned long m;
	uint16_t set = 0;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		comma = comma ? comma : end;
		if (!sdp_uint((struct sdp_tok){ p, (size_t)(comma - p) }, 8, &m))
			set |= (uint16_t)(1u << m);
		p = comma + (comma < end);
	}
	return set;
}

/* a=fmtp:<payload type> <name>=<value>;... (RFC 4566 section 6).  Only
 * the AMR parameters that change the payload's layout are kept (RFC 4867
 * section 8.3: octet-align must be the same in offer and answer); the
 * rest is read past.
 */
static void
sdp_fmtp(struct sdp_media *md, struct sdp_tok v)
{
	const char *p = v.p, *end = v.p + v.n, *semi, *eq;
	struct sdp_tok pt, name, val;
	struct sdp_fmtp *f;
	unsigned long n;

	if (!sdp_field(&p, end, &pt) || sdp_uint(pt, 127, &n) ||
	    md->n_fmtp == SDP_MAX_FMT)
		return;
	f = &md->fmtp[md->n_fmtp++];
	memset(f, 0, sizeof(*f));
	f->pt = (uint8_t)n;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == ';'))
			p++;
		semi = memchr(p, ';', (size_t)(end - p));
		semi = semi ? semi : end;
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL) {
			name = (struct sdp_tok){ p, (size_t)(eq - p) };
			val = (struct sdp_tok){ eq + 1, (size_t)(semi - eq - 1) };
			if (sdp_tok_eq(name, "octet-align"))
				f->octet_align = sdp_tok_eq(val, "1");
			else if (sdp_tok_eq(name, "mode-set"))
				f->mode_set = sdp_mode_set(val);
		}
		p = semi;
	}
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
 * rtpmap, fmtp, ptime, maxptime and rtcp only mean something under an
 * m= line.
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
	unsigned long ms;

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
	else if (sdp_tok_eq(name, "fmtp"))
		sdp_fmtp(md, val);
	else if (sdp_tok_eq(name, "ptime") && !sdp_uint(val, 10000, &ms))
		md->ptime = (unsigned int)ms;
	else if (sdp_tok_eq(name, "maxptime") && !sdp_uint(val, 10000, &ms))
		md->maxptime = (unsigned int)ms;
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


/* ---- choosing what to send ---- */

static const struct sdp_rtpmap *
sdp_rtpmap_of(const struct sdp_media *md, uint8_t pt)
{
	for (unsigned int j = 0; j < md->n_rtpmap; j++) {
		if (md->rtpmap[j].pt == pt)
			return &md->rtpmap[j];
	}
	return NULL;
}

static const struct sdp_fmtp *
sdp_fmtp_of(const struct sdp_media *md, uint8_t pt)
{
	for (unsigned int j = 0; j < md->n_fmtp; j++) {
		if (md->fmtp[j].pt == pt)
			return &md->fmtp[j];
	}
	return NULL;
}

/* Names are case-insensitive (RFC 4855 section 3); a static payload type
 * means its RFC 3551 format unless an rtpmap says otherwise.
 */
static int
sdp_fmt_is(const struct sdp_media *md, uint8_t pt, const struct media_fmt *f)
{
	const struct sdp_rtpmap *rm = sdp_rtpmap_of(md, pt);

	if (rm == NULL)
		return f->static_pt >= 0 && pt == f->static_pt;
	return strcasecmp(rm->name, f->name) == 0 &&
	       rm->clock == f->clock_rate &&
	       rm->channels == (f->channels ? f->channels : 1);
}

static int
sdp_is_amr(const struct media_fmt *f)
{
	return f->codec == MEDIA_CODEC_AMR || f->codec == MEDIA_CODEC_AMR_WB;
}

/* RFC 4867 section 8.3: octet-align names a payload format of its own,
 * so an AMR format matches only the offered types that agree on it.
 */
int
sdp_match(const struct sdp_media *md, const struct media_fmt *f,
	  int *octet_align)
{
	const struct sdp_fmtp *fp;
	int oa;

	for (unsigned int i = 0; i < md->n_fmt; i++) {
		if (!sdp_fmt_is(md, md->fmt[i], f))
			continue;
		fp = sdp_fmtp_of(md, md->fmt[i]);
		oa = fp != NULL && fp->octet_align;
		if (sdp_is_amr(f) && oa != !!(f->flags & MEDIA_FMT_AMR_OCTET))
			continue;
		*octet_align = oa;
		return md->fmt[i];
	}
	return -1;
}

int
sdp_ptime(const struct sdp_media *md, const struct media_fmt *f)
{
	unsigned int frame = f->frame_ms, want, max;

	if (frame == 0)
		return 0;
	max = f->max_frame_ms ? f->max_frame_ms : SDP_MAX_PTIME;
	/* RFC 4566 section 6: maxptime bounds every packet we send. */
	if (md->maxptime != 0 && md->maxptime < max)
		max = md->maxptime;
	if (max < frame)
		return -1;
	want = md->ptime ? md->ptime : SDP_DEFAULT_PTIME;
	if (want > max)
		want = max;
	want -= want % frame;
	return (int)(want ? want : frame);
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

/* anncd sends and never plays what it receives: a stream it may not send
 * on is inactive, whatever it could receive (RFC 3264 section 6.1).
 */
static enum sdp_dir
sdp_send_dir(enum sdp_dir offered, enum sdp_dir wanted)
{
	enum sdp_dir d = sdp_answer_dir(offered, wanted);

	return (sdp_dir_bits[d] & 1u) ? d : SDP_INACTIVE;
}

static const char *const sdp_kind_names[] = {
	[MEDIA_KIND_AUDIO] = "audio",
	[MEDIA_KIND_VIDEO] = "video",
};

/* An m= line anncd can send kind on: RTP/AVP (no SRTP), a port (0
 * declines, RFC 3264 section 5.1) and a unicast address.
 */
static int
sdp_usable(const struct sdp_media *md, enum media_kind kind)
{
	uint32_t a = ntohl(md->addr);

	return strcmp(md->type, sdp_kind_names[kind]) == 0 &&
	       strcmp(md->proto, "RTP/AVP") == 0 && md->port != 0 &&
	       a != 0 && a != INADDR_BROADCAST && (a >> 28) < 0xe;
}

/* The refusal's text: what the content could have been sent as. */
static void
sdp_refuse(struct sdp_refusal *why, int code, const char *what,
	   const struct media_fmt *fmts, unsigned int n)
{
	struct strbuf o;

	strbuf_init(&o, why->text, sizeof(why->text));
	why->warn_code = code;
	strbuf_puts(&o, what);
	for (unsigned int i = 0; i < n; i++)
		strbuf_putf(&o, "%s%s/%u", i ? ", " : " ", fmts[i].name,
			    fmts[i].clock_rate);
	if (strbuf_result(&o) < 0)
		memcpy(why->text + sizeof(why->text) - 4, "...", 4);
}

/* Whether line i offers f in a packet time it allows; fills st if so. */
static int
sdp_try(const struct sdp_session *s, unsigned int i,
	const struct media_fmt *f, enum sdp_dir wanted,
	struct sdp_stream *st)
{
	const struct sdp_media *md = &s->media[i];
	int pt, octet, ptime;

	pt = sdp_match(md, f, &octet);
	ptime = pt < 0 ? -1 : sdp_ptime(md, f);
	if (ptime < 0)
		return 0;
	memset(st, 0, sizeof(*st));
	st->media_index = (int)i;
	st->pt = (uint8_t)pt;
	st->fmt = *f;
	st->ptime = (unsigned int)ptime;
	st->maxptime = md->maxptime;
	st->dir = sdp_send_dir(md->dir, wanted);
	return 1;
}

int
sdp_choose(const struct sdp_session *s, enum media_kind kind,
	   const struct media_fmt *fmts, unsigned int n, enum sdp_dir wanted,
	   struct sdp_stream *st, struct sdp_refusal *why)
{
	unsigned int usable = 0;

	if ((unsigned int)kind > MEDIA_KIND_VIDEO)
		return -1;
	/* The format first: the content's own codec on any line beats a
	 * conversion on the first line.
	 */
	for (unsigned int f = 0; f < n; f++) {
		for (unsigned int i = 0; i < s->n_media; i++) {
			if (!sdp_usable(&s->media[i], kind))
				continue;
			usable++;
			if (sdp_try(s, i, &fmts[f], wanted, st))
				return 0;
		}
	}
	if (usable == 0 && n > 0)
		sdp_refuse(why, 304, kind == MEDIA_KIND_AUDIO ?
			   "no usable audio m= line for" :
			   "no usable video m= line for", fmts, n);
	else
		sdp_refuse(why, 305, "offer has none of", fmts, n);
	return -1;
}

/* ---- writing SDP ---- */

/* The answer is appended piece by piece, lengths known: it is built for
 * every call, and parsing a format for each piece cost more than the
 * pieces. */
static void
sdp_put_addr(struct strbuf *o, const char *prefix, uint32_t addr)
{
	uint8_t b[4];

	memcpy(b, &addr, sizeof(b));
	strbuf_puts(o, prefix);
	strbuf_putl(o, "IN IP4 ");
	for (unsigned int i = 0; i < 4; i++) {
		strbuf_putu(o, b[i]);
		strbuf_put(o, i < 3 ? "." : "\r\n", i < 3 ? 1 : 2);
	}
}

static void
sdp_put_head(struct strbuf *o, uint64_t id, uint64_t version, uint32_t addr)
{
	strbuf_putl(o, "v=0\r\no=anncd ");
	strbuf_putu(o, id);
	strbuf_putl(o, " ");
	strbuf_putu(o, version);
	strbuf_putl(o, " ");
	sdp_put_addr(o, "", addr);
	strbuf_putl(o, "s=-\r\n");
	sdp_put_addr(o, "c=", addr);
	strbuf_putl(o, "t=0 0\r\n");
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

/* rtpmap for every format (a static one too, for readers that want it),
 * fmtp where the payload's layout depends on it (RFC 4867 section 8.1).
 */
static void
sdp_put_fmt(struct strbuf *o, uint8_t pt, const struct media_fmt *f)
{
	strbuf_putl(o, "a=rtpmap:");
	strbuf_putu(o, pt);
	strbuf_putl(o, " ");
	strbuf_puts(o, f->name);
	strbuf_putl(o, "/");
	strbuf_putu(o, f->clock_rate);
	if (f->channels > 1) {
		strbuf_putl(o, "/");
		strbuf_putu(o, f->channels);
	}
	strbuf_putl(o, "\r\n");
	if (f->flags & MEDIA_FMT_AMR_OCTET)
		strbuf_putf(o, "a=fmtp:%u octet-align=1\r\n", pt);
}

static void
sdp_put_stream(struct strbuf *o, const struct sdp_media *md,
	       const struct sdp_stream *st)
{
	strbuf_putl(o, "m=");
	strbuf_puts(o, md->type);
	strbuf_putl(o, " ");
	strbuf_putu(o, st->port);
	strbuf_putl(o, " RTP/AVP ");
	strbuf_putu(o, st->pt);
	strbuf_putl(o, "\r\n");
	sdp_put_fmt(o, st->pt, &st->fmt);
	if (st->ptime != 0) {
		strbuf_putl(o, "a=ptime:");
		strbuf_putu(o, st->ptime);
		strbuf_putl(o, "\r\n");
	}
	strbuf_putl(o, "a=");
	strbuf_puts(o, sdp_dir_names[st->dir]);
	strbuf_putl(o, "\r\n");
}

static const struct sdp_stream *
sdp_stream_at(const struct sdp_answer *a, unsigned int i)
{
	for (unsigned int k = 0; k < a->n_streams; k++) {
		if (a->streams[k].media_index == (int)i)
			return &a->streams[k];
	}
	return NULL;
}

int
sdp_build_answer(char *out, size_t cap, const struct sdp_answer *a)
{
	const struct sdp_session *s = a->offer;
	const struct sdp_stream *st;
	struct strbuf o;

	strbuf_init(&o, out, cap);
	if (s == NULL || a->n_streams > SDP_MAX_STREAMS)
		return -1;
	for (unsigned int k = 0; k < a->n_streams; k++) {
		st = &a->streams[k];
		if (st->media_index < 0 ||
		    (unsigned int)st->media_index >= s->n_media ||
		    (unsigned int)st->dir > SDP_INACTIVE || st->fmt.name == NULL)
			return -1;
	}
	sdp_put_head(&o, a->sess_id, a->sess_version, a->addr);
	for (unsigned int i = 0; i < s->n_media; i++) {
		st = sdp_stream_at(a, i);
		/* RFC 3264 section 8.2: a stream a new offer gives port 0 is
		 * removed, and the answer says so with port 0 too. */
		if (st != NULL && s->media[i].port != 0)
			sdp_put_stream(&o, &s->media[i], st);
		else
			sdp_put_declined(&o, &s->media[i]);
	}
	return strbuf_result(&o);
}

/* ---- late offer (RFC 3264 sections 5 and 7) ---- */

static int
sdp_pt_taken(const struct sdp_offer_media *m, int pt)
{
	for (unsigned int i = 0; i < m->n_fmt; i++) {
		if (m->pt[i] == pt)
			return 1;
	}
	return 0;
}

int
sdp_offer_add(struct sdp_offer *o, enum media_kind kind, uint16_t port,
	      const struct media_fmt *fmts, unsigned int n)
{
	struct sdp_offer_media *m;
	int dyn = SDP_DYN_PT_MIN;

	if (o->n_media == SDP_MAX_STREAMS || n == 0 ||
	    (unsigned int)kind > MEDIA_KIND_VIDEO)
		return -1;
	m = &o->media[o->n_media++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->port = port;
	for (unsigned int i = 0; i < n && m->n_fmt < SDP_MAX_FMT; i++) {
		int pt = fmts[i].static_pt;

		/* A static type offered twice (a conversion to the same
		 * codec) would be ambiguous: the first one keeps it.
		 */
		if (pt < 0 || pt > 127 || sdp_pt_taken(m, pt)) {
			while (sdp_pt_taken(m, dyn))
				dyn++;
			if (dyn > 127)
				break;
			pt = dyn++;
		}
		m->fmt[m->n_fmt] = fmts[i];
		m->pt[m->n_fmt++] = (uint8_t)pt;
	}
	return 0;
}

int
sdp_build_offer(char *out, size_t cap, const struct sdp_offer *o)
{
	struct strbuf o_;

	strbuf_init(&o_, out, cap);
	if (o->n_media == 0 || o->n_media > SDP_MAX_STREAMS)
		return -1;
	sdp_put_head(&o_, o->sess_id, o->sess_version, o->addr);
	for (unsigned int i = 0; i < o->n_media; i++) {
		const struct sdp_offer_media *m = &o->media[i];
		int any_frames = 0;

		strbuf_putf(&o_, "m=%s %u RTP/AVP", sdp_kind_names[m->kind],
			    m->port);
		for (unsigned int k = 0; k < m->n_fmt; k++)
			strbuf_putf(&o_, " %u", m->pt[k]);
		strbuf_puts(&o_, "\r\n");
		for (unsigned int k = 0; k < m->n_fmt; k++) {
			sdp_put_fmt(&o_, m->pt[k], &m->fmt[k]);
			any_frames |= m->fmt[k].frame_ms != 0;
		}
		if (any_frames)
			strbuf_putf(&o_, "a=ptime:%u\r\n", SDP_DEFAULT_PTIME);
		strbuf_puts(&o_, "a=sendonly\r\n");
	}
	return strbuf_result(&o_);
}

static int
sdp_answer_fail(struct sdp_refusal *why, const char *text, unsigned int i)
{
	why->warn_code = 305;
	snprintf(why->text, sizeof(why->text), "%s (m= line %u)", text, i + 1);
	return -1;
}

/* The answerer lists what it accepts in its order of preference (RFC 3264
 * section 6.1), with the payload types of the offer: the first one that
 * is ours is what we send.
 */
static int
sdp_take_one(const struct sdp_offer_media *m, const struct sdp_media *am,
	     unsigned int i, struct sdp_stream *st, struct sdp_refusal *why)
{
	int ptime;

	memset(st, 0, sizeof(*st));
	st->media_index = -1;
	st->dir = SDP_INACTIVE;
	st->port = m->port;
	if (strcmp(am->type, sdp_kind_names[m->kind]) != 0)
		return sdp_answer_fail(why, "answer changes the media type", i);
	if (am->port == 0)
		return 0;
	for (unsigned int k = 0; k < am->n_fmt && st->media_index < 0; k++) {
		for (unsigned int j = 0; j < m->n_fmt; j++) {
			if (m->pt[j] != am->fmt[k])
				continue;
			st->media_index = (int)i;
			st->pt = m->pt[j];
			st->fmt = m->fmt[j];
			break;
		}
	}
	if (st->media_index < 0)
		return sdp_answer_fail(why, "answer keeps none of our formats", i);
	ptime = sdp_ptime(am, &st->fmt);
	if (ptime < 0)
		return sdp_answer_fail(why, "answer's maxptime below one frame", i);
	st->ptime = (unsigned int)ptime;
	st->maxptime = am->maxptime;
	/* Offered sendonly: we send when the answerer receives. */
	if ((sdp_dir_bits[am->dir] & 2u) && sdp_usable(am, m->kind))
		st->dir = SDP_SENDONLY;
	return 0;
}

int
sdp_take_answer(const struct sdp_offer *o, const struct sdp_session *ans,
		struct sdp_stream *st, unsigned int *n_sent,
		struct sdp_refusal *why)
{
	unsigned int kept = 0;

	*n_sent = 0;
	if (ans->n_media != o->n_media) {
		why->warn_code = 305;
		snprintf(why->text, sizeof(why->text),
			 "answer has %u m= lines, the offer %u", ans->n_media,
			 o->n_media);
		return -1;
	}
	for (unsigned int i = 0; i < o->n_media; i++) {
		if (sdp_take_one(&o->media[i], &ans->media[i], i, &st[i],
				 why) < 0)
			return -1;
		kept += st[i].media_index >= 0;
		*n_sent += st[i].dir != SDP_INACTIVE;
	}
	if (kept == 0) {
		why->warn_code = 304;
		snprintf(why->text, sizeof(why->text),
			 "answer declines every stream");
		return -1;
	}
	return 0;
}

/* warn-text is a quoted-string (RFC 3261 sections 20.43 and 25.1): a
 * quote or backslash is escaped, a control byte left out.
 */
int
sdp_warning_header(char *out, size_t cap, const char *agent,
		   const struct sdp_refusal *r)
{
	struct strbuf o;

	strbuf_init(&o, out, cap);
	strbuf_putf(&o, "Warning: %03d %s \"", r->warn_code, agent);
	for (const char *p = r->text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_put(&o, "\\", 1);
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			strbuf_put(&o, p, 1);
	}
	strbuf_puts(&o, "\"\r\n");
	return strbuf_result(&o);
}
