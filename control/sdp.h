/* SDP offers and answers (RFC 4566, RFC 3264 section 6) for one audio
 * stream sent by anncd.
 */
#ifndef ANNCD_CONTROL_SDP_H
#define ANNCD_CONTROL_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "core/media.h"

#define SDP_MAX_MEDIA	8	/* m= lines kept; more gives an error */
#define SDP_MAX_FMT	32	/* formats kept per m= line */

enum sdp_dir {
	SDP_SENDRECV = 0,
	SDP_SENDONLY,
	SDP_RECVONLY,
	SDP_INACTIVE,
};

struct sdp_rtpmap {
	uint8_t pt;
	char name[32];
	uint32_t clock;
};

struct sdp_media {
	char type[16];			/* "audio", "video", ... */
	uint16_t port;
	char proto[32];			/* "RTP/AVP", "UDP/TLS/RTP/SAVPF" */
	uint8_t fmt[SDP_MAX_FMT];	/* payload types in offer order */
	unsigned int n_fmt;
	struct sdp_rtpmap rtpmap[SDP_MAX_FMT];
	unsigned int n_rtpmap;
	unsigned int ptime;		/* ms, 0 when absent */
	uint16_t rtcp_port;		/* a=rtcp (RFC 3605), 0 when absent */
	enum sdp_dir dir;
	uint32_t addr;			/* c= of the media or the session,
					 * network order; 0 if none */
};

struct sdp_session {
	uint32_t addr;			/* session-level c=, network order */
	struct sdp_media media[SDP_MAX_MEDIA];
	unsigned int n_media;
};

/* Parses an SDP body.  Returns 0 or -1 with *why ("no c= line",
 * "bad m= line").  Only IN IP4 addresses are accepted.
 */
int
sdp_parse(const char *body, size_t len, struct sdp_session *s,
	  const char **why);

/* Picks the first audio m= line with RTP/AVP and a non-zero port that
 * offers codec (by static PT or by rtpmap name and clock).  Returns the
 * index of the m= line and sets *pt, or -1.
 */
int
sdp_pick(const struct sdp_session *s, enum media_codec codec, uint8_t *pt);

struct sdp_answer {
	const struct sdp_session *offer;
	int media_index;		/* the m= line streamed */
	uint8_t pt;
	enum media_codec codec;
	unsigned int ptime;		/* ms */
	uint32_t addr;			/* our media IP, network order */
	uint16_t port;			/* our RTP port */
	uint64_t sess_id;
	uint64_t sess_version;
	enum sdp_dir dir;		/* direction attribute of the answer */
};

/* The direction of the answer to an offered stream of direction offered,
 * for an answerer that would like wanted (RFC 3264 section 6.1): it sends
 * only when both the offer and wanted let it, and receives likewise, so a
 * recvonly offer gets sendonly whatever wanted is.
 */
enum sdp_dir
sdp_answer_dir(enum sdp_dir offered, enum sdp_dir wanted);

/* Writes the answer: as many m= lines as the offer, in its order, port 0
 * for every one but the streamed (RFC 3264 section 6).  Returns the length,
 * or -1 when cap is too small.
 */
int
sdp_build_answer(char *out, size_t cap, const struct sdp_answer *a);

#endif
