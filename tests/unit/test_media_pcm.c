/* Unit test of the ingest conversions (core/media_pcm.c): G.711 mu-law
 * and A-law encoding of every 16-bit sample against the decision values
 * of ITU-T G.711 tables 1a and 2a (rebuilt here from the segment ends and
 * step sizes), decoding to the middle of each step, round trips, byte
 * order, downmix, and the 16 kHz to 8 kHz filter: tones in the telephone
 * band kept, tones above 4 kHz gone.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/media_pcm.h"
#include "tests/unit/check.h"

/* Decision values: code index j (0: the smallest magnitude) covers
 * [dv[j], dv[j + 1]); beyond the last, the last code.
 */
static int ulaw_dv[129], alaw_dv[129];

/* mu-law (table 2a, 14-bit magnitudes): 0, 1, then steps of 2 up to 31,
 * and seven segments of 16 steps of 4, 8, ... 256 up to 8159.
 */
static void
ulaw_table(void)
{
	int j = 0, v = 1, seg, k;

	ulaw_dv[j++] = 0;
	for (k = 0; k < 15; k++, v += 2)
		ulaw_dv[j++] = v;
	for (seg = 1; seg < 8; seg++)
		for (k = 0; k < 16; k++, v += 2 << seg)
			ulaw_dv[j++] = v;
	ulaw_dv[j] = v;
	CHECK_INT(v, 8159);
}

/* A-law (table 1a, 13-bit magnitudes): 32 steps of 2 up to 64, then six
 * segments of 16 steps of 4, 8, ... 128 up to 4096.
 */
static void
alaw_table(void)
{
	int j = 0, v = 0, seg, k;

	for (k = 0; k < 32; k++, v += 2)
		alaw_dv[j++] = v;
	for (seg = 2; seg < 8; seg++)
		for (k = 0; k < 16; k++, v += 1 << seg)
			alaw_dv[j++] = v;
	alaw_dv[j] = v;
	CHECK_INT(v, 4096);
}

static int
dv_index(const int *dv, int m)
{
	int j = 0;

	while (j < 127 && m >= dv[j + 1])
		j++;
	return j;
}

/* The character signals: mu-law sends 255 - j for positive values and
 * 127 - j for negative; A-law sends j with the sign bit set for positive
 * values, then every even bit inverted.  A negative 16-bit sample's
 * magnitude is its ones' complement, as in the ITU-T G.191 reference code.
 */
static void
test_encode_all(void)
{
	int s, v, bad_u = 0, bad_a = 0;
	uint8_t want;

	for (s = INT16_MIN; s <= INT16_MAX; s++) {
		v = (s < 0 ? ~s : s) >> 2;	/* 14-bit magnitude */
		want = (uint8_t)((s < 0 ? 127 : 255) - dv_index(ulaw_dv, v));
		bad_u += media_pcm_ulaw_enc((int16_t)s) != want;
		v = (s < 0 ? ~s : s) >> 3;	/* 13-bit magnitude */
		want = (uint8_t)((dv_index(alaw_dv, v) |
				  (s < 0 ? 0 : 0x80)) ^ 0x55);
		bad_a += media_pcm_alaw_enc((int16_t)s) != want;
	}
	/* The smallest negative samples share the step of zero. */
	CHECK_INT(media_pcm_ulaw_enc(-1), 0x7f);
	CHECK_INT(media_pcm_ulaw_enc(-4), 0x7f);
	CHECK_INT(media_pcm_ulaw_enc(-5), 0x7e);
	CHECK_INT(bad_u, 0);
	CHECK_INT(bad_a, 0);

	/* Well-known codes: zero, the extremes, one in the middle. */
	CHECK_INT(media_pcm_ulaw_enc(0), 0xff);
	CHECK_INT(media_pcm_ulaw_enc(32767), 0x80);
	CHECK_INT(media_pcm_ulaw_enc(-32768), 0x00);
	CHECK_INT(media_pcm_ulaw_enc(1000), 0xce);
	CHECK_INT(media_pcm_alaw_enc(0), 0xd5);
	CHECK_INT(media_pcm_alaw_enc(32767), 0xaa);
	CHECK_INT(media_pcm_alaw_enc(-32768), 0x2a);
	CHECK_INT(media_pcm_alaw_enc(1000), 0xfa);
}

/* Each code decodes to the middle of its step (the tables' decoder
 * output values), and encodes back to itself; mu-law's negative zero
 * (0x7f) comes back as positive zero.
 */
static void
test_decode(void)
{
	int c, j, m, bad = 0;

	for (c = 0; c < 256; c++) {
		j = c & 0x80 ? 255 - c : 127 - c;
		m = j == 0 ? 0 : (ulaw_dv[j] + ulaw_dv[j + 1]) / 2;
		bad += media_pcm_ulaw_dec((uint8_t)c) !=
		       (c & 0x80 ? m : -m) * 4;
		if (c != 0x7f)
			bad += media_pcm_ulaw_enc(
				media_pcm_ulaw_dec((uint8_t)c)) != c;
		j = (c ^ 0x55) & 0x7f;
		m = (alaw_dv[j] + alaw_dv[j + 1]) / 2;
		bad += media_pcm_alaw_dec((uint8_t)c) !=
		       ((c ^ 0x55) & 0x80 ? m : -m) * 8;
		bad += media_pcm_alaw_enc(media_pcm_alaw_dec((uint8_t)c)) != c;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(media_pcm_ulaw_enc(media_pcm_ulaw_dec(0x7f)), 0xff);
	CHECK_INT(media_pcm_ulaw_dec(0x80), 32124);
	CHECK_INT(media_pcm_alaw_dec(0xaa), 32256);
}

static size_t
conv(enum media_codec in, uint32_t in_rate, uint8_t in_ch,
     enum media_codec out, uint32_t out_rate, uint8_t out_ch,
     const uint8_t *src, size_t n, uint8_t *dst)
{
	struct media_pcm_conv cv;
	size_t k;

	CHECK_INT(media_pcm_conv_init(&cv, in, in_rate, in_ch, out, out_rate,
				      out_ch), 0);
	k = media_pcm_conv_run(&cv, src, n, dst);
	k += media_pcm_conv_flush(&cv, dst + k);
	CHECK(k <= media_pcm_conv_max_out(&cv, n));
	return k;
}

static void
test_order_and_downmix(void)
{
	static const uint8_t le_stereo[] = { 0xe8, 0x03, 0xb8, 0x0b,
					     0xfd, 0xff, 0x00, 0x00 };
	uint8_t out[16];
	struct media_pcm_conv cv;

	/* WAV to L16: the same samples in network byte order. */
	CHECK_INT(conv(MEDIA_CODEC_PCM16LE, 8000, 2, MEDIA_CODEC_L16, 8000,
		       2, le_stereo, 8, out), 8);
	CHECK(memcmp(out, "\x03\xe8\x0b\xb8\xff\xfd\x00\x00", 8) == 0);
	/* Stereo to mono: the mean, (1000 + 3000) / 2 and (-3 + 0) / 2. */
	CHECK_INT(conv(MEDIA_CODEC_PCM16LE, 8000, 2, MEDIA_CODEC_L16, 8000,
		       1, le_stereo, 8, out), 4);
	CHECK(memcmp(out, "\x07\xd0\xff\xff", 4) == 0);
	CHECK_INT(conv(MEDIA_CODEC_PCM16LE, 8000, 2, MEDIA_CODEC_PCMU, 8000,
		       1, le_stereo, 8, out), 2);
	CHECK_INT(out[0], media_pcm_ulaw_enc(2000));
	CHECK_INT(out[1], media_pcm_ulaw_enc(-1));
	/* One law to the other, through the linear value. */
	CHECK_INT(conv(MEDIA_CODEC_PCMU, 8000, 1, MEDIA_CODEC_PCMA, 8000, 1,
		       (const uint8_t *)"\xce", 1, out), 1);
	CHECK_INT(out[0], media_pcm_alaw_enc(media_pcm_ulaw_dec(0xce)));

	/* What is not a conversion of this kind is refused. */
	CHECK_INT(media_pcm_conv_init(&cv, MEDIA_CODEC_PCMU, 8000, 1,
				      MEDIA_CODEC_L16, 16000, 1), -EINVAL);
	CHECK_INT(media_pcm_conv_init(&cv, MEDIA_CODEC_L16, 16000, 2,
				      MEDIA_CODEC_L16, 8000, 2), -EINVAL);
	CHECK_INT(media_pcm_conv_init(&cv, MEDIA_CODEC_L16, 8000, 1,
				      MEDIA_CODEC_L16, 8000, 2), -EINVAL);
	CHECK_INT(media_pcm_conv_init(&cv, MEDIA_CODEC_G729, 8000, 1,
				      MEDIA_CODEC_PCMU, 8000, 1), -EINVAL);
	CHECK_INT(media_pcm_conv_init(&cv, MEDIA_CODEC_L16, 22050, 1,
				      MEDIA_CODEC_PCMU, 8000, 1), -EINVAL);
}

#define TONE_IN		16000	/* one second at 16 kHz */

/* RMS of the 8 kHz output of a 16 kHz tone of amplitude 10000, over the
 * middle half, away from the filter's start and end.
 */
static double
tone_rms(double hz)
{
	static uint8_t in[TONE_IN * 2], out[TONE_IN];
	double sum = 0.0;
	size_t n, i;
	int16_t s;

	for (i = 0; i < TONE_IN; i++) {
		s = (int16_t)lrint(10000.0 * sin(2.0 * M_PI * hz * i / 16000));
		in[2 * i] = (uint8_t)((uint16_t)s >> 8);
		in[2 * i + 1] = (uint8_t)s;
	}
	n = conv(MEDIA_CODEC_L16, 16000, 1, MEDIA_CODEC_L16, 8000, 1, in,
		 sizeof(in), out);
	CHECK_INT(n, TONE_IN);	/* 8000 samples of 2 bytes */
	for (i = n / 8; i < 3 * n / 8; i++) {
		s = (int16_t)(out[2 * i] << 8 | out[2 * i + 1]);
		sum += (double)s * s;
	}
	return sqrt(sum / (double)(n / 4));
}

static void
test_decimate(void)
{
	double full = 10000.0 / sqrt(2.0);
	uint8_t in[6] = { 0x03, 0xe8, 0x03, 0xe8, 0x03, 0xe8 }, out[8];

	/* The telephone band within 0.1 dB... */
	CHECK(fabs(tone_rms(300) / full - 1.0) < 0.012);
	CHECK(fabs(tone_rms(1000) / full - 1.0) < 0.012);
	CHECK(fabs(tone_rms(3400) / full - 1.0) < 0.012);
	/* ... what would fold back onto it 60 dB down or more. */
	CHECK(tone_rms(4300) / full < 0.001);
	CHECK(tone_rms(5000) / full < 0.001);
	CHECK(tone_rms(7000) / full < 0.001);
	/* n samples give ceil(n / 2), the first one at input 0. */
	CHECK_INT(conv(MEDIA_CODEC_L16, 16000, 1, MEDIA_CODEC_L16, 8000, 1,
		       in, 6, out), 4);
	CHECK_INT(conv(MEDIA_CODEC_L16, 16000, 1, MEDIA_CODEC_L16, 8000, 1,
		       in, 2, out), 2);
}

int
main(void)
{
	ulaw_table();
	alaw_table();
	test_encode_all();
	test_decode();
	test_order_and_downmix();
	test_decimate();
	return CHECK_DONE();
}
