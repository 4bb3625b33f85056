/* Shared by the container parsers of core/media*.c: the probe each media
 * type dispatches to, the buffer that reasons naming a value are written
 * to, and little- and big-endian field readers.  Not for other modules.
 */
#ifndef ANNCD_CORE_MEDIA_PRIV_H
#define ANNCD_CORE_MEDIA_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "core/media.h"

/* G.711 is one byte per sample at 8000 Hz (RFC 3551 section 4.5.14). */
#define MEDIA_G711_RATE		8000
#define MEDIA_G711_BYTES_PER_MS	8

/* RFC 3551 section 4.5.6: 10-byte frames of 10 ms; an Annex B comfort
 * noise (SID) frame is 2 bytes (15 bits and a zero).
 */
#define MEDIA_G729_FRAME	10
#define MEDIA_G729_SID		2

/* ITU-T G.192 serial bitstream: per frame a sync word (good or erased),
 * the number of bits, then one 16-bit word per bit; G.729 Annex B
 * frames have 80 bits (speech), 15 or 16 (SID) or 0 (not transmitted).
 */
#define MEDIA_G192_HDR		4
#define MEDIA_G192_SYNC		0x6b21
#define MEDIA_G192_SYNC_BAD	0x6b20
#define MEDIA_G192_BIT0		0x007f
#define MEDIA_G192_BIT1		0x0081
#define MEDIA_G192_MAX_FRAME	(MEDIA_G192_HDR + 2 * 80)

/* Reads the G.192 frame at p (n bytes there): its length in the file
 * and the frame packed MSB first into out (10 bytes of room), out_len
 * 10 (speech), 2 (SID) or 0 (nothing to send).  0, -1 when it is not a
 * G.729 frame in G.192, -2 when it runs past n.
 */
int
media_g192_frame(const uint8_t *p, size_t n, size_t *flen, uint8_t *out,
		 size_t *out_len);

/* A container probe: data holds the first avail of the content's len
 * bytes.  Fills mi or returns -1 with *why (media_why()).
 */
typedef int media_probe_fn(const struct media_ctype *mt, const uint8_t *data,
			   size_t avail, size_t len, struct media_info *mi,
			   const char **why);

media_probe_fn media_wav_probe;

/* Formats a reason into a per-thread buffer, points *why at it and
 * returns -1; the text lives until the next reason on that thread.
 */
int
media_why(const char **why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fills mi for a payload of the given shape; the probes set the rest. */
void
media_info_set(struct media_info *mi, enum media_codec c, size_t off,
	       size_t n, uint32_t sample_rate, uint8_t channels);

static inline uint16_t
media_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
media_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint32_t
media_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

#endif
