/* Unit test of the framed formats' plans (core/media_framed_plan.c) on
 * real chunked contents: MPEG audio larger than a chunk, probed through
 * content_probe, cut into a plan whose packets read back from the new
 * content byte for byte; a program stream giving a video plan and an
 * audio plan on one time line; a format that does not fit the content
 * refused; every content released.  Exit 77 only when the EAL cannot
 * start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "core/content.h"
#include "core/media_framed.h"
#include "tests/unit/check.h"

#define FRAME_LEN	417		/* 128 kbit/s, 44.1 kHz, layer III */
#define NFRAMES		400		/* 166,800 bytes: three chunks */

static uint8_t mp3[NFRAMES * FRAME_LEN];
static const struct media_ctype mpeg_audio = { MEDIA_TYPE_AUDIO_MPEG };
static const struct media_ctype mpeg_video = { MEDIA_TYPE_VIDEO_MPEG };

static void
make_mp3(void)
{
	size_t i, f;

	for (f = 0; f < NFRAMES; f++) {
		uint8_t *p = mp3 + f * FRAME_LEN;

		memcpy(p, "\xff\xfb\x90\x00", 4);
		for (i = 4; i < FRAME_LEN; i++)
			p[i] = (uint8_t)(0x20 + (f * 7 + i) % 0xc0);
	}
}


static void
test_mpa(void)
{
	struct content *c = content_new(sizeof(mp3));
	struct media_plan *pl = NULL;
	struct media_fmt fmt[4];
	uint8_t buf[FRAME_LEN + 4];
	const char *why = "";
	size_t off;
	uint32_t i, len, ts, flags;

	CHECK(c != NULL);
	CHECK_INT(content_append(c, mp3, sizeof(mp3)), 0);
	CHECK_INT(content_probe(c, &mpeg_audio, &why), 0);
	CHECK_INT(c->mi.codec, MEDIA_CODEC_MPA);
	CHECK_INT(media_framed_fmts(&c->mi, fmt, 4), 1);
	CHECK_INT(fmt[0].static_pt, 14);
	CHECK_INT(fmt[0].clock_rate, 90000);
	CHECK_INT(media_framed_plan(c, &c->mi, &fmt[0], 20, 0, &pl, &why), 0);
	CHECK_INT(pl->npkts, NFRAMES);
	CHECK_INT(pl->clock_rate, 90000);
	CHECK_INT(pl->content->len, NFRAMES * (FRAME_LEN + 4));
	CHECK_INT(pl->span_ts, 940408);		/* 460800 samples */
	for (i = 0; i < pl->npkts; i++) {
		media_plan_packet(pl, i, &off, &len, &ts, &flags);
		CHECK_INT(len, FRAME_LEN + 4);
		CHECK_INT(content_peek(pl->content, off, buf, len), len);
		CHECK(memcmp(buf, "\0\0\0\0", 4) == 0);
		CHECK(memcmp(buf + 4, mp3 + (size_t)i * FRAME_LEN,
			     FRAME_LEN) == 0);
		CHECK_INT(ts, ((uint64_t)i * 1152 * 90000 + 22050) / 44100);
	}
	media_plan_free(pl);

	/* the same through the dispatch every format goes through */
	CHECK_INT(media_fmts(&c->mi, fmt, 4), 1);
	CHECK_INT(media_plan_build(c, &c->mi, &fmt[0], 20, 0, &pl, &why), 0);
	CHECK_INT(pl->npkts, NFRAMES);
	CHECK_INT(pl->pkt[NFRAMES - 1].ts, 938057);
	media_plan_free(pl);

	/* AMR sent from MPEG audio: no */
	fmt[0].codec = MEDIA_CODEC_AMR;
	CHECK_INT(media_framed_plan(c, &c->mi, &fmt[0], 20, 0, &pl, &why),
		  -1);
	CHECK_STRN(why, strlen(why),
		   "payload format does not match the content");
	content_put(c);
}

/* MPEG-2 pack header, then one PES packet of sid with PTS pts. */
static size_t
ps_packet(uint8_t *p, uint8_t sid, uint64_t pts, const uint8_t *d, size_t n)
{
	static const uint8_t pack[14] = { 0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1,
					  1, 0x89, 0xc3, 0xf8 };
	size_t len = 3 + 5 + n;

	memcpy(p, pack, 14);
	p += 14;
	memcpy(p, "\0\0\1", 3);
	p[3] = sid;
	p[4] = (uint8_t)(len >> 8);
	p[5] = (uint8_t)len;
	p[6] = 0x81;
	p[7] = 0x80;
	p[8] = 5;
	p[9] = (uint8_t)(0x21 | (pts >> 29 & 0xe));
	p[10] = (uint8_t)(pts >> 22);
	p[11] = (uint8_t)((pts >> 14 & 0xfe) | 1);
	p[12] = (uint8_t)(pts >> 7);
	p[13] = (uint8_t)(pts << 1 | 1);
	memcpy(p + 14, d, n);
	return 14 + 14 + n;
}

/* Video of one I picture (25 frame/s) from PTS 93600, audio of two
 * frames from PTS 90000: the audio plan starts at 0, the video at 3600.
 */
static void
test_ps(void)
{
	static const uint8_t video[] = {
		0, 0, 1, 0xb3, 0x16, 0x01, 0x20, 0x13, 0xff, 0xff, 0xe0, 0x18,
		0, 0, 1, 0x00, 0x00, 0x0f, 0xff, 0xf8,
		0, 0, 1, 0x01, 0x55, 0x55, 0x55, 0x55,
	};
	uint8_t ps[2048];
	struct content *c = content_new(0);
	struct media_plan *pv = NULL, *pa = NULL;
	struct media_fmt fmt[4];
	const char *why = "";
	size_t n = 0;

	n += ps_packet(ps + n, 0xe0, 93600, video, sizeof(video));
	n += ps_packet(ps + n, 0xc0, 90000, mp3, 2 * FRAME_LEN);
	CHECK(c != NULL);
	CHECK_INT(content_append(c, ps, n), 0);
	CHECK_INT(content_probe(c, &mpeg_video, &why), 0);
	CHECK_INT(c->mi.flags, MEDIA_INFO_MPEG_PS | MEDIA_INFO_PS_AUDIO);
	CHECK_INT(media_framed_fmts(&c->mi, fmt, 4), 2);
	CHECK_INT(fmt[0].codec, MEDIA_CODEC_MPV);
	CHECK_INT(fmt[0].kind, MEDIA_KIND_VIDEO);
	CHECK_INT(fmt[0].static_pt, 32);
	CHECK_INT(fmt[1].codec, MEDIA_CODEC_MPA);
	CHECK_INT(fmt[1].kind, MEDIA_KIND_AUDIO);
	CHECK_INT(media_framed_plan(c, &c->mi, &fmt[0], 0, 0, &pv, &why), 0);
	CHECK_INT(media_framed_plan(c, &c->mi, &fmt[1], 0, 0, &pa, &why), 0);
	CHECK_INT(pv->npkts, 1);
	CHECK_INT(pv->pkt[0].ts, 3600);
	CHECK_INT(pv->pkt[0].len, 4 + sizeof(video));
	CHECK_INT(pv->pkt[0].flags, MEDIA_PKT_MARKER);
	CHECK_INT(pv->span_ts, 7200);
	CHECK_INT(pa->npkts, 2);
	CHECK_INT(pa->pkt[0].ts, 0);
	CHECK_INT(pa->pkt[1].ts, 2351);
	media_plan_free(pv);
	media_plan_free(pa);
	content_put(c);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-shconf",
			"--no-pci", "--no-telemetry", "-l", "0", prefix,
			NULL };

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=anncd-test-mf-%d",
		 (int)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return 77;
	}
	CHECK_INT(content_sys_init(8, 1 << 20), 0);
	make_mp3();
	test_mpa();
	test_ps();
	CHECK_INT(content_live(), 0);
	CHECK_INT(content_chunks_live(), 0);
	rte_eal_cleanup();
	return CHECK_DONE();
}
