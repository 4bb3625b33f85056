/* Unit test of payload formats and packet plans (core/media_plan.c): the
 * formats of each kind of content, best first, with their payload types
 * and packet limits; plan shapes (a 1.01 s file and its short last
 * packet, G.729 ending in a SID frame, ptime rounded and capped); plans
 * that convert (their own content, freed with the plan) and plans that
 * share the content (a reference of their own).  Exit 77 only when the
 * EAL cannot start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "core/content.h"
#include "core/media.h"
#include "core/media_pcm.h"
#include "core/media_plan.h"
#include "tests/unit/check.h"
#include "tests/unit/g192.h"

#define MAX_FMTS	8

static struct content *
content_of(const void *p, size_t n)
{
	struct content *c = content_new(n);

	CHECK(c != NULL);
	if (c != NULL)
		CHECK_INT(content_append(c, p, n), 0);
	return c;
}

static struct content *
probed(const char *ctype, const void *p, size_t n)
{
	struct media_ctype mt;
	struct content *c;
	const char *why = "";

	CHECK(media_type_parse(ctype, strlen(ctype), &mt) !=
	      MEDIA_TYPE_UNSUPPORTED);
	c = content_of(p, n);
	if (c != NULL && content_probe(c, &mt, &why) != 0) {
		fprintf(stderr, "probe %s: %s\n", ctype, why);
		CHECK(0);
	}
	return c;
}

static void
check_fmt(const struct media_fmt *f, const char *name, uint32_t clock,
	  int ch, int pt, int conv, int max_ms)
{
	CHECK_STRN(f->name, strlen(f->name), name);
	CHECK_INT(f->clock_rate, clock);
	CHECK_INT(f->channels, ch);
	CHECK_INT(f->static_pt, pt);
	CHECK_INT(f->conversion, conv);
	CHECK_INT(f->max_frame_ms, max_ms);
	CHECK_INT(f->kind, MEDIA_KIND_AUDIO);
}

static void
test_fmts(void)
{
	struct media_fmt f[MAX_FMTS];
	struct media_info mi;

	memset(&mi, 0, sizeof(mi));
	mi.codec = MEDIA_CODEC_PCMU;
	mi.sample_rate = 8000;
	mi.channels = 1;
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 2);
	check_fmt(&f[0], "PCMU", 8000, 1, 0, 0, 182);	/* 1460 / 8 */
	check_fmt(&f[1], "PCMA", 8000, 1, 8, 1, 182);
	CHECK_INT(f[0].frame_ms, 1);
	CHECK_INT(media_fmts(&mi, f, 1), 1);
	CHECK_INT(media_fmts(&mi, f, 0), 0);
	mi.channels = 2;	/* stereo mu-law WAV: only converted */
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 2);
	check_fmt(&f[0], "PCMU", 8000, 1, 0, 1, 182);

	mi.codec = MEDIA_CODEC_PCM16LE;
	mi.sample_rate = 16000;
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 5);
	check_fmt(&f[0], "L16", 16000, 2, -1, 1, 22);	/* 1460 / 64 */
	check_fmt(&f[1], "L16", 16000, 1, -1, 1, 45);
	check_fmt(&f[2], "L16", 8000, 1, -1, 1, 91);
	check_fmt(&f[3], "PCMU", 8000, 1, 0, 1, 182);
	check_fmt(&f[4], "PCMA", 8000, 1, 8, 1, 182);

	mi.codec = MEDIA_CODEC_L16;
	mi.sample_rate = 8000;
	mi.channels = 1;
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 3);
	check_fmt(&f[0], "L16", 8000, 1, -1, 0, 91);
	check_fmt(&f[1], "PCMU", 8000, 1, 0, 1, 182);

	mi.codec = MEDIA_CODEC_G722;
	mi.sample_rate = 16000;
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 1);
	check_fmt(&f[0], "G722", 8000, 1, 9, 0, 182);

	mi.codec = MEDIA_CODEC_G729;
	mi.sample_rate = 8000;
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 1);
	check_fmt(&f[0], "G729", 8000, 1, 18, 0, 1460);
	CHECK_INT(f[0].frame_ms, 10);
	CHECK_INT(f[0].flags, 0);
	mi.sid_bytes = 2;
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 1);
	CHECK_INT(f[0].flags, MEDIA_FMT_G729_SID);
	CHECK_INT(f[0].max_frame_ms, 1450);
	mi.sid_bytes = 0;
	mi.framing = MEDIA_FRAMING_G192;	/* repacked at ingest */
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 1);
	check_fmt(&f[0], "G729", 8000, 1, 18, 1, 1450);
	CHECK_INT(f[0].flags, MEDIA_FMT_G729_SID);

	mi.codec = MEDIA_CODEC_NONE;
	CHECK_INT(media_fmts(&mi, f, MAX_FMTS), 0);
}

static void
pkt(const struct media_plan *pl, uint32_t i, size_t off, uint32_t len,
    uint32_t ts)
{
	size_t o;
	uint32_t l, t, fl;

	media_plan_packet(pl, i, &o, &l, &t, &fl);
	CHECK_INT(o, off);
	CHECK_INT(l, len);
	CHECK_INT(t, ts);
}

static struct media_plan *
plan(struct content *c, unsigned int which, unsigned int ptime,
     unsigned int maxptime)
{
	struct media_fmt f[MAX_FMTS];
	struct media_plan *pl = NULL;
	const char *why = "";

	CHECK(media_fmts(&c->mi, f, MAX_FMTS) > which);
	if (media_plan_build(c, &c->mi, &f[which], ptime, maxptime, &pl,
			     &why) != 0) {
		fprintf(stderr, "plan: %s\n", why);
		CHECK(0);
	}
	return pl;
}

/* A 1.01 s .au file: 50 packets of 160 and a last one of 80. */
static void
test_uniform(void)
{
	static uint8_t f[24 + 8080];
	struct media_plan *pl;
	struct content *c;

	memset(f, 0xff, sizeof(f));
	memcpy(f, ".snd\0\0\0\x18\xff\xff\xff\xff\0\0\0\x01\0\0\x1f\x40"
	       "\0\0\0\x01", 24);
	c = probed("audio/basic", f, sizeof(f));
	if (c == NULL)
		return;
	pl = plan(c, 0, 0, 0);
	if (pl != NULL) {
		CHECK(pl->pkt == NULL);
		CHECK(pl->content == c);
		CHECK_INT(pl->npkts, 51);
		CHECK_INT(pl->clock_rate, 8000);
		CHECK_INT(pl->span_ts, 8080);
		pkt(pl, 0, 24, 160, 0);
		pkt(pl, 49, 24 + 49 * 160, 160, 49 * 160);
		pkt(pl, 50, 24 + 50 * 160, 80, 8000);
	}
	/* The owner lets go first: the plan's reference keeps the bytes. */
	content_put(c);
	CHECK_INT(content_live(), 1);
	media_plan_free(pl);
	CHECK_INT(content_live(), 0);
}

static void
test_ptime(void)
{
	static uint8_t g[10 * 300];
	struct media_fmt f[MAX_FMTS];
	struct media_plan *pl;
	struct content *c;
	const char *why = "";

	c = probed("audio/G729", g, sizeof(g));
	if (c == NULL)
		return;
	pl = plan(c, 0, 25, 0);			/* 2.5 frames: 3 */
	if (pl != NULL)
		CHECK_INT(pl->uni_len, 30);
	media_plan_free(pl);
	pl = plan(c, 0, 24, 0);
	if (pl != NULL)
		CHECK_INT(pl->uni_ts, 160);
	media_plan_free(pl);
	pl = plan(c, 0, 60, 40);		/* maxptime caps it */
	if (pl != NULL)
		CHECK_INT(pl->uni_len, 40);
	media_plan_free(pl);
	pl = plan(c, 0, 3, 0);		/* never under one frame */
	if (pl != NULL)
		CHECK_INT(pl->uni_len, 10);
	media_plan_free(pl);
	pl = plan(c, 0, 5000, 0);		/* the payload limit */
	if (pl != NULL) {
		CHECK_INT(pl->uni_len, 1460);
		CHECK_INT(pl->npkts, 3);
	}
	media_plan_free(pl);
	CHECK_INT(media_fmts(&c->mi, f, MAX_FMTS), 1);
	CHECK_INT(media_plan_build(c, &c->mi, &f[0], 20, 5, &pl, &why), -1);
	CHECK_STRN(why, strlen(why),
		   "plan: maxptime 5 ms is under one 10 ms frame of G729");
	CHECK(pl == NULL);
	/* A format the content is not, without conversion: refused. */
	f[0].codec = MEDIA_CODEC_PCMU;
	f[0].name = "PCMU";
	CHECK_INT(media_plan_build(c, &c->mi, &f[0], 20, 0, &pl, &why), -1);
	CHECK_STRN(why, strlen(why), "plan: content is G729/8000/1, not "
		   "PCMU/8000/1 without conversion");
	content_put(c);
}

/* Five speech frames and a SID: packets of two frames, the SID ending
 * the last one; with four, the SID alone.
 */
static void
test_g729_sid(void)
{
	static uint8_t g[52];
	struct media_plan *pl;
	struct content *c;
	uint32_t i;

	for (i = 0; i < sizeof(g); i++)
		g[i] = (uint8_t)i;
	c = probed("audio/G729", g, 52);
	pl = c != NULL ? plan(c, 0, 20, 0) : NULL;
	if (pl != NULL) {
		CHECK(pl->pkt != NULL);
		CHECK_INT(pl->npkts, 3);
		pkt(pl, 0, 0, 20, 0);
		pkt(pl, 1, 20, 20, 160);
		pkt(pl, 2, 40, 12, 320);
		CHECK_INT(pl->span_ts, 480);
	}
	media_plan_free(pl);
	content_put(c);

	c = probed("audio/G729", g, 42);
	pl = c != NULL ? plan(c, 0, 20, 0) : NULL;
	if (pl != NULL) {
		CHECK_INT(pl->npkts, 3);
		pkt(pl, 2, 40, 2, 320);
		CHECK_INT(pl->span_ts, 400);
	}
	media_plan_free(pl);
	content_put(c);
	CHECK_INT(content_live(), 0);
}

/* G.192 with DTX: speech x3, SID, two frames not sent, SID, one not
 * sent, speech x3; packets of two frames, a SID ending a packet, a
 * marker after each gap.
 */
static void
test_g192(void)
{
	static const uint8_t sp[10] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	static const uint8_t sid[2] = { 0xab, 0xcd };
	static const struct {
		uint32_t off, len, ts, flags;
	} want[] = {
		{ 0, 20, 0, 0 },
		{ 20, 12, 160, 0 },
		{ 32, 2, 480, MEDIA_PKT_MARKER },
		{ 34, 20, 640, MEDIA_PKT_MARKER },
		{ 54, 10, 800, 0 },
	};
	static uint8_t f[7 * 164 + 2 * 34 + 2 * 4];
	struct media_fmt f2[1];
	struct media_plan *pl;
	struct content *c;
	const char *why = "";
	uint32_t i, len, ts, fl;
	size_t n = 0, off;
	uint8_t b[10];

	for (i = 0; i < 3; i++)
		n = g192_put(f, n, 0x6b21, sp, 80);
	n = g192_put(f, n, 0x6b21, sid, 15);
	n = g192_put(f, n, 0x6b21, NULL, 0);
	n = g192_put(f, n, 0x6b20, sp, 80);	/* erased: not sent */
	n = g192_put(f, n, 0x6b21, sid, 15);
	n = g192_put(f, n, 0x6b21, NULL, 0);
	for (i = 0; i < 3; i++)
		n = g192_put(f, n, 0x6b21, sp, 80);
	CHECK_INT(n, sizeof(f));
	c = probed("audio/G729", f, n);
	pl = c != NULL ? plan(c, 0, 20, 0) : NULL;
	if (pl != NULL) {
		CHECK(pl->pkt != NULL && pl->content != c);
		CHECK_INT(pl->npkts, 5);
		CHECK_INT(pl->span_ts, 11 * 80);
		CHECK_INT(pl->content->len, 6 * 10 + 2 * 2);
		for (i = 0; i < 5 && i < pl->npkts; i++) {
			media_plan_packet(pl, i, &off, &len, &ts, &fl);
			CHECK_INT(off, want[i].off);
			CHECK_INT(len, want[i].len);
			CHECK_INT(ts, want[i].ts);
			CHECK_INT(fl, want[i].flags);
		}
		/* The bits packed MSB first; 15 SID bits and a zero. */
		CHECK_INT(content_peek(pl->content, 20, b, 10), 10);
		CHECK(memcmp(b, sp, 10) == 0);
		CHECK_INT(content_peek(pl->content, 30, b, 2), 2);
		CHECK_INT(b[0], 0xab);
		CHECK_INT(b[1], 0xcc);
	}
	media_plan_free(pl);
	/* Its bytes are never sent as they are. */
	if (c != NULL && media_fmts(&c->mi, f2, 1) == 1) {
		f2[0].conversion = 0;
		CHECK_INT(media_plan_build(c, &c->mi, &f2[0], 20, 0, &pl,
					   &why), -1);
		CHECK_STRN(why, strlen(why), "plan: G.192 frames are "
			   "repacked, not sent as they are");
	}
	content_put(c);
	CHECK_INT(content_live(), 0);
}

static void
put16le(uint8_t *p, int v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)((unsigned int)v >> 8);
}

/* A 16 kHz stereo WAV of a constant, sent as PCMU: a content of its own,
 * 8000 samples a second, each the constant's code; as L16/16000/2 the
 * same samples byte-swapped.
 */
static void
test_convert(void)
{
	static uint8_t w[44 + 16000 * 4 / 10];
	static const uint8_t hdr[44] =
		"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x02\0\x80\x3e\0\0"
		"\0\xfa\0\0\x04\0\x10\0data\0\x19\0\0";
	struct media_plan *pl;
	struct content *c;
	uint8_t b[4];
	size_t i;

	memcpy(w, hdr, 44);
	for (i = 44; i < sizeof(w); i += 2)
		put16le(w + i, 1000);
	c = probed("audio/wav", w, sizeof(w));
	if (c == NULL)
		return;
	CHECK_INT(c->mi.data_len, 6400);
	pl = plan(c, 3, 20, 0);			/* PCMU */
	if (pl != NULL) {
		CHECK(pl->content != c);
		CHECK_INT(pl->content->len, 800);
		CHECK_INT(pl->npkts, 5);
		CHECK_INT(pl->span_ts, 800);
		CHECK_INT(content_peek(pl->content, 400, b, 1), 1);
		CHECK_INT(b[0], media_pcm_ulaw_enc(1000));
	}
	CHECK_INT(content_live(), 2);
	media_plan_free(pl);
	pl = plan(c, 0, 20, 0);			/* L16/16000/2 */
	if (pl != NULL) {
		CHECK_INT(pl->content->len, 6400);
		CHECK_INT(pl->uni_len, 1280);
		CHECK_INT(pl->uni_ts, 320);
		CHECK_INT(pl->span_ts, 1600);
		CHECK_INT(content_peek(pl->content, 6396, b, 4), 4);
		CHECK(memcmp(b, "\x03\xe8\x03\xe8", 4) == 0);
	}
	media_plan_free(pl);
	content_put(c);
	CHECK_INT(content_live(), 0);
	CHECK_INT(content_chunks_live(), 0);
}

int
main(int argc, char **argv)
{
	char prefix[64], run_dir[256];
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-shconf",
			"--no-pci", "--no-telemetry", "-l", "0", prefix,
			NULL };

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=anncd-test-mp-%d",
		 (int)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return 77;
	}
	CHECK_INT(content_sys_init(8, 1 << 20), 0);

	test_fmts();
	test_uniform();
	test_ptime();
	test_g729_sid();
	test_g192();
	test_convert();

	snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(run_dir);
	return CHECK_DONE();
}
