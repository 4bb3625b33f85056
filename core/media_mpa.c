/* MPEG audio (MPEG-1, MPEG-2 and MPEG-2.5, layers I to III) read as a
 * sequence of frames at ingest, with ID3 tags and stray bytes set aside,
 * and sent per RFC 2250 section 3.5: one frame per packet behind the
 * 4-byte MPA header, fragmented past the payload limit, on a 90 kHz clock.
 */
#include <stdio.h>
#include <string.h>

#include "core/media_framed.h"

#define MPA_HDR_LEN		4	/* frame header */
#define MPA_RTP_HDR_LEN		4	/* RFC 2250 3.5: MBZ, Frag_offset */
#define MPA_FRAG_MAX		(MEDIA_RTP_PAYLOAD_MAX - MPA_RTP_HDR_LEN)
#define MPA_CLOCK		90000
/* How far past a bad frame header the next one is looked for before the
 * content is refused: stray bytes longer than any frame are not MPEG
 * audio gone astray but something else.
 */
#define MPA_RESYNC_MAX		8192
#define ID3V2_HDR_LEN		10
#define ID3V1_LEN		128

enum { MPA_V25 = 0, MPA_V2 = 2, MPA_V1 = 3 };

struct mpa_hdr {
	uint8_t version;		/* MPA_V* */
	uint8_t layer;			/* 1 to 3 */
	uint8_t crc;			/* a CRC-16 follows the header */
	uint8_t channels;
	uint32_t kbps;
	uint32_t rate;			/* samples per second */
	uint32_t samples;		/* per frame */
	uint32_t len;			/* frame bytes, header included */
};

/* ISO/IEC 11172-3 2.4.2.3 and 13818-3 2.4.2.3, kbit/s by index 1-14. */
static const uint16_t mpa_kbps[5][15] = {
	{ 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384,
	  416, 448 },				/* MPEG-1 layer I */
	{ 0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
	  384 },				/* MPEG-1 layer II */
	{ 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256,
	  320 },				/* MPEG-1 layer III */
	{ 0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224,
	  256 },				/* MPEG-2/2.5 layer I */
	{ 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144,
	  160 },				/* MPEG-2/2.5 layers II, III */
};

static const uint32_t mpa_rates[4][3] = {
	{ 11025, 12000, 8000 },			/* MPEG-2.5 */
	{ 0, 0, 0 },
	{ 22050, 24000, 16000 },		/* MPEG-2 */
	{ 44100, 48000, 32000 },		/* MPEG-1 */
};

static _Thread_local char mpa_why[112];

static uint32_t
mpa_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
mpa_frame_len(const struct mpa_hdr *h, uint32_t pad)
{
	uint32_t br = h->kbps * 1000;

	if (h->layer == 1)
		return (12 * br / h->rate + pad) * 4;
	if (h->layer == 3 && h->version != MPA_V1)
		return 72 * br / h->rate + pad;
	return 144 * br / h->rate + pad;
}

/* The header at p: 0, 1 for a free-format frame, -1 when these are no
 * frame header at all (no sync, a reserved value).
 */
static int
mpa_parse(const uint8_t *p, struct mpa_hdr *h)
{
	uint32_t v = mpa_be32(p);
	uint32_t bi = v >> 12 & 0xf, si = v >> 10 & 3;

	if ((v >> 21) != 0x7ff || (v >> 19 & 3) == 1 || (v >> 17 & 3) == 0 ||
	    bi == 15 || si == 3 || (v & 3) == 2)
		return -1;
	h->version = (uint8_t)(v >> 19 & 3);
	h->layer = (uint8_t)(4 - (v >> 17 & 3));
	h->crc = !(v >> 16 & 1);
	h->channels = (v >> 6 & 3) == 3 ? 1 : 2;
	h->rate = mpa_rates[h->version][si];
	h->samples = h->layer == 1 ? 384 :
		     h->layer == 3 && h->version != MPA_V1 ? 576 : 1152;
	if (bi == 0)
		return 1;
	h->kbps = mpa_kbps[h->version == MPA_V1 ? h->layer - 1 :
			   h->layer == 1 ? 3 : 4][bi];
	h->len = mpa_frame_len(h, v >> 9 & 1);
	return 0;
}

/* A walk over the frames of a buffer; the first frame fixes the version,
 * layer and sample rate that every later one must have.
 */
struct mpa_scan {
	const uint8_t *d;
	size_t n;
	size_t off;
	int complete;			/* n is the end of the content */
	int have_first;
	struct mpa_hdr first;
	uint32_t frames;
	size_t skipped;			/* stray bytes resynchronised over */
};

static int
mpa_fail(const char **why)
{
	*why = mpa_why;
	return -1;
}

static int
mpa_same_stream(const struct mpa_scan *s, const struct mpa_hdr *h)
{
	return !s->have_first || (h->version == s->first.version &&
				  h->layer == s->first.layer &&
				  h->rate == s->first.rate);
}

/* ID3v2 tags (id3.org, ID3v2.4 section 3.1) before the first frame: a
 * 10-byte header with a 28-bit synchsafe size, plus a footer if flagged.
 */
static int
mpa_skip_id3v2(struct mpa_scan *s, const char **why)
{
	const uint8_t *p;
	size_t tag;

	while (s->n - s->off >= ID3V2_HDR_LEN &&
	       memcmp(s->d + s->off, "ID3", 3) == 0) {
		p = s->d + s->off;
		if ((p[6] | p[7] | p[8] | p[9]) & 0x80) {
			snprintf(mpa_why, sizeof(mpa_why),
				 "mpa: ID3v2 size at offset %zu not synchsafe",
				 s->off);
			return mpa_fail(why);
		}
		tag = ID3V2_HDR_LEN + ((size_t)p[6] << 21 | (size_t)p[7] << 14 |
				       (size_t)p[8] << 7 | p[9]) +
		      (p[5] & 0x10 ? ID3V2_HDR_LEN : 0);
		if (tag > s->n - s->off) {
			if (!s->complete)
				return 1;
			snprintf(mpa_why, sizeof(mpa_why),
				 "mpa: ID3v2 tag at offset %zu runs past the end",
				 s->off);
			return mpa_fail(why);
		}
		s->off += tag;
	}
	return 0;
}

/* Whether a frame header of this stream at q is followed by the end, an
 * ID3v1 tag or another such header: two in a row make a sync.
 */
static int
mpa_sync_at(const struct mpa_scan *s, size_t q)
{
	struct mpa_hdr h, h2;
	size_t next;

	if (s->n - q < MPA_HDR_LEN || mpa_parse(s->d + q, &h) != 0 ||
	    !mpa_same_stream(s, &h))
		return 0;
	next = q + h.len;
	if (next > s->n)
		return 0;
	if (next == s->n || s->n - next < MPA_HDR_LEN)
		return 1;
	if (s->n - next == ID3V1_LEN && memcmp(s->d + next, "TAG", 3) == 0)
		return 1;
	return mpa_parse(s->d + next, &h2) == 0 && mpa_same_stream(s, &h2);
}

static int
mpa_resync(struct mpa_scan *s, const char **why)
{
	size_t q, lim = s->n - s->off > MPA_RESYNC_MAX ? MPA_RESYNC_MAX :
			s->n - s->off;

	for (q = s->off + 1; q < s->off + lim; q++) {
		if (mpa_sync_at(s, q)) {
			s->skipped += q - s->off;
			s->off = q;
			return 0;
		}
	}
	if (!s->complete && lim < MPA_RESYNC_MAX)
		return 1;
	snprintf(mpa_why, sizeof(mpa_why),
		 "mpa: no frame header at offset %zu nor in the %zu bytes after",
		 s->off, lim);
	return mpa_fail(why);
}

/* The header of the frame at s->off after checks (free format refused,
 * truncation): 0 and *h, 1 at the end of what there is, -1.
 */
static int
mpa_check_frame(struct mpa_scan *s, struct mpa_hdr *h, const char **why)
{
	int r = mpa_parse(s->d + s->off, h);

	if (r == 1) {
		snprintf(mpa_why, sizeof(mpa_why),
			 "mpa: free-format bitrate at offset %zu not supported",
			 s->off);
		return mpa_fail(why);
	}
	if (h->len > s->n - s->off) {
		if (!s->complete)
			return 1;
		snprintf(mpa_why, sizeof(mpa_why),
			 "mpa: frame at offset %zu truncated (%zu of %u bytes)",
			 s->off, s->n - s->off, h->len);
		return mpa_fail(why);
	}
	return 0;
}

/* The next frame: 1 and *h with s->off at it, 0 at the end, -1. */
static int
mpa_next(struct mpa_scan *s, struct mpa_hdr *h, const char **why)
{
	size_t left;
	int r;

	if (s->off == 0 && (r = mpa_skip_id3v2(s, why)) != 0)
		return r < 0 ? -1 : 0;
	for (;;) {
		left = s->n - s->off;
		if (left == 0 || (left < MPA_HDR_LEN && !s->complete))
			return 0;
		if (left == ID3V1_LEN && memcmp(s->d + s->off, "TAG", 3) == 0)
			return 0;
		if (left >= MPA_HDR_LEN && mpa_parse(s->d + s->off, h) >= 0 &&
		    mpa_same_stream(s, h))
			break;
		r = mpa_resync(s, why);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	r = mpa_check_frame(s, h, why);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!s->have_first) {
		s->first = *h;
		s->have_first = 1;
	}
	s->frames++;
	return 1;
}

/* A Xing or Info frame (LAME's, holding the frame count and seek table,
 * not audio) or a VBRI one (Fraunhofer's) opens many MP3 files; decoders
 * skip it and so does the sender.
 */
static int
mpa_is_vbr_info(const uint8_t *f, const struct mpa_hdr *h)
{
	size_t side;

	if (h->layer != 3)
		return 0;
	side = h->version == MPA_V1 ? (h->channels == 1 ? 17 : 32) :
	       (h->channels == 1 ? 9 : 17);
	side += MPA_HDR_LEN + (h->crc ? 2 : 0);
	if (side + 4 <= h->len && (memcmp(f + side, "Xing", 4) == 0 ||
				   memcmp(f + side, "Info", 4) == 0))
		return 1;
	return 36 + 4 <= h->len && memcmp(f + 36, "VBRI", 4) == 0;
}

int
media_mpa_probe(const uint8_t *data, size_t avail, size_t len,
		struct media_info *mi, const char **why)
{
	struct mpa_scan s = { .d = data, .n = avail, .complete = avail == len };
	struct mpa_hdr h;
	size_t start = 0;
	int r = 0;

	/* The first frames at hand are checked now, all when planning. */
	while (s.frames < 8 && (r = mpa_next(&s, &h, why)) == 1) {
		if (s.frames == 1)
			start = s.off;
		s.off += h.len;
	}
	if (r < 0)
		return -1;
	if (s.frames == 0) {
		*why = s.complete ? "mpa: no MPEG audio frame" :
		       "mpa: no MPEG audio frame in the first chunk";
		return -1;
	}

	mi->codec = MEDIA_CODEC_MPA;
	mi->clock_rate = MPA_CLOCK;
	mi->sample_rate = s.first.rate;
	mi->channels = s.first.channels;
	mi->bytes_per_ms = s.first.kbps / 8 ? s.first.kbps / 8 : 1;
	mi->data_offset = start;
	mi->data_len = len - start;
	return 0;
}

unsigned int
media_mpa_fmts(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max)
{
	(void)mi;
	if (max == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	out->codec = MEDIA_CODEC_MPA;
	out->kind = MEDIA_KIND_AUDIO;
	out->name = "MPA";
	out->clock_rate = MPA_CLOCK;
	out->channels = 1;
	out->static_pt = 14;		/* RFC 3551 table 4 */
	return 1;
}

/* One frame: a packet, or fragments each with its Frag_offset, all with
 * the frame's timestamp (RFC 2250 section 3.5).
 */
static int
mpa_put_frame(const uint8_t *f, uint32_t flen, uint32_t ts, uint16_t flags,
	      struct media_out *o)
{
	uint8_t hdr[MPA_RTP_HDR_LEN] = { 0 };
	uint32_t done, k;
	size_t start;

	for (done = 0; done < flen; done += k) {
		k = flen - done > MPA_FRAG_MAX ? MPA_FRAG_MAX : flen - done;
		hdr[2] = (uint8_t)(done >> 8);
		hdr[3] = (uint8_t)done;
		start = o->len;
		if (media_out_put(o, hdr, sizeof(hdr)) != 0 ||
		    media_out_put(o, f + done, k) != 0 ||
		    media_out_pkt(o, start, ts, done ? 0 : flags) != 0)
			return -1;
	}
	return 0;
}

/* 90 kHz ticks of n samples, to the nearest. */
static uint32_t
mpa_ticks(uint64_t n, uint32_t rate)
{
	return (uint32_t)((n * MPA_CLOCK + rate / 2) / rate);
}

/* Timestamps come from the samples before each frame, so that 1152 at
 * 44.1 kHz (2351.02 ticks) does not drift by rounding per frame.
 */
int
media_mpa_packetize(const uint8_t *data, size_t len, uint32_t ts_origin,
		    struct media_out *o, const char **why)
{
	struct mpa_scan s = { .d = data, .n = len, .complete = 1 };
	struct mpa_hdr h;
	uint64_t samples = 0;
	uint32_t ts = 0;
	int r;

	while ((r = mpa_next(&s, &h, why)) == 1) {
		if (s.frames == 1 && mpa_is_vbr_info(data + s.off, &h)) {
			s.off += h.len;
			continue;
		}
		ts = ts_origin + mpa_ticks(samples, h.rate);
		if (mpa_put_frame(data + s.off, h.len, ts,
				  o->npkts ? 0 : MEDIA_PKT_MARKER, o) != 0) {
			*why = "mpa: out of memory building packets";
			return -1;
		}
		samples += h.samples;
		s.off += h.len;
	}
	if (r < 0)
		return -1;
	if (o->npkts == 0) {
		*why = "mpa: no MPEG audio frame";
		return -1;
	}
	o->span_ts = ts_origin + mpa_ticks(samples, s.first.rate);
	return 0;
}
