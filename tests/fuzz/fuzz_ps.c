/* libFuzzer target for program streams (core/media_ps.c): scanned,
 * probed as video/mpeg, and both streams demultiplexed; what comes out
 * is never more than went in.
 */
#include "tests/fuzz/fuzz_framed.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sids[] = { MEDIA_PS_VIDEO, MEDIA_PS_AUDIO };
	char *buf = fuzz_copy(data, size);
	const uint8_t *p = (const uint8_t *)buf;
	struct media_info mi;
	const char *why = NULL;
	const struct media_ctype mt = { MEDIA_TYPE_VIDEO_MPEG };

	if (media_framed_probe(&mt, p, size, size, &mi,
			       &why) != 0)
		FUZZ_CHECK(why != NULL);
	(void)media_ps_scan(p, size, &why);
	for (size_t i = 0; i < sizeof(sids); i++) {
		struct media_ps_es es = { 0 };

		if (media_ps_demux(p, size, sids[i], &es, &why) == 0) {
			FUZZ_CHECK(es.len > 0 && es.len <= size);
			FUZZ_CHECK(es.origin_pts <= es.first_pts);
		}
		free(es.buf);
	}
	free(buf);
	return 0;
}
