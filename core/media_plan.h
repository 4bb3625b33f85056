/* A packet plan: an attachment cut into RTP payloads once, at ingest, for
 * one payload format and one packet time, and shared by every stream that
 * plays it.  The dataplane only walks a plan: packet i carries len bytes
 * from off in the plan's content and the RTP timestamp ts0 + ts, and is
 * due when that timestamp comes round on the media clock (RFC 3550
 * section 5.1: the timestamp is the sampling instant of the first octet).
 *
 * Two shapes: a uniform plan (pkt == NULL) cuts [uni_off, uni_off +
 * uni_total) into packets of uni_len bytes and uni_ts ticks, the last one
 * shorter when the payload is not a whole number of packets (G.711, L16,
 * G.722, G.729 without SID frames); an explicit plan lists each packet,
 * for payloads built at ingest with their payload headers (RFC 2250 MPA
 * and MPV, RFC 4867 AMR) or with frames of varying length.
 */
#ifndef ANNCD_CORE_MEDIA_PLAN_H
#define ANNCD_CORE_MEDIA_PLAN_H

#include <stddef.h>
#include <stdint.h>

struct content;

#define MEDIA_PKT_MARKER	0x1	/* RTP marker bit (RFC 3551 s. 4.1,
					 * RFC 2250 s. 3.3: end of picture) */

/* 16 bytes per packet: a 3-minute announcement at 20 ms is 140 KiB. */
struct media_pkt {
	uint32_t off;			/* first payload byte, logical offset
					 * in the plan's content */
	uint16_t len;			/* payload bytes, RTP header excluded */
	uint16_t flags;			/* MEDIA_PKT_* */
	uint32_t ts;			/* RTP timestamp, from the first
					 * packet's */
	uint32_t reserved;
};

struct media_plan {
	struct content *content;	/* the payload bytes; the plan holds a
					 * reference (content_put at free) */
	uint32_t npkts;			/* packets in one play-through, >= 1 */
	uint32_t clock_rate;		/* RTP clock, Hz */
	uint32_t span_ts;		/* one play-through: the last packet's
					 * ts plus its own duration */
	const struct media_pkt *pkt;	/* npkts entries, or NULL: uniform */
	size_t uni_off;			/* uniform: first payload byte */
	size_t uni_total;		/* uniform: payload bytes */
	uint32_t uni_len;		/* uniform: bytes per packet */
	uint32_t uni_ts;		/* uniform: ticks per packet */
};

/* Packet i of a plan: where its payload lies, its length, its timestamp
 * offset and its flags.  i < plan->npkts.
 */
static inline void
media_plan_packet(const struct media_plan *pl, uint32_t i, size_t *off,
		  uint32_t *len, uint32_t *ts, uint32_t *flags)
{
	if (pl->pkt != NULL) {
		const struct media_pkt *p = &pl->pkt[i];

		*off = p->off;
		*len = p->len;
		*ts = p->ts;
		*flags = p->flags;
		return;
	}
	*off = pl->uni_off + (size_t)i * pl->uni_len;
	*len = i + 1 < pl->npkts ? pl->uni_len :
	       (uint32_t)(pl->uni_total - (size_t)i * pl->uni_len);
	*ts = i * pl->uni_ts;
	*flags = 0;
}

/* What a content can be sent as, and the plan for it: the contract between
 * the container parsers (core/media_*.c), the SDP negotiation and the
 * dataplane.
 */
struct media_info;

enum media_kind {
	MEDIA_KIND_AUDIO = 0,
	MEDIA_KIND_VIDEO,
};

/* An RTP payload format, as an SDP rtpmap and fmtp say it. */
struct media_fmt {
	int codec;			/* enum media_codec on the wire */
	enum media_kind kind;
	const char *name;		/* rtpmap encoding name: "PCMU", "AMR" */
	uint32_t clock_rate;		/* rtpmap clock */
	uint8_t channels;		/* rtpmap channels, 1 unless said */
	int16_t static_pt;		/* RFC 3551 table 4 and 5, or -1 */
	uint16_t frame_ms;		/* packets hold whole frames of this:
					 * 1 for G.711/L16/G.722, 10 for
					 * G.729, 20 for AMR, 0 for MPA/MPV
					 * (one frame or picture per packet) */
	uint16_t max_frame_ms;		/* frames one packet may hold, in ms */
	uint32_t flags;			/* MEDIA_FMT_* */
	int conversion;			/* 1: the content is converted at
					 * ingest to be sent so */
};

#define MEDIA_FMT_AMR_OCTET	0x1	/* RFC 4867 octet-align=1 */
#define MEDIA_FMT_G729_SID	0x2	/* the plan holds Annex B SID frames:
					 * needs annexb=yes (RFC 4856's
					 * default) */

/* The largest RTP payload a plan puts in a packet: an Ethernet MTU less
 * the IPv4, UDP and RTP headers anncd sends (no options, no CSRC, no
 * extension).  max_frame_ms keeps each format under it.
 */
#define MEDIA_PLAN_MTU		1500
#define MEDIA_PLAN_MAX_PAYLOAD	(MEDIA_PLAN_MTU - 20 - 8 - 12)
/* The packet time without an a=ptime (RFC 3551 section 4.5). */
#define MEDIA_PLAN_DEFAULT_PTIME	20

/* The formats content mi can be sent as, best first: its own codec before
 * any conversion.  Returns how many were written to out (at most max).
 */
unsigned int
media_fmts(const struct media_info *mi, struct media_fmt *out,
	   unsigned int max);

/* Cuts content c (probed as mi) into a plan for fmt with packets of about
 * ptime_ms (rounded to whole frames, never over maxptime_ms when that is
 * not 0, nor over MEDIA_PLAN_MAX_PAYLOAD; 0 means the default).
 * Conversion and payload headers happen here, once.  Returns 0 and *out,
 * or -1 with *why.
 */
int
media_plan_build(struct content *c, const struct media_info *mi,
		 const struct media_fmt *fmt, unsigned int ptime_ms,
		 unsigned int maxptime_ms, struct media_plan **out,
		 const char **why);

/* Drops the plan and its reference on its content.  Every builder
 * allocates a plan and its packet list as one block: content_put() of
 * its content, then one free().
 */
void
media_plan_free(struct media_plan *pl);

#endif
