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
