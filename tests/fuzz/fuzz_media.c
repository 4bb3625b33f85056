/* libFuzzer target for media probing (core/media.c): the same decoded
 * content probed as each media type, and as a content-type value.  What
 * probes as playable must lie inside the content and not be empty.
 */
#include "core/media.h"
#include "tests/fuzz/fuzz.h"

static const enum media_type types[] = {
	MEDIA_TYPE_UNSUPPORTED,
	MEDIA_TYPE_AUDIO_BASIC,
	MEDIA_TYPE_AUDIO_PCMU,
	MEDIA_TYPE_AUDIO_PCMA,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	const uint8_t *p = (const uint8_t *)buf;
	struct media_info mi;
	const char *why;
	enum media_type t;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		why = NULL;
		if (media_probe(types[i], p, size, &mi, &why) != 0) {
			FUZZ_CHECK(why != NULL);
			continue;
		}
		FUZZ_CHECK(types[i] != MEDIA_TYPE_UNSUPPORTED);
		FUZZ_CHECK(mi.data_len > 0 && mi.data_offset <= size &&
			   mi.data_len <= size - mi.data_offset);
		FUZZ_CHECK(media_codec_static_pt(mi.codec) >= 0);
		FUZZ_CHECK(mi.clock_rate == 8000 && mi.bytes_per_ms == 8);
	}

	t = media_type_parse(buf, size);
	FUZZ_CHECK(t >= MEDIA_TYPE_UNSUPPORTED && t <= MEDIA_TYPE_VIDEO_MPEG);
	free(buf);
	return 0;
}
