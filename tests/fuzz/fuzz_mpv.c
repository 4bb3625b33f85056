/* libFuzzer target for MPEG video elementary streams (core/media_mpv.c):
 * probed, then cut into RFC 2250 packets, the last of each picture
 * marked.
 */
#include "tests/fuzz/fuzz_framed.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	const uint8_t *p = (const uint8_t *)buf;
	struct media_out o = { 0 };
	struct media_info mi;
	const char *why = NULL;
	const struct media_ctype mt = { MEDIA_TYPE_VIDEO_MPEG };

	if (media_framed_probe(&mt, p, size, size, &mi,
			       &why) != 0)
		FUZZ_CHECK(why != NULL);
	if (media_mpv_packetize(p, size, 0, &o, &why) == 0) {
		fuzz_check_out(&o);
		FUZZ_CHECK(o.pkt[o.npkts - 1].flags & MEDIA_PKT_MARKER);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	media_out_free(&o);
	free(buf);
	return 0;
}
