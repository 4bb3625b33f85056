/* Unit test of the media layer: content-type names, Sun .au headers of
 * each supported and refused kind (built here byte by byte), raw G.711,
 * and the RFC 3551 payload types.
 */
#include <stdint.h>

#include "core/media.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"
#include "tests/unit/bytes.h"

#define AU_LEN	(24 + 80)

/* A .au file of AU_LEN bytes: header, then audio from off to the end. */
static void
make_au(uint8_t *f, uint32_t off, uint32_t size, uint32_t enc,
	uint32_t rate, uint32_t chans)
{
	memset(f, 0x7f, AU_LEN);
	memcpy(f, ".snd", 4);
	put_be32(f + 4, off);
	put_be32(f + 8, size);
	put_be32(f + 12, enc);
	put_be32(f + 16, rate);
	put_be32(f + 20, chans);
}

/* Probes len bytes of f placed against a guard page. */
static int
probe(enum media_type t, const uint8_t *f, size_t len, struct media_info *mi,
      const char **why)
{
	struct guard_buf g;
	int r;

	*why = "";
	r = media_probe(t, (const uint8_t *)guard_copy(&g, f, len), len, mi,
			why);
	guard_free(&g);
	return r;
}

static void
check_au_bad(const uint8_t *f, size_t len, const char *want)
{
	struct media_info mi;
	const char *why;

	CHECK_INT(probe(MEDIA_TYPE_AUDIO_BASIC, f, len, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), want);
}

/* media_type_parse on a copy against a guard page. */
static enum media_type
tp(const char *s, size_t n)
{
	struct guard_buf g;
	enum media_type t;

	t = media_type_parse(guard_copy(&g, s, n), n);
	guard_free(&g);
	return t;
}

static void
test_type_parse(void)
{
	CHECK_INT(tp("audio/basic", 11), MEDIA_TYPE_AUDIO_BASIC);
	CHECK_INT(tp("Audio/Basic", 11), MEDIA_TYPE_AUDIO_BASIC);
	CHECK_INT(tp("audio/PCMU", 10), MEDIA_TYPE_AUDIO_PCMU);
	CHECK_INT(tp("AUDIO/pcma", 10), MEDIA_TYPE_AUDIO_PCMA);
	CHECK_INT(tp(" audio/pcmu ; rate=8000", 23),
		  MEDIA_TYPE_AUDIO_PCMU);
	CHECK_INT(tp("\taudio/basic;name=\"a.au\"", 24),
		  MEDIA_TYPE_AUDIO_BASIC);
	/* The length bounds the value: what lies past it is not read. */
	CHECK_INT(media_type_parse("audio/pcmaX", 10),
		  MEDIA_TYPE_AUDIO_PCMA);
	CHECK_INT(tp("audio/pcmaX", 11), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tp("audio/ogg", 9), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tp("audio/mpeg", 10), MEDIA_TYPE_AUDIO_MPEG);
	CHECK_INT(tp("Video/MPEG", 10), MEDIA_TYPE_VIDEO_MPEG);
	CHECK_INT(tp("audio/AMR", 9), MEDIA_TYPE_AUDIO_AMR);
	CHECK_INT(tp("audio/amr-wb", 12), MEDIA_TYPE_AUDIO_AMR_WB);
	CHECK_INT(tp("audio/basi", 10), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tp("audio / basic", 13),
		  MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tp("", 0), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tp(";", 1), MEDIA_TYPE_UNSUPPORTED);
}

static void
test_au_good(void)
{
	uint8_t f[AU_LEN];
	struct media_info mi;
	const char *why;

	make_au(f, 24, 80, 1, 8000, 1);
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_BASIC, f, AU_LEN, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMU);
	CHECK_INT(mi.clock_rate, 8000);
	CHECK_INT(mi.bytes_per_ms, 8);
	CHECK_INT(mi.data_offset, 24);
	CHECK_INT(mi.data_len, 80);

	/* An annotation after the header, A-law, unknown size. */
	make_au(f, 32, 0xffffffff, 27, 8000, 1);
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_BASIC, f, AU_LEN, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMA);
	CHECK_INT(mi.data_offset, 32);
	CHECK_INT(mi.data_len, AU_LEN - 32);

	/* A size short of the end: the trailing bytes are not audio. */
	make_au(f, 24, 40, 1, 8000, 1);
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_BASIC, f, AU_LEN, &mi, &why), 0);
	CHECK_INT(mi.data_len, 40);
}

static void
test_au_bad(void)
{
	uint8_t f[AU_LEN];

	make_au(f, 24, 80, 1, 8000, 1);
	check_au_bad(f, 23, "au: header truncated (23 bytes)");
	check_au_bad(f, 0, "au: header truncated (0 bytes)");
	f[0] = 'x';
	check_au_bad(f, AU_LEN, "au: magic is not .snd");

	make_au(f, 81, 80, 1, 8000, 1);
	check_au_bad(f, AU_LEN,
		     "au: data size 80 exceeds file (23 bytes of data)");
	make_au(f, 24, 81, 1, 8000, 1);
	check_au_bad(f, AU_LEN,
		     "au: data size 81 exceeds file (80 bytes of data)");
	make_au(f, 20, 80, 1, 8000, 1);
	check_au_bad(f, AU_LEN,
		     "au: data offset 20 outside file of 104 bytes");
	make_au(f, 105, 0xffffffff, 1, 8000, 1);
	check_au_bad(f, AU_LEN,
		     "au: data offset 105 outside file of 104 bytes");
	make_au(f, 24, 0xffffffff, 1, 8000, 1);
	check_au_bad(f, 24, "au: data size 0");

	make_au(f, 24, 80, 3, 8000, 1);
	check_au_bad(f, AU_LEN, "au: encoding 3 not supported");
	make_au(f, 24, 80, 1, 16000, 1);
	check_au_bad(f, AU_LEN,
		     "au: sample rate 16000 not supported (8000 only)");
	make_au(f, 24, 80, 27, 8000, 2);
	check_au_bad(f, AU_LEN, "au: channels 2 not supported (mono only)");
}

static void
test_raw(void)
{
	uint8_t f[160];
	struct media_info mi;
	const char *why;

	memset(f, 0xd5, sizeof(f));
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_PCMA, f, sizeof(f), &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMA);
	CHECK_INT(mi.data_offset, 0);
	CHECK_INT(mi.data_len, 160);
	CHECK_INT(mi.clock_rate, 8000);
	CHECK_INT(mi.bytes_per_ms, 8);

	/* Raw content is never taken for a header, even when it looks so. */
	memcpy(f, ".snd", 4);
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_PCMU, f, sizeof(f), &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_PCMU);
	CHECK_INT(mi.data_len, 160);

	CHECK_INT(probe(MEDIA_TYPE_AUDIO_PCMU, f, 0, &mi, &why), -1);
	CHECK_INT(probe(MEDIA_TYPE_UNSUPPORTED, f, sizeof(f), &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "unsupported media type");
}

static void
test_codecs(void)
{
	CHECK_INT(media_codec_static_pt(MEDIA_CODEC_PCMU), 0);
	CHECK_INT(media_codec_static_pt(MEDIA_CODEC_PCMA), 8);
	CHECK_INT(media_codec_static_pt(MEDIA_CODEC_NONE), -1);
	CHECK_STRN(media_codec_name(MEDIA_CODEC_PCMU), 4, "PCMU");
	CHECK_STRN(media_codec_name(MEDIA_CODEC_PCMA), 4, "PCMA");
	CHECK(media_codec_name(MEDIA_CODEC_NONE) == NULL);
}

int
main(void)
{
	test_type_parse();
	test_au_good();
	test_au_bad();
	test_raw();
	test_codecs();
	return CHECK_DONE();
}
