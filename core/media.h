/* Media formats: what the content-type of an attachment says, what its
 * container header says, and which RTP payload formats it can be sent as.
 * Work here happens once per attachment, at ingest, never per caller.
 */
#ifndef ANNCD_CORE_MEDIA_H
#define ANNCD_CORE_MEDIA_H

#include <stddef.h>
#include <stdint.h>

enum media_codec {
	MEDIA_CODEC_NONE = 0,
	MEDIA_CODEC_PCMU,	/* G.711 mu-law, static PT 0 (RFC 3551) */
	MEDIA_CODEC_PCMA,	/* G.711 A-law, static PT 8 */
	MEDIA_CODEC_L16,	/* 16-bit PCM, network order (RFC 3551 4.5.11) */
	MEDIA_CODEC_PCM16LE,	/* 16-bit PCM, little-endian (WAV); not a
				 * wire format: converted at ingest */
	MEDIA_CODEC_G729,	/* static PT 18, 10-byte frames per 10 ms */
	MEDIA_CODEC_G722,	/* static PT 9, RTP clock 8000 */
	MEDIA_CODEC_AMR,	/* RFC 4867, dynamic PT, 8000 */
	MEDIA_CODEC_AMR_WB,	/* RFC 4867, dynamic PT, 16000 */
	MEDIA_CODEC_MPA,	/* RFC 2250 MPEG audio, static PT 14 */
	MEDIA_CODEC_MPV,	/* RFC 2250 MPEG video, static PT 32 */
};

/* What the content-type URI parameter names, before looking at the bytes. */
enum media_type {
	MEDIA_TYPE_UNSUPPORTED = 0,
	MEDIA_TYPE_AUDIO_BASIC,	/* audio/basic: Sun .au file (RFC 2046 4.3) */
	MEDIA_TYPE_AUDIO_PCMU,	/* audio/PCMU: raw mu-law (RFC 4856) */
	MEDIA_TYPE_AUDIO_PCMA,	/* audio/PCMA: raw A-law */
	MEDIA_TYPE_AUDIO_L16,	/* audio/L16;rate=;channels= (RFC 2586) */
	MEDIA_TYPE_AUDIO_WAV,	/* audio/wav, audio/x-wav, audio/wave */
	MEDIA_TYPE_AUDIO_G729,	/* audio/G729: raw frames */
	MEDIA_TYPE_AUDIO_G722,	/* audio/G722: raw octets */
	MEDIA_TYPE_AUDIO_AMR,	/* audio/amr: RFC 4867 section 5 storage */
	MEDIA_TYPE_AUDIO_AMR_WB,	/* audio/amr-wb */
	MEDIA_TYPE_AUDIO_MPEG,	/* audio/mpeg: MPEG-1/2 layer I-III frames */
	MEDIA_TYPE_VIDEO_MPEG,	/* video/mpeg: elementary or program stream */
};

/* The playable payload of a decoded attachment. */
struct media_info {
	enum media_codec codec;
	uint32_t clock_rate;	/* RTP clock, Hz */
	uint32_t bytes_per_ms;	/* payload bytes per ms of audio */
	size_t data_offset;	/* first payload byte in the decoded content */
	size_t data_len;	/* payload bytes */
	uint32_t sample_rate;	/* the codec's own rate where the RTP clock
				 * differs (MPEG audio: 90 kHz clock), else 0 */
	uint32_t flags;		/* MEDIA_INFO_* (core/media_framed.h) */
};

/* Maps a content-type value (case-insensitive, parameters after ';'
 * ignored) to a media type.
 */
enum media_type
media_type_parse(const char *ct, size_t len);

/* Examines the decoded content of the given type.  Returns 0 and fills mi,
 * or -1 with *why saying what is wrong with the content ("au: encoding 3
 * not supported"); *why may point to a per-thread buffer that the next
 * call reuses.
 */
int
media_probe(enum media_type type, const uint8_t *data, size_t len,
	    struct media_info *mi, const char **why);

/* The same, for content held in pieces: data holds its first avail of len
 * bytes.  A container header must lie within them; what it says about the
 * payload's extent is checked against len.
 */
int
media_probe_prefix(enum media_type type, const uint8_t *data, size_t avail,
		   size_t len, struct media_info *mi, const char **why);

/* Static RTP payload type and encoding name of a codec (RFC 3551); -1 and
 * NULL for MEDIA_CODEC_NONE.
 */
int
media_codec_static_pt(enum media_codec c);
const char *
media_codec_name(enum media_codec c);

#endif
