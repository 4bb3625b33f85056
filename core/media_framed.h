/* Framed formats: AMR and AMR-WB storage files (RFC 4867 section 5), MPEG
 * audio frames and MPEG-1/2 video, elementary or in a program stream.
 * Each parser probes the first bytes of a content, lists the RTP payload
 * formats it can be sent as, and cuts the whole of it, once at ingest,
 * into payloads with their payload headers (RFC 4867 section 4, RFC 2250
 * sections 3.4 and 3.5), written to a flat media_out.  media_framed_plan()
 * turns that into a new content and an explicit media_plan.
 *
 * The parsers take flat buffers and use no DPDK, so that the libFuzzer
 * targets and the unit tests run them alone.
 */
#ifndef ANNCD_CORE_MEDIA_FRAMED_H
#define ANNCD_CORE_MEDIA_FRAMED_H

#include <stddef.h>
#include <stdint.h>

#include "core/media.h"
#include "core/media_plan.h"

struct content;

/* Largest RTP payload, payload headers included: a 1500-byte Ethernet
 * MTU less 20 bytes of IPv4, 8 of UDP and 12 of RTP header.
 */
#define MEDIA_RTP_PAYLOAD_MAX	1460

/* media_info.flags of video/mpeg content. */
#define MEDIA_INFO_MPEG_PS	0x1	/* a program stream: demultiplexed
					 * when the plan is built */
#define MEDIA_INFO_PS_AUDIO	0x2	/* it holds MPEG audio stream 0xC0:
					 * sent as MPA on a second m= line */

/* Payload bytes and the packets cut from them, on the heap; the parsers
 * only append.  buf may move while it grows: packets name offsets.
 */
struct media_out {
	uint8_t *buf;
	size_t len;
	size_t cap;
	struct media_pkt *pkt;
	uint32_t npkts;
	uint32_t pkt_cap;
	uint32_t span_ts;		/* last packet's ts plus its duration */
};

/* Appends n bytes.  0 or -ENOMEM (also past 4 GiB: offsets are 32-bit). */
int
media_out_put(struct media_out *o, const void *p, size_t n);

/* Ends a packet: the bytes from off to the end so far.  0 or -ENOMEM. */
int
media_out_pkt(struct media_out *o, size_t off, uint32_t ts, uint16_t flags);

void
media_out_free(struct media_out *o);

/* Probing, per content type: the magic, the first frame or headers found
 * within the avail bytes at data (of len in all).  0 and *mi, or -1 and
 * *why naming the field and the value.
 */
int
media_amr_probe(enum media_type type, const uint8_t *data, size_t avail,
		size_t len, struct media_info *mi, const char **why);
int
media_mpa_probe(const uint8_t *data, size_t avail, size_t len,
		struct media_info *mi, const char **why);
int
media_mpv_probe(const uint8_t *data, size_t avail, size_t len,
		struct media_info *mi, const char **why);

/* The payload formats each content can be sent as (media_fmts()). */
unsigned int
media_amr_fmts(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max);
unsigned int
media_mpa_fmts(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max);
unsigned int
media_mpv_fmts(const struct media_info *mi, struct media_fmt *out,
	       unsigned int max);

/* Packetizers, over the whole payload [data, data + len) (from
 * mi->data_offset).  0 with the packets in o, or -1 with *why; o is then
 * to be freed all the same.
 */
int
media_amr_packetize(const uint8_t *data, size_t len,
		    const struct media_info *mi, const struct media_fmt *fmt,
		    unsigned int ptime_ms, unsigned int maxptime_ms,
		    struct media_out *o, const char **why);

/* MPEG audio, one frame per packet (fragmented past the payload limit);
 * ts_origin (90 kHz) is added to every timestamp.
 */
int
media_mpa_packetize(const uint8_t *data, size_t len, uint32_t ts_origin,
		    struct media_out *o, const char **why);

/* MPEG video elementary stream; ts_origin (90 kHz) is added to every
 * timestamp.  Timestamps are presentation times: with B pictures they do
 * not grow monotonically (RFC 2250 section 3.3).
 */
int
media_mpv_packetize(const uint8_t *data, size_t len, uint32_t ts_origin,
		    struct media_out *o, const char **why);

/* Program stream demultiplexing (ISO/IEC 13818-1 section 2.5, and
 * MPEG-1 systems): the payload of the PES packets of one stream id,
 * concatenated into a heap buffer, and the stream's first PTS.
 */
struct media_ps_es {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint64_t first_pts;		/* 90 kHz, or UINT64_MAX: none */
	uint64_t origin_pts;		/* earliest first PTS of the video
					 * and audio streams: where both
					 * plans' timestamps count from */
};

#define MEDIA_PS_VIDEO		0xe0	/* the first MPEG video stream */
#define MEDIA_PS_AUDIO		0xc0	/* the first MPEG audio stream */

/* Which stream ids a program stream holds, from its first avail bytes:
 * a bit mask of MEDIA_PS_HAS_*.  -1 and *why when it is no program
 * stream at all.
 */
#define MEDIA_PS_HAS_VIDEO	0x1
#define MEDIA_PS_HAS_AUDIO	0x2
int
media_ps_scan(const uint8_t *data, size_t avail, const char **why);

/* Demultiplexes stream sid (MEDIA_PS_VIDEO or MEDIA_PS_AUDIO) into es.
 * 0, or -1 with *why; es->buf is to be freed all the same.
 */
int
media_ps_demux(const uint8_t *data, size_t len, uint8_t sid,
	       struct media_ps_es *es, const char **why);

/* Where media_probe_prefix(), media_fmts() and media_plan_build() hand
 * the framed formats over (one line each in their tables).
 * media_framed_build() takes ptime_ms already in whole frames
 * (media_plan_build() rounds and caps it); media_framed_plan() rounds it
 * down to frames itself and caps it by maxptime_ms.  The plan holds a
 * new content of its own; media_plan_free() releases both.
 */
int
media_framed_probe(const struct media_ctype *mt, const uint8_t *data,
		   size_t avail, size_t len, struct media_info *mi,
		   const char **why);
unsigned int
media_framed_fmts(const struct media_info *mi, struct media_fmt *out,
		  unsigned int max);
int
media_framed_build(struct content *c, const struct media_info *mi,
		   const struct media_fmt *fmt, unsigned int ptime_ms,
		   struct media_plan **out, const char **why);
int
media_framed_plan(struct content *c, const struct media_info *mi,
		  const struct media_fmt *fmt, unsigned int ptime_ms,
		  unsigned int maxptime_ms, struct media_plan **out,
		  const char **why);

#endif
