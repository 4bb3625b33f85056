/* What the dataplane unit tests share besides the EAL: a net_ring port
 * whose frames the test reads back, ARP frames the test sends in, content
 * built from bytes the test can recompute, and two byte patterns with no
 * short period.
 */
#ifndef ANNCD_TESTS_DP_RIG_H
#define ANNCD_TESTS_DP_RIG_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_common.h>
#include <rte_eth_ring.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/content.h"
#include "tests/unit/eal_rig.h"

/* A byte at offset x (Knuth's multiplicative hash): a payload from the
 * wrong offset never matches.
 */
static inline uint8_t
dp_rig_pattern(size_t x)
{
	return (uint8_t)(((uint32_t)x * 2654435761u) >> 24);
}

/* n bytes of xorshift from seed: no period that lines up with a chunk or
 * a base64 quantum.
 */
static inline void
dp_rig_xorshift(uint8_t *buf, size_t n, uint32_t seed)
{
	uint32_t x = seed;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

/* Content of a header of off bytes 0xee, then len payload bytes byte(i)
 * for payload offset i; NULL when the content pool refuses.
 */
static inline struct content *
dp_rig_content(size_t off, size_t len, uint8_t (*byte)(size_t))
{
	struct content *c = content_new(off + len);
	uint8_t buf[4096];
	size_t i, j, k;

	if (c == NULL)
		return NULL;
	memset(buf, 0xee, sizeof(buf));
	if (off > sizeof(buf) || content_append(c, buf, off) != 0)
		goto fail;
	for (i = 0; i < len; i += k) {
		k = RTE_MIN(len - i, sizeof(buf));
		for (j = 0; j < k; j++)
			buf[j] = byte(i + j);
		if (content_append(c, buf, k) != 0)
			goto fail;
	}
	c->mi.data_offset = off;
	c->mi.data_len = len;
	return c;

fail:
	content_put(c);
	return NULL;
}

/* Drops the test's reference to c and frees what nothing holds: the
 * number of contents still live, which a test expects to be 0.
 */
static inline unsigned int
dp_rig_release(struct content *c)
{
	content_put(c);
	content_reap();
	return content_live();
}

/* An ARP frame (RFC 826) for the dataplane at dp_mac: a request from
 * sha/sip for tip goes to broadcast, a reply tells dp_mac/tip where sip
 * is.  ether_type 0 is ARP; another makes the same bytes a frame that
 * only looks like ARP.
 */
struct dp_rig_arp {
	uint16_t op;
	uint16_t ether_type;
	const struct rte_ether_addr *sha;
	uint32_t sip;
	const struct rte_ether_addr *dp_mac;
	uint32_t tip;
};

/* Puts a 60-byte frame of a from pool on ring, the port's RX side.  0, or
 * -1 when there is no mbuf or no room on the ring.
 */
static inline int
dp_rig_inject_arp(struct rte_mempool *pool, struct rte_ring *ring,
		  const struct dp_rig_arp *a)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL)
		return -1;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 60);
	if (eth == NULL)
		goto fail;
	memset(eth, 0, 60);
	eth->src_addr = *a->sha;
	if (a->op == RTE_ARP_OP_REQUEST)
		memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	else
		eth->dst_addr = *a->dp_mac;
	eth->ether_type = rte_cpu_to_be_16(a->ether_type ? a->ether_type :
					   RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(a->op);
	arp->arp_data.arp_sha = *a->sha;
	arp->arp_data.arp_sip = a->sip;
	if (a->op == RTE_ARP_OP_REPLY)
		arp->arp_data.arp_tha = *a->dp_mac;
	arp->arp_data.arp_tip = a->tip;
	if (rte_ring_enqueue(ring, m) == 0)
		return 0;
fail:
	rte_pktmbuf_free(m);
	return -1;
}

/* A net_ring port named name: one RX ring the test fills, nout TX rings
 * of out_size the test drains, and, when pool is not NULL, a pool for the
 * frames the test sends.  The port id, or -1.
 */
static inline int
dp_rig_ring_port(const char *name, struct rte_ring **in,
		 struct rte_ring **out, unsigned int nout,
		 unsigned int out_size, struct rte_mempool **pool)
{
	const int sock = (int)rte_socket_id();
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ;
	char rname[RTE_RING_NAMESIZE];
	unsigned int r;

	snprintf(rname, sizeof(rname), "%s_in", name);
	*in = rte_ring_create(rname, 1024, sock, flags);
	if (*in == NULL)
		return -1;
	for (r = 0; r < nout; r++) {
		snprintf(rname, sizeof(rname), "%s_out%u", name, r);
		out[r] = rte_ring_create(rname, out_size, sock, flags);
		if (out[r] == NULL)
			return -1;
	}
	if (pool != NULL) {
		snprintf(rname, sizeof(rname), "%s_pool", name);
		*pool = rte_pktmbuf_pool_create(rname, 255, 0, 0,
						RTE_MBUF_DEFAULT_BUF_SIZE,
						sock);
		if (*pool == NULL)
			return -1;
	}
	return rte_eth_from_rings(name, in, 1, out, (unsigned int)nout,
				  (unsigned int)sock);
}

#endif
