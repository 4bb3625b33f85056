/* RTCP for the worker (RFC 3550 section 6): each stream's sender reports,
 * compound with an SDES CNAME, at the section 6.3 interval, and the BYE
 * that ends it; on the receive side, RTCP from callers is recognised,
 * counted and dropped.  A report is built by copy into one header mbuf,
 * with its checksums in software: one packet per stream every few seconds.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_random.h>

#include "core/clock.h"
#include "dataplane/dp_priv.h"

#define DP_RTCP_VERSION		2
#define DP_RTCP_PT_SR		200
#define DP_RTCP_PT_RR		201
#define DP_RTCP_PT_SDES		202
#define DP_RTCP_PT_BYE		203
#define DP_RTCP_CNAME		1	/* SDES item type, section 6.5.1 */
#define DP_RTCP_HDR_LEN		8	/* common header and SSRC */
#define DP_RTCP_BYE_REASON	"announcement over"
#define DP_RTCP_UDP_IP_LEN	(sizeof(struct rte_ipv4_hdr) + \
				 sizeof(struct rte_udp_hdr))
#define DP_RTCP_L2_LEN		(sizeof(struct rte_ether_hdr) + \
				 DP_RTCP_UDP_IP_LEN)

/* Section 6.2: RTCP takes 5 % of the session bandwidth; reports are at
 * least 5 s apart, 2.5 s before the first.  Section 6.3.1: the interval is
 * drawn from [0.5, 1.5] times that and divided by e - 3/2.
 */
#define DP_RTCP_BW_SHARE	20	/* 1 / 5 % */
#define DP_RTCP_TMIN_NS		5000000000.0
#define DP_RTCP_COMPENSATION	1.21828	/* e - 3/2, section 6.3.1 */

/* Section 6.4.1, without report blocks: nothing is received to report on. */
struct dp_rtcp_sr {
	uint8_t vprc;			/* V=2, P=0, RC=0 */
	uint8_t pt;
	rte_be16_t length;		/* in 32-bit words, minus one */
	rte_be32_t ssrc;
	rte_be32_t ntp_sec;
	rte_be32_t ntp_frac;
	rte_be32_t rtp_ts;
	rte_be32_t packets;
	rte_be32_t octets;
} __rte_packed;

static_assert(sizeof(struct dp_rtcp_sr) == DP_RTCP_SR_LEN, "SR length");

/* Sections 6.5 and 6.6 share this: V=2, a count of 1, a length in words
 * minus one, the SSRC, then len - 8 bytes of what the caller wrote there;
 * padded with zeros to the next 32-bit boundary.  Returns the length.
 */
static uint16_t
dp_rtcp_one_chunk(uint8_t *p, uint8_t pt, size_t len)
{
	size_t padded = RTE_ALIGN_CEIL(len, 4);

	memset(p + len, 0, padded - len);
	p[0] = DP_RTCP_VERSION << 6 | 1;
	p[1] = pt;
	*(rte_be16_t *)(p + 2) = rte_cpu_to_be_16((uint16_t)(padded / 4 - 1));
	return (uint16_t)padded;
}

/* Section 6.5.1: one CNAME per host, "user@host" with the media address
 * (anncd's streams from one host are one participant's); section 6.5: the
 * item list ends with at least one null octet.  Section 6.6: the BYE's
 * reason is a length and text.  Only the SSRCs are left for each packet.
 */
void
dp_rtcp_setup(struct dp_worker *w)
{
	const uint8_t *ip = (const uint8_t *)&w->cfg.media_ip;
	uint8_t *p = w->rtcp_sdes;
	size_t len;
	int n;

	memset(p, 0, sizeof(w->rtcp_sdes));
	n = snprintf((char *)p + DP_RTCP_HDR_LEN + 2,
		     sizeof(w->rtcp_sdes) - DP_RTCP_HDR_LEN - 2,
		     "anncd@%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
	p[DP_RTCP_HDR_LEN] = DP_RTCP_CNAME;
	p[DP_RTCP_HDR_LEN + 1] = (uint8_t)n;
	/* The CNAME item, then its END: one null octet at least. */
	len = DP_RTCP_HDR_LEN + 2 + (size_t)n + 1;
	w->rtcp_sdes_len = dp_rtcp_one_chunk(p, DP_RTCP_PT_SDES, len);

	p = w->rtcp_bye;
	n = (int)strlen(DP_RTCP_BYE_REASON);
	p[DP_RTCP_HDR_LEN] = (uint8_t)n;
	memcpy(p + DP_RTCP_HDR_LEN + 1, DP_RTCP_BYE_REASON, (size_t)n);
	w->rtcp_bye_len = dp_rtcp_one_chunk(p, DP_RTCP_PT_BYE,
					    DP_RTCP_HDR_LEN + 1 + (size_t)n);
}

/* Sections 6.2 and 6.3.1, and appendix A.7, for the one participant that
 * a stream's session has as far as anncd knows (it reads no RTCP): members
 * = senders = 1, so the senders' 25 % share does not apply (senders is
 * over a quarter of members) and n = 1.  The session bandwidth is the
 * stream's own, IP and UDP headers included, as is avg_rtcp_size, which is
 * our SR + SDES, the same every time.  G.711 at 20 ms is 80 kbit/s, so
 * RTCP gets 500 B/s and C, under 90 B of it, is under 0.2 s: Tmin rules.
 * Timer reconsideration (6.3.3) changes nothing with the membership fixed
 * and is left out.  Returns TSC ticks.
 */
uint64_t
dp_rtcp_interval(const struct dp_worker *w, const struct dp_stream *s,
		 int initial)
{
	const struct media_plan *pl = s->p.plan;
	size_t off;
	uint32_t len, ts, flags;
	double period_ns, ip_bytes, avg, c, tmin, u, t;

	/* The first packet stands for all: Tmin rules by far anyway. */
	media_plan_packet(pl, 0, &off, &len, &ts, &flags);
	period_ns = (double)pl->span_ts * 1e9 / pl->clock_rate / pl->npkts;
	ip_bytes = (double)(DP_RTCP_UDP_IP_LEN + sizeof(struct dp_rtp_hdr) +
			    len);
	avg = (double)(DP_RTCP_UDP_IP_LEN + DP_RTCP_SR_LEN + w->rtcp_sdes_len);
	c = avg * DP_RTCP_BW_SHARE * period_ns / ip_bytes;
	tmin = initial ? DP_RTCP_TMIN_NS / 2 : DP_RTCP_TMIN_NS;
	u = (double)(rte_rand() >> 11) * 0x1p-53;
	t = RTE_MAX(tmin, c) * (0.5 + u) / DP_RTCP_COMPENSATION;
	return clock_ns_to_tsc((uint64_t)t);
}

/* Section 6.4.1: the NTP and RTP timestamps of one instant, now.  The RTP
 * one is the stream's media clock then, ts0 plus the time since the start
 * in RTP ticks (a packet is due when its timestamp comes round on that
 * clock), not the last packet's; the counts are of what
 * was sent so far, payload octets only, both modulo 2^32.
 */
static void
dp_rtcp_sr_fill(struct dp_rtcp_sr *sr, const struct dp_stream *s,
		uint64_t now)
{
	uint64_t ntp = clock_tsc_to_ntp(now);
	uint64_t ticks = dp_tsc_off(s, now);

	sr->vprc = DP_RTCP_VERSION << 6;
	sr->pt = DP_RTCP_PT_SR;
	sr->length = rte_cpu_to_be_16(DP_RTCP_SR_LEN / 4 - 1);
	sr->ssrc = rte_cpu_to_be_32(s->p.ssrc);
	sr->ntp_sec = rte_cpu_to_be_32((uint32_t)(ntp >> 32));
	sr->ntp_frac = rte_cpu_to_be_32((uint32_t)ntp);
	sr->rtp_ts = rte_cpu_to_be_32(s->p.ts0 + (uint32_t)ticks);
	sr->packets = rte_cpu_to_be_32(s->n);
	sr->octets = rte_cpu_to_be_32((uint32_t)s->ev.bytes);
}

/* The stream's own Ethernet and IPv4 headers, from RTP port + 1 to the
 * caller's RTCP port (RFC 3605, else RTP port + 1: RFC 3550 section 11).
 */
static void
dp_rtcp_headers(struct dp_rtp_frame *f, const struct dp_stream *s,
		uint16_t len)
{
	uint16_t dst = s->p.dst_rtcp_port ? s->p.dst_rtcp_port :
					    (uint16_t)(s->p.dst_port + 1);
	uint16_t udp_len = (uint16_t)(sizeof(f->udp) + len);

	memcpy(f, &s->tmpl, DP_RTCP_L2_LEN);
	f->ip.total_length = rte_cpu_to_be_16(sizeof(f->ip) + udp_len);
	f->udp.src_port = rte_cpu_to_be_16((uint16_t)(s->p.src_port + 1));
	f->udp.dst_port = rte_cpu_to_be_16(dst);
	f->udp.dgram_len = rte_cpu_to_be_16(udp_len);
	f->udp.dgram_cksum = 0;
}

/* Section 6.1: a compound packet, SR then SDES with the CNAME, and BYE
 * last when the stream is over (section 6.6).  The caller has checked the
 * TX buffer's room.  Returns 0, or -ENOMEM with nothing allocated.
 */
int
dp_rtcp_send(struct dp_worker *w, struct dp_stream *s, uint64_t now, int bye)
{
	uint16_t len = (uint16_t)(DP_RTCP_SR_LEN + w->rtcp_sdes_len +
				  (bye ? w->rtcp_bye_len : 0));
	rte_be32_t ssrc = rte_cpu_to_be_32(s->p.ssrc);
	struct dp_rtp_frame *f;
	struct rte_mbuf *m;
	uint8_t *p;

	m = rte_pktmbuf_alloc(w->hdr_pool);
	if (m == NULL)
		return -ENOMEM;
	f = (struct dp_rtp_frame *)rte_pktmbuf_append(m, (uint16_t)
						      (DP_RTCP_L2_LEN + len));
	dp_rtcp_headers(f, s, len);

	p = (uint8_t *)&f->rtp;
	dp_rtcp_sr_fill((struct dp_rtcp_sr *)p, s, now);
	p += DP_RTCP_SR_LEN;
	memcpy(p, w->rtcp_sdes, w->rtcp_sdes_len);
	memcpy(p + 4, &ssrc, sizeof(ssrc));
	p += w->rtcp_sdes_len;
	if (bye) {
		memcpy(p, w->rtcp_bye, w->rtcp_bye_len);
		memcpy(p + 4, &ssrc, sizeof(ssrc));
	}

	f->ip.hdr_checksum = 0;
	f->ip.hdr_checksum = rte_ipv4_cksum(&f->ip);
	f->udp.dgram_cksum = rte_ipv4_udptcp_cksum(&f->ip, &f->udp);
	dp_tx_push(w, m);
	if (bye)
		DP_STAT_ADD(w, tx_rtcp_bye, 1);
	else
		DP_STAT_ADD(w, tx_rtcp_sr, 1);
	return 0;
}

/* An odd port above one of our RTP ports: RTCP's, by section 11. */
static int
dp_rtcp_port(const struct dp_worker *w, uint16_t port)
{
	if (!(port & 1))
		return 0;
	if (w->cfg.rtp_port_max == 0)
		return 1;
	return port > w->cfg.rtp_port_min && port - 1 <= w->cfg.rtp_port_max;
}

/* Appendix A.2's first checks, nothing more: version 2, no padding on the
 * first packet, which is an SR or RR whose length fits the datagram.
 */
static int
dp_rtcp_valid(const uint8_t *p, size_t len)
{
	size_t first;

	if (len < DP_RTCP_HDR_LEN || p[0] >> 6 != DP_RTCP_VERSION ||
	    (p[0] & 0x20) != 0 ||
	    (p[1] != DP_RTCP_PT_SR && p[1] != DP_RTCP_PT_RR))
		return 0;
	first = ((size_t)(p[2] << 8 | p[3]) + 1) * 4;
	return first <= len;
}

/* An IPv4 frame received; the caller frees it.  RTCP to the media address
 * is counted and dropped: anncd sends and reports, it keeps no statistics
 * of its callers.  Everything else is dropped with its own count.
 */
void
dp_rtcp_input(struct dp_worker *w, const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	const struct rte_udp_hdr *udp;
	size_t ihl, udp_len, avail = m->data_len - sizeof(struct rte_ether_hdr);

	if (m->data_len < DP_RTCP_L2_LEN || ip->version_ihl >> 4 != 4 ||
	    ip->dst_addr != w->cfg.media_ip ||
	    ip->next_proto_id != IPPROTO_UDP ||
	    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
						     RTE_IPV4_HDR_OFFSET_MASK)))
		goto drop;
	ihl = (size_t)(ip->version_ihl & 0xf) * 4;
	if (ihl < sizeof(*ip) || ihl + sizeof(*udp) > avail)
		goto drop;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	if (!dp_rtcp_port(w, rte_be_to_cpu_16(udp->dst_port)))
		goto drop;

	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (udp_len < sizeof(*udp) || ihl + udp_len > avail ||
	    !dp_rtcp_valid((const uint8_t *)(udp + 1),
			   udp_len - sizeof(*udp))) {
		DP_STAT_ADD(w, rx_rtcp_bad, 1);
		return;
	}
	DP_STAT_ADD(w, rx_rtcp, 1);
	return;

drop:
	DP_STAT_ADD(w, rx_dropped, 1);
}
