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

/* A content-type with the parameters that change how its bytes are read
 * (RFC 2045 section 5.1): the rate and channels of audio/L16 (RFC 2586,
 * 8000 and 1 when absent) and the format tag a WAV type names (;codec=,
 * RFC 2361).  Zero-initialised with only type set, it is that type with
 * its defaults.
 */
struct media_ctype {
	enum media_type type;
	uint32_t rate;		/* L16: 8000 or 16000; 0: the default */
	uint8_t channels;	/* L16: 1 or 2; 0: the default */
	uint16_t codec;		/* WAV format tag asked for; 0: any */
};

/* The playable payload of a decoded attachment. */
struct media_info {
	enum media_codec codec;
	uint32_t clock_rate;	/* RTP clock, Hz */
	uint32_t bytes_per_ms;	/* payload bytes per ms of audio */
	size_t data_offset;	/* first payload byte in the decoded content */
	size_t data_len;	/* payload bytes */
	uint32_t sample_rate;	/* samples per second per channel (G.722:
				 * 16000 on an RTP clock of 8000) */
	uint8_t channels;	/* interleaved in the payload */
	uint8_t bits;		/* per sample: 8 G.711, 16 PCM, 0 coded */
	uint8_t sid_bytes;	/* G.729 raw: a trailing Annex B SID
				 * frame, 0 or 2 bytes, in data_len */
	uint8_t framing;	/* MEDIA_FRAMING_*: how coded frames are
				 * delimited */
	uint16_t format_tag;	/* WAV: the format tag (for EXTENSIBLE, its
				 * SubFormat's); 0 for other containers */
	uint32_t flags;		/* MEDIA_INFO_* (core/media_framed.h) */
};

/* How the frames of a coded payload are told apart. */
#define MEDIA_FRAMING_RAW	0	/* by their fixed length */
#define MEDIA_FRAMING_G192	1	/* ITU-T G.192 serial bitstream: sync
					 * word, length, one word per bit */

/* Maps a content-type value (case-insensitive, RFC 2045 parameters) to a
 * media type and fills mt.  A type anncd does not know, a malformed
 * parameter or a parameter value it cannot play gives
 * MEDIA_TYPE_UNSUPPORTED; parameters it does not use are ignored.
 */
enum media_type
media_type_parse(const char *ct, size_t len, struct media_ctype *mt);

/* mt as one number, equal for two content-types exactly when they read
 * the same bytes the same way; below 2^31.
 */
uint32_t
media_ctype_form(const struct media_ctype *mt);

/* Examines the decoded content of the given type.  Returns 0 and fills mi,
 * or -1 with *why saying what is wrong with the content ("au: encoding 3
 * not supported"); *why may point to a per-thread buffer that the next
 * call reuses.
 */
int
media_probe(const struct media_ctype *mt, const uint8_t *data, size_t len,
	    struct media_info *mi, const char **why);

/* The same, for content held in pieces: data holds its first avail of len
 * bytes.  A container header must lie within them; what it says about the
 * payload's extent is checked against len.
 */
int
media_probe_prefix(const struct media_ctype *mt, const uint8_t *data,
		   size_t avail, size_t len, struct media_info *mi,
		   const char **why);

/* Static RTP payload type (RFC 3551 table 4 and 5; -1: dynamic or none)
 * and rtpmap encoding name (NULL for MEDIA_CODEC_NONE and PCM16LE, which
 * is no wire format) of a codec.
 */
int
media_codec_static_pt(enum media_codec c);
const char *
media_codec_name(enum media_codec c);

#endif
