/* libFuzzer target for media probing (core/media.c, core/media_wav.c):
 * the same decoded content probed as each media type, L16 with each rate
 * and channel count, and as a content-type value.  What probes as
 * playable must lie inside the content, not be empty, and describe a
 * payload the planner can cut.
 */
#include "core/media.h"
#include "tests/fuzz/fuzz.h"

static const struct media_ctype types[] = {
	{ .type = MEDIA_TYPE_UNSUPPORTED },
	{ .type = MEDIA_TYPE_AUDIO_BASIC },
	{ .type = MEDIA_TYPE_AUDIO_PCMU },
	{ .type = MEDIA_TYPE_AUDIO_PCMA },
	{ .type = MEDIA_TYPE_AUDIO_L16, .rate = 8000, .channels = 1 },
	{ .type = MEDIA_TYPE_AUDIO_L16, .rate = 16000, .channels = 2 },
	{ .type = MEDIA_TYPE_AUDIO_G729 },
	{ .type = MEDIA_TYPE_AUDIO_G722 },
};

static void
check_info(const struct media_info *mi, size_t size)
{
	FUZZ_CHECK(mi->data_len > 0 && mi->data_offset <= size &&
		   mi->data_len <= size - mi->data_offset);
	FUZZ_CHECK(mi->clock_rate == 8000 || mi->clock_rate == 16000);
	FUZZ_CHECK(mi->bytes_per_ms > 0 && mi->bytes_per_ms <= 64);
	FUZZ_CHECK(mi->channels == 1 || mi->channels == 2);
	if (mi->bits == 16)
		FUZZ_CHECK(mi->data_len % (2u * mi->channels) == 0);
	if (mi->codec == MEDIA_CODEC_G729 &&
	    mi->framing == MEDIA_FRAMING_RAW)
		FUZZ_CHECK(mi->data_len % 10 == mi->sid_bytes);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	const uint8_t *p = (const uint8_t *)buf;
	struct media_ctype mt;
	struct media_info mi;
	const char *why;
	enum media_type t;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		why = NULL;
		if (media_probe(&types[i], p, size, &mi, &why) != 0) {
			FUZZ_CHECK(why != NULL);
			continue;
		}
		FUZZ_CHECK(types[i].type != MEDIA_TYPE_UNSUPPORTED);
		check_info(&mi, size);
	}

	t = media_type_parse(buf, size, &mt);
	FUZZ_CHECK(t == mt.type && t <= MEDIA_TYPE_VIDEO_MPEG);
	FUZZ_CHECK(media_ctype_form(&mt) < 0x80000000u);
	free(buf);
	return 0;
}
