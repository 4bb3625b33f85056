/* libFuzzer target for AMR storage files (core/media_amr.c): probed as
 * AMR and AMR-WB, then cut in both RTP modes at two packet times; the
 * timestamps must grow.
 */
#include "tests/fuzz/fuzz_framed.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct media_ctype types[] = {
		{ MEDIA_TYPE_AUDIO_AMR }, { MEDIA_TYPE_AUDIO_AMR_WB },
	};
	char *buf = fuzz_copy(data, size);
	const uint8_t *p = (const uint8_t *)buf;
	struct media_fmt fmts[2];
	struct media_info mi;
	const char *why;

	for (size_t t = 0; t < 2; t++) {
		why = NULL;
		if (media_framed_probe(&types[t], p, size, size, &mi, &why)) {
			FUZZ_CHECK(why != NULL);
			continue;
		}
		FUZZ_CHECK(media_amr_fmts(&mi, fmts, 2) == 2);
		for (size_t f = 0; f < 2; f++) {
			struct media_out o = { 0 };

			if (media_amr_packetize(p + mi.data_offset,
						mi.data_len, &mi, &fmts[f],
						f ? 20 : 240, 0, &o, &why) == 0) {
				fuzz_check_out(&o);
				for (uint32_t i = 1; i < o.npkts; i++)
					FUZZ_CHECK(o.pkt[i].ts > o.pkt[i - 1].ts);
			}
			media_out_free(&o);
		}
	}
	free(buf);
	return 0;
}
