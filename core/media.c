/* Media formats at ingest: the content-type named in the INVITE, the Sun
 * .au header of audio/basic content, and the G.711 payload either becomes.
 * The result tells the packet planner where the payload lies and how fast
 * it plays.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/media.h"
#include "core/media_framed.h"

/* G.711 is one byte per sample at 8000 Hz (RFC 3551 section 4.5.14). */
#define MEDIA_G711_RATE		8000
#define MEDIA_G711_BYTES_PER_MS	8

/* Sun/NeXT audio file header: six big-endian 32-bit words. */
#define AU_MAGIC		0x2e736e64u	/* ".snd" */
#define AU_HDR_LEN		24
#define AU_SIZE_UNKNOWN		0xffffffffu
#define AU_ENC_MULAW_8		1
#define AU_ENC_ALAW_8		27

/* Errors name the offending value, so *why points here; ingest runs on
 * the control thread, and the text is read before the next probe.
 */
static _Thread_local char media_why_buf[96];

static const struct {
	const char *name;
	enum media_type type;
} media_types[] = {
	{ "audio/basic", MEDIA_TYPE_AUDIO_BASIC },
	{ "audio/pcmu", MEDIA_TYPE_AUDIO_PCMU },
	{ "audio/pcma", MEDIA_TYPE_AUDIO_PCMA },
	{ "audio/amr", MEDIA_TYPE_AUDIO_AMR },
	{ "audio/amr-wb", MEDIA_TYPE_AUDIO_AMR_WB },
	{ "audio/mpeg", MEDIA_TYPE_AUDIO_MPEG },
	{ "video/mpeg", MEDIA_TYPE_VIDEO_MPEG },
};

enum media_type
media_type_parse(const char *ct, size_t len)
{
	size_t b = 0, e, i;

	/* type "/" subtype, then ";" parameters (RFC 2045 section 5.1); the
	 * parameters say nothing G.711 needs, so they are dropped.
	 */
	for (e = 0; e < len && ct[e] != ';'; e++)
		;
	while (b < e && (ct[b] == ' ' || ct[b] == '\t'))
		b++;
	while (e > b && (ct[e - 1] == ' ' || ct[e - 1] == '\t'))
		e--;

	for (i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++) {
		const char *name = media_types[i].name;

		if (e - b == strlen(name) &&
		    strncasecmp(ct + b, name, e - b) == 0)
			return media_types[i].type;
	}
	return MEDIA_TYPE_UNSUPPORTED;
}

static uint32_t
media_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
media_g711(struct media_info *mi, enum media_codec c, size_t off, size_t n)
{
	mi->codec = c;
	mi->clock_rate = MEDIA_G711_RATE;
	mi->bytes_per_ms = MEDIA_G711_BYTES_PER_MS;
	mi->data_offset = off;
	mi->data_len = n;
}

/* Where the audio lies: the header's data offset, and a data size that is
 * either exact or "unknown" (the rest of the file, as a writer that
 * streams its output leaves it).  Trailing bytes past the size (some tools
 * append an info chunk) are ignored; a size beyond the end is refused
 * rather than clipped, since the file was evidently cut short.
 */
static int
media_au_extent(const uint8_t *data, size_t len, size_t *off, size_t *n,
		const char **why)
{
	uint32_t hoff = media_be32(data + 4), hsize = media_be32(data + 8);

	if (hoff < AU_HDR_LEN || hoff > len) {
		snprintf(media_why_buf, sizeof(media_why_buf),
			 "au: data offset %u outside file of %zu bytes",
			 hoff, len);
		*why = media_why_buf;
		return -1;
	}
	*off = hoff;
	*n = hsize == AU_SIZE_UNKNOWN ? len - hoff : hsize;
	if (*n > len - hoff) {
		snprintf(media_why_buf, sizeof(media_why_buf),
			 "au: data size %u exceeds file (%zu bytes of data)",
			 hsize, len - hoff);
		*why = media_why_buf;
		return -1;
	}
	return 0;
}

/* The format fields: only what plays as G.711 without transcoding. */
static int
media_au_format(const uint8_t *data, enum media_codec *c, const char **why)
{
	uint32_t enc = media_be32(data + 12);
	uint32_t rate = media_be32(data + 16);
	uint32_t chans = media_be32(data + 20);

	if (enc == AU_ENC_MULAW_8) {
		*c = MEDIA_CODEC_PCMU;
	} else if (enc == AU_ENC_ALAW_8) {
		*c = MEDIA_CODEC_PCMA;
	} else {
		snprintf(media_why_buf, sizeof(media_why_buf),
			 "au: encoding %u not supported", enc);
		goto fail;
	}
	if (rate != MEDIA_G711_RATE) {
		snprintf(media_why_buf, sizeof(media_why_buf),
			 "au: sample rate %u not supported (8000 only)", rate);
		goto fail;
	}
	if (chans != 1) {
		snprintf(media_why_buf, sizeof(media_why_buf),
			 "au: channels %u not supported (mono only)", chans);
		goto fail;
	}
	return 0;

fail:
	*why = media_why_buf;
	return -1;
}

static int
media_probe_au(const uint8_t *data, size_t avail, size_t len,
	       struct media_info *mi, const char **why)
{
	enum media_codec c;
	size_t off, n;

	if (avail < AU_HDR_LEN) {
		snprintf(media_why_buf, sizeof(media_why_buf),
			 "au: header truncated (%zu bytes)", avail);
		*why = media_why_buf;
		return -1;
	}
	if (media_be32(data) != AU_MAGIC) {
		*why = "au: magic is not .snd";
		return -1;
	}
	if (media_au_extent(data, len, &off, &n, why) != 0 ||
	    media_au_format(data, &c, why) != 0)
		return -1;
	if (n == 0) {
		*why = "au: data size 0";
		return -1;
	}

	media_g711(mi, c, off, n);
	return 0;
}

int
media_probe(enum media_type type, const uint8_t *data, size_t len,
	    struct media_info *mi, const char **why)
{
	return media_probe_prefix(type, data, len, len, mi, why);
}

int
media_probe_prefix(enum media_type type, const uint8_t *data, size_t avail,
		   size_t len, struct media_info *mi, const char **why)
{
	switch (type) {
	case MEDIA_TYPE_AUDIO_BASIC:
		return media_probe_au(data, avail < len ? avail : len, len,
				      mi, why);
	case MEDIA_TYPE_AUDIO_PCMU:
	case MEDIA_TYPE_AUDIO_PCMA:
		/* RFC 4856 raw G.711: no header, every byte is a sample. */
		if (len == 0) {
			*why = "raw g711: empty content";
			return -1;
		}
		media_g711(mi, type == MEDIA_TYPE_AUDIO_PCMU ?
			   MEDIA_CODEC_PCMU : MEDIA_CODEC_PCMA, 0, len);
		return 0;
	case MEDIA_TYPE_AUDIO_AMR:
	case MEDIA_TYPE_AUDIO_AMR_WB:
	case MEDIA_TYPE_AUDIO_MPEG:
	case MEDIA_TYPE_VIDEO_MPEG:
		return media_framed_probe(type, data, avail, len, mi, why);
	default:
		*why = "unsupported media type";
		return -1;
	}
}

int
media_codec_static_pt(enum media_codec c)
{
	switch (c) {
	case MEDIA_CODEC_PCMU:
		return 0;
	case MEDIA_CODEC_PCMA:
		return 8;
	case MEDIA_CODEC_MPA:
		return 14;
	case MEDIA_CODEC_MPV:
		return 32;
	default:
		return -1;
	}
}

const char *
media_codec_name(enum media_codec c)
{
	switch (c) {
	case MEDIA_CODEC_PCMU:
		return "PCMU";
	case MEDIA_CODEC_PCMA:
		return "PCMA";
	case MEDIA_CODEC_AMR:
		return "AMR";
	case MEDIA_CODEC_AMR_WB:
		return "AMR-WB";
	case MEDIA_CODEC_MPA:
		return "MPA";
	case MEDIA_CODEC_MPV:
		return "MPV";
	default:
		return NULL;
	}
}
