/* Unit test of MPEG audio (core/media_mpa.c) on frames built here header
 * by header and read against a guard page: frame lengths from the bitrate
 * and sample-rate tables with padding, ID3v2 and ID3v1 tags, stray bytes
 * resynchronised over or refused, truncated and free-format frames, the
 * RFC 2250 section 3.5 header with fragments past the payload limit, and
 * 90 kHz timestamps without drift.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/media_framed.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define FILE_MAX	(128 * 1024)

enum { V25 = 0, V2 = 2, V1 = 3 };

static uint8_t file[FILE_MAX];
static size_t flen;

/* A frame header: version, layer (1-3), bitrate and rate indexes. */
static void
hdr(uint8_t *p, int ver, int layer, int bi, int si, int pad, int mono)
{
	p[0] = 0xff;
	p[1] = (uint8_t)(0xe0 | ver << 3 | (4 - layer) << 1 | 1);
	p[2] = (uint8_t)(bi << 4 | si << 2 | pad << 1);
	p[3] = mono ? 0xc0 : 0x00;
}

/* Appends a frame of n bytes; its body bytes are never 0xff, so no
 * false sync hides in it.
 */
static void
frame(int ver, int layer, int bi, int si, int pad, size_t n)
{
	size_t i;

	hdr(file + flen, ver, layer, bi, si, pad, 0);
	for (i = 4; i < n; i++)
		file[flen + i] = (uint8_t)(0x10 + (flen + i) % 0xe0);
	flen += n;
}

static void
put(const void *p, size_t n)
{
	memcpy(file + flen, p, n);
	flen += n;
}

static int
cut(struct media_out *o, const char **why)
{
	struct guard_buf g;
	const uint8_t *p = (const uint8_t *)guard_copy(&g, file, flen);
	int r;

	memset(o, 0, sizeof(*o));
	*why = "";
	r = media_mpa_packetize(p, flen, 0, o, why);
	guard_free(&g);
	return r;
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

/* One frame of each kind: its length as the tables give it. */
static void
check_len(int ver, int layer, int bi, int si, int pad, size_t want)
{
	struct media_out o;
	const char *why;

	flen = 0;
	frame(ver, layer, bi, si, pad, want);
	frame(ver, layer, bi, si, pad, want);
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.npkts, 2);
	if (o.npkts == 2)
		CHECK_INT(o.pkt[1].len, 4 + want);
	media_out_free(&o);
}

static void
test_lengths(void)
{
	check_len(V1, 3, 9, 0, 0, 417);		/* 128k 44.1k */
	check_len(V1, 3, 9, 0, 1, 418);
	check_len(V1, 3, 14, 1, 0, 960);	/* 320k 48k */
	check_len(V1, 2, 10, 1, 0, 576);	/* 192k 48k */
	check_len(V1, 1, 12, 0, 1, 4 * (12 * 384000 / 44100 + 1));
	check_len(V2, 3, 8, 0, 0, 72 * 64000 / 22050);	/* 64k 22.05k */
	check_len(V2, 1, 14, 2, 0, 4 * (12 * 256000 / 16000));
	check_len(V2, 2, 4, 2, 0, 144 * 32000 / 16000);
	check_len(V25, 3, 2, 2, 0, 72 * 16000 / 8000);	/* 16k 8k */
}

/* 1152 samples at 44.1 kHz are 2351.02 ticks: frame 1000 must be at
 * 2351020, not 2351000 as adding a rounded step would give.
 */
static void
test_timestamps(void)
{
	struct media_out o;
	const char *why;
	int i;

	flen = 0;
	for (i = 0; i < 1001; i++)
		frame(V1, 2, 1, 0, 0, 104);	/* 32k 44.1k: 104 bytes */
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.npkts, 1001);
	CHECK_INT(o.pkt[1].ts, 2351);
	CHECK_INT(o.pkt[1000].ts, 2351020);
	CHECK_INT(o.span_ts, 2353371);
	CHECK_INT(o.pkt[0].flags, MEDIA_PKT_MARKER);
	CHECK_INT(o.pkt[1].flags, 0);
	media_out_free(&o);

	flen = 0;
	frame(V25, 3, 1, 2, 0, 72 * 8000 / 8000);
	frame(V25, 3, 1, 2, 0, 72);
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.pkt[1].ts, 576 * 90000 / 8000);
	media_out_free(&o);
}

/* 384 kbit/s layer II at 32 kHz: 1728 bytes, over the 1456 that fit
 * behind the 4-byte header in 1460.
 */
static void
test_fragments(void)
{
	struct media_out o;
	const char *why;
	const uint8_t *p;

	flen = 0;
	frame(V1, 2, 14, 2, 0, 1728);
	frame(V1, 2, 14, 2, 0, 1728);
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.npkts, 4);
	CHECK_INT(o.pkt[0].len, MEDIA_RTP_PAYLOAD_MAX);
	CHECK_INT(o.pkt[1].len, 4 + 1728 - 1456);
	p = o.buf + o.pkt[0].off;
	CHECK(memcmp(p, "\0\0\0\0", 4) == 0);
	CHECK(memcmp(p + 4, file, 1456) == 0);
	p = o.buf + o.pkt[1].off;
	CHECK_INT(p[0] | p[1], 0);			/* MBZ */
	CHECK_INT(p[2] << 8 | p[3], 1456);		/* Frag_offset */
	CHECK(memcmp(p + 4, file + 1456, 1728 - 1456) == 0);
	CHECK_INT(o.pkt[1].ts, 0);
	CHECK_INT(o.pkt[2].ts, 3240);			/* 1152 at 32 kHz */
	CHECK_INT(o.pkt[1].flags, 0);
	media_out_free(&o);
}

static void
test_tags(void)
{
	static const uint8_t id3[10] = { 'I', 'D', '3', 4, 0, 0, 0, 0, 1, 2 };
	uint8_t v1[128] = { 'T', 'A', 'G' };
	struct media_info mi;
	struct media_out o;
	const char *why;

	/* ID3v2 of 10 + 130 bytes (synchsafe 0x0102), frames, ID3v1 */
	flen = 0;
	put(id3, sizeof(id3));
	memset(file + flen, 0xff, 130);		/* sync-like tag bytes */
	flen += 130;
	frame(V1, 3, 9, 0, 0, 417);
	frame(V1, 3, 9, 0, 0, 417);
	put(v1, sizeof(v1));
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.npkts, 2);
	CHECK(memcmp(o.buf + o.pkt[0].off + 4, file + 140, 417) == 0);
	media_out_free(&o);
	CHECK_INT(media_mpa_probe(file, flen, flen, &mi, &why), 0);
	CHECK_INT(mi.data_offset, 140);
	CHECK_INT(mi.sample_rate, 44100);
	CHECK_INT(mi.clock_rate, 90000);
	CHECK_INT(mi.codec, MEDIA_CODEC_MPA);

	/* a tag that claims more than the file holds */
	file[8] = 0x7f;
	check_refused("mpa: ID3v2 tag at offset 0 runs past the end");
	file[8] = 0x80;
	check_refused("mpa: ID3v2 size at offset 0 not synchsafe");
}

static void
test_junk(void)
{
	struct media_out o;
	const char *why;

	/* 37 stray bytes between frames: skipped, both frames sent */
	flen = 0;
	frame(V1, 3, 9, 0, 0, 417);
	memset(file + flen, 0x20, 37);
	flen += 37;
	frame(V1, 3, 9, 0, 0, 417);
	frame(V1, 3, 9, 0, 0, 417);
	CHECK_INT(cut(&o, &why), 0);
	CHECK_INT(o.npkts, 3);
	CHECK(memcmp(o.buf + o.pkt[1].off + 4, file + 417 + 37, 417) == 0);
	media_out_free(&o);

	/* more than 8 KiB of it: not MPEG audio */
	flen = 0;
	frame(V1, 3, 9, 0, 0, 417);
	memset(file + flen, 0x20, 9000);
	flen += 9000;
	frame(V1, 3, 9, 0, 0, 417);
	check_refused("mpa: no frame header at offset 417 nor in the 8192 "
		      "bytes after");

	/* a frame cut short at the end */
	flen = 0;
	frame(V1, 3, 9, 0, 0, 417);
	frame(V1, 3, 9, 0, 0, 417);
	flen -= 100;
	check_refused("mpa: frame at offset 417 truncated (317 of 417 bytes)");

	flen = 0;
	frame(V1, 3, 0, 0, 0, 300);
	check_refused("mpa: free-format bitrate at offset 0 not supported");

	flen = 0;
	put("RIFF....WAVEfmt ", 16);
	check_refused("mpa: no frame header at offset 0 nor in the 16 bytes "
		      "after");
}

/* A change of sample rate mid-stream is not this stream's frame. */
static void
test_rate_change(void)
{
	struct media_info mi;
	const char *why;

	flen = 0;
	frame(V1, 3, 9, 0, 0, 417);
	frame(V1, 3, 9, 1, 0, 384);
	check_refused("mpa: no frame header at offset 417 nor in the 384 "
		      "bytes after");
	/* probing sees only the frames in the first chunk */
	CHECK_INT(media_mpa_probe(file, 417 + 10, flen, &mi, &why), 0);
}

int
main(void)
{
	test_lengths();
	test_timestamps();
	test_fragments();
	test_tags();
	test_junk();
	test_rate_change();
	return CHECK_DONE();
}
