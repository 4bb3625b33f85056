/* libFuzzer target for MPEG audio (core/media_mpa.c): probed, then cut
 * into RFC 2250 packets whose timestamps never go back.
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
	const struct media_ctype mt = { MEDIA_TYPE_AUDIO_MPEG };

	/* half the input as the first chunk: what lies past is not read */
	if (media_framed_probe(&mt, p, size / 2, size, &mi,
			       &why) != 0)
		FUZZ_CHECK(why != NULL);
	if (media_mpa_packetize(p, size, 0, &o, &why) == 0) {
		fuzz_check_out(&o);
		for (uint32_t i = 1; i < o.npkts; i++)
			FUZZ_CHECK(o.pkt[i].ts >= o.pkt[i - 1].ts);
	}
	media_out_free(&o);
	free(buf);
	return 0;
}
