/* Dataplane test on DPDK virtual devices, without a NIC or hugepages.  The
 * worker's RTP and RTCP are read back from a pcap file (net_pcap) and
 * straight off a ring (net_ring), where the test also plays the caller's
 * side of ARP and sends RTCP.
 * Every packet is checked field by field with checksums recomputed here;
 * nothing asserts on timing.  A content of several chunks, with a packet
 * size that does not divide a chunk and an odd header, makes payloads
 * straddle chunk boundaries: copied in two parts on net_pcap, two extbuf
 * segments on net_ring.  Exit 77 only when the EAL cannot start.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "core/clock.h"
#include "core/content.h"
#include "core/log.h"
#include "dataplane/dp.h"
#include "tests/unit/check.h"
#include "tests/unit/dp_rig.h"
#include "tests/unit/bytes.h"

#define IP4(a, b, c, d)	rte_cpu_to_be_32((uint32_t)(a) << 24 | (b) << 16 | \
				 (c) << 8 | (d))
#define MEDIA_IP	IP4(198, 18, 0, 1)
#define CALLER_IP	IP4(198, 18, 0, 2)
#define PROBER_IP	IP4(198, 18, 0, 3)
#define SILENT_IP	IP4(198, 18, 0, 9)	/* nobody answers for it */
#define HDR_LEN		54			/* Ethernet+IPv4+UDP+RTP */
#define CONTENT_LEN	1000
#define CONTENT_OFF	24			/* payload after a file header */
#define PTIME		160			/* bytes and ticks per packet */
#define WAIT_MS		10000
#define MAX_FRAMES	64
/* The multi-chunk stream: 825 packets of 30 ms, the last one short. */
#define CHUNKED_OFF	25
#define CHUNKED_LEN	(3 * CONTENT_CHUNK_SIZE + 1234)
#define CHUNKED_PTIME	240
#define CHUNKED_PKTS	((unsigned int)((CHUNKED_LEN + CHUNKED_PTIME - 1) / \
				       CHUNKED_PTIME))
#define CHUNKED_NS	20000
#define MAX_PCAP	(MAX_FRAMES + 1000 + CHUNKED_PKTS)
#define RTP_PORT_MIN	40000			/* the worker's RTP range */
#define RTP_PORT_MAX	40998
/* RFC 3550 sections 6.4.1, 6.5.1 and 6.6: what the worker's RTCP holds. */
#define CNAME		"anncd@198.18.0.1"
#define BYE_REASON	"announcement over"
#define SR_LEN		28
#define SDES_LEN	((8 + 2 + sizeof(CNAME) - 1 + 1 + 3) & ~3u)
#define BYE_LEN		((8 + 1 + sizeof(BYE_REASON) - 1 + 3) & ~3u)
#define NTP_UNIX	2208988800u		/* 1900 to 1970 in seconds */

static const struct rte_ether_addr caller_mac = {
	.addr_bytes = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02 } };
static const struct rte_ether_addr prober_mac = {
	.addr_bytes = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x03 } };

static struct dp_event events[64];
static unsigned int nevents;

/* What the RTP frames of one stream must carry. */
struct expect {
	struct rte_ether_addr src_mac;
	struct rte_ether_addr dst_mac;
	struct dp_stream_params p;
	struct media_plan plan;		/* p.plan points here */
};

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* A file header of off bytes, then payload_len bytes of pattern(). */
static struct content *
make_content_at(size_t off, size_t payload_len)
{
	return dp_rig_content(off, payload_len, pattern);
}

static struct content *
make_content(size_t payload_len)
{
	return make_content_at(CONTENT_OFF, payload_len);
}

/* Payload bytes starting at payload offset off, checked against the
 * pattern itself rather than read back through the content.
 */
static int
payload_ok(const uint8_t *p, size_t n, size_t off)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != pattern(off + i))
			return 0;
	return 1;
}

/* A uniform plan of PTIME-byte packets of PTIME ticks, one every
 * period_ns: the clock rate follows.
 */
static void
stream_params(struct expect *e, uint32_t handle, uint32_t dst_ip,
	      struct content *c, uint64_t period_ns)
{
	struct dp_stream_params *p = &e->p;
	struct media_plan *pl = &e->plan;

	memset(p, 0, sizeof(*p));
	p->handle = handle;
	p->dst_ip = dst_ip;
	p->dst_port = (uint16_t)(50000 + handle * 2);
	p->src_port = (uint16_t)(40000 + handle * 2);
	p->pt = (uint8_t)(handle == 2 ? 8 : 0);
	p->ssrc = 0x11223300u + handle;
	p->seq0 = 65533;		/* wraps after three packets */
	p->ts0 = 0xffffff00u;		/* wraps after two */
	p->plan = pl;
	p->repeat = 1;
	memset(pl, 0, sizeof(*pl));
	pl->content = c;
	pl->uni_off = c != NULL ? c->mi.data_offset : 0;
	pl->uni_total = c != NULL ? c->mi.data_len : 0;
	pl->uni_len = PTIME;
	pl->uni_ts = PTIME;
	pl->npkts = (uint32_t)((pl->uni_total + PTIME - 1) / PTIME);
	pl->span_ts = pl->npkts * PTIME;
	pl->clock_rate = (uint32_t)(PTIME * 1000000000ull / period_ns);
}

/* 240-byte packets of 2 ticks at 100 kHz: one every 20 us. */
static void
chunked_params(struct expect *e, uint32_t handle, struct content *c)
{
	stream_params(e, handle, CALLER_IP, c, CHUNKED_NS);
	e->plan.uni_len = CHUNKED_PTIME;
	e->plan.uni_ts = 2;
	e->plan.npkts = CHUNKED_PKTS;
	e->plan.span_ts = 2 * CHUNKED_PKTS;
	e->plan.clock_rate = 100000;
}

/* Packets whose payload crosses from one chunk into the next, among the
 * first npkts of a content of len bytes after a header of off.
 */
static uint32_t
splits(size_t hdr, size_t total, size_t ptime, uint32_t npkts)
{
	size_t rel, off, len;
	uint32_t n = 0, k = 0;

	for (rel = 0; rel < total && k < npkts; rel += ptime, k++) {
		off = hdr + rel;
		len = RTE_MIN(ptime, total - rel);
		n += off >> CONTENT_CHUNK_SHIFT !=
		     (off + len - 1) >> CONTENT_CHUNK_SHIFT;
	}
	return n;
}

static uint32_t
chunked_splits(void)
{
	return splits(CHUNKED_OFF, CHUNKED_LEN, CHUNKED_PTIME, UINT32_MAX);
}

/* Ones'-complement sum, written out here so that the test does not trust
 * the helpers the code under test uses.
 */
static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static int
udp_cksum_ok(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
	uint32_t s;

	if (udp[6] == 0 && udp[7] == 0)
		return 0;		/* "no checksum" is not acceptable here */
	s = sum16(ip + 12, 8, 0);
	s += 17 + (uint32_t)udp_len;
	s = sum16(udp, udp_len, s);
	return fold(s) == 0xffff;
}

/* RTCP goes to odd ports, RTP to even ones (RFC 3550 section 11). */
static int
frame_is_rtcp(const uint8_t *f, size_t len)
{
	return len >= 42 && be16(f + 12) == RTE_ETHER_TYPE_IPV4 &&
	       f[23] == 17 && (be16(f + 36) & 1);
}

static uint32_t
frame_ssrc(const uint8_t *f, size_t len)
{
	if (len < HDR_LEN || be16(f + 12) != RTE_ETHER_TYPE_IPV4 ||
	    f[23] != 17 || frame_is_rtcp(f, len))
		return 0;
	return be32(f + 50);
}

/* Checks frame i of a stream; returns its payload length or -1. */
static int
check_rtp(const uint8_t *f, size_t len, const struct expect *e, uint32_t i)
{
	const uint8_t *ip = f + 14, *udp = f + 34, *rtp = f + 42;
	const struct dp_stream_params *p = &e->p;
	size_t plen = len - HDR_LEN;

	if (len < HDR_LEN)
		return -1;
	CHECK(memcmp(f, &e->dst_mac, 6) == 0);
	CHECK(memcmp(f + 6, &e->src_mac, 6) == 0);
	CHECK_INT(be16(f + 12), RTE_ETHER_TYPE_IPV4);
	CHECK_INT(ip[0], 0x45);
	CHECK_INT(be16(ip + 2), len - 14);
	CHECK_INT(be16(ip + 6) & 0x4000, 0x4000);		/* DF */
	CHECK_INT(ip[9], 17);
	CHECK(memcmp(ip + 12, &(uint32_t){ MEDIA_IP }, 4) == 0);
	CHECK(memcmp(ip + 16, &p->dst_ip, 4) == 0);
	CHECK_INT(fold(sum16(ip, 20, 0)), 0xffff);
	CHECK_INT(be16(udp), p->src_port);
	CHECK_INT(be16(udp + 2), p->dst_port);
	CHECK_INT(be16(udp + 4), len - 34);
	CHECK(udp_cksum_ok(ip, udp, len - 34));
	CHECK_INT(rtp[0], 0x80);				/* V=2 */
	CHECK_INT(rtp[1], (i == 0 ? 0x80 : 0) | p->pt);	/* marker */
	CHECK_INT(be16(rtp + 2), (uint16_t)(p->seq0 + i));
	CHECK_INT(be32(rtp + 4), (uint32_t)(p->ts0 + i * p->plan->uni_ts));
	CHECK_INT(be32(rtp + 8), p->ssrc);
	return (int)plen;
}

/* Checks a whole stream's frames, in order, and that their payloads put
 * together are the content from its start.  Returns the payload bytes.
 */
static size_t
check_stream(const uint8_t *const *frames, const size_t *lens, unsigned int n,
	     const struct expect *e)
{
	const struct content *c = e->p.plan->content;
	size_t off = 0;
	unsigned int i;
	int plen;

	for (i = 0; i < n; i++) {
		plen = check_rtp(frames[i], lens[i], e, i);
		CHECK(plen > 0);
		if (plen <= 0 || off + (size_t)plen > c->mi.data_len)
			return off;
		CHECK(payload_ok(frames[i] + HDR_LEN, (size_t)plen, off));
		off += (size_t)plen;
	}
	return off;
}

/* What one sender report said. */
struct sr {
	uint64_t ntp;
	uint32_t rtp_ts;
	uint32_t packets;
	uint32_t octets;
};

/* The RTCP frame's Ethernet, IPv4 and UDP: from the RTP source port + 1
 * to the caller's RTCP port, checksums recomputed here.
 */
static void
check_rtcp_udp(const uint8_t *f, size_t len, const struct expect *e)
{
	const uint8_t *ip = f + 14, *udp = f + 34;
	const struct dp_stream_params *p = &e->p;

	CHECK(memcmp(f, &e->dst_mac, 6) == 0);
	CHECK(memcmp(f + 6, &e->src_mac, 6) == 0);
	CHECK_INT(ip[0], 0x45);
	CHECK_INT(be16(ip + 2), len - 14);
	CHECK_INT(fold(sum16(ip, 20, 0)), 0xffff);
	CHECK(memcmp(ip + 12, &(uint32_t){ MEDIA_IP }, 4) == 0);
	CHECK(memcmp(ip + 16, &p->dst_ip, 4) == 0);
	CHECK_INT(be16(udp), p->src_port + 1);
	CHECK_INT(be16(udp + 2), p->dst_rtcp_port ? p->dst_rtcp_port :
						   p->dst_port + 1);
	CHECK_INT(be16(udp + 4), len - 34);
	CHECK(udp_cksum_ok(ip, udp, len - 34));
}

/* A compound packet: SR, SDES with the CNAME and, when it is long enough
 * to hold one, a BYE with the reason.  Returns 1 for a BYE, 0 for an SR
 * alone, -1 for neither.
 */
static int
check_rtcp(const uint8_t *f, size_t len, const struct expect *e,
	   struct sr *sr)
{
	const uint8_t *r = f + 42, *sd = r + SR_LEN, *b = sd + SDES_LEN;
	size_t rlen = len - 42;
	uint32_t ssrc = e->p.ssrc;
	int bye = rlen == SR_LEN + SDES_LEN + BYE_LEN;

	memset(sr, 0, sizeof(*sr));
	CHECK(len > 42 && (bye || rlen == SR_LEN + SDES_LEN));
	if (len <= 42 || (!bye && rlen != SR_LEN + SDES_LEN))
		return -1;
	check_rtcp_udp(f, len, e);
	CHECK_INT(r[0], 0x80);				/* V=2, RC=0 */
	CHECK_INT(r[1], 200);
	CHECK_INT(be16(r + 2), SR_LEN / 4 - 1);
	CHECK_INT(be32(r + 4), ssrc);
	sr->ntp = (uint64_t)be32(r + 8) << 32 | be32(r + 12);
	sr->rtp_ts = be32(r + 16);
	sr->packets = be32(r + 20);
	sr->octets = be32(r + 24);

	CHECK_INT(sd[0], 0x81);				/* one chunk */
	CHECK_INT(sd[1], 202);
	CHECK_INT(be16(sd + 2), SDES_LEN / 4 - 1);
	CHECK_INT(be32(sd + 4), ssrc);
	CHECK_INT(sd[8], 1);				/* CNAME */
	CHECK_INT(sd[9], sizeof(CNAME) - 1);
	CHECK(memcmp(sd + 10, CNAME, sizeof(CNAME) - 1) == 0);
	CHECK_INT(sd[10 + sizeof(CNAME) - 1], 0);	/* END */
	if (!bye)
		return 0;
	CHECK_INT(b[0], 0x81);				/* one SSRC */
	CHECK_INT(b[1], 203);
	CHECK_INT(be16(b + 2), BYE_LEN / 4 - 1);
	CHECK_INT(be32(b + 4), ssrc);
	CHECK_INT(b[8], sizeof(BYE_REASON) - 1);
	CHECK(memcmp(b + 9, BYE_REASON, sizeof(BYE_REASON) - 1) == 0);
	return 1;
}

/* The SR's RTP timestamp is the media clock at its NTP instant: at or
 * after the last packet's (within a tick of rounding) and, for a report
 * on its own, before the next one's; the worker sends none while behind.
 * The NTP time is the wall clock's, in era 0.
 */
static void
check_sr_clock(const struct sr *sr, const struct dp_stream_params *p,
	       uint32_t sent, int alone)
{
	uint32_t media = sr->rtp_ts - p->ts0;
	uint64_t sec = sr->ntp >> 32;
	time_t now = time(NULL);

	CHECK(sent > 0);
	CHECK(media + 1 >= (sent - 1) * p->plan->uni_ts);
	if (alone)
		CHECK(media <= sent * p->plan->uni_ts + 1);
	CHECK(sec >= (uint64_t)now + NTP_UNIX - 600 &&
	      sec <= (uint64_t)now + NTP_UNIX + 1);
}

/* Two SRs of a stream: the RTP timestamps move as far as the NTP ones,
 * at the stream's media clock rate, within rounding.
 */
static void
check_sr_pair(const struct sr *a, const struct sr *b,
	      const struct dp_stream_params *p)
{
	uint64_t dns = (uint64_t)(((unsigned __int128)(b->ntp - a->ntp) *
				   1000000000u) >> 32);
	uint64_t want = (uint64_t)((unsigned __int128)dns *
				   p->plan->clock_rate / 1000000000u);
	uint32_t got = b->rtp_ts - a->rtp_ts;

	CHECK(b->ntp > a->ntp);
	CHECK(got + 2 >= want && got <= want + 2);
}

/* The RTCP of one stream among the frames of the file, in order: each SR
 * counts the RTP before it, and the BYE comes once, after the last RTP.
 * Returns the stream's RTCP frames; *nsr counts the SRs on their own.
 */
static unsigned int
check_stream_rtcp(const uint8_t *const *all, const size_t *lens, int n,
		  const struct expect *e, unsigned int *nsr)
{
	const struct dp_stream_params *p = &e->p;
	unsigned int rtp = 0, nrtcp = 0, nbye = 0;
	struct sr sr, prev = { 0 };
	uint32_t octets = 0;
	int i, bye;

	*nsr = 0;
	for (i = 0; i < n; i++) {
		if (frame_ssrc(all[i], lens[i]) == p->ssrc) {
			CHECK_INT(nbye, 0);	/* no RTP after the BYE */
			rtp++;
			octets += (uint32_t)(lens[i] - HDR_LEN);
			continue;
		}
		if (!frame_is_rtcp(all[i], lens[i]) ||
		    be16(all[i] + 34) != p->src_port + 1)
			continue;
		bye = check_rtcp(all[i], lens[i], e, &sr);
		nrtcp++;
		nbye += bye == 1;
		*nsr += bye == 0;
		CHECK_INT(sr.packets, rtp);
		CHECK_INT(sr.octets, octets);
		check_sr_clock(&sr, p, rtp, bye == 0);
		if (prev.ntp != 0)
			check_sr_pair(&prev, &sr, p);
		prev = sr;
	}
	CHECK_INT(nbye, 1);
	return nrtcp;
}

/* Polls events into events[] until one for handle arrives.  Bounded. */
static const struct dp_event *
wait_event(uint32_t handle)
{
	unsigned int i, ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		for (i = 0; i < nevents; i++)
			if (events[i].handle == handle)
				return &events[i];
		nevents += dp_poll_events(events + nevents,
					  RTE_DIM(events) - nevents);
		rte_delay_us_sleep(1000);
	}
	return NULL;
}

/* Waits until the worker has sent n SRs on their own.  Bounded. */
static int
wait_stat_sr(uint64_t n)
{
	struct dp_stats st;
	unsigned int ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		dp_get_stats(&st);
		if (st.tx_rtcp_sr >= n)
			return 1;
		rte_delay_us_sleep(1000);
	}
	return 0;
}

static int
write_empty_pcap(const char *path)
{
	/* Classic pcap header: magic, v2.4, zone, sigfigs, snaplen, DLT 1. */
	const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(hdr, sizeof(hdr), 1, f) == 1 ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Splits a pcap file (either timestamp precision, host byte order as the
 * PMD writes it) into frames.  Returns the count or -1.
 */
static int
pcap_frames(const uint8_t *buf, size_t len, const uint8_t **frames,
	    size_t *lens, unsigned int max)
{
	uint32_t magic, incl;
	size_t off = 24;
	unsigned int n = 0;

	if (len < 24)
		return -1;
	memcpy(&magic, buf, 4);
	if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d)
		return -1;
	while (off + 16 <= len && n < max) {
		memcpy(&incl, buf + off + 8, 4);
		if (off + 16 + incl > len)
			return -1;
		frames[n] = buf + off + 16;
		lens[n++] = incl;
		off += 16 + incl;
	}
	return off == len ? (int)n : -1;
}

/* Picks out the frames of one SSRC, in file order. */
static unsigned int
select_ssrc(const uint8_t **all, const size_t *all_lens, int n, uint32_t ssrc,
	    const uint8_t **frames, size_t *lens)
{
	unsigned int k = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (frame_ssrc(all[i], all_lens[i]) != ssrc)
			continue;
		frames[k] = all[i];
		lens[k++] = all_lens[i];
	}
	return k;
}

static void
check_pcap(const char *path, const struct expect *ea, const struct expect *eb,
	   uint32_t b_packets, const struct expect *ec)
{
	static const uint8_t *all[MAX_PCAP], *frames[MAX_PCAP];
	static size_t all_lens[MAX_PCAP], lens[MAX_PCAP];
	size_t len = 0;
	uint8_t *buf = read_file(path, &len);
	unsigned int k, rtcp, nsr;
	int n;

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	n = pcap_frames(buf, len, all, all_lens, RTE_DIM(all));
	CHECK(n > 0);
	printf("pcap: %d frames, stopped stream sent %u\n", n, b_packets);

	k = select_ssrc(all, all_lens, n, ea->p.ssrc, frames, lens);
	CHECK_INT(k, 7);
	CHECK_INT(check_stream(frames, lens, k, ea), CONTENT_LEN);
	if (k > 0)
		CHECK_INT(lens[k - 1], HDR_LEN + CONTENT_LEN % PTIME);

	k = select_ssrc(all, all_lens, n, eb->p.ssrc, frames, lens);
	CHECK_INT(k, b_packets);
	CHECK_INT(check_stream(frames, lens, k, eb), b_packets * PTIME);

	k = select_ssrc(all, all_lens, n, ec->p.ssrc, frames, lens);
	CHECK_INT(k, CHUNKED_PKTS);
	CHECK_INT(check_stream(frames, lens, k, ec), CHUNKED_LEN);

	/* The short streams end before any report is due: their BYE's SR is
	 * their one; the long one waited for its first report.
	 */
	rtcp = check_stream_rtcp(all, all_lens, n, ea, &nsr);
	CHECK_INT(rtcp, 1);
	k = check_stream_rtcp(all, all_lens, n, ec, &nsr);
	CHECK_INT(k, 1);
	rtcp += k;
	k = check_stream_rtcp(all, all_lens, n, eb, &nsr);
	CHECK(k >= 2 && nsr >= 1);
	rtcp += k;
	printf("pcap: %u RTCP packets, %u SRs on their own\n", rtcp, nsr);
	CHECK_INT((unsigned int)n, 7 + b_packets + CHUNKED_PKTS + rtcp);
	free(buf);
}

static void
base_config(struct dp_config *cfg, uint16_t port)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port_id = port;
	cfg->lcore_id = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	cfg->media_ip = MEDIA_IP;
	cfg->max_streams = 8;
	cfg->nb_mbufs = 1023;
	cfg->arp_timeout_ms = 600;
	cfg->rtp_port_min = RTP_PORT_MIN;
	cfg->rtp_port_max = RTP_PORT_MAX;
}

/* Each field the dataplane refuses, at its edge. */
static void
check_invalid_params(struct content *c)
{
	/* 1460 bytes fill a 1500-byte MTU behind IPv4, UDP and RTP. */
	const struct media_pkt big = { .off = CONTENT_OFF, .len = 1461 };
	struct expect e;

	stream_params(&e, 90, CALLER_IP, c, 1000000);
	e.plan.uni_len = 0;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	e.plan.pkt = &big;
	e.plan.npkts = 1;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	stream_params(&e, 90, CALLER_IP, c, 1000000);
	e.plan.npkts++;		/* one packet beyond the content */
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	stream_params(&e, 90, CALLER_IP, c, 1000000);
	e.plan.uni_total = c->len - e.plan.uni_off + 1;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	stream_params(&e, 90, CALLER_IP, c, 1000000);
	e.p.repeat = 0;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	e.p.repeat = 1;
	e.p.delay_ms = DP_TIME_MS_MAX + 1;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	/* 160 kHz: one tick past 2^32 - 1 of silence. */
	e.p.delay_ms = (uint32_t)(((1ull << 32) * 1000 + 159999) / 160000);
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	e.p.delay_ms = 0;
	e.p.duration_ms = DP_TIME_MS_MAX + 1;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	e.p.duration_ms = 0;
	e.plan.clock_rate = DP_CLOCK_RATE_MIN - 1;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	e.plan.clock_rate = DP_CLOCK_RATE_MAX + 1;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	e.plan.clock_rate = 8000;
	e.plan.span_ts = 0;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	e.plan.content = NULL;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
	e.p.plan = NULL;
	CHECK_INT(dp_stream_start(&e.p), -EINVAL);
}

/* The counters of the net_pcap run: three streams, three RTCP BYEs. */
static void
check_pcap_stats(uint32_t b_packets, unsigned int nchunks)
{
	struct dp_stats st;

	dp_get_stats(&st);
	CHECK_INT(st.tx_rtcp_bye, 3);
	CHECK(st.tx_rtcp_sr >= 1);
	CHECK_INT(st.tx_packets, 7 + b_packets + CHUNKED_PKTS +
		  st.tx_rtcp_sr + st.tx_rtcp_bye);
	CHECK_INT(st.tx_copied, 7 + b_packets + CHUNKED_PKTS);
	/* The long stream runs into its second chunk before its report. */
	CHECK_INT(st.tx_split, chunked_splits() +
		  splits(CONTENT_OFF, PTIME * 1000, PTIME, b_packets));
	CHECK_INT(st.cmd_unknown, 1);
	CHECK_INT(st.tx_dropped, 0);
	printf("pcap: %u packets over %u chunks, %" PRIu64 " copied in two "
	       "parts\n", CHUNKED_PKTS, nchunks, st.tx_split);
}

/* net_pcap: a 7-packet stream to a next hop, and a long one stopped in the
 * middle once it has sent a report; all read back from the file the PMD
 * wrote.
 */
/* The two short streams of test_pcap play to their end. */
static void
check_pcap_ended(void)
{
	const struct dp_event *ev = wait_event(1);

	CHECK(ev != NULL && ev->type == DP_EV_ENDED);
	if (ev != NULL) {
		CHECK_INT(ev->packets, 7);
		CHECK_INT(ev->bytes, CONTENT_LEN);
		CHECK(ev->first_tx_tsc <= ev->last_tx_tsc);
		printf("pcap: 7 packets of 1 ms ptime over %.3f ms\n",
		       (double)clock_tsc_to_ns(ev->last_tx_tsc -
					       ev->first_tx_tsc) / 1e6);
	}
	ev = wait_event(4);
	CHECK(ev != NULL && ev->type == DP_EV_ENDED);
	if (ev != NULL) {
		CHECK_INT(ev->packets, CHUNKED_PKTS);
		CHECK_INT(ev->bytes, CHUNKED_LEN);
	}
}

/* The worker polls on when it has nothing to do, but its busy ticks
 * stand still; the ticks inside tx_burst are some of the busy ones.
 */
static void
check_busy_idle(void)
{
	struct dp_stats a, b;

	usleep(20000);		/* the last round adds its ticks */
	dp_get_stats(&a);
	usleep(100000);
	dp_get_stats(&b);
	CHECK(a.tx_burst_tsc > 0);
	CHECK(a.tx_burst_tsc <= a.busy_tsc);
	CHECK(a.busy_long_tsc <= a.busy_tsc);
	CHECK_INT(b.busy_tsc, a.busy_tsc);
	printf("pcap: busy %.3f ms, %.3f ms of it in tx_burst\n",
	       (double)clock_tsc_to_ns(a.busy_tsc) / 1e6,
	       (double)clock_tsc_to_ns(a.tx_burst_tsc) / 1e6);
}

static void
test_pcap(uint16_t port, const char *tx_path)
{
	struct dp_config cfg;
	struct expect ea, eb, ec;
	struct content *ca = make_content(CONTENT_LEN);
	struct content *cb = make_content(PTIME * 1000);
	struct content *cc = make_content_at(CHUNKED_OFF, CHUNKED_LEN);
	const struct dp_event *ev;
	uint32_t b_packets = 0;

	CHECK(ca != NULL && cb != NULL && cc != NULL);
	if (ca == NULL || cb == NULL || cc == NULL)
		return;
	base_config(&cfg, port);
	cfg.has_nexthop = 1;
	cfg.nexthop_mac = caller_mac;
	CHECK_INT(dp_start(&cfg), 0);

	ea.dst_mac = eb.dst_mac = ec.dst_mac = caller_mac;
	dp_port_mac(&ea.src_mac);
	eb.src_mac = ec.src_mac = ea.src_mac;
	stream_params(&ea, 1, CALLER_IP, ca, 1000000);
	stream_params(&eb, 2, CALLER_IP, cb, 5000000);
	eb.p.dst_rtcp_port = 50101;	/* as if from a=rtcp (RFC 3605) */
	chunked_params(&ec, 4, cc);
	check_invalid_params(ca);
	CHECK_INT(dp_stream_start(&eb.p), 0);
	CHECK_INT(dp_stream_start(&ea.p), 0);
	CHECK_INT(dp_stream_start(&ec.p), 0);

	check_pcap_ended();

	/* The 5 s stream runs until its first report (due within 3.1 s). */
	CHECK(wait_stat_sr(1));
	CHECK_INT(dp_stream_stop(2), 0);
	CHECK_INT(dp_stream_stop(1), 0);	/* over already: ignored */
	ev = wait_event(2);
	CHECK(ev != NULL && ev->type == DP_EV_STOPPED);
	if (ev != NULL) {
		CHECK(ev->packets >= 1 && ev->packets < 1000);
		CHECK_INT(ev->bytes, (uint64_t)ev->packets * PTIME);
		b_packets = ev->packets;
	}
	check_busy_idle();

	dp_stop();
	check_pcap_stats(b_packets, cc->nchunks);
	check_pcap(tx_path, &ea, &eb, b_packets, &ec);
	content_put(ca);
	content_put(cb);
	content_put(cc);
	content_reap();
	CHECK_INT(content_live(), 0);
	CHECK_INT(content_chunks_live(), 0);
}

static struct rte_ring *ring_in;	/* the test to the port */
static struct rte_ring *ring_out;	/* the port to the test */
static struct rte_mempool *test_pool;
static struct rte_ether_addr dp_mac;

static int
is_arp(const uint8_t *f, size_t len, uint16_t op)
{
	return len >= 42 && be16(f + 12) == RTE_ETHER_TYPE_ARP &&
	       be16(f + 20) == op;
}

/* A 60-byte frame from src; ARP when tip is not 0, else junk IPv4. */
static void
inject(const struct rte_ether_addr *src, uint16_t op, uint32_t sip,
       uint32_t tip)
{
	const struct dp_rig_arp a = {
		.op = op, .sha = src, .sip = sip, .dp_mac = &dp_mac,
		.tip = tip,
		.ether_type = tip != 0 ? RTE_ETHER_TYPE_ARP :
					 RTE_ETHER_TYPE_IPV4,
	};

	CHECK_INT(dp_rig_inject_arp(test_pool, ring_in, &a), 0);
}

static void
check_arp_request(const uint8_t *f, size_t len, uint32_t tip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	CHECK_INT(len, 60);
	CHECK(memcmp(f, bcast, 6) == 0);
	CHECK(memcmp(f + 6, &dp_mac, 6) == 0);
	CHECK_INT(be16(f + 14), 1);			/* Ethernet */
	CHECK_INT(be16(f + 16), RTE_ETHER_TYPE_IPV4);
	CHECK(memcmp(f + 22, &dp_mac, 6) == 0);		/* sha */
	CHECK(memcmp(f + 28, &(uint32_t){ MEDIA_IP }, 4) == 0);
	CHECK(memcmp(f + 38, &tip, 4) == 0);
}

/* Copies a chained frame into buf (at most max bytes). */
static size_t
flatten(const struct rte_mbuf *m, uint8_t *buf, size_t max)
{
	size_t n = 0;

	for (; m != NULL && n + m->data_len <= max; m = m->next) {
		memcpy(buf + n, rte_pktmbuf_mtod(m, const uint8_t *),
		       m->data_len);
		n += m->data_len;
	}
	return n;
}

/* Takes what the port sent: ARP requests for tip are checked, counted and
 * answered when answer is set; anything else is kept in held[].
 */
static void
pump(uint32_t tip, int answer, struct rte_mbuf **held, unsigned int *nheld,
     unsigned int *nreq)
{
	struct rte_mbuf *m;
	const uint8_t *f;

	while (rte_ring_dequeue(ring_out, (void **)&m) == 0) {
		f = rte_pktmbuf_mtod(m, const uint8_t *);
		if (is_arp(f, m->data_len, RTE_ARP_OP_REQUEST)) {
			check_arp_request(f, m->data_len, tip);
			(*nreq)++;
			if (answer)
				inject(&caller_mac, RTE_ARP_OP_REPLY,
				       CALLER_IP, MEDIA_IP);
			rte_pktmbuf_free(m);
		} else if (*nheld < MAX_FRAMES) {
			held[(*nheld)++] = m;
		} else {
			rte_pktmbuf_free(m);
		}
	}
}

/* Zero copy: each payload segment points into the content itself. */
static void
check_held(struct rte_mbuf **held, unsigned int n, const struct expect *e)
{
	static uint8_t bufs[MAX_FRAMES][256];
	const uint8_t *frames[MAX_FRAMES];
	size_t lens[MAX_FRAMES];
	const uint8_t *pay;
	size_t span;
	unsigned int i;

	for (i = 0; i < n; i++) {
		CHECK_INT(held[i]->nb_segs, 2);
		CHECK_INT(content_span(e->p.plan->content, CONTENT_OFF + i * PTIME,
				       &pay, &span), 0);
		if (held[i]->nb_segs == 2)
			CHECK(rte_pktmbuf_mtod(held[i]->next, uint8_t *) ==
			      pay);
		frames[i] = bufs[i];
		lens[i] = flatten(held[i], bufs[i], sizeof(bufs[i]));
	}
	CHECK_INT(check_stream(frames, lens, n, e), CONTENT_LEN);
}

/* The RTCP BYE after the stream's last packet, counting all 7: one
 * segment, nothing of the content in it.
 */
static void
check_held_bye(const struct rte_mbuf *m, const struct expect *e)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct sr sr;

	CHECK_INT(m->nb_segs, 1);
	CHECK(frame_is_rtcp(f, m->data_len));
	CHECK_INT(check_rtcp(f, m->data_len, e, &sr), 1);
	CHECK_INT(sr.packets, 7);
	CHECK_INT(sr.octets, CONTENT_LEN);
	check_sr_clock(&sr, &e->p, 7, 0);
}

/* The caller is unknown: the worker asks, the test answers, the RTP comes
 * with the learned MAC, then the RTCP BYE.  The test holds the packets
 * past the stream's end and the owner's put: the content must live until
 * the last mbuf goes.
 */
static unsigned int
ring_stream(void)
{
	struct rte_mbuf *held[MAX_FRAMES];
	unsigned int i, ms, nheld = 0, nreq = 0;
	struct expect e = { .src_mac = dp_mac, .dst_mac = caller_mac };
	struct content *c = make_content(CONTENT_LEN);
	const struct dp_event *ev;

	CHECK(c != NULL);
	if (c == NULL)
		return 0;
	stream_params(&e, 3, CALLER_IP, c, 1000000);
	CHECK_INT(dp_stream_start(&e.p), 0);
	for (ms = 0; ms < WAIT_MS && nheld < 8; ms++) {
		pump(CALLER_IP, 1, held, &nheld, &nreq);
		rte_delay_us_sleep(1000);
	}
	CHECK_INT(nheld, 8);
	CHECK(nreq >= 1);
	if (nheld == 8)
		check_held_bye(held[7], &e);
	check_held(held, RTE_MIN(nheld, 7u), &e);
	ev = wait_event(3);
	CHECK(ev != NULL && ev->type == DP_EV_ENDED && ev->packets == 7);

	content_put(c);
	CHECK_INT(content_reap(), 0);
	CHECK_INT(content_live(), 1);
	for (i = 0; i < nheld; i++)
		rte_pktmbuf_free(held[i]);
	CHECK_INT(content_reap(), 1);
	CHECK_INT(content_live(), 0);
	return nreq;
}

/* One frame of the multi-chunk stream: a segment per chunk its payload
 * lies in, each pointing at the very bytes.  Returns 1 when it straddles.
 */
static int
check_chunked(const struct rte_mbuf *m, const struct expect *e, uint32_t i)
{
	static uint8_t buf[2048];
	const struct content *c = e->p.plan->content;
	size_t rel = (size_t)i * CHUNKED_PTIME, off = CHUNKED_OFF + rel;
	size_t len = RTE_MIN((size_t)CHUNKED_PTIME, CHUNKED_LEN - rel), span;
	const struct rte_mbuf *seg = m->next;
	const uint8_t *p;
	size_t n;

	CHECK_INT(content_span(c, off, &p, &span), 0);
	CHECK_INT(m->nb_segs, span < len ? 3 : 2);
	if (seg == NULL)
		return 0;
	CHECK(rte_pktmbuf_mtod(seg, const uint8_t *) == p);
	CHECK_INT(seg->data_len, RTE_MIN(span, len));
	if (span < len && seg->next != NULL) {
		seg = seg->next;
		CHECK_INT(content_span(c, off + span, &p, &n), 0);
		CHECK(rte_pktmbuf_mtod(seg, const uint8_t *) == p);
		CHECK_INT(seg->data_len, len - span);
	}
	n = flatten(m, buf, sizeof(buf));
	CHECK_INT(check_rtp(buf, n, e, i), (int)len);
	CHECK(payload_ok(buf + HDR_LEN, n - HDR_LEN, rel));
	return span < len;
}

/* The multi-chunk stream by reference.  The packet that straddles the
 * second boundary is held past the owner's put: the chunks it points into
 * stay, the other two go at once, and those two go when it does.
 */
static void
ring_chunked(void)
{
	struct expect e = { .src_mac = dp_mac, .dst_mac = caller_mac };
	struct content *c = make_content_at(CHUNKED_OFF, CHUNKED_LEN);
	struct rte_mbuf *m = NULL, *keep = NULL;
	uint32_t got = 0, nsplit = 0;
	const struct dp_event *ev;
	unsigned int ms;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	chunked_params(&e, 5, c);
	CHECK_INT(dp_stream_start(&e.p), 0);
	for (ms = 0; ms < WAIT_MS && got < CHUNKED_PKTS; ms++) {
		while (got < CHUNKED_PKTS &&
		       rte_ring_dequeue(ring_out, (void **)&m) == 0) {
			if (frame_ssrc(rte_pktmbuf_mtod(m, uint8_t *),
				       m->data_len) != e.p.ssrc) {
				rte_pktmbuf_free(m);	/* a late ARP retry */
				continue;
			}
			if (check_chunked(m, &e, got++) && ++nsplit == 2)
				keep = m;
			else
				rte_pktmbuf_free(m);
		}
		rte_delay_us_sleep(1000);
	}
	CHECK_INT(got, CHUNKED_PKTS);
	CHECK_INT(nsplit, chunked_splits());
	ev = wait_event(5);
	CHECK(ev != NULL && ev->type == DP_EV_ENDED &&
	      ev->packets == CHUNKED_PKTS);
	printf("ring: %u packets over %u chunks, %u in two segments\n", got,
	       c->nchunks, nsplit);

	content_put(c);
	content_reap();
	CHECK(keep != NULL);
	CHECK_INT(content_chunks_live(), keep != NULL ? 2 : 0);
	CHECK_INT(content_live(), keep != NULL);
	rte_pktmbuf_free(keep);
	CHECK_INT(content_reap(), keep != NULL ? 2 : 0);
	CHECK_INT(content_live(), 0);
	CHECK_INT(content_chunks_live(), 0);
}

/* A UDP datagram from the prober to the media address, port dport. */
static void
inject_udp(uint16_t dport, const uint8_t *pl, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	CHECK(m != NULL);
	if (m == NULL)
		return;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m,
		(uint16_t)(sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + n));
	memset(eth, 0, m->data_len);
	eth->src_addr = prober_mac;
	eth->dst_addr = dp_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) +
						       sizeof(*udp) + n));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = PROBER_IP;
	ip->dst_addr = MEDIA_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(50001);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + n));
	memcpy(udp + 1, pl, n);
	CHECK_INT(rte_ring_enqueue(ring_in, m), 0);
}

/* RTCP from a caller: an empty RR (RFC 3550 section 6.4.2) to the odd port
 * above one of ours is counted, one of version 1 is counted as bad; the
 * same RR to an even port or an odd one out of the range is dropped.
 */
static void
inject_rtcp(void)
{
	static const uint8_t rr[8] = { 0x80, 201, 0, 1, 1, 2, 3, 4 };
	static const uint8_t v1[8] = { 0x40, 201, 0, 1, 1, 2, 3, 4 };

	inject_udp(RTP_PORT_MIN + 3, rr, sizeof(rr));
	inject_udp(RTP_PORT_MAX + 1, v1, sizeof(v1));
	inject_udp(RTP_PORT_MIN + 2, rr, sizeof(rr));
	inject_udp(RTP_PORT_MAX + 3, rr, sizeof(rr));
}

/* The worker answers ARP for the media address in place, ignores its own
 * frames, counts RTCP and counts the rest as dropped.
 */
static void
ring_rx(void)
{
	struct rte_mbuf *m = NULL;
	struct dp_stats st;
	const uint8_t *f;
	unsigned int ms;

	inject(&prober_mac, RTE_ARP_OP_REQUEST, PROBER_IP, MEDIA_IP);
	inject(&dp_mac, RTE_ARP_OP_REQUEST, MEDIA_IP, PROBER_IP);
	inject(&prober_mac, RTE_ARP_OP_REQUEST, PROBER_IP, 0);
	/* A late retry of the previous stream's request may come first. */
	for (ms = 0; ms < WAIT_MS; ms++) {
		if (rte_ring_dequeue(ring_out, (void **)&m) != 0) {
			rte_delay_us_sleep(1000);
			continue;
		}
		f = rte_pktmbuf_mtod(m, const uint8_t *);
		if (is_arp(f, m->data_len, RTE_ARP_OP_REPLY))
			break;
		rte_pktmbuf_free(m);
		m = NULL;
	}
	CHECK(m != NULL);
	if (m == NULL)
		return;
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	CHECK(memcmp(f, &prober_mac, 6) == 0);
	CHECK(memcmp(f + 6, &dp_mac, 6) == 0);
	CHECK(memcmp(f + 22, &dp_mac, 6) == 0);			/* sha */
	CHECK(memcmp(f + 28, &(uint32_t){ MEDIA_IP }, 4) == 0);	/* spa */
	CHECK(memcmp(f + 32, &prober_mac, 6) == 0);		/* tha */
	CHECK(memcmp(f + 38, &(uint32_t){ PROBER_IP }, 4) == 0);	/* tpa */
	rte_pktmbuf_free(m);

	inject_rtcp();
	for (ms = 0; ms < WAIT_MS; ms++) {
		dp_get_stats(&st);
		if (st.rx_own == 1 && st.rx_dropped == 3 && st.rx_rtcp == 1 &&
		    st.rx_rtcp_bad == 1)
			break;
		rte_delay_us_sleep(1000);
	}
	CHECK_INT(st.rx_own, 1);
	CHECK_INT(st.rx_dropped, 3);
	CHECK_INT(st.rx_rtcp, 1);
	CHECK_INT(st.rx_rtcp_bad, 1);
	CHECK_INT(st.rx_arp_request, 1);
}

/* Eight streams to an address nobody answers fill the table: a ninth is
 * refused at once, the eight fail when ARP times out.
 */
static void
ring_arp_fail(unsigned int max_streams)
{
	static struct expect e[16];
	struct content *c = make_content(CONTENT_LEN);
	struct rte_mbuf *held[MAX_FRAMES];
	unsigned int i, ms, nheld = 0, nreq = 0, nfail = 0;
	const struct dp_event *ev;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	for (i = 0; i <= max_streams; i++) {
		stream_params(&e[i], 10 + i, SILENT_IP, c, 1000000);
		CHECK_INT(dp_stream_start(&e[i].p), 0);
	}
	for (ms = 0; ms < WAIT_MS && nfail <= max_streams; ms++) {
		pump(SILENT_IP, 0, held, &nheld, &nreq);
		nevents += dp_poll_events(events + nevents,
					  RTE_DIM(events) - nevents);
		for (i = 0, nfail = 0; i < nevents; i++)
			nfail += events[i].handle >= 10 &&
				 events[i].type == DP_EV_FAILED;
		rte_delay_us_sleep(1000);
	}
	CHECK_INT(nfail, max_streams + 1);
	CHECK_INT(nheld, 0);
	CHECK(nreq >= max_streams);
	printf("ring: %u ARP requests for %u streams before the timeout\n",
	       nreq, max_streams);
	ev = wait_event(10 + max_streams);
	CHECK(ev != NULL && ev->packets == 0);
	content_put(c);
	CHECK_INT(content_live(), 0);
}

static int
ring_port(void)
{
	return dp_rig_ring_port("net_ring_t", &ring_in, &ring_out, 1, 1024,
				&test_pool);
}

/* net_ring: the test sees the very mbufs the worker sent. */
static void
test_ring(void)
{
	struct dp_config cfg;
	struct dp_stats st;
	struct rte_mbuf *held[MAX_FRAMES];
	unsigned int i, answered, nheld = 0, nreq = 0;
	int port = ring_port();

	CHECK(port >= 0);
	if (port < 0)
		return;
	base_config(&cfg, (uint16_t)port);
	CHECK_INT(dp_start(&cfg), 0);
	dp_port_mac(&dp_mac);
	/* The ring PMD has an all-zero MAC: the dataplane invents one. */
	CHECK(rte_is_valid_assigned_ether_addr(&dp_mac));

	answered = ring_stream();
	ring_chunked();
	ring_rx();
	ring_arp_fail(cfg.max_streams);

	/* The pools go with dp_stop(): hand back every mbuf first. */
	rte_delay_us_sleep(20000);
	pump(SILENT_IP, 0, held, &nheld, &nreq);
	for (i = 0; i < nheld; i++)
		rte_pktmbuf_free(held[i]);
	dp_stop();
	CHECK_INT(rte_ring_count(ring_out), 0);
	dp_get_stats(&st);
	CHECK_INT(st.tx_copied, 0);
	CHECK_INT(st.tx_split, chunked_splits());
	CHECK_INT(st.tx_dropped, 0);
	CHECK_INT(st.cmd_table_full, 1);
	CHECK_INT(st.arp_fail, cfg.max_streams);
	CHECK_INT(st.rx_arp_reply, answered);
	printf("ring: tx %" PRIu64 " packets, %" PRIu64 " retried, "
	       "rx %" PRIu64 " ARP replies\n",
	       st.tx_packets, st.tx_retry, st.rx_arp_reply);
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/anncd-test-dp-XXXXXX";
	char rx_path[64], tx_path[64], vdev[256];
	uint16_t port;

	(void)argc;
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(rx_path, sizeof(rx_path), "%s/rx.pcap", dir);
	snprintf(tx_path, sizeof(tx_path), "%s/tx.pcap", dir);
	snprintf(vdev, sizeof(vdev), "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s",
		 rx_path, tx_path);
	if (write_empty_pcap(rx_path) != 0)
		return 1;
	if (eal_rig_init(argv[0], "dp", "256", "-l", "0,1", vdev) != 0)
		return 77;

	printf("tsc: %" PRIu64 " Hz calibrated, %" PRIu64 " Hz from EAL\n",
	       clock_calibrate(200), rte_get_tsc_hz());
	CHECK_INT(content_sys_init(16, CHUNKED_OFF + CHUNKED_LEN), 0);
	CHECK(rte_eth_dev_get_port_by_name("net_pcap0", &port) == 0);
	test_pcap(port, tx_path);
	test_ring();

	eal_rig_done();
	unlink(rx_path);
	unlink(tx_path);
	rmdir(dir);
	return CHECK_DONE();
}
