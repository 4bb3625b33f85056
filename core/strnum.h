/* Decimal numbers in protocol text (a SIP CSeq, an SDP port): digits
 * only, leading zeros allowed ("0068" in RFC 4475 section 3.1.1.1), no
 * sign, no overflow past max, so a hostile value never becomes a usable
 * number.
 */
#ifndef ANNCD_CORE_STRNUM_H
#define ANNCD_CORE_STRNUM_H

#include <stddef.h>

/* Reads the n bytes at p as a number up to max.  Returns 0, or -1 when
 * they are empty, hold anything but digits or exceed max. */
static inline int
strnum_parse(const char *p, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

#endif
