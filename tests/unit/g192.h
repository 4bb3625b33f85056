/* ITU-T G.192 serial bitstreams of G.729 frames for the unit tests that
 * read them: a sync word, the number of bits, one little-endian word per
 * bit (0x007f for 0, 0x0081 for 1), as the G.729 reference coder writes.
 */
#ifndef ANNCD_TESTS_G192_H
#define ANNCD_TESTS_G192_H

#include <stddef.h>
#include <stdint.h>

/* Appends a frame of nbits bits taken MSB first from bits; sync 0x6b21
 * (good) or 0x6b20 (erased).  Returns the new length.
 */
static inline size_t
g192_put(uint8_t *buf, size_t n, uint16_t sync, const uint8_t *bits,
	 unsigned int nbits)
{
	unsigned int i, b;

	buf[n++] = (uint8_t)sync;
	buf[n++] = (uint8_t)(sync >> 8);
	buf[n++] = (uint8_t)nbits;
	buf[n++] = 0;
	for (i = 0; i < nbits; i++) {
		b = bits[i / 8] >> (7 - i % 8) & 1;
		buf[n++] = b ? 0x81 : 0x7f;
		buf[n++] = 0;
	}
	return n;
}

#endif
