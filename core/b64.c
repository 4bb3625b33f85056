/* Scalar streaming base64 decoder: the reference that a vectorised decoder
 * must agree with, and the fallback on CPUs without one.  It turns the
 * encoded URLFETCH literal into playable bytes chunk by chunk.
 */
#include <string.h>

#include "core/b64.h"

/* Table classes above the 6-bit sextet values: one lookup per byte says
 * both what the byte is worth and whether it needs the slow path.
 */
#define WS	0x80	/* ASCII white space, skipped (RFC 2045 6.8) */
#define PD	0x81	/* '=' padding */
#define XX	0xff	/* outside the alphabet */

static const uint8_t b64_table[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, WS, WS, WS, WS, WS, XX, XX,	/* 0x00 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0x10 */
	WS, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,	/* 0x20 */
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, PD, XX, XX,	/* 0x30 */
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,	/* 0x40 */
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,	/* 0x50 */
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,	/* 0x60 */
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,	/* 0x70 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0x80 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0x90 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xa0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xb0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xc0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xd0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xe0 */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,	/* 0xf0 */
};

void
b64_init(struct b64_dec *d)
{
	memset(d, 0, sizeof(*d));
}

/* A '=' is valid only after two or three sextets of a quantum (RFC 4648
 * section 4): it completes the quantum, so the bytes it carries are
 * written at the first '='.  Bits left over in the last sextet are not
 * checked (RFC 4648 3.5 lets a MIME decoder accept them).
 */
static int
b64_pad(struct b64_dec *d, uint8_t **o)
{
	uint8_t *w = *o;

	if (d->nsext < 2 || d->nsext + d->npad >= 4)
		return -1;
	if (d->npad == 0 && d->nsext == 2) {
		*w++ = (uint8_t)(d->acc >> 4);
	} else if (d->npad == 0) {
		*w++ = (uint8_t)(d->acc >> 10);
		*w++ = (uint8_t)(d->acc >> 2);
	}
	d->npad++;
	*o = w;
	return 0;
}

/* One byte of the slow path: partial quanta, white space and padding. */
static int
b64_step(struct b64_dec *d, uint8_t c, uint8_t **o)
{
	uint8_t v = b64_table[c];
	uint8_t *w = *o;

	if (v == WS)
		return 0;
	if (v == PD)
		return b64_pad(d, o);
	if (v == XX || d->npad != 0)
		return -1;

	d->acc = d->acc << 6 | v;
	if (++d->nsext < 4)
		return 0;
	w[0] = (uint8_t)(d->acc >> 16);
	w[1] = (uint8_t)(d->acc >> 8);
	w[2] = (uint8_t)d->acc;
	*o = w + 3;
	d->acc = 0;
	d->nsext = 0;
	return 0;
}

/* Fast path: four alphabet bytes on a quantum boundary, which is all of a
 * MIME line but its CRLF.  Returns -1, writing nothing, for anything else.
 */
static inline int
b64_quantum(const uint8_t *p, uint8_t *o)
{
	uint32_t a = b64_table[p[0]], b = b64_table[p[1]];
	uint32_t c = b64_table[p[2]], e = b64_table[p[3]];
	uint32_t q;

	if ((a | b | c | e) & 0x80)
		return -1;
	q = a << 18 | b << 12 | c << 6 | e;
	o[0] = (uint8_t)(q >> 16);
	o[1] = (uint8_t)(q >> 8);
	o[2] = (uint8_t)q;
	return 0;
}

ssize_t
b64_decode(struct b64_dec *d, const char *in, size_t len, uint8_t *out)
{
	const uint8_t *p = (const uint8_t *)in;
	uint8_t *o = out;
	size_t i = 0;

	while (i < len) {
		if (d->nsext == 0 && d->npad == 0 && len - i >= 4 &&
		    b64_quantum(p + i, o) == 0) {
			o += 3;
			i += 4;
			continue;
		}
		if (b64_step(d, p[i], &o) != 0) {
			d->err_offset = d->offset + i;
			d->err_byte = p[i];
			d->offset += i;
			return -1;
		}
		i++;
	}

	d->offset += len;
	return o - out;
}

int
b64_finish(struct b64_dec *d)
{
	if (d->npad == 0)
		return d->nsext == 0 ? 0 : -1;
	return d->nsext + d->npad == 4 ? 0 : -1;
}
