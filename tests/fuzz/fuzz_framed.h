/* Shared by the framed-format fuzz targets: a probe that refuses says
 * why, and every packet a packetizer cut lies within its output, is not
 * empty and fits the payload limit.
 */
#ifndef ANNCD_TESTS_FUZZ_FRAMED_H
#define ANNCD_TESTS_FUZZ_FRAMED_H

#include "core/media_framed.h"
#include "tests/fuzz/fuzz.h"

/* The probe of type on p, its first chunk the first bytes of size.
 * Returns its why: NULL when it accepted.
 */
static inline const char *
fuzz_probe(enum media_type type, const uint8_t *p, size_t first,
	   size_t size)
{
	const struct media_ctype mt = { .type = type };
	struct media_info mi;
	const char *why = NULL;

	if (media_framed_probe(&mt, p, first, size, &mi, &why) != 0)
		FUZZ_CHECK(why != NULL);
	return why;
}

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
