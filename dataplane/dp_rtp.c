/* RTP packet building for the worker: a header mbuf with Ethernet, IPv4,
 * UDP and RTP, and the payload either chained by reference into the
 * content's chunks (zero copy, one segment per chunk the payload lies in)
 * or copied behind the headers when the port cannot take chains.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_memcpy.h>

#include "dataplane/dp_priv.h"

static_assert(sizeof(struct dp_rtp_hdr) == 12, "RTP fixed header");
static_assert(sizeof(struct dp_rtp_frame) == 54, "RTP frame headers");
/* A payload fits a 16-bit length, so it crosses at most one boundary. */
static_assert(CONTENT_CHUNK_SIZE > UINT16_MAX, "payload within two chunks");

#define DP_RTP_VERSION	2
#define DP_RTP_MARKER	0x80
#define DP_IP_TTL	64

/* Everything that stays the same for every packet of the stream, so that
 * a packet costs one 54-byte copy and four stores.
 */
void
dp_rtp_prepare(const struct dp_worker *w, struct dp_stream *s,
	       const struct rte_ether_addr *dst)
{
	struct dp_rtp_frame *f = &s->tmpl;

	memset(f, 0, sizeof(*f));
	rte_ether_addr_copy(dst, &f->eth.dst_addr);
	rte_ether_addr_copy(&w->mac, &f->eth.src_addr);
	f->eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	/* RFC 6864 section 4.1: an atomic datagram (DF set) needs no unique
	 * identification, so the ID stays 0.
	 */
	f->ip.version_ihl = RTE_IPV4_VHL_DEF;
	f->ip.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	f->ip.time_to_live = DP_IP_TTL;
	f->ip.next_proto_id = IPPROTO_UDP;
	f->ip.src_addr = w->cfg.media_ip;
	f->ip.dst_addr = s->p.dst_ip;

	f->udp.src_port = rte_cpu_to_be_16(s->p.src_port);
	f->udp.dst_port = rte_cpu_to_be_16(s->p.dst_port);

	f->rtp.vpxcc = DP_RTP_VERSION << 6;
	f->rtp.mpt = s->p.pt & 0x7f;
	f->rtp.ssrc = rte_cpu_to_be_32(s->p.ssrc);
}

/* RFC 3550 section 5.1: sequence numbers and timestamps advance from their
 * random initial values and wrap, the timestamp by the media time since
 * the first packet (silences and holds included); RFC 3551 section 4.1:
 * the marker flags the first packet of a talkspurt (the stream's, and the
 * first after a silence), RFC 2250 section 3.3 the end of a picture.
 */
static void
dp_rtp_fill(struct dp_rtp_frame *f, const struct dp_stream *s, uint32_t len,
	    int marker)
{
	uint16_t udp_len = (uint16_t)(sizeof(f->udp) + sizeof(f->rtp) + len);

	f->ip.total_length = rte_cpu_to_be_16(sizeof(f->ip) + udp_len);
	f->udp.dgram_len = rte_cpu_to_be_16(udp_len);
	if (marker)
		f->rtp.mpt |= DP_RTP_MARKER;
	f->rtp.seq = rte_cpu_to_be_16((uint16_t)(s->p.seq0 + s->n));
	f->rtp.ts = rte_cpu_to_be_32(s->p.ts0 + (uint32_t)s->next_off);
}

/* Where a payload lies in the content: one run, or two when it crosses
 * into the next chunk (a payload is shorter than a chunk, so never more).
 */
struct dp_rtp_pay {
	unsigned int n;
	struct content_chunk *k[2];
	const uint8_t *p[2];
	uint32_t len[2];
};

/* Shift and mask: chunks are a power of two, and every one but the last
 * is full, so the logical offset names the chunk.
 */
static void
dp_rtp_locate(const struct dp_stream *s, size_t off, uint32_t len,
	      struct dp_rtp_pay *pl)
{
	size_t idx = off >> CONTENT_CHUNK_SHIFT;
	size_t in = off & CONTENT_CHUNK_MASK;
	size_t room = CONTENT_CHUNK_SIZE - in;

	pl->k[0] = s->chunks[idx];
	pl->p[0] = pl->k[0]->data + in;
	if (likely(len <= room)) {
		pl->n = 1;
		pl->len[0] = len;
		return;
	}
	pl->n = 2;
	pl->len[0] = (uint32_t)room;
	pl->k[1] = s->chunks[idx + 1];
	pl->p[1] = pl->k[1]->data;
	pl->len[1] = len - (uint32_t)room;
}

/* The IPv4 header checksum (RFC 791 section 3.1) and the UDP checksum
 * (RFC 768: pseudo header, UDP header, data) in software unless the port
 * offers them.  The UDP and RTP headers are 20 bytes, an even count, so
 * the payload's sum joins the headers' without realignment; a second
 * payload run after an odd first one is summed byte-swapped, as its bytes
 * sit in the other half of each 16-bit word.
 */
static void
dp_rtp_cksum(const struct dp_worker *w, struct rte_mbuf *m,
	     struct dp_rtp_frame *f, const struct dp_rtp_pay *pl)
{
	uint32_t sum, sum2;
	uint16_t ck;

	m->l2_len = sizeof(f->eth);
	m->l3_len = sizeof(f->ip);
	if (w->tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else
		f->ip.hdr_checksum = rte_ipv4_cksum(&f->ip);

	if (w->tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
		f->udp.dgram_cksum = rte_ipv4_phdr_cksum(&f->ip, m->ol_flags);
		return;
	}

	sum = rte_ipv4_phdr_cksum(&f->ip, 0);
	sum = __rte_raw_cksum(&f->udp, sizeof(f->udp) + sizeof(f->rtp), sum);
	sum = __rte_raw_cksum(pl->p[0], pl->len[0], sum);
	if (pl->n == 2) {
		sum2 = __rte_raw_cksum_reduce(
			__rte_raw_cksum(pl->p[1], pl->len[1], 0));
		if (pl->len[0] & 1)
			sum2 = rte_bswap16((uint16_t)sum2);
		sum += sum2;
	}
	ck = (uint16_t)~__rte_raw_cksum_reduce(sum);
	/* RFC 768: a computed 0 is sent as all ones; 0 means "none". */
	f->udp.dgram_cksum = ck == 0 ? 0xffff : ck;
}

/* The attachment's own reference on its chunk (attach takes none).  An
 * atomic add, not rte_mbuf_ext_refcnt_update(): that one stores without a
 * lock when it reads 1, which loses a count if two lcores attach the same
 * chunk.
 */
static int
dp_rtp_attach(struct dp_worker *w, struct rte_mbuf *h,
	      struct content_chunk *k, const uint8_t *p, uint32_t len)
{
	struct rte_mbuf *m;
	size_t in = (size_t)(p - k->data);

	m = rte_pktmbuf_alloc(w->pay_pool);
	if (m == NULL)
		return -ENOMEM;

	__atomic_fetch_add(&k->shinfo.refcnt, 1, __ATOMIC_RELAXED);
	rte_pktmbuf_attach_extbuf(m, (void *)(uintptr_t)p,
				  k->iova == RTE_BAD_IOVA ?
				  RTE_BAD_IOVA : k->iova + in,
				  (uint16_t)len, &k->shinfo);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	rte_pktmbuf_chain(h, m);	/* three segments at most */
	return 0;
}

/* Chained by reference, a segment per run; on failure the caller frees the
 * header with whatever was chained, which drops those references.
 */
static int
dp_rtp_payload(struct dp_worker *w, struct rte_mbuf *h,
	       const struct dp_rtp_pay *pl)
{
	unsigned int i;

	if (!w->zero_copy) {
		/* dp_stream_start() checked that the payload fits. */
		for (i = 0; i < pl->n; i++)
			rte_memcpy(rte_pktmbuf_append(h, (uint16_t)pl->len[i]),
				   pl->p[i], pl->len[i]);
		DP_STAT_ADD(w, tx_copied, 1);
		return 0;
	}
	for (i = 0; i < pl->n; i++)
		if (dp_rtp_attach(w, h, pl->k[i], pl->p[i], pl->len[i]) != 0)
			return -ENOMEM;
	return 0;
}

/* Packet s->n of the stream, len payload bytes from logical offset off in
 * the plan's content.  Returns the header mbuf, or NULL when a pool is
 * empty (nothing is left allocated).
 */
struct rte_mbuf *
dp_rtp_build(struct dp_worker *w, const struct dp_stream *s, size_t off,
	     uint32_t len, int marker)
{
	struct rte_mbuf *h;
	struct dp_rtp_frame *f;
	struct dp_rtp_pay pl;

	h = rte_pktmbuf_alloc(w->hdr_pool);
	if (h == NULL)
		return NULL;
	f = (struct dp_rtp_frame *)rte_pktmbuf_append(h, sizeof(*f));
	rte_memcpy(f, &s->tmpl, sizeof(*f));
	dp_rtp_fill(f, s, len, marker);

	dp_rtp_locate(s, off, len, &pl);
	if (dp_rtp_payload(w, h, &pl) != 0) {
		rte_pktmbuf_free(h);
		return NULL;
	}
	if (pl.n == 2)
		DP_STAT_ADD(w, tx_split, 1);

	dp_rtp_cksum(w, h, f, &pl);
	return h;
}
