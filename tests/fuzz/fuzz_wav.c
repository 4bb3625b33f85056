/* libFuzzer target for the WAV chunk walk (core/media_wav.c) and the
 * sample conversions behind it (core/media_pcm.c): a file probed with
 * and without a ;codec= tag, and whatever probes as playable converted
 * to a payload format it could be sent as, within the bound the
 * converter promises.
 */
#include "core/media.h"
#include "core/media_pcm.h"
#include "tests/fuzz/fuzz.h"

static const uint16_t codecs[] = { 0, 1, 6, 7, 0xfffe };

static const struct {
	enum media_codec codec;
	uint32_t rate;
	uint8_t channels;
} outs[] = {
	{ MEDIA_CODEC_L16, 16000, 2 },
	{ MEDIA_CODEC_L16, 16000, 1 },
	{ MEDIA_CODEC_L16, 8000, 2 },
	{ MEDIA_CODEC_L16, 8000, 1 },
	{ MEDIA_CODEC_PCMU, 8000, 1 },
	{ MEDIA_CODEC_PCMA, 8000, 1 },
};

/* One conversion per input, chosen by its length, keeps a run short:
 * the filter costs 95 multiplications per output sample.
 */
static void
convert_one(const struct media_info *mi, const uint8_t *p, size_t size)
{
	size_t i = size % (sizeof(outs) / sizeof(outs[0]));
	struct media_pcm_conv cv;
	uint8_t *out;
	size_t n, max;

	if (media_pcm_conv_init(&cv, mi->codec, mi->sample_rate, mi->channels,
				outs[i].codec, outs[i].rate,
				outs[i].channels) != 0)
		return;
	max = media_pcm_conv_max_out(&cv, mi->data_len);
	out = malloc(max);
	FUZZ_CHECK(out != NULL);
	n = media_pcm_conv_run(&cv, p + mi->data_offset, mi->data_len, out);
	FUZZ_CHECK(n <= max);
	n += media_pcm_conv_flush(&cv, out + n);
	FUZZ_CHECK(n <= max && n > 0);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	const uint8_t *p = (const uint8_t *)buf;
	struct media_ctype mt = { .type = MEDIA_TYPE_AUDIO_WAV };
	struct media_info mi;
	const char *why;

	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		mt.codec = codecs[i];
		why = NULL;
		if (media_probe(&mt, p, size, &mi, &why) != 0) {
			FUZZ_CHECK(why != NULL);
			continue;
		}
		FUZZ_CHECK(mi.data_len > 0 && mi.data_offset <= size &&
			   mi.data_len <= size - mi.data_offset);
		FUZZ_CHECK(mi.data_len % (mi.channels * (mi.bits / 8u)) == 0);
		FUZZ_CHECK(mi.sample_rate == 8000 || mi.sample_rate == 16000);
		if (i == 0)
			convert_one(&mi, p, size);
	}
	free(buf);
	return 0;
}
