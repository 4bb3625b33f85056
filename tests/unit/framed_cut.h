/* The MPEG packetizers of core/media_framed.h run on a guard-page copy of
 * a file the test built: a read one byte past the end crashes the test.
 */
#ifndef ANNCD_TESTS_FRAMED_CUT_H
#define ANNCD_TESTS_FRAMED_CUT_H

#include <stdint.h>
#include <string.h>

#include "core/media_framed.h"
#include "tests/unit/check.h"
#include "tests/unit/guard.h"

typedef int (*framed_cut_fn)(const uint8_t *data, size_t len,
			     uint32_t ts_origin, struct media_out *o,
			     const char **why);

/* fn on data[0..len) from timestamp 0; *o is set even on failure. */
static inline int
framed_cut(framed_cut_fn fn, const uint8_t *data, size_t len,
	   struct media_out *o, const char **why)
{
	struct guard_buf g;
	const uint8_t *p = (const uint8_t *)guard_copy(&g, data, len);
	int r;

	memset(o, 0, sizeof(*o));
	*why = "";
	r = fn(p, len, 0, o, why);
	guard_free(&g);
	return r;
}

/* fn refuses data[0..len) with the message want. */
static inline void
framed_cut_refused(framed_cut_fn fn, const uint8_t *data, size_t len,
		   const char *want)
{
	struct media_out o;
	const char *why;

	CHECK_INT(framed_cut(fn, data, len, &o, &why), -1);
	CHECK_STRN(why, strlen(why), want);
	media_out_free(&o);
}

#endif
