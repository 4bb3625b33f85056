/* Unit test of the media layer: content-type names and parameters, Sun
 * .au headers of each supported and refused kind (built here byte by
 * byte), raw G.711, L16, G.729 and G.722, and the RFC 3551 payload types.
 * WAV has its own test (test_media_wav.c).
 */
#include <stdint.h>

#include "core/media.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"
#include "tests/unit/bytes.h"
#include "tests/unit/g192.h"

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
	struct media_ctype mt = { .type = t };
	struct guard_buf g;
	int r;

	*why = "";
	r = media_probe(&mt, (const uint8_t *)guard_copy(&g, f, len), len, mi,
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
	struct media_ctype mt;
	enum media_type t;

	t = media_type_parse(guard_copy(&g, s, n), n, &mt);
	CHECK_INT(mt.type, t);
	guard_free(&g);
	return t;
}

static void
test_type_parse(void)
{
	struct media_ctype mt;

	CHECK_INT(tp("audio/basic", 11), MEDIA_TYPE_AUDIO_BASIC);
	CHECK_INT(tp("Audio/Basic", 11), MEDIA_TYPE_AUDIO_BASIC);
	CHECK_INT(tp("audio/PCMU", 10), MEDIA_TYPE_AUDIO_PCMU);
	CHECK_INT(tp("AUDIO/pcma", 10), MEDIA_TYPE_AUDIO_PCMA);
	CHECK_INT(tp(" audio/pcmu ; rate=8000", 23),
		  MEDIA_TYPE_AUDIO_PCMU);
	CHECK_INT(tp("\taudio/basic;name=\"a.au\"", 24),
		  MEDIA_TYPE_AUDIO_BASIC);
	/* The length bounds the value: what lies past it is not read. */
	CHECK_INT(media_type_parse("audio/pcmaX", 10, &mt),
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

/* media_type_parse with its parameters, against a guard page. */
static enum media_type
tpm(const char *s, struct media_ctype *mt)
{
	struct guard_buf g;
	size_t n = strlen(s);
	enum media_type t;

	t = media_type_parse(guard_copy(&g, s, n), n, mt);
	guard_free(&g);
	return t;
}

static void
test_type_params(void)
{
	struct media_ctype mt, m2;

	CHECK_INT(tpm("audio/L16", &mt), MEDIA_TYPE_AUDIO_L16);
	CHECK_INT(mt.rate, 8000);
	CHECK_INT(mt.channels, 1);
	CHECK_INT(tpm("audio/l16; rate=16000 ;CHANNELS=\"2\"", &mt),
		  MEDIA_TYPE_AUDIO_L16);
	CHECK_INT(mt.rate, 16000);
	CHECK_INT(mt.channels, 2);
	CHECK_INT(tpm("audio/L16;rate=44100", &mt), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/L16;channels=3", &mt), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/L16;channels=0", &mt), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/L16;rate=8k", &mt), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/L16;rate", &mt), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/L16;=8000", &mt), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/L16;rate=", &mt), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/L16;rate=99999999999999999999", &mt),
		  MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(mt.rate, 0);

	/* RFC 2361's codec is the format tag in hexadecimal. */
	CHECK_INT(tpm("audio/wav;codec=7", &mt), MEDIA_TYPE_AUDIO_WAV);
	CHECK_INT(mt.codec, 7);
	CHECK_INT(tpm("Audio/Wave; codec=fffe", &mt), MEDIA_TYPE_AUDIO_WAV);
	CHECK_INT(mt.codec, 0xfffe);
	CHECK_INT(tpm("audio/x-wav;codec=55", &mt), MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/x-wav;codec=10006", &mt),
		  MEDIA_TYPE_UNSUPPORTED);
	CHECK_INT(tpm("audio/vnd.wave;name=\"a;codec=55.wav\";codec=1", &mt),
		  MEDIA_TYPE_AUDIO_WAV);
	CHECK_INT(mt.codec, 1);
	CHECK_INT(tpm("audio/wav", &mt), MEDIA_TYPE_AUDIO_WAV);
	CHECK_INT(mt.codec, 0);
	/* rate says nothing to a WAV, whose header has its own. */
	CHECK_INT(tpm("audio/wav;rate=44100", &mt), MEDIA_TYPE_AUDIO_WAV);

	CHECK_INT(tpm("audio/G729", &mt), MEDIA_TYPE_AUDIO_G729);
	CHECK_INT(tpm("audio/g729;annexb=yes", &mt), MEDIA_TYPE_AUDIO_G729);
	CHECK_INT(tpm("audio/G722", &mt), MEDIA_TYPE_AUDIO_G722);
	CHECK_INT(tpm("audio/basic;", &mt), MEDIA_TYPE_AUDIO_BASIC);
	CHECK_INT(tpm("audio/basic;name=\"unterminated", &mt),
		  MEDIA_TYPE_AUDIO_BASIC);
	CHECK_INT(tpm("audio/amr-wb+", &mt), MEDIA_TYPE_UNSUPPORTED);

	/* Two content-types share a cache entry only if read alike. */
	tpm("audio/L16", &mt);
	tpm("audio/l16;rate=8000;channels=1", &m2);
	CHECK_INT(media_ctype_form(&mt), media_ctype_form(&m2));
	tpm("audio/L16;rate=16000", &m2);
	CHECK(media_ctype_form(&mt) != media_ctype_form(&m2));
	tpm("audio/L16;channels=2", &m2);
	CHECK(media_ctype_form(&mt) != media_ctype_form(&m2));
	tpm("audio/wav;codec=7", &mt);
	tpm("audio/wav;codec=6", &m2);
	CHECK(media_ctype_form(&mt) != media_ctype_form(&m2));
	tpm("audio/wav;codec=fffe", &mt);
	CHECK(media_ctype_form(&mt) < 0x80000000u);
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
test_l16(void)
{
	struct media_ctype mt = { .type = MEDIA_TYPE_AUDIO_L16 };
	struct guard_buf g;
	struct media_info mi;
	const char *why;
	uint8_t f[103];

	memset(f, 0x12, sizeof(f));
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_L16, f, 100, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_L16);
	CHECK_INT(mi.clock_rate, 8000);
	CHECK_INT(mi.sample_rate, 8000);
	CHECK_INT(mi.channels, 1);
	CHECK_INT(mi.bits, 16);
	CHECK_INT(mi.bytes_per_ms, 16);
	CHECK_INT(mi.data_len, 100);

	/* A sample frame cut short at the end is dropped. */
	mt.rate = 16000;
	mt.channels = 2;
	CHECK_INT(media_probe(&mt, (const uint8_t *)guard_copy(&g, f, 103),
			      103, &mi, &why), 0);
	guard_free(&g);
	CHECK_INT(mi.clock_rate, 16000);
	CHECK_INT(mi.bytes_per_ms, 64);
	CHECK_INT(mi.data_len, 100);
	CHECK_INT(media_probe(&mt, (const uint8_t *)guard_copy(&g, f, 3), 3,
			      &mi, &why), -1);
	guard_free(&g);
	CHECK_STRN(why, strlen(why),
		   "l16: 3 bytes hold no sample frame of 4 bytes");
}

static void
test_g729_g722(void)
{
	struct media_info mi;
	const char *why;
	uint8_t f[64];

	memset(f, 0xa5, sizeof(f));
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, 30, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_G729);
	CHECK_INT(mi.clock_rate, 8000);
	CHECK_INT(mi.bytes_per_ms, 1);
	CHECK_INT(mi.data_len, 30);
	CHECK_INT(mi.sid_bytes, 0);
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, 32, &mi, &why), 0);
	CHECK_INT(mi.data_len, 32);
	CHECK_INT(mi.sid_bytes, 2);
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, 35, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "g729: 35 bytes are not 10-byte frames "
		   "with at most one 2-byte SID frame at the end");
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, 2, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "g729: 2 bytes hold no speech frame");
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, 0, &mi, &why), -1);

	/* RFC 3551 4.5.2: 16 kHz sampling on an 8000 Hz RTP clock. */
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G722, f, 63, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_G722);
	CHECK_INT(mi.clock_rate, 8000);
	CHECK_INT(mi.sample_rate, 16000);
	CHECK_INT(mi.bytes_per_ms, 8);
	CHECK_INT(mi.data_len, 63);
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G722, f, 0, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "g722: empty content");
}

/* G.192: speech, SID, untransmitted, erased frames in any order. */
static void
test_g192(void)
{
	static const uint8_t sp[10] = { 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	static const uint8_t sid[2] = { 0xaa, 0xaa };
	static uint8_t f[4 * 164 + 2 * 34 + 8];
	struct media_info mi;
	const char *why;
	size_t n = 0, bad;

	n = g192_put(f, n, 0x6b21, sp, 80);
	n = g192_put(f, n, 0x6b21, sid, 15);
	n = g192_put(f, n, 0x6b21, NULL, 0);
	n = g192_put(f, n, 0x6b20, sp, 80);
	n = g192_put(f, n, 0x6b21, sid, 16);
	bad = n;
	n = g192_put(f, n, 0x6b21, sp, 80);
	CHECK_INT(n, 3 * 164 + 34 + 4 + 36);
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, n, &mi, &why), 0);
	CHECK_INT(mi.codec, MEDIA_CODEC_G729);
	CHECK_INT(mi.framing, MEDIA_FRAMING_G192);
	CHECK_INT(mi.data_offset, 0);
	CHECK_INT(mi.data_len, n);

	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, n - 1, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "g729: G.192 frame at offset 402 cut "
		   "short");
	f[bad + 4 + 2 * 7] = 0x80;
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, n, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "g729: G.192 frame at offset 402 is not "
		   "a G.729 frame");
	f[bad + 4 + 2 * 7] = 0x7f;
	f[bad + 2] = 79;	/* no G.729 frame has 79 bits */
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, n, &mi, &why), -1);
	CHECK_STRN(why, strlen(why), "g729: G.192 frame at offset 402 is not "
		   "a G.729 frame");
	/* A file that does not open with a G.192 header is plain. */
	f[0] = 0x22;
	CHECK_INT(probe(MEDIA_TYPE_AUDIO_G729, f, 40, &mi, &why), 0);
	CHECK_INT(mi.framing, MEDIA_FRAMING_RAW);
}

static void
test_codecs(void)
{
	CHECK_INT(media_codec_static_pt(MEDIA_CODEC_G729), 18);
	CHECK_INT(media_codec_static_pt(MEDIA_CODEC_G722), 9);
	CHECK_INT(media_codec_static_pt(MEDIA_CODEC_L16), -1);
	CHECK_INT(media_codec_static_pt(MEDIA_CODEC_PCM16LE), -1);
	CHECK(media_codec_name(MEDIA_CODEC_PCM16LE) == NULL);
	CHECK_STRN(media_codec_name(MEDIA_CODEC_L16), 3, "L16");
	CHECK_STRN(media_codec_name(MEDIA_CODEC_G729), 4, "G729");
	CHECK_STRN(media_codec_name(MEDIA_CODEC_G722), 4, "G722");
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
	test_type_params();
	test_l16();
	test_g729_g722();
	test_g192();
	test_au_good();
	test_au_bad();
	test_raw();
	test_codecs();
	return CHECK_DONE();
}
