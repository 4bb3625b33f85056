/* Unit test of the WAV chunk walk (core/media_wav.c): files built here
 * chunk by chunk (fmt of 16, 18 and 40 bytes, LIST, JUNK and fact before
 * and after data, odd sizes with their pad byte, data sizes of 0 and
 * 0xffffffff, truncated files), each refusal's reason, and files made by
 * sox and ffmpeg checked against what soxi says of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/media.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

#define WAV_MAX		4096

struct wav {
	uint8_t b[WAV_MAX];
	size_t n;
};

static void
put_le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, v & 0xffff);
	put_le16(p + 2, v >> 16);
}

static void
wav_start(struct wav *w)
{
	memcpy(w->b, "RIFF\0\0\0\0WAVE", 12);
	w->n = 12;
}

/* A chunk of n bytes of fill (or of body when not NULL), with the pad
 * byte an odd size takes; size is what the header says.
 */
static void
wav_chunk(struct wav *w, const char *id, uint32_t size, const void *body,
	  size_t n, int fill)
{
	memcpy(w->b + w->n, id, 4);
	put_le32(w->b + w->n + 4, size);
	w->n += 8;
	if (body != NULL)
		memcpy(w->b + w->n, body, n);
	else
		memset(w->b + w->n, fill, n);
	w->n += n;
	if (n & 1)
		w->b[w->n++] = 0;
}

/* fmt of 16, 18 or 40 bytes; tag 0xfffe puts sub in the SubFormat. */
static void
wav_fmt(struct wav *w, uint32_t len, uint16_t tag, uint16_t ch,
	uint32_t rate, uint16_t bits, uint16_t sub)
{
	static const uint8_t tail[14] = { 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0,
					  0xaa, 0, 0x38, 0x9b, 0x71 };
	uint8_t f[40];

	memset(f, 0, sizeof(f));
	put_le16(f, tag);
	put_le16(f + 2, ch);
	put_le32(f + 4, rate);
	put_le32(f + 8, rate * ch * bits / 8);
	put_le16(f + 12, ch * bits / 8);
	put_le16(f + 14, bits);
	put_le16(f + 16, len == 40 ? 22 : 0);
	put_le16(f + 18, bits);
	put_le32(f + 20, ch == 2 ? 3 : 4);
	put_le16(f + 24, sub);
	memcpy(f + 26, tail, sizeof(tail));
	wav_chunk(w, "fmt ", len, f, len, 0);
}

static int
probe_n(const struct wav *w, size_t avail, size_t len, uint16_t codec,
	struct media_info *mi, const char **why)
{
	struct media_ctype mt = { .type = MEDIA_TYPE_AUDIO_WAV,
				  .codec = codec };
	struct guard_buf g;
	const uint8_t *p = (const uint8_t *)guard_copy(&g, w->b, avail);
	int r;

	*why = "";
	r = media_probe_prefix(&mt, p, avail, len, mi, why);
	guard_free(&g);
	return r;
}

static int
probe(const struct wav *w, struct media_info *mi, const char **why)
{
	return probe_n(w, w->n, w->n, 0, mi, why);
}

static void
check_bad(const struct wav *w, size_t len, uint16_t codec, const char *want)
{
	struct media_info mi;
	const char *why;

	CHECK_INT(probe_n(w, len, len, codec, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), want);
}

static void
test_fmt_sizes(void)
{
	struct media_info mi;
	const char *why;
	struct wav w;

	wav_start(&w);
	wav_fmt(&w, 16, 1, 1, 8000, 16, 0);
	wav_chunk(&w, "data", 160, NULL, 160, 0x11);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCM16LE);
	CHECK_INT(mi.data_offset, 44);
	CHECK_INT(mi.data_len, 160);
	CHECK_INT(mi.sample_rate, 8000);
	CHECK_INT(mi.channels, 1);
	CHECK_INT(mi.bits, 16);
	CHECK_INT(mi.bytes_per_ms, 16);
	CHECK_INT(mi.format_tag, 1);

	wav_start(&w);
	wav_fmt(&w, 18, 6, 1, 8000, 8, 0);
	wav_chunk(&w, "fact", 4, "\x50\0\0\0", 4, 0);
	wav_chunk(&w, "data", 80, NULL, 80, 0xd5);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMA);
	CHECK_INT(mi.data_offset, 12 + 26 + 12 + 8);
	CHECK_INT(mi.data_len, 80);
	CHECK_INT(mi.bytes_per_ms, 8);

	/* EXTENSIBLE: the SubFormat GUID says mu-law, the tag 0xfffe. */
	wav_start(&w);
	wav_fmt(&w, 40, 0xfffe, 1, 8000, 8, 7);
	wav_chunk(&w, "data", 80, NULL, 80, 0xff);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMU);
	CHECK_INT(mi.format_tag, 7);
	CHECK_INT(mi.data_offset, 12 + 48 + 8);
	CHECK_INT(probe_n(&w, w.n, w.n, 7, &mi, &why), 0);
	CHECK_INT(probe_n(&w, w.n, w.n, 0xfffe, &mi, &why), 0);
	check_bad(&w, w.n, 6, "wav: content-type codec=6 but format tag 7");

}

static void
test_fmt_ext(void)
{
	struct media_info mi;
	const char *why;
	struct wav w;

	wav_start(&w);
	wav_fmt(&w, 40, 0xfffe, 2, 16000, 16, 1);
	wav_chunk(&w, "data", 640, NULL, 640, 0x22);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCM16LE);
	CHECK_INT(mi.sample_rate, 16000);
	CHECK_INT(mi.channels, 2);
	CHECK_INT(mi.bytes_per_ms, 64);

	/* A GUID that is not KSDATAFORMAT_SUBTYPE_*: refused. */
	w.b[12 + 8 + 30] ^= 1;
	check_bad(&w, w.n, 0, "wav: EXTENSIBLE SubFormat GUID is not a "
		  "format tag's");
	wav_start(&w);
	wav_fmt(&w, 18, 0xfffe, 1, 8000, 8, 7);
	wav_chunk(&w, "data", 80, NULL, 80, 0xff);
	check_bad(&w, w.n, 0, "wav: EXTENSIBLE fmt chunk of 18 bytes, "
		  "under 40");
	wav_start(&w);
	wav_fmt(&w, 14, 1, 1, 8000, 16, 0);
	wav_chunk(&w, "data", 80, NULL, 80, 0xff);
	check_bad(&w, w.n, 0, "wav: fmt chunk of 14 bytes, under 16");
}

/* Chunks anncd does not read, before and after data, odd and padded. */
static void
test_other_chunks(void)
{
	struct media_info mi;
	const char *why;
	struct wav w;
	size_t off;

	wav_start(&w);
	wav_chunk(&w, "JUNK", 27, NULL, 27, 0);
	wav_fmt(&w, 16, 7, 1, 8000, 8, 0);
	wav_chunk(&w, "LIST", 13, "INFOISFT\1\0\0\0x", 13, 0);
	off = w.n + 8;
	wav_chunk(&w, "data", 161, NULL, 161, 0x7f);
	wav_chunk(&w, "LIST", 4, "INFO", 4, 0);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMU);
	CHECK_INT(off, 12 + 36 + 24 + 22 + 8);
	CHECK_INT(mi.data_offset, off);
	CHECK_INT(mi.data_len, 161);

	/* A chunk header cut off where the walk needs it. */
	check_bad(&w, 12 + 36 + 4, 0, "wav: no data chunk in 52 bytes");
	check_bad(&w, 12 + 30, 0, "wav: chunk 'JUNK' of 27 bytes at offset "
		  "12 exceeds the file");
	/* The second fmt is not read: the first one counts. */
	wav_start(&w);
	wav_fmt(&w, 16, 7, 1, 8000, 8, 0);
	wav_fmt(&w, 16, 85, 1, 8000, 8, 0);
	wav_chunk(&w, "data", 8, NULL, 8, 0x7f);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMU);
	/* Headers must lie in the bytes at hand (the first content chunk). */
	CHECK_INT(probe_n(&w, 40, w.n, 0, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "wav: chunk at offset 36 past the first "
		   "40 bytes");
	CHECK_INT(probe_n(&w, 30, w.n, 0, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "wav: fmt chunk past the first 30 bytes");
}

/* Sizes of 0 and 0xffffffff run to the end; a size past the end is cut
 * to the bytes there, in whole sample frames.
 */
static void
test_data_sizes(void)
{
	struct media_info mi;
	const char *why;
	struct wav w;

	wav_start(&w);
	wav_fmt(&w, 16, 1, 2, 16000, 16, 0);
	wav_chunk(&w, "data", 0, NULL, 402, 0x33);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.data_len, 400);	/* 402 bytes, whole frames: 400 */
	put_le32(w.b + 40, 0xffffffffu);
	put_le32(w.b + 4, 0xffffffffu);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.data_len, 400);
	put_le32(w.b + 40, 100000);
	CHECK_INT(probe_n(&w, 44 + 203, 44 + 203, 0, &mi, &why), 0);
	CHECK_INT(mi.data_len, 200);
	put_le32(w.b + 40, 12);
	CHECK_INT(probe(&w, &mi, &why), 0);
	CHECK_INT(mi.data_len, 12);
	put_le32(w.b + 40, 3);
	check_bad(&w, w.n, 0, "wav: data chunk holds no sample frame (402 "
		  "bytes)");
	put_le32(w.b + 40, 100);
	check_bad(&w, 44 + 3, 0, "wav: data chunk holds no sample frame (3 "
		  "bytes)");
	check_bad(&w, 44, 0, "wav: data chunk holds no sample frame (0 "
		  "bytes)");
}

static void
test_refused(void)
{
	struct wav w;

	wav_start(&w);
	check_bad(&w, 11, 0, "wav: header truncated (11 bytes)");
	wav_start(&w);
	w.b[8] = 'X';
	check_bad(&w, 12, 0, "wav: not a RIFF WAVE file");

	wav_start(&w);
	wav_chunk(&w, "data", 8, NULL, 8, 0);
	wav_fmt(&w, 16, 1, 1, 8000, 16, 0);
	check_bad(&w, w.n, 0, "wav: data chunk before fmt chunk");

	wav_start(&w);
	wav_fmt(&w, 16, 85, 1, 8000, 16, 0);
	wav_chunk(&w, "data", 8, NULL, 8, 0);
	check_bad(&w, w.n, 0, "wav: format tag 85 not supported");
	wav_start(&w);
	wav_fmt(&w, 40, 0xfffe, 1, 8000, 16, 3);
	wav_chunk(&w, "data", 8, NULL, 8, 0);
	check_bad(&w, w.n, 0, "wav: format tag 3 not supported");
	wav_start(&w);
	wav_fmt(&w, 16, 1, 1, 22050, 16, 0);
	wav_chunk(&w, "data", 8, NULL, 8, 0);
	check_bad(&w, w.n, 0, "wav: 22050 Hz not supported");
	wav_start(&w);
	wav_fmt(&w, 16, 1, 6, 8000, 16, 0);
	wav_chunk(&w, "data", 24, NULL, 24, 0);
	check_bad(&w, w.n, 0, "wav: 6 channels not supported");
	wav_start(&w);
	wav_fmt(&w, 16, 1, 1, 8000, 8, 0);
	wav_chunk(&w, "data", 8, NULL, 8, 0);
	check_bad(&w, w.n, 0, "wav: 8 bits per sample not supported for "
		  "format tag 1");
	wav_start(&w);
	wav_fmt(&w, 16, 7, 1, 8000, 8, 0);
	put_le16(w.b + 20 + 12, 2);
	wav_chunk(&w, "data", 8, NULL, 8, 0);
	check_bad(&w, w.n, 0, "wav: block align 2 for 1 channels of 8 bits");
	wav_start(&w);
	wav_chunk(&w, "\x01\x02\x03\x04", 1000, NULL, 4, 0);
	check_bad(&w, w.n, 0, "wav: chunk '....' of 1000 bytes at offset 12 "
		  "exceeds the file");
}

/* Runs cmd and reads one number from its output; -1 on failure. */
static long
run_num(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	long v = -1;

	if (p == NULL)
		return -1;
	if (fscanf(p, "%ld", &v) != 1)
		v = -1;
	pclose(p);
	return v;
}

/* samples: 0 to take soxi's count, which for a streamed file is the
 * header's 0xffffffff in sample frames rather than what is there.
 */
static void
check_tool_file(const char *path, enum media_codec want, long samples)
{
	static uint8_t buf[1 << 20];
	struct media_ctype mt = { .type = MEDIA_TYPE_AUDIO_WAV };
	struct media_info mi;
	const char *why = "";
	char cmd[512];
	FILE *f = fopen(path, "rb");
	size_t n;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK_INT(media_probe(&mt, buf, n, &mi, &why), 0);
	if (*why)
		fprintf(stderr, "%s: %s\n", path, why);
	CHECK_INT(mi.codec, want);
	snprintf(cmd, sizeof(cmd), "soxi -r '%s'", path);
	CHECK_INT(mi.sample_rate, run_num(cmd));
	snprintf(cmd, sizeof(cmd), "soxi -c '%s'", path);
	CHECK_INT(mi.channels, run_num(cmd));
	snprintf(cmd, sizeof(cmd), "soxi -s '%s'", path);
	CHECK_INT(mi.data_len / (mi.channels * (mi.bits / 8u)),
		  samples ? samples : run_num(cmd));
}

/* Files as real tools write them: sox (fmt 16 for PCM, fmt 18 and fact
 * for G.711), ffmpeg to a file (fmt 18, fact, LIST before data) and to a
 * pipe (LIST, sizes 0xffffffff: read to the end).
 */
static void
test_tools(void)
{
	static const struct {
		const char *cmd;
		enum media_codec codec;
		long samples;
	} t[] = {
		{ "sox -n -r 8000 -c 1 -b 16 -e signed-integer %s/a.wav "
		  "synth 1.01 sine 440", MEDIA_CODEC_PCM16LE, 0 },
		{ "sox -n -r 16000 -c 2 -b 16 -e signed-integer %s/a.wav "
		  "synth 0.5 sine 440", MEDIA_CODEC_PCM16LE, 0 },
		{ "sox -n -r 8000 -c 1 -e u-law %s/a.wav synth 0.3 sine 300",
		  MEDIA_CODEC_PCMU, 0 },
		{ "sox -n -r 8000 -c 2 -e a-law %s/a.wav synth 0.3 sine 300",
		  MEDIA_CODEC_PCMA, 0 },
		{ "ffmpeg -nostdin -loglevel error -f lavfi -i "
		  "sine=frequency=440:sample_rate=8000:duration=0.4 "
		  "-c:a pcm_mulaw -y %s/a.wav", MEDIA_CODEC_PCMU, 0 },
		{ "ffmpeg -nostdin -loglevel error -f lavfi -i "
		  "sine=frequency=440:sample_rate=16000:duration=0.4 -ac 2 "
		  "-f wav - > %s/a.wav", MEDIA_CODEC_PCM16LE, 6400 },
	};
	char dir[] = "/tmp/anncd-test-wav-XXXXXX", cmd[512], path[64];
	size_t i;

	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/a.wav", dir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(cmd, sizeof(cmd), t[i].cmd, dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "failed: %s\n", cmd);
			CHECK(0);
			continue;
		}
		check_tool_file(path, t[i].codec, t[i].samples);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	test_fmt_sizes();
	test_fmt_ext();
	test_other_chunks();
	test_data_sizes();
	test_refused();
	test_tools();
	return CHECK_DONE();
}
