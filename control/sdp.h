/* SDP offers and answers (RFC 4566, RFC 3264) for the streams anncd sends:
 * reads the caller's offer, chooses for each kind of media the best
 * payload format it accepts, writes the answer; for an INVITE without a
 * body, writes anncd's own offer and reads the answer from the ACK.
 */
#ifndef ANNCD_CONTROL_SDP_H
#define ANNCD_CONTROL_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "core/media.h"
#include "core/media_plan.h"

#define SDP_MAX_MEDIA	8	/* m= lines kept; more gives an error */
#define SDP_MAX_FMT	32	/* formats kept per m= line */
#define SDP_MAX_STREAMS	2	/* streams anncd sends in one call */
#define SDP_DEFAULT_PTIME 20	/* ms, RFC 3551 section 4.5 */
#define SDP_MAX_PTIME	150	/* ms, for formats that set no maximum */
#define SDP_DYN_PT_MIN	96	/* dynamic payload types, RFC 3551 s. 3 */
#define SDP_WARN_MAX	160	/* the text of a refusal's Warning */

enum sdp_dir {
	SDP_SENDRECV = 0,
	SDP_SENDONLY,
	SDP_RECVONLY,
	SDP_INACTIVE,
};

struct sdp_rtpmap {
	uint8_t pt;
	uint8_t channels;		/* 1 unless the rtpmap says */
	char name[32];
	uint32_t clock;
};

/* The format parameters anncd reads (RFC 4867 section 8.1 for AMR). */
struct sdp_fmtp {
	uint8_t pt;
	uint8_t octet_align;		/* octet-align=1 */
	uint16_t mode_set;		/* bit n: AMR mode n allowed; 0: any */
};

struct sdp_media {
	char type[16];			/* "audio", "video", ... */
	uint16_t port;
	char proto[32];			/* "RTP/AVP", "UDP/TLS/RTP/SAVPF" */
	uint8_t fmt[SDP_MAX_FMT];	/* payload types in offer order */
	unsigned int n_fmt;
	struct sdp_rtpmap rtpmap[SDP_MAX_FMT];
	unsigned int n_rtpmap;
	struct sdp_fmtp fmtp[SDP_MAX_FMT];
	unsigned int n_fmtp;
	unsigned int ptime;		/* ms, 0 when absent */
	unsigned int maxptime;		/* ms, 0 when absent (RFC 4566 6) */
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

/* Whether md offers format f: by an rtpmap of the same encoding name
 * (case-insensitive), clock rate and channels, or by f's static payload
 * type when no rtpmap redefines it; for AMR, with the fmtp's octet-align
 * the same as f's MEDIA_FMT_AMR_OCTET.  Returns the payload type, or -1;
 * *octet_align says what the fmtp of that type asks.
 */
int
sdp_match(const struct sdp_media *md, const struct media_fmt *f,
	  int *octet_align);

/* The packet time anncd sends f with on md: the offered ptime (or 20 ms)
 * in whole frames, within f's largest packet and the offered maxptime.
 * 0 for formats of one frame per packet; -1 when maxptime is shorter
 * than one frame.
 */
int
sdp_ptime(const struct sdp_media *md, const struct media_fmt *f);

/* One stream anncd sends, on one m= line. */
struct sdp_stream {
	int media_index;		/* its m= line */
	uint8_t pt;
	struct media_fmt fmt;		/* flags as agreed (octet-align) */
	unsigned int ptime;		/* ms; 0 when one frame a packet */
	unsigned int maxptime;		/* the peer's, 0 when none */
	enum sdp_dir dir;		/* ours: sendonly, sendrecv or
					 * inactive (nothing sent) */
	uint16_t port;			/* our RTP port */
};

/* Why no stream could be agreed on: the Warning of the 488 (RFC 3261
 * section 20.43): 304 "Media type not available" or 305 "Incompatible
 * media format", and text naming what did not fit.
 */
struct sdp_refusal {
	int warn_code;
	char text[SDP_WARN_MAX];
};

/* The direction of the answer to an offered stream of direction offered,
 * for an answerer that would like wanted (RFC 3264 section 6.1): it sends
 * only when both the offer and wanted let it, and receives likewise, so a
 * recvonly offer gets sendonly whatever wanted is.
 */
enum sdp_dir
sdp_answer_dir(enum sdp_dir offered, enum sdp_dir wanted);

/* Chooses, for media of kind, the first of fmts (best first) that some
 * usable m= line of s offers (RTP/AVP, a port, a unicast address).  The
 * answer's direction is sdp_answer_dir(), or inactive when that would
 * not let anncd send.  Returns 0 and *st (port left 0), or -1 and *why.
 */
int
sdp_choose(const struct sdp_session *s, enum media_kind kind,
	   const struct media_fmt *fmts, unsigned int n, enum sdp_dir wanted,
	   struct sdp_stream *st, struct sdp_refusal *why);

struct sdp_answer {
	const struct sdp_session *offer;
	const struct sdp_stream *streams;
	unsigned int n_streams;		/* at most SDP_MAX_STREAMS */
	uint32_t addr;			/* our media IP, network order */
	uint64_t sess_id;
	uint64_t sess_version;
};

/* Writes the answer: as many m= lines as the offer, in its order, port 0
 * for every one not streamed (RFC 3264 section 6); rtpmap and fmtp for
 * the chosen formats.  Returns the length, or -1 when cap is too small.
 */
int
sdp_build_answer(char *out, size_t cap, const struct sdp_answer *a);

/* One m= line of anncd's own offer (RFC 3264 section 5): every format
 * the content can be sent as, best first, each with its payload type.
 */
struct sdp_offer_media {
	enum media_kind kind;
	struct media_fmt fmt[SDP_MAX_FMT];
	uint8_t pt[SDP_MAX_FMT];
	unsigned int n_fmt;
	uint16_t port;			/* our RTP port */
};

struct sdp_offer {
	struct sdp_offer_media media[SDP_MAX_STREAMS];
	unsigned int n_media;
	uint32_t addr;
	uint64_t sess_id;
	uint64_t sess_version;
};

/* Adds an m= line of kind with fmts to o, giving each format its static
 * payload type or the next free dynamic one.  Returns 0, or -1 when o is
 * full or n is 0.
 */
int
sdp_offer_add(struct sdp_offer *o, enum media_kind kind, uint16_t port,
	      const struct media_fmt *fmts, unsigned int n);

/* Writes the offer, sendonly, ptime 20.  Returns the length or -1. */
int
sdp_build_offer(char *out, size_t cap, const struct sdp_offer *o);

/* Reads the answer ans to offer o (RFC 3264 section 7): the same number
 * of m= lines; for each of ours, the first of our payload types the
 * answer kept, or declined (port 0).  st[] gets one entry per m= line of
 * o; *n_sent how many will carry RTP.  Returns 0, or -1 and *why when the
 * answer does not fit the offer.
 */
int
sdp_take_answer(const struct sdp_offer *o, const struct sdp_session *ans,
		struct sdp_stream *st, unsigned int *n_sent,
		struct sdp_refusal *why);

/* The Warning header line of a refusal, "Warning: 305 agent \"text\"\r\n"
 * with the text made a valid quoted-string.  Returns the length or -1.
 */
int
sdp_warning_header(char *out, size_t cap, const char *agent,
		   const struct sdp_refusal *r);

#endif
