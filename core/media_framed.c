/* The framed formats' shared parts: the growing output of a packetizer,
 * and the hand-over from media probing and format listing by content
 * type and codec.  No DPDK here: the fuzz targets link this file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/media_framed.h"

/* Offsets and lengths in a media_pkt are 32-bit. */
#define MEDIA_OUT_MAX		((size_t)UINT32_MAX)
#define MEDIA_OUT_FIRST_CAP	4096
#define MEDIA_OUT_FIRST_PKTS	64

static int
media_out_grow(struct media_out *o, size_t need)
{
	size_t cap = o->cap ? o->cap : MEDIA_OUT_FIRST_CAP;
	uint8_t *b;

	if (need > MEDIA_OUT_MAX)
		return -ENOMEM;
	while (cap < need)
		cap *= 2;
	b = realloc(o->buf, cap);
	if (b == NULL)
		return -ENOMEM;
	o->buf = b;
	o->cap = cap;
	return 0;
}

int
media_out_put(struct media_out *o, const void *p, size_t n)
{
	if (n > MEDIA_OUT_MAX - o->len)
		return -ENOMEM;
	if (o->len + n > o->cap && media_out_grow(o, o->len + n) != 0)
		return -ENOMEM;
	if (n != 0)
		memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

int
media_out_pkt(struct media_out *o, size_t off, uint32_t ts, uint16_t flags)
{
	struct media_pkt *p;
	uint32_t cap;

	if (o->npkts == o->pkt_cap) {
		cap = o->pkt_cap ? o->pkt_cap * 2 : MEDIA_OUT_FIRST_PKTS;
		if (cap <= o->pkt_cap)
			return -ENOMEM;
		p = realloc(o->pkt, (size_t)cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		o->pkt = p;
		o->pkt_cap = cap;
	}
	p = &o->pkt[o->npkts++];
	p->off = (uint32_t)off;
	p->len = (uint16_t)(o->len - off);
	p->flags = flags;
	p->ts = ts;
	p->reserved = 0;
	return 0;
}

void
media_out_free(struct media_out *o)
{
	free(o->buf);
	free(o->pkt);
	memset(o, 0, sizeof(*o));
}

int
media_framed_probe(const struct media_ctype *mt, const uint8_t *data,
		   size_t avail, size_t len, struct media_info *mi,
		   const char **why)
{
	enum media_type type = mt->type;

	memset(mi, 0, sizeof(*mi));
	if (avail > len)
		avail = len;
	switch (type) {
	case MEDIA_TYPE_AUDIO_AMR:
	case MEDIA_TYPE_AUDIO_AMR_WB:
		return media_amr_probe(type, data, avail, len, mi, why);
	case MEDIA_TYPE_AUDIO_MPEG:
		return media_mpa_probe(data, avail, len, mi, why);
	case MEDIA_TYPE_VIDEO_MPEG:
		return media_mpv_probe(data, avail, len, mi, why);
	default:
		*why = "not a framed media type";
		return -1;
	}
}

unsigned int
media_framed_fmts(const struct media_info *mi, struct media_fmt *out,
		  unsigned int max)
{
	switch (mi->codec) {
	case MEDIA_CODEC_AMR:
	case MEDIA_CODEC_AMR_WB:
		return media_amr_fmts(mi, out, max);
	case MEDIA_CODEC_MPA:
		return media_mpa_fmts(mi, out, max);
	case MEDIA_CODEC_MPV:
		return media_mpv_fmts(mi, out, max);
	default:
		return 0;
	}
}
