/* Unit test of MPEG video elementary streams (core/media_mpv.c) built
 * here start code by start code and read against a guard page: the RFC
 * 2250 section 3.4 header of each packet (TR, S, B, E, picture type and
 * motion vector codes, the MPEG-2 extension), packets cut only at slice
 * boundaries, a slice over the payload limit in fragments, the sequence
 * header repeated before an I picture, the marker on each picture's last
 * packet, presentation timestamps with B pictures, and refusals.
 */
#include <stdint.h>

#include "core/media_framed.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"
#include "tests/unit/bytes.h"

#define ES_MAX		(64 * 1024)

static uint8_t es[ES_MAX];
static size_t elen;

static void
sc(uint8_t code)
{
	es[elen++] = 0;
	es[elen++] = 0;
	es[elen++] = 1;
	es[elen++] = code;
}

/* 352x288, aspect 1, frame_rate_code rate, no quantiser matrices. */
static void
seq(unsigned int rate)
{
	sc(0xb3);
	put_be32(es + elen, 352u << 20 | 288u << 8 | 1u << 4 | rate);
	put_be32(es + elen + 4, 0x3fffe000u | 1u << 13 | 112u << 3);
	elen += 8;
}

/* MPEG-2 sequence extension: frame_rate_extension n and d. */
static void
seq_ext(unsigned int n, unsigned int d)
{
	sc(0xb5);
	memset(es + elen, 0, 6);
	es[elen] = 1 << 4 | 0x4;		/* id 1, profile 4 ... */
	es[elen + 5] = (uint8_t)(n << 5 | d);
	elen += 6;
}

static void
gop(void)
{
	sc(0xb8);
	memcpy(es + elen, "\x00\x08\x00\x40", 4);
	elen += 4;
}

/* A picture header: TR, type, forward and backward f_code nibbles. */
static void
pic(unsigned int tr, unsigned int type, unsigned int fwd, unsigned int bwd)
{
	uint64_t v = (uint64_t)tr << 54 | (uint64_t)type << 51 |
		     0xffffull << 35;

	if (type == 2 || type == 3)
		v |= (uint64_t)fwd << 31;
	if (type == 3)
		v |= (uint64_t)bwd << 27;
	sc(0x00);
	for (int i = 0; i < 5; i++)
		es[elen++] = (uint8_t)(v >> (56 - 8 * i));
}

/* Picture coding extension: the 30 bits after the identifier. */
static void
pic_ext(uint32_t bits30)
{
	uint64_t v = (uint64_t)8 << 36 | (uint64_t)bits30 << 6;

	sc(0xb5);
	for (int i = 0; i < 5; i++)
		es[elen++] = (uint8_t)(v >> (32 - 8 * i));
}

/* A slice of n bytes, start code included; no 00 00 01 inside. */
static void
slice(unsigned int row, size_t n)
{
	sc((uint8_t)row);
	memset(es + elen, 0x55, n - 4);
	es[elen] = (uint8_t)row;
	elen += n - 4;
}

static int
cut(struct media_out *o, const char **why)
{
	struct guard_buf g;
	const uint8_t *p = (const uint8_t *)guard_copy(&g, es, elen);
	int r;

	memset(o, 0, sizeof(*o));
	*why = "";
	r = media_mpv_packetize(p, elen, 0, o, why);
	guard_free(&g);
	return r;
}

static uint32_t
vhdr(const struct media_out *o, uint32_t i)
{
	return be32(o->buf + o->pkt[i].off);
}

#define H_TR(h)		((h) >> 16 & 0x3ff)
#define H_S(h)		((h) >> 13 & 1)
#define H_B(h)		((h) >> 12 & 1)
#define H_E(h)		((h) >> 11 & 1)
#define H_P(h)		((h) >> 8 & 7)

/* I B B P in coded order I0 P3 B1 B2, then a second GOP opening with an
 * I picture that has no sequence header of its own.
 */
static void
build_gop(void)
{
	elen = 0;
	seq(3);					/* 25 frame/s */
	gop();
	pic(0, 1, 0, 0);
	slice(1, 600);
	slice(2, 600);
	slice(3, 600);
	pic(3, 2, 0x3, 0);
	slice(1, 100);
	pic(1, 3, 0x2, 0xa);
	slice(1, 100);
	pic(2, 3, 0x2, 0xa);
	slice(1, 100);
	gop();
	pic(0, 1, 0, 0);
	slice(1, 100);
	sc(0xb7);
}

static void
test_gop(void)
{
	struct media_out o;
	const char *why;
	size_t seq_len = 12;
	uint32_t h;

	build_gop();
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.npkts, 6);

	/* I: headers and two slices, then the third (no room for it) */
	h = vhdr(&o, 0);
	CHECK_INT(H_TR(h), 0);
	CHECK_INT(H_S(h), 1);
	CHECK_INT(H_B(h), 1);
	CHECK_INT(H_E(h), 1);
	CHECK_INT(H_P(h), 1);
	CHECK_INT(h & 0xff, 0);
	CHECK_INT(h >> 26, 0);			/* MBZ, T: MPEG-1 */
	CHECK_INT(o.pkt[0].len, 4 + 12 + 8 + 9 + 1200);
	CHECK(memcmp(o.buf + o.pkt[0].off + 4, es, 12 + 8 + 9 + 1200) == 0);
	CHECK_INT(o.pkt[0].flags, 0);
	h = vhdr(&o, 1);
	CHECK_INT(H_S(h), 0);
	CHECK_INT(H_B(h), 1);
	CHECK_INT(H_E(h), 1);
	CHECK_INT(o.pkt[1].len, 4 + 600);
	CHECK_INT(o.pkt[1].flags, MEDIA_PKT_MARKER);
	CHECK_INT(o.pkt[1].ts, 0);

	/* P: FFV/FFC; B: backward then forward (RFC 2250 3.4) */
	h = vhdr(&o, 2);
	CHECK_INT(H_TR(h), 3);
	CHECK_INT(H_P(h), 2);
	CHECK_INT(h & 0xff, 0x03);
	CHECK_INT(o.pkt[2].ts, 3 * 3600);
	h = vhdr(&o, 3);
	CHECK_INT(H_P(h), 3);
	CHECK_INT(h & 0xff, 0xa2);
	CHECK_INT(o.pkt[3].ts, 3600);
	CHECK_INT(o.pkt[4].ts, 7200);

	/* the second GOP's I picture: the sequence header copied ahead */
	h = vhdr(&o, 5);
	CHECK_INT(H_S(h), 1);
	CHECK_INT(H_TR(h), 0);
	CHECK_INT(o.pkt[5].ts, 4 * 3600);
	CHECK_INT(o.pkt[5].len, 4 + seq_len + 8 + 9 + 100);
	CHECK(memcmp(o.buf + o.pkt[5].off + 4, es, seq_len) == 0);
	CHECK_INT(o.pkt[5].flags, MEDIA_PKT_MARKER);
	/* the sequence end code is not sent */
	CHECK_INT(o.len, (size_t)o.pkt[5].off + o.pkt[5].len);
	CHECK_INT(o.span_ts, 5 * 3600);
	media_out_free(&o);
}

/* A slice of 4000 bytes in fragments: B on the first, E on the last,
 * neither between; the picture's headers ride with the first.
 */
static void
test_fragments(void)
{
	struct media_out o;
	const char *why;
	size_t first, i, sent = 0;

	elen = 0;
	seq(5);
	pic(0, 1, 0, 0);
	slice(1, 4000);
	slice(2, 50);
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.npkts, 4);
	first = MEDIA_RTP_PAYLOAD_MAX - 4 - 12 - 9;
	CHECK_INT(o.pkt[0].len, MEDIA_RTP_PAYLOAD_MAX);
	CHECK_INT(vhdr(&o, 0) >> 11 & 7, 6);	/* S B, not E */
	CHECK_INT(vhdr(&o, 1) >> 11 & 7, 0);
	CHECK_INT(vhdr(&o, 2) >> 11 & 7, 1);	/* E */
	CHECK_INT(vhdr(&o, 3) >> 11 & 7, 3);	/* a whole slice: B E */
	for (i = 0; i < 3; i++)
		sent += o.pkt[i].len - 4u;
	CHECK_INT(sent, 12 + 9 + 4000);
	CHECK(memcmp(o.buf + o.pkt[1].off + 4, es + 21 + first, 100) == 0);
	for (i = 0; i < 4; i++) {
		CHECK(o.pkt[i].len <= MEDIA_RTP_PAYLOAD_MAX);
		CHECK_INT(o.pkt[i].ts, 0);
		CHECK_INT(o.pkt[i].flags, i == 3 ? MEDIA_PKT_MARKER : 0);
	}
	media_out_free(&o);
}

/* MPEG-2: T set, the extension header copied from the picture coding
 * extension, the frame rate from the code and its extension (25 * 2/1).
 */
static void
test_mpeg2(void)
{
	struct media_out o;
	const char *why;
	const uint8_t *p;

	elen = 0;
	seq(3);
	seq_ext(1, 0);
	gop();
	pic(0, 1, 0, 0);
	pic_ext(0x2aaaaaaa & 0x3fffffff);
	slice(1, 200);
	pic(1, 2, 1, 0);
	pic_ext(0x01234567);
	slice(1, 200);
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.npkts, 2);
	p = o.buf + o.pkt[0].off;
	CHECK_INT(be32(p) >> 26 & 1, 1);
	CHECK_INT(be32(p + 4), 0x2aaaaaaa);
	CHECK_INT(o.pkt[0].len, 8 + 12 + 10 + 8 + 9 + 9 + 200);
	p = o.buf + o.pkt[1].off;
	CHECK_INT(be32(p + 4), 0x01234567);
	CHECK_INT(o.pkt[1].ts, 1800);		/* 50 frame/s */
	media_out_free(&o);
}

static void
check_refused(const char *want)
{
	struct media_out o;
	const char *why;

	CHECK_INT(cut(&o, &why), -1);
	CHECK_STRN(why, strlen(why), want);
	media_out_free(&o);
}

static void
test_refused(void)
{
	struct media_info mi;
	const char *why;

	elen = 0;
	seq(0);
	check_refused("mpv: frame_rate_code 0 at offset 0 not supported");
	elen = 0;
	seq(9);
	CHECK_INT(media_mpv_probe(es, elen, elen, &mi, &why), -1);
	CHECK_STRN(why, strlen(why),
		   "mpv: frame_rate_code 9 at offset 0 not supported");

	elen = 0;
	es[elen++] = 0x47;
	seq(3);
	check_refused("mpv: junk at offset 0 before the first start code");
	elen = 0;
	gop();
	check_refused("mpv: no sequence header at the start");
	elen = 0;
	seq(3);
	slice(1, 20);
	check_refused("mpv: slice at offset 12 outside a picture");
	elen = 0;
	seq(3);
	sc(0xba);
	memset(es + elen, 0x44, 10);
	elen += 10;
	check_refused("mpv: start code 0xba at offset 12 not in a video "
		      "elementary stream");
	elen = 0;
	seq(3);
	sc(0x00);
	es[elen++] = 0;
	check_refused("mpv: picture header at offset 12 truncated");
	elen = 0;
	seq(3);
	pic(0, 1, 0, 0);
	check_refused("mpv: no picture with slices");

	/* leading zero bytes are stuffing, not junk */
	elen = 0;
	es[elen++] = 0;
	es[elen++] = 0;
	seq(4);
	CHECK_INT(media_mpv_probe(es, elen, elen, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_MPV);
	CHECK_INT(mi.clock_rate, 90000);
	CHECK_INT(mi.flags, 0);
}

int
main(void)
{
	test_gop();
	test_fragments();
	test_mpeg2();
	test_refused();
	return CHECK_DONE();
}
