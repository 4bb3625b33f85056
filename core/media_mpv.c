/* MPEG-1 and MPEG-2 video elementary streams (ISO/IEC 11172-2, 13818-2)
 * cut at ingest into RTP payloads of RFC 2250 section 3.4: headers and
 * whole slices per packet behind the video-specific header (and the
 * MPEG-2 extension header), a slice over the payload limit fragmented,
 * the marker on each picture's last packet, presentation timestamps on a
 * 90 kHz clock from the frame rate and the temporal reference.
 */
#include <stdio.h>
#include <string.h>

#include "core/media_framed.h"

#define MPV_CLOCK		90000
#define MPV_SC_PICTURE		0x00
#define MPV_SC_SLICE_MAX	0xaf
#define MPV_SC_USER_DATA	0xb2
#define MPV_SC_SEQUENCE		0xb3
#define MPV_SC_EXTENSION	0xb5
#define MPV_SC_SEQ_END		0xb7
#define MPV_SC_GOP		0xb8
#define MPV_EXT_SEQUENCE	1
#define MPV_EXT_PICTURE_CODING	8
#define MPV_PIC_I		1
#define MPV_PIC_B		3
#define MPV_HDR_LEN		4	/* RFC 2250 3.4 video-specific */
#define MPV_EXT_LEN		4	/* RFC 2250 3.4.1 MPEG-2 extension */

/* RFC 2250 section 3.4 video-specific header bits. */
#define MPV_H_T			(1u << 26)
#define MPV_H_S			(1u << 13)
#define MPV_H_B			(1u << 12)
#define MPV_H_E			(1u << 11)

/* frame_rate_code 1-8 (13818-2 table 6-4) as num / den frames/s. */
static const uint16_t mpv_rate[9][2] = {
	{ 0, 0 }, { 24000, 1001 }, { 24, 1 }, { 25, 1 }, { 30000, 1001 },
	{ 30, 1 }, { 50, 1 }, { 60000, 1001 }, { 60, 1 },
};

static _Thread_local char mpv_why[112];

static int
mpv_fail(const char **why)
{
	*why = mpv_why;
	return -1;
}

/* Offset of the next 00 00 01 prefix at or after from, or n. */
static size_t
mpv_next_sc(const uint8_t *d, size_t n, size_t from)
{
	const uint8_t *p;

	while (from + 3 < n) {
		p = memchr(d + from + 2, 1, n - from - 3);
		if (p == NULL)
			return n;
		from = (size_t)(p - d) - 2;
		if (d[from] == 0 && d[from + 1] == 0)
			return from;
		from++;
	}
	return n;
}

/* nbits (<= 32) from bit pos of p, which holds at least enough bytes. */
static uint32_t
mpv_bits(const uint8_t *p, unsigned int pos, unsigned int nbits)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < (pos + nbits + 7) / 8; i++)
		v = v << 8 | p[i];
	v >>= (pos + nbits + 7) / 8 * 8 - pos - nbits;
	return (uint32_t)(v & ((1ull << nbits) - 1));
}

/* The state carried from header to header along the stream. */
struct mpv_state {
	const uint8_t *d;
	size_t n;
	int mpeg2;
	uint32_t rate_num, rate_den;	/* frames per second */
	size_t seq_off, seq_len;	/* the latest sequence header with
					 * its extensions and user data */
	uint64_t gop_base;		/* display index of TR 0 in the GOP */
	int32_t gop_max_tr;		/* -1: no picture yet in the GOP */
	/* the picture being cut */
	size_t pre_off;			/* its headers start, or SIZE_MAX */
	int pre_has_seq;
	int have_pic;
	uint32_t pic_tr, pic_type, pic_vec;	/* FBV..FFC, 8 bits */
	uint32_t pic_ext;		/* RFC 2250 3.4.1 extension header */
	uint64_t display;		/* display index of the picture */
	uint32_t ts_origin;
	/* the packet being filled */
	size_t pkt_start;		/* in out, or SIZE_MAX */
	uint32_t pkt_flags;		/* S, B, E */
	uint32_t pictures;
};

static int
mpv_sequence(struct mpv_state *s, size_t off, size_t end, const char **why)
{
	const uint8_t *p = s->d + off + 4;
	uint32_t code;

	if (end - off < 12) {
		snprintf(mpv_why, sizeof(mpv_why),
			 "mpv: sequence header at offset %zu truncated", off);
		return mpv_fail(why);
	}
	code = p[3] & 0xf;
	if (code == 0 || code > 8) {
		snprintf(mpv_why, sizeof(mpv_why),
			 "mpv: frame_rate_code %u at offset %zu not supported",
			 code, off);
		return mpv_fail(why);
	}
	s->rate_num = mpv_rate[code][0];
	s->rate_den = mpv_rate[code][1];
	s->mpeg2 = 0;
	s->seq_off = off;
	s->seq_len = end - off;
	return 0;
}

/* Sequence extension: MPEG-2, frame rate scaled by (n + 1) / (d + 1);
 * picture coding extension: the 30 bits RFC 2250 3.4.1 copies.
 */
static int
mpv_extension(struct mpv_state *s, size_t off, size_t end, const char **why)
{
	const uint8_t *p = s->d + off + 4;
	uint32_t id = end - off > 4 ? p[0] >> 4 : 0;

	if (id == MPV_EXT_SEQUENCE && end - off >= 10) {
		s->mpeg2 = 1;
		s->rate_num *= mpv_bits(p, 41, 2) + 1;
		s->rate_den *= mpv_bits(p, 43, 5) + 1;
		s->seq_len = end - s->seq_off;
	} else if (id == MPV_EXT_PICTURE_CODING && end - off >= 9) {
		s->pic_ext = mpv_bits(p, 4, 30);
	} else if (id == MPV_EXT_SEQUENCE || id == MPV_EXT_PICTURE_CODING) {
		snprintf(mpv_why, sizeof(mpv_why),
			 "mpv: extension %u at offset %zu truncated", id, off);
		return mpv_fail(why);
	} else if (s->seq_off + s->seq_len == off) {
		s->seq_len = end - s->seq_off;	/* display, scalable */
	}
	return 0;
}

/* Temporal reference counts pictures in display order from the last GOP
 * header (13818-2 6.3.9); the GOP before held max TR + 1 frames.
 */
static void
mpv_gop(struct mpv_state *s)
{
	if (s->gop_max_tr >= 0)
		s->gop_base += (uint64_t)s->gop_max_tr + 1;
	s->gop_max_tr = -1;
}

static int
mpv_picture(struct mpv_state *s, size_t off, size_t end, const char **why)
{
	const uint8_t *p = s->d + off + 4;
	uint32_t type, fwd = 0, bwd = 0;

	/* 29 bits, then 4 more for P and 8 for B (13818-2 6.2.3) */
	type = end - off >= 8 ? mpv_bits(p, 10, 3) : 0;
	if (end - off < (type < 2 ? 8u : 9u)) {
		snprintf(mpv_why, sizeof(mpv_why),
			 "mpv: picture header at offset %zu truncated", off);
		return mpv_fail(why);
	}
	if (type == 0 || type > 4) {
		snprintf(mpv_why, sizeof(mpv_why),
			 "mpv: picture_coding_type %u at offset %zu", type, off);
		return mpv_fail(why);
	}
	/* RFC 2250 3.4: FFV and FFC for P and B, FBV and BFC for B; the
	 * header holds them backward first.
	 */
	if (type == 2 || type == MPV_PIC_B)
		fwd = mpv_bits(p, 29, 4);
	if (type == MPV_PIC_B)
		bwd = mpv_bits(p, 33, 4);
	s->pic_tr = mpv_bits(p, 0, 10);
	s->pic_type = type;
	s->pic_vec = bwd << 4 | fwd;
	s->pic_ext = 0;
	s->have_pic = 1;
	if ((int32_t)s->pic_tr > s->gop_max_tr)
		s->gop_max_tr = (int32_t)s->pic_tr;
	s->display = s->gop_base + s->pic_tr;
	return 0;
}

static uint32_t
mpv_ts(const struct mpv_state *s, uint64_t display)
{
	return s->ts_origin + (uint32_t)(display * MPV_CLOCK * s->rate_den /
					 s->rate_num);
}

/* Opens a packet: room for the headers, filled in when it ends. */
static int
mpv_open(struct mpv_state *s, struct media_out *o, uint32_t flags)
{
	uint8_t hdr[MPV_HDR_LEN + MPV_EXT_LEN] = { 0 };

	s->pkt_start = o->len;
	s->pkt_flags = flags;
	return media_out_put(o, hdr, s->mpeg2 ? 8 : 4);
}

static size_t
mpv_room(const struct mpv_state *s, const struct media_out *o)
{
	return MEDIA_RTP_PAYLOAD_MAX - (o->len - s->pkt_start);
}

static int
mpv_close(struct mpv_state *s, struct media_out *o, int last)
{
	uint8_t *h = o->buf + s->pkt_start;
	uint32_t v = s->pkt_flags | s->pic_tr << 16 | s->pic_type << 8 |
		     s->pic_vec;
	uint32_t ts = mpv_ts(s, s->display);

	if (s->mpeg2)
		v |= MPV_H_T;
	h[0] = (uint8_t)(v >> 24);
	h[1] = (uint8_t)(v >> 16);
	h[2] = (uint8_t)(v >> 8);
	h[3] = (uint8_t)v;
	if (s->mpeg2) {
		h[4] = (uint8_t)(s->pic_ext >> 24);
		h[5] = (uint8_t)(s->pic_ext >> 16);
		h[6] = (uint8_t)(s->pic_ext >> 8);
		h[7] = (uint8_t)s->pic_ext;
	}
	if (media_out_pkt(o, s->pkt_start, ts, last ? MEDIA_PKT_MARKER : 0))
		return -1;
	if (ts + (uint32_t)((uint64_t)MPV_CLOCK * s->rate_den / s->rate_num) >
	    o->span_ts)
		o->span_ts = ts + (uint32_t)((uint64_t)MPV_CLOCK *
					     s->rate_den / s->rate_num);
	s->pkt_start = SIZE_MAX;
	return 0;
}

/* The first slice of a picture: a packet opens with the picture's headers
 * and, before an I picture that lacks one, a copy of the last sequence
 * header (RFC 2250 section 3.4 advises one before every I picture).
 */
static int
mpv_first_slice(struct mpv_state *s, size_t off, struct media_out *o,
		const char **why)
{
	int seq = s->pre_has_seq || s->pic_type == MPV_PIC_I;
	size_t need = (s->mpeg2 ? 8 : 4) + (off - s->pre_off) +
		      (s->pre_has_seq ? 0 : seq ? s->seq_len : 0);

	if (need >= MEDIA_RTP_PAYLOAD_MAX) {
		snprintf(mpv_why, sizeof(mpv_why),
			 "mpv: headers of %zu bytes before offset %zu exceed "
			 "the payload limit", need, off);
		return mpv_fail(why);
	}
	if (mpv_open(s, o, MPV_H_B | (seq ? MPV_H_S : 0)) != 0 ||
	    (!s->pre_has_seq && seq &&
	     media_out_put(o, s->d + s->seq_off, s->seq_len) != 0) ||
	    media_out_put(o, s->d + s->pre_off, off - s->pre_off) != 0)
		return -1;
	return 0;
}

/* A slice joins the open packet if it fits and that packet holds whole
 * slices only, else opens its own, and is cut in fragments when it fits
 * in none: B on the first, E on the last (RFC 2250 section 3.1: a slice
 * begins a packet or follows whole slices).  A packet that holds only
 * the picture's headers so far takes the slice, or its first fragment.
 */
static int
mpv_slice(struct mpv_state *s, size_t off, size_t end, struct media_out *o)
{
	size_t len = end - off, k;
	int fresh = s->pkt_flags & MPV_H_E ? 0 : 1;

	if (!fresh && (len > mpv_room(s, o) || !(s->pkt_flags & MPV_H_B))) {
		if (mpv_close(s, o, 0) != 0 || mpv_open(s, o, MPV_H_B) != 0)
			return -1;
	}
	while (len > mpv_room(s, o)) {
		k = mpv_room(s, o);
		if (media_out_put(o, s->d + off, k) != 0 ||
		    mpv_close(s, o, 0) != 0 || mpv_open(s, o, 0) != 0)
			return -1;
		off += k;
		len -= k;
	}
	if (media_out_put(o, s->d + off, len) != 0)
		return -1;
	s->pkt_flags |= MPV_H_E;
	return 0;
}

/* A picture ends at the first start code after its slices. */
static int
mpv_end_picture(struct mpv_state *s, struct media_out *o)
{
	if (s->pkt_start == SIZE_MAX)
		return 0;
	s->pictures++;
	s->have_pic = 0;
	return mpv_close(s, o, 1);
}

static int
mpv_header(struct mpv_state *s, uint8_t code, size_t off, size_t end,
	   const char **why)
{
	if (s->pre_off == SIZE_MAX) {
		s->pre_off = off;
		s->pre_has_seq = 0;
	}
	switch (code) {
	case MPV_SC_SEQUENCE:
		s->pre_has_seq = 1;
		return mpv_sequence(s, off, end, why);
	case MPV_SC_EXTENSION:
		return mpv_extension(s, off, end, why);
	case MPV_SC_USER_DATA:
		if (s->seq_len != 0 && s->seq_off + s->seq_len == off)
			s->seq_len = end - s->seq_off;
		return 0;
	case MPV_SC_GOP:
		mpv_gop(s);
		return 0;
	case MPV_SC_PICTURE:
		if (s->rate_num == 0) {
			snprintf(mpv_why, sizeof(mpv_why),
				 "mpv: picture at offset %zu before any "
				 "sequence header", off);
			return mpv_fail(why);
		}
		return mpv_picture(s, off, end, why);
	default:
		snprintf(mpv_why, sizeof(mpv_why),
			 "mpv: start code 0x%02x at offset %zu not in a video "
			 "elementary stream", code, off);
		return mpv_fail(why);
	}
}

static int
mpv_unit(struct mpv_state *s, size_t off, size_t end, struct media_out *o,
	 const char **why)
{
	uint8_t code = end - off >= 4 ? s->d[off + 3] : MPV_SC_SEQ_END;

	if (code < 1 || code > MPV_SC_SLICE_MAX) {
		if (mpv_end_picture(s, o) != 0)
			goto nomem;
		return code == MPV_SC_SEQ_END ? 0 :
		       mpv_header(s, code, off, end, why);
	}
	if (!s->have_pic) {
		snprintf(mpv_why, sizeof(mpv_why),
			 "mpv: slice at offset %zu outside a picture", off);
		return mpv_fail(why);
	}
	if (s->pkt_start == SIZE_MAX) {
		if (mpv_first_slice(s, off, o, why) != 0)
			return -1;
		s->pre_off = SIZE_MAX;
	}
	if (mpv_slice(s, off, end, o) != 0)
		goto nomem;
	return 0;

nomem:
	*why = "mpv: out of memory building packets";
	return -1;
}

/* Where the stream's first start code is: only zero bytes may precede. */
static int
mpv_start(const uint8_t *d, size_t n, size_t *off, const char **why)
{
	size_t i, sc = mpv_next_sc(d, n, 0);

	for (i = 0; i < sc; i++) {
		if (d[i] != 0) {
			snprintf(mpv_why, sizeof(mpv_why),
				 "mpv: junk at offset %zu before the first "
				 "start code", i);
			return mpv_fail(why);
		}
	}
	if (sc == n || d[sc + 3] != MPV_SC_SEQUENCE) {
		*why = "mpv: no sequence header at the start";
		return -1;
	}
	*off = sc;
	return 0;
}

int
media_mpv_packetize(const uint8_t *data, size_t len, uint32_t ts_origin,
		    struct media_out *o, const char **why)
{
	struct mpv_state s = {
		.d = data, .n = len, .gop_max_tr = -1, .pre_off = SIZE_MAX,
		.pkt_start = SIZE_MAX, .ts_origin = ts_origin,
	};
	size_t off, end;

	if (mpv_start(data, len, &off, why) != 0)
		return -1;
	while (off < len) {
		end = mpv_next_sc(data, len, off + 3);
		if (mpv_unit(&s, off, end, o, why) != 0)
			return -1;
		off = end;
	}
	if (mpv_end_picture(&s, o) != 0) {
		*why = "mpv: out of memory building packets";
		return -1;
	}
	if (s.pictures == 0) {
		*why = "mpv: no picture with slices";
		return -1;
	}
	return 0;
}

static int
mpv_probe_es(const uint8_t *data, size_t avail, size_t len,
	     struct media_info *mi, const char **why)
{
	struct mpv_state s = { .d = data, .n = avail };
	size_t off, end;
	uint32_t br;

	if (mpv_start(data, avail, &off, why) != 0)
		return -1;
	end = mpv_next_sc(data, avail, off + 3);
	if (mpv_sequence(&s, off, end, why) != 0)
		return -1;
	/* bit_rate in units of 400 bit/s; all ones: variable */
	br = mpv_bits(data + off + 4, 32, 18);
	mi->bytes_per_ms = br == 0x3ffff || br < 20 ? 1 : br / 20;
	mi->data_offset = 0;
	mi->data_len = len;
	return 0;
}

int
media_mpv_probe(const uint8_t *data, size_t avail, size_t len,
		struct media_info *mi, const char **why)
{
	int has;

	mi->codec = MEDIA_CODEC_MPV;
	mi->clock_rate = MPV_CLOCK;
	if (avail < 4 || memcmp(data, "\0\0\1\xba", 4) != 0)
		return mpv_probe_es(data, avail, len, mi, why);

	has = media_ps_scan(data, avail, why);
	if (has < 0)
		return -1;
	if (!(has & MEDIA_PS_HAS_VIDEO)) {
		*why = "ps: no video stream 0xe0 in the first chunk";
		return -1;
	}
	mi->flags = MEDIA_INFO_MPEG_PS |
		    (has & MEDIA_PS_HAS_AUDIO ? MEDIA_INFO_PS_AUDIO : 0);
	mi->bytes_per_ms = 1;
	mi->data_offset = 0;
	mi->data_len = len;
	return 0;
}

/* Video first; a program stream with audio also offers that audio as MPA
 * for an audio m= line (RFC 2250 sends each stream on its own session).
 */
unsigned int
media_mpv_fmts(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max)
{
	if (max == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	out->codec = MEDIA_CODEC_MPV;
	out->kind = MEDIA_KIND_VIDEO;
	out->name = "MPV";
	out->clock_rate = MPV_CLOCK;
	out->channels = 1;
	out->static_pt = 32;		/* RFC 3551 table 5 */
	if (!(mi->flags & MEDIA_INFO_PS_AUDIO) || max < 2)
		return 1;
	return 1 + media_mpa_fmts(mi, out + 1, max - 1);
}
