/* Unit test of AMR and AMR-WB storage files (core/media_amr.c), built
 * here frame by frame and read against a guard page: the magic numbers,
 * refused frame types and truncated frames, then the RTP payloads of
 * RFC 4867 section 4 in both modes, bit by bit, with packet times,
 * maxptime, NO_DATA gaps and talkspurt markers.
 */
#include <stdint.h>

#include "core/media_framed.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define FILE_MAX	4096

/* Storage octets of a frame, header byte included (RFC 4867 5.3). */
static const int nb_bits[16] = { 95, 103, 118, 134, 148, 159, 204, 244,
				 39, 0, 0, 0, 0, 0, 0, 0 };
static const int wb_bits[16] = { 132, 177, 253, 285, 317, 365, 397, 461,
				 477, 40, 0, 0, 0, 0, 0, 0 };

struct amr_file {
	uint8_t b[FILE_MAX];
	size_t len;
	int wb;
};

static void
file_start(struct amr_file *f, int wb)
{
	const char *m = wb ? "#!AMR-WB\n" : "#!AMR\n";

	f->wb = wb;
	f->len = strlen(m);
	memcpy(f->b, m, f->len);
}

/* A frame of type ft whose speech bytes count up from seed; the bits
 * past the frame's last one are zero, as the storage format pads.
 */
static void
frame_add(struct amr_file *f, unsigned int ft, uint8_t seed)
{
	int bits = (f->wb ? wb_bits : nb_bits)[ft];
	size_t n = ((size_t)bits + 7) / 8, i;

	f->b[f->len++] = (uint8_t)(ft << 3 | 1 << 2);
	for (i = 0; i < n; i++)
		f->b[f->len++] = (uint8_t)(seed + i);
	if (bits % 8)
		f->b[f->len - 1] &= (uint8_t)(0xff << (8 - bits % 8));
}

static int
probe(const struct amr_file *f, size_t avail, struct media_info *mi,
      const char **why)
{
	struct media_ctype mt = { .type = f->wb ? MEDIA_TYPE_AUDIO_AMR_WB :
					      MEDIA_TYPE_AUDIO_AMR };
	struct guard_buf g;
	const uint8_t *p = (const uint8_t *)guard_copy(&g, f->b, f->len);
	int r;

	*why = "";
	r = media_framed_probe(&mt, p, avail, f->len, mi, why);
	guard_free(&g);
	return r;
}

/* Cuts f (probed first) into o in mode octet (1) or efficient (0). */
static int
cut(const struct amr_file *f, int octet, unsigned int ptime,
    unsigned int maxptime, struct media_out *o, const char **why)
{
	struct media_fmt fmts[2];
	struct media_info mi;
	struct guard_buf g;
	const uint8_t *p;
	int r;

	memset(o, 0, sizeof(*o));
	if (probe(f, f->len, &mi, why) != 0)
		return -1;
	CHECK_INT(media_amr_fmts(&mi, fmts, 2), 2);
	p = (const uint8_t *)guard_copy(&g, f->b + mi.data_offset,
					mi.data_len);
	r = media_amr_packetize(p, mi.data_len, &mi, &fmts[octet], ptime,
				maxptime, o, why);
	guard_free(&g);
	return r;
}

static void
check_refused(const struct amr_file *f, size_t avail, const char *want)
{
	struct media_info mi;
	const char *why;

	CHECK_INT(probe(f, avail, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), want);
}

static void
test_probe(void)
{
	struct amr_file f;
	struct media_info mi;
	const char *why;

	file_start(&f, 0);
	frame_add(&f, 7, 1);
	frame_add(&f, 15, 0);
	CHECK_INT(probe(&f, f.len, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_AMR);
	CHECK_INT(mi.clock_rate, 8000);
	CHECK_INT(mi.data_offset, 6);
	CHECK_INT(mi.data_len, 32 + 1);

	file_start(&f, 1);
	frame_add(&f, 8, 1);
	CHECK_INT(probe(&f, f.len, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_AMR_WB);
	CHECK_INT(mi.clock_rate, 16000);
	CHECK_INT(mi.data_offset, 9);
	CHECK_INT(mi.data_len, 61);
	/* a frame cut by the end of the first chunk is no error yet */
	CHECK_INT(probe(&f, 20, &mi, &why), 0);

	file_start(&f, 1);
	check_refused(&f, f.len, "amr: no frames");
	memcpy(f.b, "#!AMR-WB_MC1.0\n", 15);
	f.len = 15;
	check_refused(&f, f.len,
		      "amr: multi-channel storage (AMR-WB_MC1.0) not supported");
	file_start(&f, 0);
	memcpy(f.b, "#!AMR_MC1.0\n", 12);
	f.len = 12;
	check_refused(&f, f.len,
		      "amr: multi-channel storage (AMR_MC1.0) not supported");
	/* an AMR-WB file named audio/amr */
	file_start(&f, 1);
	frame_add(&f, 2, 0);
	f.wb = 0;
	check_refused(&f, f.len, "amr: magic is not #!AMR");

	/* FT 9 (GSM-EFR SID) and 12-14 are not AMR frames */
	file_start(&f, 0);
	frame_add(&f, 0, 0);
	f.b[f.len++] = 9 << 3;
	check_refused(&f, f.len,
		      "amr: frame type 9 at offset 19 not supported");
	file_start(&f, 0);
	frame_add(&f, 7, 0);
	f.len -= 27;
	check_refused(&f, f.len,
		      "amr: frame at offset 6 truncated (5 of 32 bytes)");
}

/* RFC 4867 section 4.4.5.1-like packet: three 12.2 frames at 60 ms. */
static void
test_octet(void)
{
	struct amr_file f;
	struct media_out o;
	const char *why;
	const uint8_t *p;
	int i;

	file_start(&f, 0);
	for (i = 0; i < 7; i++)
		frame_add(&f, 7, (uint8_t)(i * 40));
	CHECK_INT(cut(&f, 1, 60, 0, &o, &why), 0);
	CHECK_INT(o.npkts, 3);
	CHECK_INT(o.pkt[0].len, 1 + 3 + 3 * 31);
	CHECK_INT(o.pkt[2].len, 1 + 1 + 31);
	CHECK_INT(o.pkt[0].ts, 0);
	CHECK_INT(o.pkt[1].ts, 480);
	CHECK_INT(o.pkt[2].ts, 960);
	CHECK_INT(o.span_ts, 7 * 160);
	CHECK_INT(o.pkt[0].flags, MEDIA_PKT_MARKER);
	CHECK_INT(o.pkt[1].flags, 0);
	p = o.buf + o.pkt[0].off;
	CHECK_INT(p[0], 0xf0);			/* CMR 15, no request */
	CHECK_INT(p[1], 0x80 | 7 << 3 | 4);	/* F=1, FT=7, Q=1 */
	CHECK_INT(p[2], 0x80 | 7 << 3 | 4);
	CHECK_INT(p[3], 7 << 3 | 4);		/* the last: F=0 */
	CHECK(memcmp(p + 4, f.b + 6 + 1, 31) == 0);
	CHECK(memcmp(p + 4 + 31, f.b + 6 + 32 + 1, 31) == 0);
	CHECK(memcmp(p + 4 + 62, f.b + 6 + 64 + 1, 31) == 0);
	media_out_free(&o);

	/* maxptime 40 caps the 100 ms asked for; 20 ms below 20 */
	CHECK_INT(cut(&f, 1, 100, 40, &o, &why), 0);
	CHECK_INT(o.npkts, 4);
	CHECK_INT(o.pkt[1].ts, 320);
	media_out_free(&o);
	CHECK_INT(cut(&f, 1, 10, 0, &o, &why), 0);
	CHECK_INT(o.npkts, 7);
	media_out_free(&o);
	/* at most 12 frames (240 ms) whatever ptime says */
	for (i = 0; i < 20; i++)
		frame_add(&f, 0, (uint8_t)i);
	CHECK_INT(cut(&f, 1, 1000, 0, &o, &why), 0);
	CHECK_INT(o.npkts, 3);
	CHECK_INT(o.pkt[1].ts, 12 * 160);
	media_out_free(&o);
}

/* Reads bit i (MSB first) of p. */
static unsigned int
bit(const uint8_t *p, size_t i)
{
	return p[i >> 3] >> (7 - (i & 7)) & 1;
}

static unsigned int
bits(const uint8_t *p, size_t at, unsigned int n)
{
	unsigned int v = 0;

	while (n-- > 0)
		v = v << 1 | bit(p, at++);
	return v;
}

/* RFC 4867 section 4.3: CMR(4), TOC entries of 6 bits, speech bits
 * packed, zero padding to the octet.
 */
static void
test_efficient(void)
{
	struct amr_file f;
	struct media_out o;
	const char *why;
	const uint8_t *p;
	size_t i, at;

	file_start(&f, 1);
	frame_add(&f, 2, 0x11);		/* 253 bits */
	frame_add(&f, 9, 0xa0);		/* SID, 40 bits */
	CHECK_INT(cut(&f, 0, 40, 0, &o, &why), 0);
	CHECK_INT(o.npkts, 1);
	CHECK_INT(o.pkt[0].len, (4 + 12 + 253 + 40 + 7) / 8);
	p = o.buf + o.pkt[0].off;
	CHECK_INT(bits(p, 0, 4), 15);
	CHECK_INT(bits(p, 4, 6), 0x20 | 2 << 1 | 1);
	CHECK_INT(bits(p, 10, 6), 9 << 1 | 1);
	at = 16;
	for (i = 0; i < 253; i++)
		CHECK_INT(bit(p, at + i), bit(f.b + 9 + 1, i));
	at += 253;
	for (i = 0; i < 40; i++)
		CHECK_INT(bit(p, at + i), bit(f.b + 9 + 1 + 32 + 1, i));
	at += 40;
	for (; at < (size_t)o.pkt[0].len * 8; at++)
		CHECK_INT(bit(p, at), 0);
	CHECK_INT(o.span_ts, 640);
	media_out_free(&o);
}

/* DTX: NO_DATA frames are not sent and end the packet; the next speech
 * frame after comfort noise opens a talkspurt and carries the marker.
 */
static void
test_no_data(void)
{
	struct amr_file f;
	struct media_out o;
	const char *why;

	file_start(&f, 0);
	frame_add(&f, 7, 0);
	frame_add(&f, 7, 0);
	frame_add(&f, 8, 0);		/* SID */
	frame_add(&f, 15, 0);
	frame_add(&f, 15, 0);
	frame_add(&f, 7, 0);		/* talkspurt, mid-packet slot */
	frame_add(&f, 7, 0);
	frame_add(&f, 15, 0);
	CHECK_INT(cut(&f, 1, 60, 0, &o, &why), 0);
	CHECK_INT(o.npkts, 2);
	CHECK_INT(o.pkt[0].ts, 0);
	CHECK_INT(o.pkt[0].len, 1 + 3 + 31 + 31 + 5);
	CHECK_INT(o.pkt[0].flags, MEDIA_PKT_MARKER);
	CHECK_INT(o.pkt[1].ts, 5 * 160);
	CHECK_INT(o.pkt[1].len, 1 + 2 + 62);
	CHECK_INT(o.pkt[1].flags, MEDIA_PKT_MARKER);
	CHECK_INT(o.span_ts, 7 * 160);
	media_out_free(&o);

	file_start(&f, 0);
	frame_add(&f, 15, 0);
	frame_add(&f, 15, 0);
	CHECK_INT(cut(&f, 1, 20, 0, &o, &why), -1);
	CHECK_STRN(why, strlen(why), "amr: no frame with data");
	media_out_free(&o);
}

int
main(void)
{
	test_probe();
	test_octet();
	test_efficient();
	test_no_data();
	return CHECK_DONE();
}
