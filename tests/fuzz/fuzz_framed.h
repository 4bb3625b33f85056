/* Shared by the framed-format fuzz targets: every packet a packetizer
 * cut lies within its output, is not empty and fits the payload limit.
 */
#ifndef ANNCD_TESTS_FUZZ_FRAMED_H
#define ANNCD_TESTS_FUZZ_FRAMED_H

#include "core/media_framed.h"
#include "tests/fuzz/fuzz.h"

static inline void
fuzz_check_out(const struct media_out *o)
{
	uint32_t i;

	FUZZ_CHECK(o->npkts > 0);
	for (i = 0; i < o->npkts; i++) {
		FUZZ_CHECK(o->pkt[i].len > 0);
		FUZZ_CHECK(o->pkt[i].len <= MEDIA_RTP_PAYLOAD_MAX);
		FUZZ_CHECK((size_t)o->pkt[i].off + o->pkt[i].len <= o->len);
	}
}

#endif
