/* Plans for the framed formats: the content made flat for the parsers,
 * the packets they cut written to a new content, and the explicit plan
 * over it.  Runs once per content and payload format, at ingest.
 */
#include <stdlib.h>
#include <string.h>

#include "core/content.h"
#include "core/media_framed.h"

/* The parsers want one flat buffer: a content of one chunk is one, a
 * larger one is copied once (freed again when the plan is built).
 */
static const uint8_t *
framed_flat(struct content *c, uint8_t **copy)
{
	const uint8_t *p;
	size_t n;

	*copy = NULL;
	if (c->len == 0)
		return (const uint8_t *)"";
	if (content_span(c, 0, &p, &n) == 0 && n == c->len)
		return p;
	*copy = malloc(c->len);
	if (*copy == NULL)
		return NULL;
	content_peek(c, 0, *copy, c->len);
	return *copy;
}

/* A stream of a program stream: demultiplexed, then cut with timestamps
 * that count from the earlier of the two streams' first PTS, so that
 * audio and video plans stay in step.
 */
static int
framed_ps(const uint8_t *d, size_t len, const struct media_fmt *fmt,
	  struct media_out *o, const char **why)
{
	struct media_ps_es es = { 0 };
	uint8_t sid = fmt->codec == MEDIA_CODEC_MPV ? MEDIA_PS_VIDEO :
		      MEDIA_PS_AUDIO;
	uint32_t origin = 0;
	int r;

	r = media_ps_demux(d, len, sid, &es, why);
	if (r == 0 && es.first_pts != UINT64_MAX)
		origin = (uint32_t)(es.first_pts - es.origin_pts);
	if (r == 0)
		r = sid == MEDIA_PS_VIDEO ?
		    media_mpv_packetize(es.buf, es.len, origin, o, why) :
		    media_mpa_packetize(es.buf, es.len, origin, o, why);
	free(es.buf);
	return r;
}

static int
framed_cut(const uint8_t *d, const struct media_info *mi,
	   const struct media_fmt *fmt, unsigned int ptime_ms,
	   unsigned int maxptime_ms, struct media_out *o, const char **why)
{
	const uint8_t *p = d + mi->data_offset;
	size_t n = mi->data_len;

	if (mi->codec == MEDIA_CODEC_MPV && (mi->flags & MEDIA_INFO_MPEG_PS) &&
	    (fmt->codec == MEDIA_CODEC_MPV ||
	     (fmt->codec == MEDIA_CODEC_MPA &&
	      (mi->flags & MEDIA_INFO_PS_AUDIO))))
		return framed_ps(p, n, fmt, o, why);
	if (fmt->codec != (int)mi->codec) {
		*why = "payload format does not match the content";
		return -1;
	}
	switch (fmt->codec) {
	case MEDIA_CODEC_AMR:
	case MEDIA_CODEC_AMR_WB:
		return media_amr_packetize(p, n, mi, fmt, ptime_ms,
					   maxptime_ms, o, why);
	case MEDIA_CODEC_MPA:
		return media_mpa_packetize(p, n, 0, o, why);
	case MEDIA_CODEC_MPV:
		return media_mpv_packetize(p, n, 0, o, why);
	default:
		*why = "not a framed payload format";
		return -1;
	}
}

/* The packets and their payload bytes, moved into a new content and a
 * plan that holds it and the packet table (media_plan_free() frees
 * both).
 */
static int
framed_commit(struct media_out *o, uint32_t clock, struct media_plan **out,
	      const char **why)
{
	struct media_plan *pl = calloc(1, sizeof(*pl));
	struct content *nc = pl != NULL ? content_new(o->len) : NULL;

	if (nc == NULL || content_append(nc, o->buf, o->len) != 0) {
		content_put(nc);
		free(pl);
		*why = "out of memory for the packet plan";
		return -1;
	}
	pl->content = nc;
	pl->npkts = o->npkts;
	pl->clock_rate = clock;
	pl->span_ts = o->span_ts;
	pl->pkt = o->pkt;
	o->pkt = NULL;
	*out = pl;
	return 0;
}

int
media_framed_plan(struct content *c, const struct media_info *mi,
		  const struct media_fmt *fmt, unsigned int ptime_ms,
		  unsigned int maxptime_ms, struct media_plan **out,
		  const char **why)
{
	struct media_out o = { 0 };
	uint8_t *copy;
	const uint8_t *d = framed_flat(c, &copy);
	int r;

	if (d == NULL) {
		*why = "out of memory reading the content";
		return -1;
	}
	if (mi->data_offset > c->len || mi->data_len > c->len - mi->data_offset) {
		*why = "payload extends past the content";
		r = -1;
	} else {
		r = framed_cut(d, mi, fmt, ptime_ms, maxptime_ms, &o, why);
	}
	free(copy);
	if (r == 0)
		r = framed_commit(&o, fmt->clock_rate, out, why);
	media_out_free(&o);
	return r;
}

int
media_framed_build(struct content *c, const struct media_info *mi,
		   const struct media_fmt *fmt, unsigned int ptime_ms,
		   struct media_plan **out, const char **why)
{
	return media_framed_plan(c, mi, fmt, ptime_ms, 0, out, why);
}
