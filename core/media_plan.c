/* Payload formats and packet plans: what each probed content can be sent
 * as (media_fmts), and the plan that cuts it into RTP payloads for one
 * format and packet time, built once at ingest and shared by every
 * stream.  Formats that need the samples changed (G.711 from 16-bit PCM,
 * 16 kHz to 8 kHz, stereo to mono, L16's byte order) get a content of
 * their own, converted here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/content.h"
#include "core/media.h"
#include "core/media_framed.h"
#include "core/media_pcm.h"
#include "core/media_plan.h"
#include "core/media_priv.h"

/* Input read per conversion step; a multiple of every sample frame. */
#define PLAN_CONV_BLOCK		4096

/* Payload bytes per ms of a format as sent. */
static uint32_t
plan_fmt_bytes_per_ms(const struct media_fmt *f)
{
	switch (f->codec) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		return f->clock_rate / 1000 * f->channels;
	case MEDIA_CODEC_L16:
		return f->clock_rate / 1000 * 2 * f->channels;
	case MEDIA_CODEC_G722:
		return 8;
	case MEDIA_CODEC_G729:
		return MEDIA_G729_FRAME / 10;
	default:
		return 0;
	}
}

/* Appends one format to out when there is room: RFC 3551's static PT
 * where its table gives one for this clock and channel count, and the
 * longest packet of whole frames that stays under the payload limit.
 */
static unsigned int
plan_fmt_add(struct media_fmt *out, unsigned int n, unsigned int max,
	     enum media_codec c, uint32_t clock, uint8_t ch, int conversion)
{
	struct media_fmt *f = &out[n];
	uint32_t room = MEDIA_PLAN_MAX_PAYLOAD, frame_bytes;

	if (n >= max)
		return n;
	memset(f, 0, sizeof(*f));
	f->codec = (int)c;
	f->kind = MEDIA_KIND_AUDIO;
	f->name = media_codec_name(c);
	f->clock_rate = clock;
	f->channels = ch;
	f->static_pt = (int16_t)media_codec_static_pt(c);
	if (c != MEDIA_CODEC_G722 && c != MEDIA_CODEC_G729 &&
	    (clock != 8000 || ch != 1))
		f->static_pt = -1;
	f->frame_ms = c == MEDIA_CODEC_G729 ? MEDIA_G729_FRAME : 1;
	f->conversion = conversion;
	frame_bytes = plan_fmt_bytes_per_ms(f) * f->frame_ms;
	f->max_frame_ms = (uint16_t)(room / frame_bytes * f->frame_ms);
	return n + 1;
}

/* G.711 as it is, then the other law; G.711 that is not 8 kHz mono
 * (WAV allows it) only converted.
 */
static unsigned int
plan_fmts_g711(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max)
{
	enum media_codec other = mi->codec == MEDIA_CODEC_PCMU ?
				 MEDIA_CODEC_PCMA : MEDIA_CODEC_PCMU;
	int as_is = mi->sample_rate == 8000 && mi->channels == 1;
	unsigned int n = 0;

	n = plan_fmt_add(out, n, max, mi->codec, 8000, 1, !as_is);
	return plan_fmt_add(out, n, max, other, 8000, 1, 1);
}

/* 16-bit PCM: L16 at its own rate and channels first (from WAV, only
 * byte-swapped), then mono, then 8 kHz, then G.711 of either law.
 */
static unsigned int
plan_fmts_pcm16(const struct media_info *mi, struct media_fmt *out,
		unsigned int max)
{
	int swap = mi->codec == MEDIA_CODEC_PCM16LE;
	unsigned int n = 0;

	n = plan_fmt_add(out, n, max, MEDIA_CODEC_L16, mi->sample_rate,
			 mi->channels, swap);
	if (mi->channels == 2)
		n = plan_fmt_add(out, n, max, MEDIA_CODEC_L16,
				 mi->sample_rate, 1, 1);
	if (mi->sample_rate != 8000)
		n = plan_fmt_add(out, n, max, MEDIA_CODEC_L16, 8000, 1, 1);
	n = plan_fmt_add(out, n, max, MEDIA_CODEC_PCMU, 8000, 1, 1);
	return plan_fmt_add(out, n, max, MEDIA_CODEC_PCMA, 8000, 1, 1);
}

static unsigned int
plan_fmts_g729(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max)
{
	int g192 = mi->framing == MEDIA_FRAMING_G192;
	unsigned int n = plan_fmt_add(out, 0, max, MEDIA_CODEC_G729, 8000, 1,
				      g192);

	/* G.192 may hold SID frames anywhere: flagged without reading all. */
	if (n == 1 && (mi->sid_bytes != 0 || g192)) {
		/* Room for the SID frame that ends the last packet. */
		out[0].flags |= MEDIA_FMT_G729_SID;
		out[0].max_frame_ms = (MEDIA_PLAN_MAX_PAYLOAD - MEDIA_G729_SID) /
				      MEDIA_G729_FRAME * MEDIA_G729_FRAME;
	}
	return n;
}

static unsigned int
plan_fmts_g722(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max)
{
	(void)mi;
	/* RFC 3551 section 4.5.2: the clock says 8000 for 16 kHz audio. */
	return plan_fmt_add(out, 0, max, MEDIA_CODEC_G722, 8000, 1, 0);
}

/* The formats of each probed codec; a new codec adds its line here. */
static unsigned int (*const plan_fmts[MEDIA_CODEC_MPV + 1])(
	const struct media_info *, struct media_fmt *, unsigned int) = {
	[MEDIA_CODEC_PCMU] = plan_fmts_g711,
	[MEDIA_CODEC_PCMA] = plan_fmts_g711,
	[MEDIA_CODEC_L16] = plan_fmts_pcm16,
	[MEDIA_CODEC_PCM16LE] = plan_fmts_pcm16,
	[MEDIA_CODEC_G729] = plan_fmts_g729,
	[MEDIA_CODEC_G722] = plan_fmts_g722,
	[MEDIA_CODEC_AMR] = media_framed_fmts,
	[MEDIA_CODEC_AMR_WB] = media_framed_fmts,
	[MEDIA_CODEC_MPA] = media_framed_fmts,
	[MEDIA_CODEC_MPV] = media_framed_fmts,
};

unsigned int
media_fmts(const struct media_info *mi, struct media_fmt *out,
	   unsigned int max)
{
	size_t c = (size_t)mi->codec;

	if (c >= sizeof(plan_fmts) / sizeof(plan_fmts[0]) ||
	    plan_fmts[c] == NULL)
		return 0;
	return plan_fmts[c](mi, out, max);
}

/* A plan on content c.  hold: c is another holder's and the plan takes a
 * reference on it; otherwise c was made for the plan, which owns it.
 * npkts_explicit: entries to list, 0 for a uniform plan.  The plan and
 * its list are one block, so that every plan, whoever built it, goes
 * with content_put() and one free().
 */
static struct media_plan *
plan_new(struct content *c, int hold, uint32_t clock, uint32_t npkts,
	 uint32_t npkts_explicit)
{
	struct media_plan *pl;

	pl = calloc(1, sizeof(*pl) + (size_t)npkts_explicit *
		    sizeof(struct media_pkt));
	if (pl == NULL)
		return NULL;
	if (npkts_explicit != 0)
		pl->pkt = (const struct media_pkt *)(pl + 1);
	if (hold)
		content_get(c);
	pl->content = c;
	pl->npkts = npkts;
	pl->clock_rate = clock;
	return pl;
}

/* Packets of len bytes and ts ticks over [off, off + total), the last
 * one shorter when total is not a multiple of len.
 */
static int
plan_uniform(struct content *c, int hold, const struct media_fmt *fmt,
	     unsigned int ms, size_t off, size_t total,
	     struct media_plan **out, const char **why)
{
	uint32_t len = ms * plan_fmt_bytes_per_ms(fmt);
	uint32_t ts = ms * (fmt->clock_rate / 1000);
	size_t npkts = (total + len - 1) / len;
	struct media_plan *pl;

	if (total == 0 || off + total > UINT32_MAX)
		return media_why(why, "plan: payload of %zu bytes at %zu not "
				 "plannable", total, off);
	pl = plan_new(c, hold, fmt->clock_rate, (uint32_t)npkts, 0);
	if (pl == NULL)
		return media_why(why, "plan: out of memory");
	pl->uni_off = off;
	pl->uni_total = total;
	pl->uni_len = len;
	pl->uni_ts = ts;
	/* Whole sample frames or octets: the division is exact. */
	pl->span_ts = (uint32_t)((uint64_t)total * ts / len);
	*out = pl;
	return 0;
}

/* G.729 ending in an Annex B SID frame: packets of k frames, the SID
 * last in the last one (RFC 3551 section 4.5.6), which is why the
 * packets are listed rather than uniform.  The SID counts as one 10 ms
 * frame of the play-through.
 */
static int
plan_g729_sid(struct content *c, const struct media_info *mi,
	      unsigned int ms, struct media_plan **out, const char **why)
{
	uint32_t k = ms / MEDIA_G729_FRAME, i, nf, first, n;
	uint32_t npkts, off = (uint32_t)mi->data_offset;
	struct media_pkt *p;
	struct media_plan *pl;

	if (mi->data_offset + mi->data_len > UINT32_MAX)
		return media_why(why, "plan: payload of %zu bytes not "
				 "plannable", mi->data_len);
	nf = (uint32_t)(mi->data_len / MEDIA_G729_FRAME) + 1;
	npkts = (nf + k - 1) / k;
	pl = plan_new(c, 1, 8000, npkts, npkts);
	if (pl == NULL)
		return media_why(why, "plan: out of memory");
	p = (struct media_pkt *)pl->pkt;
	for (i = 0; i < npkts; i++) {
		first = i * k;
		n = nf - first < k ? nf - first : k;
		p[i].off = off + first * MEDIA_G729_FRAME;
		p[i].len = (uint16_t)(n * MEDIA_G729_FRAME);
		if (first + n == nf)
			p[i].len -= MEDIA_G729_FRAME - MEDIA_G729_SID;
		p[i].ts = first * 80;
	}
	pl->span_ts = nf * 80;
	*out = pl;
	return 0;
}

/* The payload as the content holds it. */
static int
plan_as_is(struct content *c, const struct media_info *mi,
	   const struct media_fmt *fmt, unsigned int ms,
	   struct media_plan **out, const char **why)
{
	if ((int)mi->codec != fmt->codec ||
	    mi->clock_rate != fmt->clock_rate ||
	    mi->channels != fmt->channels)
		return media_why(why, "plan: content is %s/%u/%u, not %s/%u/%u "
				 "without conversion",
				 media_codec_name(mi->codec) ?
				 media_codec_name(mi->codec) : "PCM",
				 mi->clock_rate, mi->channels,
				 fmt->name ? fmt->name : "?",
				 fmt->clock_rate, fmt->channels);
	if (mi->framing != MEDIA_FRAMING_RAW)
		return media_why(why, "plan: G.192 frames are repacked, not "
				 "sent as they are");
	if (mi->codec == MEDIA_CODEC_G729 && mi->sid_bytes != 0)
		return plan_g729_sid(c, mi, ms, out, why);
	return plan_uniform(c, 1, fmt, ms, mi->data_offset, mi->data_len,
			    out, why);
}

/* Reads the payload in blocks through the converter into a new content.
 * 0 or -ENOMEM.
 */
static int
plan_convert_into(struct content *nc, const struct content *c,
		  const struct media_info *mi, struct media_pcm_conv *cv,
		  uint8_t *obuf)
{
	uint8_t in[PLAN_CONV_BLOCK];
	size_t pos, k, o;

	for (pos = 0; pos < mi->data_len; pos += k) {
		k = mi->data_len - pos < sizeof(in) ? mi->data_len - pos :
						      sizeof(in);
		if (content_peek(c, mi->data_offset + pos, in, k) != k)
			return -ENOMEM;
		o = media_pcm_conv_run(cv, in, k, obuf);
		if (content_append(nc, obuf, o) != 0)
			return -ENOMEM;
	}
	o = media_pcm_conv_flush(cv, obuf);
	return content_append(nc, obuf, o);
}

/* The packets of a G.192 stream as they are found: a packet holds up
 * to k consecutive frames, a SID frame ends one (RFC 3551 section
 * 4.5.6), an untransmitted frame ends one and marks the next as the
 * first of a talkspurt (RFC 3551 section 4.1).
 */
struct plan_g192 {
	struct media_pkt *pkt;
	uint32_t npkts, cap;
	uint32_t k;			/* frames per packet */
	uint32_t in_pkt;		/* frames in the open packet, 0: none */
	uint32_t frame;			/* index of the next frame */
	int gap;			/* frames were left out since the last
					 * packet */
};

static int
plan_g192_add(struct plan_g192 *g, uint32_t off, size_t n)
{
	struct media_pkt *p;

	if (n == 0) {
		g->in_pkt = 0;
		g->gap = g->npkts != 0;
		return 0;
	}
	if (g->in_pkt == 0 || g->in_pkt == g->k) {
		if (g->npkts == g->cap) {
			uint32_t cap = g->cap ? g->cap * 2 : 64;

			p = realloc(g->pkt, cap * sizeof(*p));
			if (p == NULL)
				return -ENOMEM;
			g->pkt = p;
			g->cap = cap;
		}
		p = &g->pkt[g->npkts++];
		memset(p, 0, sizeof(*p));
		p->off = off;
		p->ts = g->frame * 80;
		p->flags = g->gap ? MEDIA_PKT_MARKER : 0;
		g->gap = 0;
		g->in_pkt = 0;
	}
	g->pkt[g->npkts - 1].len += (uint16_t)n;
	g->in_pkt = n == MEDIA_G729_SID ? g->k : g->in_pkt + 1;
	return 0;
}

/* Reads the G.192 frames of the payload, appends each one sent to nc
 * and lists its packet.  0, or -1 with *why.
 */
static int
plan_g192_walk(struct plan_g192 *g, struct content *nc,
	       const struct content *c, const struct media_info *mi,
	       const char **why)
{
	uint8_t buf[MEDIA_G192_MAX_FRAME], frame[MEDIA_G729_FRAME];
	size_t pos = 0, got, flen, n;
	int r;

	while (pos < mi->data_len) {
		got = content_peek(c, mi->data_offset + pos, buf,
				   mi->data_len - pos < sizeof(buf) ?
				   mi->data_len - pos : sizeof(buf));
		r = media_g192_frame(buf, got, &flen, frame, &n);
		if (r < 0)
			return media_why(why, "g729: G.192 frame at offset %zu "
					 "%s", pos, r == -2 ? "cut short" :
					 "is not a G.729 frame");
		if (nc->len > UINT32_MAX - n ||
		    plan_g192_add(g, (uint32_t)nc->len, n) != 0 ||
		    content_append(nc, frame, n) != 0)
			return media_why(why, "plan: out of memory");
		g->frame++;
		pos += flen;
	}
	if (g->npkts == 0)
		return media_why(why, "g729: G.192 stream of %u frames sends "
				 "none", g->frame);
	return 0;
}

/* G.729 in G.192: the frames packed into a content of their own and an
 * explicit list of packets, gaps where nothing was transmitted.
 */
static int
plan_g192(struct content *c, const struct media_info *mi, unsigned int ms,
	  struct media_plan **out, const char **why)
{
	struct plan_g192 g = { .k = ms / MEDIA_G729_FRAME };
	struct content *nc = content_new(mi->data_len / 8);
	struct media_plan *pl = NULL;
	int rc = -1;

	if (nc == NULL) {
		media_why(why, "plan: no memory for the G.729 frames");
		goto out;
	}
	if (plan_g192_walk(&g, nc, c, mi, why) < 0)
		goto out;
	pl = plan_new(nc, 0, 8000, g.npkts, g.npkts);
	if (pl == NULL) {
		media_why(why, "plan: out of memory");
		goto out;
	}
	memcpy((struct media_pkt *)pl->pkt, g.pkt,
	       g.npkts * sizeof(*g.pkt));
	pl->span_ts = g.frame * 80;
	nc = NULL;
	*out = pl;
	rc = 0;
out:
	free(g.pkt);
	content_put(nc);
	return rc;
}

/* A converted copy of the payload, once, held by the plan alone. */
static int
plan_convert(struct content *c, const struct media_info *mi,
	     const struct media_fmt *fmt, unsigned int ms,
	     struct media_plan **out, const char **why)
{
	struct media_pcm_conv cv;
	struct content *nc = NULL;
	uint8_t *obuf = NULL;
	int rc = -1;

	if (mi->framing == MEDIA_FRAMING_G192 &&
	    fmt->codec == MEDIA_CODEC_G729)
		return plan_g192(c, mi, ms, out, why);
	if (media_pcm_conv_init(&cv, mi->codec, mi->sample_rate, mi->channels,
				(enum media_codec)fmt->codec, fmt->clock_rate,
				fmt->channels) != 0)
		return media_why(why, "plan: no conversion from %u Hz x%u to "
				 "%s/%u/%u", mi->sample_rate, mi->channels,
				 fmt->name ? fmt->name : "?",
				 fmt->clock_rate, fmt->channels);
	obuf = malloc(media_pcm_conv_max_out(&cv, PLAN_CONV_BLOCK));
	nc = content_new(media_pcm_conv_max_out(&cv, mi->data_len));
	if (obuf == NULL || nc == NULL) {
		media_why(why, "plan: no memory for the conversion");
		goto out;
	}
	if (plan_convert_into(nc, c, mi, &cv, obuf) != 0) {
		media_why(why, "plan: no memory for %zu converted bytes",
			  media_pcm_conv_max_out(&cv, mi->data_len));
		goto out;
	}
	rc = plan_uniform(nc, 0, fmt, ms, 0, nc->len, out, why);
	if (rc == 0)
		nc = NULL;
out:
	content_put(nc);
	free(obuf);
	return rc;
}

/* The packet time in whole frames: the nearest to what was asked, then
 * down to fit maxptime and the payload limit.  Formats without a frame
 * length (one frame per packet) get ptime as asked.
 */
static int
plan_ptime(const struct media_fmt *fmt, unsigned int ptime,
	   unsigned int maxptime, unsigned int *ms, const char **why)
{
	unsigned int frame = fmt->frame_ms, cap = fmt->max_frame_ms, n;

	if (ptime == 0)
		ptime = MEDIA_PLAN_DEFAULT_PTIME;
	if (frame == 0) {
		*ms = ptime;
		return 0;
	}
	if (maxptime != 0 && maxptime < cap)
		cap = maxptime;
	n = (ptime + frame / 2) / frame;
	if (n == 0)
		n = 1;
	if (n * frame > cap)
		n = cap / frame;
	if (n == 0)
		return media_why(why, "plan: maxptime %u ms is under one %u ms "
				 "frame of %s", cap, frame,
				 fmt->name ? fmt->name : "?");
	*ms = n * frame;
	return 0;
}

/* The formats of this file: the packet time first, then the payload as
 * it is or converted.
 */
static int
plan_audio(struct content *c, const struct media_info *mi,
	   const struct media_fmt *fmt, unsigned int ptime_ms,
	   unsigned int maxptime_ms, struct media_plan **out,
	   const char **why)
{
	unsigned int ms = 0;

	if (plan_ptime(fmt, ptime_ms, maxptime_ms, &ms, why) < 0)
		return -1;
	if (fmt->conversion)
		return plan_convert(c, mi, fmt, ms, out, why);
	return plan_as_is(c, mi, fmt, ms, out, why);
}

/* The framed formats (core/media_framed.c) take the packet time already
 * in whole frames.
 */
static int
plan_framed(struct content *c, const struct media_info *mi,
	    const struct media_fmt *fmt, unsigned int ptime_ms,
	    unsigned int maxptime_ms, struct media_plan **out,
	    const char **why)
{
	unsigned int ms = 0;

	if (plan_ptime(fmt, ptime_ms, maxptime_ms, &ms, why) < 0)
		return -1;
	return media_framed_build(c, mi, fmt, ms, out, why);
}

/* The plan builder of each payload format, by its codec on the wire; a
 * new codec adds its line here.  A builder rounds the packet time to its
 * frames itself.
 */
static int (*const plan_builders[MEDIA_CODEC_MPV + 1])(
	struct content *, const struct media_info *,
	const struct media_fmt *, unsigned int, unsigned int,
	struct media_plan **, const char **) = {
	[MEDIA_CODEC_PCMU] = plan_audio,
	[MEDIA_CODEC_PCMA] = plan_audio,
	[MEDIA_CODEC_L16] = plan_audio,
	[MEDIA_CODEC_G729] = plan_audio,
	[MEDIA_CODEC_G722] = plan_audio,
	[MEDIA_CODEC_AMR] = plan_framed,
	[MEDIA_CODEC_AMR_WB] = plan_framed,
	[MEDIA_CODEC_MPA] = plan_framed,
	[MEDIA_CODEC_MPV] = plan_framed,
};

int
media_plan_build(struct content *c, const struct media_info *mi,
		 const struct media_fmt *fmt, unsigned int ptime_ms,
		 unsigned int maxptime_ms, struct media_plan **out,
		 const char **why)
{
	size_t k = (size_t)fmt->codec;

	*out = NULL;
	if (c == NULL || c->len == 0 || mi->data_len == 0 ||
	    mi->data_offset + mi->data_len > c->len)
		return media_why(why, "plan: no payload in the content");
	if (k >= sizeof(plan_builders) / sizeof(plan_builders[0]) ||
	    plan_builders[k] == NULL)
		return media_why(why, "plan: no packet plan for codec %d",
				 fmt->codec);
	return plan_builders[k](c, mi, fmt, ptime_ms, maxptime_ms, out, why);
}

void
media_plan_free(struct media_plan *pl)
{
	if (pl == NULL)
		return;
	content_put(pl->content);
	free(pl);
}
