/* AMR and AMR-WB: the storage format of RFC 4867 section 5 read at ingest,
 * and its frames packed into RTP payloads of RFC 4867 section 4, in
 * octet-aligned or bandwidth-efficient mode, several frames per packet
 * when the packet time asks for it.
 */
#include <stdio.h>
#include <string.h>

#include "core/media_framed.h"

#define AMR_MAGIC		"#!AMR\n"
#define AMR_WB_MAGIC		"#!AMR-WB\n"
#define AMR_MC_MAGIC		"#!AMR_MC1.0\n"
#define AMR_WB_MC_MAGIC		"#!AMR-WB_MC1.0\n"
#define AMR_FRAME_MS		20
/* Frames one packet may hold: 240 ms.  The largest, 12 AMR-WB 23.85
 * kbit/s frames, make 1 + 12 + 12 * 60 bytes, well within one MTU.
 */
#define AMR_MAX_FRAMES		12
#define AMR_FT_NO_DATA		15
#define AMR_WB_FT_LOST		14	/* SPEECH_LOST, AMR-WB only */
#define AMR_CMR_NONE		15	/* no codec mode request (4.3.1) */
#define AMR_TOC_F		0x80	/* another TOC entry follows */

/* Speech bits per frame type: RFC 4867 section 3.6, 3GPP TS 26.101
 * table 1a (AMR) and TS 26.201 table 1a (AMR-WB); -1 where the type is
 * reserved or not carried here.  SID frames (8, WB 9) are comfort noise.
 */
static const int16_t amr_bits[16] = {
	95, 103, 118, 134, 148, 159, 204, 244, 39,
	-1, -1, -1, -1, -1, -1, 0,
};
static const int16_t amr_wb_bits[16] = {
	132, 177, 253, 285, 317, 365, 397, 461, 477, 40,
	-1, -1, -1, -1, 0, 0,
};

static _Thread_local char amr_why[112];

struct amr_frame {
	size_t off;			/* of its header byte */
	uint8_t ft;
	uint8_t q;
	uint16_t bits;
};

static const int16_t *
amr_table(int wb)
{
	return wb ? amr_wb_bits : amr_bits;
}

static int
amr_fail(const char **why)
{
	*why = amr_why;
	return -1;
}

/* The frame at d[off]: -1 with *why when its type is not playable or it
 * runs past n bytes (end of the content when complete, else of the bytes
 * at hand: then 1, nothing more to look at).
 */
static int
amr_frame_at(const uint8_t *d, size_t n, size_t off, int wb, int complete,
	     struct amr_frame *f, const char **why)
{
	uint8_t h = d[off];
	int bits = amr_table(wb)[h >> 3 & 0xf];
	size_t need;

	f->off = off;
	f->ft = h >> 3 & 0xf;
	f->q = h >> 2 & 1;
	if (bits < 0) {
		snprintf(amr_why, sizeof(amr_why),
			 "amr: frame type %u at offset %zu not supported",
			 f->ft, off);
		return amr_fail(why);
	}
	f->bits = (uint16_t)bits;
	need = 1 + ((size_t)bits + 7) / 8;
	if (need > n - off) {
		if (!complete)
			return 1;
		snprintf(amr_why, sizeof(amr_why),
			 "amr: frame at offset %zu truncated (%zu of %zu bytes)",
			 off, n - off, need);
		return amr_fail(why);
	}
	return 0;
}

static int
amr_magic(enum media_type type, const uint8_t *d, size_t avail, size_t *hlen,
	  const char **why)
{
	const char *m = type == MEDIA_TYPE_AUDIO_AMR_WB ? AMR_WB_MAGIC :
			AMR_MAGIC;
	const char *mc = type == MEDIA_TYPE_AUDIO_AMR_WB ? AMR_WB_MC_MAGIC :
			 AMR_MC_MAGIC;

	if (avail >= strlen(mc) && memcmp(d, mc, strlen(mc)) == 0) {
		snprintf(amr_why, sizeof(amr_why),
			 "amr: multi-channel storage (%.*s) not supported",
			 (int)strlen(mc) - 3, mc + 2);
		return amr_fail(why);
	}
	if (avail < strlen(m) || memcmp(d, m, strlen(m)) != 0) {
		snprintf(amr_why, sizeof(amr_why),
			 "amr: magic is not %.*s", (int)strlen(m) - 1, m);
		return amr_fail(why);
	}
	*hlen = strlen(m);
	return 0;
}

int
media_amr_probe(enum media_type type, const uint8_t *data, size_t avail,
		size_t len, struct media_info *mi, const char **why)
{
	int wb = type == MEDIA_TYPE_AUDIO_AMR_WB;
	struct amr_frame f;
	size_t off, hlen, bytes = 0;
	uint32_t n = 0;
	int r;

	if (amr_magic(type, data, avail, &hlen, why) != 0)
		return -1;
	if (len == hlen) {
		*why = "amr: no frames";
		return -1;
	}
	/* Every frame at hand is checked now, the rest when planning. */
	for (off = hlen; off < avail; off += 1 + (f.bits + 7) / 8) {
		r = amr_frame_at(data, avail, off, wb, avail == len, &f, why);
		if (r < 0)
			return -1;
		if (r > 0)
			break;
		bytes += 1 + (f.bits + 7) / 8;
		n++;
	}

	mi->codec = wb ? MEDIA_CODEC_AMR_WB : MEDIA_CODEC_AMR;
	mi->clock_rate = wb ? 16000 : 8000;
	mi->sample_rate = mi->clock_rate;
	mi->channels = 1;
	mi->bytes_per_ms = n ? (uint32_t)(bytes / n / AMR_FRAME_MS) + 1 : 1;
	mi->data_offset = hlen;
	mi->data_len = len - hlen;
	return 0;
}

unsigned int
media_amr_fmts(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max)
{
	int wb = mi->codec == MEDIA_CODEC_AMR_WB;
	unsigned int i;

	/* Bandwidth-efficient first: the mode an offer without octet-align
	 * means (RFC 4867 section 8.1).
	 */
	for (i = 0; i < 2 && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].codec = mi->codec;
		out[i].kind = MEDIA_KIND_AUDIO;
		out[i].name = wb ? "AMR-WB" : "AMR";
		out[i].clock_rate = wb ? 16000 : 8000;
		out[i].channels = 1;
		out[i].static_pt = -1;
		out[i].frame_ms = AMR_FRAME_MS;
		out[i].max_frame_ms = AMR_MAX_FRAMES * AMR_FRAME_MS;
		out[i].flags = i == 0 ? 0 : MEDIA_FMT_AMR_OCTET;
	}
	return i;
}

/* Bits written MSB first, for the bandwidth-efficient mode. */
struct amr_bitw {
	uint8_t buf[MEDIA_RTP_PAYLOAD_MAX];
	size_t nbits;
};

static void
amr_put_bits(struct amr_bitw *w, uint32_t v, unsigned int n)
{
	while (n-- > 0) {
		size_t byte = w->nbits >> 3;

		if ((w->nbits & 7) == 0)
			w->buf[byte] = 0;
		if (v >> n & 1)
			w->buf[byte] |= (uint8_t)(0x80 >> (w->nbits & 7));
		w->nbits++;
	}
}

/* RFC 4867 section 4.4: CMR, R, one TOC byte per frame, each frame
 * padded to octets as the storage format already holds it.
 */
static int
amr_put_octet(const uint8_t *d, const struct amr_frame *fr, unsigned int k,
	      struct media_out *o)
{
	uint8_t hdr[1 + AMR_MAX_FRAMES];
	unsigned int i;

	hdr[0] = AMR_CMR_NONE << 4;
	for (i = 0; i < k; i++)
		hdr[1 + i] = (uint8_t)((i + 1 < k ? AMR_TOC_F : 0) |
				       fr[i].ft << 3 | fr[i].q << 2);
	if (media_out_put(o, hdr, 1 + k) != 0)
		return -1;
	for (i = 0; i < k; i++)
		if (media_out_put(o, d + fr[i].off + 1,
				  (fr[i].bits + 7u) / 8) != 0)
			return -1;
	return 0;
}

/* RFC 4867 section 4.3: CMR, 6-bit TOC entries, the speech bits back to
 * back, zero padding to the octet at the end.
 */
static int
amr_put_efficient(const uint8_t *d, const struct amr_frame *fr,
		  unsigned int k, struct media_out *o)
{
	struct amr_bitw w = { .nbits = 0 };
	unsigned int i, b;

	amr_put_bits(&w, AMR_CMR_NONE, 4);
	for (i = 0; i < k; i++)
		amr_put_bits(&w, (i + 1 < k ? 0x20u : 0) |
			     (uint32_t)fr[i].ft << 1 | fr[i].q, 6);
	for (i = 0; i < k; i++) {
		const uint8_t *s = d + fr[i].off + 1;

		for (b = 0; b < fr[i].bits; b++)
			amr_put_bits(&w, s[b >> 3] >> (7 - (b & 7)) & 1, 1);
	}
	return media_out_put(o, w.buf, (w.nbits + 7) / 8);
}

struct amr_pack {
	const uint8_t *d;
	int octet;
	uint32_t tick;			/* RTP ticks per frame */
	struct amr_frame fr[AMR_MAX_FRAMES];
	unsigned int k;			/* frames held */
	uint32_t ts;			/* of the first frame held */
	uint16_t flags;
};

static int
amr_flush(struct amr_pack *p, struct media_out *o)
{
	size_t start = o->len;
	int r;

	if (p->k == 0)
		return 0;
	r = p->octet ? amr_put_octet(p->d, p->fr, p->k, o) :
	    amr_put_efficient(p->d, p->fr, p->k, o);
	if (r != 0 || media_out_pkt(o, start, p->ts, p->flags) != 0)
		return -1;
	o->span_ts = p->ts + p->k * p->tick;
	p->k = 0;
	return 0;
}

static unsigned int
amr_frames_per_pkt(unsigned int ptime_ms, unsigned int maxptime_ms)
{
	unsigned int n = ptime_ms / AMR_FRAME_MS;

	if (maxptime_ms != 0 && n * AMR_FRAME_MS > maxptime_ms)
		n = maxptime_ms / AMR_FRAME_MS;
	if (n > AMR_MAX_FRAMES)
		n = AMR_MAX_FRAMES;
	return n ? n : 1;
}

/* A frame that carries speech, as against comfort noise or nothing. */
static int
amr_is_speech(const struct amr_frame *f, int wb)
{
	return f->ft < (wb ? 9 : 8);
}

/* Frames are cut into packets of up to n in storage order.  NO_DATA
 * (and AMR-WB SPEECH_LOST) frames end a packet and are not sent: their
 * 20 ms pass in the timestamps, as in discontinuous transmission.  A
 * packet whose first frame opens a talkspurt gets the marker (RFC 4867
 * section 4.1).
 */
int
media_amr_packetize(const uint8_t *data, size_t len,
		    const struct media_info *mi, const struct media_fmt *fmt,
		    unsigned int ptime_ms, unsigned int maxptime_ms,
		    struct media_out *o, const char **why)
{
	int wb = mi->codec == MEDIA_CODEC_AMR_WB;
	unsigned int n = amr_frames_per_pkt(ptime_ms, maxptime_ms);
	struct amr_pack p = { .d = data, .tick = wb ? 320 : 160 };
	struct amr_frame f;
	uint32_t idx = 0;
	int prev_speech = 0;
	size_t off;

	p.octet = (fmt->flags & MEDIA_FMT_AMR_OCTET) != 0;
	for (off = 0; off < len; off += 1 + (f.bits + 7u) / 8, idx++) {
		if (amr_frame_at(data, len, off, wb, 1, &f, why) != 0)
			return -1;
		if (f.ft == AMR_FT_NO_DATA || f.ft == AMR_WB_FT_LOST) {
			if (amr_flush(&p, o) != 0)
				goto nomem;
			prev_speech = 0;
			continue;
		}
		if (p.k == 0) {
			p.ts = idx * p.tick;
			p.flags = amr_is_speech(&f, wb) && !prev_speech ?
				  MEDIA_PKT_MARKER : 0;
		}
		p.fr[p.k++] = f;
		prev_speech = amr_is_speech(&f, wb);
		if (p.k == n && amr_flush(&p, o) != 0)
			goto nomem;
	}
	if (amr_flush(&p, o) != 0)
		goto nomem;
	if (o->npkts == 0) {
		*why = "amr: no frame with data";
		return -1;
	}
	return 0;

nomem:
	*why = "amr: out of memory building packets";
	return -1;
}
