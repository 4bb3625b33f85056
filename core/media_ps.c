/* MPEG program streams (ISO/IEC 13818-1 section 2.5, and the MPEG-1
 * system stream of ISO/IEC 11172-1) taken apart at ingest: pack headers
 * and the system header are read over, and the PES packets of one stream
 * (the video stream 0xE0 or the audio stream 0xC0) are joined into the
 * elementary stream that RFC 2250 packetizes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/media_framed.h"

#define PS_SC_END		0xb9
#define PS_SC_PACK		0xba
#define PS_SC_SYSTEM		0xbb
#define PS_SID_PSM		0xbc	/* program stream map */
#define PS_SID_PADDING		0xbe
#define PS_SID_PRIVATE_2	0xbf
#define PS_PACK2_LEN		14	/* MPEG-2 pack header, no stuffing */
#define PS_PACK1_LEN		12	/* MPEG-1 pack header */
#define PS_PES_HDR		6	/* start code, stream id, length */
#define PS_MPEG1_STUFFING_MAX	16
#define PS_ES_FIRST_CAP		65536

static _Thread_local char ps_why[112];

static int
ps_fail(const char **why)
{
	*why = ps_why;
	return -1;
}

/* Bytes of the pack header, system header or packet at d[off], or 0 with
 * *why when it is none of them or runs past n.
 */
static size_t
ps_unit_len(const uint8_t *d, size_t n, size_t off, const char **why)
{
	size_t left = n - off, len;

	if (left < 4 || d[off] || d[off + 1] || d[off + 2] != 1 ||
	    d[off + 3] < PS_SC_END) {
		snprintf(ps_why, sizeof(ps_why),
			 "ps: no pack or packet start code at offset %zu", off);
		goto fail;
	}
	if (d[off + 3] == PS_SC_END)
		return 4;
	if (left < PS_PES_HDR)
		len = PS_PES_HDR;
	else if (d[off + 3] != PS_SC_PACK)
		len = PS_PES_HDR + ((size_t)d[off + 4] << 8 | d[off + 5]);
	else if ((d[off + 4] & 0xc0) == 0x40)
		len = left < PS_PACK2_LEN ? PS_PACK2_LEN + 7 :
		      PS_PACK2_LEN + (d[off + 13] & 7);
	else if ((d[off + 4] & 0xf0) == 0x20)
		len = PS_PACK1_LEN;
	else {
		snprintf(ps_why, sizeof(ps_why),
			 "ps: pack header at offset %zu is neither MPEG-1 nor "
			 "MPEG-2", off);
		goto fail;
	}
	if (len > left) {
		snprintf(ps_why, sizeof(ps_why),
			 "ps: unit 0x%02x at offset %zu truncated (%zu of %zu "
			 "bytes)", d[off + 3], off, left, len);
		goto fail;
	}
	return len;

fail:
	*why = ps_why;
	return 0;
}

int
media_ps_scan(const uint8_t *data, size_t avail, const char **why)
{
	size_t off = 0, len;
	const char *w;
	int has = 0;

	while (off < avail) {
		len = ps_unit_len(data, avail, off, &w);
		if (len == 0) {
			/* The chunk may end inside a packet; not so at 0. */
			if (off == 0)
				*why = w;
			return off == 0 ? -1 : has;
		}
		if (data[off + 3] == PS_SC_END)
			break;
		if (data[off + 3] == MEDIA_PS_VIDEO)
			has |= MEDIA_PS_HAS_VIDEO;
		if (data[off + 3] == MEDIA_PS_AUDIO)
			has |= MEDIA_PS_HAS_AUDIO;
		off += len;
	}
	return has;
}

static uint64_t
ps_pts(const uint8_t *p)
{
	return (uint64_t)(p[0] >> 1 & 7) << 30 | (uint64_t)p[1] << 22 |
	       (uint64_t)(p[2] >> 1) << 15 | (uint64_t)p[3] << 7 | p[4] >> 1;
}

/* MPEG-1 packet header (11172-1 2.4.3.3): stuffing, STD buffer, then PTS,
 * PTS and DTS, or 0x0F.  Returns its length, or 0 when malformed.
 */
static size_t
ps_pes1_hdr(const uint8_t *p, size_t n, uint64_t *pts)
{
	size_t i = 0;

	while (i < n && i < PS_MPEG1_STUFFING_MAX && p[i] == 0xff)
		i++;
	if (i + 2 <= n && (p[i] & 0xc0) == 0x40)
		i += 2;
	if (i < n && p[i] == 0x0f)
		return i + 1;
	if (i + 5 <= n && (p[i] & 0xf0) == 0x20) {
		*pts = ps_pts(p + i);
		return i + 5;
	}
	if (i + 10 <= n && (p[i] & 0xf0) == 0x30) {
		*pts = ps_pts(p + i);
		return i + 10;
	}
	return 0;
}

/* The payload of a PES packet of n bytes after its length field, and
 * its PTS when it has one (13818-1 2.4.3.6 for MPEG-2 headers).
 */
static int
ps_pes_payload(const uint8_t *p, size_t n, size_t *hlen, uint64_t *pts)
{
	if (n >= 3 && (p[0] & 0xc0) == 0x80) {
		if ((size_t)3 + p[2] > n)
			return -1;
		if ((p[1] & 0x80) && p[2] >= 5)
			*pts = ps_pts(p + 3);
		*hlen = (size_t)3 + p[2];
		return 0;
	}
	*hlen = ps_pes1_hdr(p, n, pts);
	return *hlen == 0 ? -1 : 0;
}

static int
ps_es_put(struct media_ps_es *es, const uint8_t *p, size_t n)
{
	size_t cap = es->cap ? es->cap : PS_ES_FIRST_CAP;
	uint8_t *b;

	if (n == 0)
		return 0;
	if (es->len + n > es->cap) {
		while (cap < es->len + n)
			cap *= 2;
		b = realloc(es->buf, cap);
		if (b == NULL)
			return -1;
		es->buf = b;
		es->cap = cap;
	}
	memcpy(es->buf + es->len, p, n);
	es->len += n;
	return 0;
}

/* One PES packet of stream id sid at d[off], len bytes: its payload goes
 * to es when sid is the one asked for; every stream's first PTS counts
 * towards the origin the streams share.
 */
static int
ps_packet(const uint8_t *d, size_t off, size_t len, uint8_t want,
	  struct media_ps_es *es, const char **why)
{
	uint8_t sid = d[off + 3];
	uint64_t pts = UINT64_MAX;
	size_t hlen;

	if (sid != MEDIA_PS_VIDEO && sid != MEDIA_PS_AUDIO)
		return 0;
	if (ps_pes_payload(d + off + PS_PES_HDR, len - PS_PES_HDR, &hlen,
			   &pts) != 0) {
		snprintf(ps_why, sizeof(ps_why),
			 "ps: PES header of stream 0x%02x at offset %zu "
			 "malformed", sid, off);
		return ps_fail(why);
	}
	if (pts != UINT64_MAX && pts < es->origin_pts)
		es->origin_pts = pts;
	if (sid != want)
		return 0;
	if (pts != UINT64_MAX && es->first_pts == UINT64_MAX)
		es->first_pts = pts;
	if (ps_es_put(es, d + off + PS_PES_HDR + hlen,
		      len - PS_PES_HDR - hlen) != 0) {
		*why = "ps: out of memory demultiplexing";
		return -1;
	}
	return 0;
}

int
media_ps_demux(const uint8_t *data, size_t len, uint8_t sid,
	       struct media_ps_es *es, const char **why)
{
	size_t off = 0, n;
	uint8_t c;

	es->first_pts = UINT64_MAX;
	es->origin_pts = UINT64_MAX;
	while (off < len) {
		n = ps_unit_len(data, len, off, why);
		if (n == 0)
			return -1;
		c = data[off + 3];
		if (c == PS_SC_END)
			break;
		if (c != PS_SC_PACK && c != PS_SC_SYSTEM &&
		    ps_packet(data, off, n, sid, es, why) != 0)
			return -1;
		off += n;
	}
	if (es->len == 0) {
		snprintf(ps_why, sizeof(ps_why),
			 "ps: no data in stream 0x%02x", sid);
		return ps_fail(why);
	}
	return 0;
}
