/* Unit test of program stream demultiplexing (core/media_ps.c) on packs
 * built here and read against a guard page: MPEG-2 and MPEG-1 pack and
 * PES headers, the system header, padding and other streams passed over,
 * each stream's payload joined with its first PTS and the origin both
 * share, what the first chunk shows, and truncated or foreign units.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/media_framed.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define PS_MAX	4096

static uint8_t ps[PS_MAX];
static size_t plen;

static void
put(const void *p, size_t n)
{
	memcpy(ps + plen, p, n);
	plen += n;
}

/* MPEG-2 pack header with st bytes of stuffing. */
static void
pack2(unsigned int st)
{
	static const uint8_t h[13] = { 0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1,
				       1, 0x89, 0xc3 };

	put(h, sizeof(h));
	ps[plen++] = (uint8_t)(0xf8 | st);
	memset(ps + plen, 0xff, st);
	plen += st;
}

static void
pack1(void)
{
	put("\0\0\1\xba\x21\0\1\0\1\x80\x1b\x91", 12);
}

static void
pts5(uint8_t *p, unsigned int prefix, uint64_t pts)
{
	p[0] = (uint8_t)(prefix << 4 | (pts >> 29 & 0xe) | 1);
	p[1] = (uint8_t)(pts >> 22);
	p[2] = (uint8_t)((pts >> 14 & 0xfe) | 1);
	p[3] = (uint8_t)(pts >> 7);
	p[4] = (uint8_t)(pts << 1 | 1);
}

/* An MPEG-2 PES packet of stream sid: PTS when pts != 0, then n payload
 * bytes of value v.
 */
static void
pes2(uint8_t sid, uint64_t pts, size_t n, uint8_t v)
{
	size_t hl = pts ? 5 : 0, len = 3 + hl + n;
	uint8_t h[9] = { 0, 0, 1, sid, (uint8_t)(len >> 8), (uint8_t)len,
			 0x81, pts ? 0x80 : 0, (uint8_t)hl };

	put(h, sizeof(h));
	if (pts) {
		pts5(ps + plen, 2, pts);
		plen += 5;
	}
	memset(ps + plen, v, n);
	plen += n;
}

/* An MPEG-1 packet: two stuffing bytes, STD buffer, PTS, payload. */
static void
pes1(uint8_t sid, uint64_t pts, size_t n, uint8_t v)
{
	size_t len = 2 + 2 + 5 + n;
	uint8_t h[10] = { 0, 0, 1, sid, (uint8_t)(len >> 8), (uint8_t)len,
			  0xff, 0xff, 0x60, 0x2e };

	put(h, sizeof(h));
	pts5(ps + plen, 2, pts);
	plen += 5;
	memset(ps + plen, v, n);
	plen += n;
}

static int
demux(uint8_t sid, struct media_ps_es *es, const char **why)
{
	struct guard_buf g;
	const uint8_t *p = (const uint8_t *)guard_copy(&g, ps, plen);
	int r;

	memset(es, 0, sizeof(*es));
	*why = "";
	r = media_ps_demux(p, plen, sid, es, why);
	guard_free(&g);
	return r;
}

static void
test_mpeg2(void)
{
	static const uint8_t sys[] = { 0, 0, 1, 0xbb, 0, 6, 0x80, 0, 1, 4,
				       0xe1, 0xff };
	struct media_ps_es es;
	struct media_info mi;
	const char *why;
	size_t i;

	plen = 0;
	pack2(2);
	put(sys, sizeof(sys));
	pes2(0xe0, 3600 + 90000, 100, 0x11);
	pes2(0xc0, 90000, 50, 0x22);
	pes2(0xbd, 80000, 30, 0x33);		/* AC-3: not ours */
	pes2(0xe1, 70000, 30, 0x44);		/* a second video */
	pes2(0xbe, 0, 20, 0xff);		/* padding */
	pack2(0);
	pes2(0xe0, 0, 60, 0x55);
	put("\0\0\1\xb9", 4);

	CHECK_INT(demux(0xe0, &es, &why), 0);
	CHECK_INT(es.len, 160);
	for (i = 0; i < es.len; i++)
		CHECK_INT(es.buf[i], i < 100 ? 0x11 : 0x55);
	CHECK_INT(es.first_pts, 93600);
	CHECK_INT(es.origin_pts, 90000);
	free(es.buf);
	CHECK_INT(demux(0xc0, &es, &why), 0);
	CHECK_INT(es.len, 50);
	CHECK_INT(es.first_pts, 90000);
	free(es.buf);

	CHECK_INT(media_ps_scan(ps, plen, &why),
		  MEDIA_PS_HAS_VIDEO | MEDIA_PS_HAS_AUDIO);
	/* the first chunk ends inside the audio packet */
	CHECK_INT(media_ps_scan(ps, 16 + 12 + 114 + 20, &why),
		  MEDIA_PS_HAS_VIDEO);
	CHECK_INT(media_mpv_probe(ps, plen, plen, &mi, &why), 0);
	CHECK_INT(mi.flags, MEDIA_INFO_MPEG_PS | MEDIA_INFO_PS_AUDIO);
	CHECK_INT(mi.codec, MEDIA_CODEC_MPV);
}

static void
test_mpeg1(void)
{
	struct media_ps_es es;
	const char *why;

	plen = 0;
	pack1();
	pes1(0xc0, 5000, 40, 0x66);
	pes1(0xe0, 9000, 70, 0x77);
	pack1();
	pes1(0xe0, 12000, 30, 0x77);
	CHECK_INT(demux(0xe0, &es, &why), 0);
	CHECK_INT(es.len, 100);
	CHECK_INT(es.first_pts, 9000);
	CHECK_INT(es.origin_pts, 5000);
	free(es.buf);
}

static void
check_refused(uint8_t sid, const char *want)
{
	struct media_ps_es es;
	const char *why;

	CHECK_INT(demux(sid, &es, &why), -1);
	CHECK_STRN(why, strlen(why), want);
	free(es.buf);
}

static void
test_refused(void)
{
	struct media_info mi;
	const char *why;

	plen = 0;
	pack2(0);
	pes2(0xe0, 9000, 100, 0x11);
	plen -= 10;
	check_refused(0xe0, "ps: unit 0xe0 at offset 14 truncated (104 of "
		      "114 bytes)");
	plen = 0;
	pack2(0);
	put("\0\0\1\xb3\0\0\0\0", 8);
	check_refused(0xe0, "ps: no pack or packet start code at offset 14");
	plen = 0;
	put("\0\0\1\xba\x00\0\0\0\0\0\0\0\0\0", 14);
	check_refused(0xe0, "ps: pack header at offset 0 is neither MPEG-1 "
		      "nor MPEG-2");
	plen = 0;
	pack2(0);
	pes2(0xc0, 9000, 100, 0x11);
	check_refused(0xe0, "ps: no data in stream 0xe0");
	CHECK_INT(media_mpv_probe(ps, plen, plen, &mi, &why), -1);
	CHECK_STRN(why, strlen(why),
		   "ps: no video stream 0xe0 in the first chunk");
	/* an MPEG-2 PES header longer than its packet */
	plen = 0;
	pack2(0);
	put("\0\0\1\xe0\0\4\x81\x80\x09\x21", 10);
	check_refused(0xe0, "ps: PES header of stream 0xe0 at offset 14 "
		      "malformed");
}

int
main(void)
{
	test_mpeg2();
	test_mpeg1();
	test_refused();
	return CHECK_DONE();
}
